import assert from "node:assert/strict";
import { Progress } from "../../lib/raft/progress.ts";

/**
 * An answer settles the AppendEntries it answers and, as lost, any asked
 * before it that are still unanswered; an answer to nothing awaited, a second
 * answer, and answers to requests forgotten past the last eight settle nothing.
 */
Deno.test("an answer settles its request and the unanswered ones before it", () => {
  const progress = new Progress(1, 0);
  for (const sentAt of [10, 20, 30]) progress.awaitAnswer(sentAt);
  assert.equal(progress.settleAnswer(20), 1, "10 was lost");
  assert.equal(progress.settleAnswer(10), undefined, "settled already");
  assert.equal(progress.settleAnswer(20), undefined, "a second copy");
  assert.equal(progress.settleAnswer(25), undefined, "never asked");
  assert.equal(progress.settleAnswer(30), 0);
  for (let sentAt = 40; sentAt < 140; sentAt += 10) progress.awaitAnswer(sentAt);
  assert.equal(progress.settleAnswer(40), undefined, "forgotten: the last eight are kept");
  assert.equal(progress.settleAnswer(130), 7);
});

/**
 * What a follower was told of the commit only grows: an AppendEntries that
 * tells less (a heartbeat anchored below the commit) does not make it untold.
 */
Deno.test("the commit index a follower was told is the highest sent", () => {
  const progress = new Progress(1, 0);
  assert.equal(progress.toldCommitIndex, 0);
  progress.toldCommit(7);
  progress.toldCommit(5);
  assert.equal(progress.toldCommitIndex, 7);
});

/**
 * A follower known to match up to an index replicates from there at once: no
 * probe is out, and the next AppendEntries starts after that index.
 */
Deno.test("a follower known to match starts replicating after the match", () => {
  const progress = new Progress(8, 0);
  assert.equal(progress.state, "probe");
  progress.startReplicating(5);
  assert.equal(progress.state, "replicate");
  assert.equal(progress.matchIndex, 5);
  assert.equal(progress.nextIndex, 6);
  assert.equal(progress.canSend, true);
  assert.equal(progress.hasEntriesInFlight, false);
});

/**
 * A late answer to an AppendEntries this leader sent in an earlier term of its
 * own starts no lease: only send times from this term do.
 */
Deno.test("an answer to an AppendEntries of an earlier term starts no lease", () => {
  const progress = new Progress(1, 100);
  progress.recordReply(90);
  assert.equal(progress.ackedSentAt, -Infinity);
  assert.equal(progress.lastAckAt, 100);
  progress.recordReply(100);
  assert.equal(progress.ackedSentAt, 100);
  progress.recordReply(150);
  assert.equal(progress.ackedSentAt, 150);
  assert.equal(progress.lastAckAt, 150);
});
