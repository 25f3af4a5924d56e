/**
 * How a leader paces its messages in one term, from what it measured in it:
 * the round trip of an AppendEntries and its answer, the share of round trips
 * that come back, and the gaps between proposals. From these it decides when
 * a round's hedge goes, whether new entries go to a bare majority or to every
 * follower (answered twice), how many followers hear of a commit, and how long
 * a commit waits for an AppendEntries to carry it.
 *
 * @module
 */

import { chanceOfAtLeast, DeliveryRate } from "./delivery.ts";
import type { ResolvedRaftOptions } from "./options.ts";

/** The options a leader's pacing reads. */
type PacingOptions = Pick<ResolvedRaftOptions, "retransmitMs" | "commitNoticeMs">;

/**
 * Above this many hedges per round (a moving average, see
 * {@linkcode HEDGE_RATE_WEIGHT}), new entries go to every follower. A round to
 * two of four followers commits at once when both round trips come back; at a
 * loss rate p per message one comes back s = (1-p)^2 of the time, and a round
 * needs 2(1-s)/s hedges on average: 0.47 at 10 % loss, 0.77 at 15 %, 1.13 at
 * 20 %, 2.08 at 30 %. Up to 29 % a bare majority and its hedges cost the fewest
 * messages; sending to every follower buys latency: from 20 % a bare majority
 * commits at once in at most 41 % of rounds, every follower in 86 %, until
 * {@linkcode LOSS_ENTERED_CHANCE} takes over (from about 26 % with four live
 * followers). The threshold sits above 20 %'s average because at 15 % the
 * average, which follows the last 64 or so rounds, often passed a threshold of
 * 1.1 by chance: each message is lost on its own, and a stretch of rounds that
 * lost about 20 % is common. Measured on the virtual clock, unreliable-3
 * (15 %), seeds 1-200: with 1.1, 53 runs sent rounds to every follower for a
 * while, about two messages a round above a bare majority's, and 18 of them
 * were among the 19 runs over the config's bonus line (2300 messages); with
 * 1.2, 18 runs and 5 over the line (43 against 87 over seeds 1-1000), the same
 * median, put p50 3.98 ms against 3.91. The price is paid at 20 % (unreliable-3
 * with drops of 0.2, seeds 1-200): put p50 3.52 ms against 2.70, course median
 * 2.47 against 2.36, for 2853 messages against 3013. At 22 % about half the
 * rounds go to every follower either way (43 % and 48 % of appends on the
 * network of tests/raft).
 */
const HEDGES_PER_ROUND_TO_SEND_ALL = 1.2;

/**
 * How many gaps between proposals a leader keeps to tell whether the next
 * proposal will carry a commit before its notice is due.
 */
const PROPOSAL_GAPS_KEPT = 4;

/**
 * Below this chance that a round to every live follower commits at once (as
 * the share of round trips that come back tells it), entries go to every
 * follower and each is answered twice, until the chance passes
 * {@linkcode LOSS_LEFT_CHANCE}. At a loss rate p per message a round trip
 * comes back (1-p)^2 of the time, and with two copies of each answer
 * (1-p)(1-p^2). The chance is 0.93 at 15 % loss with four live followers of
 * which two must answer, 0.81 with three; at 30 % loss it is 0.67 with four and
 * 0.49 with three, and answering twice makes these 0.86 and 0.70. A course
 * median is about the 38th percentile of the puts, so at 0.49 it fell on either
 * side of the first round trip from run to run: advanced-3, seeds 11 to 13, had
 * course medians of 3.5, 8.9 and 6.3 ms with one copy, 3.1, 3.1 and 2.8 ms with
 * two, for 16 % more messages.
 */
const LOSS_ENTERED_CHANCE = 0.75;

/**
 * Above this chance, see {@linkcode LOSS_ENTERED_CHANCE}, entries go to a bare
 * majority again, answered once. The gap keeps a share measured over the last
 * 64 or so round trips (give or take 0.05 at 30 % loss) from switching back
 * and forth.
 */
const LOSS_LEFT_CHANCE = 0.9;

/**
 * Below this share of round trips that come back (about 2.5 % loss per
 * message), a commit notice goes to two followers. One notice is lost p of the
 * time, and a leader killed before its next AppendEntries then leaves its last
 * answered put to be answered again; two are both lost p^2 of the time: 1 %
 * instead of 10 % at advanced-4's 10 % loss. It costs one message a notice,
 * about one a put where requests come sparse. Measured (advanced-4 and
 * advanced-2, seeds 51 to 56, one run each beside one notice): 0 duplicates
 * against 2, 100 to 130 more messages a run.
 */
const NOTICE_TWICE_BELOW_SHARE = 0.95;

/**
 * The weight of one round in {@linkcode HEDGES_PER_ROUND_TO_SEND_ALL}'s moving
 * average: it follows about the last 64 rounds, so it tells the loss rate, not
 * a run of bad luck. The simulator loses each message on its own, so a run of
 * losses says nothing about the next round. Following about the last 16 (1/8,
 * with a threshold of 1.3), the average passed the threshold at 15 % loss in
 * 14 to 38 of unreliable-3's 400 or so rounds, which went to all four
 * followers. Side by side on unreliable-3, ten seeds (BENCHMARKS.md): 2234
 * messages at the median against 2290, 9 runs of 10 under the bonus line of
 * 2300 against 6, for a course median of 3.3 ms against 3.0 and a put p50 of
 * 4.64 ms against 4.42.
 */
const HEDGE_RATE_WEIGHT = 1 / 32;

/**
 * One leader's measurements of its term and the pacing decided from them.
 * A new leader starts a new one: what the last term measured may not hold for
 * this one's followers.
 *
 * @example Hedges go three round trips after a round; under heavy loss, rounds go to every follower
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pacing } from "./pacing.ts";
 *
 * const pacing = new Pacing({ retransmitMs: 100, commitNoticeMs: 40 }, 0);
 * assert.equal(pacing.hedgeDelayMs(), 30); // a guessed round trip of 10 ms
 * pacing.sampleRoundTrip(10, 12); // sent at 10 ms, answered at 12
 * assert.equal(pacing.hedgeDelayMs(), 6);
 * for (let i = 0; i < 64; i++) pacing.answerSettled(1); // one round trip of two comes back
 * pacing.judgeLoss(2, 4);
 * assert.equal(pacing.sendsToEveryFollower, true);
 * ```
 */
export class Pacing {
  readonly #options: PacingOptions;
  /** When this leader was elected: an AppendEntries sent before says nothing of its term. */
  readonly #since: number;
  /**
   * Smoothed round trip of an AppendEntries and its reply this term (TCP's SRTT,
   * RFC 6298); `undefined` until the first reply of the term, see
   * {@linkcode Pacing.roundTripMs}.
   */
  #smoothedRttMs: number | undefined;
  /** Hedges per round of new entries lately (a moving average). */
  #hedgesPerRound = 0;
  /** How many of the AppendEntries followers were asked to answer came back. */
  readonly #delivery = new DeliveryRate();
  /** Whether round trips fail so often that entries go to every follower, answered twice. */
  #lossy = false;
  /** The gaps between this leader's last few proposals, oldest first. */
  readonly #proposalGapsMs: number[] = [];
  #lastProposalAt = -Infinity;

  /**
   * @param options The leader's retransmit interval and commit notice delay.
   * @param since When this leader was elected.
   */
  constructor(options: PacingOptions, since: number) {
    this.#options = options;
    this.#since = since;
  }

  /**
   * The smoothed round trip, or before this term's first reply a guess of a
   * tenth of `retransmitMs`.
   */
  get roundTripMs(): number {
    return this.#smoothedRttMs ?? this.#options.retransmitMs / 10;
  }

  /**
   * Takes one round trip of this term into the smoothed one: an AppendEntries
   * and its answer, unless it was sent before this leader's election. The
   * first replaces the guess outright, as RFC 6298 does: averaged in at an
   * eighth, a guess of 10 ms took about 13 replies to come within 1.5 ms of a
   * 1.5 ms round trip, and meanwhile the hedges of a term's first puts went
   * three guessed round trips (30 ms) after their rounds instead of about 5 ms.
   */
  sampleRoundTrip(sentAt: number, now: number): void {
    if (sentAt < this.#since) return;
    const sampleMs = now - sentAt;
    this.#smoothedRttMs = this.#smoothedRttMs === undefined
      ? sampleMs
      : this.#smoothedRttMs + (sampleMs - this.#smoothedRttMs) / 8;
  }

  /**
   * How long acknowledgements may be late before one more follower gets the
   * entries: a few smoothed round trips, far less than a retransmission, so a
   * lost message delays a commit by little more than a round trip.
   */
  hedgeDelayMs(): number {
    return Math.min(this.#options.retransmitMs, Math.max(1, 3 * this.roundTripMs));
  }

  /**
   * How long the hedge waits after an acknowledgement that leaves a round to a
   * bare majority one short: its targets got the round at the same moment, so
   * the other acknowledgement comes within about a round trip or was lost.
   * One smoothed round trip, at least 1 ms.
   */
  partnerHedgeDelayMs(): number {
    return Math.max(1, this.roundTripMs);
  }

  /**
   * Records an answer to an AppendEntries that asked for one, after the
   * requests to the same follower it shows lost.
   *
   * @param lost How many earlier requests to that follower went unanswered.
   */
  answerSettled(lost: number): void {
    for (let i = 0; i < lost; i++) this.#delivery.settled(false);
    this.#delivery.settled(true);
  }

  /**
   * Judges anew, once per round, whether round trips fail so often that
   * followers answer entries twice: when a round to the live followers would
   * often fall short of a majority. Not while they are too few for one, or
   * too few round trips were counted: there is nothing to judge by.
   *
   * @param needed The followers whose answers make a majority.
   * @param live The followers answering lately.
   */
  judgeLoss(needed: number, live: number): void {
    const share = this.#delivery.share;
    if (share === undefined || live < needed) return;
    const chance = chanceOfAtLeast(needed, live, share);
    this.#lossy = this.#lossy ? chance <= LOSS_LEFT_CHANCE : chance < LOSS_ENTERED_CHANCE;
  }

  /** Whether round trips fail so often that entries go to every follower, answered twice. */
  get lossy(): boolean {
    return this.#lossy;
  }

  /**
   * Whether new entries go to every follower: when rounds to a bare majority
   * needed hedges lately, or when so many round trips fail that they would.
   */
  get sendsToEveryFollower(): boolean {
    return this.#hedgesPerRound > HEDGES_PER_ROUND_TO_SEND_ALL || this.#lossy;
  }

  /**
   * Counts a round of new entries in the hedges' average. A round to every
   * follower decays it four times slower, so the leader tries a bare majority
   * again only once the network is better.
   *
   * @param toBareMajority Whether the round went to just enough followers to commit.
   */
  roundSent(toBareMajority: boolean): void {
    this.#hedgesPerRound *= 1 - (toBareMajority ? HEDGE_RATE_WEIGHT : HEDGE_RATE_WEIGHT / 4);
  }

  /** Counts a hedge in the hedges' average. */
  hedged(): void {
    this.#hedgesPerRound += HEDGE_RATE_WEIGHT;
  }

  /**
   * Whether a commit notice goes to two followers rather than one: under any
   * loss measured (see {@linkcode NOTICE_TWICE_BELOW_SHARE}).
   */
  get tellsCommitTwice(): boolean {
    return this.#lossy || (this.#delivery.share ?? 1) < NOTICE_TWICE_BELOW_SHARE;
  }

  /** Records a proposal's time, for {@linkcode Pacing.commitNoticeDelayMs}. */
  proposed(now: number): void {
    if (this.#lastProposalAt > -Infinity) {
      this.#proposalGapsMs.push(now - this.#lastProposalAt);
      if (this.#proposalGapsMs.length > PROPOSAL_GAPS_KEPT) this.#proposalGapsMs.shift();
    }
    this.#lastProposalAt = now;
  }

  /**
   * How long a commit waits for an AppendEntries to carry it before a notice
   * goes: nothing when the last few proposals all came further apart than
   * `commitNoticeMs`, as the next one will not come in time either, so a notice
   * now costs the same one message as a notice later, and a leader that dies
   * right after answering leaves its successor nothing to answer twice. In a
   * denser stream, twice `commitNoticeMs`: long enough for the next put to come
   * when a get or two came between (see `resolveRaftOptions`).
   */
  commitNoticeDelayMs(): number {
    const { commitNoticeMs } = this.#options;
    const gaps = this.#proposalGapsMs;
    const sparse = gaps.length === PROPOSAL_GAPS_KEPT && Math.min(...gaps) > commitNoticeMs;
    return sparse ? 0 : 2 * commitNoticeMs;
  }
}
