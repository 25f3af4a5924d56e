/**
 * Linearizability checking for the key-value store's client histories: each key
 * is a register starting at `""`, decided by zones when its puts write distinct
 * values, else checked with the Wing–Gong–Lowe search.
 *
 * @example
 * ```ts
 * import { checkLinearizability } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const report = checkLinearizability([
 *   { kind: "put", key: "k", value: "a", invokedAt: 0, returnedAt: 10, client: "c1", mid: "m1" },
 *   { kind: "get", key: "k", value: "a", invokedAt: 5, returnedAt: 8, client: "c2", mid: "m2" },
 * ]);
 * assert.equal(report.linearizable, true);
 * ```
 *
 * @module
 */

export {
  checkLinearizability,
  type CheckOptions,
  type LinearizabilityReport,
  type Operation,
  type Violation,
} from "./linearizability.ts";
