/**
 * The replica's shell: the only place with a socket, a clock and randomness. It
 * says hello to the simulator, feeds each validated datagram to the key-value
 * server ({@linkcode KvServer.step}), calls {@linkcode KvServer.tick} when its
 * deadline comes, and sends what it hands back in {@linkcode KvServer.ready}.
 *
 * @module
 */

import { type InboundMessage, isClientRequest, type OutboundMessage } from "./kv/messages.ts";
import { KvServer } from "./kv/server.ts";
import { createLogger, type Logger, type LogLevel, toRaftLogger } from "./log.ts";
import { decodeDatagram, type DecodeResult, encodeMessage } from "./net/codec.ts";
import { UdpTransport } from "./net/udp.ts";
import { BROADCAST, type Id } from "./raft/messages.ts";
import { WarmPath } from "./warm_path.ts";

/** Options for {@linkcode runReplica}. */
export interface ReplicaOptions {
  /** The simulator's UDP port on 127.0.0.1, where every datagram goes. */
  simulatorPort: number;
  /** This replica's id: four hex digits. */
  id: Id;
  /** The other replicas' ids. */
  peers: readonly Id[];
  /**
   * The least severe level logged to stderr.
   * @default {"warn"}
   */
  logLevel?: LogLevel;
  /**
   * What runs every few milliseconds while requests flow, to keep the datagram
   * path in the processor's caches (tests pass one that counts its runs).
   * @default {a `WarmPath` when the cluster has at most `WARM_REPLICAS_PER_CORE` replicas a core, else none}
   */
  warmPath?: Pick<WarmPath, "run">;
  /** Stops the replica: the socket closes and {@linkcode runReplica} resolves. */
  signal?: AbortSignal;
}

/** The longest delay `setTimeout` takes; a longer one would fire at once. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * How much sooner than a deadline the shell asks its timer to fire. Deno's
 * timers tick once a millisecond and fire about 1.1 ms after their delay
 * (measured: 1.12 to 1.33 ms late for delays of 2 to 10 ms, p10 to p90, and
 * never sooner than 2.1 ms). With the delay rounded up to whole milliseconds
 * as well, a hedge due 1.4 ms after an acknowledgement went out 1.8 ms late;
 * asked 1 ms sooner, 0.75 ms late. A timer that still fires before the
 * deadline sets itself again for the rest: 2 of 160 timers of 1.4 to 5.2 ms
 * did, and 6 of 40 of 40.6 ms.
 */
const TIMER_LEAD_MS = 1;

/**
 * How often the warm path ({@linkcode WarmPath}) runs while requests flow. An
 * interval of 2 ms fires every 2 to 3 ms here; run every 2 ms, a follower's
 * AppendEntries path took 34 µs at the median, every 3 ms 89 µs, after a 75 ms
 * pause 148 to 183 µs (BENCHMARKS.md). A run takes 10 to 50 µs alone, but live
 * the wake-ups cost more: 2 to 5 % of a core per replica while requests flow
 * (measured on simple-2, BENCHMARKS.md). Each replica warms only its own
 * role's path, which took a quarter less CPU than warming both and answered
 * puts as fast.
 */
const WARM_INTERVAL_MS = 2;

/**
 * How long after the last client request or AppendEntries carrying entries the
 * warm path keeps running: longer than the gaps between a course config's
 * requests (up to 150 ms in advanced-3), and nothing once they stop; heartbeats
 * alone do not start it.
 */
const WARM_WINDOW_MS = 300;

/**
 * Most replicas per processor core for which the warm path runs. Each run costs
 * CPU, which a machine running more processes than it has cores takes from the
 * replicas' real work. `simple-2` with more replicas on 2 cores, warm path on
 * and off alternating (BENCHMARKS.md, "How many replicas a core the warm path
 * pays for"): put ok p50 lower with it at 9 and 13 replicas (by 0.5 to 0.9 ms),
 * mixed at 17, higher at 21, where it also slowed gets.
 */
const WARM_REPLICAS_PER_CORE = 7;

/**
 * When a tick or collecting the core's output failed (a bug, logged), the timer
 * fires again after this long, so that a replica which hears nothing (cut off
 * alone) keeps ticking instead of waiting for a datagram; a bug that persists
 * is logged ten times a second rather than silencing the replica. A failed
 * tick leaves the core's deadline where it was, due already: adopted as it is,
 * the timer fired hundreds of times a second, each time with an error line
 * (tests/replica_test.ts).
 */
const FAILURE_RETRY_MS = 100;

/**
 * How long the shell's timer waits for a deadline: {@linkcode TIMER_LEAD_MS}
 * sooner, in whole milliseconds, never negative nor beyond what `setTimeout`
 * takes. The virtual simulator (`lib/sim/virtual.ts`) arms its model of this
 * timer with the same delays.
 *
 * @param deadline When the core wants `tick`, on the `now` clock.
 * @param now The time now.
 * @returns The delay to pass to `setTimeout`, in milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timerDelayMs } from "./replica.ts";
 *
 * assert.equal(timerDelayMs(103.4, 100), 3);
 * assert.equal(timerDelayMs(100.5, 100), 0);
 * ```
 */
export function timerDelayMs(deadline: number, now: number): number {
  return Math.min(MAX_TIMER_DELAY_MS, Math.max(0, Math.ceil(deadline - now - TIMER_LEAD_MS)));
}

/**
 * Decodes a datagram from the simulator and keeps it if this replica takes it: a
 * valid message addressed to it (or to every replica), from a client or from one of
 * its peers. The shell steps what it keeps; the virtual simulator
 * (`lib/sim/virtual.ts`) filters its replicas' datagrams with it too.
 *
 * @param payload The datagram's bytes.
 * @param id This replica's id.
 * @param peers The other replicas' ids.
 * @returns The message, or why it was dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { admitDatagram } from "./replica.ts";
 *
 * const peers = new Set(["0001", "0002"]);
 * const get = { src: "0015", dst: "0000", leader: "FFFF", type: "get", MID: "m1", key: "k" };
 * const bytes = (message: object) => new TextEncoder().encode(JSON.stringify(message));
 * assert.ok(admitDatagram(bytes(get), "0000", peers).ok);
 * assert.equal(admitDatagram(bytes({ ...get, dst: "0001" }), "0000", peers).ok, false);
 * ```
 */
export function admitDatagram(
  payload: Uint8Array,
  id: Id,
  peers: ReadonlySet<Id>,
): DecodeResult {
  const decoded = decodeDatagram(payload);
  if (!decoded.ok) return { ok: false, reason: `datagram: ${decoded.reason}` };
  const { message } = decoded;
  if (message.dst !== id && message.dst !== BROADCAST) {
    return {
      ok: false,
      reason: `${message.type} from ${message.src}: addressed to ${message.dst}`,
    };
  }
  if (!isClientRequest(message) && !peers.has(message.src)) {
    return { ok: false, reason: `${message.type} from ${message.src}: not a peer` };
  }
  return decoded;
}

/**
 * Runs one replica until `signal` aborts: binds a UDP socket on 127.0.0.1, sends
 * hello to the simulator, then serves the protocol of PROTOCOL.md. Malformed
 * datagrams, datagrams from anywhere but the simulator and peer messages from
 * ids that are not peers are dropped (logged at debug level); none of them can
 * stop the replica.
 *
 * @param options Where the simulator is, who we are, and how to stop.
 * @returns Resolves once the replica has stopped and its socket is closed.
 * @throws {Error} When the socket cannot be bound or stops receiving.
 *
 * @example Running a replica until told to stop
 * ```ts ignore
 * import { runReplica } from "./replica.ts";
 *
 * const controller = new AbortController();
 * Deno.addSignalListener("SIGTERM", () => controller.abort());
 * await runReplica({ simulatorPort: 9000, id: "0000", peers: ["0001", "0002"], signal: controller.signal });
 * ```
 */
export async function runReplica(options: ReplicaOptions): Promise<void> {
  const { simulatorPort, id, peers, logLevel = "warn", signal } = options;
  const warmPath = options.warmPath ?? defaultWarmPath(peers.length + 1);
  if (signal?.aborted) return;
  let core: KvServer["core"] | undefined;
  const logger = createLogger({
    level: logLevel,
    context: () => core && { id: core.id, term: core.currentTerm, role: core.role },
  });
  const transport = UdpTransport.open({
    simulatorPort,
    onForeignDatagram: (from) =>
      logger.debug(`dropped datagram from ${from.hostname}:${from.port}: not the simulator`),
  });
  const stopped = new AbortController();
  const stop = () => stopped.abort();
  signal?.addEventListener("abort", stop, { once: true });
  // Closing the socket ends the receive loop; the abort also cancels the pending timer.
  stopped.signal.addEventListener("abort", () => transport.close(), { once: true });
  try {
    await transport.send(
      encodeMessage({ src: id, dst: BROADCAST, leader: BROADCAST, type: "hello" }),
    );
    const server = new KvServer({
      id,
      peers,
      now: performance.now(),
      random: Math.random,
      logger: toRaftLogger(logger),
    });
    core = server.core;
    logger.info(`listening on 127.0.0.1:${transport.localPort}, simulator at ${simulatorPort}`);
    await new Shell(server, transport, logger, peers, warmPath, stopped.signal).run();
  } catch (error) {
    // Told to stop mid-send or mid-receive: the closed socket's error is expected.
    if (signal?.aborted) return;
    throw error;
  } finally {
    signal?.removeEventListener("abort", stop);
    stop();
  }
}

/**
 * The receive loop, the deadline timer and the warm path of a running replica,
 * and the state they share.
 */
class Shell {
  readonly #server: KvServer;
  readonly #transport: UdpTransport;
  readonly #logger: Logger;
  readonly #peers: ReadonlySet<Id>;
  readonly #stopped: AbortSignal;
  /** When the core next wants `tick`, as last reported by `ready()`. */
  #deadline = Infinity;
  /** The pending timer, and the time it fires at (`Infinity` when none is set). */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  /**
   * Undefined when off, and once a run of it failed: it is an optimisation, and a
   * bug must not repeat.
   */
  #warmPath: Pick<WarmPath, "run"> | undefined;
  #warmTimer: ReturnType<typeof setInterval> | undefined;
  /** When the last client request or AppendEntries with entries came. */
  #lastWorkAt = -Infinity;

  constructor(
    server: KvServer,
    transport: UdpTransport,
    logger: Logger,
    peers: readonly Id[],
    warmPath: Pick<WarmPath, "run"> | undefined,
    stopped: AbortSignal,
  ) {
    this.#server = server;
    this.#transport = transport;
    this.#logger = logger;
    this.#peers = new Set(peers);
    this.#warmPath = warmPath;
    this.#stopped = stopped;
    stopped.addEventListener("abort", () => {
      clearTimeout(this.#timer);
      clearInterval(this.#warmTimer);
    }, { once: true });
  }

  /** Serves datagrams until the socket closes, ticking the core at its deadlines. */
  async run(): Promise<void> {
    await this.#flush();
    for await (const payload of this.#transport) {
      this.#guard("a datagram", () => this.#handleDatagram(payload));
      await this.#flush();
    }
  }

  /**
   * Makes the timer fire by `deadline`. A deadline earlier than the pending timer
   * replaces it; a later one leaves it, and when it fires early it sets itself for
   * the rest. Most messages push the deadline back (an acknowledgement moves the
   * leader's retransmit time, an AppendEntries the follower's election timeout), so
   * they cost no timer call at all. A plain timer rather than an abortable sleep:
   * aborting node's `setTimeout` promise builds an `AbortError` with a stack trace,
   * which on the leader took about a sixth of its CPU, once per put.
   */
  #arm(deadline: number): void {
    this.#deadline = deadline;
    if (deadline >= this.#timerAt || this.#stopped.aborted) return;
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(() => this.#onTimer(), timerDelayMs(deadline, performance.now()));
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    if (now < this.#deadline) return this.#arm(this.#deadline);
    const ticked = this.#guard("tick", () => this.#server.tick(now));
    // Not awaited: a send's failure is logged by `#send`, and the next datagram need not wait.
    void this.#flush(ticked ? -Infinity : now + FAILURE_RETRY_MS);
  }

  #handleDatagram(payload: Uint8Array): void {
    const admitted = admitDatagram(payload, this.#server.id, this.#peers);
    if (!admitted.ok) return this.#logger.debug(`dropped ${admitted.reason}`);
    const now = performance.now();
    if (carriesWork(admitted.message)) this.#keepWarm(now);
    this.#server.step(admitted.message, now);
  }

  /** Runs the warm path every {@linkcode WARM_INTERVAL_MS} from now until the window passes. */
  #keepWarm(now: number): void {
    this.#lastWorkAt = now;
    if (this.#warmTimer !== undefined || this.#warmPath === undefined) return;
    if (this.#stopped.aborted) return;
    this.#warmTimer = setInterval(() => this.#onWarmTimer(), WARM_INTERVAL_MS);
  }

  #onWarmTimer(): void {
    const sinceWorkMs = performance.now() - this.#lastWorkAt;
    if (sinceWorkMs > WARM_WINDOW_MS || this.#warmPath === undefined) {
      clearInterval(this.#warmTimer);
      this.#warmTimer = undefined;
      return;
    }
    // A request or entries handled within the last millisecond left the path warm.
    if (sinceWorkMs < 1) return;
    try {
      this.#warmPath.run(this.#server.core.role === "leader");
    } catch (error) {
      this.#warmPath = undefined;
      this.#logger.error(`warm path failed, and stays off: ${describeError(error)}`);
    }
  }

  /**
   * Handles one input; a bug it hits is logged rather than killing the replica.
   * Returns whether the input was handled without one.
   */
  #guard(input: string, handle: () => void): boolean {
    try {
      handle();
      return true;
    } catch (error) {
      this.#logger.error(`failed on ${input}: ${describeError(error)}`);
      return false;
    }
  }

  /**
   * Drains the server's output: sends its messages and adopts its deadline. The
   * sends start together rather than one after another completes, so the last
   * follower's AppendEntries and a client's ok do not wait for earlier sends. A
   * bug hit while collecting the output is logged and sends nothing this time,
   * and the timer is kept (see {@linkcode FAILURE_RETRY_MS}).
   *
   * @param notBefore The timer fires no sooner than this, whatever the core's
   * deadline (after a failed tick).
   */
  async #flush(notBefore = -Infinity): Promise<void> {
    let ready: ReturnType<KvServer["ready"]> | undefined;
    this.#guard("ready", () => ready = this.#server.ready());
    if (ready === undefined) {
      return this.#arm(Math.max(this.#deadline, performance.now() + FAILURE_RETRY_MS));
    }
    const { messages, deadline } = ready;
    // Sends first: the replies and AppendEntries of this input need not wait for the timer.
    const sent = Promise.all(messages.map((message) => this.#send(message)));
    this.#arm(Math.max(deadline, notBefore));
    await sent;
  }

  async #send(message: OutboundMessage): Promise<void> {
    try {
      await this.#transport.send(encodeMessage(message));
    } catch (error) {
      // Sends cut short by a stop are expected: a killed replica stays quiet.
      if (this.#stopped.aborted) return;
      this.#logger.warn(
        `could not send ${message.type} to ${message.dst}: ${describeError(error)}`,
      );
    }
  }
}

/** A warm path, unless the cluster has more replicas than the cores can warm. */
function defaultWarmPath(replicas: number): WarmPath | undefined {
  const cores = navigator.hardwareConcurrency;
  return replicas <= WARM_REPLICAS_PER_CORE * cores ? new WarmPath() : undefined;
}

/** Whether a message is a request or entries: what a put or a get runs through. */
function carriesWork(message: InboundMessage): boolean {
  return isClientRequest(message) ||
    (message.type === "append_entries" && message.entries.length > 0);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
