import assert from "node:assert/strict";
import { WarmPath } from "../lib/warm_path.ts";

Deno.test("the warm path answers a leader's put and get on every run, past fresh leaders", () => {
  const warmPath = new WarmPath();
  // More than two leaders' worth of puts: each fresh leader must elect itself again.
  const answers = Array.from({ length: 2_500 }, () => warmPath.run(true));
  assert.deepEqual(new Set(answers), new Set([2]));
});

Deno.test("the warm path answers a follower's AppendEntries on every run", () => {
  const warmPath = new WarmPath();
  const answers = Array.from({ length: 100 }, () => warmPath.run(false));
  assert.deepEqual(new Set(answers), new Set([1]));
});
