import assert from "node:assert/strict";
import fc from "fast-check";
import { RaftLog } from "../../lib/raft/log.ts";
import type { Entry } from "../../lib/raft/messages.ts";
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
  assert.equal(logWithTerms(1, 3).lastIndexOfTerm(1), 1, "a term held at index 1 only");
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

/**
 * A slice counts each entry's own JSON size (and a comma), also after a
 * conflict replaced entries whose sizes an earlier slice had measured: the
 * sizes are cached, so a stale or shifted size would let a batch outgrow its
 * bound, or stop it early.
 */
Deno.test("slice measures each entry's own size, also after a conflict replaced it", () => {
  const rounds = fc.array(
    fc.record({
      keep: fc.nat(8),
      sizes: fc.array(fc.nat(200), { maxLength: 5 }),
      from: fc.integer({ min: 1, max: 10 }),
      maxBytes: fc.integer({ min: 1, max: 800 }),
    }),
    { maxLength: 8 },
  );
  fc.assert(fc.property(rounds, (steps) => {
    const log = new RaftLog();
    let expected: Entry[] = [];
    steps.forEach(({ keep, sizes, from, maxBytes }, round) => {
      // Each round's entries are of a new term, so they replace what follows `keep`.
      const prevLogIndex = Math.min(keep, expected.length);
      const entries = sizes.map((size) => ({ term: round + 1, command: "x".repeat(size) }));
      log.appendAfter(prevLogIndex, entries);
      if (entries.length > 0) expected = [...expected.slice(0, prevLogIndex), ...entries];
      assert.deepEqual(log.slice(from, 64, maxBytes), sliceOf(expected, from, maxBytes));
    });
  }));
});

/** What {@linkcode RaftLog.slice} returns with no count bound, measured afresh. */
function sliceOf(entries: readonly Entry[], from: number, maxBytes: number): Entry[] {
  const result: Entry[] = [];
  let bytes = 0;
  for (const entry of entries.slice(from - 1)) {
    bytes += JSON.stringify(entry).length + 1;
    if (result.length > 0 && bytes > maxBytes) break;
    result.push(entry);
  }
  return result;
}

/**
 * tailStart is where a slice must start to end at the last entry, and no lower,
 * also where the last entries fill the size bound exactly or overrun it by one.
 */
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
        assertTailStart(log, maxCount, maxBytes);
        let tailBytes = 0;
        for (let index = log.lastIndex; index > log.lastIndex - maxCount && index > 0; index--) {
          tailBytes += JSON.stringify(log.entryAt(index)).length + 1;
          assertTailStart(log, maxCount, tailBytes);
          assertTailStart(log, maxCount, tailBytes - 1);
        }
      },
    ),
  );
});

function assertTailStart(log: RaftLog, maxCount: number, maxBytes: number): void {
  const reaches = (from: number) =>
    from - 1 + log.slice(from, maxCount, maxBytes).length === log.lastIndex;
  const start = log.tailStart(maxCount, maxBytes);
  assert.ok(start >= 1 && start <= log.lastIndex + 1);
  assert.ok(reaches(start), `from ${start}, at most ${maxBytes} bytes`);
  if (start > 1) assert.ok(!reaches(start - 1), `from ${start - 1} also reaches`);
}

/** The commit index only grows and never passes the last index. */
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
