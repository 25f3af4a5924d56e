/**
 * What a replica knows about which committed entries a leader answered: every
 * entry up to a commit index, except ranges still undecided. A leader answers
 * each entry of its own term as it commits it, but the earlier terms' entries
 * it commits stay undecided until it has heard what its followers know of the
 * earlier leaders' answers (see `RaftNode.electionCommitOpen`); the
 * commit index it tells followers travels with those ranges.
 *
 * @module
 */

import type { IndexRange } from "./messages.ts";

/**
 * Every entry through `commitIndex` was answered by some leader, except those
 * in the `undecided` ranges, when present: in ascending order, each a gap
 * apart from the next, within 1 to `commitIndex`, at most
 * {@linkcode MAX_UNDECIDED_RANGES} of them (see {@linkcode answeredReport}).
 */
export interface AnsweredReport {
  commitIndex: number;
  undecided?: readonly IndexRange[];
}

/**
 * The most undecided ranges a report keeps. A range opens where a leader
 * elected with earlier entries undecided lost its role before deciding them,
 * after committing some of its own: each such leader in a row may add one,
 * and the first leader that decides clears them all. Eight keep a datagram
 * small; past them the last ones are joined (see {@linkcode answeredReport}).
 */
export const MAX_UNDECIDED_RANGES = 8;

/** What a replica that was never told a commit knows: nothing. */
export const NOTHING_ANSWERED: AnsweredReport = { commitIndex: 0 };

/**
 * The report of a commit index and the ranges of entries below it not known
 * answered (none when absent), in any order: sorted, cut to 1 through
 * `commitIndex` (an entry above it is not claimed anyway), overlapping or
 * adjacent ranges joined. Past {@linkcode MAX_UNDECIDED_RANGES} the last
 * ranges are joined into one with the entries between them, which are then
 * taken for undecided: at worst a put is answered twice, never left
 * unanswered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answeredReport } from "./answered.ts";
 *
 * assert.deepEqual(answeredReport(9, [[8, 12], [2, 3], [4, 4]]), {
 *   commitIndex: 9,
 *   undecided: [[2, 4], [8, 9]],
 * });
 * assert.deepEqual(answeredReport(9, [[10, 12]]), { commitIndex: 9 });
 * ```
 */
export function answeredReport(
  commitIndex: number,
  undecided: readonly IndexRange[] = [],
): AnsweredReport {
  // Nearly every message carries none: no copy, no sort for those.
  if (undecided.length === 0) return { commitIndex };
  const joined: [number, number][] = [];
  for (const [first, last] of [...undecided].sort(([a], [b]) => a - b)) {
    const [from, to] = [Math.max(first, 1), Math.min(last, commitIndex)];
    if (from > to) continue;
    const previous = joined.at(-1);
    if (previous !== undefined && from <= previous[1] + 1) previous[1] = Math.max(previous[1], to);
    else joined.push([from, to]);
  }
  while (joined.length > MAX_UNDECIDED_RANGES) {
    const [, last] = joined.pop() as [number, number];
    (joined.at(-1) as [number, number])[1] = last;
  }
  return joined.length === 0 ? { commitIndex } : { commitIndex, undecided: joined };
}

/**
 * Why a message's `undecided` field is not one an {@linkcode answeredReport}
 * gives, if it is not: absent, or a list of one to
 * {@linkcode MAX_UNDECIDED_RANGES} pairs of indexes from 1, each pair in
 * order, ascending, each a gap apart from the next. Any value may be checked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { undecidedProblem } from "./answered.ts";
 *
 * assert.equal(undecidedProblem([[2, 3], [5, 5]]), undefined);
 * assert.equal(undecidedProblem(undefined), undefined);
 * assert.equal(typeof undecidedProblem([[2, 3], [4, 5]]), "string");
 * assert.equal(typeof undecidedProblem([2, 5]), "string");
 * ```
 */
export function undecidedProblem(undecided: unknown): string | undefined {
  if (undecided === undefined) return undefined;
  if (!Array.isArray(undecided) || undecided.length === 0) {
    return "undecided is not a list of ranges";
  }
  if (undecided.length > MAX_UNDECIDED_RANGES) {
    return `undecided holds ${undecided.length} ranges: more than ${MAX_UNDECIDED_RANGES}`;
  }
  let afterLast = 1;
  for (const range of undecided) {
    const [first, last] = Array.isArray(range) && range.length === 2 ? range : [];
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) {
      return "undecided holds something other than pairs of indexes";
    }
    if (first < afterLast || first > last) {
      return "undecided is not ranges from 1, in order, each a gap apart";
    }
    afterLast = last + 2;
  }
  return undefined;
}

/**
 * Whether the report says the entry at `index` was answered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAnswered } from "./answered.ts";
 *
 * const report = { commitIndex: 9, undecided: [[4, 6]] } as const;
 * assert.deepEqual([3, 4, 6, 7, 10].map((index) => isAnswered(report, index)), [
 *   true, false, false, true, false,
 * ]);
 * ```
 */
export function isAnswered(report: AnsweredReport, index: number): boolean {
  const { commitIndex, undecided = [] } = report;
  if (index < 1 || index > commitIndex) return false;
  return !undecided.some(([first, last]) => index >= first && index <= last);
}

/**
 * The highest index through which every entry was answered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answeredPrefix } from "./answered.ts";
 *
 * assert.equal(answeredPrefix({ commitIndex: 9, undecided: [[4, 6], [8, 8]] }), 3);
 * assert.equal(answeredPrefix({ commitIndex: 9 }), 9);
 * ```
 */
export function answeredPrefix(report: AnsweredReport): number {
  const first = report.undecided?.[0];
  return first === undefined ? report.commitIndex : Math.min(report.commitIndex, first[0] - 1);
}

/**
 * One report that claims every entry either report claims, and no other: the
 * higher commit index, and undecided what lies in one of its ranges and in
 * one of the other's, or above the other's commit index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeAnswered } from "./answered.ts";
 *
 * assert.deepEqual(
 *   mergeAnswered({ commitIndex: 9, undecided: [[2, 6]] }, { commitIndex: 4, undecided: [[2, 2]] }),
 *   { commitIndex: 9, undecided: [[2, 2], [5, 6]] },
 * );
 * assert.deepEqual(mergeAnswered({ commitIndex: 9, undecided: [[4, 6]] }, { commitIndex: 7 }), {
 *   commitIndex: 9,
 * });
 * ```
 */
export function mergeAnswered(a: AnsweredReport, b: AnsweredReport): AnsweredReport {
  const [high, low] = a.commitIndex >= b.commitIndex ? [a, b] : [b, a];
  if (high.undecided === undefined) return { commitIndex: high.commitIndex };
  const lowUnclaimed: IndexRange[] = [
    ...(low.undecided ?? []),
    [low.commitIndex + 1, high.commitIndex],
  ];
  const unclaimed: IndexRange[] = [];
  for (const [first, last] of high.undecided) {
    for (const [lowFirst, lowLast] of lowUnclaimed) {
      const [from, to] = [Math.max(first, lowFirst), Math.min(last, lowLast)];
      if (from <= to) unclaimed.push([from, to]);
    }
  }
  return answeredReport(high.commitIndex, unclaimed);
}

/**
 * The report cut at `maxIndex`: what it says of the entries up to there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipAnswered } from "./answered.ts";
 *
 * assert.deepEqual(clipAnswered({ commitIndex: 9, undecided: [[4, 6]] }, 5), {
 *   commitIndex: 5,
 *   undecided: [[4, 5]],
 * });
 * assert.deepEqual(clipAnswered({ commitIndex: 9, undecided: [[8, 9]] }, 5), { commitIndex: 5 });
 * ```
 */
export function clipAnswered(report: AnsweredReport, maxIndex: number): AnsweredReport {
  return answeredReport(Math.min(report.commitIndex, maxIndex), report.undecided);
}
