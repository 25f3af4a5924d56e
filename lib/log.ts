/**
 * The project's one logger: leveled, one fixed line shape, to stderr. Quiet by
 * default (warnings and errors only), because the course simulator prints every
 * line a replica writes.
 *
 * A line with a context reads `0003 t7 leader: became leader at term 7`:
 * replica id, term, role, then the event.
 *
 * @module
 */

import type { RaftLogger } from "./raft/options.ts";

/** Severity of a log line, most severe first. */
export type LogLevel = "error" | "warn" | "info" | "debug";

/** Every {@linkcode LogLevel}, most severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

/** Who is speaking: prefixed to every line. */
export interface LogContext {
  /** The replica's id. */
  id: string;
  /** Its current term. */
  term: number;
  /** Its role, e.g. `"leader"`. */
  role: string;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /**
   * The least severe level written; lines below it are dropped.
   * @default {"warn"}
   */
  level?: LogLevel;
  /**
   * Read for every line written, so the prefix shows the state at that moment.
   * Lines have no prefix when absent or when it returns `undefined`.
   */
  context?: () => LogContext | undefined;
  /**
   * Where finished lines (without newline) go.
   * @default {writes the line and a newline to stderr}
   */
  write?: (line: string) => void;
}

/** A leveled logger; see {@linkcode createLogger}. */
export interface Logger {
  /** The least severe level this logger writes. */
  readonly level: LogLevel;
  /** Whether lines of `level` are written, to skip building costly lines. */
  isEnabled(level: LogLevel): boolean;
  /** Something failed that should not have. */
  error(line: string): void;
  /** Something odd that the replica survives. */
  warn(line: string): void;
  /** A notable event, e.g. a role change. */
  info(line: string): void;
  /** Detail for debugging, e.g. a dropped datagram. */
  debug(line: string): void;
}

/**
 * Creates a logger.
 *
 * @param options Level, context and sink.
 * @returns The logger.
 *
 * @example A replica's line
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./log.ts";
 *
 * const lines: string[] = [];
 * const logger = createLogger({
 *   level: "info",
 *   context: () => ({ id: "0003", term: 7, role: "leader" }),
 *   write: (line) => lines.push(line),
 * });
 * logger.info("became leader at term 7");
 * logger.debug("not written at level info");
 * assert.deepEqual(lines, ["0003 t7 leader: became leader at term 7"]);
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { level = "warn", context, write = writeToStderr } = options;
  const threshold = LOG_LEVELS.indexOf(level);
  const isEnabled = (lineLevel: LogLevel) => LOG_LEVELS.indexOf(lineLevel) <= threshold;
  const emit = (lineLevel: LogLevel, line: string) => {
    if (!isEnabled(lineLevel)) return;
    const speaker = context?.();
    write(speaker === undefined ? line : `${speaker.id} t${speaker.term} ${speaker.role}: ${line}`);
  };
  return {
    level,
    isEnabled,
    error: (line) => emit("error", line),
    warn: (line) => emit("warn", line),
    info: (line) => emit("info", line),
    debug: (line) => emit("debug", line),
  };
}

/**
 * Adapts a logger to the Raft core's `logger` option (`lib/raft/options.ts`).
 *
 * @param logger The logger the core's lines go to.
 * @returns A {@linkcode RaftLogger} writing through `logger`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger, toRaftLogger } from "./log.ts";
 *
 * const lines: string[] = [];
 * const raftLogger = toRaftLogger(createLogger({ level: "info", write: (line) => lines.push(line) }));
 * raftLogger("info", "granted vote to 0001");
 * raftLogger("debug", "not written at level info");
 * assert.deepEqual(lines, ["granted vote to 0001"]);
 * ```
 */
export function toRaftLogger(logger: Logger): RaftLogger {
  return (level, line) => logger[level](line);
}

/**
 * Reads a log level given on a command line.
 *
 * @param text The level's name.
 * @returns The level.
 * @throws {RangeError} When `text` names no level.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLogLevel } from "./log.ts";
 *
 * assert.equal(parseLogLevel("debug"), "debug");
 * assert.throws(() => parseLogLevel("loud"), RangeError);
 * ```
 */
export function parseLogLevel(text: string): LogLevel {
  const level = LOG_LEVELS.find((candidate) => candidate === text);
  if (level === undefined) {
    throw new RangeError(
      `Cannot set log level as it is "${text}": it must be one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  return level;
}

const lineEncoder = new TextEncoder();

function writeToStderr(line: string): void {
  const bytes = lineEncoder.encode(`${line}\n`);
  try {
    for (let written = 0; written < bytes.length;) {
      written += Deno.stderr.writeSync(bytes.subarray(written));
    }
  } catch {
    // stderr is gone (the simulator closed its pipe): there is nowhere left to report to.
  }
}
