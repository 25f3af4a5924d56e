import assert from "node:assert/strict";
import { buildSchedule } from "../../lib/sim/events.ts";
import { config, scriptedPrng } from "./_helpers.ts";

Deno.test("requests are spread evenly over the lifetime after start_wait", () => {
  const schedule = buildSchedule(config({ requests: 4, lifetime: 8 }), scriptedPrng([0.5]));
  assert.deepEqual(schedule.actions.map((action) => action.atS), [5, 7, 9, 11]);
  assert.equal(schedule.totalS, 5 + 8 + 2);
});

Deno.test("each request event is a get with probability mix, decided up front", () => {
  const schedule = buildSchedule(
    config({ requests: 4, mix: 0.5 }),
    scriptedPrng([0.1, 0.7, 0.49, 0.5]),
  );
  const kinds = schedule.actions.map((a) => a.action.kind === "request" && a.action.get);
  assert.deepEqual(kinds, [true, false, true, false]);
  assert.equal(schedule.generatedGet, 2);
  assert.equal(schedule.generatedPut, 2);
});

Deno.test("config events are placed after start_wait, after requests due at the same time", () => {
  const schedule = buildSchedule(
    config({ requests: 3, lifetime: 6, events: [{ type: "kill_leader", time: 2 }] }),
    scriptedPrng([0.9]),
  );
  assert.deepEqual(schedule.actions.map((a) => [a.atS, a.action.kind]), [
    [5, "request"],
    [7, "request"],
    [7, "event"],
    [9, "request"],
  ]);
});

Deno.test("zero requests give an empty workload instead of a division by zero", () => {
  const schedule = buildSchedule(config({ requests: 0 }), scriptedPrng([0]));
  assert.deepEqual(schedule.actions, []);
});
