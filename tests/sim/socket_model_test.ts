import assert from "node:assert/strict";
import {
  GraderLoop,
  RECEIVE_BUFFER_BYTES,
  type SocketStats,
  truesizeBytes,
} from "../../lib/sim/socket_model.ts";

/** A grader that stays busy for a second after routing anything, so arrivals queue up. */
const STALLED = { passUs: 1_000_000, datagramUs: 0, copyUs: 0 };

function loopWith(
  ids: string[],
  costsUs = STALLED,
): { loop: GraderLoop; routed: string[] } {
  const routed: string[] = [];
  const loop = new GraderLoop({
    handle: (id, data) => {
      routed.push(`${id}:${data[0]}`);
      return 0;
    },
    costsUs,
  });
  for (const id of ids) loop.open(id);
  return { loop, routed };
}

function statsOf(loop: GraderLoop, id: string): SocketStats {
  const stats = loop.stats().get(id);
  assert.ok(stats);
  return stats;
}

Deno.test("truesize follows the kernel's buckets measured on loopback", () => {
  const measured: [number, number][] = [
    [0, 832],
    [197, 832],
    [198, 1280],
    [645, 1280],
    [646, 2304],
    [1669, 2304],
    [1670, 4352],
    [3717, 4352],
    [3718, 8448],
    [7813, 8448],
    [7814, 16640],
    [16004, 16640],
    [16005, 16837],
    [60000, 60832],
  ];
  for (const [payloadBytes, charged] of measured) {
    assert.equal(truesizeBytes(payloadBytes), charged, `${payloadBytes} bytes`);
  }
});

Deno.test("a socket nobody reads holds 166 datagrams of 400 bytes or 48 of 2,000, then drops", () => {
  const cases: [number, number][] = [[400, 166], [2000, 48]];
  for (const [payloadBytes, fits] of cases) {
    const { loop, routed } = loopWith(["0000"]);
    // The first one is read at once and keeps the grader busy; the rest stay queued.
    for (let i = 0; i < fits + 3; i += 1) loop.offer("0000", new Uint8Array(payloadBytes), 1, 0);
    assert.equal(routed.length, 1);
    const stats = statsOf(loop, "0000");
    assert.equal(stats.peakQueuedDatagrams, fits);
    assert.equal(stats.drops, 2);
    assert.ok(stats.peakQueuedBytes <= RECEIVE_BUFFER_BYTES);
  }
});

Deno.test("each pass reads one datagram per non-empty socket, in socket order", () => {
  const { loop, routed } = loopWith(["0000", "0001", "0002"]);
  loop.offer("0002", Uint8Array.of(0), 1, 0);
  for (const n of [1, 2, 3]) loop.offer("0000", Uint8Array.of(n), 1, 0);
  loop.offer("0001", Uint8Array.of(1), 1, 0);
  assert.deepEqual(routed, ["0002:0"]);
  // Passes start at 1 s, 2 s and 3 s: the grader is busy for a second after each.
  assert.equal(loop.runDue(999), 1000);
  assert.equal(loop.runDue(1000), 2000);
  assert.deepEqual(routed, ["0002:0", "0000:1", "0001:1"]);
  assert.equal(loop.runDue(5000), undefined);
  assert.deepEqual(routed, ["0002:0", "0000:1", "0001:1", "0000:2", "0000:3"]);
});

Deno.test("a pass costs the select, each datagram and each copy it sends", () => {
  const loop = new GraderLoop({
    handle: () => 20,
    costsUs: { passUs: 5, datagramUs: 15, copyUs: 6 },
  });
  loop.open("0000");
  loop.offer("0000", new Uint8Array(10), 1, 0);
  loop.offer("0000", new Uint8Array(10), 1, 0);
  // The first pass routes one broadcast: 5 + 15 + 20 * 6 µs.
  assert.equal(loop.runDue(0), 0.14);
  assert.equal(loop.runDue(0.14), undefined);
});

Deno.test("a datagram arriving after the pass started waits for the next pass", () => {
  const { loop, routed } = loopWith(["0000", "0001"]);
  loop.offer("0000", Uint8Array.of(1), 1, 0);
  loop.offer("0000", Uint8Array.of(2), 1, 500);
  loop.offer("0001", Uint8Array.of(1), 1, 1500);
  loop.runDue(1000);
  assert.deepEqual(routed, ["0000:1", "0000:2"]);
  loop.runDue(2000);
  assert.deepEqual(routed, ["0000:1", "0000:2", "0001:1"]);
});

Deno.test("closing a socket discards its queue and ignores later datagrams", () => {
  const { loop, routed } = loopWith(["0000"]);
  loop.offer("0000", Uint8Array.of(1), 1, 0);
  loop.offer("0000", Uint8Array.of(2), 1, 0);
  loop.close("0000");
  assert.equal(loop.offer("0000", Uint8Array.of(3), 1, 0), false);
  assert.equal(loop.runDue(10_000), undefined);
  assert.deepEqual(routed, ["0000:1"]);
});

Deno.test("the largest burst counts what a replica sent within 300 ms, dropped or not", () => {
  const { loop } = loopWith(["0000"]);
  for (let i = 0; i < 200; i += 1) loop.offer("0000", new Uint8Array(1000), 1, i);
  for (let i = 0; i < 5; i += 1) loop.offer("0000", new Uint8Array(1000), 1, 1000 + i);
  const stats = statsOf(loop, "0000");
  assert.equal(stats.burstDatagrams, 200);
  assert.equal(stats.burstBytes, 200_000);
  assert.ok(stats.drops > 0);
});
