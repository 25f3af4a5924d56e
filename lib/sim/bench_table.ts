/**
 * The arithmetic and tables of `deno task bench`: per-run samples, medians over runs,
 * tiers of the medians, bonus counts, totals, the floor ratios, and their Markdown and
 * JSON forms. Pure: no I/O, no clock, so it is tested on synthetic samples.
 *
 * @module
 */

import type { Metric, Tiers } from "./config.ts";
import { METRICS } from "./config.ts";
import { type CheckResult, failedChecks, type Tier, TIER_NAMES, tierOf } from "./score.ts";
import type { RunResult } from "./simulation.ts";
import { failures } from "./stats.ts";

/** What the bench keeps of one run. Latencies in seconds; `null` where no reply of that kind. */
export interface RunSample {
  seed: number;
  /** Our verdict: the course's seven checks and a linearizable history. */
  passed: boolean;
  linearizable: boolean;
  totalMsgs: number;
  /** Fail replies plus unanswered requests (the graded metric). */
  failures: number;
  duplicates: number;
  /** The course's median over every reply. */
  medianLatencyS: number;
  /** p50 of puts answered ok. */
  putOkP50S: number | null;
  /** p50 of gets answered ok. */
  getOkP50S: number | null;
  /** Puts answered ok. */
  putsOk: number;
  /** Messages between replicas by the mechanism that sent them. */
  byMechanism: MessagesByMechanism;
  /** Processor seconds the replicas used (`RunResult.replicaCpuS`); null where not read. */
  replicaCpuS: number | null;
}

/**
 * What sends the messages between replicas, so a message budget can be read per
 * mechanism: `appends` carry entries, `acks` are every answer to an AppendEntries
 * (heartbeats' answers and second copies included: the simulator sees one type),
 * `heartbeats` are AppendEntries without entries that ask for answers, `notices`
 * those that ask for none, `elections` are votes and pre-votes with their answers,
 * and `other` is every type this replica does not send, e.g. a peer replica's own.
 */
export const MECHANISMS = [
  "appends",
  "acks",
  "heartbeats",
  "notices",
  "elections",
  "other",
] as const;

/** One of {@linkcode MECHANISMS}. */
export type Mechanism = typeof MECHANISMS[number];

/** A count of messages for each mechanism. */
export type MessagesByMechanism = Record<Mechanism, number>;

/** Message kinds as the simulator counts them (`messageKind`), by mechanism. */
const MECHANISM_OF_KIND: Readonly<Record<string, Mechanism>> = {
  append_entries: "appends",
  append_entries_reply: "acks",
  reply_copy: "acks",
  heartbeat: "heartbeats",
  commit_notice: "notices",
  request_vote: "elections",
  request_vote_reply: "elections",
  pre_vote: "elections",
  pre_vote_reply: "elections",
};

/**
 * Adds up a run's messages by kind into mechanisms.
 *
 * @param byKind Messages by kind, as in `RunResult.counters.messagesByKind`.
 * @returns Messages per mechanism, every mechanism present.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messagesByMechanism } from "./bench_table.ts";
 * const byMechanism = messagesByMechanism({ append_entries_reply: 5, reply_copy: 2, hello: 1 });
 * assert.equal(byMechanism.acks, 7);
 * assert.equal(byMechanism.other, 1);
 * assert.equal(byMechanism.appends, 0);
 * ```
 */
export function messagesByMechanism(
  byKind: Readonly<Record<string, number>>,
): MessagesByMechanism {
  const byMechanism = Object.fromEntries(
    MECHANISMS.map((mechanism) => [mechanism, 0]),
  ) as MessagesByMechanism;
  for (const [kind, messages] of Object.entries(byKind)) {
    byMechanism[MECHANISM_OF_KIND[kind] ?? "other"] += messages;
  }
  return byMechanism;
}

/**
 * Keeps what the bench reports of a run.
 *
 * @param result The run.
 * @returns The sample.
 */
export function sampleOf(result: RunResult): RunSample {
  const { getOk, putOk } = result.latencyByReply;
  return {
    seed: result.seed,
    passed: result.passed,
    linearizable: result.linearizability.linearizable,
    totalMsgs: result.counters.totalMsgs,
    failures: failures(result.counters),
    duplicates: result.counters.duplicates,
    medianLatencyS: result.latency.medianS,
    putOkP50S: putOk.count > 0 ? putOk.p50S : null,
    getOkP50S: getOk.count > 0 ? getOk.p50S : null,
    putsOk: putOk.count,
    byMechanism: messagesByMechanism(result.counters.messagesByKind),
    replicaCpuS: result.replicaCpuS ?? null,
  };
}

/**
 * Why a run failed our verdict: the course's error line of each failed check, and a
 * history that is not linearizable, so that a failure seen once in a bench can be told
 * from a known limit.
 *
 * @param result A run, or what of it says why it failed.
 * @returns The reasons, empty for a run that passed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failureReasons } from "./bench_table.ts";
 * assert.deepEqual(failureReasons({ checks: [], linearizability: { linearizable: true } }), []);
 * ```
 */
export function failureReasons(
  result: {
    readonly checks: readonly Pick<CheckResult, "passed" | "message">[];
    readonly linearizability: { readonly linearizable: boolean };
  },
): string[] {
  const reasons = failedChecks(result.checks).map((check) => check.message);
  if (!result.linearizability.linearizable) reasons.push("history not linearizable");
  return reasons;
}

/**
 * The median of a list: the middle value, or the mean of the two middle ones for an even
 * count (unlike the course's `sorted[n/2]`, so 2 runs give their midpoint, not the worse).
 * Nulls (no value in that run) are left out.
 *
 * @param values The values, any order.
 * @returns The median, or null when no value is left.
 * @example
 * ```ts
 * import { median } from "./bench_table.ts";
 * if (median([3, 1, 2]) !== 2 || median([1, 4]) !== 2.5 || median([null]) !== null) {
 *   throw new Error();
 * }
 * ```
 */
export function median(values: readonly (number | null)[]): number | null {
  const sorted = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] as number) + upper) / 2;
}

/** A count for each tier, indexed by {@linkcode Tier}. */
export type TierCounts = [number, number, number, number];

/** The value of a metric in one run (latency in seconds). */
function valueOf(sample: RunSample, metric: Metric): number {
  switch (metric) {
    case "total_msgs":
      return sample.totalMsgs;
    case "failures":
      return sample.failures;
    case "duplicates":
      return sample.duplicates;
    case "median_latency":
      return sample.medianLatencyS;
  }
}

/** One standard config's runs, summarized. */
export interface ConfigSummary {
  /** The config's name, e.g. `simple-1`. */
  config: string;
  runs: number;
  /** Runs with our verdict PASS. */
  passed: number;
  /** Runs with a linearizable history. */
  linearizable: number;
  /** Each graded metric's median over runs (latency in seconds). */
  medians: Record<Metric, number>;
  /** Duplicates summed over every run: rare ones vanish in the median. */
  duplicatesInAllRuns: number;
  /** The tier of each median, by the config's thresholds. */
  tiers: Record<Metric, Tier>;
  /**
   * Per metric, how many runs fell in each tier by their own value: a median in Bonus
   * can hide the runs that missed it, which decide what one run of the grader earns.
   */
  tierRuns: Record<Metric, TierCounts>;
  /**
   * Runs that passed with every metric at Full credit or better: a run the
   * course fails earns no tier.
   */
  runsFullOrBetter: number;
  /** Whether each metric's bonus can be reached at all (a threshold of 0 cannot). */
  bonusReachable: Record<Metric, boolean>;
  putOkP50S: number | null;
  getOkP50S: number | null;
  /** Median over runs of the puts answered ok. */
  putsOk: number;
  /**
   * Per mechanism, the median over runs of its messages per put answered ok (each run's
   * own ratio), and of all messages per put; null when no run answered a put.
   */
  perPutOk: Record<Mechanism | "all", number> | null;
  /** Median over runs of the replicas' processor seconds; null where none was read. */
  replicaCpuS: number | null;
  seeds: number[];
}

/**
 * Summarizes the runs of one config: medians of the metrics, and the tier of each median.
 *
 * @param config The config's name.
 * @param benchmarks The config's thresholds.
 * @param samples One sample per run, at least one.
 * @returns The summary.
 * @example
 * ```ts
 * import { messagesByMechanism, summarizeConfig } from "./bench_table.ts";
 * const tiers = [1, 2, 3] as const;
 * const run = { seed: 1, passed: true, linearizable: true, totalMsgs: 1, failures: 0,
 *   duplicates: 0, medianLatencyS: 1, putOkP50S: 1, getOkP50S: null, putsOk: 1,
 *   byMechanism: messagesByMechanism({ append_entries: 1 }), replicaCpuS: null };
 * const summary = summarizeConfig("x", { total_msgs: tiers, failures: tiers,
 *   duplicates: tiers, median_latency: tiers }, [run]);
 * if (summary.tiers.total_msgs !== 1 || summary.tiers.failures !== 0) throw new Error();
 * if (summary.perPutOk?.appends !== 1) throw new Error();
 * ```
 */
export function summarizeConfig(
  config: string,
  benchmarks: Record<Metric, Tiers>,
  samples: readonly RunSample[],
): ConfigSummary {
  if (samples.length === 0) throw new RangeError(`${config}: no runs to summarize`);
  const perMetric = <T>(value: (metric: Metric) => T): Record<Metric, T> =>
    Object.fromEntries(METRICS.map((metric) => [metric, value(metric)])) as Record<Metric, T>;
  const medians = perMetric((metric) =>
    median(samples.map((sample) => valueOf(sample, metric))) as number
  );
  const tierOfRun = (sample: RunSample, metric: Metric) =>
    tierOf(valueOf(sample, metric), benchmarks[metric]);
  const tierRuns = perMetric((metric) => {
    const counts: TierCounts = [0, 0, 0, 0];
    for (const sample of samples) counts[tierOfRun(sample, metric)]++;
    return counts;
  });
  const fullOrBetter = (sample: RunSample) =>
    sample.passed && METRICS.every((metric) => tierOfRun(sample, metric) <= 1);
  return {
    config,
    runs: samples.length,
    passed: samples.filter((sample) => sample.passed).length,
    linearizable: samples.filter((sample) => sample.linearizable).length,
    medians,
    duplicatesInAllRuns: samples.reduce((sum, sample) => sum + sample.duplicates, 0),
    tiers: perMetric((metric) => tierOf(medians[metric], benchmarks[metric])),
    tierRuns,
    runsFullOrBetter: samples.filter(fullOrBetter).length,
    // Every metric is at least 0 and the comparison is strict, so only a positive bonus
    // threshold can be beaten (PROTOCOL.md section 5).
    bonusReachable: perMetric((metric) => benchmarks[metric][0] > 0),
    putOkP50S: median(samples.map((sample) => sample.putOkP50S)),
    getOkP50S: median(samples.map((sample) => sample.getOkP50S)),
    putsOk: median(samples.map((sample) => sample.putsOk)) as number,
    perPutOk: perPutOk(samples),
    replicaCpuS: median(samples.map((sample) => sample.replicaCpuS)),
    seeds: samples.map((sample) => sample.seed),
  };
}

function perPutOk(samples: readonly RunSample[]): Record<Mechanism | "all", number> | null {
  const answered = samples.filter((sample) => sample.putsOk > 0);
  if (answered.length === 0) return null;
  const of = (messages: (sample: RunSample) => number): number =>
    median(answered.map((sample) => messages(sample) / sample.putsOk)) as number;
  const perMechanism = MECHANISMS.map((mechanism) =>
    [mechanism, of((sample) => sample.byMechanism[mechanism])] as const
  );
  return {
    ...Object.fromEntries(perMechanism) as MessagesByMechanism,
    all: of((sample) => sample.totalMsgs),
  };
}

/** Totals over the summarized configs. */
export interface BenchTotals {
  runs: number;
  passed: number;
  linearizable: number;
  /** Sums of the per-config medians. */
  totalMsgs: number;
  failures: number;
  duplicates: number;
  /** How many metric medians fell in each tier, indexed by {@linkcode Tier}. */
  tierCounts: [number, number, number, number];
  /** Bonus tiers reached, out of `bonusReachable`. */
  bonusReached: number;
  bonusReachable: number;
}

/**
 * Adds up the configs: runs, verdicts, the medians of the count metrics, the tiers, and
 * the bonus tiers reached out of those reachable (39 for the 17 standard configs).
 *
 * @param summaries One per config.
 * @returns The totals.
 */
export function benchTotals(summaries: readonly ConfigSummary[]): BenchTotals {
  const totals: BenchTotals = {
    runs: 0,
    passed: 0,
    linearizable: 0,
    totalMsgs: 0,
    failures: 0,
    duplicates: 0,
    tierCounts: [0, 0, 0, 0],
    bonusReached: 0,
    bonusReachable: 0,
  };
  for (const summary of summaries) {
    totals.runs += summary.runs;
    totals.passed += summary.passed;
    totals.linearizable += summary.linearizable;
    totals.totalMsgs += summary.medians.total_msgs;
    totals.failures += summary.medians.failures;
    totals.duplicates += summary.medians.duplicates;
    for (const metric of METRICS) {
      totals.tierCounts[summary.tiers[metric]]++;
      if (summary.bonusReachable[metric]) totals.bonusReachable++;
      if (summary.tiers[metric] === 0) totals.bonusReached++;
    }
  }
  return totals;
}

/** One alternating round on one config: the floor and ours with the same seed. */
export interface FloorRound {
  floor: RunSample;
  ours: RunSample;
}

/** One reply kind's p50 for the floor and ours, and their ratio. */
export interface FloorRatio {
  /** Median over rounds of the floor's p50, in seconds. */
  floorP50S: number | null;
  /** Median over rounds of our p50, in seconds. */
  oursP50S: number | null;
  /** Median over rounds of ours/floor; each round compares runs with one seed. */
  ratio: number | null;
}

/** The processor time the floor's replicas and ours used, and their ratio. */
export interface FloorCpu {
  /** Median over rounds of the floor's replicas' processor seconds. */
  floorS: number | null;
  /** Median over rounds of our replicas' processor seconds. */
  oursS: number | null;
  /** Median over rounds of ours/floor. */
  ratio: number | null;
}

/** The floor comparison on one config. */
export interface FloorSummary {
  config: string;
  rounds: number;
  /** Rounds whose run of ours passed (our verdict). */
  oursPassed: number;
  putOk: FloorRatio;
  getOk: FloorRatio;
  replicaCpu: FloorCpu;
  seeds: number[];
}

/**
 * Ours over the floor; null when either has no value or the floor's is 0.
 *
 * @param oursS Our latency.
 * @param floorS The floor's latency.
 * @returns The ratio, or null.
 * @example
 * ```ts
 * import { ratioOf } from "./bench_table.ts";
 * if (ratioOf(3, 2) !== 1.5 || ratioOf(3, null) !== null) throw new Error();
 * ```
 */
export function ratioOf(oursS: number | null, floorS: number | null): number | null {
  if (oursS === null || floorS === null || floorS === 0) return null;
  return oursS / floorS;
}

/**
 * Summarizes the alternating rounds of one config. The ratio is the median of the
 * per-round ratios, not the ratio of the medians, so each ratio compares two runs made
 * back to back with the same seed, on the machine as it was at that moment.
 *
 * @param config The config's name.
 * @param rounds The rounds, at least one.
 * @returns The summary.
 */
export function summarizeFloor(config: string, rounds: readonly FloorRound[]): FloorSummary {
  if (rounds.length === 0) throw new RangeError(`${config}: no floor rounds to summarize`);
  const compare = (pick: (sample: RunSample) => number | null) => ({
    floor: median(rounds.map((round) => pick(round.floor))),
    ours: median(rounds.map((round) => pick(round.ours))),
    ratio: median(rounds.map((round) => ratioOf(pick(round.ours), pick(round.floor)))),
  });
  const p50 = (pick: (sample: RunSample) => number | null): FloorRatio => {
    const { floor, ours, ratio } = compare(pick);
    return { floorP50S: floor, oursP50S: ours, ratio };
  };
  const cpu = compare((sample) => sample.replicaCpuS);
  return {
    config,
    rounds: rounds.length,
    oursPassed: rounds.filter((round) => round.ours.passed).length,
    putOk: p50((sample) => sample.putOkP50S),
    getOk: p50((sample) => sample.getOkP50S),
    replicaCpu: { floorS: cpu.floor, oursS: cpu.ours, ratio: cpu.ratio },
    seeds: rounds.map((round) => round.ours.seed),
  };
}

/**
 * A Markdown table with every column padded to its widest cell, as `deno fmt` lays tables
 * out, so the output can be pasted into BENCHMARKS.md unchanged.
 *
 * @param header The column titles.
 * @param rows The cells, one array per row.
 * @returns The lines.
 * @example
 * ```ts
 * import { markdownTable } from "./bench_table.ts";
 * const lines = markdownTable(["a", "bb"], [["ccc", "d"]]);
 * if (lines[1] !== "| --- | -- |" || lines[2] !== "| ccc | d  |") throw new Error();
 * ```
 */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length))
  );
  const line = (cells: readonly string[]) =>
    `| ${widths.map((width, i) => (cells[i] ?? "").padEnd(width)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)];
}

const NONE = "–";

/**
 * Seconds as milliseconds with two decimals, or a dash for no value.
 *
 * @param seconds The latency.
 * @returns The text, without a unit.
 * @example
 * ```ts
 * import { msText } from "./bench_table.ts";
 * if (msText(0.00258) !== "2.58" || msText(null) !== "–") throw new Error();
 * ```
 */
export function msText(seconds: number | null): string {
  return seconds === null ? NONE : (seconds * 1000).toFixed(2);
}

/** Seconds with two decimals, or a dash for none. */
function secondsText(seconds: number | null): string {
  return seconds === null ? NONE : seconds.toFixed(2);
}

/** A count, or the midpoint of two counts (a median over an even number of runs). */
function count(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function tierName(tier: Tier): string {
  return TIER_NAMES[tier].split(" ")[0] as string;
}

/**
 * The per-config table: verdict counts, the four metrics' medians with their tiers, the
 * p50 of puts and gets answered ok, the replicas' processor seconds, and a totals row. The
 * processor seconds' column is left out when no run read them (the virtual clock's runs,
 * or a system without `/proc`), rather than printed as a column of dashes.
 *
 * @param summaries One per config, in the order to print.
 * @returns The Markdown lines.
 */
export function configTable(summaries: readonly ConfigSummary[]): string[] {
  const totals = benchTotals(summaries);
  const withCpu = summaries.some((summary) => summary.replicaCpuS !== null);
  const rows = summaries.map((summary) => {
    const graded = (metric: Metric, text: string) => `${text} (${tierName(summary.tiers[metric])})`;
    return [
      summary.config,
      `${summary.passed}/${summary.runs}`,
      `${summary.linearizable}/${summary.runs}`,
      graded("total_msgs", count(summary.medians.total_msgs)),
      graded("failures", count(summary.medians.failures)),
      graded("duplicates", count(summary.medians.duplicates)),
      graded("median_latency", msText(summary.medians.median_latency)),
      msText(summary.putOkP50S),
      msText(summary.getOkP50S),
      ...(withCpu ? [secondsText(summary.replicaCpuS)] : []),
    ];
  });
  rows.push([
    "total",
    `${totals.passed}/${totals.runs}`,
    `${totals.linearizable}/${totals.runs}`,
    count(totals.totalMsgs),
    count(totals.failures),
    count(totals.duplicates),
    NONE,
    NONE,
    NONE,
    ...(withCpu ? [NONE] : []),
  ]);
  return markdownTable([
    "config",
    "pass",
    "linearizable",
    "messages",
    "failures",
    "duplicates",
    "median ms",
    "put ok p50 ms",
    "get ok p50 ms",
    ...(withCpu ? ["replica CPU s"] : []),
  ], rows);
}

/**
 * The line under the config table: bonus tiers reached and how the tiers fell.
 *
 * @param summaries One per config.
 * @returns The line.
 * @example
 * ```ts
 * import { tiersLine } from "./bench_table.ts";
 * if (!tiersLine([]).startsWith("Bonus tiers: 0 of 0 reachable.")) throw new Error();
 * ```
 */
export function tiersLine(summaries: readonly ConfigSummary[]): string {
  const totals = benchTotals(summaries);
  const [bonus, full, partial, none] = totals.tierCounts;
  return `Bonus tiers: ${totals.bonusReached} of ${totals.bonusReachable} reachable. ` +
    `Tiers: ${bonus} Bonus, ${full} Full, ${partial} Partial, ${none} No credit.`;
}

/**
 * Every duplicate of every run, by config: a config's median hides a duplicate that
 * comes once in twenty runs, which many runs of the virtual clock can count.
 *
 * @param summaries One per config, in the order to print.
 * @returns The line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { duplicatesLine } from "./bench_table.ts";
 * assert.equal(duplicatesLine([]), "Duplicates in all runs: none.");
 * ```
 */
export function duplicatesLine(summaries: readonly ConfigSummary[]): string {
  const some = summaries.filter((summary) => summary.duplicatesInAllRuns > 0);
  const total = some.reduce((sum, summary) => sum + summary.duplicatesInAllRuns, 0);
  if (total === 0) return "Duplicates in all runs: none.";
  const parts = some.map((summary) => `${summary.config} ${summary.duplicatesInAllRuns}`);
  return `Duplicates in all runs: ${total} (${parts.join(", ")}).`;
}

/**
 * How the runs fell, tier by tier: per config and metric, the runs in each tier by their
 * own value (tiers no run fell in left out), and the runs with every metric at Full
 * credit or better. The config table grades medians; this says how often one run, which
 * is what the course grades, earns a bonus or falls short.
 *
 * @param summaries One per config, in the order to print.
 * @returns The Markdown lines.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type TierCounts, tierRunsTable } from "./bench_table.ts";
 * const full: TierCounts = [0, 10, 0, 0];
 * const [, , row] = tierRunsTable([{ config: "unreliable-3", runs: 10, runsFullOrBetter: 10,
 *   tierRuns: { total_msgs: [9, 1, 0, 0], failures: full, duplicates: full, median_latency: full },
 * }]);
 * assert.ok(row?.startsWith("| unreliable-3 | 10   | 9 Bonus, 1 Full | 10 Full  |"));
 * ```
 */
export function tierRunsTable(
  summaries: readonly Pick<ConfigSummary, "config" | "runs" | "tierRuns" | "runsFullOrBetter">[],
): string[] {
  // "No credit" in full: "1 No" would read as a count.
  const name = (tier: Tier) => tier === 3 ? TIER_NAMES[tier] : tierName(tier);
  const cell = (counts: Readonly<TierCounts>) =>
    counts.flatMap((runs, tier) => runs > 0 ? [`${runs} ${name(tier as Tier)}`] : []).join(", ");
  const rows = summaries.map((summary) => [
    summary.config,
    String(summary.runs),
    ...METRICS.map((metric) => cell(summary.tierRuns[metric])),
    `${summary.runsFullOrBetter}/${summary.runs}`,
  ]);
  return markdownTable(
    [
      "config",
      "runs",
      "messages",
      "failures",
      "duplicates",
      "median",
      "passed, all Full or better",
    ],
    rows,
  );
}

/**
 * The message budget per put: per config, the median puts answered ok and, per
 * mechanism, the median messages per put answered ok, with two decimals.
 *
 * @param summaries One per config, in the order to print.
 * @returns The Markdown lines.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mechanismTable } from "./bench_table.ts";
 * assert.equal(mechanismTable([]).length, 2);
 * ```
 */
export function mechanismTable(summaries: readonly ConfigSummary[]): string[] {
  const rows = summaries.map((summary) => {
    const perPut = summary.perPutOk;
    const cells = [...MECHANISMS, "all" as const].map((mechanism) =>
      perPut === null ? NONE : perPut[mechanism].toFixed(2)
    );
    return [summary.config, count(summary.putsOk), ...cells];
  });
  return markdownTable(["config", "puts ok", ...MECHANISMS, "all"], rows);
}

/**
 * The floor table: per config, the floor's and our p50 of puts and of gets answered ok,
 * and the processor time the replicas used, each with the ratio ours/floor.
 *
 * @param floors One per config.
 * @returns The Markdown lines.
 */
export function floorTable(floors: readonly FloorSummary[]): string[] {
  const rows = floors.flatMap((floor) => {
    const row = (measure: string, floorText: string, oursText: string, ratio: number | null) => [
      floor.config,
      measure,
      `${floor.oursPassed}/${floor.rounds}`,
      floorText,
      oursText,
      ratio === null ? NONE : `${ratio.toFixed(2)}x`,
    ];
    const { putOk, getOk, replicaCpu: cpu } = floor;
    return [
      row("put ok p50 ms", msText(putOk.floorP50S), msText(putOk.oursP50S), putOk.ratio),
      row("get ok p50 ms", msText(getOk.floorP50S), msText(getOk.oursP50S), getOk.ratio),
      row("replica CPU s", secondsText(cpu.floorS), secondsText(cpu.oursS), cpu.ratio),
    ];
  });
  return markdownTable(["config", "measure", "ours pass", "floor", "ours", "ours/floor"], rows);
}

/**
 * The `--json` report: every summary, the totals, and the floor comparison, with snake_case
 * keys as in `deno task sim --json`. Latencies in seconds.
 *
 * @param summaries One per config.
 * @param floors One per floor config (empty with `--skip-floor`).
 * @returns A JSON-ready object.
 */
export function benchJson(
  summaries: readonly ConfigSummary[],
  floors: readonly FloorSummary[],
): Record<string, unknown> {
  const totals = benchTotals(summaries);
  const ratio = (r: FloorRatio) => ({
    floor_p50: r.floorP50S,
    ours_p50: r.oursP50S,
    ratio: r.ratio,
  });
  return {
    passed: totals.passed === totals.runs &&
      floors.every((floor) => floor.oursPassed === floor.rounds),
    configs: summaries.map((summary) => ({
      config: summary.config,
      runs: summary.runs,
      passed: summary.passed,
      linearizable: summary.linearizable,
      seeds: summary.seeds,
      medians: summary.medians,
      duplicates_in_all_runs: summary.duplicatesInAllRuns,
      tiers: summary.tiers,
      tier_runs: summary.tierRuns,
      runs_full_or_better: summary.runsFullOrBetter,
      put_ok_p50: summary.putOkP50S,
      get_ok_p50: summary.getOkP50S,
      puts_ok: summary.putsOk,
      messages_per_put_ok: summary.perPutOk,
      replica_cpu_s: summary.replicaCpuS,
    })),
    totals: {
      runs: totals.runs,
      passed: totals.passed,
      linearizable: totals.linearizable,
      total_msgs: totals.totalMsgs,
      failures: totals.failures,
      duplicates: totals.duplicates,
      tier_counts: totals.tierCounts,
      bonus_reached: totals.bonusReached,
      bonus_reachable: totals.bonusReachable,
    },
    floor: floors.map((floor) => ({
      config: floor.config,
      rounds: floor.rounds,
      ours_passed: floor.oursPassed,
      seeds: floor.seeds,
      put_ok: ratio(floor.putOk),
      get_ok: ratio(floor.getOk),
      replica_cpu: {
        floor_s: floor.replicaCpu.floorS,
        ours_s: floor.replicaCpu.oursS,
        ratio: floor.replicaCpu.ratio,
      },
    })),
  };
}
