/**
 * How many of a leader's round trips to its followers come back: the share of
 * AppendEntries asked to be answered whose answer arrived, over the last few
 * dozen; and from it, the chance that a round of AppendEntries commits at once.
 *
 * @module
 */

/** The weight of the newest settled request in the moving share. */
const WEIGHT = 1 / 64;

/** Requests settled before the share is trusted: fewer leave it undefined. */
const MIN_SETTLED = 32;

/**
 * A moving share of answered requests, counted as each request is settled:
 * answered, or lost because a later request to the same follower was answered
 * first. A request to a follower that answers nothing is never settled, so a
 * dead or cut-off follower says nothing about the network.
 *
 * @example A network that loses about one round trip in two
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeliveryRate } from "./delivery.ts";
 *
 * const delivery = new DeliveryRate();
 * for (let i = 0; i < 100; i++) delivery.settled(i % 2 === 0);
 * const share = delivery.share;
 * assert.ok(share !== undefined && share > 0.45 && share < 0.55);
 * ```
 */
export class DeliveryRate {
  #requests = 0;
  #answers = 0;
  #count = 0;

  /**
   * Records one settled request.
   *
   * @param answered Whether its answer arrived.
   */
  settled(answered: boolean): void {
    this.#requests = this.#requests * (1 - WEIGHT) + 1;
    this.#answers = this.#answers * (1 - WEIGHT) + (answered ? 1 : 0);
    this.#count++;
  }

  /** The share of settled requests answered, or `undefined` while too few were settled. */
  get share(): number | undefined {
    return this.#count < MIN_SETTLED ? undefined : this.#answers / this.#requests;
  }
}

/**
 * The chance that at least `needed` of `tries` independent tries succeed when
 * each does with chance `success`: a binomial tail. With tries the round trips
 * of one round of AppendEntries, it is the chance that the round commits at
 * once.
 *
 * @param needed The successes wanted.
 * @param tries How many tries are made.
 * @param success The chance that one try succeeds, between 0 and 1.
 * @returns The chance, between 0 and 1 (1 when `needed` is 0 or less).
 *
 * @example Two of three round trips, each coming back half the time
 * ```ts
 * import assert from "node:assert/strict";
 * import { chanceOfAtLeast } from "./delivery.ts";
 *
 * assert.equal(chanceOfAtLeast(2, 3, 0.5), 0.5);
 * assert.equal(chanceOfAtLeast(4, 3, 0.9), 0);
 * ```
 */
export function chanceOfAtLeast(needed: number, tries: number, success: number): number {
  let chance = 0;
  let ways = 1; // tries choose successes, for successes from 0 up
  for (let successes = 0; successes <= tries; successes++) {
    if (successes >= needed) {
      chance += ways * success ** successes * (1 - success) ** (tries - successes);
    }
    ways = ways * (tries - successes) / (successes + 1);
  }
  return chance;
}
