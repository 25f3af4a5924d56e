import assert from "node:assert/strict";
import { appendEntries, appendReply, campaign, deliver, makeNode, seedLog } from "./_drive.ts";
import type { PeerMessage } from "../../lib/raft/messages.ts";
import type { RaftNode } from "../../lib/raft/node.ts";

function snapshot(node: RaftNode): unknown {
  return {
    role: node.role,
    term: node.currentTerm,
    votedFor: node.votedFor,
    leader: node.leaderId,
    commit: node.commitIndex,
    last: node.lastIndex,
  };
}

const vote = { dst: "0000", leader: "FFFF", lastLogIndex: 0, lastLogTerm: 0 } as const;

/** Messages a correct peer never sends, for a follower of term 2 with two entries. */
const bogusForFollower: [string, PeerMessage][] = [
  ["a sender that is not a peer", appendEntries("0009", { term: 5 })],
  ["a client id as sender", { ...vote, src: "0100", type: "request_vote", term: 9 }],
  ["another replica as dst", { ...appendEntries("0001", { term: 2 }), dst: "0003" }],
  ["a negative prevLogIndex", appendEntries("0001", { term: 2, prevLogIndex: -1 })],
  ["a fractional prevLogIndex", appendEntries("0001", { term: 2, prevLogIndex: 1.5 })],
  ["a fractional term", appendEntries("0001", { term: 2.5 })],
  ["an unsafe integer term", appendEntries("0001", { term: 2 ** 60 })],
  ["term 0", appendEntries("0001", { term: 0 })],
  ["an entry above the message term", appendEntries("0001", { term: 2, entries: [{ term: 3 }] })],
  ["an entry of term 0", appendEntries("0001", { term: 2, entries: [{ term: 0 }] })],
  [
    "entries with decreasing terms",
    appendEntries("0001", { term: 2, entries: [{ term: 2 }, { term: 1 }] }),
  ],
  [
    "a prevLogTerm above the term",
    appendEntries("0001", { term: 2, prevLogIndex: 1, prevLogTerm: 3 }),
  ],
  ["a non-finite sentAt", appendEntries("0001", { term: 2, sentAt: Infinity })],
  ["a null entry", appendEntries("0001", { term: 2, entries: [null as unknown as { term: 1 }] })],
  ["an undecided range in reverse", appendEntries("0001", { term: 2, undecided: [[2, 1]] })],
  ["an undecided range from 0", appendEntries("0001", { term: 2, undecided: [[0, 1]] })],
  ["undecided ranges that touch", appendEntries("0001", { term: 2, undecided: [[1, 2], [3, 4]] })],
  ["an empty undecided list", appendEntries("0001", { term: 2, undecided: [] })],
  [
    "an undecided pair not in a list",
    appendEntries("0001", { term: 2, undecided: [2, 5] as unknown as [number, number][] }),
  ],
  ["a vote with lastLogTerm above its term", {
    ...vote,
    src: "0002",
    type: "request_vote",
    term: 3,
    lastLogIndex: 4,
    lastLogTerm: 3,
  }],
  ["a vote with a negative lastLogIndex", {
    ...vote,
    src: "0002",
    type: "pre_vote",
    term: 3,
    lastLogIndex: -4,
    lastLogTerm: 1,
  }],
  ["an unknown type", {
    ...appendEntries("0001", { term: 2 }),
    type: "install_snapshot" as "append_entries",
  }],
  ["a commit-conflicting rewrite", appendEntries("0001", { term: 2, entries: [{ term: 2 }] })],
  [
    "a rewrite of the last committed entry",
    appendEntries("0001", { term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [{ term: 2 }] }),
  ],
];

/**
 * A peer message that makes no sense is dropped without throwing and without any
 * change of state or any reply (the issue: "never crash on input").
 */
Deno.test("malformed peer messages are ignored by a follower", () => {
  for (const [what, message] of bogusForFollower) {
    const node = makeNode();
    seedLog(node, 2, [{ term: 1 }, { term: 1 }], 0, 2);
    const before = snapshot(node);
    assert.deepEqual(deliver(node, message, 10), [], what);
    assert.deepEqual(snapshot(node), before, what);
  }
});

/**
 * A tick before the deadline the node asked for changes nothing and sends
 * nothing, whatever its role: a shell's timer may fire early, or for another
 * reason than this node's deadline (`tick`'s contract: harmless when nothing is due).
 */
Deno.test("a tick before the deadline changes nothing, in every role", () => {
  const follower = makeNode();
  seedLog(follower, 2, [{ term: 1 }, { term: 1 }], 0, 2);
  const candidate = makeNode();
  const campaignedAt = candidate.ready().deadline;
  candidate.tick(campaignedAt);
  const leader = makeNode();
  const electedAt = campaign(leader, 0);
  const lastInputs = [[follower, 0], [candidate, campaignedAt], [leader, electedAt]] as const;
  for (const [node, lastInputAt] of lastInputs) {
    const { deadline } = node.ready();
    const before = snapshot(node);
    for (const early of [Math.max(lastInputAt, deadline - 50), deadline - 1]) {
      node.tick(early);
      assert.deepEqual(node.ready().messages, [], `${node.role} at ${early}, due at ${deadline}`);
      assert.deepEqual(snapshot(node), before, node.role);
    }
  }
});

/**
 * A leader ignores replies claiming entries it never had or a send time in the
 * future (which would forge a lease).
 */
Deno.test("a leader ignores replies that acknowledge the future", () => {
  const node = makeNode();
  const at = campaign(node, 0);
  node.ready();
  const term = node.currentTerm;
  for (
    const reply of [
      appendReply("0001", { term, matchIndex: 99, sentAt: at }),
      appendReply("0002", { term, matchIndex: 1, sentAt: at + 10_000 }),
      appendReply("0003", { term, matchIndex: 1, sentAt: Number.NaN }),
      appendReply("0004", { term, matchIndex: -1, sentAt: at }),
      {
        ...appendReply("0004", { term, matchIndex: 1, sentAt: at }),
        success: "yes" as unknown as boolean,
      },
    ]
  ) {
    assert.deepEqual(deliver(node, reply, at + 1), []);
  }
  assert.equal(node.commitIndex, 0);
  assert.equal(node.role, "leader");
});

/**
 * A vote that reports an impossible log end (an entry from a term after the
 * vote's, or an empty log with a term) is not counted: the new leader would
 * start replicating to that voter from a place its log cannot be.
 */
Deno.test("a candidate does not count a vote whose log end is impossible", () => {
  for (
    const [what, logEnd] of [
      ["a last entry from a later term", { lastLogIndex: 3, lastLogTerm: 9 }],
      ["an empty log with a term", { lastLogIndex: 0, lastLogTerm: 1 }],
      ["a negative last index", { lastLogIndex: -1, lastLogTerm: 0 }],
    ] as const
  ) {
    const node = makeNode();
    node.tick(node.ready().deadline);
    const term = node.currentTerm + 1;
    const grant = { ...vote, granted: true, commitIndex: 0, term } as const;
    for (const src of ["0001", "0002"]) node.step({ ...grant, src, type: "pre_vote_reply" }, 0);
    node.ready();
    assert.equal(node.role, "candidate", what);
    for (const src of ["0001", "0002"]) {
      node.step({ ...grant, ...logEnd, src, type: "request_vote_reply" }, 0);
    }
    assert.equal(node.role, "candidate", what);
  }
});
