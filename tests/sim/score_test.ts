import assert from "node:assert/strict";
import { correctnessChecks, failedChecks, gradeMetrics, tierOf } from "../../lib/sim/score.ts";
import { type Counters, createCounters } from "../../lib/sim/stats.ts";
import { config } from "./_helpers.ts";

/** Counters of a healthy run of the default test config (500 requests, mix 0.8). */
function healthy(): Counters {
  return {
    ...createCounters(),
    totalMsgs: 600,
    generatedGet: 400,
    generatedPut: 100,
  };
}

function failedCheckNames(counters: Counters, storedKeys = 10, overrides = {}): string[] {
  return failedChecks(correctnessChecks(counters, config(overrides), storedKeys))
    .map((check) => check.check);
}

Deno.test("a healthy run passes all seven correctness checks", () => {
  const checks = correctnessChecks(healthy(), config(), 10);
  assert.equal(checks.length, 7);
  assert.deepEqual(failedCheckNames(healthy()), []);
});

Deno.test("one incorrect message fails the run", () => {
  assert.deepEqual(failedCheckNames({ ...healthy(), incorrect: 1 }), ["incorrect"]);
});

Deno.test("a replica that died on its own fails the run; killed ones do not", () => {
  assert.deepEqual(failedCheckNames({ ...healthy(), died: 1 }), ["died"]);
  assert.deepEqual(failedCheckNames({ ...healthy(), killed: 2 }), []);
});

Deno.test("no acknowledged put fails the run", () => {
  assert.deepEqual(failedCheckNames(healthy(), 0), ["no_state"]);
});

Deno.test("unanswered gets may reach but not pass generated gets times the fraction", () => {
  assert.deepEqual(failedCheckNames({ ...healthy(), unansweredGet: 200 }), []);
  const checks = correctnessChecks({ ...healthy(), unansweredGet: 201 }, config(), 1);
  const failed = checks.find((check) => !check.passed);
  assert.equal(failed?.check, "get_answered");
  assert.equal(failed?.message, "Error: insufficient get() requests answered (201 > 400 * 0.50)");
});

Deno.test("unanswered puts are bounded by generated puts times the fraction", () => {
  assert.deepEqual(failedCheckNames({ ...healthy(), unansweredPut: 50 }), []);
  assert.deepEqual(failedCheckNames({ ...healthy(), unansweredPut: 51 }), ["put_answered"]);
});

Deno.test("failures to generate a get are bounded by generated gets times 0.1", () => {
  assert.deepEqual(failedCheckNames({ ...healthy(), failedToGenerateGet: 40 }), []);
  const checks = correctnessChecks({ ...healthy(), failedToGenerateGet: 41 }, config(), 1);
  assert.equal(
    checks.find((check) => !check.passed)?.message,
    "Error: insufficient get() requests were generated because insufficient put()s were accepted (41 > 400 * 0.10)",
  );
});

Deno.test("total messages below requests × N × (1 − mix) × (1 − batched) fail the run", () => {
  const floor = 500 * 5 * (1 - 0.8) * (1 - 0.5);
  assert.deepEqual(failedCheckNames({ ...healthy(), totalMsgs: floor }), []);
  assert.deepEqual(failedCheckNames({ ...healthy(), totalMsgs: floor - 1 }), ["total_msgs"]);
  const lenient = {
    tests: { benchmarks: config().benchmarks, maximum_appends_batched_fraction: 1 },
  };
  assert.deepEqual(failedCheckNames({ ...healthy(), totalMsgs: 0 }, 10, lenient), []);
});

Deno.test("tiers compare strictly: a value equal to a threshold misses it", () => {
  const tiers = [1, 10, 100] as const;
  assert.equal(tierOf(0, tiers), 0);
  assert.equal(tierOf(1, tiers), 1);
  assert.equal(tierOf(9, tiers), 1);
  assert.equal(tierOf(10, tiers), 2);
  assert.equal(tierOf(99.5, tiers), 2);
  assert.equal(tierOf(100, tiers), 3);
});

Deno.test("a bonus threshold of 0 can never be met: 0 earns Full credit", () => {
  assert.equal(tierOf(0, [0, 2, 5]), 1);
});

Deno.test("metric lines use the course's words and Python number formatting", () => {
  const results = gradeMetrics(
    { total_msgs: 999, failures: 10, duplicates: 6, median_latency: 0.00004 },
    config().benchmarks,
  );
  assert.deepEqual(results.map((result) => result.line), [
    "Total Messages Between Replicas: 999 < 1000, Bonus!",
    "Total Failures and Unanswered Requests: 10 < 100, Partial credit, needs improvement",
    "Duplicate Responses to Clients: 6 >= 6, No credit",
    "Median Response Latency to Clients: 4e-05 < 0.00015, Bonus!",
  ]);
  assert.deepEqual(results.map((result) => result.tier), [0, 2, 3, 0]);
});
