/**
 * Linearizable reads at the leader without log entries (Raft §8, thesis §6.4):
 * lease reads and the ReadIndex protocol.
 *
 * @module
 */

/** A read waiting for its ReadIndex round. */
export interface PendingRead {
  /** The caller's handle for it. */
  context: number;
  /** The commit index recorded on arrival; the read is served once it is committed. */
  index: number;
  /** When it arrived: a majority must acknowledge an AppendEntries sent at or after it. */
  requestedAt: number;
}

/**
 * Whether a leader may answer a get from its own state without contacting anyone.
 * Followers ignore vote requests for `electionTimeoutMinMs` after hearing from the
 * leader (thesis §6.2), so no other leader can exist until `leaseStart` plus that;
 * `leaseMs` is shorter to allow for clock drift (thesis §6.4.1).
 *
 * @param now The current time.
 * @param leaseStart The latest `sentAt` acknowledged by a majority.
 * @param leaseMs The lease length.
 * @returns `true` while the lease holds.
 */
export function leaseHolds(now: number, leaseStart: number, leaseMs: number): boolean {
  return now < leaseStart + leaseMs;
}

/**
 * The reads waiting for a ReadIndex round, oldest first.
 */
export class ReadOnly {
  #pending: PendingRead[] = [];

  /** How many reads wait. */
  get size(): number {
    return this.#pending.length;
  }

  /**
   * Queues a read.
   *
   * @param read The read and its read index.
   */
  add(read: PendingRead): void {
    this.#pending.push(read);
  }

  /**
   * Removes and returns the reads that may now be served.
   *
   * @param confirmedSince A majority acknowledged an AppendEntries sent at or after this time.
   * @param commitIndex The leader's commit index.
   * @returns The reads to answer, oldest first.
   */
  takeReady(confirmedSince: number, commitIndex: number): PendingRead[] {
    const isReady = (read: PendingRead) =>
      read.requestedAt <= confirmedSince && read.index <= commitIndex;
    const ready = this.#pending.filter(isReady);
    if (ready.length > 0) this.#pending = this.#pending.filter((read) => !isReady(read));
    return ready;
  }

  /**
   * Removes and returns every waiting read (on losing leadership).
   *
   * @returns The reads, oldest first.
   */
  takeAll(): PendingRead[] {
    const all = this.#pending;
    this.#pending = [];
    return all;
  }
}
