/**
 * One seed, one run: Raft replicas, clients, a network and a fault schedule,
 * all driven by a simulated clock and one seeded PRNG. A safety phase with
 * faults is followed by a liveness phase without them, which must converge
 * within a bounded simulated time. Invariants are checked after every event.
 * The parts of a run live in `_`-prefixed files: the shared state
 * (`_world.ts`), the replicas, the clients, the fault injector and the
 * liveness phase.
 *
 * @module
 */

import type { KvServerOptions } from "../kv/server.ts";
import { ReplicaClock } from "./clock.ts";
import { EventQueue } from "./event_queue.ts";
import { drawFaultPlan } from "./faults.ts";
import { type InvariantName, InvariantViolation } from "./invariants.ts";
import { Network } from "./network.ts";
import { Prng } from "./prng.ts";
import type { DstProfile } from "./profile.ts";
import { ServedReplica, type SimulatedReplica } from "./replica.ts";
import { Trace } from "./trace.ts";
import { Workload } from "./workload.ts";
import { ClientDriver } from "./_clients.ts";
import { FaultInjector } from "./_fault_injector.ts";
import { LivenessPhase } from "./_liveness.ts";
import { ReplicaDriver } from "./_replicas.ts";
import {
  defaultSteps,
  drawClientCount,
  drawReplicaCount,
  drawRequestIntervalMs,
  drawTiming,
  drawWorkloadOptions,
} from "./_settings.ts";
import { hexId, type SimEvent, World } from "./_world.ts";

/** Settings of one run; everything not given is drawn from the seed. */
export interface SimulationOptions {
  /** The seed: the same seed always gives the same run. */
  seed: number;
  /**
   * Replica count, 3 to 7; drawn from the seed when absent.
   * @default {undefined}
   */
  replicas?: number;
  /**
   * Client requests issued during the safety phase (retries not counted).
   * The `lease` profile runs longer: its faults need many bursts to line up.
   * @default {200, or 3000 under the lease and churn profiles}
   */
  steps?: number;
  /**
   * Events kept for the failure report.
   * @default {40}
   */
  traceLength?: number;
  /**
   * The mix of faults and workload (see `profile.ts`).
   * @default {"default"}
   */
  profile?: DstProfile;
  /**
   * Builds each replica; tests pass broken replicas to see invariants fire.
   * @default {(options) => new ServedReplica(options)}
   */
  createReplica?: (options: KvServerOptions) => SimulatedReplica;
}

/** A broken invariant. */
export interface SimulationViolation {
  invariant: InvariantName;
  message: string;
}

/** Counters of one run. */
export interface SimulationStats {
  /** Simulated time at the end. */
  simulatedMs: number;
  /** Events handled. */
  events: number;
  /** Replica-to-replica messages sent (a broadcast counts once per peer). */
  messages: number;
  /** Client requests sent, retries included. */
  requests: number;
  /** Puts that got no reply and are in no log: their outcome is "never". */
  lostPuts: number;
  /** Duplicate oks explained by a crash, partition or step-down in between. */
  explainedDuplicates: number;
  /** Highest term reached. */
  maxTerm: number;
  /** Replicas crashed. */
  crashes: number;
  /** Partitions started. */
  partitions: number;
  /** Replica processes paused. */
  pauses: number;
  /** Whether the linearizability search gave up on some key (no verdict). */
  linearizabilityUndetermined: boolean;
}

/** What one run found. */
export interface SimulationResult {
  seed: number;
  replicas: number;
  /** The first invariant broken, if any. */
  violation: SimulationViolation | undefined;
  /** The last events before the end (or the violation). */
  trace: string[];
  /** Digest of the whole run: equal for equal seeds. */
  traceHash: string;
  stats: SimulationStats;
}

/**
 * A run handling more events than this, or than {@linkcode MAX_EVENTS_PER_STEP}
 * times its steps when that is more, is a message storm.
 */
const MAX_EVENTS = 3_000_000;

/**
 * Events a client step may cost on average in a run longer than 20,000 steps:
 * about twice the most any churn seed of 1 to 40 took at 20,000 steps (72 a
 * step), so the limit grows with a long run instead of cutting it short.
 */
const MAX_EVENTS_PER_STEP = 150;

/**
 * Runs one seed.
 *
 * @param options The seed and the settings not drawn from it.
 * @returns What the run found.
 * @throws {RangeError} When `replicas` or `steps` is out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSimulation } from "./simulation.ts";
 * const result = runSimulation({ seed: 7, steps: 20 });
 * assert.equal(result.violation, undefined);
 * assert.equal(result.traceHash, runSimulation({ seed: 7, steps: 20 }).traceHash);
 * ```
 */
export function runSimulation(options: SimulationOptions): SimulationResult {
  return new Simulation(options).run();
}

class Simulation {
  readonly #seed: number;
  readonly #world: World;
  readonly #replicas: ReplicaDriver;
  readonly #clients: ClientDriver;
  readonly #faults: FaultInjector;
  readonly #liveness: LivenessPhase;
  readonly #maxEvents: number;

  constructor(options: SimulationOptions) {
    const { seed, traceLength = 40, profile = "default" } = options;
    const { steps = defaultSteps(profile) } = options;
    const createReplica = options.createReplica ??
      ((o: KvServerOptions) => new ServedReplica(o));
    if (!(Number.isInteger(steps) && steps >= 1)) {
      throw new RangeError(
        `Cannot start simulation as steps is ${steps}: it must be an integer of at least 1`,
      );
    }
    this.#seed = seed;
    this.#maxEvents = Math.max(MAX_EVENTS, MAX_EVENTS_PER_STEP * steps);
    const prng = new Prng(seed);
    const count = options.replicas ?? drawReplicaCount(prng, profile);
    if (!(Number.isInteger(count) && count >= 3 && count <= 7)) {
      throw new RangeError(
        `Cannot start simulation as replicas is ${count}: it must be between 3 and 7`,
      );
    }
    const trace = new Trace(traceLength);
    const ids = Array.from({ length: count }, (_, i) => hexId(i));
    const clientCount = drawClientCount(prng, profile);
    const clientIds = new Set(Array.from({ length: clientCount }, (_, i) => hexId(count + 16 + i)));
    const requestIntervalMs = drawRequestIntervalMs(prng, profile);
    const safetyMs = steps * requestIntervalMs;
    const faultPrng = prng.fork();
    const timing = drawTiming(prng, profile);
    const plan = drawFaultPlan(prng.fork(), {
      replicas: count,
      safetyMs,
      electionTimeoutMinMs: timing.electionTimeoutMinMs,
      electionTimeoutMaxMs: timing.electionTimeoutMaxMs,
      leaseMs: timing.leaseMs,
      profile,
    });
    const network = new Network(prng.fork(), plan.conditions);
    const workloadPrng = prng.fork();
    const workload = new Workload(workloadPrng, [...clientIds], drawWorkloadOptions(prng, profile));
    const clocks = plan.clocks.map(({ offsetMs, rate }) => new ReplicaClock(offsetMs, rate));
    const queue = new EventQueue<SimEvent>();
    const replicas = ids.map((id, i) => {
      const random = prng.fork();
      return createReplica({
        id,
        peers: ids.filter((peer) => peer !== id),
        now: (clocks[i] as ReplicaClock).read(0),
        random: () => random.next(),
        ...timing,
        logger: (level, line) => {
          // A core that logs while being built logs at time 0: the world does not exist yet.
          if (level === "info") trace.record(this.#world?.nowMs ?? 0, id, line);
        },
      });
    });
    this.#world = new World({
      ids,
      clientIds,
      replicas,
      clocks,
      network,
      workload,
      trace,
      queue,
      prng,
      faultPrng,
    });
    this.#replicas = new ReplicaDriver(this.#world);
    this.#clients = new ClientDriver(this.#world, steps, requestIntervalMs);
    this.#faults = new FaultInjector(this.#world, this.#replicas);
    this.#replicas.onElected = (index) => {
      this.#faults.pauseNewLeader(index);
      if (profile === "churn") this.#faults.isolateNewLeader(index, timing);
    };
    this.#liveness = new LivenessPhase(this.#world, this.#faults, timing.holdRequestMs);
    for (const { atMs, fault } of plan.faults) queue.push(atMs, { kind: "fault", fault });
    queue.push(0, { kind: "request", chained: true });
    queue.push(safetyMs, { kind: "liveness" });
  }

  run(): SimulationResult {
    const world = this.#world;
    let violation: SimulationViolation | undefined;
    try {
      world.replicas.forEach((_, i) => this.#replicas.afterReplicaEvent(i));
      this.#loop();
    } catch (error: unknown) {
      if (!(error instanceof InvariantViolation)) throw error;
      violation = { invariant: error.invariant, message: error.message };
      world.trace.record(world.nowMs, "sim", `VIOLATION ${error.message}`);
    }
    world.stats.simulatedMs = world.nowMs;
    world.stats.maxTerm = Math.max(0, ...world.replicas.map((replica) => replica.currentTerm));
    return {
      seed: this.#seed,
      replicas: world.ids.length,
      violation,
      trace: world.trace.lines(),
      traceHash: world.trace.hash,
      stats: world.stats,
    };
  }

  #loop(): void {
    const world = this.#world;
    while (!this.#liveness.finished) {
      const next = world.queue.pop();
      if (next === undefined) {
        throw new InvariantViolation("liveness", "the simulation ran out of events");
      }
      world.nowMs = next.time;
      if (++world.stats.events > this.#maxEvents) {
        throw new InvariantViolation(
          "liveness",
          `more than ${this.#maxEvents} events: a message storm`,
        );
      }
      this.#handle(next.event);
    }
  }

  #handle(event: SimEvent): void {
    switch (event.kind) {
      case "deliver":
        return this.#replicas.deliver(event.replica, event.wire, event.fromClient);
      case "reply":
        return this.#clients.receiveReply(event.wire, event.replier, event.sentAt);
      case "tick":
        return this.#replicas.tick(event.replica, event.generation, event.deadline);
      case "request":
        return this.#clients.issueRequest(event.chained);
      case "fault":
        return this.#faults.apply(event.fault);
      case "heal":
        return this.#faults.endPartition(event.partition);
      case "restore_link":
        return this.#faults.restoreLink(event.from, event.to, event.oneWay, event.lossRate);
      case "liveness":
        return this.#liveness.start();
      case "converged_check":
        return this.#liveness.checkConvergence();
    }
  }
}
