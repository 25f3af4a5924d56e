/**
 * The simulated network between replicas: every delay, loss, duplicate and
 * partition is drawn from the run's PRNG. Replies to clients and client
 * requests are never lost or partitioned (PROTOCOL.md section 3), only delayed.
 *
 * @module
 */

import type { Id } from "../raft/messages.ts";
import type { Prng } from "./prng.ts";

/** How the links between replicas behave at the moment. */
export interface LinkConditions {
  /** Chance that one copy of a message is lost, in [0, 1]. */
  dropRate: number;
  /** Chance that a delivered message arrives twice. */
  duplicateRate: number;
  /** Smallest one-way delay. */
  delayMinMs: number;
  /** Mean of the exponential delay added on top of the minimum. */
  delayMeanMs: number;
  /** Chance that a message is held back much longer, overtaken by later ones. */
  spikeRate: number;
  /** Longest such hold-back. */
  spikeMaxMs: number;
}

/** Links with no loss, duplication or long hold-back: the liveness phase's network. */
export function calmConditions(conditions: LinkConditions): LinkConditions {
  return { ...conditions, dropRate: 0, duplicateRate: 0, spikeRate: 0 };
}

/**
 * The replica-to-replica links: conditions plus the directed links a partition
 * currently cuts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Network } from "./network.ts";
 * import { Prng } from "./prng.ts";
 * const conditions = {
 *   dropRate: 0, duplicateRate: 0, delayMinMs: 1, delayMeanMs: 2, spikeRate: 0, spikeMaxMs: 0,
 * };
 * const network = new Network(new Prng(1), conditions);
 * network.cut(["0000"], ["0001", "0002"], false);
 * assert.deepEqual(network.transmit("0000", "0001"), []);
 * assert.equal(network.transmit("0001", "0002").length, 1);
 * ```
 */
export class Network {
  /** The links' behaviour; the fault schedule replaces it over a run. */
  conditions: LinkConditions;
  readonly #prng: Prng;
  readonly #cutLinks = new Set<string>();

  /**
   * @param prng The network's own random stream.
   * @param conditions Initial link behaviour.
   */
  constructor(prng: Prng, conditions: LinkConditions) {
    this.#prng = prng;
    this.conditions = conditions;
  }

  /** Whether any link is cut. */
  get partitioned(): boolean {
    return this.#cutLinks.size > 0;
  }

  /**
   * Cuts the links from every replica of `from` to every replica of `to`, and
   * back unless `oneWay`.
   *
   * @param from One side.
   * @param to The other side.
   * @param oneWay Whether only `from` → `to` is cut.
   */
  cut(from: readonly Id[], to: readonly Id[], oneWay: boolean): void {
    for (const a of from) {
      for (const b of to) {
        this.#cutLinks.add(`${a}>${b}`);
        if (!oneWay) this.#cutLinks.add(`${b}>${a}`);
      }
    }
  }

  /** Restores every link. */
  heal(): void {
    this.#cutLinks.clear();
  }

  /**
   * @param from Sender.
   * @param to Receiver.
   * @returns Whether a partition cuts the link.
   */
  isCut(from: Id, to: Id): boolean {
    return this.#cutLinks.has(`${from}>${to}`);
  }

  /**
   * Decides the fate of one replica-to-replica message copy.
   *
   * @param from Sender.
   * @param to Receiver.
   * @returns The delay of each copy that arrives: none, one, or two when duplicated.
   */
  transmit(from: Id, to: Id): number[] {
    if (this.isCut(from, to) || this.#prng.chance(this.conditions.dropRate)) return [];
    const delays = [this.#delay()];
    if (this.#prng.chance(this.conditions.duplicateRate)) delays.push(this.#delay());
    return delays;
  }

  /** @returns The delay of a message between a client and a replica. */
  clientDelay(): number {
    const { delayMinMs, delayMeanMs } = this.conditions;
    return delayMinMs + this.#prng.exponential(delayMeanMs);
  }

  #delay(): number {
    const { delayMinMs, delayMeanMs, spikeRate, spikeMaxMs } = this.conditions;
    const base = delayMinMs + this.#prng.exponential(delayMeanMs);
    return this.#prng.chance(spikeRate) ? base + this.#prng.float(0, spikeMaxMs) : base;
  }
}
