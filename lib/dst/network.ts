/**
 * The simulated network between replicas: every delay, loss, duplicate,
 * partition and cut link is drawn from the run's PRNG. Replies to clients and
 * client requests are never lost or partitioned (PROTOCOL.md section 3), only
 * delayed.
 *
 * @module
 */

import type { Id, OutboundMessage } from "../raft/messages.ts";
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
  /**
   * Chance that a message joins the long-delay tail: held back past an
   * election timeout and then delivered, long after the sender moved on.
   * @default {0}
   */
  tailRate?: number;
  /**
   * Shortest tail delay.
   * @default {0}
   */
  tailMinMs?: number;
  /**
   * Longest tail delay.
   * @default {0}
   */
  tailMaxMs?: number;
  /**
   * Chance that a pre-vote or vote reply is held back, so that it arrives after
   * its election was decided (a refusal then carries a term the receiver may adopt).
   * @default {0}
   */
  lateVoteReplyRate?: number;
  /**
   * Longest hold-back of such a reply.
   * @default {0}
   */
  lateVoteReplyMaxMs?: number;
}

/** Links with no loss, duplication or long hold-back: the liveness phase's network. */
export function calmConditions(conditions: LinkConditions): LinkConditions {
  const calm = { ...conditions, dropRate: 0, duplicateRate: 0, spikeRate: 0 };
  if (conditions.tailRate !== undefined) calm.tailRate = 0;
  if (conditions.lateVoteReplyRate !== undefined) calm.lateVoteReplyRate = 0;
  return calm;
}

/**
 * The replica-to-replica links: conditions, the directed links a partition
 * currently cuts, and single links cut on their own while the others work.
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
  /** Links cut one at a time, with how many overlapping cuts hold each. */
  readonly #downLinks = new Map<string, number>();

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

  /** Restores every link a partition cut; single cut links stay down. */
  heal(): void {
    this.#cutLinks.clear();
  }

  /**
   * Cuts one link, and its reverse unless `oneWay`, until as many
   * {@linkcode Network.restoreLink} calls with the same arguments undo it.
   *
   * @param from Sender.
   * @param to Receiver.
   * @param oneWay Whether only `from` → `to` is cut.
   */
  cutLink(from: Id, to: Id, oneWay: boolean): void {
    for (const link of linkKeys(from, to, oneWay)) {
      this.#downLinks.set(link, (this.#downLinks.get(link) ?? 0) + 1);
    }
  }

  /**
   * Undoes one {@linkcode Network.cutLink} with the same arguments.
   *
   * @param from Sender.
   * @param to Receiver.
   * @param oneWay Whether only `from` → `to` was cut.
   */
  restoreLink(from: Id, to: Id, oneWay: boolean): void {
    for (const link of linkKeys(from, to, oneWay)) {
      const holds = (this.#downLinks.get(link) ?? 0) - 1;
      if (holds > 0) this.#downLinks.set(link, holds);
      else this.#downLinks.delete(link);
    }
  }

  /** Restores every link cut on its own. */
  restoreLinks(): void {
    this.#downLinks.clear();
  }

  /**
   * @param from Sender.
   * @param to Receiver.
   * @returns Whether a partition or a single-link cut blocks the link.
   */
  isCut(from: Id, to: Id): boolean {
    const link = `${from}>${to}`;
    return this.#cutLinks.has(link) || this.#downLinks.has(link);
  }

  /**
   * Decides the fate of one replica-to-replica message copy.
   *
   * @param from Sender.
   * @param to Receiver.
   * @param type The message's type: vote replies may be held back on their own.
   * @returns The delay of each copy that arrives: none, one, or two when duplicated.
   */
  transmit(from: Id, to: Id, type?: OutboundMessage["type"]): number[] {
    if (this.isCut(from, to) || this.#prng.chance(this.conditions.dropRate)) return [];
    const voteReply = type === "pre_vote_reply" || type === "request_vote_reply";
    const delays = [this.#delay(voteReply)];
    if (this.#prng.chance(this.conditions.duplicateRate)) delays.push(this.#delay(voteReply));
    return delays;
  }

  /** @returns The delay of a message between a client and a replica. */
  clientDelay(): number {
    const { delayMinMs, delayMeanMs } = this.conditions;
    return delayMinMs + this.#prng.exponential(delayMeanMs);
  }

  #delay(voteReply: boolean): number {
    const { delayMinMs, delayMeanMs, spikeRate, spikeMaxMs } = this.conditions;
    const { tailRate = 0, tailMinMs = 0, tailMaxMs = 0 } = this.conditions;
    const { lateVoteReplyRate = 0, lateVoteReplyMaxMs = 0 } = this.conditions;
    let delayMs = delayMinMs + this.#prng.exponential(delayMeanMs);
    if (this.#prng.chance(spikeRate)) delayMs += this.#prng.float(0, spikeMaxMs);
    // Drawn only when enabled, so that runs without these modes keep their
    // stream of draws, and with it their trace, unchanged.
    if (tailRate > 0 && this.#prng.chance(tailRate)) {
      delayMs += this.#prng.float(tailMinMs, tailMaxMs);
    }
    if (voteReply && lateVoteReplyRate > 0 && this.#prng.chance(lateVoteReplyRate)) {
      delayMs += this.#prng.float(0, lateVoteReplyMaxMs);
    }
    return delayMs;
  }
}

function linkKeys(from: Id, to: Id, oneWay: boolean): string[] {
  return oneWay ? [`${from}>${to}`] : [`${from}>${to}`, `${to}>${from}`];
}
