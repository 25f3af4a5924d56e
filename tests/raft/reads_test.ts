import assert from "node:assert/strict";
import { Network, TEST_TIMING } from "./_network.ts";
import {
  appendReply,
  appendsTo,
  campaign,
  deliver,
  makeNode,
  makeReplica,
  PEERS,
  putCommand,
  seedLog,
} from "./_drive.ts";
import type { GetRequest } from "../../lib/kv/messages.ts";

function get(mid: string, key: string, to = "0000"): GetRequest {
  return { src: "0100", dst: to, leader: "FFFF", type: "get", MID: mid, key };
}

/**
 * A leader holding a lease (a majority acknowledged an AppendEntries sent less
 * than leaseMs ago) answers a get from its state at once, with no message.
 * Thesis §6.4 (lease-based reads).
 */
Deno.test("a get under a lease is served with zero messages", () => {
  const net = new Network({ size: 5, seed: 11 });
  const leader = net.elect();
  net.request(leader.id, { type: "put", MID: "p", key: "k", value: "v" });
  net.runFor(300);
  const before = net.peerMessagesSent;
  net.inject(leader.id, get("g", "k", leader.id));
  assert.equal(net.peerMessagesSent, before);
  assert.deepEqual(net.repliesTo("g"), [
    { src: leader.id, dst: "0100", leader: leader.id, type: "ok", MID: "g", value: "v" },
  ]);
});

/**
 * A key never put reads as "" (PROTOCOL.md section 2).
 */
Deno.test("a get of a key never put returns the empty string", () => {
  const net = new Network({ size: 3, seed: 12 });
  const leader = net.elect();
  net.runFor(300);
  net.inject(leader.id, get("g", "nothing", leader.id));
  assert.deepEqual(net.repliesTo("g").map((r) => [r.type, "value" in r ? r.value : undefined]), [
    ["ok", ""],
  ]);
});

/**
 * Once the lease has lapsed the leader does not answer from its state: it
 * records a read index, sends heartbeats at once, and answers when a majority
 * acknowledged one sent after the get arrived. Thesis §6.4 (ReadIndex).
 */
Deno.test("a get after the lease lapsed waits for a ReadIndex round", () => {
  const node = makeReplica();
  const at = campaign(node, 0);
  node.ready();
  for (const peer of PEERS) {
    node.step(appendReply(peer, { term: node.currentTerm, matchIndex: 1, sentAt: at }), at + 1);
  }
  node.ready();
  const askedAt = at + 500;
  const out = deliver(node, get("g", "k"), askedAt);
  assert.deepEqual(out.filter((m) => m.type === "ok"), [], "no answer from a lapsed lease");
  for (const peer of PEERS) assert.equal(appendsTo(out, peer).length, 1);
  const stale = appendReply("0001", { term: node.currentTerm, matchIndex: 1, sentAt: at });
  assert.deepEqual(deliver(node, stale, askedAt + 1), []);
  const fresh = { term: node.currentTerm, matchIndex: 1, sentAt: askedAt };
  assert.deepEqual(deliver(node, appendReply("0001", fresh), askedAt + 1), []);
  const answer = deliver(node, appendReply("0002", fresh), askedAt + 1);
  assert.deepEqual(answer.map((m) => m.type), ["ok"]);
});

/**
 * A new leader serves no get before an entry of its own term is committed, even
 * with a majority in touch. Raft §8.
 */
Deno.test("a new leader answers gets only after committing its no-op", () => {
  const node = makeReplica();
  const at = campaign(node, 0);
  node.ready();
  assert.deepEqual(deliver(node, get("g", "k"), at), []);
  const ack = (peer: string) =>
    deliver(node, appendReply(peer, { term: node.currentTerm, matchIndex: 0, sentAt: at }), at + 1);
  ack("0001");
  assert.deepEqual(ack("0002").filter((m) => m.type === "ok"), []);
  // At at + 100 the first commit no longer waits for 0003 and 0004 to answer.
  const commit = (peer: string) =>
    deliver(
      node,
      appendReply(peer, { term: node.currentTerm, matchIndex: 1, sentAt: at }),
      at + 100,
    );
  commit("0001");
  assert.deepEqual(commit("0002").filter((m) => m.dst === "0100").map((m) => m.type), ["ok"]);
});

/**
 * A ReadIndex round is confirmed by acknowledgements of AppendEntries sent
 * after the get arrived, but those may have waited in the socket while the
 * leader's process stalled. Once they are older than the lease, a newer leader
 * may have been elected and have acknowledged a newer put, and the course's
 * client judges a get by the last put acknowledged when the answer arrives. So
 * the round serves the get only while its acknowledgements are fresh.
 */
Deno.test("a ReadIndex round confirmed by acknowledgements older than the lease serves no get", () => {
  const node = makeReplica();
  const at = campaign(node, 0);
  node.ready();
  assert.deepEqual(deliver(node, get("g", "k"), at), [], "held until the no-op commits");
  const ack = (peer: string, sentAt: number, now: number) =>
    deliver(node, appendReply(peer, { term: node.currentTerm, matchIndex: 1, sentAt }), now)
      .filter((m) => m.dst === "0100");
  const afterStall = at + TEST_TIMING.leaseMs + 1;
  ack("0001", at, afterStall);
  assert.deepEqual(ack("0002", at, afterStall), [], "answered from a stale round");
  ack("0001", afterStall, afterStall + 1);
  assert.deepEqual(ack("0002", afterStall, afterStall + 1).map((m) => m.type), ["ok"]);
});

/**
 * A leader cut off in a minority never answers a get from its stale state once
 * a newer leader may have accepted writes; the get ends as redirect or fail.
 * Raft §8, PROTOCOL.md section 6.
 */
Deno.test("a minority leader never serves a stale get", () => {
  const net = new Network({ size: 5, seed: 13 });
  const old = net.elect();
  net.request(old.id, { type: "put", MID: "p1", key: "k", value: "old" });
  net.runFor(300);
  const minority = [old.id, net.ids.find((id) => id !== old.id) as string];
  const majority = net.ids.filter((id) => !minority.includes(id));
  net.partition(minority, majority);
  net.runFor(500);
  net.request(old.id, { type: "get", MID: "g1", key: "k" });
  net.runUntil(() => net.leader() !== undefined && net.leader() !== old, 5_000);
  const current = net.leader();
  assert.ok(current !== undefined && majority.includes(current.id));
  net.request(current.id, { type: "put", MID: "p2", key: "k", value: "new" });
  net.runUntil(() => net.repliesTo("p2").length > 0);
  net.request(old.id, { type: "get", MID: "g2", key: "k" });
  // Past the default 5 s hold, so a get still held in the minority has failed.
  net.runFor(6_000);
  for (const mid of ["g1", "g2"]) {
    const replies = net.repliesTo(mid);
    assert.equal(replies.length, 1, `${mid} answered once`);
    const reply = replies[0];
    assert.ok(reply?.type !== "ok" || reply.value === "new", `${mid} read stale state`);
  }
});

/**
 * A new leader does not know its predecessor's commit index, only its own, which
 * may lag: the earlier terms' entries above it commit with the term's first
 * entry. So a read asked before that commit is for the term's first entry's
 * index, and an application that serves it once it applied that index reads
 * every put committed before the read was asked. Raft §8; thesis §6.4.
 */
Deno.test("a read asked before the term's first commit reads at that commit's index", () => {
  const node = makeNode();
  const earlier = [{ term: 1, command: putCommand(1) }, { term: 1, command: putCommand(2) }];
  seedLog(node, 1, earlier, 0, 1);
  const at = campaign(node, 2_000);
  node.ready();
  assert.equal(node.commitIndex, 1, "it knows entry 1 committed, not entry 2");
  assert.ok(node.requestRead(7, at));
  assert.deepEqual(node.ready().readStates, []);
  for (const peer of ["0001", "0002"]) {
    node.step(appendReply(peer, { term: node.currentTerm, matchIndex: 3, sentAt: at }), at + 1);
  }
  assert.equal(node.commitIndex, 3, "its no-op committed, and entry 2 with it");
  assert.deepEqual(node.ready().readStates, [{ context: 7, index: 3 }]);
});
