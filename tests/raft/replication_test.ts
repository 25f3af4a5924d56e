import assert from "node:assert/strict";
import { Network } from "./_network.ts";
import {
  appendEntries,
  appendReply,
  appendsTo,
  campaign,
  deliver,
  makeNode,
  makeReplica,
  midsOf,
  PEERS,
  putCommand,
  replicatingLeader,
  seedLog,
} from "./_drive.ts";
import type { AppendEntriesReply, Entry } from "../../lib/raft/messages.ts";
import type { RaftNode } from "../../lib/raft/node.ts";
import type { ServedReplica } from "../../lib/dst/replica.ts";

function logOf(
  node: Pick<RaftNode, "entryAt" | "lastIndex">,
  through = node.lastIndex,
): Entry[] {
  return Array.from({ length: through }, (_, i) => node.entryAt(i + 1) as Entry);
}

function put(n: number): Entry {
  return { term: 1, command: putCommand(n) };
}

/** The leader proposes put `n` at `now`; returns what it sends. */
function proposeAt(node: RaftNode, n: number, now: number) {
  assert.ok(node.propose(putCommand(n), now));
  return node.ready().messages;
}

/**
 * If two logs hold an entry with the same index and term, they are identical up
 * to that index; committed entries are on every live replica once the cluster
 * is quiet. Raft §5.3 (Log Matching, Figure 3).
 */
Deno.test("logs match and converge after lossy replication", () => {
  for (let seed = 1; seed <= 10; seed++) {
    const net = new Network({ size: 5, seed });
    net.elect();
    net.dropRate = 0.2;
    for (let i = 0; i < 40; i++) {
      const leader = net.leader();
      if (leader !== undefined) {
        net.request(leader.id, { type: "put", MID: `m${i}`, key: `k${i % 7}`, value: `v${i}` });
      }
      net.runFor(37);
    }
    net.dropRate = 0;
    net.runFor(3_000);
    const reference = net.leader() as ServedReplica;
    for (const node of net.live) {
      assert.equal(node.lastIndex, reference.lastIndex, `seed ${seed}`);
      assert.equal(node.commitIndex, reference.lastIndex, `seed ${seed}`);
      assert.deepEqual(logOf(node), logOf(reference), `seed ${seed}`);
      for (let k = 0; k < 7; k++) assert.equal(node.read(`k${k}`), reference.read(`k${k}`));
    }
  }
});

/**
 * A follower rejects an AppendEntries whose previous entry it does not hold,
 * hinting the term of its conflicting entry and the first index it stores for
 * that term, or its last index + 1 when its log is too short. Raft §5.3 (end).
 */
Deno.test("a follower's rejection carries the fast-backtracking hint", () => {
  const node = makeNode();
  seedLog(node, 2, [{ term: 1 }, { term: 1 }, { term: 2 }, { term: 2 }, { term: 2 }], 0);
  const [conflict] = deliver(
    node,
    appendEntries("0001", { term: 3, prevLogIndex: 5, prevLogTerm: 3 }),
    10,
  ) as AppendEntriesReply[];
  assert.equal(conflict?.success, false);
  assert.equal(conflict?.conflictTerm, 2);
  assert.equal(conflict?.conflictIndex, 3);
  const [short] = deliver(
    node,
    appendEntries("0001", { term: 3, prevLogIndex: 9, prevLogTerm: 3 }),
    20,
  ) as AppendEntriesReply[];
  assert.equal(short?.conflictTerm, 0);
  assert.equal(short?.conflictIndex, 6);
});

/**
 * On a rejection the leader skips the follower's whole conflicting term in one
 * round trip: with no entry of that term it retries at the hinted index.
 * Raft §5.3 (end).
 */
Deno.test("the leader skips a whole conflicting term per round trip", () => {
  const node = makeNode();
  seedLog(node, 1, [{ term: 1 }, { term: 1 }], 0, 2);
  const at = campaign(node, 2_000, 2);
  node.ready();
  const reply = appendReply("0003", {
    term: node.currentTerm,
    success: false,
    conflictIndex: 3,
    conflictTerm: 7,
    sentAt: at,
  });
  const [retry] = appendsTo(deliver(node, reply, at + 1), "0003");
  assert.equal(retry?.prevLogIndex, 2);
  assert.deepEqual(retry?.entries, [{ term: node.currentTerm }]);
});

/**
 * A follower whose log diverges over many entries of one stale term is repaired
 * in one rejection, not one per entry. Raft §5.3 (end).
 */
Deno.test("a long divergent suffix is repaired in one round trip per term", () => {
  const net = new Network({ size: 3, seed: 2 });
  const a = net.elect();
  const putAt = (node: ServedReplica, prefix: string, count: number) => {
    for (let i = 0; i < count; i++) {
      net.request(node.id, { type: "put", MID: `${prefix}${i}`, key: prefix, value: `${i}` });
    }
  };
  putAt(a, "a", 3);
  net.runFor(100);
  // A appends 60 puts of term 1 that only it stores.
  net.isolate(a.id);
  putAt(a, "x", 60);
  net.runUntil(() => net.leader() !== undefined && net.leader() !== a);
  const b = net.leader() as ServedReplica;
  putAt(b, "b", 5);
  net.runFor(100);
  // B's term-2 entries reach C only; C leads term 3 and repairs A.
  net.heal();
  net.isolate(b.id);
  let rejections = 0;
  net.filter = (message) => {
    if (message.type === "append_entries_reply" && !message.success && message.src === a.id) {
      rejections++;
    }
    return true;
  };
  net.runUntil(() => net.leader() !== undefined && net.leader() !== b, 5_000);
  const c = net.leader() as ServedReplica;
  assert.ok(c.lastIndex > 10);
  net.runUntil(() => a.commitIndex === c.lastIndex, 5_000);
  assert.equal(rejections, 1);
  assert.deepEqual(logOf(a), logOf(c));
  assert.equal(a.read("x"), "", "the uncommitted puts are gone");
  assert.equal(a.read("b"), "4");
});

/**
 * A stale or duplicated AppendEntries whose entries already match never
 * truncates the follower's log. Raft §5.3 ("if an existing entry conflicts").
 */
Deno.test("a stale AppendEntries does not truncate matching entries", () => {
  const node = makeNode();
  seedLog(node, 1, [{ term: 1 }, put(2), put(3), put(4)], 0);
  const [reply] = deliver(
    node,
    appendEntries("0001", { term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [put(2)] }),
    5,
  ) as AppendEntriesReply[];
  assert.equal(node.lastIndex, 4);
  assert.equal(reply?.success, true);
  assert.equal(reply?.matchIndex, 2);
});

/**
 * A conflicting entry is replaced with everything after it. Raft §5.3.
 */
Deno.test("a conflicting entry and all that follow it are replaced", () => {
  const node = makeNode();
  seedLog(node, 1, [{ term: 1 }, put(2), put(3), put(4)], 0);
  deliver(
    node,
    appendEntries("0002", {
      term: 2,
      prevLogIndex: 2,
      prevLogTerm: 1,
      entries: [{ term: 2 }],
      leaderCommit: 3,
    }),
    5,
  );
  assert.equal(node.lastIndex, 3);
  assert.equal(node.entryAt(3)?.term, 2);
  assert.equal(node.commitIndex, 3);
});

/**
 * The follower commits up to min(leaderCommit, index of its last new entry).
 * Raft §5.3 (AppendEntries receiver rule 5).
 */
Deno.test("a follower commits no further than the entries the leader vouched for", () => {
  const node = makeReplica();
  seedLog(node, 1, [{ term: 1 }, put(2), put(3)], 0);
  deliver(
    node,
    appendEntries("0001", { term: 1, prevLogIndex: 1, prevLogTerm: 1, leaderCommit: 3 }),
    5,
  );
  assert.equal(node.commitIndex, 1);
  assert.equal(node.read("k2"), "");
});

/**
 * A leader never commits an entry of an earlier term by counting replicas: it
 * must first replicate an entry of its own term on a majority, which commits the
 * older ones with it. Raft §5.4.2 (Figure 8).
 */
Deno.test("a leader only commits entries from its current term by counting replicas", () => {
  const node = makeReplica();
  const old = { key: "x", value: "old", client: "0100", MID: "m" };
  seedLog(node, 2, [{ term: 1 }, { term: 2, command: old }], 0);
  const at = campaign(node, 2_000);
  assert.equal(node.currentTerm, 3);
  assert.equal(node.lastIndex, 3, "the leader appended its no-op");
  node.ready();
  for (const peer of ["0001", "0002"]) {
    node.step(appendReply(peer, { term: 3, matchIndex: 2, sentAt: at }), at + 1);
  }
  assert.equal(node.commitIndex, 0, "the term-2 entry is on a majority but must not commit");
  node.step(appendReply("0001", { term: 3, matchIndex: 3, sentAt: at }), at + 2);
  assert.equal(node.commitIndex, 0);
  node.step(appendReply("0002", { term: 3, matchIndex: 3, sentAt: at }), at + 2);
  assert.equal(node.commitIndex, 3);
  node.ready();
  assert.equal(node.read("x"), "old", "applied with the next ready()");
});

/**
 * Committed entries are applied in log order, so a later put of a key wins.
 * Raft §5.3 (State Machine Safety).
 */
Deno.test("committed entries are applied in log order", () => {
  const node = makeReplica();
  const entries = [1, 2, 3].map((n) => ({ term: 1, command: { ...putCommand(n), key: "a" } }));
  seedLog(node, 1, entries, 0, 3);
  assert.equal(node.lastApplied, 3);
  assert.equal(node.read("a"), "v3");
});

/**
 * A put reaching the leader is sent to every follower at once, in one
 * AppendEntries each, without waiting for a heartbeat. Raft §5.3, pipelining.
 */
Deno.test("a put is sent to followers immediately", () => {
  const { node, at } = replicatingLeader();
  const out = proposeAt(node, 1, at + 1);
  for (const peer of PEERS) {
    const appends = appendsTo(out, peer);
    assert.equal(appends.length, 1);
    assert.deepEqual(midsOf(appends[0]?.entries ?? []), ["m1"]);
  }
});

/**
 * Followers replicating from the same index get a put in one broadcast, which
 * the simulator counts as N-1 messages like separate sends; a follower behind
 * the others gets its own AppendEntries. Message economy (PROTOCOL.md section 5).
 */
Deno.test("a put goes out as one broadcast only while every follower is at the same index", () => {
  const { node, at } = replicatingLeader();
  const term = node.currentTerm;
  const shared = proposeAt(node, 1, at + 1);
  assert.deepEqual(shared.map((m) => [m.type, m.dst]), [["append_entries", "FFFF"]]);
  for (const peer of ["0001", "0002"]) {
    node.step(appendReply(peer, { term, matchIndex: 2, sentAt: at + 1 }), at + 2);
  }
  node.step(
    appendReply("0003", { term, success: false, conflictIndex: 1, sentAt: at + 1 }),
    at + 2,
  );
  node.ready();
  const separate = proposeAt(node, 2, at + 3);
  assert.ok(separate.every((m) => m.dst !== "FFFF"));
  assert.deepEqual(midsOf(appendsTo(separate, "0001")[0]?.entries ?? []), ["m2"]);
});

/**
 * A replicating follower is sent again every entry it has not acknowledged, so
 * the AppendEntries after a lost one still fits its log instead of being
 * rejected, at no extra message. Raft §5.3 (consistency check), thesis §10.2.
 */
Deno.test("an AppendEntries after a lost one carries the lost entries too", () => {
  const { node, at } = replicatingLeader();
  proposeAt(node, 1, at + 1);
  for (const peer of ["0001", "0002"]) {
    node.step(appendReply(peer, { term: node.currentTerm, matchIndex: 2, sentAt: at + 1 }), at + 2);
  }
  node.ready();
  const out = proposeAt(node, 2, at + 3);
  const [append] = appendsTo(out, "0003");
  assert.equal(append?.prevLogIndex, 1);
  assert.deepEqual(midsOf(append?.entries ?? []), ["m1", "m2"]);
});

/**
 * A retransmission keeps a follower that still answers in the replicating
 * state, so later puts reach it at once; a follower silent for two heartbeat
 * intervals is probed instead and gets no puts until it answers.
 */
Deno.test("a retransmit probes only a follower that stopped answering", () => {
  const { node, at } = replicatingLeader();
  let now = at;
  const answer = (peers: readonly string[], matchIndex: number) => {
    for (const peer of peers) {
      node.step(appendReply(peer, { term: node.currentTerm, matchIndex, sentAt: now }), now);
    }
    node.ready();
  };
  proposeAt(node, 1, ++now);
  answer(["0001", "0002", "0003"], 2);
  // 0004 lost p1; it answered recently, so the retransmit keeps it replicating.
  now = node.ready().deadline;
  node.tick(now);
  assert.deepEqual(midsOf(appendsTo(node.ready().messages, "0004")[0]?.entries ?? []), ["m1"]);
  const second = proposeAt(node, 2, ++now);
  assert.deepEqual(midsOf(appendsTo(second, "0004")[0]?.entries ?? []), ["m1", "m2"]);
  answer(["0001", "0002", "0003"], 3);
  // 0004 stays silent past two heartbeat intervals: probed, then skipped.
  const silentUntil = now + 2 * 200;
  while (now <= silentUntil) {
    now = node.ready().deadline;
    node.tick(now);
    node.ready();
    answer(["0001", "0002", "0003"], 3);
  }
  const third = proposeAt(node, 3, ++now);
  assert.equal(appendsTo(third, "0004").length, 0);
  assert.deepEqual(midsOf(appendsTo(third, "0001")[0]?.entries ?? []), ["m3"]);
});

/**
 * One AppendEntries carries at most maxEntriesPerAppend entries, and a follower
 * far behind is caught up by several of them.
 */
Deno.test("batches are bounded by maxEntriesPerAppend", () => {
  const net = new Network({ size: 3, seed: 3, maxEntriesPerAppend: 8 });
  const leader = net.elect();
  const lagging = net.ids.find((id) => id !== leader.id) as string;
  net.isolate(lagging);
  for (let i = 0; i < 50; i++) {
    net.request(leader.id, { type: "put", MID: `m${i}`, key: "k", value: `${i}` });
  }
  net.runFor(20);
  let largest = 0;
  net.filter = (message) => {
    if (message.type === "append_entries") largest = Math.max(largest, message.entries.length);
    return true;
  };
  net.heal();
  net.runUntil(() => net.node(lagging).commitIndex === leader.lastIndex, 5_000);
  assert.equal(largest, 8);
  assert.equal(net.node(lagging).read("k"), "49");
});

/**
 * Followers that just received entries get no heartbeat; an idle follower gets
 * one per heartbeat interval. Message economy (PROTOCOL.md section 5).
 */
Deno.test("a follower that just got entries gets no heartbeat", () => {
  const net = new Network({ size: 3, seed: 8 });
  const leader = net.elect();
  net.runFor(1_000);
  let heartbeats = 0;
  let appends = 0;
  net.filter = (message) => {
    if (message.type === "append_entries") {
      if (message.entries.length === 0) heartbeats++;
      else appends++;
    }
    return true;
  };
  for (let i = 0; i < 20; i++) {
    net.request(leader.id, { type: "put", MID: `m${i}`, key: "k", value: `${i}` });
    net.runFor(100);
  }
  assert.equal(appends, 40);
  assert.equal(heartbeats, 0);
  net.runFor(1_000);
  assert.equal(heartbeats, 10);
});

/**
 * Lost AppendEntries and lost replies are recovered by the retransmit timer, not
 * by the next put. Every put commits.
 */
Deno.test("entries lost in both directions are resent until acknowledged", () => {
  const net = new Network({ size: 3, seed: 9 });
  const leader = net.elect();
  let dropped = 0;
  net.filter = (message) => {
    const lose = (message.type === "append_entries" && message.entries.length > 0 ||
      message.type === "append_entries_reply") && dropped < 6;
    if (lose) dropped++;
    return !lose;
  };
  net.request(leader.id, { type: "put", MID: "p", key: "k", value: "v" });
  assert.ok(net.runUntil(() => net.repliesTo("p").length === 1, 2_000));
  net.runFor(1_000);
  for (const node of net.live) assert.equal(node.read("k"), "v");
});
