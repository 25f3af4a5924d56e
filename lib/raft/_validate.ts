/**
 * Semantic checks on peer messages. The codec has already checked their shape;
 * these reject what no correct peer sends (Raft assumes non-Byzantine peers, but
 * a replica must never crash or corrupt its log on input).
 *
 * @module
 */

import {
  type AppendEntries,
  type AppendEntriesReply,
  BROADCAST,
  type Entry,
  type Id,
  type PeerMessage,
  type VoteReply,
  type VoteRequest,
} from "./messages.ts";
import { undecidedProblem } from "./answered.ts";
import { MAX_ENTRIES_PER_MESSAGE } from "./options.ts";

function isIndex(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function voteRequestProblem(message: VoteRequest): string | undefined {
  if (message.term < 1) return "term is 0";
  if (!isIndex(message.lastLogIndex) || !isIndex(message.lastLogTerm)) {
    return "lastLogIndex or lastLogTerm is not a non-negative integer";
  }
  if (message.lastLogTerm >= message.term) return "lastLogTerm is not below term";
  if ((message.lastLogIndex === 0) !== (message.lastLogTerm === 0)) {
    return "lastLogIndex and lastLogTerm disagree about an empty log";
  }
  return undefined;
}

function voteReplyProblem(message: VoteReply): string | undefined {
  if (typeof message.granted !== "boolean") return "granted is not a boolean";
  if (!isIndex(message.lastLogIndex) || !isIndex(message.lastLogTerm)) {
    return "lastLogIndex or lastLogTerm is not a non-negative integer";
  }
  if (message.lastLogTerm > message.term) return "lastLogTerm is above term";
  if ((message.lastLogIndex === 0) !== (message.lastLogTerm === 0)) {
    return "lastLogIndex and lastLogTerm disagree about an empty log";
  }
  if (!isIndex(message.commitIndex)) return "commitIndex is not a non-negative integer";
  return undecidedProblem(message.undecided);
}

function entryProblem(entry: Entry, minTerm: number, maxTerm: number): string | undefined {
  if (typeof entry !== "object" || entry === null) return "an entry is not an object";
  if (!isIndex(entry.term) || entry.term < Math.max(minTerm, 1) || entry.term > maxTerm) {
    return `an entry has term ${entry.term} outside [${minTerm}, ${maxTerm}]`;
  }
  return undefined;
}

function appendEntriesProblem(message: AppendEntries): string | undefined {
  if (message.term < 1) return "term is 0";
  if (![message.prevLogIndex, message.prevLogTerm, message.leaderCommit].every(isIndex)) {
    return "prevLogIndex, prevLogTerm or leaderCommit is not a non-negative integer";
  }
  if (message.prevLogTerm > message.term) return "prevLogTerm is above term";
  if ((message.prevLogIndex === 0) !== (message.prevLogTerm === 0)) {
    return "prevLogIndex and prevLogTerm disagree about an empty prefix";
  }
  if (!isTime(message.sentAt)) return "sentAt is not a finite number";
  if (!Array.isArray(message.entries) || message.entries.length > MAX_ENTRIES_PER_MESSAGE) {
    return "entries is not a list of acceptable length";
  }
  let minTerm = message.prevLogTerm;
  for (const entry of message.entries) {
    const problem = entryProblem(entry, minTerm, message.term);
    if (problem !== undefined) return problem;
    minTerm = entry.term;
  }
  if (!Number.isSafeInteger(message.prevLogIndex + message.entries.length)) {
    return "the last entry's index is too large";
  }
  return undecidedProblem(message.undecided);
}

function appendEntriesReplyProblem(message: AppendEntriesReply): string | undefined {
  if (typeof message.success !== "boolean") return "success is not a boolean";
  const indexes = [message.matchIndex, message.conflictIndex, message.conflictTerm];
  if (![...indexes, message.commitIndex].every(isIndex)) {
    return "matchIndex, conflictIndex, conflictTerm or commitIndex is not a non-negative integer";
  }
  if (!isTime(message.sentAt)) return "sentAt is not a finite number";
  return undecidedProblem(message.undecided);
}

/**
 * Why a peer message must be dropped, if it must.
 *
 * @param message A message that has the shape of a peer message.
 * @param self This replica's id.
 * @param peers The other replicas' ids.
 * @returns A reason for a debug log line, or `undefined` when the message is acceptable.
 */
export function peerMessageProblem(
  message: PeerMessage,
  self: Id,
  peers: ReadonlySet<Id>,
): string | undefined {
  if (!peers.has(message.src)) return `sender ${message.src} is not a peer`;
  if (message.dst !== self && message.dst !== BROADCAST) return `dst ${message.dst} is not us`;
  if (!isIndex(message.term)) return "term is not a non-negative integer";
  switch (message.type) {
    case "request_vote":
    case "pre_vote":
      return voteRequestProblem(message);
    case "request_vote_reply":
    case "pre_vote_reply":
      return voteReplyProblem(message);
    case "append_entries":
      return appendEntriesProblem(message);
    case "append_entries_reply":
      return appendEntriesReplyProblem(message);
    default:
      return `unknown type ${(message as { type: unknown }).type}`;
  }
}
