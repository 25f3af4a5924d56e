import assert from "node:assert/strict";
import { type DstArguments, parseDstArguments, runSeeds } from "../../lib/dst/main.ts";
import { runSimulation } from "../../lib/dst/mod.ts";
import { forgetfulPutReplica } from "./_broken_replicas.ts";

/** Parses a command line that must not ask for help. */
function settingsOf(args: string[]): DstArguments {
  const settings = parseDstArguments(args);
  if (settings === "help") assert.fail(`${args.join(" ")} asked for help`);
  return settings;
}

Deno.test("the command line takes seeds, start, replicas, steps, profile and verbose", () => {
  assert.deepEqual(
    settingsOf([
      "--seeds",
      "5",
      "--from",
      "9",
      "--replicas",
      "7",
      "--steps",
      "30",
      "--profile",
      "lease",
      "--verbose",
    ]),
    { seeds: 5, from: 9, replicas: 7, steps: 30, profile: "lease", verbose: true },
  );
  assert.equal(settingsOf([]).profile, "default");
  assert.throws(
    () => parseDstArguments(["--profile", "fast"]),
    /--profile is fast: it must be one of default, lease, churn/,
  );
  assert.throws(
    () => parseDstArguments(["--replicas", "2"]),
    /--replicas is 2: it must be an integer between 3 and 7/,
  );
  assert.throws(() => parseDstArguments(["--seeds", "x"]), RangeError);
  assert.throws(() => parseDstArguments(["--bogus"]), TypeError);
});

Deno.test("--help asks for the usage text, whatever else is given", () => {
  assert.equal(parseDstArguments(["--help"]), "help");
  assert.equal(parseDstArguments(["--seeds", "5", "--help"]), "help");
});

Deno.test("a clean run ends with the seed and violation count", () => {
  const lines: string[] = [];
  const violations = runSeeds(
    settingsOf(["--seeds", "2", "--steps", "20"]),
    (line) => lines.push(line),
  );
  assert.equal(violations, 0);
  assert.match(lines.at(-1) ?? "", /^2 seeds, 0 violations$/);
  assert.match(
    lines.at(-2) ?? "",
    /; 0 seeds with keys the linearizability search could not decide$/,
  );
});

Deno.test("a failing seed prints its invariant, its trace and the replay command", () => {
  const lines: string[] = [];
  const settings = settingsOf(["--seeds", "1", "--from", "4", "--steps", "30"]);
  const violations = runSeeds(
    settings,
    (line) => lines.push(line),
    (options) => runSimulation({ ...options, createReplica: forgetfulPutReplica }),
  );
  assert.equal(violations, 1);
  assert.match(lines[0] ?? "", /^seed 4 \(\d replicas\) broke /);
  assert.ok(lines.includes("  replay: deno task dst --seeds 1 --from 4 --steps 30 --verbose"));
  assert.match(lines.at(-2) ?? "", / 0 duplicate oks after a crash, partition or step-down;/);
  assert.equal(lines.at(-1), "1 seeds, 1 violations");
});
