import assert from "node:assert/strict";
import { memoryOutput } from "../../lib/sim/_console.ts";
import { loadConfig } from "../../lib/sim/config.ts";
import { main } from "../../lib/sim/main.ts";
import { packetStormLine } from "../../lib/sim/simulation.ts";
import { STANDARD_CONFIGS } from "../../lib/sim/standard.ts";
import { failures } from "../../lib/sim/stats.ts";
import { MEASURED_HOPS, runVirtual } from "../../lib/sim/virtual.ts";
import { config } from "./_helpers.ts";

/** A short run with loss and a leader kill: the paths a virtual run has to get right. */
const LOSSY_KILL = config({
  lifetime: 8,
  requests: 120,
  mix: 0.2,
  drops: 0.15,
  start_wait: 1,
  end_wait: 2,
  events: [{ type: "kill_leader", time: 4 }],
});

Deno.test("a virtual run is the same run for the same seed, to the message", () => {
  const first = runVirtual({ config: LOSSY_KILL, seed: 7 });
  const second = runVirtual({ config: LOSSY_KILL, seed: 7 });
  assert.deepEqual(second.counters, first.counters);
  assert.deepEqual(second.timeline.requests, first.timeline.requests);
  const other = runVirtual({ config: LOSSY_KILL, seed: 8 });
  assert.notDeepEqual(other.counters.latenciesS, first.counters.latenciesS);
});

Deno.test("the largest seeds give each replica a stream of its own, as small ones do", () => {
  // Seeds from about 2^43 once left the replicas one shared stream (seed + a fraction
  // rounds to the seed): their elections split the vote, and seed 2^50 + 2 lost 7 requests.
  const calm = config({ lifetime: 6, requests: 60, mix: 0.1, start_wait: 1, end_wait: 1 });
  for (const seed of [Number.MAX_SAFE_INTEGER, 2 ** 50 + 1, 2 ** 50 + 2, 2 ** 50 + 3]) {
    const { counters } = runVirtual({ config: calm, seed });
    assert.equal(failures(counters), 0, String(seed));
    // One campaign: a single candidate asked each of the 4 others once. (A vote
    // answer routed after the leader's first message names no leader, so the
    // list of leaders named may go back to FFFF once.)
    assert.equal(counters.messagesByKind["request_vote"], 4, `${seed}: ${counters.leaders}`);
    assert.equal(new Set(counters.leaders).size, 2, `${seed}: ${counters.leaders}`);
  }
});

Deno.test("a virtual run stops as a packet storm at max_packets, as a live one does", () => {
  const stormy = config({ lifetime: 10, requests: 200, mix: 0.2, max_packets: 500 });
  const output = memoryOutput();
  const result = runVirtual({ config: stormy, seed: 3, output });
  assert.equal(result.stopReason, "packet_storm");
  assert.deepEqual(output.lines, [packetStormLine(stormy)]);
  // Counted when routed, so the run stops at the datagram that reached the limit (a
  // broadcast counts one per other replica).
  const { totalMsgs } = result.counters;
  assert.ok(totalMsgs >= 500 && totalMsgs < 500 + 4, String(totalMsgs));
  const { endedAtMs, plannedMs } = result.timeline;
  assert.ok(endedAtMs < plannedMs - 1_000, `${endedAtMs} of ${plannedMs}`);
});

Deno.test("every standard config passes on the virtual clock, linearizable, with its kills", async () => {
  for (const { file } of STANDARD_CONFIGS) {
    const standard = await loadConfig(`configs/${file}`);
    const result = runVirtual({ config: standard, seed: 1 });
    const kills = standard.events.filter((event) => event.type.startsWith("kill")).length;
    assert.equal(result.passed, true, `${file}: ${JSON.stringify(result.checks)}`);
    assert.equal(result.linearizability.linearizable, true, file);
    assert.equal(result.counters.killed, kills, file);
    assert.equal(result.counters.died, 0, file);
    assert.equal(result.clock, "virtual");
  }
});

Deno.test("a killed leader is replaced, and a paused one loses its lead", () => {
  const killed = runVirtual({ config: LOSSY_KILL, seed: 3 });
  assert.equal(killed.counters.killed, 1);
  assert.ok(new Set(killed.counters.leaders).size >= 2, String(killed.counters.leaders));
  // Every check but the course's get-generation one, which is the workload's: with
  // about 19 gets, two clients whose first turn is a get fail it, whatever the replica.
  const failed = killed.checks.filter(({ check, passed }) => !passed && check !== "get_generated");
  assert.deepEqual(failed, []);
  assert.equal(killed.linearizability.linearizable, true);
  const paused = runVirtual({
    config: config({
      lifetime: 8,
      requests: 80,
      start_wait: 1,
      end_wait: 4,
      extensions: true,
      events: [{ type: "pause_leader", time: 2, seconds: 3 }],
    }),
    seed: 3,
  });
  assert.equal(paused.counters.killed, 0);
  assert.ok(new Set(paused.counters.leaders).size >= 2, String(paused.counters.leaders));
  // A paused leader that answered gets from its old state would break these.
  assert.equal(paused.counters.incorrect, 0);
  assert.equal(paused.linearizability.linearizable, true);
});

Deno.test("the hop model sets the latencies: slower hops, slower replies", () => {
  const calm = config({ lifetime: 5, requests: 100, start_wait: 1, end_wait: 1 });
  const measured = runVirtual({ config: calm, seed: 5 });
  const slow = runVirtual({
    config: calm,
    seed: 5,
    hops: { ...MEASURED_HOPS, deliverMinMs: 3 * MEASURED_HOPS.deliverMinMs },
  });
  assert.ok(slow.latencyByReply.putOk.p50S > measured.latencyByReply.putOk.p50S);
  assert.ok(slow.latencyByReply.getOk.p50S > measured.latencyByReply.getOk.p50S);
  // A get under a lease is one hop there and back: deliver, handle, return.
  const { deliverMinMs, handleMinMs, returnMs } = MEASURED_HOPS;
  assert.ok(measured.latencyByReply.getOk.p50S * 1000 > deliverMinMs + handleMinMs + returnMs);
});

Deno.test("a late timer delays what waits on it: hedges under loss", () => {
  const lossy = config({ lifetime: 8, requests: 150, drops: 0.2, start_wait: 1, end_wait: 1 });
  const measured = runVirtual({ config: lossy, seed: 9 });
  const late = runVirtual({ config: lossy, seed: 9, hops: { ...MEASURED_HOPS, timerLateMs: 20 } });
  assert.ok(late.latencyByReply.putOk.p90S > measured.latencyByReply.putOk.p90S + 0.015);
});

Deno.test("deno task sim --virtual runs in process, and refuses a replica program", async () => {
  const signal = new AbortController().signal;
  const ran = await main(
    ["configs/short/simple.json", "--virtual", "--quiet", "--seed", "2"],
    signal,
  );
  assert.equal(ran, 0);
  const refused = await main(["configs/short/simple.json", "--virtual", "--replica", "x"], signal);
  assert.equal(refused, 2);
});
