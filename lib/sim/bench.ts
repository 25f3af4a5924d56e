/**
 * `deno task bench`: the 17 standard configs R times, one run at a time, summarized as
 * Markdown tables (medians, tiers, bonus count, totals, messages per put by mechanism),
 * then the latency floor ratios from alternating runs of the floor and ours on simple-1
 * and simple-2.
 *
 * ```sh
 * deno task bench [--runs R] [--replica PATH] [--floor PATH] [--configs DIR] [--json]
 *                 [--skip-floor] [--only CONFIG[,CONFIG]]
 * ```
 *
 * The tables go to stdout; one progress line per run goes to stderr, so
 * `deno task bench > table.md` keeps only what BENCHMARKS.md needs.
 *
 * Exit status: 0 when every run of ours passed (course checks and linearizability), 1 when
 * one failed, 2 when the bench could not start (bad flag, config or program).
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Output, runCommand } from "./_console.ts";
import { randomSeed } from "./_prng.ts";
import {
  benchJson,
  type ConfigSummary,
  configTable,
  duplicatesLine,
  failureReasons,
  type FloorRound,
  type FloorSummary,
  floorTable,
  mechanismTable,
  msText,
  type RunSample,
  sampleOf,
  summarizeConfig,
  summarizeFloor,
  tierRunsTable,
  tiersLine,
} from "./bench_table.ts";
import { loadConfig, type SimConfig } from "./config.ts";
import { checkProgram } from "./replicas.ts";
import { runSimulation } from "./simulation.ts";
import { STANDARD_CONFIGS } from "./standard.ts";
import { runVirtual } from "./virtual.ts";

/** The floor is compared on these: the workloads with no faults, 80 % gets and 80 % puts. */
const FLOOR_CONFIGS = ["simple-1", "simple-2"] as const;

/** `../shared/floor/3700kvstore` from the project root (two folders above this file). */
const DEFAULT_FLOOR = join(
  fileURLToPath(new URL("../../", import.meta.url)),
  "..",
  "shared",
  "floor",
  "3700kvstore",
);

const USAGE = `Usage:
  deno task bench [options]

Runs the 17 standard configs R times, one at a time, and prints per config the medians
of messages, failures, duplicates, course median latency, put ok and get ok p50, with
tiers, and the replicas' processor seconds; the messages per put answered ok by
mechanism; then the floor ratios from alternating runs on simple-1 and simple-2.

Options:
  --runs R          runs per config, and floor rounds (default 1)
  --seed S          the first run's seed; run r (from 0) of each config gets S + r
                    (default: a random seed per run, or 1 with --virtual)
  --replica PATH    our replica program (default ./3700kvstore)
  --virtual         run this project's replica in process on a virtual clock
                    (deno task sim --virtual), without the floor: seconds for the
                    17 configs, the same numbers for the same seeds, latencies from a
                    model of this machine (compare two versions on the same seeds)
  --floor PATH      the floor program (default ../shared/floor/3700kvstore from
                    the project root)
  --configs DIR     where the standard configs are (default configs/)
  --only C[,C]      only these configs, e.g. simple-1,crash-3 (the floor part still runs)
  --skip-floor      skip the floor comparison
  --json            end with one JSON report on the last line
  --help            show this text`;

/** Exit status when the bench itself could not run. */
const EXIT_USAGE = 2;

/** The parsed command line. */
export interface BenchOptions {
  runs: number;
  /** The first run's seed, when the runs' seeds are chosen rather than drawn. */
  firstSeed: number | undefined;
  replica: string;
  /** Our replica in process on the virtual clock; no floor then. */
  virtual: boolean;
  floor: string;
  configsDir: string;
  /** Config names (`simple-1`), in the course's order. */
  configs: string[];
  skipFloor: boolean;
  json: boolean;
}

/**
 * Parses the command line.
 *
 * @param args The arguments after the script name.
 * @returns The options, or `"help"` when `--help` was given.
 * @throws {TypeError} On an unknown flag or a malformed value.
 * @throws {RangeError} On `--runs` below 1 or a config that is not a standard one.
 * @example
 * ```ts
 * import { parseBenchArgs } from "./bench.ts";
 * const options = parseBenchArgs(["--only", "crash-3.json,simple-1", "--runs", "3"]);
 * if (options === "help" || options.configs.join() !== "simple-1,crash-3") throw new Error();
 * ```
 */
export function parseBenchArgs(args: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: "string", default: "1" },
      seed: { type: "string" },
      replica: { type: "string" },
      virtual: { type: "boolean", default: false },
      floor: { type: "string", default: DEFAULT_FLOOR },
      configs: { type: "string", default: "configs/" },
      only: { type: "string" },
      "skip-floor": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return "help";
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new RangeError(`--runs is ${values.runs}: it must be an integer of at least 1`);
  }
  const firstSeed = values.seed === undefined ? undefined : Number(values.seed);
  if (firstSeed !== undefined && !Number.isSafeInteger(firstSeed)) {
    throw new RangeError(`--seed is ${values.seed}: it must be an integer`);
  }
  if (values.virtual && values.replica !== undefined) {
    throw new TypeError("--virtual runs this project's replica in process: give no --replica");
  }
  const standard = STANDARD_CONFIGS.map((entry) => entry.file.replace(/\.json$/, ""));
  let configs = standard;
  if (values.only !== undefined) {
    const wanted = values.only.split(",").map((name) => name.trim().replace(/\.json$/, ""));
    const unknown = wanted.filter((name) => !standard.includes(name));
    if (unknown.length > 0) {
      throw new RangeError(
        `--only names ${unknown.join(", ")}: not a standard config (${standard.join(", ")})`,
      );
    }
    configs = standard.filter((name) => wanted.includes(name));
  }
  return {
    runs,
    firstSeed: firstSeed ?? (values.virtual ? 1 : undefined),
    replica: values.replica ?? "./3700kvstore",
    virtual: values.virtual,
    floor: values.floor,
    configsDir: values.configs,
    configs,
    skipFloor: values["skip-floor"] || values.virtual,
    json: values.json,
  };
}

/**
 * Runs the command line.
 *
 * @param args The arguments after the script name.
 * @param signal Aborted on Ctrl-C; the bench stops after the run under way.
 * @returns The exit status.
 */
export async function main(args: string[], signal: AbortSignal): Promise<number> {
  let options: BenchOptions | "help";
  const loaded = new Map<string, SimConfig>();
  try {
    options = parseBenchArgs(args);
    if (options === "help") {
      console.log(USAGE);
      return 0;
    }
    const needed = options.skipFloor
      ? options.configs
      : [...new Set([...options.configs, ...FLOOR_CONFIGS])];
    for (const name of needed) loaded.set(name, await readConfig(options.configsDir, name));
    if (!options.virtual) await checkProgram(options.replica);
    if (!options.skipFloor) await checkProgram(options.floor, "floor program");
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_USAGE;
  }
  const bench = new Bench(options, signal);
  const summaries = await bench.standard(loaded);
  const floors = options.skipFloor ? [] : await bench.floor(loaded);
  if (signal.aborted) return 1;
  const report = benchJson(summaries, floors);
  const lines = options.virtual ? [VIRTUAL_NOTE, ""] : [];
  lines.push(...configTable(summaries), "", tiersLine(summaries), duplicatesLine(summaries));
  if (summaries.some((summary) => summary.runs > 1)) {
    lines.push("", "Runs by tier:", "", ...tierRunsTable(summaries));
  }
  lines.push("", "Messages per put answered ok:", "", ...mechanismTable(summaries));
  if (floors.length > 0) lines.push("", ...floorTable(floors));
  console.log(lines.join("\n"));
  if (options.json) console.log(JSON.stringify({ ...report, virtual: options.virtual }));
  return report.passed === true ? 0 : 1;
}

async function readConfig(directory: string, name: string): Promise<SimConfig> {
  const path = join(directory, `${name}.json`);
  try {
    return await loadConfig(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Error(`config ${path} does not exist`);
    throw new Error(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Heads a virtual bench's tables, so that none is taken for a measurement. */
const VIRTUAL_NOTE =
  "On the virtual clock (--virtual): latencies come from the model in lib/sim/virtual.ts, not from a measurement.";

/** Progress to stderr, one line per event, so stdout holds only the tables. */
const stderrOutput: Output = {
  line(text) {
    console.error(text);
  },
  // The simulator's live progress line would interleave with the per-run lines.
  progress() {},
  endProgress() {},
};

class Bench {
  readonly #options: BenchOptions;
  readonly #signal: AbortSignal;
  readonly #totalRuns: number;
  #done = 0;

  constructor(options: BenchOptions, signal: AbortSignal) {
    this.#options = options;
    this.#signal = signal;
    const floorRuns = options.skipFloor ? 0 : 2 * FLOOR_CONFIGS.length;
    this.#totalRuns = options.runs * (options.configs.length + floorRuns);
  }

  /**
   * R rounds over the configs, rounds outermost, so a slow spell of the machine is spread
   * over every config instead of landing on one config's runs.
   */
  async standard(loaded: ReadonlyMap<string, SimConfig>): Promise<ConfigSummary[]> {
    const samples = new Map<string, RunSample[]>(this.#options.configs.map((name) => [name, []]));
    for (let round = 0; round < this.#options.runs; round++) {
      for (const name of this.#options.configs) {
        if (this.#signal.aborted) return [];
        const sample = await this.#run(
          "ours",
          name,
          loaded,
          this.#options.replica,
          this.#seed(round),
        );
        samples.get(name)?.push(sample);
      }
    }
    return this.#options.configs.map((name) =>
      summarizeConfig(name, (loaded.get(name) as SimConfig).benchmarks, samples.get(name) ?? [])
    );
  }

  /**
   * Alternating floor and ours; each round draws one seed, so both face the same schedule.
   * The floor goes first in even rounds and ours in odd ones, so that whatever going
   * first or second does lands on both sides (in eight live advanced-3 pairs the second
   * run was the slower in seven, whichever replica it was: BENCHMARKS.md).
   */
  async floor(loaded: ReadonlyMap<string, SimConfig>): Promise<FloorSummary[]> {
    const rounds = new Map<string, FloorRound[]>(FLOOR_CONFIGS.map((name) => [name, []]));
    for (let round = 0; round < this.#options.runs; round++) {
      const seed = this.#seed(round);
      const oursFirst = round % 2 === 1;
      for (const name of FLOOR_CONFIGS) {
        const run = (who: "floor" | "ours") =>
          this.#run(who, name, loaded, this.#options[who === "floor" ? "floor" : "replica"], seed);
        if (this.#signal.aborted) return [];
        const first = await run(oursFirst ? "ours" : "floor");
        if (this.#signal.aborted) return [];
        const second = await run(oursFirst ? "floor" : "ours");
        rounds.get(name)?.push(
          oursFirst ? { ours: first, floor: second } : { floor: first, ours: second },
        );
      }
    }
    return FLOOR_CONFIGS.map((name) => summarizeFloor(name, rounds.get(name) ?? []));
  }

  #seed(round: number): number {
    const { firstSeed } = this.#options;
    return firstSeed === undefined ? randomSeed() : firstSeed + round;
  }

  async #run(
    who: "ours" | "floor",
    name: string,
    loaded: ReadonlyMap<string, SimConfig>,
    program: string,
    seed: number,
  ): Promise<RunSample> {
    this.#done++;
    console.error(`[${this.#done}/${this.#totalRuns}] ${name}, ${who}, seed ${seed} ...`);
    // No pause between runs (the course pauses 10 s): a run returns only once its
    // replicas have exited, and the next one sends no request before its start_wait.
    const config = loaded.get(name) as SimConfig;
    const result = this.#options.virtual
      ? runVirtual({ config, seed, output: stderrOutput })
      : await runSimulation({
        config,
        seed,
        program,
        output: stderrOutput,
        quiet: true,
        signal: this.#signal,
      });
    const sample = sampleOf(result);
    console.error(
      `  ${
        sample.passed ? "PASS" : "FAIL"
      }: ${sample.totalMsgs} messages, ${sample.failures} failures, ${sample.duplicates} duplicates, median ${
        msText(sample.medianLatencyS)
      } ms, put ok p50 ${msText(sample.putOkP50S)} ms, get ok p50 ${msText(sample.getOkP50S)} ms`,
    );
    if (!sample.passed) console.error(`  why: ${failureReasons(result).join("; ")}`);
    return sample;
  }
}

if (import.meta.main) await runCommand(main);
