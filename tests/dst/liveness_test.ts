import assert from "node:assert/strict";
import type { Operation } from "../../lib/check/mod.ts";
import { loggedMids, withoutUnseenLostPuts } from "../../lib/dst/_liveness.ts";
import type { Entry } from "../../lib/raft/messages.ts";

let mid = 0;

function op(kind: "get" | "put", value: string, returnedAt: number, key = "k"): Operation {
  return { kind, key, value, invokedAt: 0, returnedAt, client: "0013", mid: `m${mid++}` };
}

Deno.test("the history checked leaves out only the unanswered puts whose value no get returned", () => {
  const answered = op("put", "a", 1); // no get read "a": a stale read after it must still show
  const seenLost = op("put", "b", Infinity);
  const unseenLost = op("put", "c", Infinity);
  const otherKeyLost = op("put", "b", Infinity, "other"); // "b" was read on "k", not here
  const read = op("get", "b", 2);
  const checked = withoutUnseenLostPuts([answered, seenLost, unseenLost, otherKeyLost, read]);
  assert.deepEqual(checked, [answered, seenLost, read]);
});

Deno.test("loggedMids names every put of a log, the last entry's too", () => {
  const log: Entry[] = [
    { term: 1 },
    { term: 1, command: { key: "k", value: "a", client: "0013", MID: "m1" } },
    { term: 2, command: { key: "k", value: "b", client: "0014", MID: "m2" } },
  ];
  const view = { lastIndex: log.length, entryAt: (index: number) => log[index - 1] };
  assert.deepEqual([...loggedMids(view)], ["m1", "m2"]);
});
