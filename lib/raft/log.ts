/**
 * The replicated log (Raft §5.3): entries with 1-based indexes, the commit index
 * and the index of the last entry applied to the state machine.
 *
 * @module
 */

import type { Entry } from "./messages.ts";

/**
 * A Raft log held in memory (replicas are never restarted, so nothing is persisted).
 * Index 0 is the empty prefix, of term 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RaftLog } from "./log.ts";
 * const log = new RaftLog();
 * log.append({ term: 1 });
 * assert.ok(log.lastIndex === 1 && log.term(1) === 1 && log.term(0) === 0);
 * ```
 */
export class RaftLog {
  #entries: Entry[] = [];
  /** Each entry's {@linkcode entryBytes}, measured once when first needed; entries never change. */
  #bytes: number[] = [];
  /** Highest index known to be committed (§5.3). */
  commitIndex = 0;
  /** Highest index applied to the state machine. */
  lastApplied = 0;

  /** Index of the last entry, 0 when empty. */
  get lastIndex(): number {
    return this.#entries.length;
  }

  /** Term of the last entry, 0 when empty. */
  get lastTerm(): number {
    return this.#entries.at(-1)?.term ?? 0;
  }

  /**
   * The term of the entry at `index`.
   *
   * @param index A log index.
   * @returns The term, 0 for index 0, `undefined` beyond the log or for a bad index.
   */
  term(index: number): number | undefined {
    if (index === 0) return 0;
    return this.entryAt(index)?.term;
  }

  /**
   * The entry at `index`.
   *
   * @param index A 1-based log index.
   * @returns The entry, or `undefined` when there is none.
   */
  entryAt(index: number): Entry | undefined {
    if (!Number.isInteger(index) || index < 1) return undefined;
    return this.#entries[index - 1];
  }

  /**
   * Appends one entry at the end.
   *
   * @param entry The entry.
   * @returns Its index.
   */
  append(entry: Entry): number {
    this.#entries.push(entry);
    return this.#entries.length;
  }

  /**
   * Entries from `from` on, bounded in count and in JSON size so an AppendEntries
   * stays well under a 64 KiB datagram. At least one entry is returned when any exists.
   *
   * @param from First index wanted.
   * @param maxCount Most entries returned.
   * @param maxBytes Most JSON characters of entries returned.
   * @returns The entries, possibly none.
   */
  slice(from: number, maxCount: number, maxBytes: number): Entry[] {
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = Math.max(from, 1); index <= this.lastIndex; index++) {
      bytes += this.#bytesAt(index);
      if (result.length >= maxCount || (result.length > 0 && bytes > maxBytes)) break;
      result.push(this.#entries[index - 1] as Entry);
    }
    return result;
  }

  /**
   * The lowest index from which {@linkcode RaftLog.slice} with the same bounds
   * returns every entry through the last: where an AppendEntries must start to
   * end at the last entry. `lastIndex + 1` when the log is empty.
   *
   * @param maxCount Most entries in one slice.
   * @param maxBytes Most JSON characters of entries in one slice.
   * @returns That index.
   */
  tailStart(maxCount: number, maxBytes: number): number {
    let from = this.lastIndex + 1;
    let bytes = 0;
    while (from > 1 && this.lastIndex + 1 - from < maxCount) {
      bytes += this.#bytesAt(from - 1);
      if (from <= this.lastIndex && bytes > maxBytes) break;
      from--;
    }
    return from;
  }

  /**
   * Whether a log ending at (`lastLogIndex`, `lastLogTerm`) is at least as
   * up-to-date as this one (§5.4.1): a later last term wins, then a longer log.
   *
   * @param lastLogIndex The other log's last index.
   * @param lastLogTerm The other log's last term.
   * @returns `true` when a vote may be granted on log grounds.
   */
  isUpToDate(lastLogIndex: number, lastLogTerm: number): boolean {
    return lastLogTerm > this.lastTerm ||
      (lastLogTerm === this.lastTerm && lastLogIndex >= this.lastIndex);
  }

  /**
   * Whether the entry at `index` has term `term` (the §5.3 consistency check).
   *
   * @param index A log index.
   * @param term The expected term.
   * @returns `true` on a match.
   */
  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /**
   * The first index among `entries` (placed after `prevLogIndex`) that is new or
   * conflicts with this log (same index, different term).
   *
   * @param prevLogIndex The index just before the first of `entries`.
   * @param entries The entries a leader sent.
   * @returns That index, or 0 when every entry is already here with the same term.
   */
  findConflict(prevLogIndex: number, entries: readonly Entry[]): number {
    for (const [offset, entry] of entries.entries()) {
      const index = prevLogIndex + 1 + offset;
      if (!this.matchTerm(index, entry.term)) return index;
    }
    return 0;
  }

  /**
   * Appends a leader's entries after a successful consistency check. Only a real
   * conflict truncates (§5.3: "if an existing entry conflicts with a new one ...
   * delete the existing entry and all that follow it"), so a stale or duplicate
   * AppendEntries never removes entries.
   *
   * @param prevLogIndex The index just before the first of `entries`; must match.
   * @param entries The entries.
   * @returns The index of the last new entry (`prevLogIndex + entries.length`).
   * @throws {RangeError} When the change would remove a committed entry.
   */
  appendAfter(prevLogIndex: number, entries: readonly Entry[]): number {
    const conflict = this.findConflict(prevLogIndex, entries);
    if (conflict !== 0) {
      if (conflict <= this.commitIndex) {
        throw new RangeError(
          `Cannot truncate the log at ${conflict}: entries up to ${this.commitIndex} are committed`,
        );
      }
      this.#entries.length = conflict - 1;
      this.#bytes.length = Math.min(this.#bytes.length, conflict - 1);
      for (const entry of entries.slice(conflict - prevLogIndex - 1)) this.#entries.push(entry);
    }
    return prevLogIndex + entries.length;
  }

  /**
   * The first index of the run of entries sharing the term of the entry at `index`
   * (the follower's fast-backtracking hint, §5.3).
   *
   * @param index An index inside the log.
   * @returns The first index holding that term.
   */
  firstIndexOfTerm(index: number): number {
    const term = this.term(index);
    let first = index;
    while (first > 1 && this.term(first - 1) === term) first--;
    return first;
  }

  /**
   * The last index holding an entry of `term` (the leader's side of fast backtracking).
   *
   * @param term A term.
   * @returns That index, or 0 when this log has no entry of `term`.
   */
  lastIndexOfTerm(term: number): number {
    for (let index = this.lastIndex; index >= 1; index--) {
      const entryTerm = this.term(index) as number;
      if (entryTerm === term) return index;
      if (entryTerm < term) return 0;
    }
    return 0;
  }

  /**
   * Raises the commit index (it never decreases, and never passes the last index).
   *
   * @param index The new commit index.
   * @returns `true` when it moved.
   */
  commitTo(index: number): boolean {
    const target = Math.min(index, this.lastIndex);
    if (target <= this.commitIndex) return false;
    this.commitIndex = target;
    return true;
  }

  /**
   * Takes the committed entries not yet applied, marking them applied.
   *
   * @returns Pairs of index and entry, in log order.
   */
  takeEntriesToApply(): [number, Entry][] {
    const result: [number, Entry][] = [];
    while (this.lastApplied < this.commitIndex) {
      this.lastApplied++;
      result.push([this.lastApplied, this.#entries[this.lastApplied - 1] as Entry]);
    }
    return result;
  }

  /** The JSON size of the entry at `index` (1-based, within the log), measured at most once. */
  #bytesAt(index: number): number {
    return this.#bytes[index - 1] ??= entryBytes(this.#entries[index - 1] as Entry);
  }
}

/** What an entry adds to an AppendEntries' JSON: its own JSON and a comma. */
function entryBytes(entry: Entry): number {
  return JSON.stringify(entry).length + 1;
}
