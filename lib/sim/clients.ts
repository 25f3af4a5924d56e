/**
 * The course's client workload (PROTOCOL.md section 4): 8 clients that make gets and
 * MD5-chained puts, retry at once with a new MID after a redirect or fail, and judge
 * every reply. Pure: the PRNG and the clock are injected, nothing is sent from here.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Prng } from "./_prng.ts";
import { BROADCAST, type WireMessage } from "./network.ts";
import type { Counters } from "./stats.ts";

/** The course runs 8 clients. */
export const CLIENT_COUNT = 8;

const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/**
 * Formats an id as the course does: 4 upper-case hex digits.
 *
 * @param n The number.
 * @returns The id.
 */
export function formatId(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * Replica ids `0000` … N-1.
 *
 * @param replicaCount N.
 * @returns The ids.
 */
export function replicaIdsFor(replicaCount: number): string[] {
  return Array.from({ length: replicaCount }, (_, i) => formatId(i));
}

/**
 * Client ids, starting at N+16 (`0015`…`001C` for N=5).
 *
 * @param replicaCount N.
 * @returns The ids.
 */
export function clientIdsFor(replicaCount: number): string[] {
  return Array.from({ length: CLIENT_COUNT }, (_, i) => formatId(replicaCount + 16 + i));
}

/**
 * MD5 hex digest, the course's value function.
 *
 * @param text The input.
 * @returns 32 lower-case hex characters.
 */
export function md5Hex(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

/** A request a client wants sent: the message and its destination (undefined: none alive). */
export interface OutgoingRequest {
  message: WireMessage & { MID: string; key: string; value?: string };
  dst: string | undefined;
}

/** One request (one MID) and what became of it, for the linearizability history. */
export interface RequestRecord {
  mid: string;
  client: string;
  kind: "get" | "put";
  key: string;
  /** A put's value. */
  value?: string;
  /** When the request was created, ms on the workload clock. */
  invokedAtMs: number;
  /** The first non-duplicate reply, if any. */
  reply?: { type: "ok" | "fail" | "redirect"; atMs: number; value?: unknown };
}

/** What a reply did. */
export interface DeliveryResult {
  /** The retry to send after a redirect or fail. */
  retry?: OutgoingRequest;
  /** A warning in the course's words, when the reply was incorrect. */
  warning?: string;
  /** Set when the reply acknowledged a put. */
  acknowledgedPut?: boolean;
  /** Set when the reply was for a MID already answered ok. */
  duplicate?: boolean;
}

/** Options for a {@linkcode Workload}. */
export interface WorkloadOptions {
  /** Number of replicas (client ids start at N+16). */
  replicaCount: number;
  /** The randomness source. */
  random: Prng;
  /** The counters to update. */
  counters: Counters;
  /** The clock, in ms. */
  now: () => number;
}

interface ClientState {
  id: string;
  /** The leader this client believes in, or `FFFF`. */
  leader: string;
  /** Key → last acknowledged value, for keys this client put. */
  items: Map<string, string>;
  /** Outstanding requests by MID. */
  pending: Map<string, RequestRecord>;
}

/** The 8 clients and every request they made. */
export class Workload {
  /** Every request ever created, in order. */
  readonly records: RequestRecord[] = [];
  readonly #clients: ClientState[];
  readonly #random: Prng;
  readonly #counters: Counters;
  readonly #now: () => number;
  /** MIDs completed with ok, cluster-wide (the course keeps one set for all clients). */
  readonly #completed = new Set<string>();

  /** @param options See {@linkcode WorkloadOptions}. */
  constructor(options: WorkloadOptions) {
    this.#clients = clientIdsFor(options.replicaCount).map((id) => ({
      id,
      leader: BROADCAST,
      items: new Map(),
      pending: new Map(),
    }));
    this.#random = options.random;
    this.#counters = options.counters;
    this.#now = options.now;
  }

  /**
   * Plays one request event: a random client makes a get of one of its keys (when
   * `wantGet` and it has keys; otherwise a failure to generate a get is counted) or a put.
   *
   * @param wantGet Whether the event is a get event.
   * @param living The replicas the simulator believes alive.
   * @returns The request to send.
   */
  createRequest(wantGet: boolean, living: readonly string[]): OutgoingRequest {
    const client = this.#random.pick(this.#clients);
    if (wantGet) {
      if (client.items.size > 0) {
        return this.#request(client, "get", this.#random.pick([...client.items.keys()]), living);
      }
      this.#counters.failedToGenerateGet += 1;
    }
    if (client.items.size === 0 || this.#random.next() > 0.5) {
      const key = this.#random.string(32, KEY_ALPHABET);
      return this.#request(client, "put", key, living, md5Hex(key));
    }
    const key = this.#random.pick([...client.items.keys()]);
    return this.#request(client, "put", key, living, md5Hex(client.items.get(key) as string));
  }

  /**
   * Judges a reply to a client and updates the counters, as the course grader does.
   *
   * @param clientId The `dst` of the reply.
   * @param message The reply (envelope already validated).
   * @param text The raw datagram, for warnings.
   * @param living The replicas the simulator believes alive (for a retry's destination).
   * @returns What to do next.
   */
  deliver(
    clientId: string,
    message: WireMessage,
    text: string,
    living: readonly string[],
  ): DeliveryResult {
    const client = this.#clients.find((c) => c.id === clientId);
    if (!client) throw new RangeError(`Cannot deliver to ${clientId}: it is not a client`);
    if (!("MID" in message)) return this.#incorrect("Message missing mid field", text);
    const type = message.type;
    if (type !== "ok" && type !== "fail" && type !== "redirect") {
      return this.#incorrect("Unknown message type sent to client", text);
    }
    const mid = message["MID"];
    if (typeof mid === "string" && this.#completed.has(mid)) {
      this.#counters.duplicates += 1;
      return { duplicate: true };
    }
    const record = typeof mid === "string" ? client.pending.get(mid) : undefined;
    if (!record) return this.#incorrect("client received an unexpected MID", text);
    client.pending.delete(record.mid);
    client.leader = message.leader;
    const atMs = this.#now();
    this.#counters.latenciesS.push((atMs - record.invokedAtMs) / 1000);
    record.reply = { type, atMs, value: message["value"] };
    if (type !== "ok") return { retry: this.#retry(client, record, type, living) };
    this.#completed.add(record.mid);
    if (record.kind === "put") {
      client.items.set(record.key, record.value as string);
      return { acknowledgedPut: true };
    }
    if (!("value" in message)) {
      return this.#incorrect("get() response missing the value of the key", text);
    }
    if (client.items.get(record.key) !== message["value"]) {
      return this.#incorrect("client received an incorrect value for a key", text);
    }
    return {};
  }

  /** Every client forgets its leader (after `kill_leader` or `part_hard`). */
  forgetLeaders(): void {
    for (const client of this.#clients) client.leader = BROADCAST;
  }

  /** Counts every request still outstanding as unanswered; call once at the end. */
  finalize(): void {
    for (const client of this.#clients) {
      for (const record of client.pending.values()) {
        if (record.kind === "get") this.#counters.unansweredGet += 1;
        else this.#counters.unansweredPut += 1;
      }
    }
  }

  /** Keys with an acknowledged put, over all clients (the course's "state stored"). */
  storedKeys(): number {
    return this.#clients.reduce((total, client) => total + client.items.size, 0);
  }

  /** Requests currently awaiting a reply. */
  outstanding(): number {
    return this.#clients.reduce((total, client) => total + client.pending.size, 0);
  }

  #request(
    client: ClientState,
    kind: "get" | "put",
    key: string,
    living: readonly string[],
    value?: string,
  ): OutgoingRequest {
    if (kind === "get") this.#counters.totalGet += 1;
    else this.#counters.totalPut += 1;
    const mid = this.#random.string(16, KEY_ALPHABET);
    const record: RequestRecord = { mid, client: client.id, kind, key, invokedAtMs: this.#now() };
    if (value !== undefined) record.value = value;
    client.pending.set(mid, record);
    this.records.push(record);
    const dst = this.#destination(client, living);
    const message: OutgoingRequest["message"] = {
      src: client.id,
      dst: dst ?? BROADCAST,
      leader: client.leader,
      type: kind,
      MID: mid,
      key,
    };
    if (value !== undefined) message.value = value;
    return { message, dst };
  }

  /** The known leader if alive, else a random living replica (and the leader is forgotten). */
  #destination(client: ClientState, living: readonly string[]): string | undefined {
    if (living.length === 0) return undefined;
    if (client.leader === BROADCAST || !living.includes(client.leader)) {
      client.leader = BROADCAST;
      return this.#random.pick(living);
    }
    return client.leader;
  }

  #retry(
    client: ClientState,
    record: RequestRecord,
    type: "fail" | "redirect",
    living: readonly string[],
  ): OutgoingRequest {
    if (type === "fail") {
      if (record.kind === "get") this.#counters.failedGet += 1;
      else this.#counters.failedPut += 1;
    }
    this.#counters.redirects += 1;
    return this.#request(client, record.kind, record.key, living, record.value);
  }

  #incorrect(what: string, text: string): DeliveryResult {
    this.#counters.incorrect += 1;
    return { warning: `*** Simulator Error - ${what}: ${text}` };
  }
}
