/**
 * The end of a run: faults stop, the cluster must converge within a bound
 * (one leader followed by all, logs equal and applied, every request at a live
 * replica answered), and then the client history and the committed log are
 * checked as a whole.
 *
 * @module
 */

import { checkLinearizability, type Operation } from "../check/mod.ts";
import { isPutCommand } from "../kv/messages.ts";
import type { Entry } from "../raft/messages.ts";
import { InvariantViolation } from "./invariants.ts";
import { calmConditions } from "./network.ts";
import type { SimulatedReplica } from "./replica.ts";
import type { FaultInjector } from "./_fault_injector.ts";
import type { World } from "./_world.ts";

/** The liveness phase runs at least this much longer than requests are held, so they resolve. */
const LIVENESS_MARGIN_MS = 1000;
/** The liveness phase must converge within this bound after faults stop. */
const LIVENESS_BOUND_MS = 20_000;
const CONVERGENCE_CHECK_MS = 100;

/** The liveness phase of one run and the checks at its end. */
export class LivenessPhase {
  readonly #world: World;
  readonly #faults: FaultInjector;
  /** How long the cores hold a request while they know no leader. */
  readonly #holdRequestMs: number;
  #startMs = Infinity;
  #finished = false;

  /**
   * @param world The run.
   * @param faults Healed when the phase starts.
   * @param holdRequestMs How long the cores hold a request while no leader is known.
   */
  constructor(world: World, faults: FaultInjector, holdRequestMs: number) {
    this.#world = world;
    this.#faults = faults;
    this.#holdRequestMs = holdRequestMs;
  }

  /** Whether the run converged and passed its final checks. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Stops the faults, sends each client's last request and starts checking convergence. */
  start(): void {
    const world = this.#world;
    world.phase = "liveness";
    this.#startMs = world.nowMs;
    this.#faults.healAll();
    world.network.conditions = calmConditions(world.network.conditions);
    world.trace.record(world.nowMs, "sim", "faults stop: liveness phase");
    for (const _ of world.clientIds) {
      world.queue.push(world.nowMs + world.prng.float(0, 500), { kind: "request", chained: false });
    }
    world.queue.push(world.nowMs + CONVERGENCE_CHECK_MS, { kind: "converged_check" });
  }

  /**
   * Finishes the run once converged, or breaks liveness past the bound.
   *
   * @throws {InvariantViolation} When the bound passed or a final check fails.
   */
  checkConvergence(): void {
    const world = this.#world;
    const problem = this.#convergenceProblem();
    const minimumMs = this.#holdRequestMs + LIVENESS_MARGIN_MS;
    if (problem === undefined && world.nowMs - this.#startMs >= minimumMs) {
      this.#finish();
      return;
    }
    if (world.nowMs - this.#startMs >= LIVENESS_BOUND_MS) {
      throw new InvariantViolation(
        "liveness",
        `${LIVENESS_BOUND_MS} ms after faults stopped: ${problem ?? "not converged"}`,
      );
    }
    world.queue.push(world.nowMs + CONVERGENCE_CHECK_MS, { kind: "converged_check" });
  }

  /** @returns Why the cluster has not converged yet, or undefined when it has. */
  #convergenceProblem(): string | undefined {
    const world = this.#world;
    const alive = world.replicas.filter((_, i) => !world.crashed[i]);
    const leaders = alive.filter((replica) => replica.role === "leader");
    if (leaders.length !== 1) return `${leaders.length} live leaders`;
    const leader = leaders[0] as SimulatedReplica;
    for (const replica of alive) {
      if (replica.currentTerm !== leader.currentTerm || replica.leaderId !== leader.id) {
        return `${replica.id} at term ${replica.currentTerm} follows ${replica.leaderId} while ${leader.id} leads term ${leader.currentTerm}`;
      }
      if (
        replica.lastIndex !== leader.lastIndex || replica.commitIndex !== leader.lastIndex ||
        replica.lastApplied !== leader.lastIndex
      ) {
        return `${replica.id} has lastIndex ${replica.lastIndex}, commitIndex ${replica.commitIndex}, lastApplied ${replica.lastApplied} while ${leader.id} has lastIndex ${leader.lastIndex}`;
      }
    }
    if (world.clientMessagesInFlight > 0) return "client messages in flight";
    const logged = loggedMids(leader);
    // A put in the leader's log must be answered, whichever replica it went to
    // (a new leader may wait to hear its followers before it decides). A
    // request at a live replica must be answered too: a put lost with a
    // truncated suffix is redirected by the replica that took it.
    const waiting = world.workload.unanswered().filter(({ request, to }) =>
      logged.has(request.MID) || !world.crashed[world.ids.indexOf(to)]
    );
    if (waiting.length > 0) {
      const mids = waiting.slice(0, 5).map((r) => `${r.request.type} ${r.request.MID} at ${r.to}`);
      return `${waiting.length} requests unanswered (${mids.join(", ")})`;
    }
    return undefined;
  }

  /** The end-of-run checks on the converged cluster and the client history. */
  #finish(): void {
    const world = this.#world;
    this.#finished = true;
    world.trace.record(world.nowMs, "sim", "converged");
    const committed = world.monitor.committedEntries();
    this.#checkPutReplies(committed);
    const keys = new Set(
      committed.flatMap(({ command }) => isPutCommand(command) ? [command.key] : []),
    );
    world.replicas.forEach((replica, i) => {
      if (!world.crashed[i]) world.monitor.checkAppliedState(replica, keys);
    });
    const history = world.workload.history();
    world.stats.lostPuts = history.filter((op) => op.returnedAt === Infinity).length;
    const report = checkLinearizability(withoutUnseenLostPuts(history));
    world.stats.linearizabilityUndetermined = report.undeterminedKeys.length > 0;
    const violation = report.violations[0];
    if (violation !== undefined) {
      const ops = violation.operations.map((op) =>
        `${op.kind} ${op.mid} ${op.client} ${JSON.stringify(op.value)} [${
          op.invokedAt.toFixed(3)
        }, ${op.returnedAt.toFixed(3)}]`
      );
      throw new InvariantViolation("linearizability", `${violation.message}; ${ops.join("; ")}`);
    }
  }

  /**
   * Every committed put was answered ok and never refused (PROTOCOL.md section
   * 6), and every put answered ok is committed.
   */
  #checkPutReplies(committed: readonly Entry[]): void {
    const committedMids = new Set<string>();
    for (const { command } of committed) {
      if (isPutCommand(command)) committedMids.add(command.MID);
    }
    for (const record of this.#world.workload.records()) {
      if (record.request.type !== "put") continue;
      const { MID } = record.request;
      const reply = record.firstReply?.type;
      if (committedMids.has(MID) && reply !== undefined && reply !== "ok") {
        throw new InvariantViolation(
          "refused_put_committed",
          `put ${MID} was answered ${reply} by ${record.firstReply?.replier} yet committed`,
        );
      }
      if (committedMids.has(MID) && reply === undefined) {
        throw new InvariantViolation(
          "committed_put_acknowledged",
          `put ${MID} committed but its client never got a reply`,
        );
      }
      if (reply === "ok" && !committedMids.has(MID)) {
        throw new InvariantViolation(
          "acknowledged_put_committed",
          `put ${MID} was answered ok by ${record.firstReply?.replier} but is not committed`,
        );
      }
    }
  }
}

/**
 * Leaves out the puts never answered whose value no get returned. Such a put
 * changes no verdict: in any linearization that takes it, no get reads its
 * value, so the next put or the end of the history follows it at once and
 * removing it leaves a linearization without it. Each one kept doubles the
 * states the search may visit (it may take effect anywhere, or never), and
 * with a few shared keys they would make histories undecidable in practice.
 *
 * @param history The clients' operations.
 * @returns Every get and every answered put, and the unanswered puts of a value some get returned.
 */
export function withoutUnseenLostPuts(history: readonly Operation[]): Operation[] {
  const seen = new Set<string>();
  for (const op of history) if (op.kind === "get") seen.add(`${op.key}\n${op.value}`);
  return history.filter((op) =>
    op.kind === "get" || op.returnedAt !== Infinity || seen.has(`${op.key}\n${op.value}`)
  );
}

/**
 * @param replica A replica.
 * @returns The MID of every put in its log.
 */
export function loggedMids(replica: Pick<SimulatedReplica, "lastIndex" | "entryAt">): Set<string> {
  const mids = new Set<string>();
  for (let index = 1; index <= replica.lastIndex; index++) {
    const command = replica.entryAt(index)?.command;
    const mid = isPutCommand(command) ? command.MID : undefined;
    if (mid !== undefined) mids.add(mid);
  }
  return mids;
}
