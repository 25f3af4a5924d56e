import assert from "node:assert/strict";
import fc from "fast-check";
import { RaftLog } from "../../lib/raft/log.ts";
import { majority, quorumValue } from "../../lib/raft/quorum.ts";

function logWithTerms(...terms: number[]): RaftLog {
  const log = new RaftLog();
  for (const term of terms) log.append({ term });
  return log;
}

/** A later last term wins, then a longer log. Raft §5.4.1. */
Deno.test("isUpToDate compares last terms first, then lengths", () => {
  const log = logWithTerms(1, 2, 2);
  assert.equal(log.isUpToDate(1, 3), true);
  assert.equal(log.isUpToDate(9, 1), false);
  assert.equal(log.isUpToDate(3, 2), true);
  assert.equal(log.isUpToDate(2, 2), false);
});

/** findConflict reports the first new or conflicting index. Raft §5.3. */
Deno.test("findConflict finds the first new or conflicting index", () => {
  const log = logWithTerms(1, 1, 2);
  assert.equal(log.findConflict(0, [{ term: 1 }, { term: 1 }]), 0);
  assert.equal(log.findConflict(1, [{ term: 1 }, { term: 3 }]), 3);
  assert.equal(log.findConflict(2, [{ term: 2 }, { term: 2 }]), 4);
});

/** appendAfter only truncates on a real conflict, never below the commit index. Raft §5.3. */
Deno.test("appendAfter truncates only at a real conflict above the commit index", () => {
  const log = logWithTerms(1, 1, 2, 2);
  assert.equal(log.appendAfter(1, [{ term: 1 }]), 2);
  assert.equal(log.lastIndex, 4);
  log.commitTo(2);
  assert.equal(log.appendAfter(2, [{ term: 3 }]), 3);
  assert.equal(log.lastIndex, 3);
  assert.throws(() => log.appendAfter(1, [{ term: 9 }]), RangeError);
});

/** The fast-backtracking lookups of §5.3 (end). */
Deno.test("term boundaries are found for fast backtracking", () => {
  const log = logWithTerms(1, 1, 3, 3, 3, 5);
  assert.equal(log.firstIndexOfTerm(5), 3);
  assert.equal(log.firstIndexOfTerm(2), 1);
  assert.equal(log.lastIndexOfTerm(3), 5);
  assert.equal(log.lastIndexOfTerm(2), 0);
  assert.equal(log.term(0), 0);
  assert.equal(log.term(7), undefined);
});

/** Batches stay within the count and size bounds but never come back empty. */
Deno.test("slice bounds batches by count and by size", () => {
  const log = new RaftLog();
  for (let i = 0; i < 10; i++) log.append({ term: 1, command: "x".repeat(100) });
  assert.equal(log.slice(1, 4, 1e6).length, 4);
  assert.equal(log.slice(1, 64, 300).length, 2);
  assert.equal(log.slice(1, 64, 1).length, 1);
  assert.equal(log.slice(11, 64, 1e6).length, 0);
});

/** The commit index only grows and never passes the last index. */
/** tailStart is where a slice must start to end at the last entry, and no lower. */
Deno.test("tailStart is the lowest start of a slice that reaches the last entry", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ maxLength: 40 }), { maxLength: 12 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 200 }),
      (values, maxCount, maxBytes) => {
        const log = new RaftLog();
        for (const value of values) {
          log.append({ term: 1, command: { key: "k", value, client: "0100", MID: "m" } });
        }
        const reaches = (from: number) =>
          from - 1 + log.slice(from, maxCount, maxBytes).length === log.lastIndex;
        const start = log.tailStart(maxCount, maxBytes);
        assert.ok(start >= 1 && start <= log.lastIndex + 1);
        assert.ok(reaches(start), `from ${start}`);
        if (start > 1) assert.ok(!reaches(start - 1), `from ${start - 1} also reaches`);
      },
    ),
  );
});

Deno.test("commitTo never moves backwards or past the log", () => {
  const log = logWithTerms(1, 1);
  assert.equal(log.commitTo(5), true);
  assert.equal(log.commitIndex, 2);
  assert.equal(log.commitTo(1), false);
  assert.equal(log.commitTo(2), false, "already there: it did not move");
  assert.deepEqual(log.takeEntriesToApply().map(([index]) => index), [1, 2]);
  assert.equal(log.lastApplied, 2);
});

Deno.test("a majority value is the one a majority reaches", () => {
  assert.equal(majority(3), 2);
  assert.equal(majority(5), 3);
  assert.equal(quorumValue([5, 1, 4]), 4);
  assert.equal(quorumValue([5, 1, 4, 2, 3]), 3);
});

Deno.test("a majority value is reached by a majority and exceeded by fewer", () => {
  const value = fc.oneof(fc.integer(), fc.constant(-Infinity), fc.double({ noNaN: true }));
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 9 }), (values) => {
      const quorum = quorumValue(values);
      assert.ok(values.filter((v) => v >= quorum).length >= majority(values.length));
      assert.ok(values.filter((v) => v > quorum).length < majority(values.length));
    }),
  );
  assert.equal(quorumValue([]), -Infinity);
});
