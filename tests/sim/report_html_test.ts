import assert from "node:assert/strict";
import type { RequestRecord } from "../../lib/sim/clients.ts";
import { main } from "../../lib/sim/main.ts";
import { renderIndex, renderReport, renderTimelineSvg } from "../../lib/sim/report_html.ts";
import { correctnessChecks, gradeMetrics, metricValues } from "../../lib/sim/score.ts";
import type { RunResult } from "../../lib/sim/simulation.ts";
import { createCounters, latencyByReply, summarizeLatencies } from "../../lib/sim/stats.ts";
import { type Timeline, TimelineRecorder } from "../../lib/sim/timeline.ts";
import { config } from "./_helpers.ts";

const IDS = ["0000", "0001", "0002", "0003", "0004"];

/**
 * A 10 s run of 5 replicas: 0000 leads, a hard partition from 3 s to 5 s puts it in
 * the minority, 0003 takes over, and 0003 is killed at 7 s; four requests, one of
 * each reply kind, one unanswered, one answered twice, one with an incorrect reply.
 */
function syntheticTimeline(): Timeline {
  const recorder = new TimelineRecorder(IDS, 10_000);
  recorder.routed(500, { src: "0000", leader: "FFFF", type: "request_vote" });
  recorder.routed(600, { src: "0000", leader: "0000", type: "append_entries" });
  recorder.event(3_000, "part_hard", new Set(["0001", "0003", "0004"]));
  recorder.routed(3_500, { src: "0003", leader: "FFFF", type: "request_vote" });
  recorder.routed(3_600, { src: "0003", leader: "0003", type: "append_entries" });
  recorder.event(5_000, "part_end", undefined);
  recorder.routed(5_100, { src: "0000", leader: "0003", type: "append_entries_reply" });
  recorder.event(7_000, "kill_leader", undefined);
  recorder.dead(7_000, "0003", "kill_leader", true);
  for (let bucket = 0; bucket < 100; bucket++) recorder.traffic(bucket * 100, 8, bucket % 10);
  const records: RequestRecord[] = [
    { mid: "GETOK", client: "0015", kind: "get", key: "k", invokedAtMs: 2_000 },
    { mid: "PUTOK", client: "0015", kind: "put", key: "k", value: "v", invokedAtMs: 2_100 },
    { mid: "REDIR", client: "0016", kind: "put", key: "k", value: "v", invokedAtMs: 3_200 },
    { mid: "FAIL<", client: "0016", kind: "put", key: "k", value: "v", invokedAtMs: 3_300 },
    { mid: "NONE", client: "0017", kind: "get", key: "k", invokedAtMs: 4_000 },
  ];
  records[0]!.reply = { type: "ok", atMs: 2_000.6, value: "" };
  records[1]!.reply = { type: "ok", atMs: 2_103 };
  records[2]!.reply = { type: "redirect", atMs: 4_900 };
  records[3]!.reply = { type: "fail", atMs: 3_310 };
  for (const record of records) recorder.requestSent(record.mid, "0000");
  recorder.duplicateReply(2_500, "PUTOK");
  recorder.incorrectReply(2_001, "0015", "GETOK");
  return recorder.finish(10_000, records);
}

function syntheticResult(timeline: Timeline): RunResult {
  const runConfig = config({ lifetime: 5, start_wait: 2, end_wait: 3 });
  const counters = createCounters();
  counters.latenciesS.push(0.0006, 0.003, 1.7, 0.01);
  counters.leaders.push("0000", "0003");
  return {
    config: runConfig,
    seed: 42,
    counters,
    latency: summarizeLatencies(counters.latenciesS),
    latencyByReply: latencyByReply([]),
    checks: correctnessChecks(counters, runConfig, 1),
    metrics: gradeMetrics(metricValues(counters), runConfig.benchmarks),
    linearizability: { linearizable: true, violations: [], undeterminedKeys: [] },
    operationCount: 3,
    coursePassed: false,
    passed: false,
    stopReason: "lifetime",
    clock: "live",
    timeline,
    socketStats: undefined,
    simulatorSocketDrops: undefined,
    replicaCpuS: undefined,
  };
}

function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}

/** Every opened element is closed, in order (self-closing ones aside). */
function assertBalanced(markup: string): void {
  const stack: string[] = [];
  const voids = new Set(["meta", "!DOCTYPE"]);
  for (const [, closing, name, selfClosing] of markup.matchAll(/<(\/?)([!\w-]+)[^>]*?(\/?)>/g)) {
    if (voids.has(name as string) || selfClosing) continue;
    if (!closing) stack.push(name as string);
    else assert.equal(stack.pop(), name, `</${name}> closes <${stack.at(-1)}>`);
  }
  assert.deepEqual(stack, []);
}

Deno.test("the timeline has one lane per replica with its role spans and partition sides", () => {
  const svg = renderTimelineSvg(syntheticTimeline());
  assert.equal(count(svg, /<g class="lane" data-replica="000\d">/g), 5);
  assert.equal(count(svg, /class="role leader"/g), 2);
  assert.equal(count(svg, /class="role candidate"/g), 2);
  assert.equal(count(svg, /class="role dead"/g), 1);
  assert.equal(count(svg, /class="side majority"/g), 3);
  assert.equal(count(svg, /class="side minority"/g), 2);
  assert.match(svg, /<text class="death"[^>]*>killed<title>0003 kill_leader at 7\.0 s<\/title>/);
});

Deno.test("every request is one point coloured by its reply, with duplicate and incorrect marks", () => {
  const svg = renderTimelineSvg(syntheticTimeline());
  for (const kind of ["get-ok", "put-ok", "redirect", "fail", "unanswered"]) {
    assert.equal(count(svg, new RegExp(`class="point ${kind}"`, "g")), 1, kind);
  }
  assert.equal(count(svg, /class="mark duplicate"/g), 1);
  assert.equal(count(svg, /class="mark incorrect"/g), 1);
  assert.match(svg, /put FAIL&lt; to 0000 at 3\.3 s: fail after 10 ms/);
});

Deno.test("events are marked bands: the partition as an area, each event as a labelled line", () => {
  const svg = renderTimelineSvg(syntheticTimeline());
  assert.equal(count(svg, /<g class="band partition">/g), 1);
  assert.match(svg, /majority 0001 0003 0004, minority 0000 0002/);
  assert.match(svg, /class="band event partition"[^]*?>part_hard \(3\.0 s\)</);
  assert.match(svg, /class="band event heal"[^]*?>part_end \(5\.0 s\)</);
  assert.match(svg, /class="band event kill"[^]*?>kill_leader → 0003 \(7\.0 s\)</);
});

Deno.test("the chart has a time axis, a log latency axis, a traffic axis and a legend", () => {
  const svg = renderTimelineSvg(syntheticTimeline());
  assert.match(svg, /class="axis x time-axis"[^]*time since the run started \(s\)/);
  assert.match(svg, /class="axis y latency-axis"[^]*latency \(log scale\)/);
  for (const tick of ["0.1 ms", "1 ms", "10 ms", "100 ms", "1 s", "10 s"]) {
    assert.match(svg, new RegExp(`>${tick}</text>`), tick);
  }
  assert.match(svg, /class="axis y traffic-axis"[^]*>messages</);
  assert.match(svg, /class="sent" d="M/);
  assert.match(svg, /class="dropped" d="M/);
  const legend = svg.slice(svg.indexOf('<g class="legend">'));
  for (const label of ["leader", "candidate", "follower", "dead", "minority side", "get ok"]) {
    assert.match(legend, new RegExp(`>${label}</text>`), label);
  }
  assert.match(legend, /request_vote or pre_vote, candidate/);
  assertBalanced(svg);
});

Deno.test("a report is one self-contained page with the course's score and our checks", () => {
  const html = renderReport({
    name: "configs/x.json",
    result: syntheticResult(syntheticTimeline()),
  });
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.doesNotMatch(html, /<script|<link|@import|url\(|src=/i);
  assert.doesNotMatch(html, /href="(?!#)/);
  assert.match(html, /<svg [^>]*class="timeline"/);
  assert.match(html, /<h2>Course score<\/h2>/);
  for (const metric of ["total_msgs", "failures", "duplicates", "median_latency"]) {
    assert.match(html, new RegExp(`>${metric}</td>`), metric);
  }
  assert.match(html, /Linearizable \(3 operations checked\)/);
  assert.match(html, /<td>all replies<\/td>/);
  assertBalanced(html);
});

Deno.test("the index links each run's report with its verdict and tiers", () => {
  const result = syntheticResult(syntheticTimeline());
  const html = renderIndex([
    { name: "simple-1.json", href: "simple-1.html", result },
    { name: "crash-1.json", href: "crash-1.html", result: { ...result, passed: true } },
  ]);
  assert.match(html, /<h1>1 of 2 runs passed<\/h1>/);
  assert.match(html, /<a href="simple-1\.html">simple-1\.json<\/a>/);
  assert.match(html, /<a href="crash-1\.html">crash-1\.json<\/a>/);
  assertBalanced(html);
});

Deno.test("--report writes the timeline of a real run with lanes, bands and points", async () => {
  // Under report/, the one folder the test task may write to (ignored by git).
  const path = "report/test/short-partition.html";
  await Deno.remove(path).catch(() => {});
  const status = await main(
    ["configs/short/partition.json", "--seed", "3", "--quiet", "--report", path],
    new AbortController().signal,
  );
  // Whether the run passes is the business of other tests; here it only has to have run.
  assert.notEqual(status, 2);
  const html = await Deno.readTextFile(path);
  assert.equal(count(html, /<g class="lane" data-replica="000\d">/g), 5);
  assert.ok(count(html, /class="role leader"/g) >= 1);
  assert.equal(count(html, /<g class="band partition">/g), 1);
  assert.ok(count(html, /class="point /g) >= 120, "one point per request, retries included");
  await Deno.remove(path);
});

Deno.test("a report path the permissions forbid is refused before the run, with status 2", async () => {
  // The test task may write only under report/, as `deno task start` may.
  const status = await main(
    ["start", "--report", "/report-elsewhere.html"],
    new AbortController().signal,
  );
  assert.equal(status, 2);
});
