import assert from "node:assert/strict";
import type { AnsweredReport } from "../../lib/raft/answered.ts";
import { EarlierAnswers, ELECTION_COMMIT_WAIT_TIMEOUTS } from "../../lib/raft/earlier_answers.ts";

const OPTIONS = { retransmitMs: 100, electionTimeoutMaxMs: 2000 };
const LONGEST_WAIT_MS = ELECTION_COMMIT_WAIT_TIMEOUTS * OPTIONS.electionTimeoutMaxMs;

/** A leader of 4 followers elected at 0 with entries 1 to 5 before its term, 5 not known answered. */
function electedAt0(
  options: { answered?: AnsweredReport; holdsCommand?: (index: number) => boolean } = {},
): EarlierAnswers {
  return new EarlierAnswers(OPTIONS, {
    answered: options.answered ?? { commitIndex: 4 },
    lastEarlierIndex: 5,
    followers: 4,
    holdsCommand: options.holdsCommand ?? (() => true),
    now: 0,
  });
}

Deno.test("a leader whose voters knew every earlier entry answered, or with no followers, does not listen", () => {
  assert.equal(electedAt0({ answered: { commitIndex: 7 } }).listening, false);
  assert.deepEqual(electedAt0({ answered: { commitIndex: 7 } }).known, { commitIndex: 5 });
  const alone = new EarlierAnswers(OPTIONS, {
    answered: { commitIndex: 0 },
    lastEarlierIndex: 5,
    followers: 0,
    holdsCommand: () => true,
    now: 0,
  });
  assert.equal(alone.listening, false);
  assert.equal(electedAt0().listening, true);
});

Deno.test("an undecided range a follower was told stays undecided", () => {
  const earlier = electedAt0({ answered: { commitIndex: 2 } });
  assert.deepEqual(earlier.undecided, [[3, 5]]);
  earlier.hear("0001", { commitIndex: 5, undecided: [[4, 5]] }, 1);
  assert.deepEqual(earlier.known, { commitIndex: 5, undecided: [[4, 5]] });
  assert.deepEqual(earlier.undecided, [[4, 5]]);
  assert.equal(earlier.listening, true);
});

Deno.test("every follower heard closes the listening at once, before the retransmit interval", () => {
  const earlier = electedAt0();
  for (const follower of ["0001", "0002", "0003"]) earlier.hear(follower, { commitIndex: 4 }, 1);
  assert.equal(earlier.listening, true, "one follower is silent, and it is too soon to judge it");
  earlier.hear("0001", { commitIndex: 4 }, 2);
  assert.equal(earlier.listening, true, "a follower heard twice counts once");
  earlier.hear("0004", { commitIndex: 4 }, 3);
  assert.equal(earlier.listening, false);
  assert.deepEqual(earlier.undecided, [[5, 5]]);
});

Deno.test("one silent follower is judged gone a retransmit interval after the election", () => {
  const earlier = electedAt0();
  for (const follower of ["0001", "0002", "0003"]) earlier.hear(follower, { commitIndex: 4 }, 1);
  assert.equal(earlier.deadline(1), OPTIONS.retransmitMs);
  earlier.tick(OPTIONS.retransmitMs - 1);
  assert.equal(earlier.listening, true);
  earlier.tick(OPTIONS.retransmitMs);
  assert.equal(earlier.listening, false);
  assert.equal(earlier.deadline(OPTIONS.retransmitMs), Infinity);
});

Deno.test("with two silent, a leader listens until a third answers, or at most the longest wait", () => {
  const healed = electedAt0();
  const neverHealed = electedAt0();
  for (const earlier of [healed, neverHealed]) {
    for (const follower of ["0001", "0002"]) earlier.hear(follower, { commitIndex: 4 }, 1);
    earlier.tick(OPTIONS.retransmitMs);
    assert.equal(earlier.listening, true, "two silent followers may be a partition's side");
    assert.equal(earlier.deadline(OPTIONS.retransmitMs), LONGEST_WAIT_MS);
  }
  healed.hear("0003", { commitIndex: 5 }, 500);
  assert.equal(healed.listening, false);
  assert.equal(healed.undecided, undefined, "0003 was told that entry 5 was answered");
  neverHealed.tick(LONGEST_WAIT_MS - 1);
  assert.equal(neverHealed.listening, true);
  neverHealed.tick(LONGEST_WAIT_MS);
  assert.equal(neverHealed.listening, false);
  assert.deepEqual(neverHealed.undecided, [[5, 5]]);
});

Deno.test("with two silent but no command undecided, nothing is worth the longer wait", () => {
  const earlier = electedAt0({ holdsCommand: (index) => index !== 5 });
  for (const follower of ["0001", "0002"]) earlier.hear(follower, { commitIndex: 4 }, 1);
  earlier.tick(OPTIONS.retransmitMs);
  assert.equal(earlier.listening, false, "entry 5, the only one undecided, is a no-op");
});
