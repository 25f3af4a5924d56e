/**
 * The clients' side of a run: pacing new requests, sending them to replicas,
 * and judging every reply as it arrives (a second reply for one MID is only
 * forgiven when a crash, partition or step-down explains it).
 *
 * @module
 */

import type { ClientReply } from "../kv/messages.ts";
import type { Id } from "../raft/messages.ts";
import { InvariantViolation } from "./invariants.ts";
import type { Outgoing, ReplyAnomaly } from "./workload.ts";
import type { World } from "./_world.ts";

/** Drives the clients of one run. */
export class ClientDriver {
  readonly #world: World;
  readonly #steps: number;
  readonly #requestIntervalMs: number;
  #issued = 0;

  /**
   * @param world The run.
   * @param steps Requests issued by the chain of paced requests.
   * @param requestIntervalMs Mean time between two paced requests.
   */
  constructor(world: World, steps: number, requestIntervalMs: number) {
    this.#world = world;
    this.#steps = steps;
    this.#requestIntervalMs = requestIntervalMs;
  }

  /**
   * Sends one new request, unless every client waits for a reply; a chained
   * one schedules the next until `steps` were issued.
   */
  issueRequest(chained: boolean): void {
    const world = this.#world;
    const claimants = this.#claimants();
    if (world.workload.hasIdleClient(world.nowMs, world.alive(), claimants)) {
      this.#sendRequest(world.workload.issue(world.nowMs, world.alive(), claimants));
    }
    if (chained && ++this.#issued < this.#steps) {
      const at = world.nowMs + world.prng.exponential(this.#requestIntervalMs);
      world.queue.push(at, { kind: "request", chained: true });
    }
  }

  /** Takes a reply as its client receives it, and sends the retry it calls for. */
  receiveReply(wire: string, replier: string, sentAt: number): void {
    const world = this.#world;
    world.clientMessagesInFlight--;
    const reply = JSON.parse(wire) as ClientReply;
    world.trace.record(world.nowMs, reply.dst, `got from ${replier}`, reply);
    const outcome = world.workload.receive(reply, replier, sentAt, world.nowMs, world.alive());
    if (outcome.anomaly !== undefined) this.#judgeAnomaly(outcome.anomaly);
    if (outcome.retry !== undefined) this.#sendRequest(outcome.retry);
    if (outcome.written !== undefined) {
      const read = world.workload.readBack(
        world.nowMs,
        world.alive(),
        this.#claimants(),
        outcome.written,
      );
      if (read !== undefined) this.#sendRequest(read);
    }
  }

  /** Live replicas that believe they lead, newest term first. */
  #claimants(): Id[] {
    const world = this.#world;
    return world.replicas
      .filter((replica, i) => !world.crashed[i] && replica.role === "leader")
      .sort((a, b) => b.currentTerm - a.currentTerm)
      .map((replica) => replica.id);
  }

  #sendRequest({ request, to }: Outgoing): void {
    const world = this.#world;
    world.stats.requests++;
    world.clientMessagesInFlight++;
    world.trace.record(world.nowMs, request.src, `sent to ${to}`, request);
    const at = world.nowMs + world.network.clientDelay();
    const replica = world.ids.indexOf(to);
    world.queue.push(at, {
      kind: "deliver",
      replica,
      wire: JSON.stringify(request),
      fromClient: true,
    });
  }

  /**
   * A second reply for one MID. A duplicate ok is forgiven when the replica
   * that answered first crashed, stepped down, paused or was partitioned
   * between the two answers: a new leader then re-answers committed puts no
   * voter knew were answered (`electionAnswered` in lib/raft/node.ts).
   * Answered first means sent first: two oks sent a few milliseconds apart
   * (a leader waking from a pause, and its successor) can reach the client in
   * the other order. Everything else breaks the protocol.
   */
  #judgeAnomaly(anomaly: ReplyAnomaly): void {
    const { kind, mid, first, second } = anomaly;
    const described = `${second.type} from ${second.replier} at ${second.sentAt.toFixed(3)}`;
    if (kind === "reply_after_ok" && first !== undefined) {
      const [earlier, later] = second.type === "ok" && second.sentAt < first.sentAt
        ? [second, first]
        : [first, second];
      if (this.#world.disruptedBetween(earlier.replier, earlier.sentAt, later.sentAt)) {
        this.#world.stats.explainedDuplicates++;
        return;
      }
      throw new InvariantViolation(
        "unexplained_duplicate_ok",
        `MID ${mid} got ok from ${first.replier} at ${
          first.sentAt.toFixed(3)
        } and then ${described}, with no crash, partition, pause or step-down of ${earlier.replier} in between`,
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
}
