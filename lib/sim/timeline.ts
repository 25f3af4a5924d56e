/**
 * What a run looked like over time, for the HTML report: each replica's role (inferred
 * from the messages the simulator routes, since it cannot see inside a replica), the
 * partitions and their sides, the fault events and deaths, every client request with
 * its outcome and latency, and the replica traffic per 100 ms.
 *
 * The {@linkcode TimelineRecorder} is told what happens as it happens; it does no I/O
 * and reads no clock (every call carries its time), so it is tested without a run.
 *
 * @module
 */

import { BROADCAST } from "../raft/messages.ts";
import type { RequestRecord } from "./clients.ts";
import type { EventType } from "./config.ts";

/** Width of one traffic bucket. */
export const TRAFFIC_BUCKET_MS = 100;

/**
 * Message types that show a replica asking for votes. `pre_vote` is included: a
 * pre-candidate is not yet a Raft candidate, but it is just as much without a leader.
 */
export const CANDIDATE_MESSAGE_TYPES: readonly string[] = ["request_vote", "pre_vote"];

/** Types of the replies to clients (PROTOCOL.md section 2). */
const CLIENT_REPLY_TYPES: readonly string[] = ["ok", "redirect", "fail"];

/** A replica's role as the simulator infers it. */
export type Role = "follower" | "candidate" | "leader" | "dead";

/** One stretch of time in one role. */
export interface RoleSpan {
  role: Role;
  /** Start, ms since the run started. */
  fromMs: number;
  /** End (exclusive), ms since the run started. */
  toMs: number;
}

/** One replica's lane: its roles over the whole run, in time order, without gaps. */
export interface Lane {
  replica: string;
  spans: RoleSpan[];
}

/** A partition from the event that made it to the one that healed it (or the end). */
export interface PartitionSpan {
  /** The event that made it (`part_easy`, `part_hard`, `part_leader`). */
  type: EventType;
  fromMs: number;
  toMs: number;
  /** The majority side; every other replica is on the minority side. */
  majority: string[];
}

/** A config event as it fired. */
export interface TimelineEvent {
  type: EventType;
  atMs: number;
}

/** A replica that stopped: killed by an event, or died on its own. */
export interface Death {
  replica: string;
  atMs: number;
  /** The event that killed it, or why it counts as died (e.g. `exited with code 1`). */
  cause: string;
  /** True when an event killed it; false when it died on its own (a failed run). */
  killed: boolean;
}

/** How a request ended, as the report colours it. */
export type Outcome = "get_ok" | "put_ok" | "redirect" | "fail" | "unanswered";

/** One client request (one MID). */
export interface RequestPoint {
  mid: string;
  kind: "get" | "put";
  /** The replica it was sent to, if any was alive. */
  sentTo: string | undefined;
  /** Creation time, ms since the run started. */
  sentAtMs: number;
  outcome: Outcome;
  /** Creation to first reply; undefined when unanswered. */
  latencyMs: number | undefined;
  /** Creation to each duplicate reply (a reply for a MID already answered ok). */
  duplicateLatenciesMs: number[];
  /** Whether a reply for this MID was judged incorrect (e.g. a get's wrong value). */
  incorrect: boolean;
}

/** A reply judged incorrect that names no request of the run (bad or unknown MID). */
export interface StrayReply {
  atMs: number;
  client: string;
}

/** The run over time: what the report draws. */
export interface Timeline {
  replicaIds: string[];
  /** When the run was planned to end (`start_wait + lifetime + end_wait`), ms. */
  plannedMs: number;
  /** When it did end, ms (earlier after a packet storm or Ctrl-C). */
  endedAtMs: number;
  lanes: Lane[];
  partitions: PartitionSpan[];
  events: TimelineEvent[];
  deaths: Death[];
  requests: RequestPoint[];
  strayIncorrect: StrayReply[];
  /** Counted replica-to-replica messages per {@linkcode TRAFFIC_BUCKET_MS}, by send time. */
  sentPerBucket: number[];
  /** Of those, the ones dropped or cut by a partition. */
  droppedPerBucket: number[];
}

/** The envelope fields role inference reads. */
export interface RoutedMessage {
  src: string;
  leader: string;
  type: unknown;
}

/**
 * Infers a replica's role from one message it sent, as the report's legend says:
 * naming itself in `leader` makes it leader; sending `request_vote` or `pre_vote` makes
 * it candidate; naming another replica makes it follower. A message naming no leader
 * says little: a leader that sends one to a replica has stepped down (follower), anyone
 * else keeps its role (a candidate refusing a rival's vote request stays candidate, a
 * leader cut off from a majority redirects clients naming no leader).
 *
 * @param current The role inferred so far.
 * @param message The message the replica sent.
 * @returns The role after it.
 * @example
 * ```ts
 * import { inferRole } from "./timeline.ts";
 * const message = { src: "0001", leader: "FFFF", type: "request_vote" };
 * if (inferRole("follower", message) !== "candidate") throw new Error();
 * ```
 */
export function inferRole(current: Role, message: RoutedMessage): Role {
  if (current === "dead") return current;
  if (message.leader === message.src) return "leader";
  if (typeof message.type === "string" && CANDIDATE_MESSAGE_TYPES.includes(message.type)) {
    return "candidate";
  }
  if (message.leader !== BROADCAST) return "follower";
  if (typeof message.type === "string" && CLIENT_REPLY_TYPES.includes(message.type)) return current;
  return current === "leader" ? "follower" : current;
}

/** Marks on a request, from replies the workload judged. */
interface ReplyMarks {
  duplicateAtMs: number[];
  incorrect: boolean;
}

/** Collects a run's timeline; call {@linkcode TimelineRecorder.finish} once at the end. */
export class TimelineRecorder {
  readonly #replicaIds: string[];
  readonly #plannedMs: number;
  readonly #lanes = new Map<string, RoleSpan[]>();
  readonly #partitions: PartitionSpan[] = [];
  readonly #events: TimelineEvent[] = [];
  readonly #deaths: Death[] = [];
  readonly #marks = new Map<string, ReplyMarks>();
  readonly #sentTo = new Map<string, string | undefined>();
  readonly #strayIncorrect: StrayReply[] = [];
  readonly #sent: number[] = [];
  readonly #dropped: number[] = [];

  /**
   * @param replicaIds Every replica of the run.
   * @param plannedMs How long the run is planned to last.
   */
  constructor(replicaIds: readonly string[], plannedMs: number) {
    this.#replicaIds = [...replicaIds];
    this.#plannedMs = plannedMs;
    for (const id of replicaIds) this.#lanes.set(id, [{ role: "follower", fromMs: 0, toMs: 0 }]);
  }

  /**
   * A message from a replica was routed (to replicas or to a client).
   *
   * @param atMs When.
   * @param message Its envelope; `src` is a replica.
   */
  routed(atMs: number, message: RoutedMessage): void {
    const spans = this.#lanes.get(message.src);
    const last = spans?.at(-1);
    if (!spans || !last) return;
    this.#setRole(spans, last, inferRole(last.role, message), atMs);
  }

  /**
   * Counted replica-to-replica messages of one datagram.
   *
   * @param atMs When it was routed.
   * @param sent Messages counted (N-1 for a broadcast).
   * @param dropped Of those, dropped or cut by a partition.
   */
  traffic(atMs: number, sent: number, dropped: number): void {
    if (sent === 0 && dropped === 0) return;
    const bucket = Math.max(0, Math.floor(atMs / TRAFFIC_BUCKET_MS));
    while (this.#sent.length <= bucket) {
      this.#sent.push(0);
      this.#dropped.push(0);
    }
    this.#sent[bucket] = (this.#sent[bucket] ?? 0) + sent;
    this.#dropped[bucket] = (this.#dropped[bucket] ?? 0) + dropped;
  }

  /**
   * A config event fired.
   *
   * @param atMs When.
   * @param type The event.
   * @param majority The majority side after it, or undefined when no partition is up.
   */
  event(atMs: number, type: EventType, majority: ReadonlySet<string> | undefined): void {
    this.#events.push({ type, atMs });
    const open = this.#partitions.at(-1);
    const sameSide = open?.toMs === Infinity && majority !== undefined &&
      open.majority.length === majority.size && open.majority.every((id) => majority.has(id));
    if (sameSide) return;
    if (open?.toMs === Infinity) open.toMs = atMs;
    if (majority !== undefined) {
      this.#partitions.push({ type, fromMs: atMs, toMs: Infinity, majority: [...majority].sort() });
    }
  }

  /**
   * A replica stopped being alive.
   *
   * @param atMs When.
   * @param replica Which.
   * @param cause The killing event, or why it counts as died.
   * @param killed Whether an event killed it.
   */
  dead(atMs: number, replica: string, cause: string, killed: boolean): void {
    const spans = this.#lanes.get(replica);
    const last = spans?.at(-1);
    if (!spans || !last || last.role === "dead") return;
    this.#deaths.push({ replica, atMs, cause, killed });
    this.#setRole(spans, last, "dead", atMs);
  }

  /**
   * A client request was sent.
   *
   * @param mid Its MID.
   * @param dst The replica it went to, or undefined when none was alive.
   */
  requestSent(mid: string, dst: string | undefined): void {
    this.#sentTo.set(mid, dst);
  }

  /**
   * A reply was a duplicate: its MID was already answered ok.
   *
   * @param atMs When it arrived.
   * @param mid Its MID.
   */
  duplicateReply(atMs: number, mid: string): void {
    this.#marksFor(mid).duplicateAtMs.push(atMs);
  }

  /**
   * A reply was judged incorrect.
   *
   * @param atMs When it arrived.
   * @param client The client it was for.
   * @param mid Its MID, when it carried a string one.
   */
  incorrectReply(atMs: number, client: string, mid: string | undefined): void {
    if (mid !== undefined && this.#sentTo.has(mid)) this.#marksFor(mid).incorrect = true;
    else this.#strayIncorrect.push({ atMs, client });
  }

  /**
   * Closes every open span and joins in the requests.
   *
   * @param endedAtMs When the run ended.
   * @param records Every request of the run, with its first reply.
   * @returns The timeline.
   */
  finish(endedAtMs: number, records: readonly RequestRecord[]): Timeline {
    for (const spans of this.#lanes.values()) {
      const last = spans.at(-1);
      if (last) last.toMs = endedAtMs;
    }
    for (const partition of this.#partitions) {
      partition.toMs = Math.min(partition.toMs, endedAtMs);
    }
    return {
      replicaIds: [...this.#replicaIds],
      plannedMs: this.#plannedMs,
      endedAtMs,
      lanes: this.#replicaIds.map((replica) => ({
        replica,
        spans: (this.#lanes.get(replica) ?? []).map((span) => ({ ...span })),
      })),
      partitions: this.#partitions.map((partition) => ({ ...partition })),
      events: [...this.#events],
      deaths: [...this.#deaths],
      requests: records.map((record) => this.#point(record)),
      strayIncorrect: [...this.#strayIncorrect],
      sentPerBucket: [...this.#sent],
      droppedPerBucket: [...this.#dropped],
    };
  }

  #setRole(spans: RoleSpan[], last: RoleSpan, role: Role, atMs: number): void {
    if (last.role === role) return;
    if (last.fromMs >= atMs) {
      // A role that lasted no time is replaced, so lanes hold no empty spans.
      last.role = role;
      const before = spans.at(-2);
      if (before?.role === role) spans.pop();
      return;
    }
    last.toMs = atMs;
    spans.push({ role, fromMs: atMs, toMs: atMs });
  }

  #marksFor(mid: string): ReplyMarks {
    let marks = this.#marks.get(mid);
    if (!marks) {
      marks = { duplicateAtMs: [], incorrect: false };
      this.#marks.set(mid, marks);
    }
    return marks;
  }

  #point(record: RequestRecord): RequestPoint {
    const reply = record.reply;
    const outcome: Outcome = reply === undefined
      ? "unanswered"
      : reply.type === "ok"
      ? (record.kind === "get" ? "get_ok" : "put_ok")
      : reply.type;
    const marks = this.#marks.get(record.mid);
    return {
      mid: record.mid,
      kind: record.kind,
      sentTo: this.#sentTo.get(record.mid),
      sentAtMs: record.invokedAtMs,
      outcome,
      latencyMs: reply === undefined ? undefined : reply.atMs - record.invokedAtMs,
      duplicateLatenciesMs: (marks?.duplicateAtMs ?? []).map((atMs) => atMs - record.invokedAtMs),
      incorrect: marks?.incorrect ?? false,
    };
  }
}
