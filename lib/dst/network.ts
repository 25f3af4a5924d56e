/**
 * The simulated network between replicas: every delay, loss, duplicate,
 * partition and cut link is drawn from the run's PRNG. Replies to clients and
 * client requests are never lost or partitioned (PROTOCOL.md section 3), only
 * delayed.
 *
 * @module
 */

import type { OutboundMessage } from "../kv/messages.ts";
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
   * Chance that a pre-vote or vote refusal is held back until its receiver
   * next hears from a leader: an old reply then arrives after a leader was
   * followed, and the newer term it carries is adopted by a replica that has
   * just acknowledged the old leader.
   * @default {0}
   */
  lateVoteReplyRate?: number;
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
  /** Links cut or made lossy one at a time: the loss rate of each fault on them. */
  readonly #downLinks = new Map<string, number[]>();
  /** Links that hold every message until a time, then deliver them in order. */
  readonly #stalledUntilMs = new Map<string, number>();

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
   * Makes one link, and its reverse unless `oneWay`, lose each message with
   * chance `lossRate` (1 cuts it) on top of the conditions, until
   * {@linkcode Network.restoreLink} with the same arguments undoes it.
   * Overlapping faults on one link add up to the harshest of them.
   *
   * @param from Sender.
   * @param to Receiver.
   * @param oneWay Whether only `from` → `to` is affected.
   * @param lossRate Chance that a message on the link is lost, in (0, 1].
   */
  cutLink(from: Id, to: Id, oneWay: boolean, lossRate = 1): void {
    for (const link of linkKeys(from, to, oneWay)) {
      this.#downLinks.set(link, [...(this.#downLinks.get(link) ?? []), lossRate]);
    }
  }

  /**
   * Undoes one {@linkcode Network.cutLink} with the same arguments.
   *
   * @param from Sender.
   * @param to Receiver.
   * @param oneWay Whether only `from` → `to` was affected.
   * @param lossRate The loss rate it set.
   */
  restoreLink(from: Id, to: Id, oneWay: boolean, lossRate = 1): void {
    for (const link of linkKeys(from, to, oneWay)) {
      const rates = this.#downLinks.get(link) ?? [];
      rates.splice(rates.indexOf(lossRate), 1);
      if (rates.length > 0) this.#downLinks.set(link, rates);
      else this.#downLinks.delete(link);
    }
  }

  /**
   * Stalls one link, and its reverse unless `oneWay`: every message sent on it
   * before `untilMs` arrives only after then, in the order sent, like the
   * backlog of a connection that hung and came back.
   *
   * @param from Sender.
   * @param to Receiver.
   * @param oneWay Whether only `from` → `to` stalls.
   * @param untilMs Simulated time at which the link delivers again.
   */
  stallLink(from: Id, to: Id, oneWay: boolean, untilMs: number): void {
    for (const link of linkKeys(from, to, oneWay)) {
      this.#stalledUntilMs.set(link, Math.max(untilMs, this.#stalledUntilMs.get(link) ?? 0));
    }
  }

  /**
   * @param from Sender.
   * @param to Receiver.
   * @returns Until when the link stalls: 0 or a past time when it does not.
   */
  stalledUntilMs(from: Id, to: Id): number {
    return this.#stalledUntilMs.get(`${from}>${to}`) ?? 0;
  }

  /** Restores every link cut, made lossy or stalled on its own. */
  restoreLinks(): void {
    this.#downLinks.clear();
    this.#stalledUntilMs.clear();
  }

  /**
   * @param from Sender.
   * @param to Receiver.
   * @returns Whether a partition or a single-link cut blocks the link entirely.
   */
  isCut(from: Id, to: Id): boolean {
    return this.#cutLinks.has(`${from}>${to}`) || this.#linkLoss(from, to) >= 1;
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
    const linkLoss = this.#linkLoss(from, to);
    // Drawn only on a lossy link, so that runs without one keep their stream.
    if (linkLoss > 0 && this.#prng.chance(linkLoss)) return [];
    const delays = [this.#delay()];
    if (this.#prng.chance(this.conditions.duplicateRate)) delays.push(this.#delay());
    return delays;
  }

  /**
   * Decides whether a vote refusal is held back until its receiver next hears
   * from a leader (`lateVoteReplyRate`); the caller holds it and sends it then.
   * Grants are never held: a late grant only slows an election down, while a
   * late refusal carries the voter's term to a replica that moved on.
   *
   * @param message The message.
   * @returns Whether to hold it.
   */
  holdsBack(message: OutboundMessage): boolean {
    const { lateVoteReplyRate = 0 } = this.conditions;
    const refusal = (message.type === "pre_vote_reply" || message.type === "request_vote_reply") &&
        !message.granted || message.type === "request_vote";
    return refusal && lateVoteReplyRate > 0 && this.#prng.chance(lateVoteReplyRate);
  }

  /** @returns The delay of a message between a client and a replica. */
  clientDelay(): number {
    const { delayMinMs, delayMeanMs } = this.conditions;
    return delayMinMs + this.#prng.exponential(delayMeanMs);
  }

  #linkLoss(from: Id, to: Id): number {
    return Math.max(0, ...(this.#downLinks.get(`${from}>${to}`) ?? []));
  }

  #delay(): number {
    const { delayMinMs, delayMeanMs, spikeRate, spikeMaxMs } = this.conditions;
    const { tailRate = 0, tailMinMs = 0, tailMaxMs = 0 } = this.conditions;
    let delayMs = delayMinMs + this.#prng.exponential(delayMeanMs);
    if (this.#prng.chance(spikeRate)) delayMs += this.#prng.float(0, spikeMaxMs);
    // Drawn only when enabled, so that runs without these modes keep their
    // stream of draws, and with it their trace, unchanged.
    if (tailRate > 0 && this.#prng.chance(tailRate)) {
      delayMs += this.#prng.float(tailMinMs, tailMaxMs);
    }
    return delayMs;
  }
}

function linkKeys(from: Id, to: Id, oneWay: boolean): string[] {
  return oneWay ? [`${from}>${to}`] : [`${from}>${to}`, `${to}>${from}`];
}
