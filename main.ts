/**
 * The replica's command line, as the course simulator starts it:
 *
 * ```
 * main.ts <port> <id> <peer id> [<peer id> ...] [--log-level debug|info|warn|error]
 * ```
 *
 * Runs until SIGTERM or SIGINT, then exits 0. A bad command line prints a usage
 * error and exits 2.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { LOG_LEVELS, parseLogLevel } from "./lib/log.ts";
import { type ReplicaOptions, runReplica } from "./lib/replica.ts";
import { BROADCAST, ID_PATTERN } from "./lib/raft/messages.ts";

const USAGE = `usage: 3700kvstore <port> <id> <peer id> [<peer id> ...] [--log-level ${
  LOG_LEVELS.join("|")
}]

  <port>      the simulator's UDP port on 127.0.0.1 (1-65535)
  <id>        this replica's id: 4 hex digits, e.g. 0000
  <peer id>   the other replicas' ids
  --log-level the least severe level logged to stderr (default: warn)`;

/**
 * Reads the replica's command line.
 *
 * @param args The arguments after the script name.
 * @returns The options for {@linkcode runReplica}, or `"help"` when help was asked for.
 * @throws {TypeError} For an unknown option or a missing option value.
 * @throws {RangeError} For a port, id or log level out of range, too few ids, or
 *   an id given twice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReplicaArgs } from "./main.ts";
 *
 * assert.deepEqual(parseReplicaArgs(["9000", "0000", "0001", "0002"]), {
 *   simulatorPort: 9000, id: "0000", peers: ["0001", "0002"], logLevel: "warn",
 * });
 * assert.throws(() => parseReplicaArgs(["9000", "0000"]), RangeError);
 * assert.throws(() => parseReplicaArgs(["9000"]), /as 1 argument was given: it needs a port/);
 * ```
 */
export function parseReplicaArgs(args: readonly string[]): ReplicaOptions | "help" {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      "log-level": { type: "string", default: "warn" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const [port, id, ...peers] = positionals;
  if (port === undefined || id === undefined || peers.length === 0) {
    throw new RangeError(
      `Cannot start replica as ${
        argumentsGiven(positionals.length)
      }: it needs a port, an id and at least one peer id`,
    );
  }
  const simulatorPort = readPort(port);
  const replicaId = readId(id, "id");
  const peerIds = peers.map((peer) => readId(peer, "peer id"));
  rejectDuplicates([replicaId, ...peerIds]);
  return {
    simulatorPort,
    id: replicaId,
    peers: peerIds,
    logLevel: parseLogLevel(values["log-level"]),
  };
}

function argumentsGiven(count: number): string {
  if (count === 0) return "no argument was given";
  return count === 1 ? "1 argument was given" : `${count} arguments were given`;
}

function readPort(text: string): number {
  const port = Number(text);
  if (!/^[0-9]+$/.test(text) || port < 1 || port > 65_535) {
    throw new RangeError(
      `Cannot start replica as port is "${text}": it must be between 1 and 65535`,
    );
  }
  return port;
}

function readId(text: string, name: string): string {
  if (!ID_PATTERN.test(text) || text.toUpperCase() === BROADCAST) {
    throw new RangeError(
      `Cannot start replica as ${name} is "${text}": it must be 4 hex digits other than ${BROADCAST}`,
    );
  }
  return text;
}

function rejectDuplicates(ids: readonly string[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    const key = id.toUpperCase();
    if (seen.has(key)) {
      throw new RangeError(`Cannot start replica as id ${id} is given twice: ids must be distinct`);
    }
    seen.add(key);
  }
}

/** Stops the replica on SIGTERM (the simulator's kill) and SIGINT (Ctrl-C). */
async function runUntilSignalled(options: ReplicaOptions): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  try {
    await runReplica({ ...options, signal: controller.signal });
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
  }
}

async function main(args: readonly string[]): Promise<number> {
  let parsed: ReplicaOptions | "help";
  try {
    parsed = parseReplicaArgs(args);
  } catch (error) {
    console.error(
      `3700kvstore: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`,
    );
    return 2;
  }
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  try {
    await runUntilSignalled(parsed);
    return 0;
  } catch (error) {
    console.error(`3700kvstore: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
