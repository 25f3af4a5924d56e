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
 * Whether a leader may serve a read from its own state without contacting anyone.
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
 * The reads waiting for a ReadIndex round, oldest first. Reads arrive in time
 * order with non-decreasing indexes (a leader's commit index only grows), so
 * the ready ones are always a prefix: serving them costs O(1) per read however
 * many wait.
 */
export class ReadOnly {
  #pending: PendingRead[] = [];
  /** Index of the oldest read still waiting; the slots before it were served. */
  #head = 0;

  /** How many reads wait. */
  get size(): number {
    return this.#pending.length - this.#head;
  }

  /** When the oldest waiting read was requested, `Infinity` when none waits. */
  get oldestRequestedAt(): number {
    return this.#pending[this.#head]?.requestedAt ?? Infinity;
  }

  /**
   * Queues a read.
   *
   * @param read The read, requested no earlier and with no lower index than the last one.
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
    const start = this.#head;
    for (
      let read = this.#pending[this.#head];
      read !== undefined;
      read = this.#pending[this.#head]
    ) {
      if (read.requestedAt > confirmedSince || read.index > commitIndex) break;
      this.#head++;
    }
    const ready = this.#pending.slice(start, this.#head);
    // Drop the served slots once they are most of the array: amortized O(1).
    if (this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    return ready;
  }

  /** Forgets every waiting read (on losing leadership). */
  clear(): void {
    this.#pending = [];
    this.#head = 0;
  }
}
