/**
 * A linearizability checker for key-value histories: gets and puts on string
 * registers that start as `""`.
 *
 * @module
 */

import { type RegisterOp, type SearchOutcome, searchRegister } from "./_register_search.ts";
import { hasDistinctWrites, isLinearizableByZones } from "./_register_zones.ts";

/** One client operation as the client saw it. */
export interface Operation {
  kind: "get" | "put";
  key: string;
  /** put: the value written; get: the value returned (`""` = never put). */
  value: string;
  /** Milliseconds: when the client first sent this MID. */
  invokedAt: number;
  /** Milliseconds: when the ok arrived; `Infinity` for a put that got no reply. */
  returnedAt: number;
  /** The client id, for reports. */
  client: string;
  /** The message id, for reports. */
  mid: string;
}

/** One key whose history no linearization explains. */
export interface Violation {
  key: string;
  /** What went wrong, naming the offending operation. */
  message: string;
  /**
   * The offending operation first, then the operations that could explain or
   * contradict it: the puts that wrote the value it saw, the operations that
   * completed just before it began, and the puts concurrent with it.
   */
  operations: Operation[];
}

/** The verdict on a whole history. */
export interface LinearizabilityReport {
  /** True only when every key was shown linearizable (no violation, none undetermined). */
  linearizable: boolean;
  /** One entry per key shown not linearizable. */
  violations: Violation[];
  /**
   * Keys whose search used up {@linkcode CheckOptions.stepBudget} before reaching
   * a verdict: neither shown linearizable nor shown broken.
   */
  undeterminedKeys: string[];
}

/** Options for {@linkcode checkLinearizability}. */
export interface CheckOptions {
  /**
   * Search steps allowed per key before the key is reported undetermined, so a
   * pathological history cannot hang the caller (the search is exponential in
   * the worst case: the problem is NP-complete, Gibbons & Korach 1997). A key
   * whose puts all write distinct values needs no search: it is decided by
   * zones, in O(n log n), and never undetermined.
   * @default {2_000_000}
   */
  stepBudget?: number;
}

/** Operations shown in a violation beyond the offending one. */
const MAX_RELATED_OPERATIONS = 12;

/**
 * Checks that a key-value history is linearizable (Herlihy & Wing 1990): every
 * operation appears to take effect at one instant between its invocation and
 * its return, and each get returns the value of the latest put before it (or
 * `""`). A put with `returnedAt = Infinity` may take effect at any time after
 * its invocation, or never. Operation `a` precedes `b` in real time when
 * `a.returnedAt < b.invokedAt`; touching intervals are concurrent.
 *
 * @param ops Every acknowledged get and put, and every put left unanswered.
 * @param options Search limits.
 * @returns Whether the history is linearizable, with a violation per broken key.
 * @throws {RangeError} When an operation returns before it was invoked, or a get has no return.
 *
 * @example
 * ```ts
 * import { checkLinearizability } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const report = checkLinearizability([
 *   { kind: "put", key: "k", value: "a", invokedAt: 0, returnedAt: 10, client: "c1", mid: "m1" },
 *   { kind: "get", key: "k", value: "", invokedAt: 20, returnedAt: 30, client: "c2", mid: "m2" },
 * ]);
 * assert.equal(report.linearizable, false);
 * assert.equal(report.violations[0]?.key, "k");
 * ```
 */
export function checkLinearizability(
  ops: readonly Operation[],
  options: CheckOptions = {},
): LinearizabilityReport {
  const { stepBudget = 2_000_000 } = options;
  ops.forEach(validateOperation);
  const violations: Violation[] = [];
  const undeterminedKeys: string[] = [];
  for (const [key, keyOps] of groupByKey(ops)) {
    const outcome = decide(keyOps, stepBudget);
    if (outcome === "undetermined") undeterminedKeys.push(key);
    if (outcome === "not_linearizable") violations.push(explainViolation(key, keyOps, stepBudget));
  }
  return {
    linearizable: violations.length === 0 && undeterminedKeys.length === 0,
    violations,
    undeterminedKeys,
  };
}

function validateOperation(op: Operation): void {
  if (Number.isNaN(op.invokedAt) || !(op.returnedAt >= op.invokedAt)) {
    throw new RangeError(
      `Cannot check ${op.kind} ${op.mid} as returnedAt is ${op.returnedAt}: it must be at least invokedAt (${op.invokedAt})`,
    );
  }
  if (op.kind === "get" && op.returnedAt === Infinity) {
    throw new RangeError(
      `Cannot check get ${op.mid} as returnedAt is Infinity: only a put may be left unanswered`,
    );
  }
}

/**
 * One register's verdict: by zones when every put writes a value of its own
 * (always decided, in O(n log n)), else by the search, which may give up.
 */
function decide(ops: readonly RegisterOp[], stepBudget: number): SearchOutcome {
  if (!hasDistinctWrites(ops)) return searchRegister(ops, stepBudget);
  return isLinearizableByZones(ops) ? "linearizable" : "not_linearizable";
}

function groupByKey(ops: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>();
  for (const op of ops) {
    const keyOps = byKey.get(op.key);
    if (keyOps === undefined) byKey.set(op.key, [op]);
    else keyOps.push(op);
  }
  return byKey;
}

/**
 * Finds the operation at fault: linearizability is prefix-closed, so the first
 * return time at which the history cut there (later returns still pending)
 * stops being linearizable names it. Found by binary search over return times.
 */
function explainViolation(key: string, ops: Operation[], stepBudget: number): Violation {
  const completed = ops.filter((op) => op.returnedAt !== Infinity)
    .sort((a, b) => a.returnedAt - b.returnedAt);
  let low = 0;
  let high = completed.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const cut = (completed[middle] as Operation).returnedAt;
    if (decide(historyCutAt(ops, cut), stepBudget) === "not_linearizable") high = middle;
    else low = middle + 1;
  }
  const culprit = completed[low] as Operation;
  return {
    key,
    message: describe(culprit, ops),
    operations: [culprit, ...relatedOperations(culprit, ops)],
  };
}

/**
 * The history as it stood at time `cut`: operations returned by then are
 * complete, puts still running become unknown-outcome, gets still running and
 * operations not yet invoked are dropped.
 */
function historyCutAt(ops: readonly Operation[], cut: number): RegisterOp[] {
  const cutOps: RegisterOp[] = [];
  for (const op of ops) {
    if (op.returnedAt <= cut) cutOps.push(op);
    else if (op.kind === "put" && op.invokedAt <= cut) cutOps.push({ ...op, returnedAt: Infinity });
  }
  return cutOps;
}

function describe(culprit: Operation, ops: readonly Operation[]): string {
  const what = `${culprit.kind} ${culprit.mid} by ${culprit.client} on key ${
    JSON.stringify(culprit.key)
  } during [${culprit.invokedAt}, ${culprit.returnedAt}] ms`;
  if (culprit.kind === "put") return `${what} cannot be ordered with the reads around it`;
  const saw = `${what} returned ${JSON.stringify(culprit.value)}`;
  if (culprit.value === "") return `${saw}, but a put had already completed before it began`;
  const writers = ops.filter((op) => op.kind === "put" && op.value === culprit.value);
  if (writers.length === 0) return `${saw}, a value no put wrote`;
  if (writers.every((put) => put.invokedAt > culprit.returnedAt)) {
    return `${saw}, but every put of that value began after it returned`;
  }
  return `${saw}: a stale or out-of-order read (the value was overwritten before it began, or an earlier read saw a newer value)`;
}

/**
 * The operations that explain or contradict the culprit: puts of the value it
 * saw, the last operations to complete before it began (none of them followed
 * by another that also completed before it), and the puts concurrent with it.
 */
function relatedOperations(culprit: Operation, ops: readonly Operation[]): Operation[] {
  const before = ops.filter((op) => op.returnedAt < culprit.invokedAt);
  const latestBefore = before.filter((op) =>
    !before.some((later) => op.returnedAt < later.invokedAt)
  );
  const writers = ops.filter((op) =>
    op !== culprit && op.kind === "put" && op.value === culprit.value
  );
  const concurrentPuts = ops.filter((op) =>
    op !== culprit && op.kind === "put" && op.invokedAt <= culprit.returnedAt &&
    op.returnedAt >= culprit.invokedAt
  );
  const related = [...new Set([...writers, ...latestBefore, ...concurrentPuts])];
  return related.slice(0, MAX_RELATED_OPERATIONS);
}
