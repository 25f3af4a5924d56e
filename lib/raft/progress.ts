/**
 * What a leader knows about each follower (Raft §5.3 `nextIndex`/`matchIndex`),
 * plus the timing a leader needs for heartbeats, retransmission, check-quorum and
 * leases.
 *
 * @module
 */

import type { Id } from "./messages.ts";
import { quorumValue } from "./quorum.ts";

/**
 * How many unanswered AppendEntries a follower's progress remembers: older ones
 * are forgotten, counted neither answered nor lost.
 */
const AWAITED_KEPT = 8;

/**
 * One follower's replication state, after etcd's `tracker.Progress`.
 *
 * In `probe` the leader does not know where the follower's log ends: it sends one
 * AppendEntries and waits for the reply (`paused`). In `replicate` the follower
 * is known to match up to `matchIndex`, so new entries are sent the moment they
 * are appended and `nextIndex` advances optimistically (pipelining).
 */
export class Progress {
  /** Index of the next entry to send (§5.3). */
  nextIndex: number;
  /** Highest index known to be replicated on the follower (§5.3). */
  matchIndex = 0;
  /** `probe` or `replicate`, see the class comment. */
  state: "probe" | "replicate" = "probe";
  /** In `probe`: an AppendEntries is out and no reply came back yet. */
  paused = false;
  /** In `probe`: when the last probe went out; older rejections are stale. */
  probeSentAt = -Infinity;
  /** When the leader last sent this follower an AppendEntries. */
  lastSentAt = -Infinity;
  /**
   * The highest commit index an AppendEntries sent to it carried, as far as it
   * could take it (§5.3: up to the last entry it carried). Sent, not received.
   */
  toldCommitIndex = 0;
  /**
   * The latest `sentAt` it echoed in any reply this term, or the start of the
   * term (check-quorum). The echoed send time, not the arrival: a reply that sat
   * in a socket while the leader's process was paused proves nothing about now.
   */
  lastAckAt: number;
  /** The latest `sentAt` it echoed in this term (lease and ReadIndex, thesis §6.4). */
  ackedSentAt = -Infinity;
  /** When leadership began: a `sentAt` before it belongs to an earlier term of this leader's. */
  readonly #termStartedAt: number;
  /** When unacknowledged entries are sent again; `undefined` when none are missing. */
  retransmitAt: number | undefined = undefined;
  /** Retransmissions since the follower last made progress (for backoff). */
  retransmits = 0;
  /** The `sentAt` of the last few AppendEntries it was asked to answer and has not. */
  #awaited: number[] = [];

  /**
   * @param nextIndex The leader's last index + 1 (§5.3: "initialized to leader last log index + 1").
   * @param now The time leadership began, which counts as contact.
   */
  constructor(nextIndex: number, now: number) {
    this.nextIndex = nextIndex;
    this.lastAckAt = now;
    this.#termStartedAt = now;
  }

  /**
   * Records any reply, success or rejection, by the send time it echoes.
   *
   * @param sentAt The `sentAt` of the AppendEntries it answers.
   */
  recordReply(sentAt: number): void {
    this.lastAckAt = Math.max(this.lastAckAt, sentAt);
    // A late answer to an AppendEntries from an earlier term of ours (a rejection
    // echoes it in the follower's newer term) says nothing of this term's lease.
    // Such a lease would have ended anyway, as winning again takes longer than
    // one lasts (voters ignore votes for electionTimeoutMinMs after contact), but
    // the lease's start should not rest on that.
    if (sentAt >= this.#termStartedAt) this.ackedSentAt = Math.max(this.ackedSentAt, sentAt);
  }

  /**
   * Whether entries sent to it are not acknowledged yet: in `probe`, the probe
   * is out; in `replicate`, entries below `nextIndex` are above `matchIndex`.
   */
  get hasEntriesInFlight(): boolean {
    return this.state === "probe" ? this.paused : this.nextIndex > this.matchIndex + 1;
  }

  /** Whether an AppendEntries carrying entries may go out now. */
  get canSend(): boolean {
    return this.state === "replicate" || !this.paused;
  }

  /**
   * Starts replicating from a known match, without a probe: the leader knows
   * the follower's log agrees with its own up to `matchIndex`.
   *
   * @param matchIndex The last index known to match.
   */
  startReplicating(matchIndex: number): void {
    this.state = "replicate";
    this.paused = false;
    this.matchIndex = matchIndex;
    this.nextIndex = matchIndex + 1;
  }

  /**
   * Records a successful reply. A reply reaching the probed index confirms where
   * the follower's log matches, so replication switches to `replicate`.
   *
   * @param matchIndex The follower's last index matching the leader's log.
   * @returns `true` when the follower made progress.
   */
  maybeUpdate(matchIndex: number): boolean {
    if (matchIndex >= this.nextIndex - 1) {
      this.state = "replicate";
      this.paused = false;
    }
    if (matchIndex <= this.matchIndex) return false;
    this.matchIndex = matchIndex;
    this.nextIndex = Math.max(this.nextIndex, matchIndex + 1);
    this.retransmits = 0;
    this.retransmitAt = undefined;
    return true;
  }

  /**
   * Records an AppendEntries sent to this follower. In `replicate` the entries
   * count as on their way (pipelining); in `probe` it is the probe, and the
   * leader waits for its answer.
   *
   * @param from Index of its first entry.
   * @param count How many entries it carries.
   * @param now When it was sent.
   */
  sentAppend(from: number, count: number, now: number): void {
    this.lastSentAt = now;
    if (this.state === "replicate") {
      this.nextIndex = Math.max(this.nextIndex, from + count);
    } else {
      this.paused = true;
      this.probeSentAt = now;
    }
  }

  /**
   * Records a heartbeat anchored at the match index: it changes no replication state.
   *
   * @param now When it was sent.
   */
  sentHeartbeat(now: number): void {
    this.lastSentAt = now;
  }

  /**
   * Records that an AppendEntries told it the commit index up to `index`.
   *
   * @param index The commit index it can take from that AppendEntries.
   */
  toldCommit(index: number): void {
    this.toldCommitIndex = Math.max(this.toldCommitIndex, index);
  }

  /**
   * Records that an AppendEntries sent at `sentAt` asked this follower for an answer.
   *
   * @param sentAt Its `sentAt`.
   */
  awaitAnswer(sentAt: number): void {
    this.#awaited.push(sentAt);
    if (this.#awaited.length > AWAITED_KEPT) this.#awaited.shift();
  }

  /**
   * Settles the AppendEntries that a reply echoing `sentAt` answers: it is
   * answered, and any asked of this follower before it and still unanswered
   * count as lost (answers come back in order but for losses). After this,
   * none of them is awaited.
   *
   * @param sentAt The `sentAt` the reply echoes.
   * @returns How many earlier ones were lost, or `undefined` when the reply
   *   answers nothing awaited (not asked for, answered already, or too old).
   */
  settleAnswer(sentAt: number): number | undefined {
    const index = this.#awaited.indexOf(sentAt);
    if (index < 0) return undefined;
    this.#awaited.splice(0, index + 1);
    return index;
  }

  /**
   * Arms the retransmit timer, unless it is armed already.
   *
   * @param at When to send again.
   */
  armRetransmit(at: number): void {
    this.retransmitAt ??= at;
  }

  /** Forgets the retransmissions counted for backoff and disarms the timer. */
  restartBackoff(): void {
    this.retransmits = 0;
    this.retransmitAt = undefined;
  }

  /** Disarms the retransmit timer: the follower lacks nothing. */
  disarmRetransmit(): void {
    this.retransmitAt = undefined;
  }

  /**
   * Takes a due retransmission: counts it (for backoff) and disarms the timer.
   *
   * @param now The current time.
   * @returns Whether one was due.
   */
  takeRetransmit(now: number): boolean {
    if (this.retransmitAt === undefined || this.retransmitAt > now) return false;
    this.retransmits++;
    this.retransmitAt = undefined;
    return true;
  }

  /**
   * Falls back to probing from `nextIndex` (after a rejection or a lost message).
   *
   * @param nextIndex Where to probe; kept above `matchIndex`.
   */
  becomeProbe(nextIndex: number): void {
    this.state = "probe";
    this.paused = false;
    this.nextIndex = Math.max(nextIndex, this.matchIndex + 1);
  }
}

/**
 * The leader's view of all followers, with the majority questions asked of it.
 */
export class ProgressTracker {
  /** Progress per follower id. */
  readonly followers: Map<Id, Progress>;

  /** One value per replica, refilled by each majority question instead of allocated. */
  readonly #values: Float64Array;

  /**
   * @param peers The followers.
   * @param nextIndex Initial `nextIndex` for each.
   * @param now When leadership began.
   */
  constructor(peers: readonly Id[], nextIndex: number, now: number) {
    this.followers = new Map(peers.map((peer) => [peer, new Progress(nextIndex, now)]));
    this.#values = new Float64Array(peers.length + 1);
  }

  /**
   * The highest index stored on a majority (§5.4.2 counts the leader's own log).
   *
   * @param leaderLastIndex The leader's last index.
   * @returns That index.
   */
  quorumMatchIndex(leaderLastIndex: number): number {
    return this.#quorumValue(leaderLastIndex, (p) => p.matchIndex);
  }

  /**
   * The latest time since which a majority (the leader counting as `now`) has
   * replied to anything (check-quorum, thesis §6.2).
   *
   * @param now The current time.
   * @returns That time.
   */
  quorumContactAt(now: number): number {
    return this.#quorumValue(now, (p) => p.lastAckAt);
  }

  /**
   * The latest `sentAt` such that a majority (the leader counting as `now`)
   * acknowledged an AppendEntries sent at or after it: the start of the lease
   * (thesis §6.4).
   *
   * @param now The current time.
   * @returns That time, `-Infinity` when no majority acknowledged anything yet.
   */
  quorumAckedSentAt(now: number): number {
    return this.#quorumValue(now, (p) => p.ackedSentAt);
  }

  /** {@linkcode quorumValue} over the leader's `own` value and each follower's `pick`. */
  #quorumValue(own: number, pick: (progress: Progress) => number): number {
    const values = this.#values;
    values[0] = own;
    let next = 1;
    for (const progress of this.followers.values()) values[next++] = pick(progress);
    return quorumValue(values);
  }
}
