/**
 * Scoring (PROTOCOL.md section 5): the seven correctness checks and the four graded
 * metrics with their tiers, with the course grader's words.
 *
 * @module
 */

import { pyFloat, pyNumber } from "./_pyfmt.ts";
import type { Metric, SimConfig, Tiers } from "./config.ts";
import { type Counters, failures, summarizeLatencies } from "./stats.ts";

/** The seven correctness checks, in the course's order and under its names. */
export const CORRECTNESS_CHECKS = [
  "incorrect",
  "died",
  "no_state",
  "get_answered",
  "put_answered",
  "get_generated",
  "total_msgs",
] as const;

/** A correctness check's name. */
export type CorrectnessCheck = typeof CORRECTNESS_CHECKS[number];

/** One check's outcome. */
export interface CheckResult {
  check: CorrectnessCheck;
  passed: boolean;
  /** The course's error line (shown only when the check failed). */
  message: string;
}

/**
 * The checks that failed, in order.
 *
 * @param checks A run's check results.
 * @returns Those not passed.
 * @example
 * ```ts
 * import { failedChecks } from "./score.ts";
 * const checks = [
 *   { check: "died" as const, passed: true, message: "Error: >0 replicas died unexpectedly" },
 *   { check: "incorrect" as const, passed: false, message: "Error: >0 incorrect responses to get()" },
 * ];
 * if (failedChecks(checks).length !== 1) throw new Error("one check failed");
 * ```
 */
export function failedChecks<T extends Pick<CheckResult, "passed">>(checks: readonly T[]): T[] {
  return checks.filter((check) => !check.passed);
}

/**
 * Runs the seven correctness checks.
 *
 * @param counters The final counters (after the clients were finalized).
 * @param config The config.
 * @param storedKeys Keys with an acknowledged put, over all clients.
 * @returns One result per check, in order.
 */
export function correctnessChecks(
  counters: Counters,
  config: SimConfig,
  storedKeys: number,
): CheckResult[] {
  const fixed = (fraction: number): string => fraction.toFixed(2);
  const trafficFloor = config.requests * config.replicas * (1 - config.mix) *
    (1 - config.maxAppendsBatchedFraction);
  const results: [CorrectnessCheck, boolean, string][] = [
    ["incorrect", counters.incorrect === 0, "Error: >0 incorrect responses to get()"],
    ["died", counters.died === 0, "Error: >0 replicas died unexpectedly"],
    ["no_state", storedKeys > 0, "Error: No state stored in replicas"],
    [
      "get_answered",
      counters.unansweredGet <= counters.generatedGet * config.maxGetFailFraction,
      `Error: insufficient get() requests answered (${counters.unansweredGet} > ${counters.generatedGet} * ${
        fixed(config.maxGetFailFraction)
      })`,
    ],
    [
      "put_answered",
      counters.unansweredPut <= counters.generatedPut * config.maxPutFailFraction,
      `Error: insufficient put() requests answered (${counters.unansweredPut} > ${counters.generatedPut} * ${
        fixed(config.maxPutFailFraction)
      })`,
    ],
    [
      "get_generated",
      counters.failedToGenerateGet <= counters.generatedGet * config.maxGetGenerationFailFraction,
      `Error: insufficient get() requests were generated because insufficient put()s were accepted (${counters.failedToGenerateGet} > ${counters.generatedGet} * ${
        fixed(config.maxGetGenerationFailFraction)
      })`,
    ],
    [
      "total_msgs",
      counters.totalMsgs >= trafficFloor,
      "Error: too few messages between the replicas",
    ],
  ];
  return results.map(([check, passed, message]) => ({ check, passed, message }));
}

/** A tier: 0 Bonus, 1 Full credit, 2 Partial credit, 3 No credit (the course's numbers). */
export type Tier = 0 | 1 | 2 | 3;

/** Tier names, indexed by {@linkcode Tier}. */
export const TIER_NAMES = ["Bonus", "Full credit", "Partial credit", "No credit"] as const;

/**
 * The tier of a value: strictly below a threshold earns it, so a threshold of 0 can
 * never be met by a count.
 *
 * @param value The metric's value.
 * @param tiers `[bonus, full, partial]`.
 * @returns The tier.
 * @example
 * ```ts
 * import { tierOf } from "./score.ts";
 * if (tierOf(0, [0, 2, 5]) !== 1) throw new Error("0 < 0 is false: Full credit");
 * ```
 */
export function tierOf(value: number, tiers: Tiers): Tier {
  if (value < tiers[0]) return 0;
  if (value < tiers[1]) return 1;
  if (value < tiers[2]) return 2;
  return 3;
}

/** The course's name for each metric. */
export const METRIC_TITLES: Record<Metric, string> = {
  total_msgs: "Total Messages Between Replicas",
  failures: "Total Failures and Unanswered Requests",
  duplicates: "Duplicate Responses to Clients",
  median_latency: "Median Response Latency to Clients",
};

/** One graded metric. */
export interface MetricResult {
  metric: Metric;
  value: number;
  tier: Tier;
  /** The course's line, e.g. `Duplicate Responses to Clients: 0 < 2, Full credit`. */
  line: string;
}

/**
 * The four metric values of a run.
 *
 * @param counters The final counters.
 * @returns Each metric's value (latency in seconds).
 */
export function metricValues(counters: Counters): Record<Metric, number> {
  return {
    total_msgs: counters.totalMsgs,
    failures: failures(counters),
    duplicates: counters.duplicates,
    median_latency: summarizeLatencies(counters.latenciesS).medianS,
  };
}

/**
 * Grades the four metrics.
 *
 * @param values Each metric's value.
 * @param benchmarks The config's thresholds.
 * @returns One result per metric, in the course's order.
 */
export function gradeMetrics(
  values: Record<Metric, number>,
  benchmarks: Record<Metric, Tiers>,
): MetricResult[] {
  return (Object.keys(METRIC_TITLES) as Metric[]).map((metric) => {
    const value = values[metric];
    const tiers = benchmarks[metric];
    const tier = tierOf(value, tiers);
    const shown = metric === "median_latency" ? pyFloat(value) : String(value);
    const title = METRIC_TITLES[metric];
    const line = tier === 0
      ? `${title}: ${shown} < ${pyNumber(tiers[0])}, Bonus!`
      : tier === 1
      ? `${title}: ${shown} < ${pyNumber(tiers[1])}, Full credit`
      : tier === 2
      ? `${title}: ${shown} < ${pyNumber(tiers[2])}, Partial credit, needs improvement`
      : `${title}: ${shown} >= ${pyNumber(tiers[2])}, No credit`;
    return { metric, value, tier, line };
  });
}
