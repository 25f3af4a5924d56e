/**
 * The messages a replica exchanges: client requests and replies (fixed by the
 * course protocol, shared/PROTOCOL.md section 2) and the replica-to-replica Raft
 * messages (ours to define). Every message is exactly what travels in one UDP
 * datagram as JSON; `lib/net/codec.ts` validates inbound datagrams into these types.
 *
 * @module
 */

/** A replica or client id: four upper-case hex digits, e.g. `"0003"`. */
export type Id = string;

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

/** The first datagram a replica sends, so the simulator learns its address. */
export interface Hello extends Envelope {
  type: "hello";
}

/** A client read. */
export interface GetRequest extends Envelope {
  type: "get";
  /** Message id chosen by the client; the reply echoes it. */
  MID: string;
  key: string;
}

/** A client write. */
export interface PutRequest extends Envelope {
  type: "put";
  MID: string;
  key: string;
  value: string;
}

/** A client request of either kind. */
export type ClientRequest = GetRequest | PutRequest;

/** Success: `value` is present for a get (`""` for a key never put), absent for a put. */
export interface OkReply extends Envelope {
  type: "ok";
  MID: string;
  value?: string;
}

/** "Ask the replica named in `leader` instead." */
export interface RedirectReply extends Envelope {
  type: "redirect";
  MID: string;
}

/** "Not done; retry." Only ever sent for a request that is in no log. */
export interface FailReply extends Envelope {
  type: "fail";
  MID: string;
}

/** A reply to a client. */
export type ClientReply = OkReply | RedirectReply | FailReply;

/**
 * One log entry. A no-op (appended by each new leader, Raft §8) has only `term`;
 * a put also names its key, value and the client and MID to acknowledge once it
 * commits, so whichever leader commits it can answer (PROTOCOL.md section 6).
 */
export interface Entry {
  term: number;
  key?: string;
  value?: string;
  client?: Id;
  MID?: string;
}

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
   * The voter's commit index: a new leader takes the highest of its voters' so it
   * knows which committed entries an earlier leader has already acknowledged.
   */
  commitIndex: number;
}

/** AppendEntries (§5.3); with no entries it is a heartbeat. */
export interface AppendEntries extends Envelope {
  type: "append_entries";
  term: number;
  prevLogIndex: number;
  prevLogTerm: number;
  entries: Entry[];
  leaderCommit: number;
  /** The leader's clock when sent, echoed in the reply to time the lease. */
  sentAt: number;
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
  /** {@linkcode AppendEntries.sentAt} echoed back. */
  sentAt: number;
}

/** Any replica-to-replica message. */
export type PeerMessage = VoteRequest | VoteReply | AppendEntries | AppendEntriesReply;

/** Any message a replica may receive from the simulator (hello excluded). */
export type InboundMessage = ClientRequest | PeerMessage;

/** Any message a replica may send. */
export type OutboundMessage = Hello | ClientReply | PeerMessage;
