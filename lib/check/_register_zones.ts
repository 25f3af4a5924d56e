/**
 * A check in O(n log n) for a register history in which every put writes a
 * value of its own: Gibbons & Korach ("Testing shared memories", 1997) showed
 * linearizability is then decidable in polynomial time, and Golab, Li & Shah
 * ("Analyzing consistency properties for fun and profit", 2011) state the test
 * as zones, used here. The search of `_register_search.ts` is exponential in
 * the worst case and gives up on long, heavily concurrent histories; with
 * distinct values none is left undecided.
 *
 * A value's cluster is its put and the gets that returned it (`""`'s put is a
 * virtual one before everything). In any linearization a cluster's operations
 * are consecutive: the put, then its gets, before the next put. If some
 * operation of the cluster returned before another was invoked, the cluster
 * must span that gap, its forward zone; otherwise all of it fits in one
 * instant of its backward zone (latest invocation to earliest return). Then
 * the history is linearizable exactly when no get returned before its value's
 * put was invoked, no two forward zones overlap, and no backward zone lies
 * inside a forward one. Intervals that touch are concurrent, so zones that
 * only touch do not conflict.
 *
 * @module
 */

import type { RegisterOp } from "./_register_search.ts";

/** A stretch of time; `from <= to`. */
interface Zone {
  from: number;
  to: number;
}

/** One value's put and the gets that returned it, reduced to what the zones need. */
interface Cluster {
  /** When its put was invoked (`-Infinity` for the initial `""`). */
  putInvokedAt: number;
  /** The earliest return among its operations. */
  firstReturnAt: number;
  /** The latest invocation among its operations. */
  lastInvokedAt: number;
}

/**
 * Whether every put writes a value no other put writes, and none writes the
 * initial `""`: then {@linkcode isLinearizableByZones} applies.
 *
 * @param ops One register's operations.
 * @returns Whether each value has one writer.
 */
export function hasDistinctWrites(ops: readonly RegisterOp[]): boolean {
  const written = new Set<string>([""]);
  for (const op of ops) {
    if (op.kind !== "put") continue;
    if (written.has(op.value)) return false;
    written.add(op.value);
  }
  return true;
}

/**
 * Decides whether a register history whose puts write distinct values (see
 * {@linkcode hasDistinctWrites}) is linearizable; the initial value is `""`. A
 * put with `returnedAt = Infinity` may take effect late or never: alone in its
 * cluster, its backward zone reaches to infinity and lies inside nothing.
 *
 * @param ops The register's operations, in any order.
 * @returns Whether some linearization explains the history.
 */
export function isLinearizableByZones(ops: readonly RegisterOp[]): boolean {
  const clusters = clustersOf(ops);
  if (clusters === undefined) return false;
  const forward: Zone[] = [];
  const backward: Zone[] = [];
  for (const cluster of clusters.values()) {
    if (cluster.firstReturnAt < cluster.lastInvokedAt) {
      forward.push({ from: cluster.firstReturnAt, to: cluster.lastInvokedAt });
    } else {
      backward.push({ from: cluster.lastInvokedAt, to: cluster.firstReturnAt });
    }
  }
  forward.sort((a, b) => a.from - b.from);
  for (let i = 1; i < forward.length; i++) {
    if ((forward[i] as Zone).from < (forward[i - 1] as Zone).to) return false;
  }
  return !backward.some((zone) => liesInside(zone, forward));
}

/**
 * Each value's cluster, or `undefined` when a get returned a value no put
 * wrote, or returned before the put of its value was invoked.
 */
function clustersOf(ops: readonly RegisterOp[]): Map<string, Cluster> | undefined {
  const clusters = new Map<string, Cluster>([["", {
    putInvokedAt: -Infinity,
    firstReturnAt: -Infinity,
    lastInvokedAt: -Infinity,
  }]]);
  for (const op of ops) {
    if (op.kind !== "put") continue;
    clusters.set(op.value, {
      putInvokedAt: op.invokedAt,
      firstReturnAt: op.returnedAt,
      lastInvokedAt: op.invokedAt,
    });
  }
  for (const op of ops) {
    if (op.kind !== "get") continue;
    const cluster = clusters.get(op.value);
    if (cluster === undefined || op.returnedAt < cluster.putInvokedAt) return undefined;
    cluster.firstReturnAt = Math.min(cluster.firstReturnAt, op.returnedAt);
    cluster.lastInvokedAt = Math.max(cluster.lastInvokedAt, op.invokedAt);
  }
  return clusters;
}

/**
 * Whether `zone` lies strictly inside one of the `forward` zones, which are
 * sorted and do not overlap: the one starting last before it is the only candidate.
 */
function liesInside(zone: Zone, forward: readonly Zone[]): boolean {
  let low = 0;
  let high = forward.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((forward[middle] as Zone).from < zone.from) low = middle + 1;
    else high = middle;
  }
  const candidate = forward[low - 1];
  return candidate !== undefined && zone.to < candidate.to;
}
