/**
 * Settings and outputs of the Raft core ({@linkcode RaftNode} in `node.ts`).
 *
 * @module
 */

import type { Entry, Id, PeerMessage } from "./messages.ts";

/** A log sink the core writes its one-line events to; the shell decides where they go. */
export type RaftLogger = (level: "debug" | "info", line: string) => void;

/**
 * Most entries in one AppendEntries a replica accepts; far above the
 * {@linkcode RaftOptions.maxEntriesPerAppend} a leader sends, which a 64 KiB
 * datagram bounds long before.
 */
export const MAX_ENTRIES_PER_MESSAGE = 1024;

/** Options for a Raft core. Times are milliseconds on the caller's clock. */
export interface RaftOptions {
  /** This replica's id. */
  id: Id;
  /** The other replicas' ids. */
  peers: readonly Id[];
  /** The caller's clock at creation. */
  now: number;
  /**
   * The only source of randomness: returns a number in [0, 1). Tests pass a seeded
   * PRNG; the shell passes `Math.random`.
   */
  random: () => number;
  /**
   * Lower bound of the randomized election timeout (§5.2). Also the stickiness
   * window: a replica that accepted an AppendEntries this recently ignores vote
   * requests (thesis §6.2).
   * @default {1200}
   */
  electionTimeoutMinMs?: number;
  /**
   * Upper bound (exclusive) of the randomized election timeout. Also the
   * check-quorum window: a leader that heard from no majority for this long steps
   * down (thesis §6.2).
   * @default {2400}
   */
  electionTimeoutMaxMs?: number;
  /**
   * How long a leader stays silent towards a follower before it sends a heartbeat.
   * An AppendEntries with entries counts as one. While no majority has answered
   * for two of these intervals, a silent follower is asked every `retransmitMs`
   * instead, so lost answers do not trip check-quorum.
   * @default {400}
   */
  heartbeatIntervalMs?: number;
  /**
   * How long after a majority acknowledged an AppendEntries sent at time `t` the
   * leader may serve reads locally: until `t + leaseMs`. Must be shorter than
   * `electionTimeoutMinMs` by more than the clock drift the deployment can have.
   * A leader also takes proposals, and closes its election's commit, only while
   * a majority answered within it, so it must be above 0.
   * @default {960}
   */
  leaseMs?: number;
  /**
   * How long an unacknowledged AppendEntries waits before it is sent again.
   * @default {100}
   */
  retransmitMs?: number;
  /**
   * When the leader's last few proposals all came further apart than this, it
   * tells one follower that holds the entry of each commit at once; in a denser
   * stream a commit goes untold for up to twice this, waiting for the next
   * AppendEntries to carry it. Followers learn commits with the leader's next
   * AppendEntries; should the leader die first, its successor cannot tell
   * whether it answered the entries it committed, and answers them again.
   * @default {70}
   */
  commitNoticeMs?: number;
  /**
   * Most entries in one AppendEntries, so a datagram stays well under 64 KiB.
   * At most {@linkcode MAX_ENTRIES_PER_MESSAGE}.
   * @default {64}
   */
  maxEntriesPerAppend?: number;
  /** Where the core's events go; nothing is logged when absent. */
  logger?: RaftLogger;
}

/** {@linkcode RaftOptions} with every default filled in and every rule checked. */
export type ResolvedRaftOptions = Required<Omit<RaftOptions, "logger">> & {
  logger: RaftLogger | undefined;
};

/**
 * Fills in the defaults and checks the settings against each other once, as
 * etcd's `Config.validate()` does.
 *
 * @param options The caller's options.
 * @returns The complete settings.
 * @throws {RangeError} When the settings contradict each other.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveRaftOptions } from "./options.ts";
 * const given = { id: "0000", peers: ["0001"], now: 0, random: Math.random };
 * assert.equal(resolveRaftOptions(given).leaseMs, 960);
 * assert.throws(() => resolveRaftOptions({ ...given, leaseMs: 1200 }), RangeError);
 * assert.throws(() => resolveRaftOptions({ ...given, leaseMs: 0 }), RangeError);
 * assert.throws(() => resolveRaftOptions({ ...given, peers: ["0001", "0001"] }), RangeError);
 * ```
 */
export function resolveRaftOptions(options: RaftOptions): ResolvedRaftOptions {
  // The timing, derived from what an idle cluster costs. Each follower hears a
  // heartbeat every 400 ms, three per minimum election timeout (1200 ms), so two
  // lost in a row still cause no election; a heartbeat round to four followers
  // is six messages (two answer, see RaftNode's quiet heartbeats), 15 a second.
  // The lease is 80 % of the minimum election timeout (thesis §6.4.1), 960 ms:
  // two rounds' answers keep it valid. Check-quorum waits the maximum, 2400 ms.
  // A commit notice costs one message, none when the next AppendEntries leaves
  // first. In a stream of requests 60 ms apart (the busiest standard configs),
  // one in five a get, the next put comes 60 ms later four times in five and
  // 120 ms later in most of the rest: waiting up to 140 ms (twice 70) carries
  // all but one commit in 25 for free, where 70 ms carried four in five and cost
  // about 75 messages a run. Such a stream leaves the last commit untold most of
  // the time either way, as each commit travels with the next put. Where the
  // last proposals came further apart than 70 ms the notice goes at once, as
  // none would carry the commit in time: the standard configs that kill leaders
  // or partition them send requests 75-150 ms apart, and kill 0-80 ms after one.
  const resolved: ResolvedRaftOptions = {
    electionTimeoutMinMs: 1200,
    electionTimeoutMaxMs: 2400,
    heartbeatIntervalMs: 400,
    leaseMs: 960,
    retransmitMs: 100,
    commitNoticeMs: 70,
    maxEntriesPerAppend: 64,
    ...options,
    logger: options.logger,
  };
  const { id, peers, electionTimeoutMinMs, electionTimeoutMaxMs, leaseMs } = resolved;
  if (peers.includes(id)) {
    throw new RangeError(`Cannot create a Raft node as peers includes its own id ${id}`);
  }
  // A peer listed twice would count in the cluster's size but answer once.
  if (new Set(peers).size !== peers.length) {
    throw new RangeError(
      `Cannot create a Raft node as peers lists an id twice (${
        peers.join(", ")
      }): ids must be distinct`,
    );
  }
  if (!(electionTimeoutMaxMs > electionTimeoutMinMs && electionTimeoutMinMs > 0)) {
    throw new RangeError(
      `Cannot create a Raft node as electionTimeoutMaxMs is ${electionTimeoutMaxMs}: it must be above electionTimeoutMinMs (${electionTimeoutMinMs}), itself above 0`,
    );
  }
  if (!(leaseMs > 0 && leaseMs < electionTimeoutMinMs)) {
    throw new RangeError(
      `Cannot create a Raft node as leaseMs is ${leaseMs}: it must be above 0 and below electionTimeoutMinMs (${electionTimeoutMinMs})`,
    );
  }
  if (!(resolved.heartbeatIntervalMs > 0 && resolved.retransmitMs > 0)) {
    throw new RangeError(
      "Cannot create a Raft node as heartbeatIntervalMs or retransmitMs is not positive",
    );
  }
  if (!(resolved.commitNoticeMs >= 0)) {
    throw new RangeError(
      `Cannot create a Raft node as commitNoticeMs is ${resolved.commitNoticeMs}: it must be 0 or more`,
    );
  }
  const { maxEntriesPerAppend } = resolved;
  if (
    !(Number.isInteger(maxEntriesPerAppend) && maxEntriesPerAppend >= 1 &&
      maxEntriesPerAppend <= MAX_ENTRIES_PER_MESSAGE)
  ) {
    throw new RangeError(
      `Cannot create a Raft node as maxEntriesPerAppend is ${maxEntriesPerAppend}: it must be an integer from 1 to ${MAX_ENTRIES_PER_MESSAGE}`,
    );
  }
  return resolved;
}

/** An entry that is committed and must now be applied, in log order. */
export interface CommittedEntry {
  /** Its log index. */
  index: number;
  /** The entry. */
  entry: Entry;
}

/**
 * A read the leader has confirmed it may serve (thesis §6.4): once every entry up
 * to `index` is applied, the state machine's value is linearizable for it.
 */
export interface ReadState {
  /** What the caller passed to {@linkcode RaftNode.requestRead}. */
  context: number;
  /** The commit index the read must see applied. */
  index: number;
}

/** What the caller must do after feeding the core an input. */
export interface Ready {
  /** Messages to send to peers, in order (a `dst` of `FFFF` is a broadcast). */
  messages: PeerMessage[];
  /** Newly committed entries, to apply in this order before serving `readStates`. */
  committedEntries: CommittedEntry[];
  /** Reads that may now be served, in the order they were requested. */
  readStates: ReadState[];
  /** The caller's clock value at which `tick` must next be called. */
  deadline: number;
}
