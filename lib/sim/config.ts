/**
 * Simulation configs: loading, validation and defaults (shared/PROTOCOL.md section 7).
 * A config that breaks a rule is refused before anything starts, with an error naming
 * the field and the allowed range.
 *
 * @module
 */

/** The event types of the course grader. */
export const COURSE_EVENT_TYPES = [
  "kill_leader",
  "kill_non_leader",
  "part_easy",
  "part_hard",
  "part_end",
] as const;

/**
 * Event types the course grader lacks, allowed only in configs with `"extensions": true`:
 * `kill_leader_on_put_ack` kills the leader the instant it acknowledges a put (that put
 * must survive); `part_leader` cuts exactly the current leader off from every other replica;
 * `part_no_quorum` is a `part_hard` whose majority side holds the dead replicas, so that with
 * one dead neither side has a live majority; `pause_leader` stops the leader's process group
 * (SIGSTOP) for `seconds`, then continues it (SIGCONT); `kill9_leader` kills the leader's
 * process group with SIGKILL, which it cannot catch.
 */
export const EXTENSION_EVENT_TYPES = [
  "kill_leader_on_put_ack",
  "part_leader",
  "part_no_quorum",
  "pause_leader",
  "kill9_leader",
] as const;

/** Event types that take a `seconds` field: how long the fault lasts. */
const TIMED_EVENT_TYPES: readonly string[] = ["pause_leader"];

/** A course event type. */
export type CourseEventType = typeof COURSE_EVENT_TYPES[number];
/** An extension event type. */
export type ExtensionEventType = typeof EXTENSION_EVENT_TYPES[number];
/** Any event type. */
export type EventType = CourseEventType | ExtensionEventType;

/** One scheduled fault. */
export interface SimEvent {
  type: EventType;
  /** Seconds after the first request (that is, after `start_wait`). */
  timeS: number;
  /** How long the fault lasts (`seconds`): given for `pause_leader` only. */
  durationS?: number;
}

/** The four graded metrics, in the course's order. */
export const METRICS = ["total_msgs", "failures", "duplicates", "median_latency"] as const;

/** A graded metric. */
export type Metric = typeof METRICS[number];

/** Thresholds `[bonus, full, partial]`: a value below `bonus` earns the bonus, and so on. */
export type Tiers = readonly [number, number, number];

/** A validated config with every default filled in. */
export interface SimConfig {
  /** Seconds over which the requests are spread (`lifetime`). */
  lifetimeS: number;
  /** Number of replicas, 3 to 21. */
  replicas: number;
  /** Number of request events. */
  requests: number;
  /** Probability that a request event is a get. */
  mix: number;
  /** Probability that a replica-to-replica message is dropped. */
  drops: number;
  /** Seconds before the first request (`start_wait`). */
  startWaitS: number;
  /** Seconds after the last request (`end_wait`). */
  endWaitS: number;
  /** The config's seed, or undefined when it names none. */
  seed: number | undefined;
  /** Counted messages at which the run stops as a packet storm. */
  maxPackets: number;
  /** Whether the config gave `max_packets` (the course prints it as a float then). */
  maxPacketsGiven: boolean;
  /** Scheduled faults, in config order. */
  events: SimEvent[];
  /** Whether the config may use extension events (`"extensions": true`). */
  extensions: boolean;
  /** `tests.maximum_get_fail_fraction`. */
  maxGetFailFraction: number;
  /** `tests.maximum_put_fail_fraction`. */
  maxPutFailFraction: number;
  /** `tests.maximum_get_generation_fail_fraction`. */
  maxGetGenerationFailFraction: number;
  /** `tests.maximum_appends_batched_fraction`. */
  maxAppendsBatchedFraction: number;
  /** Tier thresholds for each metric. */
  benchmarks: Record<Metric, Tiers>;
  /** Fields the course grader ignores although they look meaningful. */
  notes: string[];
}

/** The fraction checks' defaults (PROTOCOL.md section 5). */
const FRACTION_DEFAULTS = {
  maximum_get_fail_fraction: 0.5,
  maximum_put_fail_fraction: 0.5,
  maximum_get_generation_fail_fraction: 0.1,
  maximum_appends_batched_fraction: 0.5,
} as const;

/**
 * Validates a parsed config and fills in the defaults.
 *
 * @param raw The parsed JSON.
 * @returns The config.
 * @throws {TypeError} When a field has the wrong type.
 * @throws {RangeError} When a field is out of its range or missing.
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const benchmarks = { total_msgs: [1, 2, 3], failures: [1, 2, 3], duplicates: [1, 2, 3],
 *   median_latency: [1, 2, 3] };
 * const config = parseConfig({ lifetime: 10, replicas: 3, requests: 10, tests: { benchmarks } });
 * if (config.mix !== 0.8) throw new Error("default mix");
 * ```
 */
export function parseConfig(raw: unknown): SimConfig {
  const root = requireObject(raw, "config");
  const lifetimeS = Math.trunc(requireNumber(root, "lifetime", ""));
  checkRange("lifetime", lifetimeS, 5, Infinity);
  const replicas = Math.trunc(requireNumber(root, "replicas", ""));
  checkRange("replicas", replicas, 3, 21);
  const requests = Math.trunc(requireNumber(root, "requests", ""));
  checkRange("requests", requests, 0, Infinity);
  const extensions = optionalBoolean(root, "extensions");
  const tests = requireObject(root["tests"], "tests");
  return {
    lifetimeS,
    replicas,
    requests,
    mix: optionalNumber(root, "mix", "", 0, 1, 0.8),
    drops: optionalNumber(root, "drops", "", 0, 1, 0),
    startWaitS: optionalNumber(root, "start_wait", "", 0, lifetimeS, 5),
    endWaitS: optionalNumber(root, "end_wait", "", 0, lifetimeS, 2),
    seed: parseSeed(root["seed"]),
    maxPackets: optionalNumber(root, "max_packets", "", requests, 900000, 20000),
    maxPacketsGiven: root["max_packets"] !== undefined,
    events: parseEvents(root["events"], lifetimeS, extensions),
    extensions,
    maxGetFailFraction: fraction(tests, "maximum_get_fail_fraction"),
    maxPutFailFraction: fraction(tests, "maximum_put_fail_fraction"),
    maxGetGenerationFailFraction: fraction(tests, "maximum_get_generation_fail_fraction"),
    maxAppendsBatchedFraction: fraction(tests, "maximum_appends_batched_fraction"),
    benchmarks: parseBenchmarks(tests["benchmarks"]),
    notes: misplacedFractions(root),
  };
}

/**
 * Reads and validates a config file.
 *
 * @param path The file.
 * @returns The config.
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @throws {SyntaxError} When it is not JSON.
 * @throws {TypeError | RangeError} See {@linkcode parseConfig}.
 */
export async function loadConfig(path: string): Promise<SimConfig> {
  const text = await Deno.readTextFile(path);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(`Cannot start simulation as ${path} is not valid JSON: ${reason}`);
  }
  return parseConfig(raw);
}

type JsonObject = Record<string, unknown>;

function requireObject(value: unknown, field: string): JsonObject {
  if (value === undefined) {
    throw new RangeError(`Cannot start simulation as ${field} is missing: it is required`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Cannot start simulation as ${field} is ${show(value)}: it must be an object`,
    );
  }
  return value as JsonObject;
}

function requireNumber(object: JsonObject, key: string, prefix: string): number {
  const value = object[key];
  if (value === undefined) {
    throw new RangeError(
      `Cannot start simulation as ${prefix}${key} is missing: it is required`,
    );
  }
  return checkNumber(value, prefix + key);
}

function checkNumber(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(
      `Cannot start simulation as ${field} is ${show(value)}: it must be a number`,
    );
  }
  return value;
}

function checkRange(field: string, value: number, low: number, high: number): void {
  if (value >= low && value <= high) return;
  const range = high === Infinity ? `at least ${low}` : `between ${low} and ${high}`;
  throw new RangeError(`Cannot start simulation as ${field} is ${value}: it must be ${range}`);
}

function optionalNumber(
  object: JsonObject,
  key: string,
  prefix: string,
  low: number,
  high: number,
  fallback: number,
): number {
  if (object[key] === undefined) return fallback;
  const value = checkNumber(object[key], prefix + key);
  checkRange(prefix + key, value, low, high);
  return value;
}

function optionalBoolean(object: JsonObject, key: string): boolean {
  const value = object[key];
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(
      `Cannot start simulation as ${key} is ${show(value)}: it must be true or false`,
    );
  }
  return value;
}

function fraction(tests: JsonObject, key: keyof typeof FRACTION_DEFAULTS): number {
  return optionalNumber(tests, key, "tests.", 0, 1, FRACTION_DEFAULTS[key]);
}

function parseSeed(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`Cannot start simulation as seed is ${show(value)}: it must be an integer`);
  }
  return value;
}

function parseEvents(value: unknown, lifetimeS: number, extensions: boolean): SimEvent[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new TypeError(`Cannot start simulation as events is ${show(value)}: it must be a list`);
  }
  return value.map((item, index) => parseEvent(item, `events[${index}]`, lifetimeS, extensions));
}

function parseEvent(
  item: unknown,
  field: string,
  lifetimeS: number,
  extensions: boolean,
): SimEvent {
  const event = requireObject(item, field);
  const type = event["type"];
  const allowed: readonly string[] = extensions
    ? [...COURSE_EVENT_TYPES, ...EXTENSION_EVENT_TYPES]
    : COURSE_EVENT_TYPES;
  if (typeof type !== "string" || !allowed.includes(type)) {
    const extensionHint = !extensions && EXTENSION_EVENT_TYPES.some((t) => t === type)
      ? ` (${String(type)} is an extension: the config needs "extensions": true)`
      : "";
    throw new RangeError(
      `Cannot start simulation as ${field}.type is ${show(type)}: it must be one of ${
        allowed.join(", ")
      }${extensionHint}`,
    );
  }
  const timeS = requireNumber(event, "time", `${field}.`);
  checkRange(`${field}.time`, timeS, 0, lifetimeS);
  if (!TIMED_EVENT_TYPES.includes(type)) {
    if (event["seconds"] !== undefined) {
      throw new RangeError(
        `Cannot start simulation as ${field}.seconds is ${show(event["seconds"])}: only ${
          TIMED_EVENT_TYPES.join(", ")
        } takes seconds`,
      );
    }
    return { type: type as EventType, timeS };
  }
  // A pause must end before the requests do, so that the resumed leader still meets clients.
  const durationS = requireNumber(event, "seconds", `${field}.`);
  if (!(durationS > 0 && timeS + durationS <= lifetimeS)) {
    throw new RangeError(
      `Cannot start simulation as ${field}.seconds is ${durationS}: it must be above 0 and at most ${
        lifetimeS - timeS
      } (the lifetime left after its time)`,
    );
  }
  return { type: type as EventType, timeS, durationS };
}

function parseBenchmarks(value: unknown): Record<Metric, Tiers> {
  const benchmarks = requireObject(value, "tests.benchmarks");
  for (const key of Object.keys(benchmarks)) {
    if (!(METRICS as readonly string[]).includes(key)) {
      throw new RangeError(
        `Cannot start simulation as tests.benchmarks has ${key}: its keys must be ${
          METRICS.join(", ")
        }`,
      );
    }
  }
  const entries = METRICS.map((metric) => [metric, parseTiers(benchmarks[metric], metric)]);
  return Object.fromEntries(entries) as Record<Metric, Tiers>;
}

function parseTiers(value: unknown, metric: Metric): Tiers {
  const field = `tests.benchmarks.${metric}`;
  if (value === undefined) {
    throw new RangeError(
      `Cannot start simulation as ${field} is missing: it must be three numbers [bonus, full, partial]`,
    );
  }
  if (
    !Array.isArray(value) || value.length !== 3 ||
    !value.every((tier) => typeof tier === "number" && Number.isFinite(tier))
  ) {
    throw new RangeError(
      `Cannot start simulation as ${field} is ${
        show(value)
      }: it must be three numbers [bonus, full, partial]`,
    );
  }
  return [value[0], value[1], value[2]];
}

/** The course reads the fraction thresholds only under `tests`; say so when they sit elsewhere. */
function misplacedFractions(root: JsonObject): string[] {
  return Object.keys(FRACTION_DEFAULTS)
    .filter((key) => root[key] !== undefined)
    .map((key) =>
      `top-level ${key} is ignored (the course grader reads it only under "tests"): the default applies`
    );
}

function show(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
