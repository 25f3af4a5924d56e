/**
 * The run's schedule (PROTOCOL.md section 4): `requests` request events spread evenly
 * over `lifetime` after `start_wait`, each decided get or put up front with probability
 * `mix`, and the config's fault events merged in (after requests due at the same time,
 * as the course's sorted insert places them).
 *
 * @module
 */

import type { Prng } from "./_prng.ts";
import type { SimConfig, SimEvent } from "./config.ts";

/** One scheduled action. */
export type Action =
  | { kind: "request"; get: boolean }
  | { kind: "event"; event: SimEvent };

/** An action and when it is due. */
export interface ScheduledAction {
  /** Seconds after the run started. */
  atS: number;
  action: Action;
}

/** The schedule and the counts the course derives from it. */
export interface Schedule {
  /** Actions in firing order. */
  actions: ScheduledAction[];
  /** Request events decided as gets. */
  generatedGet: number;
  /** Request events decided as puts. */
  generatedPut: number;
  /** Seconds the run lasts: `start_wait + lifetime + end_wait`. */
  totalS: number;
}

/**
 * Builds the schedule of a run.
 *
 * @param config The config.
 * @param random The randomness source (one draw per request event, in order).
 * @returns The schedule.
 * @example
 * ```ts
 * import { buildSchedule } from "./events.ts";
 * import { createPrng } from "./_prng.ts";
 * import { parseConfig } from "./config.ts";
 * const tiers = [1, 2, 3];
 * const config = parseConfig({ lifetime: 10, replicas: 3, requests: 4, tests: { benchmarks:
 *   { total_msgs: tiers, failures: tiers, duplicates: tiers, median_latency: tiers } } });
 * const schedule = buildSchedule(config, createPrng(1));
 * if (schedule.actions[1]?.atS !== 7.5) throw new Error("every 2.5 s after start_wait 5");
 * ```
 */
export function buildSchedule(config: SimConfig, random: Prng): Schedule {
  const actions: ScheduledAction[] = [];
  let generatedGet = 0;
  const intervalS = config.requests > 0 ? config.lifetimeS / config.requests : 0;
  for (let i = 0; i < config.requests; i++) {
    const get = random.next() < config.mix;
    if (get) generatedGet += 1;
    actions.push({ atS: config.startWaitS + i * intervalS, action: { kind: "request", get } });
  }
  for (const event of config.events) {
    const atS = config.startWaitS + event.timeS;
    const index = actions.findIndex((scheduled) => scheduled.atS > atS);
    const entry: ScheduledAction = { atS, action: { kind: "event", event } };
    if (index === -1) actions.push(entry);
    else actions.splice(index, 0, entry);
  }
  return {
    actions,
    generatedGet,
    generatedPut: config.requests - generatedGet,
    totalS: config.startWaitS + config.lifetimeS + config.endWaitS,
  };
}
