/**
 * Helpers that drive one {@linkcode RaftNode}, or one whole replica (a
 * {@linkcode ServedReplica}: the key-value server on its core), by hand, playing
 * its peers, for tests that need an exact log or message sequence (etcd's
 * raft_paper_test.go style).
 *
 * @module
 */

import { ServedReplica } from "../../lib/dst/replica.ts";
import type { PutCommand, PutRequest } from "../../lib/kv/messages.ts";
import type { KvServerOptions } from "../../lib/kv/server.ts";
import { RaftNode } from "../../lib/raft/node.ts";
import type {
  AppendEntries,
  AppendEntriesReply,
  Entry,
  Id,
  PeerMessage,
} from "../../lib/raft/messages.ts";
import type { RaftOptions } from "../../lib/raft/options.ts";
import { seededRandom, TEST_TIMING } from "./_network.ts";

/** Peers of the node under test, in a cluster of five. */
export const PEERS: readonly Id[] = ["0001", "0002", "0003", "0004"];

/** A Raft core or a whole replica: what the helpers below can drive. */
export interface Driven<O> {
  readonly role: string;
  readonly currentTerm: number;
  step(message: PeerMessage, now: number): void;
  tick(now: number): void;
  ready(): { messages: O[]; deadline: number };
}

/** Node `0000` of five at time 0, in the tests' timing (random draws are each node's own). */
const NODE_0000 = { id: "0000", peers: PEERS, now: 0, ...TEST_TIMING } as const;

/**
 * A Raft core `0000` in a five-replica cluster.
 *
 * @param options Timing overrides.
 * @returns The core.
 */
export function makeNode(
  options: Partial<Omit<RaftOptions, "id" | "peers">> = {},
): RaftNode {
  return new RaftNode({ ...NODE_0000, random: seededRandom(3), ...options });
}

/**
 * A whole replica `0000` (the key-value server on its core) in a five-replica cluster.
 *
 * @param options Timing and service overrides.
 * @returns The replica.
 */
export function makeReplica(
  options: Partial<Omit<KvServerOptions, "id" | "peers">> = {},
): ServedReplica {
  return new ServedReplica({ ...NODE_0000, random: seededRandom(3), ...options });
}

/**
 * Steps the node and drains its output.
 *
 * @returns The messages it sent.
 */
export function deliver<I, O>(
  node: { step(message: I, now: number): void; ready(): { messages: O[] } },
  message: I,
  now: number,
): O[] {
  node.step(message, now);
  return node.ready().messages;
}

/**
 * A put's log command, as the key-value server proposes it.
 *
 * @param n Makes key `k<n>`, value `v<n>`, MID `m<n>`.
 */
export function putCommand(n: number): PutCommand {
  return { key: `k${n}`, value: `v${n}`, client: "0100", MID: `m${n}` };
}

/** The MIDs of the puts among `entries`, in order. */
export function midsOf(entries: readonly Entry[]): string[] {
  return entries.flatMap(({ command }) =>
    command === undefined ? [] : [
      (command as PutCommand).MID,
    ]
  );
}

/** An AppendEntries from `from` to the node `0000`. */
export function appendEntries(
  from: Id,
  fields: Partial<AppendEntries> & { term: number },
): AppendEntries {
  return {
    src: from,
    dst: "0000",
    leader: from,
    type: "append_entries",
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [],
    leaderCommit: 0,
    sentAt: 0,
    ...fields,
  };
}

/** An AppendEntries reply from `from` to the node `0000`. */
export function appendReply(
  from: Id,
  fields: Partial<AppendEntriesReply> & { term: number },
): AppendEntriesReply {
  return {
    src: from,
    dst: "0000",
    leader: "0000",
    type: "append_entries_reply",
    success: true,
    matchIndex: 0,
    conflictIndex: 0,
    conflictTerm: 0,
    commitIndex: 0,
    sentAt: 0,
    ...fields,
  };
}

/**
 * Gives the node a log by playing a leader `0001` of `term` that sends `entries`.
 *
 * @returns The node's reply messages.
 */
export function seedLog<O>(
  node: Driven<O>,
  term: number,
  entries: Entry[],
  now: number,
  leaderCommit = 0,
): O[] {
  return deliver(node, appendEntries("0001", { term, entries, leaderCommit, sentAt: now }), now);
}

/** Who grants a campaign's votes, and what they report, for {@linkcode campaign}. */
export interface Voters {
  /**
   * The two peers that grant (a majority of five with the candidate).
   * @default {["0001", "0002"]}
   */
  voters?: readonly Id[];
  /**
   * The commit index they report.
   * @default {0}
   */
  commitIndex?: number;
  /**
   * Where their logs end: last index and its term.
   * @default {[0, 0]}
   */
  logEnd?: readonly [number, number];
}

/**
 * Makes the node leader: lets its election timer fire, then grants its pre-vote
 * (none at term 0) and vote from two voters (a majority of five with itself).
 *
 * @param now When to start; must be past any leader contact by the minimum election timeout.
 * @param options The voters and what they report; by default `0001` and `0002`, empty logs.
 * @returns The time at which it became leader.
 */
export function campaign<O>(node: Driven<O>, now: number, options: Voters = {}): number {
  const { voters = ["0001", "0002"], commitIndex = 0, logEnd = [0, 0] } = options;
  const at = Math.max(now, node.ready().deadline);
  const term = node.currentTerm + 1;
  node.tick(at);
  node.ready();
  const [lastLogIndex, lastLogTerm] = logEnd;
  const grant = { dst: "0000", leader: "FFFF", granted: true, lastLogIndex, lastLogTerm } as const;
  // A replica at term 0 skips the pre-vote.
  if (node.role === "pre_candidate") {
    for (const voter of voters) {
      node.step({ ...grant, src: voter, type: "pre_vote_reply", term, commitIndex: 0 }, at);
    }
    node.ready();
  }
  for (const voter of voters) {
    node.step({ ...grant, src: voter, type: "request_vote_reply", term, commitIndex }, at);
  }
  if (node.role !== "leader") throw new Error(`Campaign failed: node is ${node.role}`);
  return at;
}

/**
 * Makes a new node leader and has every follower acknowledge its no-op, so all
 * of them replicate from index 2.
 *
 * @returns The leader and the time of the acknowledgements.
 */
export function replicatingLeader(): { node: RaftNode; at: number } {
  const node = makeNode();
  const electedAt = campaign(node, 0);
  node.ready(); // the no-op's round
  const at = electedAt + 1;
  for (const peer of PEERS) {
    node.step(appendReply(peer, { term: node.currentTerm, matchIndex: 1, sentAt: electedAt }), at);
  }
  node.ready();
  return { node, at };
}

/** A put of `value` under key `k` from client `0100` to the node `0000`. */
export function putRequest(MID: string, value: string): PutRequest {
  return { src: "0100", dst: "0000", leader: "0000", type: "put", MID, key: "k", value };
}

/**
 * The AppendEntries among `messages` sent to `to` (directly or by broadcast).
 */
export function appendsTo(
  messages: readonly { type: string; dst: Id }[],
  to: Id,
): AppendEntries[] {
  return messages.filter((m): m is AppendEntries =>
    m.type === "append_entries" && (m.dst === to || m.dst === "FFFF")
  );
}
