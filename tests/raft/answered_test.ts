import assert from "node:assert/strict";
import fc from "fast-check";
import {
  answeredPrefix,
  type AnsweredReport,
  answeredReport,
  clipAnswered,
  isAnswered,
  MAX_UNDECIDED_RANGES,
  mergeAnswered,
  undecidedProblem,
} from "../../lib/raft/answered.ts";
import type { IndexRange } from "../../lib/raft/messages.ts";

const MAX_INDEX = 24;

const indexes = Array.from({ length: MAX_INDEX + 3 }, (_, index) => index);

/** The maximal runs of the indexes from 1 to `commitIndex` that `unclaimed` holds. */
function runsOf(commitIndex: number, unclaimed: (index: number) => boolean): IndexRange[] {
  const runs: [number, number][] = [];
  for (let index = 1; index <= commitIndex; index++) {
    if (!unclaimed(index)) continue;
    const last = runs.at(-1);
    if (last !== undefined && last[1] === index - 1) last[1] = index;
    else runs.push([index, index]);
  }
  return runs;
}

/** Any commit index with any set of entries below it undecided (up to twelve runs of them). */
const report: fc.Arbitrary<AnsweredReport> = fc.tuple(
  fc.nat(MAX_INDEX),
  fc.array(fc.boolean(), { minLength: MAX_INDEX + 1, maxLength: MAX_INDEX + 1 }),
).map(([commitIndex, undecided]) =>
  answeredReport(commitIndex, runsOf(commitIndex, (index) => undecided[index] === true))
);

Deno.test("a report says exactly which entries are undecided, up to eight runs of them, and past that takes more for undecided, never fewer", () => {
  fc.assert(
    fc.property(
      fc.nat(MAX_INDEX),
      fc.array(fc.boolean(), { minLength: MAX_INDEX + 3, maxLength: MAX_INDEX + 3 }),
      (commitIndex, flags) => {
        const undecided = (index: number) => flags[index] === true;
        const ranges = runsOf(MAX_INDEX + 2, undecided);
        const built = answeredReport(commitIndex, ranges);
        assert.equal(built.commitIndex, commitIndex);
        assert.equal(undecidedProblem(built.undecided), undefined, "it is a valid message field");
        const exact = (index: number) => index >= 1 && index <= commitIndex && !undecided(index);
        const runs = runsOf(commitIndex, undecided).length;
        for (const index of indexes) {
          if (runs <= MAX_UNDECIDED_RANGES) {
            assert.equal(isAnswered(built, index), exact(index), `index ${index}`);
          } else if (isAnswered(built, index)) {
            assert.ok(exact(index), `index ${index}`);
          }
        }
      },
    ),
  );
});

/**
 * A merged report claims every entry either report claims and no other: one
 * it wrongly claims is a put never answered, one it drops a put a new leader
 * may answer twice. Only past eight runs of unclaimed entries does it drop
 * claims (see answeredReport).
 */
Deno.test("merging two answered reports claims exactly what either claims", () => {
  fc.assert(
    fc.property(report, report, (a, b) => {
      const merged = mergeAnswered(a, b);
      assert.equal(merged.commitIndex, Math.max(a.commitIndex, b.commitIndex));
      assert.equal(undecidedProblem(merged.undecided), undefined);
      const claimed = (index: number) => isAnswered(a, index) || isAnswered(b, index);
      const runs = runsOf(merged.commitIndex, (index) => !claimed(index)).length;
      for (const index of indexes) {
        if (runs <= MAX_UNDECIDED_RANGES) {
          assert.equal(isAnswered(merged, index), claimed(index), `index ${index}`);
        } else if (isAnswered(merged, index)) {
          assert.ok(claimed(index), `index ${index}`);
        }
      }
      assert.ok(answeredPrefix(merged) >= Math.max(answeredPrefix(a), answeredPrefix(b)));
    }),
  );
});

/**
 * The hole a single undecided range had: a leader that answered its own entry
 * 4 while 2 was undecided, and a successor with 2 and 5 undecided. Spanning 2
 * to 5 forgot that 4 was answered, and a later leader answered it again.
 */
Deno.test("an entry answered between two undecided ones stays answered through a merge", () => {
  const told = { commitIndex: 4, undecided: [[2, 2]] } as const;
  const successor = { commitIndex: 6, undecided: [[2, 2], [5, 5]] } as const;
  assert.deepEqual(mergeAnswered(told, successor), successor);
  assert.ok(isAnswered(mergeAnswered(told, { commitIndex: 6, undecided: [[2, 5]] }), 4));
});

Deno.test("a clipped report says the same of every entry up to its cut, nothing above", () => {
  fc.assert(
    fc.property(report, fc.nat(MAX_INDEX), (a, maxIndex) => {
      const clipped = clipAnswered(a, maxIndex);
      for (const index of indexes) {
        assert.equal(isAnswered(clipped, index), index <= maxIndex && isAnswered(a, index));
      }
    }),
  );
});
