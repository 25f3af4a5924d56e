/**
 * `deno task sim`: the course simulator's command line.
 *
 * ```sh
 * deno task sim CONFIG.json [--replica PATH | --virtual] [--seed N] [--quiet] [--json]
 *                           [--report FILE] [--no-socket-model]
 * deno task sim all [DIR]   [--replica PATH | --virtual] [--seed N] [--quiet] [--json]
 *                           [--pause S] [--report DIR]
 * deno task sim start       # the embedded default scenario (= deno task start)
 * ```
 *
 * Exit status: 0 when every run passed (course checks and linearizability), 1 when one
 * failed, 2 when the simulator could not start (bad config, missing program, bad flag).
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as delay } from "node:timers/promises";
import { consoleOutput, type Output, runCommand } from "./_console.ts";
import { randomSeed } from "./_prng.ts";
import { loadConfig, parseConfig, type SimConfig } from "./config.ts";
import { checkProgram } from "./replicas.ts";
import {
  allModeLine,
  correctnessLines,
  jsonReport,
  makeStyle,
  performanceLines,
  runReportLines,
  type Style,
  summaryTable,
} from "./report.ts";
import { type IndexEntry, renderIndex, renderReport } from "./report_html.ts";
import { type RunResult, runSimulation } from "./simulation.ts";
import { DEFAULT_SCENARIO, PAUSE_BETWEEN_RUNS_S, STANDARD_CONFIGS } from "./standard.ts";
import { runVirtual } from "./virtual.ts";

/** Where `deno task start` writes its report; `deno.json` lets it write only there. */
const START_REPORT_PATH = "report/start.html";

const USAGE = `Usage:
  deno task sim CONFIG.json [options]   run one config
  deno task sim all [DIR] [options]     run the 17 standard configs of DIR (default configs/)
  deno task sim start [options]         run the embedded default scenario

Options:
  --replica PATH   the replica program (default ./3700kvstore)
  --virtual        run this project's replica in process on a virtual clock instead:
                   deterministic for a seed, a run takes about a second, and latencies
                   come from a model of this machine, not a measurement (lib/sim/virtual.ts)
  --seed N         override the config's seed
  --quiet          hide replica output and event lines
  --json           end with one JSON report on the last line
  --pause S        seconds between runs of "all" (default ${PAUSE_BETWEEN_RUNS_S}, as the course;
                   0 with --virtual)
  --report PATH    write the run's HTML timeline to PATH; with "all", PATH is a directory
                   that gets one file per config and index.html ("start" writes
                   ${START_REPORT_PATH} unless told otherwise)
  --no-socket-model
                   read every datagram at once instead of modelling the course grader's
                   sockets (a kernel-sized buffer each, one datagram per socket per pass)
  --help           show this text`;

/** Exit status when the simulator itself could not run. */
const EXIT_USAGE = 2;

interface CliOptions {
  program: string;
  /** Run our replica in process on a virtual clock (`virtual.ts`) instead of `program`. */
  virtual: boolean;
  seed: number | undefined;
  quiet: boolean;
  socketModel: boolean;
  json: boolean;
  pauseS: number;
  /** The report file (one run) or directory (`all`), if one is wanted. */
  report: string | undefined;
  output: Output;
  style: Style;
  signal: AbortSignal;
}

/**
 * Runs the command line.
 *
 * @param args The arguments after the script name.
 * @param signal Aborted on Ctrl-C.
 * @returns The exit status.
 */
export async function main(args: string[], signal: AbortSignal): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        replica: { type: "string" },
        virtual: { type: "boolean", default: false },
        seed: { type: "string" },
        quiet: { type: "boolean", default: false },
        "no-socket-model": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        pause: { type: "string" },
        report: { type: "string" },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    return fail(error);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : EXIT_USAGE;
  }
  const extra = positionals.slice(positionals[0] === "all" ? 2 : 1);
  if (extra.length > 0) {
    return fail(
      new TypeError(
        `Cannot start simulation with ${extra.join(" ")} after ${
          positionals[0]
        }: it runs one config, or "all [DIR]" for every config of a directory`,
      ),
    );
  }
  try {
    const terminal = Deno.stdout.isTerminal();
    if (values.virtual && values.replica !== undefined) {
      throw new TypeError(
        "Cannot start simulation with both --virtual and --replica: a virtual run uses this project's replica",
      );
    }
    const options: CliOptions = {
      program: values.replica ?? "./3700kvstore",
      virtual: values.virtual,
      seed: parseSeedFlag(values.seed),
      quiet: values.quiet,
      socketModel: !values["no-socket-model"],
      json: values.json,
      pauseS: values.virtual ? 0 : parsePause(values.pause),
      report: values.report ?? (positionals[0] === "start" ? START_REPORT_PATH : undefined),
      output: consoleOutput(terminal),
      style: makeStyle(terminal),
      signal,
    };
    const [command, directory] = positionals as [string, string | undefined];
    if (options.report !== undefined) checkWritable(options.report);
    if (command === "all") return await runAll(directory ?? "configs/", options);
    const config = command === "start" ? parseConfig(DEFAULT_SCENARIO) : await readConfig(command);
    if (!options.virtual) await checkProgram(options.program);
    const name = command === "start" ? "default scenario" : command;
    const result = await runOne(name, config, options);
    for (const line of runReportLines(result, options.style)) options.output.line(line);
    if (options.report !== undefined) {
      await writeReport(options.report, renderReport({ name, result }));
      options.output.line(`Report: ${options.report}`);
    }
    if (options.json) console.log(JSON.stringify(jsonReport(name, result)));
    return result.passed ? 0 : 1;
  } catch (error) {
    return fail(error);
  }
}

async function runOne(name: string, config: SimConfig, options: CliOptions): Promise<RunResult> {
  const seed = options.seed ?? config.seed ?? randomSeed();
  const totalS = config.startWaitS + config.lifetimeS + config.endWaitS;
  options.output.line(
    `Simulating ${name} with seed ${seed}: ${config.replicas} replicas, ${config.requests} requests, ${totalS} s`,
  );
  for (const note of config.notes) options.output.line(`Note: ${note}`);
  if (options.virtual) return runVirtual({ config, seed, output: options.output });
  return await runSimulation({
    config,
    seed,
    program: options.program,
    output: options.output,
    quiet: options.quiet,
    socketModel: options.socketModel,
    signal: options.signal,
  });
}

async function runAll(directory: string, options: CliOptions): Promise<number> {
  const configs = [];
  for (const standard of STANDARD_CONFIGS) {
    configs.push({ ...standard, config: await readConfig(join(directory, standard.file)) });
  }
  if (!options.virtual) await checkProgram(options.program);
  const rows: { name: string; result: RunResult }[] = [];
  const reports: IndexEntry[] = [];
  let group = "";
  for (const [index, entry] of configs.entries()) {
    if (options.signal.aborted) break;
    if (index > 0 && options.pauseS > 0) {
      await delay(options.pauseS * 1000, undefined, { signal: options.signal }).catch(() => {});
    }
    if (entry.group !== group) {
      group = entry.group;
      options.output.line(group);
    }
    const result = await runOne(entry.file, entry.config, options);
    const lines = [
      ...correctnessLines(result, options.style),
      ...(result.coursePassed ? performanceLines(result, options.style) : []),
      allModeLine(entry.description, result),
    ];
    for (const line of lines) options.output.line(line);
    if (!result.linearizability.linearizable) {
      options.output.line(`\t(ours: history NOT linearizable, seed ${result.seed})`);
    }
    rows.push({ name: entry.file, result });
    if (options.report !== undefined) {
      // Each report is written as its run ends, so an interrupted `all` keeps what it ran.
      const href = `${basename(entry.file, ".json")}.html`;
      await writeReport(join(options.report, href), renderReport({ name: entry.file, result }));
      reports.push({ name: entry.file, href, result });
    }
  }
  const coursePassed = rows.filter((row) => row.result.coursePassed).length;
  options.output.line(`Passed ${coursePassed} out of ${rows.length} tests`);
  options.output.line("");
  for (const line of summaryTable(rows)) options.output.line(line);
  if (options.report !== undefined) {
    const index = join(options.report, "index.html");
    await writeReport(index, renderIndex(reports));
    options.output.line(`Reports: ${index}`);
  }
  if (options.json) {
    const runs = rows.map(({ name, result }) => jsonReport(name, result));
    const passed = rows.length === configs.length && rows.every((row) => row.result.passed);
    console.log(JSON.stringify({ passed, runs }));
  }
  return rows.length === configs.length && rows.every((row) => row.result.passed) ? 0 : 1;
}

/**
 * Refuses a report path the permissions do not let us write, before a run that may last
 * minutes (`deno task start` may write only under `report/`).
 */
function checkWritable(path: string): void {
  if (Deno.permissions.querySync({ name: "write", path }).state !== "granted") {
    throw new Error(
      `Cannot start simulation as --report ${path} is not writable with the permissions given (deno task start may write only under report/, deno task sim anywhere)`,
    );
  }
}

/** Writes a report, creating its directory; the error names the path when it cannot. */
async function writeReport(path: string, html: string): Promise<void> {
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, html);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot write report ${path}: ${reason}`);
  }
}

async function readConfig(path: string): Promise<SimConfig> {
  try {
    return await loadConfig(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      const likely = path.includes("/") ? `${path}.json` : `configs/${path}.json`;
      const hint = path.endsWith(".json") ? "" : ` (a config is a file, such as ${likely})`;
      throw new Error(`Cannot start simulation as config ${path} does not exist${hint}`);
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new Error(
        `Cannot start simulation as ${path} is a directory: give one config file in it`,
      );
    }
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new (error.constructor as typeof Error)(`${path}: ${error.message}`);
    }
    throw error;
  }
}

function parseSeedFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) {
    throw new TypeError(`Cannot start simulation as --seed is ${text}: it must be an integer`);
  }
  return seed;
}

function parsePause(text: string | undefined): number {
  if (text === undefined) return PAUSE_BETWEEN_RUNS_S;
  const pauseS = Number(text);
  if (!Number.isFinite(pauseS) || pauseS < 0) {
    throw new RangeError(`Cannot start simulation as --pause is ${text}: it must be at least 0`);
  }
  return pauseS;
}

function fail(error: unknown): number {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT_USAGE;
}

if (import.meta.main) await runCommand(main);
