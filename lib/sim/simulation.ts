/**
 * One simulation run against real replica processes: sockets, processes, the schedule,
 * routing, faults, and at the end the counters, checks, tiers and the linearizability
 * verdict. The logic it drives (network, clients, scoring) is pure and tested apart.
 *
 * @module
 */

import { setTimeout as delay } from "node:timers/promises";
import { clearImmediate, setImmediate } from "node:timers";
import { checkLinearizability, type LinearizabilityReport } from "../check/mod.ts";
import { createPrng, type Prng } from "./_prng.ts";
import { pyFloat } from "./_pyfmt.ts";
import type { Output } from "./_console.ts";
import { clientIdsFor, replicaIdsFor, Workload } from "./clients.ts";
import type { SimConfig, SimEvent } from "./config.ts";
import { reapedChildrenCpuSeconds } from "./cpu.ts";
import { buildSchedule, type Schedule, type ScheduledAction } from "./events.ts";
import { toOperations } from "./history.ts";
import { BROADCAST, Network } from "./network.ts";
import { ReplicaProcess } from "./replicas.ts";
import {
  type CheckResult,
  correctnessChecks,
  gradeMetrics,
  type MetricResult,
  metricValues,
} from "./score.ts";
import { GraderLoop, type SocketStats } from "./socket_model.ts";
import { kernelDropsByPort, ReplicaSocket } from "./sockets.ts";
import {
  type Counters,
  createCounters,
  type LatencyByReply,
  latencyByReply,
  type LatencySummary,
  summarizeLatencies,
} from "./stats.ts";
import { type Timeline, TimelineRecorder } from "./timeline.ts";

/** How often the live progress line is redrawn. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * How early a timer wakes the socket model before its next pass is due. Nested timers fire
 * about 2 ms late here, so waits shorter than this spin on `setImmediate` (a few µs) instead.
 */
const TIMER_SLACK_MS = 3;

/** Options for {@linkcode runSimulation}. */
export interface RunOptions {
  /** The validated config. */
  config: SimConfig;
  /** The seed for every random choice of the simulator. */
  seed: number;
  /** The replica program. */
  program: string;
  /** Where lines go. */
  output: Output;
  /** Hide replica output and event lines. */
  quiet: boolean;
  /**
   * Model the course grader's sockets (lib/sim/socket_model.ts): a kernel-sized receive
   * buffer per replica drained one datagram per socket per pass, dropping what overflows.
   *
   * @default {true}
   */
  socketModel?: boolean;
  /** Aborting ends the run early (Ctrl-C); replicas are still killed. */
  signal?: AbortSignal;
}

/** Why the run ended. */
export type StopReason = "lifetime" | "packet_storm" | "no_replicas" | "aborted";

/** Everything a run measured and concluded. */
export interface RunResult {
  config: SimConfig;
  seed: number;
  counters: Counters;
  latency: LatencySummary;
  /** The same latencies split into gets answered ok, puts answered ok, and refusals. */
  latencyByReply: LatencyByReply;
  checks: CheckResult[];
  metrics: MetricResult[];
  linearizability: LinearizabilityReport;
  /** Operations in the checked history. */
  operationCount: number;
  /** The course grader's verdict: every correctness check passed. */
  coursePassed: boolean;
  /** Ours: the course's verdict and a linearizable history. */
  passed: boolean;
  stopReason: StopReason;
  /**
   * `virtual` for a run on the virtual clock (`virtual.ts`), whose latencies come from a
   * model of the machine rather than a measurement.
   */
  clock: "live" | "virtual";
  /** The run over time, for the HTML report. */
  timeline: Timeline;
  /** Per replica, what the socket model saw; undefined when the model was off. */
  socketStats: Record<string, SocketStats> | undefined;
  /**
   * Per replica, datagrams the kernel dropped at the simulator's own socket for it (it read
   * too slowly); undefined where Linux's counters cannot be read.
   */
  simulatorSocketDrops: Record<string, number> | undefined;
  /**
   * Processor seconds (user and system) the run's replica processes used, all together
   * and killed ones included, from start to shutdown (`cpu.ts`, which says when it is
   * wrong); undefined on the virtual clock and where Linux's account cannot be read.
   */
  replicaCpuS: number | undefined;
}

interface ReplicaSlot {
  id: string;
  socket: ReplicaSocket;
  process: ReplicaProcess;
  /** False once the simulator shut it down (killed, or found dead). */
  alive: boolean;
}

/**
 * The course grader's line for a run stopped as a packet storm: the replicas sent
 * `max_packets` counted messages. The limit reads as the grader prints it, as a
 * float when the config gave it.
 *
 * @param config The run's config.
 * @returns The line, without a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 * import { packetStormLine } from "./simulation.ts";
 *
 * const benchmarks = { total_msgs: [1, 2, 3], failures: [1, 2, 3], duplicates: [1, 2, 3],
 *   median_latency: [1, 2, 3] };
 * const raw = { lifetime: 10, replicas: 3, requests: 10, tests: { benchmarks } };
 * assert.equal(
 *   packetStormLine(parseConfig({ ...raw, max_packets: 600 })),
 *   "*** Simulator Error - Replicas sent too many packets (>600.0), possible packet storm",
 * );
 * assert.match(packetStormLine(parseConfig(raw)), /\(>20000\)/);
 * ```
 */
export function packetStormLine(config: SimConfig): string {
  const limit = config.maxPacketsGiven ? pyFloat(config.maxPackets) : String(config.maxPackets);
  return `*** Simulator Error - Replicas sent too many packets (>${limit}), possible packet storm`;
}

/**
 * Runs one simulation.
 *
 * @param options See {@linkcode RunOptions}.
 * @returns The result.
 */
export async function runSimulation(options: RunOptions): Promise<RunResult> {
  const run = new Run(options);
  return await run.execute();
}

/** What a finished run hands {@linkcode concludeRun}. */
export interface RunEnding
  extends Pick<RunResult, "config" | "seed" | "counters" | "stopReason" | "clock" | "timeline"> {
  /** The clients, with every request they made. */
  workload: Workload;
  /** See {@linkcode RunResult.socketStats}. */
  socketStats: RunResult["socketStats"];
  /** See {@linkcode RunResult.simulatorSocketDrops}. */
  simulatorSocketDrops: RunResult["simulatorSocketDrops"];
  /** See {@linkcode RunResult.replicaCpuS}. */
  replicaCpuS: RunResult["replicaCpuS"];
}

/**
 * Scores a finished run: the course's checks and tiers, latencies, and our
 * linearizability verdict. Live and virtual runs (`virtual.ts`) end here alike.
 *
 * @param ending The run's counters, clients and timeline.
 * @returns The run's result.
 */
export function concludeRun(ending: RunEnding): RunResult {
  const { config, counters, workload } = ending;
  const operations = toOperations(workload.records);
  const linearizability = checkLinearizability(operations);
  const checks = correctnessChecks(counters, config, workload.storedKeys());
  const coursePassed = checks.every((check) => check.passed);
  return {
    config,
    seed: ending.seed,
    counters,
    latency: summarizeLatencies(counters.latenciesS),
    latencyByReply: latencyByReply(workload.records),
    checks,
    metrics: gradeMetrics(metricValues(counters), config.benchmarks),
    linearizability,
    operationCount: operations.length,
    coursePassed,
    passed: coursePassed && linearizability.linearizable,
    stopReason: ending.stopReason,
    clock: ending.clock,
    timeline: ending.timeline,
    socketStats: ending.socketStats,
    simulatorSocketDrops: ending.simulatorSocketDrops,
    replicaCpuS: ending.replicaCpuS,
  };
}

class Run {
  readonly #options: RunOptions;
  readonly #config: SimConfig;
  readonly #counters = createCounters();
  readonly #replicaIds: string[];
  readonly #network: Network;
  readonly #workload: Workload;
  readonly #living: Set<string>;
  readonly #random: Prng;
  readonly #schedule: Schedule;
  readonly #timeline: TimelineRecorder;
  readonly #slots = new Map<string, ReplicaSlot>();
  readonly #sockets = new Map<string, ReplicaSocket>();
  readonly #stop = new AbortController();
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  #startMs = 0;
  #endedAtMs = 0;
  #stopReason: StopReason = "lifetime";
  #killOnPutAck = false;
  #finished = false;
  /** The course grader's sockets, or undefined when the run reads its sockets eagerly. */
  readonly #graderLoop: GraderLoop | undefined;
  /** Datagrams sent to replicas, to charge the grader's loop for each. */
  #sentDatagrams = 0;
  #pumpTimer: { cancel(): void } | undefined;
  /** Kernel drops at our own sockets, read before each closes; undefined when unreadable. */
  #simulatorSocketDrops: Record<string, number> | undefined = {};
  /** Replicas stopped by pause_leader, with the timer that continues each. */
  readonly #paused = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(options: RunOptions) {
    this.#options = options;
    this.#config = options.config;
    const random = createPrng(options.seed);
    this.#random = random;
    this.#replicaIds = replicaIdsFor(this.#config.replicas);
    this.#living = new Set(this.#replicaIds);
    this.#network = new Network({
      replicaIds: this.#replicaIds,
      clientIds: clientIdsFor(this.#config.replicas),
      drops: this.#config.drops,
      random,
      counters: this.#counters,
    });
    this.#workload = new Workload({
      replicaCount: this.#config.replicas,
      random,
      counters: this.#counters,
      now: () => this.#elapsedMs(),
    });
    this.#schedule = buildSchedule(this.#config, random);
    this.#timeline = new TimelineRecorder(this.#replicaIds, this.#schedule.totalS * 1000);
    this.#graderLoop = options.socketModel === false ? undefined : new GraderLoop({
      handle: (id, data, fromPort) => {
        const before = this.#sentDatagrams;
        const slot = this.#slots.get(id);
        if (slot) this.#onDatagram(slot, data, fromPort);
        return this.#sentDatagrams - before;
      },
    });
  }

  async execute(): Promise<RunResult> {
    this.#counters.generatedGet = this.#schedule.generatedGet;
    this.#counters.generatedPut = this.#schedule.generatedPut;
    const cpuBefore = reapedChildrenCpuSeconds();
    this.#startMs = performance.now();
    const receivers = await this.#startReplicasOrCleanUp();
    const onAbort = () => this.#end("aborted");
    this.#options.signal?.addEventListener("abort", onAbort);
    const progress = setInterval(() => this.#drawProgress(), PROGRESS_INTERVAL_MS);
    try {
      await this.#playSchedule(this.#schedule.actions, this.#schedule.totalS * 1000);
    } catch (error) {
      // A bug in an action: stop the replicas first, as their detached process groups
      // would outlive the simulator.
      this.#finished = true;
      await this.#shutdownAll();
      throw error;
    } finally {
      clearInterval(progress);
      this.#options.output.endProgress();
      this.#options.signal?.removeEventListener("abort", onAbort);
    }
    this.#finished = true;
    this.#endedAtMs = this.#elapsedMs();
    this.#pumpTimer?.cancel();
    for (const id of [...this.#paused.keys()]) this.#resume(id);
    if (this.#stopReason === "packet_storm") {
      this.#options.output.line(packetStormLine(this.#config));
    }
    if (this.#stopReason === "aborted") this.#options.output.line(this.#interruptedLine());
    this.#counters.died = this.#replicaIds.length - this.#living.size - this.#counters.killed;
    this.#workload.finalize();
    this.#readSimulatorSocketDrops(this.#replicaIds);
    await this.#shutdownAll();
    await Promise.all(receivers);
    const cpuAfter = reapedChildrenCpuSeconds();
    return this.#conclude(
      cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    );
  }

  /** Starts every replica; if one cannot be spawned, stops the others and says why. */
  async #startReplicasOrCleanUp(): Promise<Promise<void>[]> {
    try {
      return this.#startReplicas();
    } catch (error) {
      this.#finished = true;
      await this.#shutdownAll();
      for (const id of this.#replicaIds) this.#sockets.get(id)?.close();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `Cannot start simulation as replica program ${this.#options.program} could not be started: ${reason}`,
      );
    }
  }

  #startReplicas(): Promise<void>[] {
    const receivers: Promise<void>[] = [];
    for (const id of this.#replicaIds) {
      const socket = ReplicaSocket.open();
      this.#sockets.set(id, socket);
      const onLine = this.#options.quiet ? undefined : (line: string) => this.#print(id, line);
      const process = ReplicaProcess.spawn({
        program: this.#options.program,
        port: socket.port,
        id,
        peers: this.#replicaIds.filter((peer) => peer !== id),
        ...(onLine ? { onLine } : {}),
      });
      const slot: ReplicaSlot = { id, socket, process, alive: true };
      this.#slots.set(id, slot);
      this.#graderLoop?.open(id);
      receivers.push(socket.receive((data, fromPort) => this.#onArrival(slot, data, fromPort)));
      process.status.then((status) => this.#onExit(slot, status));
    }
    return receivers;
  }

  async #playSchedule(actions: readonly ScheduledAction[], totalMs: number): Promise<void> {
    let next = 0;
    while (!this.#stop.signal.aborted) {
      const nowMs = this.#elapsedMs();
      while (next < actions.length && (actions[next] as ScheduledAction).atS * 1000 <= nowMs) {
        this.#perform(actions[next] as ScheduledAction);
        next += 1;
        if (this.#stop.signal.aborted) return;
      }
      if (nowMs >= totalMs) return;
      const dueMs = next < actions.length
        ? Math.min((actions[next] as ScheduledAction).atS * 1000, totalMs)
        : totalMs;
      try {
        await delay(Math.max(0, dueMs - this.#elapsedMs()), undefined, {
          signal: this.#stop.signal,
        });
      } catch {
        return;
      }
    }
  }

  #perform(scheduled: ScheduledAction): void {
    const action = scheduled.action;
    if (action.kind === "request") {
      const request = this.#workload.createRequest(action.get, [...this.#living]);
      this.#timeline.requestSent(request.message.MID, request.dst);
      if (request.dst !== undefined) this.#deliver(request.dst, JSON.stringify(request.message));
      return;
    }
    const atMs = this.#elapsedMs();
    this.#fire(action.event);
    this.#timeline.event(atMs, action.event.type, this.#network.partition);
  }

  #fire(event: SimEvent): void {
    switch (event.type) {
      case "kill_leader":
        return this.#killLeader("kill_leader", false);
      case "kill9_leader":
        return this.#killLeader("kill9_leader", true);
      case "pause_leader":
        return this.#pauseLeader(event.durationS ?? 0);
      case "part_no_quorum":
        this.#network.partitionNoQuorum(this.#replicaIds.filter((id) => !this.#living.has(id)));
        this.#workload.forgetLeaders();
        return this.#note(`part_no_quorum: majority side ${this.#sideText()}`);
      case "kill_non_leader":
        return this.#killNonLeader();
      case "part_easy":
        if (this.#network.partitionEasy()) this.#workload.forgetLeaders();
        return this.#note(`part_easy: majority side ${this.#sideText()}`);
      case "part_hard":
        this.#network.partitionHard();
        this.#workload.forgetLeaders();
        return this.#note(`part_hard: majority side ${this.#sideText()}`);
      case "part_end":
        this.#network.partitionEnd();
        return this.#note("part_end: partition healed");
      case "part_leader":
        return this.#note(
          this.#network.partitionLeader()
            ? `part_leader: ${this.#network.leader} cut off from ${this.#sideText()}`
            : "part_leader: no leader known, nothing cut",
        );
      case "kill_leader_on_put_ack":
        this.#killOnPutAck = true;
        return this.#note("kill_leader_on_put_ack: armed for the next put acknowledgement");
    }
  }

  /** Kills the current leader, with SIGKILL when `hard`, and makes clients forget it. */
  #killLeader(why: string, hard: boolean): void {
    const leader = this.#network.leader;
    if (leader === BROADCAST) return this.#note(`${why}: no leader known, nothing killed`);
    if (this.#slots.has(leader)) this.#kill(leader, why, hard);
    this.#network.leader = BROADCAST;
    this.#workload.forgetLeaders();
  }

  #killNonLeader(): void {
    if (this.#living.size <= 1) {
      this.#options.output.line(
        `*** Simulator Error - too few living replicas to kill another (${this.#living.size})`,
      );
      return;
    }
    const candidates = [...this.#living].filter((id) => id !== this.#network.leader);
    this.#kill(this.#random.pick(candidates), "kill_non_leader");
  }

  #kill(id: string, why: string, hard = false): void {
    if (!this.#living.has(id)) return;
    this.#counters.killed += 1;
    this.#living.delete(id);
    this.#timeline.dead(this.#elapsedMs(), id, why, true);
    this.#note(`${why}: killing ${id}${hard ? " with SIGKILL" : ""}`);
    this.#shutdown(id, hard);
  }

  /**
   * Stops the current leader's process group for `durationS`. It stays alive and the clients'
   * leader, so requests pile up in its socket and meet a leader that slept through an election.
   */
  #pauseLeader(durationS: number): void {
    const leader = this.#network.leader;
    const slot = this.#slots.get(leader);
    if (!slot?.alive || this.#paused.has(leader)) {
      return this.#note("pause_leader: no running leader known, nothing paused");
    }
    slot.process.pause();
    this.#note(`pause_leader: stopping ${leader} for ${durationS} s`);
    this.#paused.set(leader, setTimeout(() => this.#resume(leader), durationS * 1000));
  }

  #resume(id: string): void {
    const timer = this.#paused.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#paused.delete(id);
    this.#slots.get(id)?.process.resume();
    this.#note(`pause_leader: continuing ${id}`);
  }

  #shutdown(id: string, hard = false): void {
    const slot = this.#slots.get(id);
    if (!slot || !slot.alive) return;
    slot.alive = false;
    this.#readSimulatorSocketDrops([id]);
    slot.socket.close();
    this.#graderLoop?.close(id);
    (hard ? slot.process.kill() : slot.process.terminate()).catch(() => {});
  }

  /** A datagram read from a replica's socket: routed now, or queued in the socket model. */
  #onArrival(slot: ReplicaSlot, data: Uint8Array, fromPort: number): void {
    if (!this.#graderLoop) return this.#onDatagram(slot, data, fromPort);
    if (this.#finished) return;
    this.#graderLoop.offer(slot.id, data, fromPort, this.#elapsedMs());
    this.#schedulePump();
  }

  /** Wakes the socket model when its next pass is due, unless a wake is already set. */
  #schedulePump(): void {
    if (this.#pumpTimer || this.#finished || !this.#graderLoop) return;
    const dueMs = this.#graderLoop.runDue(this.#elapsedMs());
    if (dueMs === undefined) return;
    const pump = () => {
      this.#pumpTimer = undefined;
      this.#schedulePump();
    };
    const waitMs = dueMs - this.#elapsedMs();
    if (waitMs > TIMER_SLACK_MS) {
      const timer = setTimeout(pump, waitMs - TIMER_SLACK_MS);
      this.#pumpTimer = { cancel: () => clearTimeout(timer) };
    } else {
      const immediate = setImmediate(pump);
      this.#pumpTimer = { cancel: () => clearImmediate(immediate) };
    }
  }

  #onDatagram(slot: ReplicaSlot, data: Uint8Array, fromPort: number): void {
    if (this.#finished) return;
    let text: string;
    try {
      text = this.#decoder.decode(data);
    } catch {
      this.#options.output.line(
        "*** Simulator Error - Could not decode message from replica, it may contain non-ASCII data",
      );
      this.#living.delete(slot.id);
      this.#timeline.dead(this.#elapsedMs(), slot.id, "sent a datagram that is not UTF-8", false);
      this.#shutdown(slot.id);
      return;
    }
    const [sentBefore, droppedBefore] = [this.#counters.totalMsgs, this.#counters.totalDrops];
    const route = this.#network.route(text);
    const atMs = this.#elapsedMs();
    this.#timeline.traffic(
      atMs,
      this.#counters.totalMsgs - sentBefore,
      this.#counters.totalDrops - droppedBefore,
    );
    if (route.kind === "replicas" || route.kind === "client") {
      this.#timeline.routed(atMs, route.message);
    }
    switch (route.kind) {
      case "incorrect":
        this.#options.output.line(route.warning);
        break;
      case "hello":
        slot.socket.remotePort = fromPort;
        break;
      case "replicas":
        for (const dst of route.deliverTo) this.#deliverBytes(dst, data);
        break;
      case "client":
        this.#onClientReply(route.client, route.message, text);
        break;
    }
    if (this.#counters.totalMsgs >= this.#config.maxPackets) this.#end("packet_storm");
  }

  #onClientReply(client: string, message: Parameters<Workload["deliver"]>[1], text: string): void {
    const result = this.#workload.deliver(client, message, text, [...this.#living]);
    const mid = typeof message["MID"] === "string" ? message["MID"] : undefined;
    if (result.duplicate && mid !== undefined) {
      this.#timeline.duplicateReply(this.#elapsedMs(), mid);
    }
    if (result.warning) {
      this.#timeline.incorrectReply(this.#elapsedMs(), client, mid);
      this.#options.output.line(result.warning);
    }
    if (result.retry) this.#timeline.requestSent(result.retry.message.MID, result.retry.dst);
    if (result.retry?.dst !== undefined) {
      this.#deliver(result.retry.dst, JSON.stringify(result.retry.message));
    }
    if (result.acknowledgedPut && this.#killOnPutAck && this.#slots.has(message.src)) {
      this.#killOnPutAck = false;
      this.#kill(message.src, "kill_leader_on_put_ack");
      this.#network.leader = BROADCAST;
      this.#workload.forgetLeaders();
    }
  }

  #deliver(dst: string, text: string): void {
    this.#deliverBytes(dst, this.#encoder.encode(text));
  }

  /**
   * Hands a datagram to a replica. As in the course grader, a replica that is shut down
   * or has not said hello yet cannot receive, and is from then on no longer alive.
   */
  #deliverBytes(dst: string, data: Uint8Array): void {
    const slot = this.#slots.get(dst);
    if (!slot) return;
    if (slot.alive && slot.socket.send(data)) {
      this.#sentDatagrams += 1;
      return;
    }
    const wasLiving = this.#living.delete(dst);
    if (wasLiving) {
      this.#timeline.dead(this.#elapsedMs(), dst, "got a message before saying hello", false);
    }
    if (wasLiving && slot.alive) {
      this.#options.output.line(
        `*** Simulator Error - replica ${dst} got a message before saying hello: it is no longer counted as alive`,
      );
    }
    this.#endIfNoReplicas();
  }

  #onExit(slot: ReplicaSlot, status: Deno.CommandStatus): void {
    if (slot.process.terminated || this.#finished) return;
    slot.alive = false;
    slot.socket.close();
    this.#living.delete(slot.id);
    const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
    this.#timeline.dead(this.#elapsedMs(), slot.id, `exited on its own (${how})`, false);
    this.#options.output.line(
      `*** Simulator Error - replica ${slot.id} exited on its own (${how}): it died`,
    );
    this.#endIfNoReplicas();
  }

  #endIfNoReplicas(): void {
    if (this.#living.size === 0) this.#end("no_replicas");
  }

  #end(reason: StopReason): void {
    if (this.#stop.signal.aborted) return;
    this.#stopReason = reason;
    this.#stop.abort();
  }

  /** Says that the results to follow cover only the part of the run before a stop signal. */
  #interruptedLine(): string {
    const ranS = (this.#endedAtMs / 1000).toFixed(1);
    return `*** Interrupted ${ranS} s into a ${this.#schedule.totalS} s run: the results below cover only that part`;
  }

  #readSimulatorSocketDrops(ids: readonly string[]): void {
    const byPort = kernelDropsByPort();
    if (!byPort) {
      this.#simulatorSocketDrops = undefined;
      return;
    }
    for (const id of ids) {
      const socket = this.#sockets.get(id);
      const drops = socket && !socket.closed ? byPort.get(socket.port) : undefined;
      if (drops !== undefined && this.#simulatorSocketDrops) this.#simulatorSocketDrops[id] = drops;
    }
  }

  async #shutdownAll(): Promise<void> {
    await Promise.all([...this.#slots.values()].map(async (slot) => {
      slot.alive = false;
      slot.socket.close();
      await slot.process.terminate();
    }));
  }

  /** @param replicaCpuS See {@linkcode RunResult.replicaCpuS}. */
  #conclude(replicaCpuS: number | undefined): RunResult {
    return concludeRun({
      config: this.#config,
      seed: this.#options.seed,
      counters: this.#counters,
      workload: this.#workload,
      stopReason: this.#stopReason,
      clock: "live",
      timeline: this.#timeline.finish(this.#endedAtMs, this.#workload.records),
      socketStats: this.#graderLoop ? Object.fromEntries(this.#graderLoop.stats()) : undefined,
      simulatorSocketDrops: this.#simulatorSocketDrops,
      replicaCpuS,
    });
  }

  #elapsedMs(): number {
    return performance.now() - this.#startMs;
  }

  #stamp(): string {
    return (this.#elapsedMs() / 1000).toFixed(4).padStart(2, "0");
  }

  /** A replica's output line, in the course's shape: `[12.3456  Replica 0001]: text`. */
  #print(id: string, line: string): void {
    this.#options.output.line(`[${this.#stamp()}  Replica ${id}]: ${line}`);
  }

  #note(text: string): void {
    if (!this.#options.quiet) this.#options.output.line(`[${this.#stamp()}  Simulator]: ${text}`);
  }

  #sideText(): string {
    return [...(this.#network.partition ?? [])].sort().join(" ");
  }

  #drawProgress(): void {
    const answered = this.#workload.records.filter((record) => record.reply).length;
    this.#options.output.progress(
      `[${
        (this.#elapsedMs() / 1000).toFixed(1)
      }/${this.#schedule.totalS} s] leader ${this.#network.leader} | msgs ${this.#counters.totalMsgs} | answered ${answered} | outstanding ${this.#workload.outstanding()}`,
    );
  }
}
