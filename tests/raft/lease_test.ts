import assert from "node:assert/strict";
import { ServedReplica } from "../../lib/dst/replica.ts";
import type { ClientReply, OutboundMessage } from "../../lib/kv/messages.ts";
import { RaftNode } from "../../lib/raft/node.ts";
import { leaseHolds } from "../../lib/raft/read_only.ts";
import { BROADCAST, type Id, type PeerMessage } from "../../lib/raft/messages.ts";
import { TEST_TIMING } from "./_network.ts";

const A = "0000", B = "0001", C = "0002";
const CLIENT = "0100";

interface InFlight {
  from: Id;
  to: Id;
  message: PeerMessage;
}

/**
 * Three replicas driven message by message: every peer message waits in `inFlight`
 * until the script delivers or drops it, and timers fire only when ticked, so a
 * schedule of losses, delays and reorderings can be played exactly.
 */
class HandNetwork {
  readonly nodes = new Map<Id, ServedReplica>();
  inFlight: InFlight[] = [];
  readonly replies: ClientReply[] = [];

  constructor() {
    const ids = [A, B, C];
    for (const id of ids) {
      // random() = 0: every election timeout is exactly the 600 ms minimum.
      const peers = ids.filter((peer) => peer !== id);
      this.nodes.set(id, new ServedReplica({ id, peers, now: 0, random: () => 0, ...TEST_TIMING }));
    }
  }

  node(id: Id): ServedReplica {
    return this.nodes.get(id) as ServedReplica;
  }

  tick(id: Id, now: number): void {
    this.node(id).tick(now);
    this.#flush(id);
  }

  client(
    to: Id,
    request:
      | { type: "get"; MID: string; key: string }
      | { type: "put"; MID: string; key: string; value: string },
    now: number,
  ): void {
    this.node(to).step(
      { src: CLIENT, dst: to, leader: BROADCAST, ...request },
      now,
    );
    this.#flush(to);
  }

  /** Delivers, in order, the messages in flight that match, at `now`. */
  deliver(match: (m: InFlight) => boolean, now: number): void {
    const due = this.inFlight.filter(match);
    this.inFlight = this.inFlight.filter((m) => !match(m));
    for (const { to, message } of due) {
      this.node(to).step(structuredClone(message), now);
      this.#flush(to);
    }
  }

  /** Loses the messages in flight that match. */
  drop(match: (m: InFlight) => boolean): void {
    this.inFlight = this.inFlight.filter((m) => !match(m));
  }

  /** Delivers everything in flight, and what that causes, except what `lost` drops. */
  settle(now: number, lost: (m: InFlight) => boolean = () => false): void {
    while (this.inFlight.length > 0) {
      this.drop(lost);
      this.deliver(() => true, now);
    }
  }

  #flush(id: Id): void {
    for (const message of this.node(id).ready().messages) this.#route(id, message);
  }

  #route(from: Id, message: OutboundMessage): void {
    if (message.type === "ok" || message.type === "redirect" || message.type === "fail") {
      this.replies.push(message);
    } else if (message.type !== "hello") {
      const targets = message.dst === BROADCAST ? [A, B, C].filter((id) => id !== from) : [
        message.dst,
      ];
      for (const to of targets) this.inFlight.push({ from, to, message });
    }
  }
}

const link = (from: Id, to: Id) => (m: InFlight) => m.from === from && m.to === to;
const ofType = (type: PeerMessage["type"]) => (m: InFlight) => m.message.type === type;

/**
 * A follower that acknowledged a leader grants no vote and no pre-vote within
 * the minimum election timeout, even after a higher term made it forget that
 * leader: the leader's lease rests on it. The schedule of a review: a delayed
 * pre-vote refusal of a higher term reached a follower just after it renewed
 * the old leader's lease; the follower then elected a new leader, which
 * acknowledged a put, while the old one still served the old value from its
 * lease. Thesis §6.2 and §6.4.
 */
Deno.test("a follower that just acknowledged a leader votes for nobody, whatever term it learns", () => {
  const net = new HandNetwork();
  // A leads term 1 and commits K=V1; B and C last hear from A at 812.
  net.tick(A, 600);
  net.settle(601);
  net.client(A, { type: "put", MID: "put-v1", key: "K", value: "V1" }, 610);
  net.settle(611);
  net.tick(A, 811);
  net.settle(812);
  assert.equal(net.node(A).role, "leader");
  assert.equal(net.node(B).commitIndex, 2);

  // 1. A's messages to B and C are lost from now on; A and C cannot reach each other.
  const aCut = (m: InFlight) => m.from === A || m.to === A && m.from === C;
  // 2. C times out and pre-votes; B grants, its last contact with A exactly 600 ms old.
  net.tick(C, 1412);
  net.drop(aCut);
  net.deliver(link(C, B), 1412);
  net.deliver(link(B, C), 1413);
  assert.equal(net.node(C).role, "candidate");
  //    C's first request_vote to B is lost.
  net.drop((m) => aCut(m) || m.message.type === "request_vote");
  // 3. B times out and pre-votes; C's refusal carries term 2 and is delayed.
  net.tick(B, 1413);
  net.drop(link(B, A));
  net.deliver(link(B, C), 1414);
  const delayedRefusal = net.inFlight.filter(ofType("pre_vote_reply"));
  net.drop(ofType("pre_vote_reply"));
  // 4. A's heartbeat reaches B, which follows A again and renews A's lease.
  net.tick(A, 1415);
  net.drop(link(A, C));
  net.deliver(link(A, B), 1416);
  net.deliver(link(B, A), 1417);
  assert.equal(net.node(B).leaderId, A);
  // 5. The delayed refusal reaches B, which moves to term 2.
  net.inFlight.push(...delayedRefusal);
  net.deliver(ofType("pre_vote_reply"), 1418);
  assert.equal(net.node(B).currentTerm, 2);
  // 6. C asks B again, 98 ms after B acknowledged A.
  net.tick(C, 1513);
  net.drop(aCut);
  net.deliver(link(C, B), 1514);
  net.settle(1515, aCut);
  // 7. A client's put K=V2 reaches C.
  net.client(C, { type: "put", MID: "put-v2", key: "K", value: "V2" }, 1520);
  net.settle(1521, aCut);
  // 8. A get of K at A, inside A's lease.
  net.client(A, { type: "get", MID: "get", key: "K" }, 1530);

  assert.notEqual(net.node(B).server.core.votedFor, C, "B voted within 600 ms of acknowledging A");
  const putV2Acknowledged = net.replies.some((r) => r.MID === "put-v2" && r.type === "ok");
  const get = net.replies.find((r) => r.MID === "get");
  assert.ok(
    !(putV2Acknowledged && get?.type === "ok" && get.value === "V1"),
    "A served K=V1 after C acknowledged K=V2",
  );
});

/**
 * A reply counts as contact from the moment its AppendEntries was sent, not from
 * its arrival: replies that sat in the socket while the leader's process was
 * paused prove nothing about the present, so check-quorum still deposes a leader
 * that heard nothing newer. Thesis §6.2.
 */
Deno.test("a reply that waited out a pause renews no contact", () => {
  const node = new RaftNode({ id: A, peers: [B, C], now: 0, random: () => 0, ...TEST_TIMING });
  node.tick(600);
  for (const voter of [B, C]) {
    const reply = {
      src: voter,
      dst: A,
      leader: BROADCAST,
      granted: true,
      commitIndex: 0,
      lastLogIndex: 0,
      lastLogTerm: 0,
    };
    node.step({ ...reply, type: "pre_vote_reply", term: 1 }, 600);
    node.step({ ...reply, type: "request_vote_reply", term: 1 }, 600);
  }
  assert.equal(node.role, "leader");
  const late = {
    src: B,
    dst: A,
    leader: A,
    type: "append_entries_reply",
    term: 1,
    success: true,
    matchIndex: 1,
    conflictIndex: 0,
    conflictTerm: 0,
    commitIndex: 0,
    sentAt: 600,
  } as const;
  node.step(late, 1_700);
  node.tick(1_800);
  assert.equal(node.role, "follower");
});

/**
 * A lease is a half-open interval: it holds from the acknowledged send until
 * just before `leaseMs` later, and not at that instant, the earliest a voter
 * that acknowledged it may vote again (less the drift allowance).
 */
Deno.test("a lease ends at its length, not an instant later", () => {
  assert.equal(leaseHolds(1_000, 1_000, TEST_TIMING.leaseMs), true);
  assert.equal(leaseHolds(1_000 + TEST_TIMING.leaseMs - 0.001, 1_000, TEST_TIMING.leaseMs), true);
  assert.equal(leaseHolds(1_000 + TEST_TIMING.leaseMs, 1_000, TEST_TIMING.leaseMs), false);
});

/** Only a leader takes a read: a follower's caller must redirect the get instead. */
Deno.test("a replica that does not lead refuses a read", () => {
  const node = new RaftNode({ id: A, peers: [B, C], now: 0, random: () => 0.5, ...TEST_TIMING });
  assert.equal(node.requestRead(1, 10), false);
  assert.deepEqual(node.ready().readStates, []);
});
