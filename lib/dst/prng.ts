/**
 * The simulation's only source of randomness: a seeded sfc32 generator (Chris
 * Doty-Humphrey's Small Fast Counting generator, as in PractRand), seeded through
 * splitmix32 so that nearby seeds give unrelated streams.
 *
 * @module
 */

/**
 * A deterministic pseudo-random generator. Each concern of a run (network,
 * faults, workload, every replica's election timer) takes its own
 * {@linkcode Prng.fork} so that drawing more numbers in one does not shift the
 * others.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Prng } from "./prng.ts";
 * const a = new Prng(42);
 * const b = new Prng(42);
 * assert.equal(a.next(), b.next());
 * assert.ok(a.int(1, 6) >= 1);
 * ```
 */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /**
   * @param seed Any 32-bit integer (higher bits are folded in).
   */
  constructor(seed: number) {
    let state = (seed ^ Math.floor(seed / 0x1_0000_0000)) >>> 0;
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = splitmix();
    this.#b = splitmix();
    this.#c = splitmix();
    this.#d = splitmix();
    for (let i = 0; i < 12; i++) this.#nextUint32();
  }

  /** @returns A number in [0, 1). */
  next(): number {
    return this.#nextUint32() / 0x1_0000_0000;
  }

  /**
   * @param min Smallest value.
   * @param max Largest value (inclusive).
   * @returns An integer in [min, max].
   */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /**
   * @param min Smallest value.
   * @param max Upper bound (exclusive).
   * @returns A number in [min, max).
   */
  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /**
   * @param probability Chance of `true`, in [0, 1].
   * @returns Whether the event happens.
   */
  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /**
   * @param items A non-empty list.
   * @returns One item, uniformly.
   * @throws {RangeError} When the list is empty.
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Cannot pick from an empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /**
   * @param items A list, left untouched.
   * @returns A shuffled copy (Fisher–Yates).
   */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  /**
   * @param meanMs The mean.
   * @returns An exponentially distributed duration.
   */
  exponential(meanMs: number): number {
    return -Math.log(1 - this.next()) * meanMs;
  }

  /** @returns An independent generator seeded from this one's stream. */
  fork(): Prng {
    return new Prng(this.#nextUint32());
  }

  #nextUint32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }
}
