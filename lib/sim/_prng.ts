/**
 * The simulator's one source of randomness: a small seeded PRNG (mulberry32), so
 * `--seed` makes the workload, the drops and the partition choices reproducible.
 *
 * @module
 */

/** A seeded pseudo-random number generator with the draws the simulator needs. */
export interface Prng {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  below(n: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** `length` characters drawn from `alphabet`. */
  string(length: number, alphabet: string): string;
}

/**
 * Creates a PRNG from a seed. Any finite number works, and so does a string, which
 * keys a stream apart from a run's seed (`"7/model"`); equal seeds give equal streams.
 *
 * @param seed The seed.
 * @returns The generator.
 * @example
 * ```ts
 * import { createPrng } from "./_prng.ts";
 * const a = createPrng(7), b = createPrng(7);
 * if (a.next() !== b.next()) throw new Error("not reproducible");
 * ```
 */
export function createPrng(seed: number | string): Prng {
  let state = foldSeed(seed);
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const below = (n: number): number => Math.floor(next() * n);
  return {
    next,
    below,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError("Cannot pick from an empty list");
      return items[below(items.length)] as T;
    },
    string(length: number, alphabet: string): string {
      let text = "";
      for (let i = 0; i < length; i++) text += alphabet[below(alphabet.length)];
      return text;
    },
  };
}

/** Folds any finite number (fractions and values beyond 32 bits included) or string into 32 bits. */
function foldSeed(seed: number | string): number {
  const text = String(seed);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return hash | 0;
}

/**
 * A fresh random seed for runs whose config names none.
 *
 * @returns A non-negative safe integer below 2^32.
 */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] as number;
}
