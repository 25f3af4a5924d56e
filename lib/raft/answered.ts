/**
 * What a replica knows about which committed entries a leader answered: every
 * entry up to a commit index, except a range still undecided. A leader answers
 * each entry of its own term as it commits it, but the earlier terms' entries
 * it commits stay undecided until it has heard what its followers know of the
 * earlier leaders' answers (see `RaftNode.electionCommitOpen`); the
 * commit index it tells followers travels with that range.
 *
 * @module
 */

/**
 * Every entry through `commitIndex` was answered by some leader, except those
 * from `undecided[0]` through `undecided[1]` (inclusive), when present.
 */
export interface AnsweredReport {
  commitIndex: number;
  undecided?: readonly [number, number];
}

/** What a replica that was never told a commit knows: nothing. */
export const NOTHING_ANSWERED: AnsweredReport = { commitIndex: 0 };

/**
 * Whether the report says the entry at `index` was answered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAnswered } from "./answered.ts";
 *
 * const report = { commitIndex: 9, undecided: [4, 6] } as const;
 * assert.deepEqual([3, 4, 6, 7, 10].map((index) => isAnswered(report, index)), [
 *   true, false, false, true, false,
 * ]);
 * ```
 */
export function isAnswered(report: AnsweredReport, index: number): boolean {
  const { commitIndex, undecided } = report;
  if (index < 1 || index > commitIndex) return false;
  return undecided === undefined || index < undecided[0] || index > undecided[1];
}

/**
 * The highest index through which every entry was answered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answeredPrefix } from "./answered.ts";
 *
 * assert.equal(answeredPrefix({ commitIndex: 9, undecided: [4, 6] }), 3);
 * assert.equal(answeredPrefix({ commitIndex: 9, undecided: [12, 13] }), 9);
 * assert.equal(answeredPrefix({ commitIndex: 9 }), 9);
 * ```
 */
export function answeredPrefix(report: AnsweredReport): number {
  const { commitIndex, undecided } = report;
  return undecided === undefined ? commitIndex : Math.min(commitIndex, undecided[0] - 1);
}

/**
 * One report that claims no entry either report does not: the higher commit
 * index, and one undecided range covering every entry below it that neither
 * claims. Where those entries are not contiguous the range spans the gap
 * between them too, so entries answered there are taken for undecided: at
 * worst a put is answered twice, never left unanswered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeAnswered } from "./answered.ts";
 *
 * assert.deepEqual(mergeAnswered({ commitIndex: 9, undecided: [4, 6] }, { commitIndex: 5 }), {
 *   commitIndex: 9,
 *   undecided: [6, 6],
 * });
 * assert.deepEqual(mergeAnswered({ commitIndex: 9, undecided: [4, 6] }, { commitIndex: 7 }), {
 *   commitIndex: 9,
 * });
 * ```
 */
export function mergeAnswered(a: AnsweredReport, b: AnsweredReport): AnsweredReport {
  const [high, low] = a.commitIndex >= b.commitIndex ? [a, b] : [b, a];
  if (high.undecided === undefined) return { commitIndex: high.commitIndex };
  // Below high.commitIndex only high's range can be unclaimed: of it, low
  // leaves unclaimed what lies above its commit index and what its own range holds.
  const [from, to] = high.undecided;
  const last = Math.min(to, high.commitIndex);
  const unclaimed: [number, number][] = [[Math.max(from, low.commitIndex + 1), last]];
  if (low.undecided !== undefined) {
    const [lowFrom, lowTo] = low.undecided;
    unclaimed.push([Math.max(from, lowFrom), Math.min(last, lowTo, low.commitIndex)]);
  }
  const ranges = unclaimed.filter(([start, end]) => start <= end);
  if (ranges.length === 0) return { commitIndex: high.commitIndex };
  const first = Math.min(...ranges.map(([start]) => start));
  const end = Math.max(...ranges.map(([, rangeEnd]) => rangeEnd));
  return { commitIndex: high.commitIndex, undecided: [first, end] };
}

/**
 * The report cut at `maxIndex`: what it says of the entries up to there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipAnswered } from "./answered.ts";
 *
 * assert.deepEqual(clipAnswered({ commitIndex: 9, undecided: [4, 6] }, 5), {
 *   commitIndex: 5,
 *   undecided: [4, 5],
 * });
 * assert.deepEqual(clipAnswered({ commitIndex: 9, undecided: [8, 9] }, 5), { commitIndex: 5 });
 * ```
 */
export function clipAnswered(report: AnsweredReport, maxIndex: number): AnsweredReport {
  const commitIndex = Math.min(report.commitIndex, maxIndex);
  const { undecided } = report;
  if (undecided === undefined || undecided[0] > commitIndex) return { commitIndex };
  return { commitIndex, undecided: [undecided[0], Math.min(undecided[1], commitIndex)] };
}
