import assert from "node:assert/strict";
import { Network, TEST_TIMING } from "../raft/_network.ts";
import {
  appendEntries,
  appendReply,
  appendsTo,
  campaign,
  deliver,
  makeReplica,
  PEERS,
  seedLog,
} from "../raft/_drive.ts";
import type { ClientRequest, OutboundMessage, PutCommand } from "../../lib/kv/messages.ts";

function request(type: "get" | "put", mid: string, key = "k"): ClientRequest {
  const base = { src: "0100", dst: "0000", leader: "FFFF", MID: mid, key };
  return type === "get" ? { ...base, type } : { ...base, type, value: "v" };
}

function repliesIn(messages: readonly OutboundMessage[]): string[] {
  return messages.filter((m) => m.dst === "0100").map((m) => `${m.type}:${m.leader}`);
}

/**
 * A follower that knows the leader redirects a request to it (PROTOCOL.md section 6).
 */
Deno.test("a follower redirects a request to the leader it knows", () => {
  const node = makeReplica();
  seedLog(node, 1, [{ term: 1 }], 0);
  assert.deepEqual(repliesIn(deliver(node, request("put", "p"), 5)), ["redirect:0001"]);
});

/**
 * A replica that knows no leader holds requests and redirects all of them as
 * soon as a leader makes itself known (PROTOCOL.md section 6).
 */
Deno.test("held requests are redirected when a leader appears", () => {
  const node = makeReplica();
  assert.deepEqual(deliver(node, request("put", "p"), 5), []);
  assert.deepEqual(deliver(node, request("get", "g"), 6), []);
  const out = deliver(node, appendEntries("0003", { term: 1, sentAt: 10 }), 10);
  assert.deepEqual(repliesIn(out), ["redirect:0003", "redirect:0003"]);
});

/**
 * A follower that has not heard from its leader for two heartbeat intervals holds
 * requests rather than redirect clients to a leader that may be dead, and
 * redirects them on the leader's next AppendEntries (PROTOCOL.md section 6).
 */
Deno.test("a follower holds requests while its leader is silent", () => {
  const node = makeReplica({ heartbeatIntervalMs: 200 });
  seedLog(node, 1, [{ term: 1 }], 0);
  assert.deepEqual(repliesIn(deliver(node, request("put", "p"), 399)), ["redirect:0001"]);
  assert.deepEqual(deliver(node, request("get", "g"), 400), []);
  const out = deliver(
    node,
    appendEntries("0001", { term: 1, prevLogIndex: 1, prevLogTerm: 1 }),
    450,
  );
  assert.deepEqual(repliesIn(out), ["redirect:0001"]);
});

/**
 * After one redirect, a follower names the leader again only once it has heard
 * from it since: clients that come straight back (their leader may be dead) wait
 * for that evidence instead of bouncing between followers.
 */
Deno.test("a follower redirects again only after hearing from the leader", () => {
  const node = makeReplica();
  seedLog(node, 1, [{ term: 1 }], 0);
  assert.deepEqual(repliesIn(deliver(node, request("put", "p1"), 5)), ["redirect:0001"]);
  assert.deepEqual(deliver(node, request("put", "p2"), 6), []);
  const out = deliver(
    node,
    appendEntries("0001", { term: 1, prevLogIndex: 1, prevLogTerm: 1 }),
    50,
  );
  assert.deepEqual(repliesIn(out), ["redirect:0001"]);
  assert.deepEqual(repliesIn(deliver(node, request("put", "p3"), 51)), ["redirect:0001"]);
});

/**
 * A request held for holdRequestMs without a leader is redirected naming no
 * leader (it is in no log, so sending it away is safe; PROTOCOL.md section 6):
 * the client retries at a random replica, as after a `fail`, which the course
 * would count as a failure.
 */
Deno.test("a held request is redirected naming no leader after holdRequestMs", () => {
  const node = makeReplica({ holdRequestMs: 1_500 });
  deliver(node, request("put", "p"), 5);
  node.tick(1_504);
  assert.deepEqual(repliesIn(node.ready().messages), []);
  node.tick(1_505);
  const { messages, deadline } = node.ready();
  assert.deepEqual(repliesIn(messages), ["redirect:FFFF"]);
  assert.ok(deadline > 1_505);
});

/**
 * Requests held by a candidate are processed by it once it becomes leader: the
 * put goes into the log after the no-op.
 */
Deno.test("a replica that becomes leader processes the requests it held", () => {
  const node = makeReplica();
  deliver(node, request("put", "p"), 5);
  campaign(node, 0);
  assert.equal(node.lastIndex, 2);
  const command = node.entryAt(2)?.command as PutCommand;
  assert.equal(command.MID, "p");
  assert.equal(command.client, "0100");
});

/**
 * A leader that has not heard from a majority within leaseMs keeps new puts out
 * of its log, and contact returning appends them; once an entry has waited a
 * retransmission with no majority answering, new puts are redirected naming no
 * leader. PROTOCOL.md section 6 (never fail or redirect a put that is in a log).
 */
Deno.test("a leader out of touch with a majority holds puts outside its log", () => {
  const node = makeReplica();
  const at = campaign(node, 0);
  node.ready();
  const noOpAck = { term: node.currentTerm, matchIndex: 1, sentAt: at };
  for (const peer of PEERS) deliver(node, appendReply(peer, noOpAck), at + 1);
  assert.equal(node.commitIndex, 1);
  deliver(node, request("put", "p1"), at + 500);
  assert.equal(node.lastIndex, 1, "p1 is not appended without recent majority contact");
  const ack = { term: node.currentTerm, matchIndex: 1, sentAt: at + 510 };
  deliver(node, appendReply("0001", ack), at + 510);
  const out = deliver(node, appendReply("0002", ack), at + 510);
  assert.equal(node.lastIndex, 2, "contact is back: p1 is appended");
  for (const peer of PEERS.slice(0, 2)) assert.equal(appendsTo(out, peer).length, 1);

  // p1 has waited unanswered since: this leader is cut off, p2 goes elsewhere.
  assert.deepEqual(repliesIn(deliver(node, request("put", "p2"), at + 1_000)), ["redirect:FFFF"]);
  assert.equal(node.lastIndex, 2);
  node.tick(at + 1_709);
  assert.equal(node.role, "leader", "check-quorum waits the full election timeout");
  node.tick(at + 1_710);
  assert.equal(node.role, "follower", "check-quorum");
});

/**
 * A leader cut off in a minority stops taking puts once its last entry has gone
 * unanswered for as long as a round and its hedges take, long before its lease
 * (960 ms) ends, rather than append them where they never commit and are never
 * answered; once that entry has waited a retransmission with no majority
 * answering, it redirects them naming no leader, while the partition lasts:
 * the clients retry at a random replica, three in five on the majority's side.
 * PROTOCOL.md section 6.
 */
Deno.test("a leader cut off in a minority redirects puts once its last entry goes unanswered", () => {
  const net = new Network({ size: 5, seed: 3 });
  const old = net.elect();
  net.runFor(300);
  const minority = [old.id, net.ids.find((id) => id !== old.id) as string];
  net.partition(minority, net.ids.filter((id) => !minority.includes(id)));
  net.request(old.id, { type: "put", MID: "lost", key: "k", value: "v0" });
  net.runFor(150);
  const mids = ["p1", "p2", "p3", "p4"];
  for (const [i, MID] of mids.entries()) {
    net.request(old.id, { type: "put", MID, key: "k", value: `v${i + 1}` });
    net.runFor(100);
  }
  assert.equal(old.lastIndex, old.commitIndex + 1, "only the first put entered the old log");
  assert.equal(old.role, "leader");
  for (const MID of mids) {
    assert.deepEqual(
      net.repliesTo(MID).map((reply) => [reply.type, reply.leader]),
      [["redirect", "FFFF"]],
      MID,
    );
  }
  assert.deepEqual(net.repliesTo("lost"), [], "the put in its log is not redirected");
});

/**
 * A five-replica cluster whose leader took puts of `mids` (key = MID) just after a partition cut it
 * off with one follower, run until the majority's side elected a leader and 500 ms more.
 */
function cutOffLeaderWithPuts(seed: number, mids: readonly string[]) {
  const net = new Network({ size: 5, seed });
  const old = net.elect();
  net.runFor(300);
  const minority = [old.id, net.ids.find((id) => id !== old.id) as string];
  net.partition(minority, net.ids.filter((id) => !minority.includes(id)));
  for (const MID of mids) net.request(old.id, { type: "put", MID, key: MID, value: "v" });
  const elected = () => net.live.some((node) => node.role === "leader" && node !== old);
  assert.ok(net.runUntil(elected), `seed ${seed}: a leader on the majority side`);
  net.runFor(500);
  return { net, old };
}

/**
 * A put a leader cut off in a minority took into its log before it knew it was
 * cut off cannot commit once the majority's leader has written over its index:
 * after the heal the old leader redirects its client to the new leader, where
 * it would otherwise never be answered.
 */
Deno.test("a put written over after a partition heals is redirected by the leader that took it", () => {
  for (let seed = 1; seed <= 5; seed++) {
    const { net, old } = cutOffLeaderWithPuts(seed, ["lost"]);
    assert.deepEqual(net.repliesTo("lost"), [], `seed ${seed}: held while it may commit`);
    net.heal();
    net.runFor(1_000);
    const leader = net.leader();
    assert.ok(leader !== undefined && leader !== old, `seed ${seed}: the new leader leads`);
    assert.deepEqual(
      net.repliesTo("lost").map((reply) => [reply.type, reply.leader]),
      [["redirect", leader.id]],
      `seed ${seed}`,
    );
    assert.equal(old.read("lost"), "", `seed ${seed}: the put never took effect`);
  }
});

/**
 * Puts a leader cut off in a minority took beyond the new leader's log are
 * redirected as soon as the new leader's first entry commits on the old
 * leader, not one by one as later entries commit at their indexes: the new
 * leader's log here ends below all but the first of them, and no put comes to
 * lengthen it.
 */
Deno.test("puts written over after a partition heals are redirected together", () => {
  const mids = ["lost1", "lost2", "lost3", "lost4"];
  for (let seed = 1; seed <= 5; seed++) {
    const { net, old } = cutOffLeaderWithPuts(seed, mids);
    const shorter = net.live.find((node) => node.role === "leader" && node !== old);
    assert.ok(shorter !== undefined && shorter.lastIndex < old.lastIndex, `seed ${seed}`);
    net.heal();
    net.runFor(1_000);
    const leader = net.leader();
    assert.ok(leader !== undefined && leader !== old, `seed ${seed}: the new leader leads`);
    for (const MID of mids) {
      const replies = net.repliesTo(MID).map((reply) => [reply.type, reply.leader]);
      assert.deepEqual(replies, [["redirect", leader.id]], `seed ${seed}, ${MID}`);
    }
  }
});

/**
 * The entry that writes over a put may be of an earlier term than the put's:
 * here leader `0001` of term 3 holds term-1 entries `0000` never got, and it
 * took term 2 with a put at their index. Once the entry at the put's index
 * commits, the put is redirected, whichever of the two terms is higher and
 * even when that index is the last committed.
 */
Deno.test("a put written over by an entry of an earlier term is redirected once that entry commits", () => {
  const node = makeReplica();
  seedLog(node, 1, [{ term: 1 }], 0, 1);
  const at = campaign(node, 2_000);
  node.ready();
  assert.equal(node.currentTerm, 2);
  deliver(node, request("put", "p"), at + 1);
  assert.equal(node.lastIndex, 3, "the no-op at 2, the put at 3");
  const overwrite = appendEntries("0001", {
    term: 3,
    prevLogIndex: 1,
    prevLogTerm: 1,
    entries: [{ term: 1 }, { term: 1 }],
    leaderCommit: 3,
    sentAt: at + 2,
  });
  assert.deepEqual(repliesIn(deliver(node, overwrite, at + 2)), ["redirect:0001"]);
  assert.equal(node.commitIndex, 3);
});

/**
 * A get sent to a leader cut off in a minority changes nothing: once its
 * ReadIndex round has waited a retransmission unanswered, it is redirected
 * naming no leader, long before the partition heals.
 */
Deno.test("a leader cut off in a minority redirects a get whose read round goes unanswered", () => {
  const net = new Network({ size: 5, seed: 4 });
  const old = net.elect();
  net.runFor(300);
  net.request(old.id, { type: "put", MID: "p", key: "k", value: "v" });
  net.runFor(100);
  const minority = [old.id, net.ids.find((id) => id !== old.id) as string];
  net.partition(minority, net.ids.filter((id) => !minority.includes(id)));
  net.runFor(600);
  net.request(old.id, { type: "get", MID: "g", key: "k" });
  net.runFor(50);
  assert.deepEqual(net.repliesTo("g"), [], "the read round may still be answered");
  net.runFor(250);
  assert.equal(old.role, "leader");
  assert.deepEqual(net.repliesTo("g").map((reply) => [reply.type, reply.leader]), [
    ["redirect", "FFFF"],
  ]);
});

/**
 * A replica just elected for term 2 whose log holds put `p` (key `k`) of term
 * 1, which no replica knows committed: an earlier term's put to decide.
 */
function leaderWithEarlierPut(): { node: ReturnType<typeof makeReplica>; at: number } {
  const node = makeReplica();
  const put: PutCommand = { key: "k", value: "v", client: "0100", MID: "p" };
  seedLog(node, 1, [{ term: 1, command: put }], 0);
  const at = campaign(node, 2_000);
  node.ready();
  return { node, at };
}

/**
 * A new leader commits and serves at once after its election, but a put of an
 * earlier term it commits is answered only once every follower reported what
 * it knows of the earlier leader's commits (or one knew it committed): then
 * the put is answered unless some follower knew it committed (so answered),
 * and only then are gets of its key answered. PROTOCOL.md section 6.
 */
Deno.test("a new leader answers an earlier term's put once every follower reported its commit index", () => {
  for (const knownCommitted of [false, true]) {
    const { node, at } = leaderWithEarlierPut();
    const answer = (peer: string, commitIndex: number, now: number) =>
      deliver(node, appendReply(peer, { term: 2, matchIndex: 2, commitIndex, sentAt: at }), now);
    answer("0001", 0, at + 1);
    assert.deepEqual(repliesIn(answer("0002", 0, at + 1)), [], "committed, not yet answered");
    assert.equal(node.commitIndex, 2);
    assert.deepEqual(repliesIn(deliver(node, request("put", "q", "other"), at + 2)), []);
    deliver(node, request("put", "r", "other"), at + 2);
    assert.equal(node.lastIndex, 4, "a put of a key put only in this term waits for nothing");
    const qAcks = ["0001", "0002"].map((peer) =>
      deliver(node, appendReply(peer, { term: 2, matchIndex: 4, sentAt: at + 2 }), at + 3)
    );
    assert.deepEqual(
      repliesIn(qAcks.flat()),
      ["ok:0000", "ok:0000"],
      "puts of this term are answered",
    );
    const get = deliver(node, request("get", "g"), at + 4);
    assert.deepEqual(repliesIn(get), [], "a get of the undecided put's key waits");
    const told = repliesIn(answer("0003", knownCommitted ? 1 : 0, at + 5));
    if (knownCommitted) {
      assert.deepEqual(told, ["ok:0000"], "0003 knew it committed, so answered: the get only");
    } else {
      assert.deepEqual(told, [], "0004 may still know");
      const decided = repliesIn(answer("0004", 0, at + 6));
      assert.deepEqual(decided, ["ok:0000", "ok:0000"], "the put, then the get");
    }
  }
});

/**
 * A client is answered for its puts of one key in the log's order: the course's
 * client takes the last put answered ok for the key's value (PROTOCOL.md section
 * 4), so a put of this term answered before an undecided earlier put of its key
 * made the next get's value "incorrect". A put of that key waits outside the
 * log until the earlier one is decided, and is proposed then.
 */
Deno.test("a put of a key with an undecided earlier put waits for the decision", () => {
  const { node, at } = leaderWithEarlierPut();
  const answer = (peer: string, matchIndex: number, sentAt: number, now: number) =>
    deliver(node, appendReply(peer, { term: 2, matchIndex, commitIndex: 0, sentAt }), now);
  const replies = (messages: readonly OutboundMessage[]) =>
    messages.flatMap((m) => "MID" in m && m.dst === "0100" ? [`${m.type}:${m.MID}`] : []);
  answer("0001", 2, at, at + 1);
  assert.deepEqual(replies(answer("0002", 2, at, at + 1)), [], "committed, not yet decided");
  assert.deepEqual(replies(deliver(node, request("get", "g"), at + 2)), [], "the get waits");
  assert.deepEqual(replies(deliver(node, request("put", "q"), at + 3)), []);
  assert.equal(node.lastIndex, 2, "q waits outside the log");
  const decided = ["0003", "0004"].flatMap((peer) => answer(peer, 2, at, at + 4));
  assert.deepEqual(replies(decided), ["ok:p", "ok:g"], "p, then the get of its key");
  assert.equal(node.lastIndex, 3, "q is proposed once p is decided");
  const qAcks = ["0001", "0002"].flatMap((peer) => answer(peer, 3, at + 4, at + 5));
  assert.deepEqual(replies(qAcks), ["ok:q"]);
});

/**
 * A new leader decides an earlier term's put, and answers the gets that waited
 * for it from its store, only while it holds its lease. Deciding at the end of
 * its listening (two election timeouts, here 2400 ms) when no majority had
 * acknowledged anything for longer than the lease, it answered a get with a
 * value a newer leader had already replaced.
 */
Deno.test("a new leader decides an earlier term's put only while it holds its lease", () => {
  const { node, at } = leaderWithEarlierPut();
  const answer = (peer: string, sentAt: number, now: number) =>
    deliver(node, appendReply(peer, { term: 2, matchIndex: 2, commitIndex: 0, sentAt }), now);
  answer("0001", at, at + 1);
  assert.deepEqual(repliesIn(answer("0002", at, at + 1)), [], "committed, not yet decided");
  assert.deepEqual(repliesIn(deliver(node, request("get", "g"), at + 2)), [], "the get waits");
  // 0003 and 0004 stay silent: the leader listens for two election timeouts.
  const listenedUntil = at + 2 * TEST_TIMING.electionTimeoutMaxMs;
  const lastAcked = listenedUntil - TEST_TIMING.leaseMs - 100;
  const replies: string[] = [];
  let now = at + 2;
  while (now < listenedUntil) {
    now = Math.min(node.ready().deadline, listenedUntil);
    node.tick(now);
    replies.push(...repliesIn(node.ready().messages));
    // 0001 and 0002 answer until the lease would lapse before the listening ends.
    if (now <= lastAcked) {
      for (const peer of ["0001", "0002"]) replies.push(...repliesIn(answer(peer, now, now)));
    }
  }
  assert.equal(node.role, "leader", "check-quorum still holds");
  assert.deepEqual(replies, [], "no lease at the end of the listening: nothing decided");
  const renewed = answer("0001", now, now + 1).concat(answer("0002", now, now + 1));
  assert.deepEqual(repliesIn(renewed), ["ok:0000", "ok:0000"], "the put, then the get");
});

/**
 * The course's client judges a get by the last put of its key it was answered
 * ok for (PROTOCOL.md section 4). Here the first leader answers put p (k = v1)
 * and tells follower X; a partition cuts both off, and the new leader L2 waits
 * for their commit indexes before it decides p, holding a get g of k. The
 * partition then moves without healing, cutting L2 off alone: the other four
 * elect L3, which answers the client's put q (k = v2). L2, deciding at the end
 * of its listening, answered g with v1, "incorrect" to the client. (Found by a
 * review; no standard config moves a partition without healing it.) Now L2
 * decides only under its lease.
 */
Deno.test("a leader cut off while a get waits for its decision does not answer it", () => {
  const net = new Network({ size: 5, seed: 17 });
  const first = net.elect();
  net.runFor(10);
  let told: string | undefined;
  net.onFlush = (from, messages) => {
    for (const m of messages) {
      if (from === first.id && m.type === "append_entries" && m.repliers?.length === 0) {
        told = m.dst;
      }
    }
  };
  net.request(first.id, { type: "put", MID: "p", key: "k", value: "v1" });
  net.runFor(150);
  net.onFlush = undefined;
  assert.deepEqual(net.repliesTo("p").map((reply) => reply.type), ["ok"]);
  assert.ok(told !== undefined, "the first leader told one follower of p's commit");
  const cutOff = [first.id, told];
  net.partition(cutOff, net.ids.filter((id) => !cutOff.includes(id)));
  const newer = (term: number) => net.live.find((n) => n.role === "leader" && n.currentTerm > term);
  net.runUntil(() => newer(first.currentTerm) !== undefined);
  const l2 = newer(first.currentTerm) as (typeof net.live)[number];
  const electedAt = net.now;
  net.runFor(50);
  net.request(l2.id, { type: "get", MID: "g", key: "k" });
  net.runFor(electedAt + 1500 - net.now);
  assert.deepEqual(net.repliesTo("g"), [], "g waits for L2's decision on p");
  net.heal();
  net.partition([l2.id], net.ids.filter((id) => id !== l2.id));
  assert.ok(net.runUntil(() => newer(l2.currentTerm) !== undefined));
  const l3 = newer(l2.currentTerm) as (typeof net.live)[number];
  net.request(l3.id, { type: "put", MID: "q", key: "k", value: "v2" });
  net.runUntil(() => net.repliesTo("q").length > 0);
  assert.deepEqual(net.repliesTo("q").map((reply) => reply.type), ["ok"]);
  // L2 decides nothing, steps down, and sends g's client away to retry.
  net.runUntil(() => net.repliesTo("g").length > 0);
  assert.deepEqual(net.repliesTo("g").map((reply) => reply.type), ["redirect"]);
});

/**
 * A leader that commits an earlier term's put while its election's commit is
 * open tells followers the commit index with the put's index undecided, and
 * vouches for no more itself: should it lose its role before deciding, then
 * lead again, it answers the put, once. PROTOCOL.md section 6.
 */
Deno.test("a leader that lost its role before deciding an earlier term's put answers it when it leads again", () => {
  const { node, at } = leaderWithEarlierPut();
  const answer = (peer: string, term: number, matchIndex: number, now: number) =>
    deliver(node, appendReply(peer, { term, matchIndex, commitIndex: 0, sentAt: now }), now);
  answer("0001", 2, 2, at + 1);
  const replies: string[] = repliesIn(answer("0002", 2, 2, at + 1));
  assert.equal(node.commitIndex, 2, "committed while 0003 and 0004 are silent");
  const sent = deliver(node, request("put", "q", "other"), at + 2);
  const appends = sent.filter((m) => m.type === "append_entries");
  assert.ok(appends.length > 0);
  for (const append of appends) {
    assert.ok(append.type === "append_entries" && append.leaderCommit === 2);
    assert.deepEqual(append.undecided, [[1, 1]], "the commit index, and entry 1 undecided");
  }
  // A higher term ends this leadership before the election's commit closed.
  replies.push(...repliesIn(answer("0003", 3, 0, at + 3)));
  assert.equal(node.role, "follower");
  assert.equal(replies.length, 0, "neither put answered");

  const again = campaign(node, at + 3);
  node.ready();
  for (const peer of PEERS) replies.push(...repliesIn(answer(peer, 4, 4, again + 1)));
  assert.deepEqual(replies, ["ok:0000", "ok:0000"], "p, then q");
});

/**
 * A follower told an earlier term's put committed but undecided, as the last
 * entry it applied, answers it once it leads and has decided it.
 */
Deno.test("a new leader answers an undecided put it applied last as a follower", () => {
  const node = makeReplica();
  const put: PutCommand = { key: "k", value: "v", client: "0100", MID: "p" };
  const entries = [{ term: 1, command: put }];
  deliver(
    node,
    appendEntries("0001", { term: 2, entries, leaderCommit: 2, undecided: [[1, 1]] }),
    0,
  );
  assert.equal(node.lastApplied, 1);
  const at = campaign(node, 2_000);
  node.ready();
  const replies = PEERS.flatMap((peer) => {
    const reply = appendReply(peer, { term: 3, matchIndex: 2, commitIndex: 0, sentAt: at });
    return repliesIn(deliver(node, reply, at + 1));
  });
  assert.deepEqual(replies, ["ok:0000"]);
});

/**
 * A put committed by a leader other than the one that received it is
 * acknowledged exactly once, by the leader that commits it.
 * PROTOCOL.md section 6.
 */
Deno.test("a put is acknowledged exactly once across a leader change", () => {
  const net = new Network({ size: 5, seed: 21 });
  const first = net.elect();
  // Followers store the put but their acks never reach the first leader.
  net.filter = (message, to) => !(message.type === "append_entries_reply" && to === first.id);
  net.request(first.id, { type: "put", MID: "p", key: "k", value: "v" });
  net.runFor(50);
  assert.equal(first.commitIndex, 1);
  net.kill(first.id);
  net.filter = undefined;
  const second = net.elect();
  net.runFor(1_000);
  assert.deepEqual(net.repliesTo("p"), [
    { src: second.id, dst: "0100", leader: second.id, type: "ok", MID: "p" },
  ]);
});

/**
 * A put acknowledged by a leader whose commit reached its followers is not
 * acknowledged again by the next leader (electionAnswered from vote replies).
 * PROTOCOL.md section 6.
 */
Deno.test("a new leader does not acknowledge puts its predecessor answered", () => {
  const net = new Network({ size: 5, seed: 22 });
  const first = net.elect();
  net.request(first.id, { type: "put", MID: "p", key: "k", value: "v" });
  net.runFor(400);
  assert.ok(net.live.every((node) => node.commitIndex === 2));
  net.kill(first.id);
  net.elect();
  net.runFor(1_000);
  assert.equal(net.repliesTo("p").length, 1);
});

/**
 * A put acknowledged by a leader that dies before any AppendEntries carried the
 * commit is not acknowledged again: the commit notice told one follower, and
 * its vote told the next leader. PROTOCOL.md section 6.
 */
Deno.test("a new leader does not acknowledge a put its predecessor answered just before dying", () => {
  for (let seed = 1; seed <= 5; seed++) {
    const net = new Network({ size: 5, seed });
    const first = net.elect();
    net.runFor(10);
    let appends = 0;
    net.onFlush = (from, messages) => {
      if (from !== first.id) return;
      appends += messages.filter((m) => m.type === "append_entries").length;
    };
    net.request(first.id, { type: "put", MID: "p", key: "k", value: "v" });
    net.runFor(150);
    assert.equal(net.repliesTo("p").length, 1);
    assert.equal(appends, 3, `seed ${seed}: the put to two followers, then one notice`);
    net.kill(first.id);
    net.elect();
    net.runFor(1_000);
    assert.equal(net.repliesTo("p").length, 1, `seed ${seed}`);
  }
});

/**
 * A put acknowledged by a leader that a partition then cuts off together with
 * the follower its commit notice told is not acknowledged again: the leader
 * elected on the other side waits, while two followers are silent, until the
 * partition heals and they report what they were told. PROTOCOL.md section 6.
 */
Deno.test("a new leader waits for a partition to heal before answering a put its cut-off predecessor answered", () => {
  for (let seed = 1; seed <= 5; seed++) {
    const net = new Network({ size: 5, seed });
    const first = net.elect();
    net.runFor(10);
    let told: string | undefined;
    net.onFlush = (from, messages) => {
      for (const message of messages) {
        const notice = message.type === "append_entries" && message.repliers?.length === 0;
        if (from === first.id && notice) told = message.dst;
      }
    };
    net.request(first.id, { type: "put", MID: "p", key: "k", value: "v" });
    net.runFor(150);
    assert.equal(net.repliesTo("p").length, 1);
    assert.ok(told !== undefined, `seed ${seed}: a commit notice went`);
    const cutOff = [first.id, told];
    net.partition(cutOff, net.ids.filter((id) => !cutOff.includes(id)));
    const elected = () =>
      net.live.some((node) => node.role === "leader" && node.currentTerm > first.currentTerm);
    assert.ok(net.runUntil(elected), `seed ${seed}: a leader on the majority side`);
    net.runFor(1_000);
    assert.equal(net.repliesTo("p").length, 1, `seed ${seed}: not answered during the partition`);
    net.heal();
    net.runFor(3_000);
    assert.equal(net.repliesTo("p").length, 1, `seed ${seed}: nor after it healed`);
  }
});

/**
 * Across random losses, partitions and leader crashes, no MID gets a redirect or
 * fail together with another reply, and a put is acknowledged twice only when the
 * leader that answered it lost leadership before its followers learned the commit
 * (a few per leader change). PROTOCOL.md
 * section 6.
 */
Deno.test("no request is answered twice under faults, except across leader changes", () => {
  for (let seed = 1; seed <= 8; seed++) {
    const net = new Network({ size: 5, seed });
    net.dropRate = 0.15;
    net.elect();
    const leaderTerms = new Set<number>();
    const recordLeader = () => {
      for (const node of net.live) if (node.role === "leader") leaderTerms.add(node.currentTerm);
      return false;
    };
    for (let i = 0; i < 120; i++) {
      const target = net.leader()?.id ?? net.live[i % net.live.length]?.id as string;
      const mid = `m${i}`;
      if (i % 3 === 0) net.request(target, { type: "get", MID: mid, key: `k${i % 5}` });
      else net.request(target, { type: "put", MID: mid, key: `k${i % 5}`, value: `${i}` });
      if (i === 40) net.partition(net.ids.slice(0, 2), net.ids.slice(2));
      if (i === 70) net.heal();
      if (i === 90) net.kill(net.leader()?.id ?? "0000");
      net.runUntil(recordLeader, 60);
    }
    net.dropRate = 0;
    net.runUntil(recordLeader, 5_000);
    const byMid = new Map<string, { type: string; from: string }[]>();
    for (const { reply, from } of net.replies) {
      byMid.set(reply.MID, [...byMid.get(reply.MID) ?? [], { type: reply.type, from }]);
    }
    let duplicates = 0;
    for (const [mid, replies] of byMid) {
      if (replies.length === 1) continue;
      const froms = new Set(replies.map((r) => r.from));
      const explained = replies.length === 2 && froms.size === 2 &&
        replies.every((r) => r.type === "ok");
      assert.ok(explained, `seed ${seed}: ${mid} answered ${JSON.stringify(replies)}`);
      duplicates++;
    }
    const changes = leaderTerms.size - 1;
    assert.ok(
      duplicates <= 2 * changes,
      `seed ${seed}: ${duplicates} duplicates, ${changes} changes`,
    );
    const oks = [...byMid.values()].filter((replies) => replies[0]?.type === "ok").length;
    assert.ok(oks > 40, `seed ${seed}: only ${oks} requests succeeded`);
  }
});

/**
 * A client request from any 4-hex id is answered without trouble.
 */
Deno.test("client requests from any id are handled", () => {
  const node = makeReplica();
  seedLog(node, 1, [{ term: 1 }], 0);
  const out = deliver(node, {
    src: "FFFE",
    dst: "0000",
    leader: "FFFF",
    type: "get",
    MID: "x",
    key: "",
  }, 5);
  assert.deepEqual(out.map((m) => [m.type, m.dst]), [["redirect", "FFFE"]]);
});

/**
 * A flood of requests at a replica that knows no leader: the first
 * maxWaitingRequests are held, the rest fail at once, and the replica goes on
 * answering; each request costs the same however many are held.
 */
Deno.test("a replica holding 200,000 requests keeps answering", () => {
  const node = makeReplica({ maxWaitingRequests: 10_000 });
  let failed = 0;
  for (let i = 0; i < 200_000; i++) {
    const out = deliver(node, { ...request("get", `g${i}`), key: `k${i}` }, 1 + i / 1_000);
    failed += out.filter((m) => m.type === "fail").length;
  }
  assert.equal(failed, 190_000, "beyond the bound, requests fail at once");
  const redirected = seedLog(node, 1, [{ term: 1 }], 300);
  assert.equal(redirected.filter((m) => m.type === "redirect").length, 10_000);
  assert.deepEqual(repliesIn(deliver(node, request("put", "after"), 301)), ["redirect:0001"]);
});

/**
 * A leader bounds the requests it holds in no log too: with maxWaitingRequests
 * gets waiting for their read round, the next get fails at once rather than go
 * unanswered.
 */
Deno.test("a leader holding its bound of gets fails the next one at once", () => {
  const node = makeReplica({ maxWaitingRequests: 2 });
  const at = campaign(node, 0);
  node.ready();
  assert.deepEqual(repliesIn(deliver(node, request("get", "g1"), at + 1)), []);
  assert.deepEqual(repliesIn(deliver(node, request("get", "g2"), at + 2)), []);
  assert.deepEqual(repliesIn(deliver(node, request("get", "g3"), at + 3)), ["fail:0000"]);
});

/**
 * A negative hold, or a bound on waiting requests that is negative or not a
 * whole number, is refused when the server is made, not found out later.
 */
Deno.test("a key-value server refuses a negative hold or a bound that is not a count", () => {
  const refused = [{ holdRequestMs: -1 }, { maxWaitingRequests: -1 }, { maxWaitingRequests: 1.5 }];
  for (const service of refused) {
    assert.throws(() => makeReplica(service), RangeError, JSON.stringify(service));
  }
  makeReplica({ holdRequestMs: 0, maxWaitingRequests: 0 });
});
