import assert from "node:assert/strict";
import { WarmPath } from "../lib/warm_path.ts";

Deno.test("the warm path's servers answer all three datagrams on every run, past fresh leaders", () => {
  const warmPath = new WarmPath();
  // More than two leaders' worth of puts: each fresh leader must elect itself again.
  const answers = Array.from({ length: 2_500 }, () => warmPath.run());
  assert.deepEqual(new Set(answers), new Set([3]));
});
