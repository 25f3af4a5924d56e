/**
 * A stand-in for the course simulator, for end-to-end tests of real replica
 * processes: one UDP socket per replica on 127.0.0.1 (its port is the replica's
 * `<port>` argument), routing of peer messages by `dst` (`FFFF` to every other
 * replica), and one client that follows redirects. Every datagram a replica
 * sends is checked against the protocol's envelope rules (PROTOCOL.md section 2).
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import type { ClientReply } from "../../lib/kv/messages.ts";
import { BROADCAST, type Id, ID_PATTERN } from "../../lib/raft/messages.ts";

/** The launcher under test. */
export const LAUNCHER = new URL("../../3700kvstore", import.meta.url).pathname;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options for {@linkcode ReplicaCluster.start}. */
export interface ReplicaClusterOptions {
  /**
   * How many replicas to start, with ids `0000`, `0001`, ...
   * @default {3}
   */
  size?: number;
  /**
   * Which replicas to start; the others are routed to but never run.
   * @default {all of them}
   */
  running?: readonly Id[];
  /** Extra arguments for every replica, e.g. `["--log-level", "debug"]`. */
  extraArgs?: readonly string[];
  /**
   * The executable to start each replica with.
   * @default {LAUNCHER}
   */
  executable?: string;
}

/** One replica process and the simulator socket that serves it. */
export interface ReplicaHandle {
  /** The replica's id. */
  id: Id;
  /** The socket whose port the replica was given. */
  socket: Deno.DatagramConn;
  /** The replica's process, undefined when not running. */
  process: Deno.ChildProcess | undefined;
  /** Where the replica sends from, learnt from its first datagram. */
  address: Deno.NetAddr | undefined;
  /** Every datagram the replica sent, parsed, in order. */
  sent: Record<string, unknown>[];
  /** Set when the process has exited. */
  status: Deno.CommandStatus | undefined;
  /** Everything it wrote to stdout and stderr, complete once it has exited. */
  output: Promise<{ stdout: string; stderr: string }>;
}

/** A client request for {@linkcode ReplicaCluster.request}. */
export type Request = { type: "get"; key: string } | { type: "put"; key: string; value: string };

/** A running cluster of replica processes behind a test simulator; see the module doc. */
export class ReplicaCluster {
  /** Every replica's id, in order. */
  readonly ids: readonly Id[];
  /** The test client's id: the first client id the course simulator would use. */
  readonly clientId: Id;
  /** Replicas by id. */
  readonly replicas: ReadonlyMap<Id, ReplicaHandle>;
  /** Datagrams from replicas that break the protocol, described. */
  readonly violations: string[] = [];
  /** Replies to the client by MID. */
  readonly replies = new Map<string, ClientReply>();
  /** The highest `term` field seen in any replica's message. */
  maxTermSeen = 0;
  readonly #routers: Promise<void>[] = [];
  readonly #waiters = new Set<() => void>();
  #nextMid = 0;

  private constructor(ids: Id[], replicas: Map<Id, ReplicaHandle>) {
    this.ids = ids;
    this.clientId = (ids.length + 16).toString(16).toUpperCase().padStart(4, "0");
    this.replicas = replicas;
  }

  /**
   * Opens the simulator sockets and starts the replicas through the launcher, each
   * in its own process group.
   *
   * @param options Size, which replicas run, extra arguments.
   * @returns The cluster; {@linkcode ReplicaCluster.close} it in a `finally`.
   */
  static start(options: ReplicaClusterOptions = {}): ReplicaCluster {
    const { size = 3, extraArgs = [], executable = LAUNCHER } = options;
    const ids = Array.from(
      { length: size },
      (_, i) => i.toString(16).toUpperCase().padStart(4, "0"),
    );
    const running = new Set(options.running ?? ids);
    const replicas = new Map<Id, ReplicaHandle>();
    for (const id of ids) {
      const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      const port = (socket.addr as Deno.NetAddr).port;
      const peers = ids.filter((peer) => peer !== id);
      const process = running.has(id)
        ? spawnReplica(executable, [String(port), id, ...peers, ...extraArgs])
        : undefined;
      const handle: ReplicaHandle = {
        id,
        socket,
        process,
        address: undefined,
        sent: [],
        status: undefined,
        output: process === undefined
          ? Promise.resolve({ stdout: "", stderr: "" })
          : collectOutput(process),
      };
      process?.status.then((status) => handle.status = status);
      replicas.set(id, handle);
    }
    const cluster = new ReplicaCluster(ids, replicas);
    for (const handle of replicas.values()) cluster.#routers.push(cluster.#route(handle));
    return cluster;
  }

  /**
   * The replica a majority of the cluster names in its latest `leader` field, if any.
   *
   * @returns Its id, or `undefined` while there is no agreement.
   */
  agreedLeader(): Id | undefined {
    const votes = new Map<Id, number>();
    for (const handle of this.replicas.values()) {
      const leader = handle.sent.findLast((message) => message.type !== "hello")?.leader;
      if (typeof leader === "string" && leader !== BROADCAST) {
        votes.set(leader, (votes.get(leader) ?? 0) + 1);
      }
    }
    const majority = Math.floor(this.ids.length / 2) + 1;
    return [...votes].find(([, count]) => count >= majority)?.[0];
  }

  /**
   * Waits until `probe` returns a value, re-checking after every datagram.
   *
   * @param probe Returns the awaited value, or `undefined` while it is not there.
   * @param timeoutMs How long to wait at most.
   * @returns The value, or `undefined` on timeout.
   */
  async waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) return undefined;
      await this.#nextDatagram(remainingMs);
    }
  }

  /**
   * Like {@linkcode ReplicaCluster.waitFor}, but a timeout is an error.
   *
   * @param probe Returns the awaited value, or `undefined` while it is not there.
   * @param timeoutMs How long to wait at most.
   * @param what What is awaited, for the error.
   * @returns The value.
   * @throws {Error} On timeout.
   */
  async expect<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const value = await this.waitFor(probe, timeoutMs);
    if (value === undefined) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    return value;
  }

  /**
   * Sends a raw datagram to a replica from its simulator socket.
   *
   * @param id The replica.
   * @param payload The bytes, or a value to send as JSON.
   */
  async sendRaw(id: Id, payload: Uint8Array | unknown): Promise<void> {
    const handle = this.#handle(id);
    if (handle.address === undefined) throw new Error(`Replica ${id} has not said hello`);
    const bytes = payload instanceof Uint8Array ? payload : encoder.encode(JSON.stringify(payload));
    await handle.socket.send(bytes, handle.address);
  }

  /**
   * Sends one client request with a fresh MID to a replica.
   *
   * @param id The replica.
   * @param request The request.
   * @returns The MID used.
   */
  async send(id: Id, request: Request): Promise<string> {
    const MID = `m${this.#nextMid++}`;
    await this.sendRaw(id, { src: this.clientId, dst: id, leader: BROADCAST, MID, ...request });
    return MID;
  }

  /**
   * Waits until replica `id` has handled every datagram sent to it so far: sends a
   * get and awaits its reply of any kind, as a replica handles datagrams in order.
   *
   * @param id The replica.
   * @param timeoutMs How long to wait at most.
   * @throws {Error} When no reply came in time.
   */
  async sync(id: Id, timeoutMs = 5_000): Promise<void> {
    const mid = await this.send(id, { type: "get", key: "sync" });
    await this.expect(() => this.replies.get(mid), timeoutMs, `a reply from ${id}`);
  }

  /**
   * Plays a client until the request gets `ok`: follows redirects, retries a
   * `fail` or a silence with a new MID, starting at `first`.
   *
   * @param request The request.
   * @param first The replica to ask first.
   * @param timeoutMs How long to keep trying.
   * @returns The `ok` reply.
   * @throws {Error} When no `ok` came in time.
   */
  async request(request: Request, first: Id, timeoutMs = 15_000): Promise<ClientReply> {
    const deadline = performance.now() + timeoutMs;
    let target = first;
    while (performance.now() < deadline) {
      const mid = await this.send(target, request);
      const waitMs = Math.min(3_000, Math.max(0, deadline - performance.now()));
      const reply = await this.waitFor(() => this.replies.get(mid), waitMs);
      if (reply?.type === "ok") return reply;
      target = reply !== undefined && this.replicas.has(reply.leader) && reply.leader !== target
        ? reply.leader
        : this.#after(target);
    }
    throw new Error(`No ok for ${JSON.stringify(request)} within ${timeoutMs} ms`);
  }

  /**
   * Sends `signal` to a replica's process group, as the course simulator kills.
   *
   * @param id The replica.
   * @param signal The signal.
   */
  kill(id: Id, signal: Deno.Signal): void {
    const process = this.#handle(id).process;
    if (process === undefined) return;
    try {
      Deno.kill(-process.pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  /**
   * Waits for a replica to exit.
   *
   * @param id The replica.
   * @param timeoutMs How long to wait at most.
   * @returns Its exit status, or `undefined` if it is still running.
   */
  async waitForExit(id: Id, timeoutMs: number): Promise<Deno.CommandStatus | undefined> {
    const process = this.#handle(id).process;
    if (process === undefined) return undefined;
    const timer = new AbortController();
    const timeout = sleep(timeoutMs, undefined, { signal: timer.signal }).then(
      () => undefined,
      () => undefined,
    );
    try {
      return await Promise.race([process.status, timeout]);
    } finally {
      timer.abort();
    }
  }

  /**
   * Kills every replica's process group (SIGKILL for any still running), then
   * closes the sockets and waits for every process, pipe and router to finish.
   */
  async close(): Promise<void> {
    for (const handle of this.replicas.values()) {
      if (handle.process !== undefined && handle.status === undefined) {
        this.kill(handle.id, "SIGKILL");
      }
    }
    await Promise.all([...this.replicas.values()].map((handle) => handle.process?.status));
    await Promise.all([...this.replicas.values()].map((handle) => handle.output));
    for (const handle of this.replicas.values()) handle.socket.close();
    await Promise.all(this.#routers);
    for (const wake of this.#waiters) wake();
  }

  #handle(id: Id): ReplicaHandle {
    const handle = this.replicas.get(id);
    if (handle === undefined) throw new RangeError(`No replica ${id}`);
    return handle;
  }

  #after(id: Id): Id {
    const next = this.ids[(this.ids.indexOf(id) + 1) % this.ids.length];
    return next ?? id;
  }

  #nextDatagram(timeoutMs: number): Promise<void> {
    const timer = new AbortController();
    return new Promise((resolve) => {
      const wake = () => {
        this.#waiters.delete(wake);
        timer.abort();
        resolve();
      };
      this.#waiters.add(wake);
      sleep(timeoutMs, undefined, { signal: timer.signal }).then(wake, () => {});
    });
  }

  /** Receives what one replica sends, checks it and routes it like the simulator. */
  async #route(handle: ReplicaHandle): Promise<void> {
    for (;;) {
      let datagram: [Uint8Array, Deno.Addr];
      try {
        datagram = await handle.socket.receive();
      } catch {
        return; // The socket was closed.
      }
      const [bytes, from] = datagram;
      if (from.transport !== "udp") continue;
      handle.address ??= from;
      const message = this.#check(handle.id, bytes);
      if (message !== undefined) {
        handle.sent.push(message);
        await this.#deliver(handle.id, message, bytes);
      }
      for (const wake of [...this.#waiters]) wake();
    }
  }

  /** Parses a replica's datagram and records any protocol violation. */
  #check(id: Id, bytes: Uint8Array): Record<string, unknown> | undefined {
    let message: unknown;
    try {
      message = JSON.parse(decoder.decode(bytes));
    } catch {
      this.violations.push(`${id} sent a datagram that is not JSON`);
      return undefined;
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      this.violations.push(`${id} sent a datagram that is not a JSON object`);
      return undefined;
    }
    const fields = message as Record<string, unknown>;
    for (const field of ["src", "dst", "leader"]) {
      const value = fields[field];
      if (typeof value !== "string" || !ID_PATTERN.test(value)) {
        this.violations.push(`${id} sent ${field} ${JSON.stringify(value)}: not 4 hex digits`);
        return undefined;
      }
    }
    if (fields.src !== id) this.violations.push(`${id} sent src ${fields.src}`);
    if (typeof fields.term === "number") this.maxTermSeen = Math.max(this.maxTermSeen, fields.term);
    return fields;
  }

  async #deliver(from: Id, message: Record<string, unknown>, bytes: Uint8Array): Promise<void> {
    if (message.type === "hello") return;
    const dst = message.dst as string;
    if (dst === this.clientId) {
      this.#acceptReply(from, message);
      return;
    }
    const targets = dst === BROADCAST ? this.ids.filter((id) => id !== from) : [dst];
    for (const target of targets) {
      const handle = this.replicas.get(target);
      if (handle === undefined) {
        this.violations.push(`${from} sent to unknown dst ${dst}`);
      } else if (handle.address !== undefined) {
        await handle.socket.send(bytes, handle.address).catch(() => {});
      }
    }
  }

  #acceptReply(from: Id, message: Record<string, unknown>): void {
    const { type, MID } = message;
    if (type !== "ok" && type !== "redirect" && type !== "fail") {
      this.violations.push(`${from} replied with type ${JSON.stringify(type)}`);
      return;
    }
    if (typeof MID !== "string") {
      this.violations.push(`${from} replied without a MID`);
      return;
    }
    if (this.replies.has(MID)) this.violations.push(`${from} answered MID ${MID} twice`);
    this.replies.set(MID, message as unknown as ClientReply);
  }
}

function spawnReplica(executable: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(executable, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
}

async function collectOutput(
  process: Deno.ChildProcess,
): Promise<{ stdout: string; stderr: string }> {
  const [stdout, stderr] = await Promise.all([
    new Response(process.stdout).text(),
    new Response(process.stderr).text(),
  ]);
  return { stdout, stderr };
}

/**
 * Runs the launcher once to completion, e.g. with a bad command line.
 *
 * @param args The launcher's arguments.
 * @param cwd The working directory.
 * @returns Exit code, stdout and stderr.
 */
export async function runLauncher(
  args: readonly string[],
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(LAUNCHER, {
    args: [...args],
    stdin: "null",
    ...(cwd === undefined ? {} : { cwd }),
  }).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}
