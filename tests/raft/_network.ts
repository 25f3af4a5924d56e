/**
 * An in-memory network driving several whole replicas (key-value servers on
 * Raft cores, as {@linkcode ServedReplica}s) deterministically
 * with a fake clock (after etcd's `network` in raft_test.go and hashicorp's
 * `InmemTransport`): messages take `latencyMs`, can be dropped at random, cut
 * between pairs, filtered by a hook, and replicas can be isolated or killed.
 *
 * @module
 */

import { ServedReplica } from "../../lib/dst/replica.ts";
import type {
  ClientReply,
  ClientRequest,
  InboundMessage,
  OutboundMessage,
} from "../../lib/kv/messages.ts";
import type { KvServerOptions } from "../../lib/kv/server.ts";
import { BROADCAST, type Id, type PeerMessage } from "../../lib/raft/messages.ts";

/**
 * The timing the schedules of these tests are written in (times in them are
 * multiples of these), independent of the defaults the replica ships with.
 */
export const TEST_TIMING = {
  electionTimeoutMinMs: 600,
  electionTimeoutMaxMs: 1200,
  heartbeatIntervalMs: 200,
  leaseMs: 480,
} as const;

/** A seeded PRNG (mulberry32): the same seed replays the same run. */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of a test network; the Raft timing options apply to every node. */
export interface NetworkOptions
  extends Partial<Omit<KvServerOptions, "id" | "peers" | "now" | "random" | "logger">> {
  /** Number of replicas. @default {5} */
  size?: number;
  /** Seed for election timeouts and drops. @default {1} */
  seed?: number;
  /** One-way delay of every message. @default {1} */
  latencyMs?: number;
}

/** A client reply as a client saw it. */
export interface ObservedReply {
  /** When it arrived. */
  at: number;
  /** The replica that sent it. */
  from: Id;
  /** The reply. */
  reply: ClientReply;
}

interface InFlight {
  at: number;
  seq: number;
  to: Id;
  message: InboundMessage;
}

/** A decision hook: return `false` to drop `message` on its way to `to`. */
export type MessageFilter = (message: PeerMessage, to: Id) => boolean;

/** Replicas on a fake network, run by a discrete event loop. */
export class Network {
  /** The fake clock, in ms. */
  now = 0;
  /** Replica ids, `0000`, `0001`, ... */
  readonly ids: Id[];
  /** Every client reply, in arrival order. */
  readonly replies: ObservedReply[] = [];
  /** Peer messages sent, counted like the grader (a broadcast counts once per peer). */
  peerMessagesSent = 0;
  /** Probability that a peer message is lost. */
  dropRate = 0;
  /** Extra drop decision, consulted for every peer message. */
  filter: MessageFilter | undefined = undefined;
  /** Sees every replica's output of one input (one `ready()`), before it is routed. */
  onFlush: ((from: Id, messages: readonly OutboundMessage[]) => void) | undefined = undefined;

  readonly #nodes = new Map<Id, ServedReplica>();
  readonly #deadlines = new Map<Id, number>();
  readonly #dead = new Set<Id>();
  readonly #cuts = new Set<string>();
  readonly #latencyMs: number;
  readonly #random: () => number;
  #queue: InFlight[] = [];
  #seq = 0;

  /** @param options Size, seed, latency and Raft timing for the nodes. */
  constructor(options: NetworkOptions = {}) {
    const { size = 5, seed = 1, latencyMs = 1, ...overrides } = options;
    const raftOptions = { ...TEST_TIMING, ...overrides };
    this.ids = Array.from(
      { length: size },
      (_, i) => i.toString(16).toUpperCase().padStart(4, "0"),
    );
    this.#latencyMs = latencyMs;
    this.#random = seededRandom(seed);
    for (const id of this.ids) {
      const node = new ServedReplica({
        ...raftOptions,
        id,
        peers: this.ids.filter((peer) => peer !== id),
        now: 0,
        random: seededRandom(seed * 7919 + parseInt(id, 16) + 1),
      });
      this.#nodes.set(id, node);
      this.#flush(id);
    }
  }

  /**
   * @param id A replica id.
   * @returns Its node.
   */
  node(id: Id): ServedReplica {
    const node = this.#nodes.get(id);
    if (node === undefined) throw new RangeError(`Cannot find replica ${id}`);
    return node;
  }

  /** The live nodes. */
  get live(): ServedReplica[] {
    return this.ids.filter((id) => !this.#dead.has(id)).map((id) => this.node(id));
  }

  /** The live leader with the highest term, if any. */
  leader(): ServedReplica | undefined {
    const leaders = this.live.filter((node) => node.role === "leader");
    return leaders.sort((a, b) => b.currentTerm - a.currentTerm)[0];
  }

  /** Cuts both directions between `a` and `b`. */
  cut(a: Id, b: Id): void {
    this.#cuts.add(`${a}>${b}`).add(`${b}>${a}`);
  }

  /** Cuts `id` from every other replica. */
  isolate(id: Id): void {
    for (const other of this.ids) if (other !== id) this.cut(id, other);
  }

  /** Splits the replicas into the given groups: only replicas in one group talk. */
  partition(...groups: Id[][]): void {
    for (const group of groups) {
      for (const other of this.ids) {
        if (!group.includes(other)) { for (const id of group) this.cut(id, other); }
      }
    }
  }

  /** Removes every cut. */
  heal(): void {
    this.#cuts.clear();
  }

  /** Kills a replica: it gets nothing and runs no timers any more. */
  kill(id: Id): void {
    this.#dead.add(id);
    this.#deadlines.delete(id);
  }

  /**
   * A client sends a request to a replica; it arrives after the latency.
   *
   * @param to The replica.
   * @param request The request without envelope: type, MID, key (and value).
   */
  request(
    to: Id,
    request:
      | { type: "get"; MID: string; key: string }
      | { type: "put"; MID: string; key: string; value: string },
    client: Id = "0100",
  ): void {
    const message: ClientRequest = { src: client, dst: to, leader: BROADCAST, ...request };
    this.#enqueue(to, message);
  }

  /**
   * Delivers a message to a replica at once, bypassing cuts and drops.
   *
   * @param to The replica.
   * @param message Any inbound message.
   */
  inject(to: Id, message: InboundMessage): void {
    this.node(to).step(message, this.now);
    this.#flush(to);
  }

  /**
   * @param mid A client message id.
   * @returns Every reply to it, in arrival order.
   */
  repliesTo(mid: string): ClientReply[] {
    return this.replies.filter((r) => r.reply.MID === mid).map((r) => r.reply);
  }

  /** Runs the event loop for `ms` of fake time. */
  runFor(ms: number): void {
    const end = this.now + ms;
    while (this.#step(end));
    this.now = end;
  }

  /**
   * Runs until `done` holds, checked after every event; on failure the clock is
   * left at the limit.
   *
   * @param done The condition.
   * @param limitMs Most fake time to run.
   * @returns Whether `done` held within the limit.
   */
  runUntil(done: () => boolean, limitMs = 30_000): boolean {
    const end = this.now + limitMs;
    while (!done()) {
      if (!this.#step(end)) {
        this.now = end;
        return false;
      }
    }
    return true;
  }

  /**
   * Runs until a leader is elected whose term every live replica agrees on.
   *
   * @returns The leader.
   */
  elect(limitMs = 30_000): ServedReplica {
    const settled = () => {
      const leader = this.leader();
      return leader !== undefined &&
        this.live.every((n) => n.currentTerm === leader.currentTerm && n.leaderId === leader.id) &&
        leader.commitIndex === leader.lastIndex;
    };
    if (!this.runUntil(settled, limitMs)) throw new Error(`No leader elected by ${this.now} ms`);
    return this.leader() as ServedReplica;
  }

  /** Processes the next event at or before `end`; `false` when there is none. */
  #step(end: number): boolean {
    const message = this.#queue[0];
    let timerId: Id | undefined;
    let timerAt = Infinity;
    for (const [id, deadline] of this.#deadlines) {
      if (deadline < timerAt) [timerId, timerAt] = [id, deadline];
    }
    const messageAt = message?.at ?? Infinity;
    if (Math.min(messageAt, timerAt) > end) return false;
    if (message !== undefined && messageAt <= timerAt) {
      this.#queue.shift();
      this.now = Math.max(this.now, message.at);
      if (this.#dead.has(message.to)) return true;
      this.node(message.to).step(message.message, this.now);
      this.#flush(message.to);
    } else if (timerId !== undefined) {
      this.now = Math.max(this.now, timerAt);
      this.node(timerId).tick(this.now);
      this.#flush(timerId);
      if ((this.#deadlines.get(timerId) ?? Infinity) <= this.now) {
        throw new Error(`Replica ${timerId} asks to be ticked again at ${this.now}: a busy loop`);
      }
    }
    return true;
  }

  #flush(id: Id): void {
    const { messages, deadline } = this.node(id).ready();
    this.#deadlines.set(id, deadline);
    this.onFlush?.(id, messages);
    for (const message of messages) this.#route(id, message);
  }

  #route(from: Id, message: OutboundMessage): void {
    if (message.type === "hello") return;
    if (!this.#isPeerMessage(message)) {
      this.replies.push({ at: this.now, from, reply: message });
      return;
    }
    const targets = message.dst === BROADCAST
      ? this.ids.filter((id) => id !== from)
      : [message.dst];
    for (const to of targets) {
      this.peerMessagesSent++;
      if (this.#cuts.has(`${from}>${to}`) || this.#random() < this.dropRate) continue;
      if (this.filter !== undefined && !this.filter(message, to)) continue;
      this.#enqueue(to, JSON.parse(JSON.stringify(message)));
    }
  }

  #isPeerMessage(message: OutboundMessage): message is PeerMessage {
    return message.type !== "ok" && message.type !== "redirect" && message.type !== "fail";
  }

  #enqueue(to: Id, message: InboundMessage): void {
    const item = { at: this.now + this.#latencyMs, seq: this.#seq++, to, message };
    const index = this.#queue.findIndex((q) => q.at > item.at);
    if (index === -1) this.#queue.push(item);
    else this.#queue.splice(index, 0, item);
  }
}
