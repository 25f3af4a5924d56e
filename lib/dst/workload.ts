/**
 * Simulated clients that behave like the course's (PROTOCOL.md section 4): gets
 * of keys they wrote, puts that create keys or update them with MD5-chained
 * values, several requests outstanding, and an immediate retry with a new MID
 * on `redirect` or `fail`. Every MID and every reply is kept, so the run can
 * check replies (no MID answered twice, none refused then accepted) and hand
 * the history to the linearizability checker.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Operation } from "../check/mod.ts";
import type { ClientReply, ClientRequest } from "../kv/messages.ts";
import { BROADCAST, type Id } from "../raft/messages.ts";
import type { Prng } from "./prng.ts";

/** A request on its way to a replica. */
export interface Outgoing {
  request: ClientRequest;
  /** The replica it is sent to. */
  to: Id;
}

/** One reply as a replica sent it. */
export interface ReplyRecord {
  type: ClientReply["type"];
  /** The replica that sent it. */
  replier: Id;
  /** Simulated time at which the replica sent it. */
  sentAt: number;
}

/** A reply the protocol forbids or that needs a closer look. */
export interface ReplyAnomaly {
  kind:
    /** A reply for a MID no client sent. */
    | "unknown_mid"
    /** A second reply after a redirect or fail (the client had moved on to a new MID). */
    | "reply_after_refusal"
    /** A second reply after an ok: a duplicate, fatal only when nothing explains it. */
    | "reply_after_ok"
    /** An ok for a get without a string value. */
    | "malformed_reply";
  mid: string;
  first: ReplyRecord | undefined;
  second: ReplyRecord;
}

/** What the clients made of one reply. */
export interface ReplyOutcome {
  /** The retry with a new MID, after a redirect or fail. */
  retry?: Outgoing;
  anomaly?: ReplyAnomaly;
  /** The key of a put this reply acknowledged, under `readAfterWrite`. */
  written?: string;
}

/** Everything known about one MID. */
export interface RequestRecord {
  request: ClientRequest;
  /** The replica it was sent to. */
  to: Id;
  /** Simulated time at which the client sent it. */
  invokedAt: number;
  /** The first reply, if any. */
  firstReply?: ReplyRecord;
  /** When the first ok arrived at the client. */
  okAt?: number;
  /** For a get, the value the first ok carried. */
  okValue?: string;
}

interface ClientState {
  id: Id;
  /** Never strays and never forgets its leader: it follows only replies. */
  sticky: boolean;
  /** Whom the client believes leads, from the last reply's `leader`. */
  leader: Id | undefined;
  /** Keys this client created, with the last value it sent for each. */
  lastSent: Map<string, string>;
  /** A closed-loop client's request awaiting its reply. */
  waitingFor?: RequestRecord;
}

/** How the clients behave. */
export interface WorkloadOptions {
  /** Share of requests that are gets, in [0, 1]. */
  mix: number;
  /**
   * Share of requests sent to a random live replica rather than the known
   * leader, as a client with stale routing would: without them every client
   * follows an old leader until it is told otherwise, and a stale read at that
   * leader could never be compared with a write committed by its successor.
   */
  strayRate: number;
  /**
   * When above 0, every request reads or writes one of this many keys shared
   * by all clients, so that a read at one replica often follows a write at
   * another; at 0 clients create and update their own keys, as the course's do.
   * @default {0}
   */
  sharedKeys?: number;
  /**
   * Share of the clients that are sticky readers: with shared keys they only
   * read, each get at
   * a replica that claims to lead (picked among the claimants the caller
   * names, as a client believing the `leader` field of any message would),
   * even one deposed without knowing it; they never stray and ignore
   * {@linkcode Workload.forgetLeaders}.
   * @default {0}
   */
  stickyShare?: number;
  /**
   * Whether new requests, but the gets of sticky clients, go to the replica
   * that claims to lead the newest term, as the course's simulator learns the
   * leader from the messages it routes, rather than to the last leader a reply
   * named.
   * @default {false}
   */
  followNewestClaim?: boolean;
  /**
   * When set, clients run a closed loop: each waits for the reply to its
   * request (retries included) before it sends another, but gives up after
   * this long or when the replica it sent to crashed. That bounds how many
   * operations overlap, which with few shared keys keeps the linearizability
   * search decidable; unset, clients send whenever picked, as the course's do.
   * @default {undefined}
   */
  patienceMs?: number;
  /**
   * How long a closed-loop client waits for the reply to a get: it can give up
   * on reads sooner than on puts, since a read answered after the client moved
   * on widens one operation, while every overlapping put multiplies the orders
   * the linearizability search must try.
   * @default {patienceMs}
   */
  getPatienceMs?: number;
  /**
   * Whether an acknowledged put makes an idle sticky reader read its key at
   * once, as a client told of the write by its writer would: the read most
   * likely to expose a deposed leader that still serves its lease.
   * @default {false}
   */
  readAfterWrite?: boolean;
}

/** Share of gets that read a key another client wrote, to mix writers and readers. */
const FOREIGN_GET_RATE = 0.3;
/** Chance that a put creates a new key when the client already has some. */
const NEW_KEY_RATE = 0.3;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/**
 * The clients of one run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Prng } from "./prng.ts";
 * import { Workload } from "./workload.ts";
 * const workload = new Workload(new Prng(1), ["0013"], { mix: 0.5, strayRate: 0 });
 * const { request, to } = workload.issue(0, ["0000", "0001", "0002"]);
 * assert.equal(request.type, "put");
 * workload.receive({ src: to, dst: "0013", leader: to, type: "ok", MID: request.MID }, to, 5, 6, []);
 * assert.equal(workload.history().length, 1);
 * ```
 */
export class Workload {
  readonly #prng: Prng;
  readonly #clients: ClientState[];
  readonly #options: WorkloadOptions;
  readonly #records = new Map<string, RequestRecord>();
  /** Every key some client created, for reads across clients. */
  readonly #keys: string[] = [];
  /** The keys every client reads and writes, when the workload shares keys. */
  readonly #sharedKeys: string[];
  /** Puts to shared keys so far, which makes each value written distinct. */
  #sharedPuts = 0;
  #duplicates = 0;
  /** MIDs some replica has sent a reply for. */
  readonly #repliedMids = new Set<string>();
  /**
   * Per client and own key, the value of the last put some replica answered ok
   * first, in the order replicas sent their replies: what a course client takes
   * for the key's value (see {@linkcode Workload.observeSent}).
   */
  readonly #acknowledgedValues = new Map<string, string>();

  /**
   * @param prng The workload's own random stream.
   * @param clientIds Client ids.
   * @param options How the clients behave.
   */
  constructor(prng: Prng, clientIds: readonly Id[], options: WorkloadOptions) {
    const { sharedKeys = 0, stickyShare = 0 } = options;
    this.#prng = prng;
    const stickyClients = Math.round(clientIds.length * stickyShare);
    this.#clients = clientIds.map((id, i) => ({
      id,
      sticky: i < stickyClients,
      leader: undefined,
      lastSent: new Map(),
    }));
    this.#sharedKeys = Array.from({ length: sharedKeys }, () => this.#randomString(12));
    this.#options = options;
  }

  /** Replies that came after an ok for the same MID. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /**
   * Whether some client may send a new request: always, unless clients run a
   * closed loop and all of them wait for a reply.
   *
   * @param now Simulated time.
   * @param alive Replicas still running.
   * @param claimants Live replicas that claim to lead, newest term first.
   * @returns Whether {@linkcode Workload.issue} may be called.
   */
  hasIdleClient(now: number, alive: readonly Id[], claimants: readonly Id[] = []): boolean {
    return this.#clients.some((client) => this.#idle(client, now, alive, claimants[0]));
  }

  /**
   * Makes an idle sticky reader read a key at one of the claimants, after a
   * put of that key was acknowledged (`readAfterWrite`).
   *
   * @param now Simulated time.
   * @param alive Replicas still running.
   * @param claimants Live replicas that claim to lead, newest term first.
   * @param key The key just written.
   * @returns The get and its destination, or undefined when no reader is idle.
   */
  readBack(
    now: number,
    alive: readonly Id[],
    claimants: readonly Id[],
    key: string,
  ): Outgoing | undefined {
    const readers = this.#clients.filter((c) => c.sticky && this.#idle(c, now, alive, undefined));
    if (readers.length === 0 || claimants.length === 0) return undefined;
    const client = this.#prng.pick(readers);
    client.leader = this.#prng.pick(claimants);
    const request = { src: client.id, dst: BROADCAST, leader: BROADCAST, MID: "", key } as const;
    return this.#send(client, { ...request, type: "get" }, now, alive);
  }

  /**
   * Makes a random client send a new request (an idle one, under a closed loop).
   *
   * @param now Simulated time.
   * @param alive Replicas still running, at least one.
   * @param claimants Live replicas that claim to lead, newest term first:
   *   sticky clients read at any of them; other requests go to the first
   *   under `followNewestClaim`.
   * @returns The request and its destination.
   */
  issue(now: number, alive: readonly Id[], claimants: readonly Id[] = []): Outgoing {
    const client = this.#prng.pick(
      this.#options.patienceMs === undefined
        ? this.#clients
        : this.#clients.filter((c) => this.#idle(c, now, alive, claimants[0])),
    );
    const request = this.#sharedKeys.length > 0 ? this.#shared(client) : this.#own(client);
    if (client.sticky && request.type === "get" && claimants.length > 0) {
      client.leader = this.#prng.pick(claimants);
    } else if (this.#options.followNewestClaim && claimants.length > 0) {
      client.leader = claimants[0];
    }
    return this.#send(client, request, now, alive);
  }

  /**
   * Takes a reply as the client receives it.
   *
   * @param reply The reply.
   * @param replier The replica that sent it.
   * @param sentAt When the replica sent it.
   * @param now When it arrives.
   * @param alive Replicas still running, for a retry.
   * @returns The retry to send, and what was wrong with the reply, if anything.
   */
  receive(
    reply: ClientReply,
    replier: Id,
    sentAt: number,
    now: number,
    alive: readonly Id[],
  ): ReplyOutcome {
    const second: ReplyRecord = { type: reply.type, replier, sentAt };
    const record = this.#records.get(reply.MID);
    if (record === undefined) {
      return { anomaly: { kind: "unknown_mid", mid: reply.MID, first: undefined, second } };
    }
    const first = record.firstReply;
    if (first !== undefined) {
      if (first.type !== "ok") {
        return { anomaly: { kind: "reply_after_refusal", mid: reply.MID, first, second } };
      }
      this.#duplicates++;
      return { anomaly: { kind: "reply_after_ok", mid: reply.MID, first, second } };
    }
    record.firstReply = second;
    const client = this.#clients.find((c) => c.id === record.request.src) as ClientState;
    client.leader = reply.leader === BROADCAST ? undefined : reply.leader;
    if (reply.type !== "ok") return { retry: this.#send(client, record.request, now, alive) };
    record.okAt = now;
    if (record.request.type === "put" && this.#options.readAfterWrite === true) {
      return { written: record.request.key };
    }
    if (record.request.type === "get") {
      if (typeof reply.value !== "string") {
        return { anomaly: { kind: "malformed_reply", mid: reply.MID, first: undefined, second } };
      }
      record.okValue = reply.value;
    }
    return {};
  }

  /**
   * Follows a reply as a replica sends it, and checks a get answered ok as the
   * course's client does (PROTOCOL.md section 4): a get of a key the client
   * writes must carry the value of the last put of it the client was answered
   * ok for. A history can be linearizable and still fail this, when a replica
   * answers two puts of one key in another order than the log's. The order is
   * the replicas' sending order: here replies reach clients after random
   * delays, while the course's simulator reads them about as they are sent.
   * Gets of keys other clients write, and shared keys, are not checked: a
   * course client reads only its own keys, and no client owns a shared one.
   *
   * @param reply A reply a replica is sending.
   * @returns What was wrong, or undefined.
   */
  observeSent(reply: ClientReply): string | undefined {
    const record = this.#records.get(reply.MID);
    if (record === undefined || this.#repliedMids.has(reply.MID)) return undefined;
    this.#repliedMids.add(reply.MID);
    if (reply.type !== "ok" || this.#sharedKeys.length > 0) return undefined;
    const { request } = record;
    const client = this.#clients.find((c) => c.id === request.src) as ClientState;
    if (!client.lastSent.has(request.key)) return undefined;
    const slot = `${client.id}\n${request.key}`;
    if (request.type === "put") {
      this.#acknowledgedValues.set(slot, request.value);
      return undefined;
    }
    const acknowledged = this.#acknowledgedValues.get(slot);
    if (acknowledged === undefined || reply.value === acknowledged) return undefined;
    return `get ${reply.MID} of ${client.id}'s key ${request.key} was answered ${
      JSON.stringify(reply.value)
    }, but the last put of it answered ok wrote ${JSON.stringify(acknowledged)}`;
  }

  /** Makes every client but the sticky ones forget the leader, as `part_hard` and `kill_leader` do. */
  forgetLeaders(): void {
    for (const client of this.#clients) if (!client.sticky) client.leader = undefined;
  }

  /** @returns Every MID sent so far with what happened to it. */
  records(): IterableIterator<RequestRecord> {
    return this.#records.values();
  }

  /** @returns Sent requests that have had no reply yet. */
  unanswered(): RequestRecord[] {
    return [...this.#records.values()].filter((record) => record.firstReply === undefined);
  }

  /**
   * The history for the linearizability checker: every acknowledged get and
   * put, and every put that got no reply at all (it may or may not have taken
   * effect). Puts refused with redirect or fail took no effect and are left out.
   *
   * @returns The operations.
   */
  history(): Operation[] {
    const ops: Operation[] = [];
    for (const record of this.#records.values()) {
      const { request, invokedAt, okAt, firstReply } = record;
      const base = { key: request.key, invokedAt, client: request.src, mid: request.MID };
      if (request.type === "put" && (okAt !== undefined || firstReply === undefined)) {
        ops.push({ ...base, kind: "put", value: request.value, returnedAt: okAt ?? Infinity });
      } else if (request.type === "get" && okAt !== undefined) {
        ops.push({ ...base, kind: "get", value: record.okValue ?? "", returnedAt: okAt });
      }
    }
    return ops;
  }

  #get(client: ClientState, ownKeys: readonly string[]): ClientRequest {
    const foreign = this.#prng.chance(FOREIGN_GET_RATE);
    const key = this.#prng.pick(foreign ? this.#keys : ownKeys);
    return { src: client.id, dst: BROADCAST, leader: BROADCAST, type: "get", MID: "", key };
  }

  #put(client: ClientState, ownKeys: readonly string[]): ClientRequest {
    let key: string;
    let value: string;
    if (ownKeys.length === 0 || this.#prng.chance(NEW_KEY_RATE)) {
      key = this.#randomString(12);
      value = md5(key);
      this.#keys.push(key);
    } else {
      key = this.#prng.pick(ownKeys);
      // Chained from the last value sent, not the last acknowledged as the
      // course does, so that every put writes a distinct value.
      value = md5(client.lastSent.get(key) as string);
    }
    client.lastSent.set(key, value);
    return { src: client.id, dst: BROADCAST, leader: BROADCAST, type: "put", MID: "", key, value };
  }

  /** A get of a key the client wrote (or another client's), or a put of one of its own keys. */
  #own(client: ClientState): ClientRequest {
    const ownKeys = [...client.lastSent.keys()];
    const wantsGet = this.#prng.chance(this.#options.mix) && ownKeys.length > 0;
    return wantsGet ? this.#get(client, ownKeys) : this.#put(client, ownKeys);
  }

  /** A get or a put of a shared key. */
  #shared(client: ClientState): ClientRequest {
    const key = this.#prng.pick(this.#sharedKeys);
    const base = { src: client.id, dst: BROADCAST, leader: BROADCAST, MID: "", key } as const;
    // Sticky clients stand for the readers still attached to a deposed leader.
    if (client.sticky || this.#prng.chance(this.#options.mix)) return { ...base, type: "get" };
    return { ...base, type: "put", value: md5(`${key}/${++this.#sharedPuts}`) };
  }

  /**
   * Whether a closed-loop client may send again: its request was answered,
   * or it gave up on it (patience spent, the replica crashed, or, under
   * `followNewestClaim`, a put at a replica that no longer claims the newest
   * term, as a client told of the new leader would).
   */
  #idle(client: ClientState, now: number, alive: readonly Id[], newest: Id | undefined): boolean {
    const { waitingFor } = client;
    if (waitingFor === undefined || waitingFor.firstReply !== undefined) return true;
    const { patienceMs = Infinity, getPatienceMs = patienceMs } = this.#options;
    const { request, to, invokedAt } = waitingFor;
    const overtaken = this.#options.followNewestClaim === true && request.type === "put" &&
      newest !== undefined && to !== newest;
    return now - invokedAt >= (request.type === "get" ? getPatienceMs : patienceMs) ||
      !alive.includes(to) || overtaken;
  }

  #send(client: ClientState, request: ClientRequest, now: number, alive: readonly Id[]): Outgoing {
    const stray = !client.sticky && this.#prng.chance(this.#options.strayRate);
    const to = !stray && client.leader !== undefined && alive.includes(client.leader)
      ? client.leader
      : this.#prng.pick(alive);
    const sent = { ...request, dst: to, leader: client.leader ?? BROADCAST, MID: this.#mid() };
    const record = { request: sent, to, invokedAt: now };
    this.#records.set(sent.MID, record);
    if (this.#options.patienceMs !== undefined) client.waitingFor = record;
    return { request: sent, to };
  }

  #mid(): string {
    return this.#randomString(16);
  }

  #randomString(length: number): string {
    let text = "";
    for (let i = 0; i < length; i++) text += ALPHABET[this.#prng.int(0, ALPHABET.length - 1)];
    return text;
  }
}

function md5(text: string): string {
  return createHash("md5").update(text).digest("hex");
}
