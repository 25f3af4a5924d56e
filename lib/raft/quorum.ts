/**
 * Majority arithmetic (Raft §5.2, §5.4.2).
 *
 * @module
 */

/**
 * The number of replicas that form a majority.
 *
 * @param voters How many replicas vote, this one included.
 * @returns `floor(voters / 2) + 1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { majority } from "./quorum.ts";
 * assert.ok(majority(5) === 3 && majority(4) === 3);
 * ```
 */
export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * The largest value that a majority of `values` reach: with match indexes, the
 * highest index stored on a majority; with acknowledgement times, the latest time
 * a majority has been heard from since.
 *
 * @param values One value per replica, this one included.
 * @returns The majority-th largest value (`-Infinity` when `values` is empty).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quorumValue } from "./quorum.ts";
 * assert.ok(quorumValue([7, 3, 9, 1, 5]) === 5);
 * ```
 */
export function quorumValue(values: readonly number[] | Float64Array): number {
  // Counting, for a cluster's handful of values, allocates nothing: a leader
  // asks on every input, and the sorted copy it used to make was the core's
  // largest cost per input (BENCHMARKS.md). Indexed loops: for-of's iterators
  // took three times as long once optimised.
  const needed = majority(values.length);
  let reached = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const candidate = values[i] as number;
    if (candidate <= reached) continue;
    let reaching = 0;
    for (let j = 0; j < values.length; j++) if ((values[j] as number) >= candidate) reaching++;
    if (reaching >= needed) reached = candidate;
  }
  return reached;
}
