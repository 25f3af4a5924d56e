import assert from "node:assert/strict";
import fc from "fast-check";
import {
  answeredPrefix,
  type AnsweredReport,
  clipAnswered,
  isAnswered,
  mergeAnswered,
} from "../../lib/raft/answered.ts";

const MAX_INDEX = 24;

const report: fc.Arbitrary<AnsweredReport> = fc.oneof(
  fc.nat(MAX_INDEX).map((commitIndex) => ({ commitIndex })),
  fc.tuple(fc.nat(MAX_INDEX), fc.integer({ min: 1, max: MAX_INDEX }), fc.nat(8)).map((
    [commitIndex, from, length],
  ) => ({ commitIndex, undecided: [from, from + length] as const })),
);

const indexes = Array.from({ length: MAX_INDEX + 3 }, (_, index) => index);

/**
 * A merged report claims no entry answered that neither report claims: a put
 * it is wrong about would never be answered. It keeps the higher commit index
 * and at least the longer answered prefix, so what either knew in full is not
 * asked again.
 */
Deno.test("merging two answered reports claims nothing neither claims, and keeps their prefixes", () => {
  fc.assert(
    fc.property(report, report, (a, b) => {
      const merged = mergeAnswered(a, b);
      for (const index of indexes) {
        if (isAnswered(merged, index)) {
          assert.ok(isAnswered(a, index) || isAnswered(b, index), `index ${index}`);
        }
      }
      assert.equal(merged.commitIndex, Math.max(a.commitIndex, b.commitIndex));
      assert.ok(answeredPrefix(merged) >= Math.max(answeredPrefix(a), answeredPrefix(b)));
    }),
  );
});

/**
 * The merged range is the smallest that covers every entry through the higher
 * commit index that neither report claims (so where those are contiguous, the
 * merge loses nothing either knew): an entry it takes for undecided needlessly
 * is a put a new leader may answer twice.
 */
Deno.test("the merged range spans exactly the entries neither report claims", () => {
  fc.assert(
    fc.property(report, report, (a, b) => {
      const merged = mergeAnswered(a, b);
      const claimed = (index: number) => isAnswered(a, index) || isAnswered(b, index);
      const inCommit = indexes.filter((index) => index >= 1 && index <= merged.commitIndex);
      const unclaimed = inCommit.filter((index) => !claimed(index));
      const [first = Infinity, last = -Infinity] = [unclaimed[0], unclaimed.at(-1)];
      for (const index of inCommit) {
        assert.equal(isAnswered(merged, index), index < first || index > last, `index ${index}`);
      }
    }),
  );
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
