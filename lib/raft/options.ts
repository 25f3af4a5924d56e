/**
 * Settings and outputs of the Raft core ({@linkcode RaftNode} in `node.ts`).
 *
 * @module
 */

import type { Id, OutboundMessage } from "./messages.ts";

/** A log sink the core writes its one-line events to; the shell decides where they go. */
export type RaftLogger = (level: "debug" | "info", line: string) => void;

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
   * window: a follower that heard from a live leader this recently ignores vote
   * requests (thesis §6.2).
   * @default {600}
   */
  electionTimeoutMinMs?: number;
  /**
   * Upper bound (exclusive) of the randomized election timeout. Also the
   * check-quorum window: a leader that heard from no majority for this long steps
   * down (thesis §6.2).
   * @default {1200}
   */
  electionTimeoutMaxMs?: number;
  /**
   * How long a leader stays silent towards a follower before it sends a heartbeat.
   * An AppendEntries with entries counts as one.
   * @default {200}
   */
  heartbeatIntervalMs?: number;
  /**
   * How long after a majority acknowledged an AppendEntries sent at time `t` the
   * leader may serve reads locally: until `t + leaseMs`. Must be shorter than
   * `electionTimeoutMinMs` by more than the clock drift the deployment can have.
   * @default {480}
   */
  leaseMs?: number;
  /**
   * How long an unacknowledged AppendEntries waits before it is sent again.
   * @default {100}
   */
  retransmitMs?: number;
  /**
   * How long a replica that knows no leader holds a client request before it
   * answers `fail` (the request is then in no log, so failing it is safe).
   * Longer than a typical partition: a request held until it heals is then
   * redirected to the leader instead of failed and retried, perhaps into the
   * minority again.
   * @default {5000}
   */
  holdRequestMs?: number;
  /**
   * Most entries in one AppendEntries, so a datagram stays well under 64 KiB.
   * @default {64}
   */
  maxEntriesPerAppend?: number;
  /** Where the core's events go; nothing is logged when absent. */
  logger?: RaftLogger;
}

/** What the caller must do after feeding the core an input. */
export interface Ready {
  /** Messages to send, in order: to peers, to clients, or broadcast. */
  messages: OutboundMessage[];
  /** The caller's clock value at which `tick` must next be called. */
  deadline: number;
}
