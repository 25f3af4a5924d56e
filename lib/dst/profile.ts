/**
 * Named mixes of faults and workload for the deterministic simulation.
 *
 * - `default`: the mix the harness always ran (lib/dst/faults.ts): loss,
 *   delay, reordering, duplication, partitions, crashes, clock drift and jumps,
 *   process pauses, against course-like clients that write their own keys.
 * - `lease`: aimed at leader leases and vote rules (issue 8). On top of the
 *   default faults, about every three election timeouts a burst of
 *   single-link faults: mostly every link of the leader fails at once, all but
 *   one past the maximum election timeout, the last one (cut or lossy) coming
 *   back before the leader's check-quorum, plus a few links elsewhere that
 *   drop, lose most messages, or stall and then deliver their backlog. Vote
 *   requests and refusals can be held until their receiver next hears from a
 *   leader; a long-delay tail delivers some messages past an election timeout;
 *   links are fast between the bursts. Clients run a closed loop on one
 *   shared key: half of them are sticky readers that read at any replica
 *   claiming to lead, deposed or not, and read the key back whenever a put
 *   is acknowledged; the others read and write at the newest leader, and
 *   give up on a put at a replica that no longer claims the newest term.
 *   Clusters have 3 or 5 replicas, where one follower's vote decides an
 *   election, and a run issues 3000 requests by default.
 * - `churn`: the `lease` profile, plus a new leader loses all its links, four
 *   times in five, the moment it wins, for between one minimum and two maximum
 *   election timeouts; AppendEntries carry one entry each. Terms then pile up
 *   with entries that reached no majority, and a later leader of an old
 *   entry's term can find it on a majority before its own no-op: the
 *   situations of Figure 8 of the Raft paper.
 *
 * @module
 */

/** A named mix of faults and workload. */
export type DstProfile = "default" | "lease" | "churn";

/** Every profile, in the order the command line lists them. */
export const DST_PROFILES: readonly DstProfile[] = ["default", "lease", "churn"];

/**
 * Checks a profile name.
 *
 * @param name A name from the command line.
 * @returns The profile.
 * @throws {RangeError} When no profile has that name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProfile } from "./profile.ts";
 * assert.equal(parseProfile("lease"), "lease");
 * assert.throws(() => parseProfile("fast"), RangeError);
 * ```
 */
export function parseProfile(name: string): DstProfile {
  const profile = DST_PROFILES.find((known) => known === name);
  if (profile === undefined) {
    throw new RangeError(
      `Cannot run simulation as --profile is ${name}: it must be one of ${DST_PROFILES.join(", ")}`,
    );
  }
  return profile;
}
