import assert from "node:assert/strict";
import { pyFloat, pyNumber } from "../../lib/sim/_pyfmt.ts";
import {
  createCounters,
  failures,
  latencyByReply,
  recordLeader,
  summarizeLatencies,
} from "../../lib/sim/stats.ts";

Deno.test("the course's median is sorted[floor(n / 2)], the upper middle", () => {
  assert.equal(summarizeLatencies([0.4, 0.1, 0.3, 0.2]).medianS, 0.3);
  assert.equal(summarizeLatencies([0.3, 0.1, 0.2]).medianS, 0.2);
});

Deno.test("percentiles are nearest-rank and max is the largest latency", () => {
  const latencies = Array.from({ length: 100 }, (_, i) => (i + 1) / 1000);
  const summary = summarizeLatencies(latencies.reverse());
  assert.equal(summary.p50S, 0.05);
  assert.equal(summary.p90S, 0.09);
  assert.equal(summary.p99S, 0.099);
  assert.equal(summary.maxS, 0.1);
  assert.equal(summary.count, 100);
  assert.ok(Math.abs(summary.meanS - 0.0505) < 1e-12);
});

Deno.test("no latencies give zeros, as the course's median of 0.0", () => {
  const summary = summarizeLatencies([]);
  assert.equal(summary.medianS, 0);
  assert.equal(summary.maxS, 0);
});

Deno.test("failures are fail replies plus unanswered requests", () => {
  const counters = {
    ...createCounters(),
    failedGet: 1,
    failedPut: 2,
    unansweredGet: 3,
    unansweredPut: 4,
  };
  assert.equal(failures(counters), 10);
});

Deno.test("leaders are recorded without consecutive repeats", () => {
  const counters = createCounters();
  for (const leader of ["FFFF", "FFFF", "0001", "0001", "FFFF", "0002"]) {
    recordLeader(counters, leader);
  }
  assert.deepEqual(counters.leaders, ["FFFF", "0001", "FFFF", "0002"]);
});

Deno.test("floats print as Python's repr", () => {
  assert.equal(pyFloat(0.0004), "0.0004");
  assert.equal(pyFloat(0.00004), "4e-05");
  assert.equal(pyFloat(0.000123456), "0.000123456");
  assert.equal(pyFloat(1.5e-7), "1.5e-07");
  assert.equal(pyFloat(2), "2.0");
  assert.equal(pyFloat(20000), "20000.0");
  assert.equal(pyFloat(0), "0.0");
  assert.equal(pyFloat(1e16), "1e+16");
  assert.equal(pyFloat(123.456), "123.456");
  assert.equal(pyFloat(0.1 + 0.2), "0.30000000000000004");
  assert.equal(pyNumber(1200), "1200");
  assert.equal(pyNumber(0.05), "0.05");
});

Deno.test("latencies split into gets ok, puts ok and refusals; unanswered ones are left out", () => {
  const split = latencyByReply([
    { kind: "get", invokedAtMs: 0, reply: { type: "ok", atMs: 1 } },
    { kind: "put", invokedAtMs: 10, reply: { type: "ok", atMs: 14 } },
    { kind: "put", invokedAtMs: 20, reply: { type: "redirect", atMs: 22 } },
    { kind: "get", invokedAtMs: 30, reply: { type: "fail", atMs: 33 } },
    { kind: "put", invokedAtMs: 40 },
  ]);
  assert.deepEqual(
    [split.getOk.count, split.putOk.count, split.refused.count],
    [1, 1, 2],
  );
  assert.equal(split.getOk.p50S, 0.001);
  assert.equal(split.putOk.p50S, 0.004);
  assert.equal(split.refused.p50S, 0.002);
  assert.equal(split.refused.maxS, 0.003);
});
