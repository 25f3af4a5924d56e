/**
 * The deterministic simulation CLI:
 *
 * ```
 * deno task dst --seeds N [--from S] [--replicas 3..7] [--steps K] [--profile P] [--verbose]
 * deno task dst --help
 * ```
 *
 * Runs seeds S … S+N-1 (S defaults to 1) under profile P (`default` unless
 * given; `lease` aims at leader leases and votes, `churn` at logs of many
 * terms, see `profile.ts`), prints each failing seed with the invariant it
 * broke, the last events before it and the command that replays it, and ends
 * with the line `N seeds, V violations`, after a line of totals (simulated
 * time, puts never answered, duplicate oks). Exits 0 only when V is 0. Reads
 * no clock: time a long run with the shell's `time`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type DstProfile, parseProfile } from "./profile.ts";
import { runSimulation, type SimulationOptions, type SimulationResult } from "./simulation.ts";

const USAGE = `Usage:
  deno task dst [options]

Runs Raft cores on a simulated clock and network, one seed after another, and checks
every invariant and the linearizability of each history. Ends with "N seeds, V
violations"; exits 0 only when V is 0. A failing seed prints the command that replays it.

Options:
  --seeds N        how many seeds to run (default 100)
  --from S         the first seed (default 1)
  --replicas R     3 to 7 replicas (default: drawn per seed)
  --steps K        client steps per seed (default: the profile's)
  --profile P      default, lease (faults aimed at leader leases and votes) or churn
                   (logs of many terms, Figure 8 of the Raft paper)
  --verbose        print one line per seed
  --help           show this text`;

/** Exit status when the command line is wrong. */
const EXIT_USAGE = 2;

/** The parsed command line. */
export interface DstArguments {
  seeds: number;
  from: number;
  replicas: number | undefined;
  steps: number | undefined;
  profile: DstProfile;
  verbose: boolean;
}

/**
 * Parses the command line.
 *
 * @param args The arguments after the script name.
 * @returns The settings, or `"help"` when asked for the usage text.
 * @throws {RangeError} When a number is missing or out of range, or the profile is unknown.
 * @throws {TypeError} When an option is unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDstArguments } from "./main.ts";
 * const settings = parseDstArguments(["--seeds", "3", "--from", "10"]);
 * assert.ok(settings !== "help" && settings.from === 10);
 * assert.equal(parseDstArguments(["--help"]), "help");
 * ```
 */
export function parseDstArguments(args: readonly string[]): DstArguments | "help" {
  const { values } = parseArgs({
    args: [...args],
    options: {
      seeds: { type: "string", default: "100" },
      from: { type: "string", default: "1" },
      replicas: { type: "string" },
      steps: { type: "string" },
      profile: { type: "string", default: "default" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return "help";
  return {
    seeds: integerOption("seeds", values.seeds, 1, Number.MAX_SAFE_INTEGER),
    from: integerOption("from", values.from, 0, 2 ** 32 - 1),
    replicas: values.replicas === undefined
      ? undefined
      : integerOption("replicas", values.replicas, 3, 7),
    steps: values.steps === undefined
      ? undefined
      : integerOption("steps", values.steps, 1, 1_000_000),
    profile: parseProfile(values.profile),
    verbose: values.verbose,
  };
}

function integerOption(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new RangeError(
      `Cannot run simulation as --${name} is ${text}: it must be an integer between ${min} and ${max}`,
    );
  }
  return value;
}

/**
 * Runs the seeds and prints the report.
 *
 * @param settings What to run.
 * @param print Where lines go.
 * @param simulate Runs one seed; tests substitute a broken cluster.
 * @returns The number of seeds that broke an invariant.
 */
export function runSeeds(
  settings: DstArguments,
  print: (line: string) => void,
  simulate: (options: SimulationOptions) => SimulationResult = runSimulation,
): number {
  let violations = 0;
  let duplicates = 0;
  let lostPuts = 0;
  const undetermined: number[] = [];
  let simulatedMs = 0;
  for (let seed = settings.from; seed < settings.from + settings.seeds; seed++) {
    const result = simulate({
      seed,
      ...(settings.replicas === undefined ? {} : { replicas: settings.replicas }),
      ...(settings.steps === undefined ? {} : { steps: settings.steps }),
      profile: settings.profile,
    });
    duplicates += result.stats.explainedDuplicates;
    lostPuts += result.stats.lostPuts;
    simulatedMs += result.stats.simulatedMs;
    if (result.stats.linearizabilityUndetermined) undetermined.push(seed);
    if (settings.verbose) print(describeSeed(result));
    if (result.violation !== undefined) {
      violations++;
      printFailure(result, settings, print);
    }
  }
  print(
    `simulated ${
      (simulatedMs / 1000).toFixed(1)
    } s in total; ${lostPuts} puts never answered; ${duplicates} duplicate oks after a crash, partition or step-down; ${
      describeUndetermined(undetermined)
    }`,
  );
  print(`${settings.seeds} seeds, ${violations} violations`);
  return violations;
}

/** Names the first few seeds whose history the checker could not decide, so they can be replayed. */
function describeUndetermined(seeds: readonly number[]): string {
  const shown = seeds.slice(0, 10).join(", ");
  const more = seeds.length > 10 ? ", ..." : "";
  const list = seeds.length === 0 ? "" : ` (${shown}${more})`;
  return `${seeds.length} seeds with keys the linearizability search could not decide${list}`;
}

function describeSeed({ seed, replicas, violation, stats, traceHash }: SimulationResult): string {
  const verdict = violation === undefined ? "ok" : `VIOLATION ${violation.invariant}`;
  return `seed ${seed}: ${verdict}; ${replicas} replicas, ${stats.events} events, ${stats.messages} messages, ${stats.requests} requests, term ${stats.maxTerm}, ${stats.crashes} crashes, ${stats.partitions} partitions, ${stats.pauses} pauses, ${
    (stats.simulatedMs / 1000).toFixed(1)
  } s simulated, trace ${traceHash}`;
}

function printFailure(
  result: SimulationResult,
  settings: DstArguments,
  print: (line: string) => void,
): void {
  const violation = result.violation;
  if (violation === undefined) return;
  print(`seed ${result.seed} (${result.replicas} replicas) broke ${violation.invariant}`);
  print(`  ${violation.message}`);
  print(`  last ${result.trace.length} events:`);
  for (const line of result.trace) print(`    ${line}`);
  const options = [
    `--seeds 1 --from ${result.seed}`,
    settings.replicas === undefined ? "" : ` --replicas ${settings.replicas}`,
    settings.steps === undefined ? "" : ` --steps ${settings.steps}`,
    settings.profile === "default" ? "" : ` --profile ${settings.profile}`,
  ].join("");
  print(`  replay: deno task dst ${options} --verbose`);
}

if (import.meta.main) {
  let settings: DstArguments | "help";
  try {
    settings = parseDstArguments(Deno.args);
  } catch (error: unknown) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error('Run "deno task dst --help" for the options.');
    Deno.exit(EXIT_USAGE);
  }
  if (settings === "help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  Deno.exit(runSeeds(settings, (line) => console.log(line)) === 0 ? 0 : 1);
}
