import assert from "node:assert/strict";
import { Pacing } from "../../lib/raft/pacing.ts";

const OPTIONS = { retransmitMs: 100, commitNoticeMs: 40 };

/** A leader's pacing whose first round trip took `ms`. */
function measured(ms: number): Pacing {
  const pacing = new Pacing(OPTIONS, 0);
  pacing.sampleRoundTrip(0, ms);
  return pacing;
}

/** Settles `rounds` round trips, of which one in `every` comes back. */
function settle(pacing: Pacing, rounds: number, every: number): void {
  for (let i = 0; i < rounds; i++) pacing.answerSettled(every - 1);
}

Deno.test("the hedge waits three round trips: guessed, then the first sample, then smoothed", () => {
  const pacing = new Pacing(OPTIONS, 0);
  assert.equal(pacing.roundTripMs, 10);
  assert.equal(pacing.hedgeDelayMs(), 30);
  pacing.sampleRoundTrip(10, 12);
  assert.equal(pacing.roundTripMs, 2);
  pacing.sampleRoundTrip(20, 30);
  assert.equal(pacing.roundTripMs, 3);
  assert.equal(pacing.hedgeDelayMs(), 9);
});

Deno.test("a round trip begun before the leader's election says nothing of its term", () => {
  const pacing = new Pacing(OPTIONS, 1000);
  pacing.sampleRoundTrip(999, 1050);
  assert.equal(pacing.roundTripMs, 10, "a sample from before the term replaced the guess");
  pacing.sampleRoundTrip(1000, 1004);
  assert.equal(pacing.roundTripMs, 4);
});

Deno.test("after a round's first acknowledgement, the hedge waits one round trip, at least 1 ms", () => {
  assert.equal(new Pacing(OPTIONS, 0).partnerHedgeDelayMs(), 10, "the guessed round trip");
  assert.equal(measured(4).partnerHedgeDelayMs(), 4);
  assert.equal(measured(0.1).partnerHedgeDelayMs(), 1);
});

Deno.test("the hedge waits at least 1 ms and at most the retransmit interval", () => {
  assert.equal(measured(0.1).hedgeDelayMs(), 1);
  assert.equal(measured(500).hedgeDelayMs(), 100);
});

Deno.test("heavy loss sends rounds to every follower until the round trips come back again", () => {
  const pacing = new Pacing(OPTIONS, 0);
  settle(pacing, 15, 2);
  pacing.judgeLoss(2, 4);
  assert.equal(pacing.lossy, false, "judged on too few round trips");
  settle(pacing, 100, 2);
  pacing.judgeLoss(2, 1);
  assert.equal(pacing.lossy, false, "judged with too few followers answering for a majority");
  pacing.judgeLoss(2, 4);
  assert.equal(pacing.lossy, true);
  assert.equal(pacing.sendsToEveryFollower, true);
  // About 60 % of round trips back: a round to four commits at once 82 % of the
  // time, between the two thresholds, where the judgement stays as it was.
  settle(pacing, 14, 1);
  pacing.judgeLoss(2, 4);
  assert.equal(pacing.lossy, true, "left the lossy mode without passing its upper threshold");
  settle(pacing, 300, 1);
  pacing.judgeLoss(2, 4);
  assert.equal(pacing.lossy, false);
  assert.equal(pacing.sendsToEveryFollower, false);
});

Deno.test("rounds that need hedges send to every follower, and rounds to a bare majority decay it faster", () => {
  const pacing = new Pacing(OPTIONS, 0);
  let rounds = 0;
  while (!pacing.sendsToEveryFollower) {
    pacing.roundSent(true);
    pacing.hedged();
    pacing.hedged();
    rounds++;
  }
  assert.ok(rounds > 10, `two hedges a round crossed the line after ${rounds} rounds`);
  const toEvery = new Pacing(OPTIONS, 0);
  const toMajority = new Pacing(OPTIONS, 0);
  for (const pacing of [toEvery, toMajority]) {
    for (let i = 0; i < 200; i++) pacing.hedged();
  }
  let toEveryRounds = 0;
  for (; toEvery.sendsToEveryFollower; toEveryRounds++) toEvery.roundSent(false);
  let toMajorityRounds = 0;
  for (; toMajority.sendsToEveryFollower; toMajorityRounds++) toMajority.roundSent(true);
  assert.ok(toEveryRounds > 3 * toMajorityRounds, `${toEveryRounds} against ${toMajorityRounds}`);
});

Deno.test("a commit notice goes to two followers once any loss is measured", () => {
  const pacing = new Pacing(OPTIONS, 0);
  assert.equal(pacing.tellsCommitTwice, false, "no round trip measured yet");
  settle(pacing, 100, 1);
  assert.equal(pacing.tellsCommitTwice, false);
  for (let i = 0; i < 10; i++) {
    settle(pacing, 9, 1);
    settle(pacing, 1, 2);
  }
  assert.equal(pacing.tellsCommitTwice, true);
});

Deno.test("a commit notice goes at once only after several sparse proposals", () => {
  const pacing = new Pacing(OPTIONS, 0);
  assert.equal(pacing.commitNoticeDelayMs(), 80);
  for (const at of [0, 50, 100, 150]) pacing.proposed(at);
  assert.equal(pacing.commitNoticeDelayMs(), 80, "three gaps are too few to judge");
  pacing.proposed(200);
  assert.equal(pacing.commitNoticeDelayMs(), 0);
  pacing.proposed(210);
  assert.equal(pacing.commitNoticeDelayMs(), 80, "one short gap means a dense stream");
});
