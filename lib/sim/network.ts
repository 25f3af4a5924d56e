/**
 * The simulated network (PROTOCOL.md sections 2 and 3): validation of each datagram's
 * envelope, routing by `dst`, message counting, drops, partitions, and the simulator's
 * idea of who leads. Pure: no sockets, randomness from an injected PRNG.
 *
 * @module
 */

import { BROADCAST, ID_PATTERN } from "../raft/messages.ts";
import type { Prng } from "./_prng.ts";
import { type Counters, recordLeader } from "./stats.ts";

export { BROADCAST };

/** A datagram's JSON object after envelope validation. */
export type WireMessage = Record<string, unknown> & {
  src: string;
  dst: string;
  leader: string;
  type: unknown;
};

/** What to do with one datagram. */
export type Route =
  | { kind: "incorrect"; warning: string }
  | { kind: "hello" }
  | { kind: "replicas"; message: WireMessage; deliverTo: string[] }
  | { kind: "client"; message: WireMessage; client: string };

/**
 * Whether an id is well formed: a string of exactly four hex digits (PROTOCOL.md
 * section 2). The course script is laxer (it accepts whatever Python's `int(s, 16)`
 * parses in 4 characters, such as `0x1f` or `-001`); PROTOCOL.md's rule is kept.
 *
 * @param value A field's value.
 * @returns Whether it is an id.
 */
export function isCourseAddress(value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN.test(value);
}

/** Options for a {@linkcode Network}. */
export interface NetworkOptions {
  /** Every replica id, dead ones included. */
  replicaIds: readonly string[];
  /** Every client id. */
  clientIds: readonly string[];
  /** Probability that a counted message copy is dropped. */
  drops: number;
  /** The randomness source. */
  random: Prng;
  /** The counters to update (`totalMsgs`, `totalDrops`, `incorrect`, `leaders`). */
  counters: Counters;
}

/** Routing, counting, drops and partitions. */
export class Network {
  /** The simulator's idea of the leader, from the `leader` field of routed messages. */
  leader: string = BROADCAST;
  /** The majority side of the current partition, or undefined when healed. */
  partition: ReadonlySet<string> | undefined;
  readonly #replicaIds: readonly string[];
  readonly #clientIds: ReadonlySet<string>;
  readonly #drops: number;
  readonly #random: Prng;
  readonly #counters: Counters;

  /** @param options See {@linkcode NetworkOptions}. */
  constructor(options: NetworkOptions) {
    this.#replicaIds = options.replicaIds;
    this.#clientIds = new Set(options.clientIds);
    this.#drops = options.drops;
    this.#random = options.random;
    this.#counters = options.counters;
  }

  /**
   * Validates a datagram's text and routes it. Counts incorrect messages.
   *
   * @param text The datagram decoded as UTF-8.
   * @returns The route.
   */
  route(text: string): Route {
    const parsed = parseEnvelope(text);
    if ("warning" in parsed) return this.#incorrect(parsed.warning);
    const message = parsed.message;
    if (message.type === "hello") return { kind: "hello" };
    if (!this.partition || this.partition.has(message.src)) {
      recordLeader(this.#counters, message.leader);
      this.leader = message.leader;
    }
    if (this.#replicaIds.includes(message.dst)) {
      this.#count(message, 1);
      return { kind: "replicas", message, deliverTo: this.#decide(message.src, [message.dst]) };
    }
    if (message.dst === BROADCAST) {
      const others = this.#replicaIds.filter((id) => id !== message.src);
      this.#count(message, this.#replicaIds.length - 1);
      return { kind: "replicas", message, deliverTo: this.#decide(message.src, others) };
    }
    if (this.#clientIds.has(message.dst)) return { kind: "client", message, client: message.dst };
    return this.#incorrect(`*** Simulator Error - Unknown destination: ${text}`);
  }

  /**
   * Whether two replicas can talk under the current partition. Like the course grader,
   * a replica on the majority side cannot send to itself during a partition.
   *
   * @param a One replica.
   * @param b The other.
   * @returns Whether they are on the same side.
   */
  canCommunicate(a: string, b: string): boolean {
    if (!this.partition) return true;
    const inside = new Set([a, b].filter((id) => this.partition?.has(id))).size;
    return inside === 0 || inside === 2;
  }

  /**
   * `part_easy`: a majority side with the current leader plus random others. With no
   * known leader it behaves as `part_hard`.
   *
   * @returns Whether clients must forget the leader.
   */
  partitionEasy(): boolean {
    if (!this.#replicaIds.includes(this.leader)) return this.partitionHard();
    const others = this.#replicaIds.filter((id) => id !== this.leader);
    this.partition = new Set([this.leader, ...this.#drawSide(others, this.#majority() - 1)]);
    return false;
  }

  /**
   * `part_hard`: a random majority side (the leader may be left out); the leader is forgotten.
   *
   * @returns Whether clients must forget the leader (always).
   */
  partitionHard(): boolean {
    this.leader = BROADCAST;
    this.partition = new Set(this.#drawSide(this.#replicaIds, this.#majority()));
    return true;
  }

  /**
   * `part_leader` (extension): every replica but the current leader on the majority side.
   * Clients keep their leader, so they keep asking the cut-off one.
   *
   * @returns Whether a leader was known (nothing happens otherwise).
   */
  partitionLeader(): boolean {
    if (!this.#replicaIds.includes(this.leader)) return false;
    const isolated = this.leader;
    this.partition = new Set(this.#replicaIds.filter((id) => id !== isolated));
    return true;
  }

  /**
   * `part_no_quorum` (extension): a `part_hard` whose majority side holds the dead replicas
   * (as many as fit) plus random living ones; the leader is forgotten. With one replica dead,
   * neither side has a live majority.
   *
   * @param dead The replicas no longer alive.
   * @returns True: clients must forget the leader.
   */
  partitionNoQuorum(dead: readonly string[]): boolean {
    this.leader = BROADCAST;
    const held = dead.slice(0, this.#majority());
    const others = this.#replicaIds.filter((id) => !held.includes(id));
    this.partition = new Set([...held, ...this.#drawSide(others, this.#majority() - held.length)]);
    return true;
  }

  /** `part_end`: heals the partition. */
  partitionEnd(): void {
    this.partition = undefined;
  }

  #majority(): number {
    return Math.floor(this.#replicaIds.length / 2) + 1;
  }

  #drawSide(candidates: readonly string[], size: number): string[] {
    const pool = [...candidates];
    const side: string[] = [];
    while (side.length < size && pool.length > 0) {
      side.push(pool.splice(this.#random.below(pool.length), 1)[0] as string);
    }
    return side;
  }

  /** Counts a message as `copies` messages, in the total and by kind. */
  #count(message: WireMessage, copies: number): void {
    this.#counters.totalMsgs += copies;
    const kind = messageKind(message);
    this.#counters.messagesByKind[kind] = (this.#counters.messagesByKind[kind] ?? 0) + copies;
  }

  /** Drop and partition decisions, made after counting (PROTOCOL.md section 3). */
  #decide(src: string, targets: readonly string[]): string[] {
    return targets.filter((dst) => {
      const delivered = this.canCommunicate(src, dst) && this.#random.next() >= this.#drops;
      if (!delivered) this.#counters.totalDrops += 1;
      return delivered;
    });
  }

  #incorrect(warning: string): Route {
    this.#counters.incorrect += 1;
    return { kind: "incorrect", warning };
  }
}

/**
 * What kind of message this is for {@linkcode Counters.messagesByKind}: its
 * `type`; for an `append_entries` with no entries, `heartbeat`, or
 * `commit_notice` when it asks no follower to answer (`repliers` empty); for
 * the second copy of an `append_entries_reply` (`secondCopy`), `reply_copy`.
 *
 * @param message A routed message.
 * @returns The kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageKind } from "./network.ts";
 * const append = { src: "0000", dst: "0001", leader: "0000", type: "append_entries", entries: [] };
 * assert.equal(messageKind(append), "heartbeat");
 * assert.equal(messageKind({ ...append, repliers: [] }), "commit_notice");
 * const reply = { src: "0001", dst: "0000", leader: "0000", type: "append_entries_reply" };
 * assert.equal(messageKind({ ...reply, secondCopy: true }), "reply_copy");
 * ```
 */
export function messageKind(message: WireMessage): string {
  if (message.type === "append_entries_reply" && message.secondCopy === true) return "reply_copy";
  const isEmptyAppend = message.type === "append_entries" && Array.isArray(message.entries) &&
    message.entries.length === 0;
  if (!isEmptyAppend) return String(message.type);
  const asksNoAnswer = Array.isArray(message.repliers) && message.repliers.length === 0;
  return asksNoAnswer ? "commit_notice" : "heartbeat";
}

/**
 * Parses a datagram and checks the four envelope fields as the course grader does,
 * giving its warning text on failure.
 *
 * @param text The datagram text.
 * @returns The message, or the warning.
 */
export function parseEnvelope(text: string): { message: WireMessage } | { warning: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { warning: `*** Simulator Error - Unable to decode JSON message: ${text}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { warning: `*** Simulator Error - Message is not a dictionary: ${text}` };
  }
  const object = value as Record<string, unknown>;
  if (!["src", "dst", "leader", "type"].every((key) => key in object)) {
    return { warning: `*** Simulator Error - Message is missing a required field: ${text}` };
  }
  if (!isCourseAddress(object["leader"])) {
    return { warning: `*** Simulator Error - Incorrect leader format: ${text}` };
  }
  if (!isCourseAddress(object["dst"])) {
    return { warning: `*** Simulator Error - Incorrect destination format: ${text}` };
  }
  if (!isCourseAddress(object["src"])) {
    return { warning: `*** Simulator Error - Incorrect source format: ${text}` };
  }
  return { message: object as WireMessage };
}
