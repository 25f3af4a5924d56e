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
  // A typed array sorts numbers ascending natively, with no comparator to call.
  const ascending = Float64Array.from(values).sort();
  return ascending[values.length - majority(values.length)] ?? -Infinity;
}
