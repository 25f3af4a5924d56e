/**
 * The settings of a run drawn from its seed and profile: the cores' timing,
 * the cluster's size, the request pace and the clients' behaviour.
 *
 * @module
 */

import type { KvServerOptions } from "../kv/server.ts";
import type { Prng } from "./prng.ts";
import type { DstProfile } from "./profile.ts";
import type { WorkloadOptions } from "./workload.ts";

/** The core's timing settings of one run. */
export type Timing = Required<
  Pick<
    KvServerOptions,
    | "electionTimeoutMinMs"
    | "electionTimeoutMaxMs"
    | "heartbeatIntervalMs"
    | "leaseMs"
    | "retransmitMs"
    | "holdRequestMs"
    | "maxEntriesPerAppend"
  >
>;

/**
 * Client requests issued by default in a run's safety phase: 200, or 3000
 * under the `lease` and `churn` profiles, whose bursts of link faults line up
 * into the schedules they aim at only now and then.
 */
export function defaultSteps(profile: DstProfile): number {
  return profile === "default" ? 200 : 3000;
}

/**
 * Draws the cores' timing: the defaults half of the time, otherwise faster
 * elections (more of them per run) and small batches, so that entries of
 * several terms travel in separate AppendEntries (the Figure 8 situations).
 * The lease keeps the default 80 % of the minimum election timeout; requests
 * are held the default 5 s or a shorter 1.5 s, so more of them end in `fail`.
 */
export function drawTiming(prng: Prng, profile: DstProfile): Timing {
  const electionTimeoutMinMs = prng.pick([150, 300, 600, 600]);
  const heartbeatIntervalMs = Math.round(electionTimeoutMinMs / prng.float(2.5, 4));
  const timing = {
    electionTimeoutMinMs,
    electionTimeoutMaxMs: Math.round(electionTimeoutMinMs * prng.float(1.3, 2.5)),
    heartbeatIntervalMs,
    leaseMs: electionTimeoutMinMs * 0.8,
    retransmitMs: Math.max(1, Math.round(heartbeatIntervalMs / 2)),
    holdRequestMs: prng.pick([1500, 5000]),
    maxEntriesPerAppend: prng.pick([1, 2, 3, 8, 64, 64]),
  };
  // One entry per AppendEntries, so a leader can get an old term's entry onto
  // a majority before its own no-op follows.
  if (profile === "churn") timing.maxEntriesPerAppend = 1;
  return timing;
}

/**
 * Draws the replica count: 3 to 7, or under the `lease` profile 3 or 5, where
 * one follower's vote decides an election.
 */
export function drawReplicaCount(prng: Prng, profile: DstProfile): number {
  return profile !== "default" ? prng.pick([3, 3, 5]) : prng.int(3, 7);
}

/**
 * Draws the client count: 2 to 8, or under the `lease` profile 4 to 8, so that
 * with each client waiting for its reply, a write at a new leader and a read
 * at the old one still fall within one lease.
 */
export function drawClientCount(prng: Prng, profile: DstProfile): number {
  return profile !== "default" ? prng.int(4, 8) : prng.int(2, 8);
}

/**
 * Draws the mean time between two client requests: under the `lease` profile
 * requests come fast, so that a write at a new leader and a read at the old
 * one fall within one lease.
 */
export function drawRequestIntervalMs(prng: Prng, profile: DstProfile): number {
  return profile !== "default" ? prng.float(2, 20) : prng.float(5, 60);
}

/** How long a closed-loop client of the `lease` profile waits for the reply to a put. */
const CLIENT_PATIENCE_MS = 2000;
/**
 * How long it waits for the reply to a get: readers move on quickly, so that
 * some are always reading while a failover is under way.
 */
const CLIENT_GET_PATIENCE_MS = 100;

/**
 * Draws how the clients behave: course-like clients with their own keys, or
 * under the `lease` and `churn` profiles clients of one shared key, half of
 * them sticky readers, each waiting for its reply before the next request.
 */
export function drawWorkloadOptions(prng: Prng, profile: DstProfile): WorkloadOptions {
  if (profile !== "default") {
    return {
      mix: prng.float(0.3, 0.7),
      strayRate: prng.pick([0.05, 0.2]),
      sharedKeys: 1,
      stickyShare: 0.5,
      followNewestClaim: true,
      readAfterWrite: true,
      patienceMs: CLIENT_PATIENCE_MS,
      getPatienceMs: CLIENT_GET_PATIENCE_MS,
    };
  }
  return { mix: prng.float(0.2, 0.8), strayRate: prng.pick([0, 0.05, 0.2]) };
}
