import assert from "node:assert/strict";
import { loadConfig, parseConfig } from "../../lib/sim/config.ts";
import { BENCHMARKS, rawConfig } from "./_helpers.ts";

function refused(raw: unknown, pattern: RegExp, kind: ErrorConstructor = RangeError): void {
  assert.throws(() => parseConfig(raw), (error: unknown) => {
    assert.ok(error instanceof kind, `expected ${kind.name}, got ${error}`);
    assert.match((error as Error).message, pattern);
    return true;
  });
}

Deno.test("a minimal config gets the course defaults", () => {
  const config = parseConfig(rawConfig());
  assert.equal(config.mix, 0.8);
  assert.equal(config.startWaitS, 5);
  assert.equal(config.endWaitS, 2);
  assert.equal(config.drops, 0);
  assert.equal(config.maxPackets, 20000);
  assert.equal(config.seed, undefined);
  assert.deepEqual(config.events, []);
  assert.equal(config.maxGetFailFraction, 0.5);
  assert.equal(config.maxPutFailFraction, 0.5);
  assert.equal(config.maxGetGenerationFailFraction, 0.1);
  assert.equal(config.maxAppendsBatchedFraction, 0.5);
  assert.deepEqual(config.benchmarks.total_msgs, [1000, 3000, 4000]);
});

Deno.test("required fields are refused when missing, naming the field", () => {
  for (const field of ["lifetime", "replicas", "requests", "tests"]) {
    const raw = rawConfig();
    delete raw[field];
    refused(raw, new RegExp(`${field} is missing`));
  }
  refused(rawConfig({ tests: {} }), /tests\.benchmarks is missing/);
});

Deno.test("numeric fields out of range are refused with the allowed range", () => {
  refused(rawConfig({ replicas: 2 }), /replicas is 2: it must be between 3 and 21/);
  refused(rawConfig({ replicas: 22 }), /replicas is 22: it must be between 3 and 21/);
  refused(rawConfig({ lifetime: 4 }), /lifetime is 4: it must be at least 5/);
  refused(rawConfig({ requests: -1 }), /requests is -1: it must be at least 0/);
  refused(rawConfig({ mix: 1.5 }), /mix is 1.5: it must be between 0 and 1/);
  refused(rawConfig({ drops: -0.1 }), /drops is -0.1: it must be between 0 and 1/);
  refused(rawConfig({ start_wait: 31 }), /start_wait is 31: it must be between 0 and 30/);
  refused(rawConfig({ end_wait: 31 }), /end_wait is 31: it must be between 0 and 30/);
  refused(rawConfig({ max_packets: 499 }), /max_packets is 499: it must be between 500 and 900000/);
  refused(
    rawConfig({ tests: { benchmarks: BENCHMARKS, maximum_put_fail_fraction: 2 } }),
    /tests\.maximum_put_fail_fraction is 2: it must be between 0 and 1/,
  );
});

Deno.test("wrong types are refused with a TypeError naming the field", () => {
  refused(rawConfig({ replicas: "5" }), /replicas is "5": it must be a number/, TypeError);
  refused(rawConfig({ events: {} }), /events is \{\}: it must be a list/, TypeError);
  refused(rawConfig({ seed: 1.5 }), /seed is 1.5: it must be an integer/, TypeError);
  refused([], /config is \[\]: it must be an object/, TypeError);
});

Deno.test("events need a known type and a time within the lifetime", () => {
  refused(rawConfig({ events: [{ type: "nuke", time: 1 }] }), /events\[0\]\.type is "nuke"/);
  refused(
    rawConfig({ events: [{ type: "part_end", time: 31 }] }),
    /events\[0\]\.time is 31: it must be between 0 and 30/,
  );
  refused(rawConfig({ events: [{ type: "part_end" }] }), /events\[0\]\.time is missing/);
});

Deno.test("extension events need extensions: true", () => {
  refused(
    rawConfig({ events: [{ type: "part_leader", time: 1 }] }),
    /part_leader is an extension: the config needs "extensions": true/,
  );
  const config = parseConfig(rawConfig({
    extensions: true,
    events: [{ type: "part_leader", time: 1 }, { type: "kill_leader_on_put_ack", time: 2 }],
  }));
  assert.deepEqual(config.events.map((event) => event.type), [
    "part_leader",
    "kill_leader_on_put_ack",
  ]);
});

Deno.test("pause_leader, kill9_leader and part_no_quorum are extensions", () => {
  for (const type of ["pause_leader", "kill9_leader", "part_no_quorum"]) {
    refused(
      rawConfig({
        events: [{ type, time: 1, ...(type === "pause_leader" ? { seconds: 1 } : {}) }],
      }),
      new RegExp(`${type} is an extension: the config needs "extensions": true`),
    );
  }
  const config = parseConfig(rawConfig({
    extensions: true,
    events: [
      { type: "pause_leader", time: 1, seconds: 2.5 },
      { type: "kill9_leader", time: 5 },
      { type: "part_no_quorum", time: 6 },
    ],
  }));
  assert.deepEqual(config.events, [
    { type: "pause_leader", timeS: 1, durationS: 2.5 },
    { type: "kill9_leader", timeS: 5 },
    { type: "part_no_quorum", timeS: 6 },
  ]);
});

Deno.test("pause_leader needs seconds above 0 that end within the lifetime", () => {
  const pause = (fields: Record<string, unknown>) =>
    rawConfig({ extensions: true, events: [{ type: "pause_leader", time: 25, ...fields }] });
  refused(pause({}), /events\[0\]\.seconds is missing/);
  refused(pause({ seconds: "2" }), /events\[0\]\.seconds is "2": it must be a number/, TypeError);
  refused(pause({ seconds: 0 }), /events\[0\]\.seconds is 0: it must be above 0 and at most 5/);
  refused(pause({ seconds: 6 }), /events\[0\]\.seconds is 6: it must be above 0 and at most 5/);
  assert.equal(parseConfig(pause({ seconds: 5 })).events[0]?.durationS, 5);
});

Deno.test("only pause_leader takes seconds", () => {
  refused(
    rawConfig({ extensions: true, events: [{ type: "kill9_leader", time: 1, seconds: 2 }] }),
    /events\[0\]\.seconds is 2: only pause_leader takes seconds/,
  );
});

Deno.test("benchmarks need all four metrics with exactly three numbers each", () => {
  refused(
    rawConfig({ tests: { benchmarks: { ...BENCHMARKS, latency: [1, 2, 3] } } }),
    /tests\.benchmarks has latency/,
  );
  refused(
    rawConfig({ tests: { benchmarks: { ...BENCHMARKS, failures: [1, 2] } } }),
    /tests\.benchmarks\.failures is \[1,2\]: it must be three numbers/,
  );
  const { duplicates: _, ...withoutDuplicates } = BENCHMARKS;
  refused(
    rawConfig({ tests: { benchmarks: withoutDuplicates } }),
    /tests\.benchmarks\.duplicates is missing/,
  );
});

Deno.test("a top-level fraction is ignored like the course grader does, with a note", () => {
  const config = parseConfig(rawConfig({ maximum_get_generation_fail_fraction: 0.2 }));
  assert.equal(config.maxGetGenerationFailFraction, 0.1);
  assert.equal(config.notes.length, 1);
  assert.match(config.notes[0] ?? "", /maximum_get_generation_fail_fraction is ignored/);
});

Deno.test("every standard config loads and the 17 match PROTOCOL.md section 8", async () => {
  const advanced4 = await loadConfig("configs/advanced-4.json");
  assert.equal(advanced4.requests, 300);
  assert.equal(advanced4.drops, 0.1);
  assert.equal(advanced4.endWaitS, 5);
  assert.equal(advanced4.events.length, 7);
  assert.deepEqual(advanced4.benchmarks.median_latency, [0.0002, 0.005, 0.1]);
  assert.equal(advanced4.maxGetGenerationFailFraction, 0.1);
  const simple1 = await loadConfig("configs/simple-1.json");
  assert.equal(simple1.mix, 0.8);
  assert.deepEqual(simple1.benchmarks.total_msgs, [1200, 3000, 5000]);
});

Deno.test("a config file that is not JSON is refused with a SyntaxError", async () => {
  await assert.rejects(
    () => loadConfig("tests/fixtures/not_json_config.txt"),
    (error: unknown) => error instanceof SyntaxError && /is not valid JSON/.test(error.message),
  );
});
