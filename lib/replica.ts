/**
 * The replica's shell: the only place with a socket, a clock and randomness. It
 * says hello to the simulator, feeds each validated datagram to the key-value
 * server ({@linkcode KvServer.step}), calls {@linkcode KvServer.tick} when its
 * deadline comes, and sends what it hands back in {@linkcode KvServer.ready}.
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import { isClientRequest, type OutboundMessage } from "./kv/messages.ts";
import { KvServer } from "./kv/server.ts";
import { createLogger, type Logger, type LogLevel, toRaftLogger } from "./log.ts";
import { decodeDatagram, encodeMessage } from "./net/codec.ts";
import { UdpTransport } from "./net/udp.ts";
import { BROADCAST, type Id } from "./raft/messages.ts";

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
  /** Stops the replica: the socket closes and {@linkcode runReplica} resolves. */
  signal?: AbortSignal;
}

/** The reason the timer loop is woken with: a constant, so no exception is built per wake. */
const WAKE = Symbol("deadline moved earlier");

/** The longest delay `setTimeout` takes; a longer one would fire at once. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

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
  // Closing the socket ends the receive loop; the abort ends the timer loop.
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
    await new Shell(server, transport, logger, peers, stopped).run();
  } catch (error) {
    // Told to stop mid-send or mid-receive: the closed socket's error is expected.
    if (signal?.aborted) return;
    throw error;
  } finally {
    signal?.removeEventListener("abort", stop);
    stop();
  }
}

/** The two loops of a running replica, and the state they share. */
class Shell {
  readonly #server: KvServer;
  readonly #transport: UdpTransport;
  readonly #logger: Logger;
  readonly #peers: ReadonlySet<Id>;
  readonly #stopped: AbortController;
  /** When the core next wants `tick`, as last reported by `ready()`. */
  #deadline = 0;
  /** The deadline the timer loop's current sleep ends at. */
  #sleepUntil = Infinity;
  /** Aborted to wake the timer loop early: when the deadline moves earlier, or on stop. */
  #wake = new AbortController();

  constructor(
    server: KvServer,
    transport: UdpTransport,
    logger: Logger,
    peers: readonly Id[],
    stopped: AbortController,
  ) {
    this.#server = server;
    this.#transport = transport;
    this.#logger = logger;
    this.#peers = new Set(peers);
    this.#stopped = stopped;
    stopped.signal.addEventListener("abort", () => this.#wake.abort(), { once: true });
  }

  /** Runs both loops until stopped; a loop that ends or fails stops the other. */
  async run(): Promise<void> {
    await this.#flush();
    const loops = [this.#receiveLoop(), this.#timerLoop()].map((loop) =>
      loop.finally(() => this.#stopped.abort())
    );
    for (const outcome of await Promise.allSettled(loops)) {
      if (outcome.status === "rejected") throw outcome.reason;
    }
  }

  async #receiveLoop(): Promise<void> {
    for await (const payload of this.#transport) {
      this.#guard("a datagram", () => this.#handleDatagram(payload));
      await this.#flush();
    }
  }

  /**
   * Sleeps until the core's deadline, then ticks it. A message handled meanwhile
   * may move the deadline: when earlier, `#flush` aborts the sleep and it starts
   * over; when later (most messages push it back), the sleep ends early and
   * sleeps again for the rest, so messages cost no timer churn.
   */
  async #timerLoop(): Promise<void> {
    while (!this.#stopped.signal.aborted) {
      this.#wake = new AbortController();
      this.#sleepUntil = this.#deadline;
      const delayMs = Math.min(
        MAX_TIMER_DELAY_MS,
        Math.max(0, Math.ceil(this.#deadline - performance.now())),
      );
      try {
        // Always a real timer, even for 0 ms, so this loop never starves the receive loop.
        await sleep(delayMs, undefined, { signal: this.#wake.signal });
      } catch {
        continue;
      }
      const now = performance.now();
      if (now < this.#deadline) continue;
      this.#guard("tick", () => this.#server.tick(now));
      await this.#flush();
    }
  }

  #handleDatagram(payload: Uint8Array): void {
    const decoded = decodeDatagram(payload);
    if (!decoded.ok) {
      this.#logger.debug(`dropped datagram: ${decoded.reason}`);
      return;
    }
    const { message } = decoded;
    if (message.dst !== this.#server.id && message.dst !== BROADCAST) {
      this.#logger.debug(
        `dropped ${message.type} from ${message.src}: addressed to ${message.dst}`,
      );
      return;
    }
    if (!isClientRequest(message) && !this.#peers.has(message.src)) {
      this.#logger.debug(`dropped ${message.type} from ${message.src}: not a peer`);
      return;
    }
    this.#server.step(message, performance.now());
  }

  /** Handles one input; a bug it hits is logged rather than killing the replica. */
  #guard(input: string, handle: () => void): void {
    try {
      handle();
    } catch (error) {
      this.#logger.error(`failed on ${input}: ${describeError(error)}`);
    }
  }

  /**
   * Drains the server's output: sends its messages and adopts its deadline. The
   * sends start together rather than one after another completes, so the last
   * follower's AppendEntries and a client's ok do not wait for earlier sends. A
   * bug hit while collecting the output is logged and sends nothing this time.
   */
  async #flush(): Promise<void> {
    let ready: ReturnType<KvServer["ready"]> | undefined;
    this.#guard("ready", () => ready = this.#server.ready());
    if (ready === undefined) return;
    const { messages, deadline } = ready;
    // Sends first: waking the timer loop costs more than a send, and the replies
    // and AppendEntries of this input should not wait for it.
    const sent = Promise.all(messages.map((message) => this.#send(message)));
    this.#deadline = deadline;
    if (deadline < this.#sleepUntil) {
      this.#sleepUntil = deadline;
      this.#wake.abort(WAKE);
    }
    await sent;
  }

  async #send(message: OutboundMessage): Promise<void> {
    try {
      await this.#transport.send(encodeMessage(message));
    } catch (error) {
      // Sends cut short by a stop are expected: a killed replica stays quiet.
      if (this.#stopped.signal.aborted) return;
      this.#logger.warn(
        `could not send ${message.type} to ${message.dst}: ${describeError(error)}`,
      );
    }
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
