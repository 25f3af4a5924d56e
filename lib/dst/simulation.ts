/**
 * One seed, one run: Raft replicas, clients, a network and a fault schedule,
 * all driven by a simulated clock and one seeded PRNG. A safety phase with
 * faults is followed by a liveness phase without them, which must converge
 * within a bounded simulated time. Invariants are checked after every event.
 *
 * @module
 */

import { checkLinearizability } from "../check/mod.ts";
import {
  type ClientReply,
  type InboundMessage,
  isPutCommand,
  type OutboundMessage,
} from "../kv/messages.ts";
import type { KvServerOptions } from "../kv/server.ts";
import { BROADCAST, type Entry, type Id } from "../raft/messages.ts";
import { ReplicaClock } from "./clock.ts";
import { EventQueue } from "./event_queue.ts";
import { drawFaultPlan, type Fault, type PartitionStyle } from "./faults.ts";
import { type InvariantName, InvariantViolation, SafetyMonitor } from "./invariants.ts";
import { calmConditions, Network } from "./network.ts";
import { Prng } from "./prng.ts";
import { ServedReplica, type SimulatedReplica } from "./replica.ts";
import { Trace } from "./trace.ts";
import { type Outgoing, type ReplyAnomaly, Workload } from "./workload.ts";

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
   * @default {200}
   */
  steps?: number;
  /**
   * Events kept for the failure report.
   * @default {40}
   */
  traceLength?: number;
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

type SimEvent =
  | { kind: "deliver"; replica: number; wire: string; fromClient: boolean }
  | { kind: "reply"; wire: string; replier: Id; sentAt: number }
  | { kind: "tick"; replica: number; generation: number; deadline: number }
  | { kind: "request"; chained: boolean }
  | { kind: "fault"; fault: Fault }
  | { kind: "heal"; partition: number }
  | { kind: "liveness" }
  | { kind: "converged_check" };

/** The liveness phase runs at least this much longer than requests are held, so they resolve. */
const LIVENESS_MARGIN_MS = 1000;
/** The liveness phase must converge within this bound after faults stop. */
const LIVENESS_BOUND_MS = 20_000;
const CONVERGENCE_CHECK_MS = 100;
/** A run handling more events than this is a message storm. */
const MAX_EVENTS = 3_000_000;
const HEX_ID = /^[0-9A-F]{4}$/;

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
  readonly #steps: number;
  readonly #prng: Prng;
  readonly #ids: Id[];
  readonly #replicas: SimulatedReplica[];
  readonly #clocks: ReplicaClock[];
  readonly #crashed: boolean[];
  readonly #clientIds: Set<Id>;
  readonly #network: Network;
  readonly #workload: Workload;
  readonly #monitor = new SafetyMonitor();
  readonly #trace: Trace;
  readonly #queue = new EventQueue<SimEvent>();
  readonly #faultPrng: Prng;
  readonly #safetyMs: number;
  /** How long the cores hold a request while they know no leader. */
  readonly #holdRequestMs: number;
  readonly #requestIntervalMs: number;

  #now = 0;
  #phase: "safety" | "liveness" = "safety";
  #livenessStartMs = Infinity;
  #finished = false;
  #issued = 0;
  #clientMessagesInFlight = 0;
  readonly #tickGeneration: number[];
  readonly #scheduledDeadline: number[];
  readonly #roles: string[];
  /** Times at which a replica crashed or stepped down as leader. */
  readonly #disruptions = new Map<Id, number[]>();
  /** Partition intervals [start, end]; end is Infinity while it lasts. */
  readonly #partitionSpans: [number, number][] = [];
  #partitionId = 0;
  readonly #stats: SimulationStats = {
    simulatedMs: 0,
    events: 0,
    messages: 0,
    requests: 0,
    lostPuts: 0,
    explainedDuplicates: 0,
    maxTerm: 0,
    crashes: 0,
    partitions: 0,
    linearizabilityUndetermined: false,
  };

  constructor(options: SimulationOptions) {
    const { seed, steps = 200, traceLength = 40 } = options;
    const createReplica = options.createReplica ?? ((o: KvServerOptions) => new ServedReplica(o));
    if (!(Number.isInteger(steps) && steps >= 1)) {
      throw new RangeError(
        `Cannot start simulation as steps is ${steps}: it must be an integer of at least 1`,
      );
    }
    this.#seed = seed;
    this.#steps = steps;
    this.#prng = new Prng(seed);
    const count = options.replicas ?? this.#prng.int(3, 7);
    if (!(Number.isInteger(count) && count >= 3 && count <= 7)) {
      throw new RangeError(
        `Cannot start simulation as replicas is ${count}: it must be between 3 and 7`,
      );
    }
    this.#trace = new Trace(traceLength);
    this.#ids = Array.from({ length: count }, (_, i) => hexId(i));
    const clientCount = this.#prng.int(2, 8);
    this.#clientIds = new Set(Array.from({ length: clientCount }, (_, i) => hexId(count + 16 + i)));
    this.#requestIntervalMs = this.#prng.float(5, 60);
    this.#safetyMs = steps * this.#requestIntervalMs;
    this.#faultPrng = this.#prng.fork();
    const timing = drawTiming(this.#prng);
    this.#holdRequestMs = timing.holdRequestMs;
    const plan = drawFaultPlan(this.#prng.fork(), {
      replicas: count,
      safetyMs: this.#safetyMs,
      electionTimeoutMinMs: timing.electionTimeoutMinMs,
      leaseMs: timing.leaseMs,
    });
    this.#network = new Network(this.#prng.fork(), plan.conditions);
    this.#workload = new Workload(this.#prng.fork(), [...this.#clientIds], {
      mix: this.#prng.float(0.2, 0.8),
      strayRate: this.#prng.pick([0, 0.05, 0.2]),
    });
    this.#clocks = plan.clocks.map(({ offsetMs, rate }) => new ReplicaClock(offsetMs, rate));
    this.#crashed = this.#ids.map(() => false);
    this.#tickGeneration = this.#ids.map(() => 0);
    this.#scheduledDeadline = this.#ids.map(() => NaN);
    this.#roles = this.#ids.map(() => "follower");
    this.#replicas = this.#ids.map((id, i) => {
      const random = this.#prng.fork();
      return createReplica({
        id,
        peers: this.#ids.filter((peer) => peer !== id),
        now: (this.#clocks[i] as ReplicaClock).read(0),
        random: () => random.next(),
        ...timing,
        logger: (level, line) => {
          if (level === "info") this.#trace.record(this.#now, id, line);
        },
      });
    });
    for (const { atMs, fault } of plan.faults) this.#queue.push(atMs, { kind: "fault", fault });
    this.#queue.push(0, { kind: "request", chained: true });
    this.#queue.push(this.#safetyMs, { kind: "liveness" });
  }

  run(): SimulationResult {
    let violation: SimulationViolation | undefined;
    try {
      this.#replicas.forEach((_, i) => this.#afterReplicaEvent(i));
      this.#loop();
    } catch (error: unknown) {
      if (!(error instanceof InvariantViolation)) throw error;
      violation = { invariant: error.invariant, message: error.message };
      this.#trace.record(this.#now, "sim", `VIOLATION ${error.message}`);
    }
    this.#stats.simulatedMs = this.#now;
    this.#stats.maxTerm = Math.max(0, ...this.#replicas.map((replica) => replica.currentTerm));
    return {
      seed: this.#seed,
      replicas: this.#ids.length,
      violation,
      trace: this.#trace.lines(),
      traceHash: this.#trace.hash,
      stats: this.#stats,
    };
  }

  #loop(): void {
    while (!this.#finished) {
      const next = this.#queue.pop();
      if (next === undefined) {
        throw new InvariantViolation("liveness", "the simulation ran out of events");
      }
      this.#now = next.time;
      if (++this.#stats.events > MAX_EVENTS) {
        throw new InvariantViolation("liveness", `more than ${MAX_EVENTS} events: a message storm`);
      }
      this.#handle(next.event);
    }
  }

  #handle(event: SimEvent): void {
    switch (event.kind) {
      case "deliver":
        return this.#deliver(event.replica, event.wire, event.fromClient);
      case "reply":
        return this.#receiveReply(event.wire, event.replier, event.sentAt);
      case "tick":
        return this.#tick(event.replica, event.generation, event.deadline);
      case "request":
        return this.#issueRequest(event.chained);
      case "fault":
        return this.#applyFault(event.fault);
      case "heal":
        if (event.partition === this.#partitionId) this.#heal();
        return;
      case "liveness":
        return this.#startLiveness();
      case "converged_check":
        return this.#checkConvergence();
    }
  }

  // ---- Replicas ----

  #deliver(index: number, wire: string, fromClient: boolean): void {
    if (fromClient) this.#clientMessagesInFlight--;
    if (this.#crashed[index]) return;
    const message = JSON.parse(wire) as InboundMessage;
    const id = this.#ids[index] as Id;
    this.#trace.record(this.#now, id, "received", message);
    const replica = this.#replicas[index] as SimulatedReplica;
    const now = (this.#clocks[index] as ReplicaClock).read(this.#now);
    this.#guard(id, `step(${message.type})`, () => replica.step(message, now));
    this.#afterReplicaEvent(index);
  }

  #tick(index: number, generation: number, deadline: number): void {
    if (this.#crashed[index] || generation !== this.#tickGeneration[index]) return;
    this.#scheduledDeadline[index] = NaN;
    const now = (this.#clocks[index] as ReplicaClock).read(this.#now, deadline);
    this.#trace.record(this.#now, this.#ids[index] as Id, "tick");
    const replica = this.#replicas[index] as SimulatedReplica;
    this.#guard(replica.id, "tick", () => replica.tick(now));
    this.#afterReplicaEvent(index);
  }

  /**
   * Calls into a replica. The real shell logs and survives a core that throws,
   * but here it is a bug in the core, reported like a broken invariant so the
   * seed is counted and replayable instead of ending the whole run.
   */
  #guard(id: Id, call: string, enter: () => void): void {
    try {
      enter();
    } catch (error: unknown) {
      const reason = error instanceof Error ? error.stack ?? error.message : String(error);
      throw new InvariantViolation("replica_threw", `${id} threw in ${call}: ${reason}`);
    }
  }

  /** Routes what the replica queued, re-arms its timer and checks the invariants. */
  #afterReplicaEvent(index: number): void {
    const replica = this.#replicas[index] as SimulatedReplica;
    const { messages, deadline } = replica.ready();
    for (const message of messages) this.#route(replica.id, message);
    this.#scheduleTick(index, deadline);
    this.#noteRoleChange(index, replica);
    this.#monitor.observe(replica);
  }

  #scheduleTick(index: number, deadline: number): void {
    if (deadline === this.#scheduledDeadline[index]) return;
    this.#scheduledDeadline[index] = deadline;
    const generation = ++(this.#tickGeneration[index] as number);
    const clock = this.#clocks[index] as ReplicaClock;
    // A deadline already passed fires 1 ms later, not at once, so a core that
    // keeps returning a past deadline costs events instead of hanging the run.
    const at = Math.max(
      clock.simTimeOf(deadline),
      this.#now + (deadline <= clock.read(this.#now) ? 1 : 0),
    );
    this.#queue.push(at, { kind: "tick", replica: index, generation, deadline });
  }

  #noteRoleChange(index: number, replica: SimulatedReplica): void {
    const before = this.#roles[index];
    if (before === replica.role) return;
    if (before === "leader") this.#disrupt(replica.id);
    this.#roles[index] = replica.role;
  }

  #route(from: Id, message: OutboundMessage): void {
    checkEnvelope(from, message);
    if (message.type === "hello") return;
    const wire = JSON.stringify(message);
    this.#trace.mix(wire);
    if (message.dst === BROADCAST) {
      for (const to of this.#ids) if (to !== from) this.#transmit(from, to, wire);
    } else if (this.#ids.includes(message.dst)) {
      this.#transmit(from, message.dst, wire);
    } else if (this.#clientIds.has(message.dst)) {
      this.#sendReply(from, message, wire);
    } else {
      throw new InvariantViolation(
        "well_formed_messages",
        `${from} sent ${message.type} to ${message.dst}, neither a replica, a client nor FFFF`,
      );
    }
  }

  #transmit(from: Id, to: Id, wire: string): void {
    this.#stats.messages++;
    const replica = this.#ids.indexOf(to);
    for (const delay of this.#network.transmit(from, to)) {
      this.#queue.push(this.#now + delay, { kind: "deliver", replica, wire, fromClient: false });
    }
  }

  #sendReply(from: Id, message: OutboundMessage, wire: string): void {
    if (message.type !== "ok" && message.type !== "redirect" && message.type !== "fail") {
      throw new InvariantViolation(
        "well_formed_messages",
        `${from} sent a ${message.type} to client ${message.dst}`,
      );
    }
    this.#clientMessagesInFlight++;
    const at = this.#now + this.#network.clientDelay();
    this.#queue.push(at, { kind: "reply", wire, replier: from, sentAt: this.#now });
  }

  // ---- Clients ----

  #alive(): Id[] {
    return this.#ids.filter((_, i) => !this.#crashed[i]);
  }

  /** Sends one new request; a chained one schedules the next until `steps` were sent. */
  #issueRequest(chained: boolean): void {
    this.#sendRequest(this.#workload.issue(this.#now, this.#alive()));
    if (chained && ++this.#issued < this.#steps) {
      const at = this.#now + this.#prng.exponential(this.#requestIntervalMs);
      this.#queue.push(at, { kind: "request", chained: true });
    }
  }

  #sendRequest({ request, to }: Outgoing): void {
    this.#stats.requests++;
    this.#clientMessagesInFlight++;
    this.#trace.record(this.#now, request.src, `sent to ${to}`, request);
    const at = this.#now + this.#network.clientDelay();
    const replica = this.#ids.indexOf(to);
    this.#queue.push(at, {
      kind: "deliver",
      replica,
      wire: JSON.stringify(request),
      fromClient: true,
    });
  }

  #receiveReply(wire: string, replier: Id, sentAt: number): void {
    this.#clientMessagesInFlight--;
    const reply = JSON.parse(wire) as ClientReply;
    this.#trace.record(this.#now, reply.dst, `got from ${replier}`, reply);
    const outcome = this.#workload.receive(reply, replier, sentAt, this.#now, this.#alive());
    if (outcome.anomaly !== undefined) this.#judgeAnomaly(outcome.anomaly);
    if (outcome.retry !== undefined) this.#sendRequest(outcome.retry);
  }

  /**
   * A second reply for one MID. A duplicate ok is forgiven when the first
   * replier crashed, stepped down or was partitioned between the two answers:
   * a new leader then re-answers committed puts no voter knew were answered
   * (`answeredThrough` in lib/raft/node.ts). Everything else breaks the protocol.
   */
  #judgeAnomaly(anomaly: ReplyAnomaly): void {
    const { kind, mid, first, second } = anomaly;
    const described = `${second.type} from ${second.replier} at ${second.sentAt.toFixed(3)}`;
    if (kind === "reply_after_ok" && first !== undefined) {
      if (this.#disruptedBetween(first.replier, first.sentAt, second.sentAt)) {
        this.#stats.explainedDuplicates++;
        return;
      }
      throw new InvariantViolation(
        "unexplained_duplicate_ok",
        `MID ${mid} got ok from ${first.replier} at ${
          first.sentAt.toFixed(3)
        } and then ${described}, with no crash, partition or step-down of ${first.replier} in between`,
      );
    }
    if (kind === "reply_after_refusal" && first !== undefined) {
      throw new InvariantViolation(
        "reply_after_refusal",
        `MID ${mid} got ${first.type} from ${first.replier} at ${
          first.sentAt.toFixed(3)
        } and then ${described}`,
      );
    }
    throw new InvariantViolation(
      kind === "unknown_mid" ? "unknown_mid" : "malformed_reply",
      `MID ${mid}: ${described}`,
    );
  }

  #disrupt(id: Id): void {
    const times = this.#disruptions.get(id) ?? [];
    times.push(this.#now);
    this.#disruptions.set(id, times);
  }

  #disruptedBetween(id: Id, fromMs: number, toMs: number): boolean {
    const times = this.#disruptions.get(id) ?? [];
    return times.some((time) => time >= fromMs && time <= toMs) ||
      this.#partitionSpans.some(([start, end]) => start <= toMs && end >= fromMs);
  }

  // ---- Faults ----

  #applyFault(fault: Fault): void {
    if (this.#phase !== "safety") return;
    switch (fault.kind) {
      case "conditions":
        this.#trace.record(this.#now, "sim", `link conditions ${JSON.stringify(fault.conditions)}`);
        this.#network.conditions = fault.conditions;
        return;
      case "partition":
        return this.#partition(fault.style, fault.durationMs);
      case "crash":
        return this.#crash(fault.target);
      case "clock_jump":
        return this.#jumpClock(fault.replica, fault.forwardMs);
    }
  }

  /** The live leader of the highest term, as the course's simulator would know it. */
  #currentLeader(): Id | undefined {
    let leader: SimulatedReplica | undefined;
    this.#replicas.forEach((replica, i) => {
      if (this.#crashed[i] || replica.role !== "leader") return;
      if (leader === undefined || replica.currentTerm > leader.currentTerm) leader = replica;
    });
    return leader?.id;
  }

  #partition(style: PartitionStyle, durationMs: number): void {
    this.#heal();
    const leader = this.#currentLeader();
    const shuffled = this.#faultPrng.shuffle(this.#ids);
    const majority = Math.floor(this.#ids.length / 2) + 1;
    let side: Id[];
    if (style === "isolate_leader" && leader !== undefined) side = [leader];
    else if (style === "easy" && leader !== undefined) {
      side = [leader, ...shuffled.filter((id) => id !== leader).slice(0, majority - 1)];
    } else if (style === "one_way") {
      side = shuffled.slice(0, this.#faultPrng.int(1, this.#ids.length - 1));
    } else side = shuffled.slice(0, majority);
    const rest = this.#ids.filter((id) => !side.includes(id));
    this.#network.cut(side, rest, style === "one_way");
    if (style === "hard") this.#workload.forgetLeaders();
    this.#stats.partitions++;
    this.#partitionSpans.push([this.#now, Infinity]);
    const id = ++this.#partitionId;
    this.#trace.record(this.#now, "sim", `partition ${style} [${side}] | [${rest}]`);
    this.#queue.push(this.#now + durationMs, { kind: "heal", partition: id });
  }

  #heal(): void {
    const span = this.#partitionSpans.at(-1);
    if (span !== undefined && span[1] === Infinity) span[1] = this.#now;
    if (this.#network.partitioned) this.#trace.record(this.#now, "sim", "partition healed");
    this.#network.heal();
  }

  #crash(target: "leader" | "follower"): void {
    const alive = this.#alive();
    if (alive.length - 1 < Math.floor(this.#ids.length / 2) + 1) return;
    const leader = this.#currentLeader();
    const victim = target === "leader" && leader !== undefined
      ? leader
      : this.#faultPrng.pick(alive.filter((id) => id !== leader));
    this.#crashed[this.#ids.indexOf(victim)] = true;
    if (victim === leader) this.#workload.forgetLeaders();
    this.#disrupt(victim);
    this.#stats.crashes++;
    this.#trace.record(
      this.#now,
      victim,
      `crashed (was ${target === "leader" ? "leader" : "picked"})`,
    );
  }

  #jumpClock(index: number, forwardMs: number): void {
    (this.#clocks[index] as ReplicaClock).jumpForward(forwardMs);
    this.#trace.record(
      this.#now,
      this.#ids[index] as Id,
      `clock jumped ${forwardMs.toFixed(3)} ms`,
    );
    const deadline = this.#scheduledDeadline[index] as number;
    this.#scheduledDeadline[index] = NaN;
    if (!this.#crashed[index]) this.#scheduleTick(index, deadline);
  }

  // ---- Liveness ----

  #startLiveness(): void {
    this.#phase = "liveness";
    this.#livenessStartMs = this.#now;
    this.#heal();
    this.#network.conditions = calmConditions(this.#network.conditions);
    this.#trace.record(this.#now, "sim", "faults stop: liveness phase");
    for (const _ of this.#clientIds) {
      this.#queue.push(this.#now + this.#prng.float(0, 500), { kind: "request", chained: false });
    }
    this.#queue.push(this.#now + CONVERGENCE_CHECK_MS, { kind: "converged_check" });
  }

  #checkConvergence(): void {
    const problem = this.#convergenceProblem();
    const minimumMs = this.#holdRequestMs + LIVENESS_MARGIN_MS;
    if (problem === undefined && this.#now - this.#livenessStartMs >= minimumMs) {
      this.#finish();
      return;
    }
    if (this.#now - this.#livenessStartMs >= LIVENESS_BOUND_MS) {
      throw new InvariantViolation(
        "liveness",
        `${LIVENESS_BOUND_MS} ms after faults stopped: ${problem ?? "not converged"}`,
      );
    }
    this.#queue.push(this.#now + CONVERGENCE_CHECK_MS, { kind: "converged_check" });
  }

  /** @returns Why the cluster has not converged yet, or undefined when it has. */
  #convergenceProblem(): string | undefined {
    const alive = this.#replicas.filter((_, i) => !this.#crashed[i]);
    const leaders = alive.filter((replica) => replica.role === "leader");
    if (leaders.length !== 1) return `${leaders.length} live leaders`;
    const leader = leaders[0] as SimulatedReplica;
    for (const replica of alive) {
      if (replica.currentTerm !== leader.currentTerm || replica.leaderId !== leader.id) {
        return `${replica.id} at term ${replica.currentTerm} follows ${replica.leaderId} while ${leader.id} leads term ${leader.currentTerm}`;
      }
      if (
        replica.lastIndex !== leader.lastIndex || replica.commitIndex !== leader.lastIndex ||
        replica.lastApplied !== leader.lastIndex
      ) {
        return `${replica.id} has lastIndex ${replica.lastIndex}, commitIndex ${replica.commitIndex}, lastApplied ${replica.lastApplied} while ${leader.id} has lastIndex ${leader.lastIndex}`;
      }
    }
    if (this.#clientMessagesInFlight > 0) return "client messages in flight";
    const logged = this.#loggedMids(leader);
    // A request at a live replica must be answered, except a put that was in
    // some log and is in none now: it was lost with a truncated suffix and its
    // outcome is "never" (the client can only tell by reading).
    const waiting = this.#workload.unanswered().filter(({ request, to }) =>
      !this.#crashed[this.#ids.indexOf(to)] &&
      (logged.has(request.MID) || !this.#monitor.everLogged(request.MID))
    );
    if (waiting.length > 0) {
      const mids = waiting.slice(0, 5).map((r) => `${r.request.type} ${r.request.MID} at ${r.to}`);
      return `${waiting.length} requests unanswered (${mids.join(", ")})`;
    }
    return undefined;
  }

  #loggedMids(replica: SimulatedReplica): Set<string> {
    const mids = new Set<string>();
    for (let index = 1; index <= replica.lastIndex; index++) {
      const command = replica.entryAt(index)?.command;
      const mid = isPutCommand(command) ? command.MID : undefined;
      if (mid !== undefined) mids.add(mid);
    }
    return mids;
  }

  /** The end-of-run checks on the converged cluster and the client history. */
  #finish(): void {
    this.#finished = true;
    this.#trace.record(this.#now, "sim", "converged");
    const committed = this.#monitor.committedEntries();
    this.#checkPutReplies(committed);
    const keys = new Set(
      committed.flatMap(({ command }) => isPutCommand(command) ? [command.key] : []),
    );
    this.#replicas.forEach((replica, i) => {
      if (!this.#crashed[i]) this.#monitor.checkAppliedState(replica, keys);
    });
    const history = this.#workload.history();
    this.#stats.lostPuts = history.filter((op) => op.returnedAt === Infinity).length;
    const report = checkLinearizability(history);
    this.#stats.linearizabilityUndetermined = report.undeterminedKeys.length > 0;
    const violation = report.violations[0];
    if (violation !== undefined) {
      const ops = violation.operations.map((op) =>
        `${op.kind} ${op.mid} ${op.client} ${JSON.stringify(op.value)} [${
          op.invokedAt.toFixed(3)
        }, ${op.returnedAt.toFixed(3)}]`
      );
      throw new InvariantViolation("linearizability", `${violation.message}; ${ops.join("; ")}`);
    }
  }

  /**
   * Every committed put was answered ok and never refused (PROTOCOL.md section
   * 6), and every put answered ok is committed.
   */
  #checkPutReplies(committed: readonly Entry[]): void {
    const committedMids = new Set<string>();
    for (const { command } of committed) {
      if (isPutCommand(command)) committedMids.add(command.MID);
    }
    for (const record of this.#workload.records()) {
      if (record.request.type !== "put") continue;
      const { MID } = record.request;
      const reply = record.firstReply?.type;
      if (committedMids.has(MID) && reply !== undefined && reply !== "ok") {
        throw new InvariantViolation(
          "refused_put_committed",
          `put ${MID} was answered ${reply} by ${record.firstReply?.replier} yet committed`,
        );
      }
      if (committedMids.has(MID) && reply === undefined) {
        throw new InvariantViolation(
          "committed_put_acknowledged",
          `put ${MID} committed but its client never got a reply`,
        );
      }
      if (reply === "ok" && !committedMids.has(MID)) {
        throw new InvariantViolation(
          "acknowledged_put_committed",
          `put ${MID} was answered ok by ${record.firstReply?.replier} but is not committed`,
        );
      }
    }
  }
}

/** The core's timing settings of one run. */
type Timing = Required<
  Pick<
    KvServerOptions,
    | "electionTimeoutMinMs"
    | "electionTimeoutMaxMs"
    | "heartbeatIntervalMs"
    | "leaseMs"
    | "retransmitMs"
    | "holdRequestMs"
    | "maxEntriesPerAppend"
  >
>;

/**
 * Draws the cores' timing: the defaults half of the time, otherwise faster
 * elections (more of them per run) and small batches, so that entries of
 * several terms travel in separate AppendEntries (the Figure 8 situations).
 * The lease keeps the default 80 % of the minimum election timeout; requests
 * are held the default 5 s or a shorter 1.5 s, so more of them end in `fail`.
 */
function drawTiming(prng: Prng): Timing {
  const electionTimeoutMinMs = prng.pick([150, 300, 600, 600]);
  const heartbeatIntervalMs = Math.round(electionTimeoutMinMs / prng.float(2.5, 4));
  return {
    electionTimeoutMinMs,
    electionTimeoutMaxMs: Math.round(electionTimeoutMinMs * prng.float(1.3, 2.5)),
    heartbeatIntervalMs,
    leaseMs: electionTimeoutMinMs * 0.8,
    retransmitMs: Math.max(1, Math.round(heartbeatIntervalMs / 2)),
    holdRequestMs: prng.pick([1500, 5000]),
    maxEntriesPerAppend: prng.pick([1, 2, 3, 8, 64, 64]),
  };
}

/** Every datagram carries valid `src`, `dst`, `leader` and `type` (PROTOCOL.md section 2). */
function checkEnvelope(from: Id, message: OutboundMessage): void {
  const { src, dst, leader, type } = message as Partial<OutboundMessage>;
  if (
    src !== from || typeof dst !== "string" || !HEX_ID.test(dst) ||
    typeof leader !== "string" || !HEX_ID.test(leader) || typeof type !== "string"
  ) {
    throw new InvariantViolation(
      "well_formed_messages",
      `${from} sent a malformed message ${JSON.stringify(message)}`,
    );
  }
}

function hexId(n: number): Id {
  return n.toString(16).toUpperCase().padStart(4, "0");
}
