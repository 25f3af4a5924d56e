/**
 * A run's text report in the course grader's words (stats block, correctness checks,
 * performance tiers), our extras (seed, percentiles, linearizability), the summary
 * table of `sim all`, and the `--json` report.
 *
 * @module
 */

import { pyFloat } from "./_pyfmt.ts";
import type { Metric } from "./config.ts";
import type { RunResult } from "./simulation.ts";
import { failures } from "./stats.ts";
import { failedChecks, TIER_NAMES } from "./score.ts";
import { BURST_WINDOW_MS, RECEIVE_BUFFER_BYTES } from "./socket_model.ts";
import type { Operation } from "../check/mod.ts";

/** Violations printed in full; `--json` lists every one. */
const MAX_VIOLATIONS_SHOWN = 5;

/** Styling of headings and verdict lines: ANSI colors on a terminal, plain otherwise. */
export interface Style {
  bold(text: string): string;
  good(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  win(text: string): string;
}

/**
 * The course's colors (bold underline headings, green/red/yellow/blue lines), or none.
 *
 * @param color Whether to color.
 * @returns The style.
 */
export function makeStyle(color: boolean): Style {
  const wrap = (code: string) => (text: string) => color ? `${code}${text}\x1b[0m` : text;
  return {
    bold: wrap("\x1b[1m\x1b[4m"),
    good: wrap("\x1b[92m"),
    bad: wrap("\x1b[91m"),
    warn: wrap("\x1b[93m"),
    win: wrap("\x1b[94m"),
  };
}

/**
 * The course's statistics block, line for line.
 *
 * @param result The run.
 * @returns The lines.
 */
export function statsLines(result: RunResult): string[] {
  const c = result.counters;
  const lines = [
    `Leaders: ${c.leaders.join(" ")}`,
    `Replicas that died/were killed: ${c.died}/${c.killed}`,
    `Total messages sent: ${c.totalMsgs}`,
    `Total messages dropped: ${c.totalDrops}`,
    `Total messages blocked by full sockets: ${c.blocked}`,
    `Total client get()/put() requests: ${c.totalGet}/${c.totalPut}`,
    `Total duplicate responses: ${c.duplicates}`,
    `Total unanswered get()/put() requests: ${c.unansweredGet}/${c.unansweredPut}`,
    `Total redirects: ${c.redirects}`,
    `Total get()/put() failures: ${c.failedGet}/${c.failedPut}`,
    `Total get() with incorrect response: ${c.incorrect}`,
  ];
  if (result.latency.count > 0) {
    lines.push(
      `Mean/Median query latency: ${pyFloat(result.latency.meanS)}sec/${
        pyFloat(result.latency.medianS)
      }sec`,
    );
  }
  return lines;
}

/**
 * The course's correctness lines: each failed check's error, or the all-passed line.
 *
 * @param result The run.
 * @param style The style.
 * @returns The lines.
 */
export function correctnessLines(result: RunResult, style: Style): string[] {
  if (result.coursePassed) return [style.good("All correctness tests passed")];
  return failedChecks(result.checks).map((check) => style.bad(check.message));
}

/**
 * The course's four performance lines.
 *
 * @param result The run.
 * @param style The style.
 * @returns The lines.
 */
export function performanceLines(result: RunResult, style: Style): string[] {
  const paint = [style.win, style.good, style.warn, style.bad];
  return result.metrics.map((metric) => (paint[metric.tier] as (t: string) => string)(metric.line));
}

/**
 * Where the messages went, by kind, and per put answered ok.
 *
 * @param result A finished run.
 * @returns One line.
 */
export function messagesByKindLine(result: RunResult): string {
  const byKind = Object.entries(result.counters.messagesByKind).sort(([, a], [, b]) => b - a);
  const puts = result.latencyByReply.putOk.count;
  const perPut = (count: number) => puts === 0 ? "" : ` (${(count / puts).toFixed(2)}/put)`;
  const parts = byKind.map(([kind, count]) => `${kind} ${count}${perPut(count)}`);
  return `Messages by kind: ${parts.length === 0 ? "none" : parts.join(", ")}`;
}

/**
 * Our extras: seed, latency percentiles, the linearizability verdict with violations.
 *
 * @param result The run.
 * @returns The lines.
 */
export function extrasLines(result: RunResult): string[] {
  const ms = (seconds: number): string => (seconds * 1000).toFixed(2);
  const l = result.latency;
  const split = result.latencyByReply;
  const lines = [
    result.clock === "virtual"
      ? `Seed: ${result.seed}, on the virtual clock (latencies from a model of the machine, not measured)`
      : `Seed: ${result.seed}`,
    `Latency p50/p90/p99/max: ${ms(l.p50S)}/${ms(l.p90S)}/${ms(l.p99S)}/${
      ms(l.maxS)
    } ms (${l.count} replies)`,
    `Latency p50 by reply: get ok ${ms(split.getOk.p50S)} ms (${split.getOk.count}), put ok ${
      ms(split.putOk.p50S)
    } ms (${split.putOk.count}), redirect/fail ${
      ms(split.refused.p50S)
    } ms (${split.refused.count})`,
    messagesByKindLine(result),
    ...socketModelLines(result),
    ...replicaCpuLines(result),
  ];
  const report = result.linearizability;
  if (report.linearizable) {
    lines.push(`Linearizable: yes (${result.operationCount} operations checked)`);
    return lines;
  }
  lines.push(
    `Linearizable: NO (${report.violations.length} keys violated, ${report.undeterminedKeys.length} undetermined, ${result.operationCount} operations checked)`,
  );
  for (const violation of report.violations.slice(0, MAX_VIOLATIONS_SHOWN)) {
    lines.push(`  key ${violation.key}: ${violation.message}`);
    for (const operation of violation.operations) lines.push(`    ${describeOperation(operation)}`);
  }
  const hidden = report.violations.length - MAX_VIOLATIONS_SHOWN;
  if (hidden > 0) lines.push(`  ... and ${hidden} more keys (all listed by --json)`);
  for (const key of report.undeterminedKeys) {
    lines.push(`  key ${key}: undetermined (search budget used up)`);
  }
  return lines;
}

/**
 * The processor time the replicas used, which the course does not see: on a machine
 * with few cores, what one replica spends slows every process on a request's path. The
 * share of a core is "about": the seconds include starting and stopping the replicas,
 * which the run's length leaves out.
 *
 * @param result The run.
 * @returns The line, or none on the virtual clock.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replicaCpuLines } from "./report.ts";
 *
 * const live = { clock: "live", replicaCpuS: 7.4, timeline: { endedAtMs: 37_000 } } as const;
 * assert.deepEqual(replicaCpuLines(live), [
 *   "Replica CPU: 7.40 s, all replicas together (about 0.20 of a core over the 37.0 s run)",
 * ]);
 * assert.deepEqual(replicaCpuLines({ ...live, clock: "virtual" }), []);
 * ```
 */
export function replicaCpuLines(
  result: Pick<RunResult, "clock" | "replicaCpuS"> & {
    timeline: Pick<RunResult["timeline"], "endedAtMs">;
  },
): string[] {
  if (result.clock === "virtual") return [];
  const cpuS = result.replicaCpuS;
  if (cpuS === undefined) return ["Replica CPU: not readable here (Linux's /proc, via cat)"];
  const runS = result.timeline.endedAtMs / 1000;
  const cores = runS > 0
    ? ` (about ${(cpuS / runS).toFixed(2)} of a core over the ${runS.toFixed(1)} s run)`
    : "";
  return [`Replica CPU: ${cpuS.toFixed(2)} s, all replicas together${cores}`];
}

/**
 * Kernel drops, which the course never counts, so they get lines of their own: those the
 * socket model predicts at the grader's sockets and those that happened at the simulator's
 * own sockets (same buffer size) when it read too slowly; then the fullest modelled queue and
 * the largest burst.
 *
 * @param result The run.
 * @returns The lines.
 */
export function socketModelLines(result: RunResult): string[] {
  if (result.clock === "virtual") return [];
  const real = result.simulatorSocketDrops;
  const realText = real ? dropsText(Object.entries(real)) : "not readable here";
  const stats = result.socketStats;
  if (!stats) {
    return [`Socket model: off; kernel drops at the simulator's own sockets: ${realText}`];
  }
  const entries = Object.entries(stats);
  const lines = [
    `Kernel drops (not counted by the course): modelled at the grader's sockets ${
      dropsText(entries.map(([id, s]) => [id, s.drops]))
    }; at the simulator's own sockets ${realText}`,
  ];
  const fullest = maxBy(entries, (s) => s.peakQueuedBytes);
  const burst = maxBy(entries, (s) => s.burstBytes);
  if (fullest && burst) {
    lines.push(
      `Fullest modelled socket: ${fullest[0]}, ${fullest[1].peakQueuedDatagrams} datagrams, ${
        fullest[1].peakQueuedBytes
      } of ${RECEIVE_BUFFER_BYTES} bytes charged; largest burst in ${BURST_WINDOW_MS} ms: ${
        burst[0]
      }, ${burst[1].burstDatagrams} datagrams, ${burst[1].burstBytes} bytes`,
    );
  }
  return lines;
}

/** `12 (0003: 10, 0007: 2)`: the total, then each replica with drops. */
function dropsText(drops: [string, number][]): string {
  const total = drops.reduce((sum, [, count]) => sum + count, 0);
  const some = drops.filter(([, count]) => count > 0).map(([id, count]) => `${id}: ${count}`);
  return some.length > 0 ? `${total} (${some.join(", ")})` : String(total);
}

function maxBy<T>(
  entries: [string, T][],
  value: (item: T) => number,
): [string, T] | undefined {
  let best: [string, T] | undefined;
  for (const entry of entries) {
    if (!best || value(entry[1]) > value(best[1])) best = entry;
  }
  return best;
}

function describeOperation(operation: Operation): string {
  const returned = Number.isFinite(operation.returnedAt)
    ? `${(operation.returnedAt / 1000).toFixed(4)} s`
    : "never";
  return `${operation.kind.padEnd(3)} by ${operation.client} MID ${operation.mid} value ${
    JSON.stringify(operation.value)
  } invoked ${(operation.invokedAt / 1000).toFixed(4)} s, returned ${returned}`;
}

/**
 * The full report of one run: the course's block, our extras, checks, tiers, verdict.
 *
 * @param result The run.
 * @param style The style.
 * @returns The lines.
 */
export function runReportLines(result: RunResult, style: Style): string[] {
  const lines = [
    "",
    style.bold("# Simulation Finished"),
    "",
    style.bold("## Useful Information and Statistics"),
    ...statsLines(result),
    "",
    style.bold("## Beyond the course grader"),
    ...extrasLines(result),
    "",
    style.bold("## Correctness Checks"),
    ...correctnessLines(result, style),
  ];
  if (result.coursePassed) {
    lines.push(
      "",
      style.bold("## Performance Tests"),
      "## <test metric>: <your score> <benchmark score>, <test result>",
      ...performanceLines(result, style),
    );
  } else {
    lines.push("", "## Correctness Checks Failed, Skipping Performance Tests");
  }
  lines.push("", verdictLine(result, style));
  return lines;
}

/**
 * The closing verdict: ours (course checks and linearizability) and the course's apart.
 *
 * @param result The run.
 * @param style The style.
 * @returns The line.
 */
export function verdictLine(result: RunResult, style: Style): string {
  const course = result.coursePassed ? "PASS" : "FAIL";
  const linear = result.linearizability.linearizable ? "linearizable" : "NOT linearizable";
  const text = `Verdict: ${
    result.passed ? "PASS" : "FAIL"
  } (course grader: ${course}; history ${linear})`;
  return result.passed ? style.good(text) : style.bad(text);
}

/**
 * The course's one line per config in test-all mode.
 *
 * @param description The config's description.
 * @param result The run.
 * @returns The line.
 */
export function allModeLine(description: string, result: RunResult): string {
  if (!result.coursePassed) return `\t${description.padEnd(60)}\t[FAIL]`;
  const tiers = result.metrics.map((metric) => ` ${metric.tier}`).join("");
  return `\t${description.padEnd(60)}\t[PASS]\tPerformance Tiers:${tiers}`;
}

/**
 * Our summary table for `sim all`: config, verdict, the four metrics with tiers.
 *
 * @param rows Each config's name and result.
 * @returns The lines.
 */
export function summaryTable(rows: readonly { name: string; result: RunResult }[]): string[] {
  const header = [
    "config",
    "course",
    "ours",
    "total_msgs",
    "failures",
    "duplicates",
    "median_latency",
  ];
  const body = rows.map(({ name, result }) => [
    name,
    result.coursePassed ? "PASS" : "FAIL",
    result.passed ? "PASS" : "FAIL",
    ...result.metrics.map((metric) =>
      `${formatMetric(metric.metric, metric.value)} ${tierLabel(metric.tier)}`
    ),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...body.map((row) => (row[i] ?? "").length))
  );
  const format = (row: string[]) =>
    row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [format(header), format(widths.map((width) => "-".repeat(width))), ...body.map(format)];
}

function formatMetric(metric: Metric, value: number): string {
  return metric === "median_latency" ? `${(value * 1000).toFixed(2)}ms` : String(value);
}

function tierLabel(tier: number): string {
  return `(${tier} ${TIER_NAMES[tier]?.split(" ")[0]})`;
}

/**
 * The `--json` report of one run.
 *
 * @param name The config's path or name.
 * @param result The run.
 * @returns A JSON-ready object.
 */
export function jsonReport(name: string, result: RunResult): Record<string, unknown> {
  const c = result.counters;
  const tiers = Object.fromEntries(result.metrics.map((metric) => [metric.metric, metric.tier]));
  return {
    config: name,
    seed: result.seed,
    passed: result.passed,
    course_passed: result.coursePassed,
    failed_checks: failedChecks(result.checks).map((check) => check.check),
    linearizable: result.linearizability.linearizable,
    violations: result.linearizability.violations.map((v) => ({ key: v.key, message: v.message })),
    undetermined_keys: result.linearizability.undeterminedKeys,
    stop_reason: result.stopReason,
    clock: result.clock,
    total_msgs: c.totalMsgs,
    messages_by_kind: c.messagesByKind,
    failures: failures(c),
    duplicates: c.duplicates,
    median_latency: result.latency.medianS,
    mean_latency: result.latency.meanS,
    percentiles: {
      p50: result.latency.p50S,
      p90: result.latency.p90S,
      p99: result.latency.p99S,
      max: result.latency.maxS,
    },
    p50_by_reply: {
      get_ok: result.latencyByReply.getOk.p50S,
      put_ok: result.latencyByReply.putOk.p50S,
      redirect_or_fail: result.latencyByReply.refused.p50S,
    },
    tiers,
    counters: {
      total_msgs: c.totalMsgs,
      total_drops: c.totalDrops,
      generated_get: c.generatedGet,
      generated_put: c.generatedPut,
      failed_to_generate_get: c.failedToGenerateGet,
      total_get: c.totalGet,
      total_put: c.totalPut,
      failed_get: c.failedGet,
      failed_put: c.failedPut,
      unanswered_get: c.unansweredGet,
      unanswered_put: c.unansweredPut,
      incorrect: c.incorrect,
      duplicates: c.duplicates,
      redirects: c.redirects,
      died: c.died,
      killed: c.killed,
      blocked: c.blocked,
      leaders: c.leaders,
    },
    kernel_drops_modelled: result.socketStats
      ? Object.values(result.socketStats).reduce((sum, stats) => sum + stats.drops, 0)
      : null,
    replica_cpu_s: result.replicaCpuS ?? null,
    kernel_drops_simulator: result.simulatorSocketDrops
      ? Object.values(result.simulatorSocketDrops).reduce((sum, drops) => sum + drops, 0)
      : null,
    socket_model: result.socketStats
      ? Object.fromEntries(
        Object.entries(result.socketStats).map(([id, stats]) => [id, {
          drops: stats.drops,
          peak_queued_datagrams: stats.peakQueuedDatagrams,
          peak_queued_bytes: stats.peakQueuedBytes,
          burst_datagrams: stats.burstDatagrams,
          burst_bytes: stats.burstBytes,
        }]),
      )
      : null,
  };
}
