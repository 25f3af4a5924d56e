/**
 * Applies the fault schedule to a running cluster: link conditions,
 * partitions, single cut links, crashes, clock jumps and process pauses.
 * Sides, victims and links are picked when a fault fires, from the cluster as
 * it is then.
 *
 * @module
 */

import type { Id } from "../raft/messages.ts";
import type { ReplicaClock } from "./clock.ts";
import type { Fault, PartitionStyle, PauseTarget } from "./faults.ts";
import type { ReplicaDriver } from "./_replicas.ts";
import type { World } from "./_world.ts";

/** Chance that the `churn` profile isolates a leader the moment it is elected. */
const NEW_LEADER_ISOLATION_RATE = 0.8;

/** Applies the faults of one run. */
export class FaultInjector {
  readonly #world: World;
  readonly #replicas: ReplicaDriver;
  #partitionId = 0;
  /** The current partition's entry in `partitionSpans`, while it lasts. */
  #openSpan: [number, number] | undefined;
  /** How long the next replica elected will pause, once armed by a `next_leader` pause. */
  #nextLeaderPauseMs: number | undefined;

  /**
   * @param world The run.
   * @param replicas Re-arms a replica's timer after its clock jumps, and holds late vote replies.
   */
  constructor(world: World, replicas: ReplicaDriver) {
    this.#world = world;
    this.#replicas = replicas;
  }

  /** Applies a fault; faults are over once the liveness phase started. */
  apply(fault: Fault): void {
    if (this.#world.phase !== "safety") return;
    switch (fault.kind) {
      case "conditions":
        this.#world.trace.record(
          this.#world.nowMs,
          "sim",
          `link conditions ${JSON.stringify(fault.conditions)}`,
        );
        this.#world.network.conditions = fault.conditions;
        return;
      case "partition":
        return this.#partition(fault.style, fault.durationMs);
      case "link_cut":
        return this.#cutLink(fault);
      case "crash":
        return this.#crash(fault.target);
      case "clock_jump":
        return this.#jumpClock(fault.replica, fault.forwardMs);
      case "pause":
        return this.#pause(fault.target, fault.durationMs);
    }
  }

  /** Ends the partition `id` if it is still the current one. */
  endPartition(id: number): void {
    if (id === this.#partitionId) this.heal();
  }

  /** Ends the current partition; links cut on their own stay cut. */
  heal(): void {
    const world = this.#world;
    if (this.#openSpan !== undefined) this.#openSpan[1] = world.nowMs;
    this.#openSpan = undefined;
    if (world.network.partitioned) world.trace.record(world.nowMs, "sim", "partition healed");
    world.network.heal();
  }

  /** Ends one single-link fault. */
  restoreLink(from: Id, to: Id, oneWay: boolean, lossRate: number): void {
    const world = this.#world;
    world.network.restoreLink(from, to, oneWay, lossRate);
    world.trace.record(world.nowMs, "sim", `link ${describeLink(from, to, oneWay)} restored`);
  }

  /** Ends every fault on the network, held-back vote replies lost: the liveness phase starts. */
  healAll(): void {
    this.heal();
    this.#world.network.restoreLinks();
    this.#replicas.dropHeldVoteReplies();
  }

  #partition(style: PartitionStyle, durationMs: number): void {
    this.heal();
    const world = this.#world;
    const leader = world.currentLeader();
    const shuffled = world.faultPrng.shuffle(world.ids);
    const majority = Math.floor(world.ids.length / 2) + 1;
    let side: Id[];
    if (style === "isolate_leader" && leader !== undefined) side = [leader];
    else if (style === "easy" && leader !== undefined) {
      side = [leader, ...shuffled.filter((id) => id !== leader).slice(0, majority - 1)];
    } else if (style === "one_way") {
      side = shuffled.slice(0, world.faultPrng.int(1, world.ids.length - 1));
    } else side = shuffled.slice(0, majority);
    const rest = world.ids.filter((id) => !side.includes(id));
    world.network.cut(side, rest, style === "one_way");
    if (style === "hard") world.workload.forgetLeaders();
    world.stats.partitions++;
    this.#openSpan = [world.nowMs, Infinity];
    world.partitionSpans.push(this.#openSpan);
    const id = ++this.#partitionId;
    world.trace.record(world.nowMs, "sim", `partition ${style} [${side}] | [${rest}]`);
    world.queue.push(world.nowMs + durationMs, { kind: "heal", partition: id });
  }

  /**
   * Cuts one link, makes it lossy or stalls it, for a while. It counts as a partition for the duplicate-ok
   * rule: a leader cut from some followers can be replaced without noticing,
   * and its successor then re-answers the puts it had answered.
   */
  #cutLink(fault: Extract<Fault, { kind: "link_cut" }>): void {
    const { peer, oneWay, lossRate, stall, durationMs } = fault;
    const world = this.#world;
    const from = (fault.from === "leader" ? world.currentLeader() : undefined) ??
      world.faultPrng.pick(world.ids);
    const others = world.ids.filter((id) => id !== from);
    const to = others[peer % others.length] as Id;
    world.partitionSpans.push([world.nowMs, world.nowMs + durationMs]);
    const link = describeLink(from, to, oneWay);
    const forMs = `for ${durationMs.toFixed(3)} ms`;
    if (stall) {
      world.network.stallLink(from, to, oneWay, world.nowMs + durationMs);
      world.trace.record(world.nowMs, "sim", `link ${link} stalls ${forMs}`);
      return;
    }
    world.network.cutLink(from, to, oneWay, lossRate);
    const what = lossRate >= 1 ? "cut" : `loses ${(lossRate * 100).toFixed(0)} %`;
    world.trace.record(world.nowMs, "sim", `link ${link} ${what} ${forMs}`);
    world.queue.push(world.nowMs + durationMs, {
      kind: "restore_link",
      from,
      to,
      oneWay,
      lossRate,
    });
  }

  /**
   * Most of the time (`NEW_LEADER_ISOLATION_RATE`), cuts every link of a
   * leader just elected, both ways, for between one minimum and two maximum
   * election timeouts: its first
   * entries then reach no majority, and terms pile up with entries of their
   * own at the same index (the `churn` profile).
   *
   * @param index The new leader.
   * @param timing The cores' election timeouts.
   */
  isolateNewLeader(
    index: number,
    timing: { electionTimeoutMinMs: number; electionTimeoutMaxMs: number },
  ): void {
    const world = this.#world;
    if (world.phase !== "safety" || !world.faultPrng.chance(NEW_LEADER_ISOLATION_RATE)) return;
    const id = world.ids[index] as Id;
    const durationMs = world.faultPrng.float(
      timing.electionTimeoutMinMs,
      2 * timing.electionTimeoutMaxMs,
    );
    world.partitionSpans.push([world.nowMs, world.nowMs + durationMs]);
    world.trace.record(world.nowMs, id, `new leader isolated for ${durationMs.toFixed(3)} ms`);
    for (const other of world.ids) {
      if (other === id) continue;
      world.network.cutLink(id, other, false);
      world.queue.push(world.nowMs + durationMs, {
        kind: "restore_link",
        from: id,
        to: other,
        oneWay: false,
        lossRate: 1,
      });
    }
  }

  #crash(target: "leader" | "follower"): void {
    const world = this.#world;
    const alive = world.alive();
    if (alive.length - 1 < Math.floor(world.ids.length / 2) + 1) return;
    const leader = world.currentLeader();
    const victim = target === "leader" && leader !== undefined
      ? leader
      : world.faultPrng.pick(alive.filter((id) => id !== leader));
    world.crashed[world.ids.indexOf(victim)] = true;
    if (victim === leader) world.workload.forgetLeaders();
    world.disrupt(victim);
    world.stats.crashes++;
    world.trace.record(
      world.nowMs,
      victim,
      `crashed (was ${target === "leader" ? "leader" : "picked"})`,
    );
  }

  /**
   * Pauses a replica's process. Like a partition it explains a duplicate ok: a
   * paused leader can be replaced without noticing, and its successor then
   * re-answers the puts it had answered.
   */
  #pause(target: PauseTarget, durationMs: number): void {
    const world = this.#world;
    if (target === "next_leader") {
      this.#nextLeaderPauseMs = Math.max(this.#nextLeaderPauseMs ?? 0, durationMs);
      return;
    }
    const victim = (target === "leader" ? world.currentLeader() : undefined) ??
      world.faultPrng.pick(world.alive());
    this.#pauseReplica(world.ids.indexOf(victim), durationMs);
  }

  /**
   * Pauses a replica just elected, if a `next_leader` pause is armed: right
   * after its first messages left, so their answers arrive while it sleeps.
   *
   * @param index The new leader.
   */
  pauseNewLeader(index: number): void {
    const durationMs = this.#nextLeaderPauseMs;
    if (durationMs === undefined || this.#world.phase !== "safety") return;
    this.#nextLeaderPauseMs = undefined;
    this.#pauseReplica(index, durationMs);
  }

  #pauseReplica(index: number, durationMs: number): void {
    const world = this.#world;
    const victim = world.ids[index] as Id;
    const untilMs = world.nowMs + durationMs;
    world.pausedUntilMs[index] = Math.max(world.pausedUntilMs[index] as number, untilMs);
    world.partitionSpans.push([world.nowMs, untilMs]);
    world.stats.pauses++;
    world.trace.record(world.nowMs, victim, `paused for ${durationMs.toFixed(3)} ms`);
  }

  #jumpClock(index: number, forwardMs: number): void {
    const world = this.#world;
    (world.clocks[index] as ReplicaClock).jumpForward(forwardMs);
    world.trace.record(
      world.nowMs,
      world.ids[index] as Id,
      `clock jumped ${forwardMs.toFixed(3)} ms`,
    );
    this.#replicas.rearmAfterClockJump(index);
  }
}

function describeLink(from: Id, to: Id, oneWay: boolean): string {
  return `${from}${oneWay ? "->" : "<->"}${to}`;
}
