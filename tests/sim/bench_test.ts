import assert from "node:assert/strict";
import { join } from "node:path";
import { type BenchOptions, main, parseBenchArgs } from "../../lib/sim/bench.ts";
import {
  benchJson,
  benchTotals,
  configTable,
  duplicatesLine,
  failureReasons,
  floorTable,
  markdownTable,
  mechanismTable,
  median,
  messagesByMechanism,
  ratioOf,
  type RunSample,
  summarizeConfig,
  summarizeFloor,
  tierRunsTable,
  tiersLine,
} from "../../lib/sim/bench_table.ts";
import { loadConfig, type Metric, type Tiers } from "../../lib/sim/config.ts";
import { messageKind } from "../../lib/sim/network.ts";
import { STANDARD_CONFIGS } from "../../lib/sim/standard.ts";

/** simple-1's thresholds (PROTOCOL.md section 8): a bonus is reachable for messages and latency. */
const SIMPLE_1: Record<Metric, Tiers> = {
  total_msgs: [1200, 3000, 5000],
  failures: [0, 1, 2],
  duplicates: [0, 2, 5],
  median_latency: [0.0004, 0.002, 0.05],
};

/** A passing run with simple-1's typical numbers, `overrides` merged in. */
function sample(overrides: Partial<RunSample> = {}): RunSample {
  return {
    seed: 1,
    passed: true,
    linearizable: true,
    totalMsgs: 2000,
    failures: 0,
    duplicates: 0,
    medianLatencyS: 0.0007,
    putOkP50S: 0.0025,
    getOkP50S: 0.0006,
    putsOk: 100,
    byMechanism: { appends: 900, acks: 900, heartbeats: 150, notices: 10, elections: 40, other: 0 },
    replicaCpuS: 6,
    ...overrides,
  };
}

Deno.test("median: the middle of an odd count, the midpoint of an even one, nulls left out", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.equal(median([null, 2, null]), 2);
  assert.equal(median([]), null);
  assert.equal(median([null]), null);
});

Deno.test("a config summary takes each metric's median over runs and grades the median", () => {
  const summary = summarizeConfig("simple-1", SIMPLE_1, [
    sample({ seed: 1, totalMsgs: 1100, duplicates: 3, medianLatencyS: 0.0003 }),
    sample({ seed: 2, totalMsgs: 1900, duplicates: 0, medianLatencyS: 0.003 }),
    sample({ seed: 3, totalMsgs: 1150, duplicates: 1, medianLatencyS: 0.0009 }),
  ]);
  assert.deepEqual(summary.medians, {
    total_msgs: 1150,
    failures: 0,
    duplicates: 1,
    median_latency: 0.0009,
  });
  assert.deepEqual(summary.tiers, { total_msgs: 0, failures: 1, duplicates: 1, median_latency: 1 });
  assert.deepEqual(summary.bonusReachable, {
    total_msgs: true,
    failures: false,
    duplicates: false,
    median_latency: true,
  });
  assert.deepEqual(summary.seeds, [1, 2, 3]);
  assert.equal(summary.runs, 3);
  assert.equal(summary.duplicatesInAllRuns, 4);
});

Deno.test("the duplicates line counts every run's duplicates, which medians of 0 hide", () => {
  const rare = summarizeConfig("advanced-3", SIMPLE_1, [
    sample({ duplicates: 0 }),
    sample({ duplicates: 2 }),
    sample({ duplicates: 0 }),
  ]);
  const none = summarizeConfig("simple-1", SIMPLE_1, [sample({ duplicates: 0 })]);
  assert.equal(rare.medians.duplicates, 0);
  assert.equal(duplicatesLine([none, rare]), "Duplicates in all runs: 2 (advanced-3 2).");
  assert.equal(duplicatesLine([none]), "Duplicates in all runs: none.");
});

Deno.test("a config summary counts the runs in each tier by their own values", () => {
  const summary = summarizeConfig("simple-1", SIMPLE_1, [
    sample({ totalMsgs: 1100, medianLatencyS: 0.0003 }),
    sample({ totalMsgs: 1150, medianLatencyS: 0.0009 }),
    sample({ totalMsgs: 3100, duplicates: 2, medianLatencyS: 0.0009 }),
    sample({ totalMsgs: 1199, failures: 1, medianLatencyS: 0.06 }),
    sample({ totalMsgs: 1100, passed: false }),
  ]);
  assert.equal(summary.tiers.total_msgs, 0);
  assert.deepEqual(summary.tierRuns, {
    total_msgs: [4, 0, 1, 0],
    failures: [0, 4, 1, 0],
    duplicates: [0, 4, 1, 0],
    median_latency: [1, 3, 0, 1],
  });
  assert.equal(summary.runsFullOrBetter, 2);
});

Deno.test("the table of runs by tier lists each metric's tiers that runs fell in", () => {
  const summary = summarizeConfig("simple-1", SIMPLE_1, [
    sample({ totalMsgs: 1100 }),
    sample({ totalMsgs: 1300, failures: 2 }),
  ]);
  const lines = tierRunsTable([summary]);
  assert.match(
    lines[0] ?? "",
    /^\| config +\| runs \| messages .*\| passed, all Full or better \|$/,
  );
  assert.equal(
    lines[2]?.split("|").map((cell) => cell.trim()).filter(Boolean).join(";"),
    "simple-1;2;1 Bonus, 1 Full;1 Full, 1 No credit;2 Full;2 Full;1/2",
  );
  const json = benchJson([summary], []) as {
    configs: { tier_runs: Record<string, number[]>; runs_full_or_better: number }[];
  };
  assert.deepEqual(json.configs[0]?.tier_runs.failures, [0, 1, 0, 1]);
  assert.equal(json.configs[0]?.runs_full_or_better, 1);
});

Deno.test("a config summary counts passing and linearizable runs apart", () => {
  const summary = summarizeConfig("simple-1", SIMPLE_1, [
    sample(),
    sample({ passed: false }),
    sample({ passed: false, linearizable: false }),
  ]);
  assert.equal(summary.passed, 1);
  assert.equal(summary.linearizable, 2);
});

Deno.test("put and get p50 medians skip runs with no reply of that kind", () => {
  const summary = summarizeConfig("simple-1", SIMPLE_1, [
    sample({ getOkP50S: null, putOkP50S: 0.002 }),
    sample({ getOkP50S: 0.0008, putOkP50S: 0.004 }),
  ]);
  assert.equal(summary.getOkP50S, 0.0008);
  assert.equal(summary.putOkP50S, 0.003);
  const none = summarizeConfig("simple-1", SIMPLE_1, [sample({ getOkP50S: null })]);
  assert.equal(none.getOkP50S, null);
});

Deno.test("a config with no runs is refused", () => {
  assert.throws(() => summarizeConfig("simple-1", SIMPLE_1, []), RangeError);
});

Deno.test("totals add the medians, count tiers, and count bonus tiers reached of those reachable", () => {
  const fast = summarizeConfig("simple-1", SIMPLE_1, [sample({ totalMsgs: 1000 })]);
  const slow = summarizeConfig("simple-2", SIMPLE_1, [
    sample({ passed: false, failures: 3, duplicates: 2, medianLatencyS: 0.06 }),
  ]);
  const totals = benchTotals([fast, slow]);
  assert.equal(totals.runs, 2);
  assert.equal(totals.passed, 1);
  assert.equal(totals.totalMsgs, 3000);
  assert.equal(totals.failures, 3);
  assert.equal(totals.duplicates, 2);
  // fast: Bonus, Full, Full, Full; slow: Full, No, Partial, No.
  assert.deepEqual(totals.tierCounts, [1, 4, 1, 2]);
  assert.equal(totals.bonusReached, 1);
  assert.equal(totals.bonusReachable, 4);
  assert.equal(
    tiersLine([fast, slow]),
    "Bonus tiers: 1 of 4 reachable. Tiers: 1 Bonus, 4 Full, 1 Partial, 2 No credit.",
  );
});

Deno.test("the 17 standard configs have 39 reachable bonus tiers", async () => {
  const summaries = [];
  for (const { file } of STANDARD_CONFIGS) {
    const config = await loadConfig(join("configs", file));
    summaries.push(summarizeConfig(file, config.benchmarks, [sample()]));
  }
  assert.equal(benchTotals(summaries).bonusReachable, 39);
});

Deno.test("messages are grouped by mechanism; kinds this replica does not send count as other", () => {
  assert.deepEqual(
    messagesByMechanism({
      append_entries: 10,
      append_entries_reply: 8,
      reply_copy: 3,
      heartbeat: 4,
      commit_notice: 2,
      request_vote: 4,
      request_vote_reply: 3,
      pre_vote: 4,
      pre_vote_reply: 2,
      appendEntry: 7,
      vote: 1,
    }),
    { appends: 10, acks: 11, heartbeats: 4, notices: 2, elections: 13, other: 8 },
  );
});

/**
 * The bench's map is keyed by the names `messageKind` gives: built through it,
 * a renamed kind would fall into `other` here rather than silently in a bench.
 */
Deno.test("every kind the simulator names for this replica's messages has its mechanism", () => {
  const envelope = { src: "0000", dst: "0001", leader: "0000" };
  const entry = { term: 1, command: {} };
  const wire = [
    [{ type: "append_entries", entries: [entry] }, "appends"],
    [{ type: "append_entries_reply", success: true }, "acks"],
    [{ type: "append_entries_reply", success: true, secondCopy: true }, "acks"],
    [{ type: "append_entries", entries: [] }, "heartbeats"],
    [{ type: "append_entries", entries: [], repliers: ["0001"] }, "heartbeats"],
    [{ type: "append_entries", entries: [], repliers: [] }, "notices"],
    [{ type: "request_vote" }, "elections"],
    [{ type: "request_vote_reply" }, "elections"],
    [{ type: "pre_vote" }, "elections"],
    [{ type: "pre_vote_reply" }, "elections"],
  ] as const;
  for (const [fields, mechanism] of wire) {
    const byMechanism = messagesByMechanism({ [messageKind({ ...envelope, ...fields })]: 1 });
    assert.equal(byMechanism[mechanism], 1, `${JSON.stringify(fields)} counts as ${mechanism}`);
  }
});

Deno.test("messages per put are each run's own ratio, medians over runs answering a put", () => {
  const perRun = (putsOk: number, appends: number, totalMsgs: number) =>
    sample({
      putsOk,
      totalMsgs,
      byMechanism: { appends, acks: 0, heartbeats: 0, notices: 0, elections: 0, other: 0 },
    });
  const summary = summarizeConfig("simple-1", SIMPLE_1, [
    perRun(100, 200, 500),
    perRun(400, 1200, 1200),
    perRun(200, 500, 900),
    perRun(0, 50, 60),
  ]);
  // Per run 2.0, 3.0 and 2.5 appends a put (the run with no put left out); the
  // ratio of the medians would be 500 / 200.
  assert.equal(summary.perPutOk?.appends, 2.5);
  assert.equal(summary.perPutOk?.all, 4.5);
  assert.equal(summary.perPutOk?.acks, 0);
  assert.equal(summary.putsOk, 150);
  assert.equal(summarizeConfig("x", SIMPLE_1, [perRun(0, 5, 5)]).perPutOk, null);
});

Deno.test("the mechanism table has a row per config, two decimals, and a dash without puts", () => {
  const lines = mechanismTable([
    summarizeConfig("simple-1", SIMPLE_1, [sample()]),
    summarizeConfig("crash-4", SIMPLE_1, [sample({ putsOk: 0 })]),
  ]);
  const cells = (line: string | undefined) =>
    (line ?? "").split("|").slice(1, -1).map((cell) => cell.trim());
  assert.equal(lines.length, 4);
  assert.equal(
    cells(lines[0]).join(","),
    "config,puts ok,appends,acks,heartbeats,notices,elections,other,all",
  );
  assert.deepEqual(cells(lines[2]), [
    "simple-1",
    "100",
    "9.00",
    "9.00",
    "1.50",
    "0.10",
    "0.40",
    "0.00",
    "20.00",
  ]);
  assert.deepEqual(cells(lines[3]), ["crash-4", "0", "–", "–", "–", "–", "–", "–", "–"]);
});

Deno.test("a failed run's reasons are its failed checks' lines, and a history not linearizable", () => {
  const checks = [
    { passed: true, message: "" },
    { passed: false, message: "Error: too many get() failures to generate, 5 > 39 * 0.10" },
  ];
  assert.deepEqual(failureReasons({ checks, linearizability: { linearizable: false } }), [
    "Error: too many get() failures to generate, 5 > 39 * 0.10",
    "history not linearizable",
  ]);
  assert.deepEqual(
    failureReasons({ checks: [checks[0]!], linearizability: { linearizable: true } }),
    [],
  );
});

Deno.test("ratioOf divides ours by the floor, and has no value without both", () => {
  assert.equal(ratioOf(0.003, 0.002), 1.5);
  assert.equal(ratioOf(null, 0.002), null);
  assert.equal(ratioOf(0.003, null), null);
  assert.equal(ratioOf(0.003, 0), null);
});

Deno.test("the floor ratio is the median of per-round ratios, not the ratio of medians", () => {
  const round = (floorPutS: number, oursPutS: number, floorGetS: number, oursGetS: number) => ({
    floor: sample({ putOkP50S: floorPutS, getOkP50S: floorGetS }),
    ours: sample({ putOkP50S: oursPutS, getOkP50S: oursGetS, seed: 9 }),
  });
  const floor = summarizeFloor("simple-2", [
    round(0.001, 0.002, 0.0005, 0.0005),
    round(0.002, 0.003, 0.0005, 0.0006),
    round(0.004, 0.004, 0.0005, 0.0007),
  ]);
  assert.equal(floor.putOk.floorP50S, 0.002);
  assert.equal(floor.putOk.oursP50S, 0.003);
  // Ratios 2, 1.5 and 1: their median is 1.5, as is 0.003 / 0.002 here only by chance.
  assert.equal(floor.putOk.ratio, 1.5);
  assert.ok(Math.abs((floor.getOk.ratio ?? 0) - 1.2) < 1e-12);
  assert.equal(floor.rounds, 3);
  assert.equal(floor.oursPassed, 3);
  assert.deepEqual(floor.seeds, [9, 9, 9]);
  const skewed = summarizeFloor("simple-2", [round(0.001, 0.004, 1, 1), round(0.004, 0.004, 1, 1)]);
  assert.equal(skewed.putOk.ratio, 2.5);
  assert.equal((skewed.putOk.oursP50S ?? 0) / (skewed.putOk.floorP50S ?? 1), 1.6);
});

Deno.test("markdownTable pads every column to its widest cell", () => {
  assert.deepEqual(markdownTable(["config", "n"], [["simple-1", "12"], ["x", "3"]]), [
    "| config   | n  |",
    "| -------- | -- |",
    "| simple-1 | 12 |",
    "| x        | 3  |",
  ]);
});

Deno.test("the config table shows medians with tiers, p50s in ms, and a totals row", () => {
  const lines = configTable([
    summarizeConfig("simple-1", SIMPLE_1, [sample({ totalMsgs: 1001 }), sample()]),
  ]);
  assert.equal(lines.length, 4);
  assert.match(lines[0] ?? "", /^\| config +\| pass \| linearizable \| messages/);
  assert.equal(
    lines[2]?.split("|").map((cell) => cell.trim()).filter(Boolean).join(";"),
    "simple-1;2/2;2/2;1500.5 (Full);0 (Full);0 (Full);0.70 (Full);2.50;0.60;6.00",
  );
  assert.equal(
    lines[3]?.split("|").map((cell) => cell.trim()).filter(Boolean).join(";"),
    "total;2/2;2/2;1500.5;0;0;–;–;–;–",
  );
});

Deno.test("the config table leaves out the CPU column when no run read it", () => {
  const unread = summarizeConfig("simple-1", SIMPLE_1, [sample({ replicaCpuS: null })]);
  const header = configTable([unread])[0] ?? "";
  assert.match(header, /get ok p50 ms \|$/);
  assert.doesNotMatch(header, /CPU/);
  const read = summarizeConfig("simple-2", SIMPLE_1, [sample()]);
  const mixed = configTable([unread, read]);
  assert.match(mixed[0] ?? "", /replica CPU s \|$/);
  assert.match(mixed[2] ?? "", /\| – +\|$/);
});

Deno.test("the floor table has a put, a get and a CPU row per config with the ratio", () => {
  const floor = summarizeFloor("simple-1", [{
    floor: sample({ putOkP50S: 0.0014, getOkP50S: 0.0006, replicaCpuS: 0.5 }),
    ours: sample({ putOkP50S: 0.0021, getOkP50S: null, replicaCpuS: 6 }),
  }]);
  const cells = floorTable([floor]).slice(2).map((line) =>
    line.split("|").map((cell) => cell.trim()).filter(Boolean).join(";")
  );
  assert.deepEqual(cells, [
    "simple-1;put ok p50 ms;1/1;1.40;2.10;1.50x",
    "simple-1;get ok p50 ms;1/1;0.60;–;–",
    "simple-1;replica CPU s;1/1;0.50;6.00;12.00x",
  ]);
  const unread = summarizeFloor("simple-1", [{
    floor: sample({ replicaCpuS: null }),
    ours: sample({ replicaCpuS: null }),
  }]);
  assert.deepEqual(unread.replicaCpu, { floorS: null, oursS: null, ratio: null });
});

Deno.test("the JSON report passes only when every run of ours passed, floor rounds included", () => {
  const good = summarizeConfig("simple-1", SIMPLE_1, [sample()]);
  const floorOk = summarizeFloor("simple-1", [{ floor: sample(), ours: sample() }]);
  const floorBad = summarizeFloor("simple-1", [{
    floor: sample(),
    ours: sample({ passed: false }),
  }]);
  assert.equal(benchJson([good], [floorOk]).passed, true);
  assert.equal(benchJson([good], [floorBad]).passed, false);
  assert.equal(
    benchJson([summarizeConfig("x", SIMPLE_1, [sample({ passed: false })])], []).passed,
    false,
  );
  const report = benchJson([good], [floorOk]) as {
    totals: { bonus_reachable: number };
    floor: { put_ok: { ratio: number } }[];
  };
  assert.equal(report.totals.bonus_reachable, 2);
  assert.equal(report.floor[0]?.put_ok.ratio, 1);
});

Deno.test("parseBenchArgs: defaults, --only in the course's order, and bad values refused", () => {
  const defaults = parseBenchArgs([]);
  assert.notEqual(defaults, "help");
  if (defaults === "help") return;
  assert.equal(defaults.runs, 1);
  assert.equal(defaults.configs.length, 17);
  assert.equal(defaults.replica, "./3700kvstore");
  assert.match(defaults.floor, /shared\/floor\/3700kvstore$/);
  assert.equal(defaults.skipFloor, false);
  const only = parseBenchArgs(["--only", "advanced-3,simple-2.json", "--skip-floor", "--json"]);
  assert.notEqual(only, "help");
  if (only === "help") return;
  assert.deepEqual(only.configs, ["simple-2", "advanced-3"]);
  assert.equal(only.skipFloor, true);
  assert.equal(only.json, true);
  assert.equal(parseBenchArgs(["--help"]), "help");
  assert.throws(() => parseBenchArgs(["--runs", "0"]), RangeError);
  assert.throws(() => parseBenchArgs(["--runs", "1.5"]), RangeError);
  assert.throws(() => parseBenchArgs(["--only", "simple-9"]), RangeError);
  assert.throws(() => parseBenchArgs(["--bogus"]), TypeError);
});

Deno.test("parseBenchArgs: --virtual skips the floor and counts seeds from 1, or from --seed", () => {
  assert.equal((parseBenchArgs([]) as BenchOptions).firstSeed, undefined);
  const virtual = parseBenchArgs(["--virtual", "--runs", "3"]) as BenchOptions;
  assert.equal(virtual.virtual, true);
  assert.equal(virtual.skipFloor, true);
  assert.equal(virtual.firstSeed, 1);
  assert.equal((parseBenchArgs(["--virtual", "--seed", "40"]) as BenchOptions).firstSeed, 40);
  assert.throws(() => parseBenchArgs(["--virtual", "--replica", "x"]), TypeError);
  assert.throws(() => parseBenchArgs(["--seed", "1e400"]), RangeError);
});

Deno.test("a virtual bench gives the same table twice for the same seeds", async () => {
  const outputs: string[] = [];
  const log = console.log;
  const error = console.error;
  console.error = () => {};
  console.log = (text: string) => outputs.push(text);
  try {
    for (let i = 0; i < 2; i++) {
      const args = ["--virtual", "--runs", "2", "--seed", "5", "--only", "crash-3,unreliable-2"];
      assert.equal(await main(args, new AbortController().signal), 0);
    }
  } finally {
    console.log = log;
    console.error = error;
  }
  assert.equal(outputs.length, 2);
  assert.equal(outputs[0], outputs[1]);
  assert.match(outputs[0] ?? "", /^On the virtual clock/);
  assert.match(outputs[0] ?? "", /\| crash-3 +\| 2\/2 +\| 2\/2 /);
});

Deno.test("the bench refuses a missing replica program before running anything", async () => {
  const status = await main(
    ["--only", "simple-1", "--skip-floor", "--replica", "tests/fixtures/no-such-replica"],
    new AbortController().signal,
  );
  assert.equal(status, 2);
});
