/**
 * The state of one run that the simulation's parts share: the replicas and
 * their clocks, the network, the clients, the agenda of events, the trace and
 * the counters. Each part (replicas, clients, faults, liveness) reads and
 * changes it; none holds state of its own that another needs.
 *
 * @module
 */

import type { Id } from "../raft/messages.ts";
import type { ReplicaClock } from "./clock.ts";
import type { EventQueue } from "./event_queue.ts";
import type { Fault } from "./faults.ts";
import { SafetyMonitor } from "./invariants.ts";
import type { Network } from "./network.ts";
import type { Prng } from "./prng.ts";
import type { SimulatedReplica } from "./replica.ts";
import type { SimulationStats } from "./simulation.ts";
import type { Trace } from "./trace.ts";
import type { Workload } from "./workload.ts";

/** Everything that can happen at one instant of simulated time. */
export type SimEvent =
  | { kind: "deliver"; replica: number; wire: string; fromClient: boolean }
  | { kind: "reply"; wire: string; replier: Id; sentAt: number }
  | { kind: "tick"; replica: number; generation: number; deadline: number }
  | { kind: "request"; chained: boolean }
  | { kind: "fault"; fault: Fault }
  | { kind: "heal"; partition: number }
  | { kind: "restore_link"; from: Id; to: Id; oneWay: boolean; lossRate: number }
  | { kind: "liveness" }
  | { kind: "converged_check" };

/** The parts of a run fixed when it starts. */
export interface WorldSetup {
  ids: Id[];
  clientIds: Set<Id>;
  replicas: SimulatedReplica[];
  clocks: ReplicaClock[];
  network: Network;
  workload: Workload;
  trace: Trace;
  queue: EventQueue<SimEvent>;
  /** The run's main stream: request pacing and liveness requests. */
  prng: Prng;
  /** Choices made when a fault fires (sides, victims). */
  faultPrng: Prng;
}

/** The shared state of one run. */
export class World {
  readonly ids: Id[];
  readonly clientIds: Set<Id>;
  readonly replicas: SimulatedReplica[];
  readonly clocks: ReplicaClock[];
  readonly network: Network;
  readonly workload: Workload;
  readonly trace: Trace;
  readonly queue: EventQueue<SimEvent>;
  readonly prng: Prng;
  readonly faultPrng: Prng;
  readonly monitor = new SafetyMonitor();
  readonly crashed: boolean[];
  /** Per replica, the simulated time until which its process is paused (see `Fault`). */
  readonly pausedUntilMs: number[];
  /** Times at which a replica crashed or stepped down as leader. */
  readonly disruptions = new Map<Id, number[]>();
  /** Partition intervals [start, end]; end is Infinity while it lasts. */
  readonly partitionSpans: [number, number][] = [];
  readonly stats: SimulationStats = {
    simulatedMs: 0,
    events: 0,
    messages: 0,
    requests: 0,
    lostPuts: 0,
    explainedDuplicates: 0,
    maxTerm: 0,
    crashes: 0,
    partitions: 0,
    pauses: 0,
    linearizabilityUndetermined: false,
  };
  /** Simulated time. */
  nowMs = 0;
  phase: "safety" | "liveness" = "safety";
  /** Requests and replies between clients and replicas still on their way. */
  clientMessagesInFlight = 0;

  constructor(setup: WorldSetup) {
    this.ids = setup.ids;
    this.clientIds = setup.clientIds;
    this.replicas = setup.replicas;
    this.clocks = setup.clocks;
    this.network = setup.network;
    this.workload = setup.workload;
    this.trace = setup.trace;
    this.queue = setup.queue;
    this.prng = setup.prng;
    this.faultPrng = setup.faultPrng;
    this.crashed = setup.ids.map(() => false);
    this.pausedUntilMs = setup.ids.map(() => 0);
  }

  /** @returns The replicas still running. */
  alive(): Id[] {
    return this.ids.filter((_, i) => !this.crashed[i]);
  }

  /** The live leader of the highest term, as the course's simulator would know it. */
  currentLeader(): Id | undefined {
    let leader: SimulatedReplica | undefined;
    this.replicas.forEach((replica, i) => {
      if (this.crashed[i] || replica.role !== "leader") return;
      if (leader === undefined || replica.currentTerm > leader.currentTerm) leader = replica;
    });
    return leader?.id;
  }

  /** Notes that a replica crashed or stepped down now, which explains a later duplicate ok. */
  disrupt(id: Id): void {
    const times = this.disruptions.get(id) ?? [];
    times.push(this.nowMs);
    this.disruptions.set(id, times);
  }

  /** Whether the replica was disrupted, or any partition was up, between the two times. */
  disruptedBetween(id: Id, fromMs: number, toMs: number): boolean {
    const times = this.disruptions.get(id) ?? [];
    return times.some((time) => time >= fromMs && time <= toMs) ||
      this.partitionSpans.some(([start, end]) => start <= toMs && end >= fromMs);
  }
}

/** @returns The four-digit upper-case hex id of replica or client number `n`. */
export function hexId(n: number): Id {
  return n.toString(16).toUpperCase().padStart(4, "0");
}
