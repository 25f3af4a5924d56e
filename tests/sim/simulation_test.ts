import assert from "node:assert/strict";
import { memoryOutput } from "../../lib/sim/_console.ts";
import { loadConfig } from "../../lib/sim/config.ts";
import { main } from "../../lib/sim/main.ts";
import { runSimulation } from "../../lib/sim/simulation.ts";
import { setTimeout as delay } from "node:timers/promises";
import { config } from "./_helpers.ts";

const WRONG_REPLICA = "tests/fixtures/empty_get_replica";

Deno.test('a replica answering every get with "" fails with incorrect responses and a linearizability violation', async () => {
  const output = memoryOutput();
  const result = await runSimulation({
    config: config({ lifetime: 5, requests: 60, mix: 0.5, start_wait: 1, end_wait: 1 }),
    seed: 11,
    program: WRONG_REPLICA,
    output,
    quiet: true,
  });
  assert.ok(result.counters.incorrect > 0);
  assert.deepEqual(
    result.checks.filter((check) => !check.passed).map((check) => check.check),
    ["incorrect", "total_msgs"],
  );
  assert.equal(result.coursePassed, false);
  assert.equal(result.linearizability.linearizable, false);
  assert.ok(result.linearizability.violations.length > 0);
  assert.equal(result.passed, false);
  assert.equal(result.counters.died, 0);
  assert.deepEqual(result.counters.leaders, ["0000"]);
  assert.ok(output.lines.some((line) => line.includes("incorrect value for a key")));
});

Deno.test("a run whose schedule throws stops every replica before the error reaches its caller", async () => {
  const output = memoryOutput();
  // A bug anywhere in an event's handling stands in here as an output that fails on its line.
  const failing = {
    ...output,
    line(text: string) {
      if (text.includes("kill_non_leader: killing")) throw new Error("a bug in an event");
      output.line(text);
    },
  };
  await assert.rejects(
    runSimulation({
      config: config({
        lifetime: 5,
        requests: 20,
        start_wait: 1,
        end_wait: 1,
        events: [{ type: "kill_non_leader", time: 1 }],
      }),
      seed: 3,
      program: WRONG_REPLICA,
      output: failing,
      quiet: false,
    }),
    /a bug in an event/,
  );
  // Each replica runs in a detached process group, so nothing else would stop it.
  const left = await new Deno.Command("pgrep", { args: ["-f", WRONG_REPLICA], stdout: "piped" })
    .output();
  assert.equal(left.code, 1, `still running: ${new TextDecoder().decode(left.stdout)}`);
});

Deno.test("our replica passes a short config with a linearizable history", async () => {
  const result = await runSimulation({
    config: await loadConfig("configs/short/simple.json"),
    seed: 1,
    program: "./3700kvstore",
    output: memoryOutput(),
    quiet: true,
  });
  assert.deepEqual(result.checks.filter((check) => !check.passed), []);
  assert.equal(result.linearizability.linearizable, true);
  assert.equal(result.passed, true);
  assert.ok(result.counters.totalMsgs > 0);
  // Five Deno processes started, ran and stopped: each takes a tenth of a second to start.
  if (Deno.build.os === "linux") {
    assert.ok((result.replicaCpuS ?? 0) > 0.2, `${result.replicaCpuS}`);
  }
});

Deno.test("a missing replica program is refused before anything starts, with status 2", async () => {
  const status = await main(
    ["configs/short/simple.json", "--replica", "./no-such-replica"],
    new AbortController().signal,
  );
  assert.equal(status, 2);
});

Deno.test("an invalid config is refused with status 2", async () => {
  const status = await main(
    ["tests/fixtures/not_json_config.txt", "--replica", WRONG_REPLICA],
    new AbortController().signal,
  );
  assert.equal(status, 2);
});

Deno.test("our replica survives a leader stopped with SIGSTOP for 3 s, with a linearizable history", async () => {
  const output = memoryOutput();
  const result = await runSimulation({
    config: await loadConfig("configs/short/pause_leader.json"),
    seed: 8,
    program: "./3700kvstore",
    output,
    quiet: false,
  });
  assert.ok(output.lines.some((line) => /pause_leader: stopping \w{4} for 3 s/.test(line)));
  assert.ok(output.lines.some((line) => /pause_leader: continuing \w{4}/.test(line)));
  // Another replica led while it slept: 3 s is longer than the longest election
  // timeout (2.4 s), so some follower always stood.
  assert.ok(new Set(result.counters.leaders.filter((id) => id !== "FFFF")).size >= 2);
  assert.deepEqual(result.checks.filter((check) => !check.passed), []);
  // A get the resumed leader answered from its stale state would make this false.
  assert.equal(result.linearizability.linearizable, true);
  assert.equal(result.counters.killed, 0);
  assert.deepEqual(Object.keys(result.socketStats ?? {}), ["0000", "0001", "0002", "0003", "0004"]);
});

Deno.test("our replica survives a leader killed with SIGKILL, with a linearizable history", async () => {
  const output = memoryOutput();
  const result = await runSimulation({
    config: await loadConfig("configs/short/kill9_leader.json"),
    seed: 9,
    program: "./3700kvstore",
    output,
    quiet: false,
  });
  assert.ok(output.lines.some((line) => /kill9_leader: killing \w{4} with SIGKILL/.test(line)));
  assert.equal(result.counters.killed, 1);
  assert.equal(result.counters.died, 0);
  assert.deepEqual(result.checks.filter((check) => !check.passed), []);
  assert.equal(result.linearizability.linearizable, true);
});

Deno.test("SIGTERM stops deno task sim as Ctrl-C does: status 143, and the output says so", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "--allow-net=127.0.0.1",
      "--allow-run",
      "--allow-read=.",
      "lib/sim/main.ts",
      "configs/short/simple.json",
      "--replica",
      WRONG_REPLICA,
      "--quiet",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  while (!printed.includes("Simulating")) {
    const chunk = await stdout.read();
    if (chunk.done) break;
    printed += chunk.value;
  }
  await delay(1500);
  child.kill("SIGTERM");
  for (let chunk = await stdout.read(); !chunk.done; chunk = await stdout.read()) {
    printed += chunk.value;
  }
  const status = await child.status;
  assert.equal(status.code, 143);
  assert.match(printed, /\*\*\* Interrupted \d+\.\d s into a 13 s run/);
});
