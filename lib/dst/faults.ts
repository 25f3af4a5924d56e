/**
 * The fault schedule of one run, drawn entirely from its seed (TigerBeetle's
 * VOPR and FoundationDB's simulation draw a run's settings the same way): link
 * conditions that change over time, partitions, crashes, and replica clocks
 * that drift and jump within the bound a leader lease assumes. The `lease`
 * profile adds single links cut around the leader, a long-delay tail and late
 * vote replies.
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

/** One fault; sides and targets are chosen when it fires, from the cluster as it is then. */
export type Fault =
  | { kind: "partition"; style: PartitionStyle; durationMs: number }
  | { kind: "crash"; target: "leader" | "follower" }
  | { kind: "clock_jump"; replica: number; forwardMs: number }
  | { kind: "conditions"; conditions: LinkConditions }
  | {
    /**
     * One link (both directions unless `oneWay`) drops everything for
     * `durationMs` while the others work; it starts at the current leader
     * (`from: "leader"`, when there is one) or at any replica, and ends at a
     * replica picked when it fires.
     */
    kind: "link_cut";
    from: "leader" | "any";
    oneWay: boolean;
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
   * Which fault modes to draw.
   * @default {"default"}
   */
  profile?: DstProfile;
}

/** Highest message loss rate of the issue: 40 %. */
const MAX_DROP_RATE = 0.4;
/** At most this many clock jumps per run, so their sum stays inside the lease slack. */
const MAX_CLOCK_JUMPS = 2;
/** Chance that a link cut of the `lease` profile starts at the leader. */
const LEADER_LINK_RATE = 0.75;

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
  if (profile === "lease") {
    for (const { fault } of faults) {
      if (fault.kind === "conditions") addLeaseConditions(prng, fault.conditions, options);
    }
    faults.push(...drawLinkCuts(prng, options));
  }
  faults.sort((a, b) => a.atMs - b.atMs);
  const conditions = drawConditions(prng);
  if (profile === "lease") addLeaseConditions(prng, conditions, options);
  return { conditions, clocks, faults };
}

/**
 * Bursts of single-link cuts: each burst cuts a few links at nearly the same
 * moment, most of them at the leader, for between a third of an election
 * timeout and two of them, so that followers lose the leader at different
 * times and hear from it again at different times (the stale-read schedule of
 * issue 8 starts that way).
 */
function drawLinkCuts(prng: Prng, options: FaultPlanOptions): TimedFault[] {
  const { replicas, safetyMs, electionTimeoutMinMs } = options;
  const cuts: TimedFault[] = [];
  for (let burst = prng.int(1, 4); burst > 0; burst--) {
    const startMs = prng.float(0, safetyMs);
    const endMs = Math.min(safetyMs, startMs + electionTimeoutMinMs / 2);
    for (let i = prng.int(1, replicas); i > 0; i--) {
      cuts.push({
        atMs: prng.float(startMs, endMs),
        fault: {
          kind: "link_cut",
          from: prng.chance(LEADER_LINK_RATE) ? "leader" : "any",
          oneWay: prng.chance(0.5),
          durationMs: electionTimeoutMinMs * prng.float(1 / 3, 2),
        },
      });
    }
  }
  return cuts;
}

/**
 * Adds the `lease` profile's delays: a long-delay tail past the election
 * timeout, and vote replies held back up to one, so that a refusal carrying a
 * newer term reaches a replica after it heard from the leader again.
 */
function addLeaseConditions(
  prng: Prng,
  conditions: LinkConditions,
  options: FaultPlanOptions,
): void {
  const { electionTimeoutMinMs } = options;
  conditions.tailRate = prng.chance(0.3) ? 0 : prng.float(0, 0.05);
  conditions.tailMinMs = electionTimeoutMinMs / 2;
  conditions.tailMaxMs = electionTimeoutMinMs * 2;
  conditions.lateVoteReplyRate = prng.chance(0.2) ? 0 : prng.float(0, 0.5);
  conditions.lateVoteReplyMaxMs = electionTimeoutMinMs;
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
