import assert from "node:assert/strict";
import {
  createLogger,
  LOG_LEVELS,
  type LogContext,
  type LogLevel,
  parseLogLevel,
  toRaftLogger,
} from "../lib/log.ts";

function capture(level?: LogLevel, context?: () => LogContext | undefined) {
  const lines: string[] = [];
  const logger = createLogger({
    ...(level === undefined ? {} : { level }),
    ...(context === undefined ? {} : { context }),
    write: (line) => lines.push(line),
  });
  return { logger, lines };
}

function logOneOfEach(logger: ReturnType<typeof createLogger>): void {
  for (const level of LOG_LEVELS) logger[level](`a ${level} line`);
}

Deno.test("logger writes only warnings and errors by default", () => {
  const { logger, lines } = capture();
  logOneOfEach(logger);
  assert.equal(logger.level, "warn");
  assert.deepEqual(lines, ["a error line", "a warn line"]);
});

Deno.test("logger writes each level and the ones more severe than it", () => {
  for (const [index, level] of LOG_LEVELS.entries()) {
    const { logger, lines } = capture(level);
    logOneOfEach(logger);
    assert.deepEqual(lines, LOG_LEVELS.slice(0, index + 1).map((written) => `a ${written} line`));
    assert.deepEqual(
      LOG_LEVELS.map((other) => logger.isEnabled(other)),
      LOG_LEVELS.map((_, i) => i <= index),
    );
  }
});

Deno.test("logger prefixes each line with id, term and role as they are when it is written", () => {
  let term = 6;
  let role = "candidate";
  const { logger, lines } = capture("info", () => ({ id: "0003", term, role }));
  logger.info("starting election");
  term = 7;
  role = "leader";
  logger.info("became leader at term 7");
  assert.deepEqual(lines, [
    "0003 t6 candidate: starting election",
    "0003 t7 leader: became leader at term 7",
  ]);
});

Deno.test("logger writes a bare line while the context is not known yet", () => {
  const { logger, lines } = capture("info", () => undefined);
  logger.info("listening");
  assert.deepEqual(lines, ["listening"]);
});

Deno.test("toRaftLogger hands the core's debug and info lines to the matching levels", () => {
  const { logger, lines } = capture("info");
  const raftLogger = toRaftLogger(logger);
  raftLogger("debug", "sent heartbeat");
  raftLogger("info", "granted vote");
  assert.deepEqual(lines, ["granted vote"]);
});

Deno.test("parseLogLevel accepts the four level names and refuses others", () => {
  for (const level of LOG_LEVELS) assert.equal(parseLogLevel(level), level);
  for (const text of ["", "DEBUG", "verbose", "warning", " info"]) {
    assert.throws(() => parseLogLevel(text), RangeError, text);
  }
});
