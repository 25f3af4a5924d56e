/**
 * The replicas' side of a run: delivering messages and timer events to the
 * cores on their own clocks, and routing what they send, to peers through the
 * simulated network and to clients directly.
 *
 * @module
 */

import type { InboundMessage, OutboundMessage } from "../kv/messages.ts";
import { BROADCAST, type Id, ID_PATTERN } from "../raft/messages.ts";
import type { ReplicaClock } from "./clock.ts";
import { InvariantViolation } from "./invariants.ts";
import type { SimulatedReplica } from "./replica.ts";
import type { SimEvent, World } from "./_world.ts";

/** Drives the replicas of one run. */
export class ReplicaDriver {
  readonly #world: World;
  readonly #tickGeneration: number[];
  readonly #scheduledDeadline: number[];
  readonly #roles: string[];
  /** Called when a replica becomes leader, after its first messages left. */
  onElected: ((index: number) => void) | undefined;
  /** Per replica, the vote refusals held back until it next hears from a leader. */
  readonly #heldVoteReplies: { from: Id; wire: string }[][];

  constructor(world: World) {
    this.#world = world;
    this.#tickGeneration = world.ids.map(() => 0);
    this.#scheduledDeadline = world.ids.map(() => NaN);
    this.#roles = world.ids.map(() => "follower");
    this.#heldVoteReplies = world.ids.map(() => []);
  }

  /** Hands a message to a replica, unless it crashed; a paused one gets it when it wakes. */
  deliver(index: number, wire: string, fromClient: boolean): void {
    const world = this.#world;
    if (this.#deferWhilePaused(index, { kind: "deliver", replica: index, wire, fromClient })) {
      return;
    }
    if (fromClient) world.clientMessagesInFlight--;
    if (world.crashed[index]) return;
    const message = JSON.parse(wire) as InboundMessage;
    const id = world.ids[index] as Id;
    world.trace.record(world.nowMs, id, "received", message);
    const replica = world.replicas[index] as SimulatedReplica;
    const now = (world.clocks[index] as ReplicaClock).read(world.nowMs);
    guard(id, `step(${message.type})`, () => replica.step(message, now));
    if (message.type === "append_entries" && replica.leaderId === message.src) {
      this.#releaseVoteReplies(index);
    }
    this.afterReplicaEvent(index, message.type === "get" ? message.MID : undefined);
  }

  /**
   * Puts an event for a paused replica back in the queue at its waking. Events
   * come out of the queue in time order and equal times keep their order, so
   * on waking the replica handles them in the order they came due.
   *
   * @returns Whether the replica is paused.
   */
  #deferWhilePaused(index: number, event: SimEvent): boolean {
    const world = this.#world;
    const wakeAtMs = world.pausedUntilMs[index] as number;
    if (world.nowMs >= wakeAtMs) return false;
    world.queue.push(wakeAtMs, event);
    return true;
  }

  /** Drops the vote replies still held back: the liveness phase has no late messages. */
  dropHeldVoteReplies(): void {
    for (const held of this.#heldVoteReplies) held.length = 0;
  }

  /** Fires a replica's timer, unless it crashed or re-armed the timer since; a paused one's when it wakes. */
  tick(index: number, generation: number, deadline: number): void {
    const world = this.#world;
    if (world.crashed[index] || generation !== this.#tickGeneration[index]) return;
    if (this.#deferWhilePaused(index, { kind: "tick", replica: index, generation, deadline })) {
      return;
    }
    this.#scheduledDeadline[index] = NaN;
    const now = (world.clocks[index] as ReplicaClock).read(world.nowMs, deadline);
    world.trace.record(world.nowMs, world.ids[index] as Id, "tick");
    const replica = world.replicas[index] as SimulatedReplica;
    guard(replica.id, "tick", () => replica.tick(now));
    this.afterReplicaEvent(index);
  }

  /**
   * Routes what the replica queued, re-arms its timer and checks the invariants.
   *
   * @param index The replica.
   * @param getMid The MID of the get it has just received, if any.
   */
  afterReplicaEvent(index: number, getMid?: string): void {
    const world = this.#world;
    const replica = world.replicas[index] as SimulatedReplica;
    const { messages, deadline } = replica.ready();
    for (const message of messages) {
      if (message.type === "ok" && message.MID === getMid) this.#checkLeaseRead(replica, getMid);
      this.#route(replica.id, message);
    }
    this.#scheduleTick(index, deadline);
    this.#noteRoleChange(index, replica);
    world.monitor.observe(replica);
  }

  /** Re-arms a replica's timer on its clock after the clock jumped. */
  rearmAfterClockJump(index: number): void {
    const deadline = this.#scheduledDeadline[index] as number;
    this.#scheduledDeadline[index] = NaN;
    if (!this.#world.crashed[index]) this.#scheduleTick(index, deadline);
  }

  /**
   * A get answered in the very step that delivered it was served from the
   * leader's lease, with no round trip. The lease rests on the promise that
   * no other leader can be elected before it ends (thesis §6.4.1), so a
   * leader of a newer term must not exist yet: if one does, the read may miss
   * writes it acknowledged, whether or not the workload happens to read such
   * a write back.
   */
  #checkLeaseRead(replica: SimulatedReplica, mid: string): void {
    for (const [term, leader] of this.#world.monitor.leaders) {
      if (term > replica.currentTerm) {
        throw new InvariantViolation(
          "lease_read_safety",
          `${replica.id} answered get ${mid} from its lease in term ${replica.currentTerm} while ${leader} had been elected leader of term ${term}`,
        );
      }
    }
  }

  #scheduleTick(index: number, deadline: number): void {
    if (deadline === this.#scheduledDeadline[index]) return;
    const world = this.#world;
    this.#scheduledDeadline[index] = deadline;
    const generation = ++(this.#tickGeneration[index] as number);
    const clock = world.clocks[index] as ReplicaClock;
    // A deadline already passed fires 1 ms later, not at once, so a core that
    // keeps returning a past deadline costs events instead of hanging the run.
    const at = Math.max(
      clock.simTimeOf(deadline),
      world.nowMs + (deadline <= clock.read(world.nowMs) ? 1 : 0),
    );
    world.queue.push(at, { kind: "tick", replica: index, generation, deadline });
  }

  #noteRoleChange(index: number, replica: SimulatedReplica): void {
    const before = this.#roles[index];
    if (before === replica.role) return;
    if (before === "leader") this.#world.disrupt(replica.id);
    this.#roles[index] = replica.role;
    if (replica.role === "leader") this.onElected?.(index);
  }

  #route(from: Id, message: OutboundMessage): void {
    const world = this.#world;
    checkEnvelope(from, message);
    if (message.type === "hello") return;
    const wire = JSON.stringify(message);
    world.trace.mix(wire);
    if (message.dst === BROADCAST) {
      for (const to of world.ids) if (to !== from) this.#transmit(from, to, message, wire);
    } else if (world.ids.includes(message.dst)) {
      this.#transmit(from, message.dst, message, wire);
    } else if (world.clientIds.has(message.dst)) {
      this.#sendReply(from, message, wire);
    } else {
      throw new InvariantViolation(
        "well_formed_messages",
        `${from} sent ${message.type} to ${message.dst}, neither a replica, a client nor FFFF`,
      );
    }
  }

  #transmit(from: Id, to: Id, message: OutboundMessage, wire: string): void {
    const world = this.#world;
    world.stats.messages++;
    const replica = world.ids.indexOf(to);
    if (world.network.holdsBack(message)) {
      this.#heldVoteReplies[replica]?.push({ from, wire });
      return;
    }
    this.#send(from, replica, wire);
  }

  #send(from: Id, replica: number, wire: string): void {
    const world = this.#world;
    const to = world.ids[replica] as Id;
    // A stalled link delivers its backlog once it recovers; the event queue
    // keeps equal times in sending order.
    const fromMs = Math.max(world.nowMs, world.network.stalledUntilMs(from, to));
    for (const delay of world.network.transmit(from, to)) {
      world.queue.push(fromMs + delay, { kind: "deliver", replica, wire, fromClient: false });
    }
  }

  /** Sends the vote replies held for a replica that has just heard from a leader. */
  #releaseVoteReplies(index: number): void {
    const held = this.#heldVoteReplies[index] as { from: Id; wire: string }[];
    for (const { from, wire } of held.splice(0)) this.#send(from, index, wire);
  }

  #sendReply(from: Id, message: OutboundMessage, wire: string): void {
    if (message.type !== "ok" && message.type !== "redirect" && message.type !== "fail") {
      throw new InvariantViolation(
        "well_formed_messages",
        `${from} sent a ${message.type} to client ${message.dst}`,
      );
    }
    const world = this.#world;
    const wrongValue = world.workload.observeSent(message);
    if (wrongValue !== undefined) {
      throw new InvariantViolation("get_value_as_acknowledged", `${from}: ${wrongValue}`);
    }
    world.clientMessagesInFlight++;
    const at = world.nowMs + world.network.clientDelay();
    world.queue.push(at, { kind: "reply", wire, replier: from, sentAt: world.nowMs });
  }
}

/**
 * Calls into a replica. The real shell logs and survives a core that throws,
 * but here it is a bug in the core, reported like a broken invariant so the
 * seed is counted and replayable instead of ending the whole run.
 */
function guard(id: Id, call: string, enter: () => void): void {
  try {
    enter();
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.stack ?? error.message : String(error);
    throw new InvariantViolation("replica_threw", `${id} threw in ${call}: ${reason}`);
  }
}

/** Every datagram carries valid `src`, `dst`, `leader` and `type` (PROTOCOL.md section 2). */
function checkEnvelope(from: Id, message: OutboundMessage): void {
  const { src, dst, leader, type } = message as Partial<OutboundMessage>;
  if (
    src !== from || typeof dst !== "string" || !ID_PATTERN.test(dst) ||
    typeof leader !== "string" || !ID_PATTERN.test(leader) || typeof type !== "string"
  ) {
    throw new InvariantViolation(
      "well_formed_messages",
      `${from} sent a malformed message ${JSON.stringify(message)}`,
    );
  }
}
