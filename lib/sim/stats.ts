/**
 * The run's counters (PROTOCOL.md section 5) and latency summaries.
 *
 * @module
 */

/** Every counter the course grader keeps, under its names. */
export interface Counters {
  /** Counted replica-to-replica messages (a broadcast counts N-1). */
  totalMsgs: number;
  /** Counted messages dropped or cut by a partition. */
  totalDrops: number;
  /** Request events that were to be gets. */
  generatedGet: number;
  /** Request events that were to be puts. */
  generatedPut: number;
  /** Get events whose client had no key yet (a put was sent instead). */
  failedToGenerateGet: number;
  /** Get requests sent, retries included. */
  totalGet: number;
  /** Put requests sent, retries included. */
  totalPut: number;
  /** `fail` replies to gets. */
  failedGet: number;
  /** `fail` replies to puts. */
  failedPut: number;
  /** Gets still unanswered at the end. */
  unansweredGet: number;
  /** Puts still unanswered at the end. */
  unansweredPut: number;
  /** Incorrect messages and replies. */
  incorrect: number;
  /** Replies for a MID already completed with ok. */
  duplicates: number;
  /** `redirect` and `fail` replies (the course counts both here). */
  redirects: number;
  /** Seconds from a request's creation to its reply, for every reply. */
  latenciesS: number[];
  /** Replicas that stopped being alive without being killed. */
  died: number;
  /** Replicas killed by events. */
  killed: number;
  /** Deliveries refused by a full socket (always 0 here: UDP sends never block). */
  blocked: number;
  /** Leaders seen, in order, without consecutive repeats. */
  leaders: string[];
  /**
   * Counted messages by kind: the message's `type`, with `heartbeat` for an
   * `append_entries` whose `entries` is empty, `commit_notice` for one that
   * also asks no follower to answer and `reply_copy` for the second copy of an
   * `append_entries_reply` (not something the course counts; it shows where a
   * replica's message budget goes).
   */
  messagesByKind: Record<string, number>;
}

/**
 * Creates zeroed counters.
 *
 * @returns The counters.
 */
export function createCounters(): Counters {
  return {
    totalMsgs: 0,
    totalDrops: 0,
    generatedGet: 0,
    generatedPut: 0,
    failedToGenerateGet: 0,
    totalGet: 0,
    totalPut: 0,
    failedGet: 0,
    failedPut: 0,
    unansweredGet: 0,
    unansweredPut: 0,
    incorrect: 0,
    duplicates: 0,
    redirects: 0,
    latenciesS: [],
    died: 0,
    killed: 0,
    blocked: 0,
    leaders: [],
    messagesByKind: {},
  };
}

/**
 * Appends a leader to the list unless it repeats the last one.
 *
 * @param counters The counters.
 * @param leader The leader id the latest message named.
 */
export function recordLeader(counters: Counters, leader: string): void {
  if (counters.leaders.at(-1) !== leader) counters.leaders.push(leader);
}

/** Fail replies plus unanswered requests: the graded `failures` metric. */
export function failures(counters: Counters): number {
  return counters.failedGet + counters.failedPut + counters.unansweredGet +
    counters.unansweredPut;
}

/** Latency figures in seconds. */
export interface LatencySummary {
  /** Number of latencies. */
  count: number;
  /** Mean; 0 with no latencies. */
  meanS: number;
  /** The course's median: `sorted[floor(n / 2)]`; 0 with no latencies. */
  medianS: number;
  /** Nearest-rank percentiles. */
  p50S: number;
  p90S: number;
  p99S: number;
  maxS: number;
}

/**
 * Summarizes latencies as the course does (mean, median) plus percentiles.
 *
 * @param latenciesS Latencies in seconds, any order.
 * @returns The summary.
 * @example
 * ```ts
 * import { summarizeLatencies } from "./stats.ts";
 * const summary = summarizeLatencies([4, 1, 3, 2]);
 * if (summary.medianS !== 3 || summary.p50S !== 2) throw new Error();
 * ```
 */
export function summarizeLatencies(latenciesS: readonly number[]): LatencySummary {
  const sorted = [...latenciesS].sort((a, b) => a - b);
  const count = sorted.length;
  if (count === 0) return { count, meanS: 0, medianS: 0, p50S: 0, p90S: 0, p99S: 0, maxS: 0 };
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count,
    meanS: sum / count,
    medianS: sorted[Math.floor(count / 2)] as number,
    p50S: percentile(sorted, 50),
    p90S: percentile(sorted, 90),
    p99S: percentile(sorted, 99),
    maxS: sorted[count - 1] as number,
  };
}

/** Latencies split by the kind of request and of reply. */
export interface LatencyByReply {
  /** Gets answered ok. */
  getOk: LatencySummary;
  /** Puts answered ok. */
  putOk: LatencySummary;
  /** Requests answered redirect or fail. */
  refused: LatencySummary;
}

/** The parts of a request record a latency split needs. */
export interface RepliedRequest {
  kind: "get" | "put";
  invokedAtMs: number;
  reply?: { type: "ok" | "fail" | "redirect"; atMs: number };
}

/**
 * Splits first-reply latencies by outcome: the course's single median mixes
 * lease reads, commits and redirects, so this shows which one moves it.
 *
 * @param records Requests with their first reply, if any.
 * @returns A summary per outcome, in seconds.
 * @example
 * ```ts
 * import { latencyByReply } from "./stats.ts";
 * const split = latencyByReply([{ kind: "put", invokedAtMs: 0, reply: { type: "ok", atMs: 3 } }]);
 * if (split.putOk.medianS !== 0.003 || split.getOk.count !== 0) throw new Error();
 * ```
 */
export function latencyByReply(records: readonly RepliedRequest[]): LatencyByReply {
  const split = { getOk: [] as number[], putOk: [] as number[], refused: [] as number[] };
  for (const { kind, invokedAtMs, reply } of records) {
    if (reply === undefined) continue;
    const bucket = reply.type !== "ok" ? split.refused : kind === "get" ? split.getOk : split.putOk;
    bucket.push((reply.atMs - invokedAtMs) / 1000);
  }
  return {
    getOk: summarizeLatencies(split.getOk),
    putOk: summarizeLatencies(split.putOk),
    refused: summarizeLatencies(split.refused),
  };
}

/**
 * The nearest-rank percentile: the smallest value with at least `p`% of values at or below it.
 *
 * @param sorted Values in ascending order, at least one.
 * @param p The percentile, in (0, 100].
 * @returns The value.
 */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}
