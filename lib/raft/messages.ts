/**
 * The replica-to-replica Raft messages. Each is exactly what travels in one UDP
 * datagram as JSON; `lib/net/codec.ts` validates inbound datagrams into these
 * types. The envelope (`src`, `dst`, `leader`) is the one every datagram of the
 * course protocol carries (shared/PROTOCOL.md section 2).
 *
 * @module
 */

/** A replica id (or, on the wire, any sender's): four upper-case hex digits, e.g. `"0003"`. */
export type Id = string;

/** What an {@linkcode Id} looks like on the wire: four hex digits. */
export const ID_PATTERN: RegExp = /^[0-9A-Fa-f]{4}$/;

/** `dst` meaning "every replica"; `leader` meaning "no known leader". */
export const BROADCAST: Id = "FFFF";

/** The four fields every datagram carries (PROTOCOL.md section 2). */
export interface Envelope {
  /** Sender id. */
  src: Id;
  /** Receiver id, or {@linkcode BROADCAST}. */
  dst: Id;
  /** The sender's belief of who leads, or {@linkcode BROADCAST} when unknown. */
  leader: Id;
}

/**
 * What a log entry carries for the state machine: any JSON value. The core
 * stores, replicates and hands it back once committed, and never looks inside.
 */
export type Command = unknown;

/**
 * One log entry. A no-op (appended by each new leader, Raft §8) has only `term`;
 * any other carries the `command` that was proposed.
 */
export interface Entry {
  term: number;
  command?: Command;
}

/** A run of log indexes, `first` through `last`. */
export type IndexRange = readonly [first: number, last: number];

/** RequestVote (§5.2) and its pre-vote twin (thesis §9.6), which changes no state. */
export interface VoteRequest extends Envelope {
  type: "request_vote" | "pre_vote";
  /** For a pre-vote: the term the sender would campaign in. */
  term: number;
  lastLogIndex: number;
  lastLogTerm: number;
}

/** The answer to a {@linkcode VoteRequest}. */
export interface VoteReply extends Envelope {
  type: "request_vote_reply" | "pre_vote_reply";
  /** The voter's term, or for a pre-vote the term it was asked about when granted. */
  term: number;
  granted: boolean;
  /**
   * The index of the voter's last log entry. A new leader that holds an entry
   * of {@linkcode VoteReply.lastLogTerm} there knows the voter's log matches
   * its own up to it (§5.3, Log Matching), and sends it what follows at once
   * instead of probing where its log ends.
   */
  lastLogIndex: number;
  /** The term of the voter's last log entry, 0 for an empty log. */
  lastLogTerm: number;
  /**
   * The highest commit index a leader told the voter (or the voter told, as a
   * leader): a new leader merges its voters' with their
   * {@linkcode VoteReply.undecided}, so its application knows which entries an
   * earlier leader committed, and answered.
   */
  commitIndex: number;
  /**
   * The ranges of entries below `commitIndex` a leader told it had not
   * decided whether to answer (see {@linkcode AppendEntries.undecided}).
   * Absent: none.
   */
  undecided?: readonly IndexRange[];
}

/** AppendEntries (§5.3); with no entries it is a heartbeat. */
export interface AppendEntries extends Envelope {
  type: "append_entries";
  term: number;
  prevLogIndex: number;
  prevLogTerm: number;
  entries: Entry[];
  leaderCommit: number;
  /**
   * The ranges of earlier terms' entries a new leader has not decided whether
   * to answer yet, in ascending order, each a gap apart: it commits them, but
   * until it has heard what its followers know of an earlier leader's
   * answers, a successor must not take them for answered. Absent: every
   * committed entry was answered.
   */
  undecided?: readonly IndexRange[];
  /** The leader's clock when sent, echoed in the reply to time the lease. */
  sentAt: number;
  /**
   * The followers that must answer it; the others take it (contact, entries,
   * commit index) without answering, unless it does not fit their log. Sent
   * with heartbeat rounds and broadcasts meant for some followers only.
   * Absent: every follower answers.
   */
  repliers?: Id[];
  /**
   * Answer with two copies: set on entries the leader has not committed yet,
   * sent over a network that loses about half the round trips, where one copy
   * of each answer would leave most rounds short of a majority. Absent: one copy.
   */
  replyTwice?: boolean;
}

/** The answer to {@linkcode AppendEntries}. */
export interface AppendEntriesReply extends Envelope {
  type: "append_entries_reply";
  term: number;
  success: boolean;
  /** On success: the index of the last entry the follower now holds from the leader. */
  matchIndex: number;
  /**
   * On failure, the fast-backtracking hint (§5.3, "the follower can include the
   * term of the conflicting entry and the first index it stores for that term"):
   * the index the leader should try next.
   */
  conflictIndex: number;
  /** The term of the follower's entry at the conflict, or 0 when its log is too short. */
  conflictTerm: number;
  /**
   * The highest commit index a leader told the follower (or the follower told,
   * as a leader): while a new leader's election commit is open, it tells with
   * {@linkcode AppendEntriesReply.undecided} which entries an earlier leader
   * committed, and answered.
   */
  commitIndex: number;
  /** As {@linkcode VoteReply.undecided}. */
  undecided?: readonly IndexRange[];
  /** {@linkcode AppendEntries.sentAt} echoed back. */
  sentAt: number;
  /** Whether this is the second copy asked for by {@linkcode AppendEntries.replyTwice}. */
  secondCopy?: boolean;
}

/** Any replica-to-replica message. */
export type PeerMessage = VoteRequest | VoteReply | AppendEntries | AppendEntriesReply;
