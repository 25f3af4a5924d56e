import assert from "node:assert/strict";
import { createPrng } from "../../lib/sim/_prng.ts";
import { isCourseAddress, Network } from "../../lib/sim/network.ts";
import { createCounters } from "../../lib/sim/stats.ts";
import { scriptedPrng } from "./_helpers.ts";

const REPLICAS = ["0000", "0001", "0002", "0003", "0004"];
const CLIENTS = ["0015", "0016"];

function network(drops = 0, random = createPrng(1)) {
  const counters = createCounters();
  return {
    counters,
    net: new Network({ replicaIds: REPLICAS, clientIds: CLIENTS, drops, random, counters }),
  };
}

const wire = (fields: Record<string, unknown>) =>
  JSON.stringify({ src: "0000", dst: "0001", leader: "0000", type: "x", ...fields });

Deno.test("a message to one replica counts 1 and is delivered", () => {
  const { net, counters } = network();
  const route = net.route(wire({}));
  assert.equal(route.kind, "replicas");
  assert.deepEqual(route.kind === "replicas" && route.deliverTo, ["0001"]);
  assert.equal(counters.totalMsgs, 1);
});

Deno.test("a broadcast counts N-1 and goes to every other replica, dead ones included", () => {
  const { net, counters } = network();
  const route = net.route(wire({ dst: "FFFF" }));
  assert.deepEqual(route.kind === "replicas" && route.deliverTo, ["0001", "0002", "0003", "0004"]);
  assert.equal(counters.totalMsgs, 4);
});

Deno.test("messages are counted by kind too, an append without entries as a heartbeat", () => {
  const { net, counters } = network();
  net.route(wire({ type: "append_entries", entries: [{ term: 1 }] }));
  net.route(wire({ type: "append_entries", entries: [], dst: "FFFF" }));
  net.route(wire({ type: "append_entries", entries: [], repliers: [] }));
  net.route(wire({ type: "append_entries_reply" }));
  net.route(wire({ type: "append_entries_reply", secondCopy: true }));
  assert.deepEqual(counters.messagesByKind, {
    append_entries: 1,
    heartbeat: 4,
    commit_notice: 1,
    append_entries_reply: 1,
    reply_copy: 1,
  });
  assert.equal(counters.totalMsgs, 8);
});

Deno.test("messages are counted before the drop decision", () => {
  const { net, counters } = network(1);
  const route = net.route(wire({ dst: "FFFF" }));
  assert.deepEqual(route.kind === "replicas" && route.deliverTo, []);
  assert.equal(counters.totalMsgs, 4);
  assert.equal(counters.totalDrops, 4);
});

Deno.test("each broadcast copy is dropped independently", () => {
  const { net, counters } = network(0.5, scriptedPrng([0.9, 0.1, 0.9, 0.1]));
  const route = net.route(wire({ dst: "FFFF" }));
  assert.deepEqual(route.kind === "replicas" && route.deliverTo, ["0001", "0003"]);
  assert.equal(counters.totalDrops, 2);
});

Deno.test("a reply to a client is never counted, dropped or partitioned", () => {
  const { net, counters } = network(1);
  net.partitionHard();
  const route = net.route(wire({ src: "0004", dst: "0015", type: "ok", MID: "m" }));
  assert.equal(route.kind, "client");
  assert.equal(counters.totalMsgs, 0);
  assert.equal(counters.totalDrops, 0);
});

Deno.test("an unknown destination is an incorrect message", () => {
  const { net, counters } = network();
  const route = net.route(wire({ dst: "0ABC" }));
  assert.equal(route.kind, "incorrect");
  assert.equal(counters.incorrect, 1);
  assert.equal(counters.totalMsgs, 0);
});

Deno.test("malformed datagrams are incorrect, each with the course's warning", () => {
  const cases: [string, RegExp][] = [
    ["not json", /Unable to decode JSON message/],
    ["[1]", /Message is not a dictionary/],
    ['"text"', /Message is not a dictionary/],
    ["5", /Message is not a dictionary/],
    ["null", /Message is not a dictionary/],
    [JSON.stringify({ src: "0000", dst: "0001", type: "x" }), /missing a required field/],
    [wire({ leader: "LEAD" }), /Incorrect leader format/],
    [wire({ dst: 1 }), /Incorrect destination format/],
    [wire({ src: "00000" }), /Incorrect source format/],
  ];
  for (const [text, pattern] of cases) {
    const { net, counters } = network();
    const route = net.route(text);
    assert.equal(route.kind, "incorrect");
    assert.match(route.kind === "incorrect" ? route.warning : "", pattern);
    assert.equal(counters.incorrect, 1);
  }
});

Deno.test("ids must be exactly four hex digits", () => {
  for (const ok of ["0000", "FFFF", "abcd", "001C"]) assert.ok(isCourseAddress(ok), ok);
  for (const bad of ["000", "00000", "GHIJ", "0x1f", "-001", " 1a ", 17, null]) {
    assert.ok(!isCourseAddress(bad), String(bad));
  }
});

Deno.test("hello is neither counted nor taken as a leader", () => {
  const { net, counters } = network();
  const route = net.route(wire({ dst: "FFFF", leader: "0003", type: "hello" }));
  assert.equal(route.kind, "hello");
  assert.equal(counters.totalMsgs, 0);
  assert.equal(net.leader, "FFFF");
  assert.deepEqual(counters.leaders, []);
});

Deno.test("the leader comes from every routed message's leader field, repeats collapsed", () => {
  const { net, counters } = network();
  net.route(wire({ leader: "FFFF" }));
  net.route(wire({ leader: "0002" }));
  net.route(wire({ leader: "0002", dst: "0015" }));
  net.route(wire({ leader: "0004", dst: "0BAD" }));
  assert.equal(net.leader, "0004");
  assert.deepEqual(counters.leaders, ["FFFF", "0002", "0004"]);
});

Deno.test("part_easy keeps the known leader on the majority side", () => {
  for (let seed = 0; seed < 20; seed++) {
    const { net } = network(0, createPrng(seed));
    net.route(wire({ leader: "0003" }));
    assert.equal(net.partitionEasy(), false);
    assert.equal(net.partition?.size, 3);
    assert.ok(net.partition?.has("0003"));
    assert.equal(net.leader, "0003");
  }
});

Deno.test("part_easy with no known leader acts as part_hard", () => {
  const { net } = network();
  assert.equal(net.partitionEasy(), true);
  assert.equal(net.partition?.size, 3);
});

Deno.test("part_hard draws a random majority, forgets the leader, may leave it out", () => {
  let leaderLeftOut = false;
  for (let seed = 0; seed < 30; seed++) {
    const { net } = network(0, createPrng(seed));
    net.route(wire({ leader: "0003" }));
    assert.equal(net.partitionHard(), true);
    assert.equal(net.leader, "FFFF");
    assert.equal(net.partition?.size, 3);
    if (!net.partition?.has("0003")) leaderLeftOut = true;
  }
  assert.ok(leaderLeftOut);
});

Deno.test("a partition cuts messages across sides and only majority senders set the leader", () => {
  const { net, counters } = network(0, scriptedPrng([0, 0, 0]));
  net.partitionHard();
  assert.deepEqual([...(net.partition ?? [])].sort(), ["0000", "0001", "0002"]);
  const across = net.route(wire({ src: "0003", dst: "0000", leader: "0003" }));
  assert.deepEqual(across.kind === "replicas" && across.deliverTo, []);
  assert.equal(counters.totalDrops, 1);
  assert.equal(net.leader, "FFFF");
  const minority = net.route(wire({ src: "0003", dst: "0004", leader: "0003" }));
  assert.deepEqual(minority.kind === "replicas" && minority.deliverTo, ["0004"]);
  net.route(wire({ src: "0001", dst: "0002", leader: "0001" }));
  assert.equal(net.leader, "0001");
  net.partitionEnd();
  const healed = net.route(wire({ src: "0003", dst: "0000", leader: "0003" }));
  assert.deepEqual(healed.kind === "replicas" && healed.deliverTo, ["0000"]);
});

Deno.test("part_leader isolates exactly the current leader and keeps it as the leader", () => {
  const { net } = network();
  net.route(wire({ leader: "0002" }));
  assert.equal(net.partitionLeader(), true);
  assert.deepEqual([...(net.partition ?? [])].sort(), ["0000", "0001", "0003", "0004"]);
  assert.equal(net.canCommunicate("0002", "0001"), false);
  assert.equal(net.canCommunicate("0003", "0001"), true);
  const { net: unknown } = network();
  assert.equal(unknown.partitionLeader(), false);
  assert.equal(unknown.partition, undefined);
});

Deno.test("part_no_quorum puts the dead replicas on the majority side and forgets the leader", () => {
  for (let seed = 1; seed <= 20; seed += 1) {
    const { net } = network(0, createPrng(seed));
    net.route(wire({ leader: "0002" }));
    assert.equal(net.partitionNoQuorum(["0004"]), true);
    const side = net.partition ?? new Set<string>();
    assert.equal(side.size, 3);
    assert.ok(side.has("0004"), `seed ${seed}: ${[...side]}`);
    assert.equal(net.leader, "FFFF");
  }
});
