import assert from "node:assert/strict";
import type { RequestRecord } from "../../lib/sim/clients.ts";
import { toOperations } from "../../lib/sim/history.ts";

const base = { client: "0015", key: "K", invokedAtMs: 10 };

Deno.test("the history keeps acked puts, unanswered puts and acked gets only", () => {
  const records: RequestRecord[] = [
    { ...base, mid: "p1", kind: "put", value: "a", reply: { type: "ok", atMs: 20 } },
    { ...base, mid: "p2", kind: "put", value: "b" },
    { ...base, mid: "p3", kind: "put", value: "c", reply: { type: "redirect", atMs: 12 } },
    { ...base, mid: "p4", kind: "put", value: "d", reply: { type: "fail", atMs: 12 } },
    { ...base, mid: "g1", kind: "get", reply: { type: "ok", atMs: 30, value: "a" } },
    { ...base, mid: "g2", kind: "get" },
    { ...base, mid: "g3", kind: "get", reply: { type: "ok", atMs: 30 } },
  ];
  const operations = toOperations(records);
  assert.deepEqual(operations.map((op) => [op.mid, op.kind, op.value, op.returnedAt]), [
    ["p1", "put", "a", 20],
    ["p2", "put", "b", Infinity],
    ["g1", "get", "a", 30],
  ]);
});
