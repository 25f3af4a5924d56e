import assert from "node:assert/strict";
import { main } from "../../lib/sim/main.ts";

/** Runs the command line with console.error captured: its status and what it printed. */
async function refusal(args: string[]): Promise<{ status: number; error: string }> {
  const printed: string[] = [];
  const original = console.error;
  console.error = (...parts: unknown[]) => void printed.push(parts.join(" "));
  try {
    const status = await main(args, new AbortController().signal);
    return { status, error: printed.join("\n") };
  } finally {
    console.error = original;
  }
}

Deno.test("deno task sim refuses a second config rather than ignoring it", async () => {
  const { status, error } = await refusal([
    "configs/short/simple.json",
    "configs/short/crash.json",
    "--virtual",
  ]);
  assert.equal(status, 2);
  assert.match(error, /with configs\/short\/crash\.json after configs\/short\/simple\.json/);
  assert.match(
    (await refusal(["all", "configs/", "extra", "--virtual"])).error,
    /with extra after all/,
  );
});

Deno.test("deno task sim says what a config path should have been", async () => {
  const directory = await refusal(["configs/short", "--virtual"]);
  assert.equal(directory.status, 2);
  assert.match(directory.error, /configs\/short is a directory: give one config file in it/);
  const bare = await refusal(["simple-1", "--virtual"]);
  assert.equal(bare.status, 2);
  assert.match(bare.error, /config simple-1 does not exist \(.*configs\/simple-1\.json\)/);
  const noSuffix = await refusal(["configs/simple-1", "--virtual"]);
  assert.match(noSuffix.error, /such as configs\/simple-1\.json\)$/);
});
