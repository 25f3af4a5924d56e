/**
 * Per-replica clocks: each replica reads its own clock, offset from simulated
 * time, running slightly fast or slow, and sometimes jumping forward. A leader
 * lease is only safe while the drift between clocks over an election timeout
 * stays below `electionTimeoutMinMs - leaseMs` (RaftOptions), so the fault
 * schedule keeps rates and jumps inside that bound.
 *
 * @module
 */

/**
 * A monotonic replica clock derived from simulated time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplicaClock } from "./clock.ts";
 * const clock = new ReplicaClock(1000, 1.01);
 * assert.equal(clock.read(100), 1101);
 * clock.jumpForward(5);
 * assert.equal(clock.read(100), 1106);
 * ```
 */
export class ReplicaClock {
  #offsetMs: number;
  readonly #rate: number;
  #lastReadingMs = -Infinity;

  /**
   * @param offsetMs The clock's reading at simulated time 0.
   * @param rate Clock milliseconds per simulated millisecond, near 1.
   * @throws {RangeError} When the rate is not positive.
   */
  constructor(offsetMs: number, rate: number) {
    if (!(rate > 0)) {
      throw new RangeError(`Cannot create a replica clock as rate is ${rate}: it must be above 0`);
    }
    this.#offsetMs = offsetMs;
    this.#rate = rate;
  }

  /**
   * Reads the clock, never going backwards.
   *
   * @param simMs Simulated time.
   * @param atLeastMs A floor for the reading: a timer due at `atLeastMs`
   *   fires at a reading no earlier, despite float rounding in {@linkcode simTimeOf}.
   * @returns The replica's reading.
   */
  read(simMs: number, atLeastMs = -Infinity): number {
    const reading = Math.max(this.#offsetMs + this.#rate * simMs, this.#lastReadingMs, atLeastMs);
    this.#lastReadingMs = reading;
    return reading;
  }

  /**
   * @param readingMs A reading of this clock.
   * @returns The simulated time at which the clock shows it.
   */
  simTimeOf(readingMs: number): number {
    return (readingMs - this.#offsetMs) / this.#rate;
  }

  /**
   * Moves the clock forward, as an NTP step would.
   *
   * @param ms How far.
   */
  jumpForward(ms: number): void {
    this.#offsetMs += ms;
  }
}
