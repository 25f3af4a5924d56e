/**
 * The fault schedule of one run, drawn entirely from its seed (TigerBeetle's
 * VOPR and FoundationDB's simulation draw a run's settings the same way): link
 * conditions that change over time, partitions, crashes, replica clocks that
 * drift and jump within the bound a leader lease assumes, and replica
 * processes that stall. The `lease` profile adds single links cut around the
 * leader, a long-delay tail and late vote replies.
 *
 * @module
 */

import type { LinkConditions } from "./network.ts";
import type { Prng } from "./prng.ts";
import type { DstProfile } from "./profile.ts";

/**
 * How a partition splits the replicas, after the course's events
 * (PROTOCOL.md section 3) plus two harsher ones:
 * - `easy`: a majority holding the current leader against the rest;
 * - `hard`: a random majority against the rest, and clients forget the leader;
 * - `one_way`: a random group cannot send to the others, but hears them;
 * - `isolate_leader`: the current leader alone against the rest.
 */
export type PartitionStyle = "easy" | "hard" | "one_way" | "isolate_leader";

/** Which replica a pause stops: see {@linkcode Fault}. */
export type PauseTarget = "leader" | "next_leader" | "any";

/** One fault; sides and targets are chosen when it fires, from the cluster as it is then. */
export type Fault =
  | { kind: "partition"; style: PartitionStyle; durationMs: number }
  | { kind: "crash"; target: "leader" | "follower" }
  | { kind: "clock_jump"; replica: number; forwardMs: number }
  | {
    /**
     * A replica's process stops for `durationMs` (a garbage collection, or
     * the process left waiting for a core on a busy machine): the messages
     * and timers due meanwhile wait, then run in the order they came due, at
     * the clock of its waking. The replica is the current leader (when
     * `target` is `"leader"` and there is one), the next replica to win an
     * election, right after its first messages left (`"next_leader"`: gets
     * it held as a candidate then wait for a round whose answers arrive while
     * it sleeps), or one picked when it fires.
     */
    kind: "pause";
    target: PauseTarget;
    durationMs: number;
  }
  | { kind: "conditions"; conditions: LinkConditions }
  | {
    /**
     * One link (both directions unless `oneWay`) fails for `durationMs`
     * while the others work: it loses each message with chance `lossRate`
     * (1: everything), or with `stall` holds every message and delivers the
     * backlog when it ends. It starts at the current leader
     * (`from: "leader"`, when there is one) or at a replica picked when it
     * fires, and ends at the `peer`-th of the other replicas in id order
     * (modulo their count), so that one burst can cut each of the leader's
     * links for its own time.
     */
    kind: "link_cut";
    from: "leader" | "any";
    peer: number;
    oneWay: boolean;
    lossRate: number;
    stall: boolean;
    durationMs: number;
  };

/** A fault and when it fires. */
export interface TimedFault {
  atMs: number;
  fault: Fault;
}

/** A replica clock's setting: see `ReplicaClock`. */
export interface ClockSetting {
  offsetMs: number;
  rate: number;
}

/** Everything the safety phase will do to the cluster. */
export interface FaultPlan {
  /** Link behaviour at the start. */
  conditions: LinkConditions;
  /** One per replica. */
  clocks: ClockSetting[];
  /** By time. */
  faults: TimedFault[];
}

/** What the schedule must fit. */
export interface FaultPlanOptions {
  /** Replica count. */
  replicas: number;
  /** How long the safety phase lasts; faults fire within it. */
  safetyMs: number;
  /** The cores' minimum election timeout. */
  electionTimeoutMinMs: number;
  /** The cores' lease. */
  leaseMs: number;
  /**
   * The cores' maximum election timeout, which the `lease` profile's link
   * faults are timed against.
   * @default {2 * electionTimeoutMinMs}
   */
  electionTimeoutMaxMs?: number;
  /**
   * Which fault modes to draw.
   * @default {"default"}
   */
  profile?: DstProfile;
}

/** Highest message loss rate of the issue: 40 %. */
const MAX_DROP_RATE = 0.4;
/** At most this many clock jumps per run, so their sum stays inside the lease slack. */
const MAX_CLOCK_JUMPS = 2;
/** At most this many process pauses per run. */
const MAX_PAUSES = 2;
/**
 * How long a process pause lasts, in minimum election timeouts: from a short
 * stall to one that outlasts the lease and an election, so that a paused
 * leader wakes to answers older than its lease, after a newer leader answered.
 */
const PAUSE_TIMEOUTS: [number, number] = [0.1, 2.5];
/** Which replica a pause stops, drawn with these weights: mostly a leader. */
const PAUSE_TARGETS: readonly PauseTarget[] = ["leader", "next_leader", "next_leader", "any"];
/**
 * How long a link stays cut, in minimum election timeouts: most cuts outlast
 * an election timeout, so that followers give up on the leader, but end at
 * different times.
 */
const CUT_TIMEOUTS: [number, number] = [1, 2.5];
/**
 * How a link of a burst fails: it drops everything; or it loses most
 * messages, so that a follower behind it times out now and then yet hears the
 * leader between, and its pre-votes and acknowledgements interleave; or it
 * stalls and then delivers its backlog, so that a candidate's requests and
 * refusals reach a follower after it heard from the old leader again.
 */
const LINK_FAILURES = ["cut", "lossy", "stall"] as const;
/**
 * Chance that a leader's link fails one way only: mostly both ways, so that
 * the leader cannot hear of a newer term from the replicas it lost.
 */
const LEADER_ONE_WAY_RATE = 0.2;
/** Loss rate of a lossy link. */
const LOSSY_LINK_LOSS: [number, number] = [0.5, 0.95];
/** How long a link stays lossy, in minimum election timeouts. */
const LOSSY_LINK_TIMEOUTS: [number, number] = [1, 6];
/** Mean time between two bursts of link faults, in minimum election timeouts. */
const BURST_SPACING_TIMEOUTS = 3;
/** Chance that a burst of link cuts of the `lease` profile cuts the leader's links. */
const LEADER_BURST_RATE = 0.75;

/**
 * Draws a run's fault schedule.
 *
 * Clock bound: a lease granted at time t lasts `leaseMs` on the leader's clock
 * while a follower that acknowledged at t ignores votes for `electionTimeoutMinMs`
 * on its own clock. With rates within 1 ± r and forward jumps summing to at most
 * J, the lease is safe while `leaseMs / (1 - r) < (electionTimeoutMinMs - J) / (1 + r)`;
 * r and J each take at most a quarter of the slack, which keeps it.
 *
 * @param prng The schedule's own random stream.
 * @param options The cluster and phase the schedule must fit.
 * @returns The schedule.
 */
export function drawFaultPlan(prng: Prng, options: FaultPlanOptions): FaultPlan {
  const { replicas, safetyMs, electionTimeoutMinMs, leaseMs, profile = "default" } = options;
  const slackMs = electionTimeoutMinMs - leaseMs;
  const maxRateDeviation = slackMs / 4 / electionTimeoutMinMs;
  const maxJumpMs = slackMs / 4 / MAX_CLOCK_JUMPS;
  const clocks = Array.from({ length: replicas }, () => ({
    offsetMs: prng.int(0, 10_000_000),
    rate: 1 + prng.float(-maxRateDeviation, maxRateDeviation),
  }));
  const faults: TimedFault[] = [];
  const at = (): number => prng.float(0, safetyMs);
  for (let i = prng.int(0, 3); i > 0; i--) {
    faults.push({ atMs: at(), fault: { kind: "conditions", conditions: drawConditions(prng) } });
  }
  for (let i = prng.int(0, 4); i > 0; i--) {
    const style = prng.pick<PartitionStyle>(["easy", "hard", "one_way", "isolate_leader"]);
    const durationMs = prng.float(200, 4000);
    faults.push({ atMs: at(), fault: { kind: "partition", style, durationMs } });
  }
  for (let i = prng.int(0, Math.floor((replicas - 1) / 2)); i > 0; i--) {
    const target = prng.chance(0.5) ? "leader" : "follower";
    faults.push({ atMs: at(), fault: { kind: "crash", target } });
  }
  for (let i = prng.int(0, MAX_CLOCK_JUMPS); i > 0; i--) {
    const fault = { kind: "clock_jump", replica: prng.int(0, replicas - 1) } as const;
    faults.push({ atMs: at(), fault: { ...fault, forwardMs: prng.float(0, maxJumpMs) } });
  }
  if (profile !== "default") {
    for (const { fault } of faults) {
      if (fault.kind === "conditions") addLeaseConditions(prng, fault.conditions, options);
    }
    faults.push(...drawLinkCuts(prng, options));
  }
  const conditions = drawConditions(prng);
  if (profile !== "default") addLeaseConditions(prng, conditions, options);
  // Drawn last, so the rest of a seed's schedule is what it was before pauses.
  for (let i = prng.int(0, MAX_PAUSES); i > 0; i--) {
    const target = prng.pick(PAUSE_TARGETS);
    const durationMs = electionTimeoutMinMs * prng.float(...PAUSE_TIMEOUTS);
    faults.push({ atMs: at(), fault: { kind: "pause", target, durationMs } });
  }
  faults.sort((a, b) => a.atMs - b.atMs);
  return { conditions, clocks, faults };
}

/**
 * Bursts of single-link faults, about one every `BURST_SPACING_TIMEOUTS`.
 * Most bursts isolate the leader: every link of it fails at nearly the same
 * moment, mostly both ways, and all but one stay down past the maximum
 * election timeout. The one left, cut or lossy, comes back between the
 * minimum and the maximum: its follower has given up on the leader and
 * pre-voted, and now hears from it again before the leader's check-quorum
 * deposes it, while the others elect among themselves (the stale-read
 * schedule of issue 8 starts that way). A few links elsewhere fail in the same
 * burst, in any of the `LINK_FAILURES` ways.
 */
function drawLinkCuts(prng: Prng, options: FaultPlanOptions): TimedFault[] {
  const { replicas, safetyMs, electionTimeoutMinMs } = options;
  const { electionTimeoutMaxMs = 2 * electionTimeoutMinMs } = options;
  const cuts: TimedFault[] = [];
  const bursts = Math.max(
    1,
    Math.round(safetyMs / (BURST_SPACING_TIMEOUTS * electionTimeoutMinMs)),
  );
  for (let burst = bursts; burst > 0; burst--) {
    const startMs = prng.float(0, safetyMs);
    const at = (): number =>
      prng.float(startMs, Math.min(safetyMs, startMs + electionTimeoutMinMs / 8));
    const leaderLinks = prng.chance(LEADER_BURST_RATE) ? replicas - 1 : 0;
    const early = prng.int(0, replicas - 2);
    for (let peer = 0; peer < leaderLinks; peer++) {
      const lossy = peer === early && prng.chance(0.5);
      const durationMs = peer !== early
        ? prng.float(electionTimeoutMaxMs, 2 * electionTimeoutMaxMs)
        : lossy
        ? electionTimeoutMinMs * prng.float(...LOSSY_LINK_TIMEOUTS)
        : prng.float(electionTimeoutMinMs, electionTimeoutMaxMs);
      cuts.push({
        atMs: at(),
        fault: {
          kind: "link_cut",
          from: "leader",
          peer,
          oneWay: prng.chance(LEADER_ONE_WAY_RATE),
          lossRate: lossy ? prng.float(...LOSSY_LINK_LOSS) : 1,
          stall: false,
          durationMs,
        },
      });
    }
    for (let i = prng.int(leaderLinks === 0 ? 1 : 0, replicas - 1); i > 0; i--) {
      const failure = prng.pick(LINK_FAILURES);
      cuts.push({
        atMs: at(),
        fault: {
          kind: "link_cut",
          from: "any",
          peer: prng.int(0, replicas - 2),
          oneWay: prng.chance(0.5),
          lossRate: failure === "lossy" ? prng.float(...LOSSY_LINK_LOSS) : 1,
          stall: failure === "stall",
          durationMs: electionTimeoutMinMs *
            prng.float(...(failure === "lossy" ? LOSSY_LINK_TIMEOUTS : CUT_TIMEOUTS)),
        },
      });
    }
  }
  return cuts;
}

/**
 * Adds the `lease` profile's delays: a long-delay tail past the election
 * timeout, and vote replies held back until their receiver hears from a
 * leader again, so that a refusal carrying a newer term reaches a replica
 * that has just acknowledged the old leader.
 */
function addLeaseConditions(
  prng: Prng,
  conditions: LinkConditions,
  options: FaultPlanOptions,
): void {
  const { electionTimeoutMinMs } = options;
  // Fast links between the bursts, so that a write at a new leader and a
  // read at the old one fit into the few heartbeats before the old one learns.
  conditions.delayMeanMs = prng.float(0.1, 2);
  conditions.tailRate = prng.chance(0.3) ? 0 : prng.float(0, 0.05);
  conditions.tailMinMs = electionTimeoutMinMs / 2;
  conditions.tailMaxMs = electionTimeoutMinMs * 2;
  conditions.lateVoteReplyRate = prng.float(0.3, 1);
}

/** Link behaviour: often clean, sometimes lossy, sometimes very lossy. */
function drawConditions(prng: Prng): LinkConditions {
  return {
    dropRate: prng.chance(0.3) ? 0 : prng.float(0, MAX_DROP_RATE),
    duplicateRate: prng.chance(0.5) ? 0 : prng.float(0, 0.1),
    delayMinMs: prng.float(0.05, 2),
    delayMeanMs: prng.float(0.1, 10),
    spikeRate: prng.chance(0.5) ? 0 : prng.float(0, 0.05),
    spikeMaxMs: prng.float(50, 700),
  };
}
