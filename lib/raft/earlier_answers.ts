/**
 * What a new leader learns of the earlier terms' entries its predecessors
 * answered, and how long it listens for it.
 *
 * A leader answers each entry as it commits it. One killed after answering
 * its last put, before any follower heard that the put committed, leaves a
 * successor that cannot tell whether the put was answered: answered again, it
 * is a duplicate; left alone, a client waits forever. So a new leader gathers
 * what its voters knew answered (their votes carry it) and what each follower
 * knew when it first answers (AppendEntries replies carry it), and listens
 * until every follower answered, or at most one is silent after a retransmit
 * interval (the dead leader), or longer when more are (see
 * {@linkcode EarlierAnswers.listening}). Its caller holds back its decisions
 * on the entries not known answered until then.
 *
 * @module
 */

import {
  answeredPrefix,
  type AnsweredReport,
  answeredReport,
  clipAnswered,
  isAnswered,
  mergeAnswered,
} from "./answered.ts";
import type { Id, IndexRange } from "./messages.ts";
import type { ResolvedRaftOptions } from "./options.ts";

/**
 * How long, in election timeouts (`electionTimeoutMaxMs`), a new leader waits at
 * most for silent followers' commit indexes when two or more are silent (see
 * {@linkcode EarlierAnswers.listening}). A partition that cut the earlier leader
 * off lasted at least the election timeout that elected this leader; the
 * standard configs' partitions last 2 to 5 s, so up to 3.8 s are left after an
 * election, plus one heartbeat interval (400 ms) until the healed followers hear
 * from this leader: two timeouts (4.8 s) cover them.
 */
export const ELECTION_COMMIT_WAIT_TIMEOUTS = 2;

/** The options a new leader's listening reads. */
type EarlierAnswersOptions = Pick<ResolvedRaftOptions, "retransmitMs" | "electionTimeoutMaxMs">;

/** What a leader knows at its election. */
export interface Election {
  /** What this leader and the replicas that voted for it knew answered. */
  answered: AnsweredReport;
  /** The last index of the earlier terms: the log's last, before the term's first entry. */
  lastEarlierIndex: number;
  /** How many followers may still tell what they know. */
  followers: number;
  /** Whether the earlier entry at an index holds a command (a no-op answers no one). */
  holdsCommand: (index: number) => boolean;
  /** When the leader was elected. */
  now: number;
}

/**
 * One leader's knowledge of the earlier terms' answers, from its election on.
 *
 * @example A follower that was told of the last commit closes the question
 * ```ts
 * import assert from "node:assert/strict";
 * import { EarlierAnswers } from "./earlier_answers.ts";
 *
 * const earlier = new EarlierAnswers({ retransmitMs: 100, electionTimeoutMaxMs: 2000 }, {
 *   answered: { commitIndex: 4 }, // the voters knew entries 1 to 4 answered
 *   lastEarlierIndex: 5,
 *   followers: 4,
 *   holdsCommand: () => true,
 *   now: 0,
 * });
 * assert.equal(earlier.listening, true);
 * assert.deepEqual(earlier.undecided, [[5, 5]]);
 * earlier.hear("0002", { commitIndex: 5 }, 3);
 * assert.equal(earlier.listening, false);
 * assert.deepEqual(earlier.known, { commitIndex: 5 });
 * assert.equal(earlier.undecided, undefined);
 * ```
 */
export class EarlierAnswers {
  readonly #lastEarlierIndex: number;
  readonly #followers: number;
  readonly #holdsCommand: (index: number) => boolean;
  /** From when a silent follower may be judged gone: a retransmit interval after the election. */
  readonly #judgeFrom: number;
  /** When listening stops, however many followers are silent. */
  readonly #listenAtMostUntil: number;
  /** Followers that answered since the election. */
  readonly #heard = new Set<Id>();
  #known: AnsweredReport;
  #listening: boolean;

  /**
   * @param options The timings the waits derive from.
   * @param election What the leader knows at its election.
   */
  constructor(options: EarlierAnswersOptions, election: Election) {
    this.#lastEarlierIndex = election.lastEarlierIndex;
    this.#followers = election.followers;
    this.#holdsCommand = election.holdsCommand;
    this.#judgeFrom = election.now + options.retransmitMs;
    this.#listenAtMostUntil = election.now +
      ELECTION_COMMIT_WAIT_TIMEOUTS * options.electionTimeoutMaxMs;
    this.#known = clipAnswered(election.answered, this.#lastEarlierIndex);
    // Nothing to learn when the voters knew every earlier entry answered.
    this.#listening = this.#followers > 0 && !this.#allKnown();
  }

  /**
   * Which of the earlier terms' entries this leader, a replica that voted for
   * it, or a follower that answered it since knew an earlier leader answered.
   * Of the others, this leader cannot tell.
   */
  get known(): AnsweredReport {
    return this.#known;
  }

  /**
   * Whether followers yet to answer may still add to
   * {@linkcode EarlierAnswers.known}: until every follower answered or some
   * replica knew every earlier entry answered; from `retransmitMs` after the
   * election, until at most one follower is silent (after a `kill_leader`,
   * the dead leader, whose knowledge died with it). Two or more silent suggests
   * a partition that cut the earlier leader off with a follower, maybe the one
   * it told of its last commit, or a lost answer; then it listens until one
   * more answers (the earlier leader knows all it answered, the follower what
   * it was told), at most {@linkcode ELECTION_COMMIT_WAIT_TIMEOUTS} election
   * timeouts from the election, and not at all without a command undecided.
   */
  get listening(): boolean {
    return this.#listening;
  }

  /**
   * The ranges of earlier entries not known answered, or `undefined` when none
   * are. A successor told of them must not take them for answered.
   */
  get undecided(): readonly IndexRange[] | undefined {
    const { commitIndex, undecided = [] } = this.#known;
    const notKnown = [...undecided, [commitIndex + 1, this.#lastEarlierIndex] as const];
    return answeredReport(this.#lastEarlierIndex, notKnown).undecided;
  }

  /**
   * Adds what a follower's answer says was answered, and stops listening once
   * nothing more can be learned.
   *
   * @param follower The follower that answered.
   * @param report What it was told of the entries answered.
   * @param now The caller's clock.
   */
  hear(follower: Id, report: AnsweredReport, now: number): void {
    this.#known = mergeAnswered(this.#known, clipAnswered(report, this.#lastEarlierIndex));
    this.#heard.add(follower);
    if (this.#allKnown() || this.#silentFollowers() === 0) this.#listening = false;
    else this.tick(now);
  }

  /**
   * Stops listening when the followers still silent are judged gone, or the
   * longest wait passed (see {@linkcode EarlierAnswers.listening}).
   *
   * @param now The caller's clock.
   */
  tick(now: number): void {
    if (!this.#listening || now < this.#judgeFrom) return;
    const waitedLongest = now >= this.#listenAtMostUntil;
    if (this.#silentFollowers() <= 1 || waitedLongest || !this.#commandUndecided()) {
      this.#listening = false;
    }
  }

  /**
   * When {@linkcode EarlierAnswers.tick} may next stop the listening, or
   * `Infinity` once it stopped.
   *
   * @param now The caller's clock.
   */
  deadline(now: number): number {
    if (!this.#listening) return Infinity;
    return now < this.#judgeFrom ? this.#judgeFrom : this.#listenAtMostUntil;
  }

  #allKnown(): boolean {
    return answeredPrefix(this.#known) >= this.#lastEarlierIndex;
  }

  /** How many followers have not answered since the election. */
  #silentFollowers(): number {
    return this.#followers - this.#heard.size;
  }

  /** Whether an earlier entry not known answered holds a command. */
  #commandUndecided(): boolean {
    for (let index = answeredPrefix(this.#known) + 1; index <= this.#lastEarlierIndex; index++) {
      if (!isAnswered(this.#known, index) && this.#holdsCommand(index)) return true;
    }
    return false;
  }
}
