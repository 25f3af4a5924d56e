/**
 * Shared builders for the simulator's tests.
 *
 * @module
 */

import { createPrng, type Prng } from "../../lib/sim/_prng.ts";
import { parseConfig, type SimConfig } from "../../lib/sim/config.ts";

/** Thresholds every test config uses unless it overrides them. */
export const BENCHMARKS = {
  total_msgs: [1000, 3000, 4000],
  failures: [1, 10, 100],
  duplicates: [0, 3, 6],
  median_latency: [0.00015, 0.005, 0.05],
};

/**
 * A valid raw config with `overrides` merged in at the top level.
 *
 * @param overrides Fields to replace.
 * @returns The raw config.
 */
export function rawConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    lifetime: 30,
    replicas: 5,
    requests: 500,
    tests: { benchmarks: BENCHMARKS },
    ...overrides,
  };
}

/**
 * A validated config with `overrides` merged in.
 *
 * @param overrides Fields to replace.
 * @returns The config.
 */
export function config(overrides: Record<string, unknown> = {}): SimConfig {
  return parseConfig(rawConfig(overrides));
}

/**
 * A PRNG that returns the given values from `next()` in turn, then repeats the last.
 *
 * @param values Values in [0, 1).
 * @returns The PRNG.
 */
export function scriptedPrng(values: number[]): Prng {
  const fallback = createPrng(1);
  let index = 0;
  const next = () => values[Math.min(index++, values.length - 1)] ?? 0;
  const below = (n: number) => Math.floor(next() * n);
  return {
    next,
    below,
    pick: <T>(items: readonly T[]) => items[below(items.length)] as T,
    string: (length: number, alphabet: string) => fallback.string(length, alphabet),
  };
}
