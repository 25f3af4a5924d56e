/**
 * Turns the workload's request records into the linearizability checker's history
 * of whole operations: acknowledged puts, unanswered puts (which may or may not have taken
 * effect) and acknowledged gets. A request answered fail or redirect took no effect
 * by protocol and its retry is a new operation, so it is left out.
 *
 * @module
 */

import type { Operation } from "../check/mod.ts";
import type { RequestRecord } from "./clients.ts";

/**
 * Builds the history to check.
 *
 * @param records Every request of the run.
 * @returns The operations.
 */
export function toOperations(records: readonly RequestRecord[]): Operation[] {
  const operations: Operation[] = [];
  for (const record of records) {
    const base = { key: record.key, invokedAt: record.invokedAtMs, client: record.client };
    if (record.kind === "put" && record.reply === undefined) {
      operations.push({
        ...base,
        kind: "put",
        value: record.value ?? "",
        returnedAt: Infinity,
        mid: record.mid,
      });
    } else if (record.reply?.type !== "ok") {
      continue;
    } else if (record.kind === "put") {
      operations.push({
        ...base,
        kind: "put",
        value: record.value ?? "",
        returnedAt: record.reply.atMs,
        mid: record.mid,
      });
    } else if (typeof record.reply.value === "string") {
      operations.push({
        ...base,
        kind: "get",
        value: record.reply.value,
        returnedAt: record.reply.atMs,
        mid: record.mid,
      });
    }
  }
  return operations;
}
