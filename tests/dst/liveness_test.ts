import assert from "node:assert/strict";
import type { Operation } from "../../lib/check/mod.ts";
import { loggedMids, withoutUnseenLostPuts } from "../../lib/dst/_liveness.ts";
import { runSimulation } from "../../lib/dst/mod.ts";
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

let fullTracesMemo: string[][] | undefined;

/** Seeds 1 to 40 of the default profile, each run's whole trace: run once, for both tests below. */
function fullTraces(): string[][] {
  fullTracesMemo ??= Array.from(
    { length: 40 },
    (_, i) => runSimulation({ seed: i + 1, traceLength: 1_000_000 }).trace,
  );
  return fullTracesMemo;
}

/** A trace line's simulated time: lines start with it, right-aligned. */
function timeOf(line: string): number {
  return Number.parseFloat(line);
}

/** The line that starts the liveness phase: its index, and its simulated time. */
function livenessStart(trace: readonly string[]): { index: number; atMs: number } {
  const index = trace.findIndex((line) => line.includes("faults stop: liveness phase"));
  assert.notEqual(index, -1, "the run reached its liveness phase");
  return { index, atMs: timeOf(trace[index] as string) };
}

Deno.test("the liveness phase heals the partition it finds at its start", () => {
  let openAtStart = 0;
  fullTraces().forEach((trace, i) => {
    const { index: start, atMs: startMs } = livenessStart(trace);
    const healed = (line: string) => line.includes("partition healed");
    openAtStart += trace.slice(0, start).filter((line) => healed(line) && timeOf(line) === startMs)
      .length;
    // A partition still open would heal later, at the time its fault drew.
    assert.deepEqual(trace.slice(start + 1).filter(healed), [], `seed ${i + 1}`);
  });
  // About half of these seeds end their safety phase partitioned (19 of 40).
  assert.ok(openAtStart >= 10, `${openAtStart} runs had a partition open at the start`);
});

Deno.test("once the faults stop, clients send requests within 500 ms", () => {
  fullTraces().forEach((trace, i) => {
    const { index: start, atMs: startMs } = livenessStart(trace);
    const sent = trace.slice(start + 1).filter((line) =>
      line.includes(" sent to ") && timeOf(line) <= startMs + 500
    );
    assert.ok(sent.length > 0, `seed ${i + 1}: no request after the faults stopped`);
  });
});
