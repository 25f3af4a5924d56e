/**
 * Named mixes of faults and workload for the deterministic simulation.
 *
 * - `default`: the mix the harness always ran (lib/dst/faults.ts): loss,
 *   delay, reordering, duplication, partitions, crashes, clock drift and jumps,
 *   against clients that write their own keys.
 * - `lease`: aimed at leader leases and vote rules (issue 8). On top of the
 *   default faults: bursts of single links that drop everything for hundreds
 *   of milliseconds while the others work, mostly at the leader; a long-delay
 *   tail that delivers messages past an election timeout; vote replies held
 *   back until their election is over. Clients read and write a few shared
 *   keys, fast, and some are sticky: they keep going to the replica they
 *   believe leads, never stray and never forget it, so that a deposed leader
 *   still gets reads to answer. Clusters are small (3 or 5 replicas), where one
 *   follower's vote decides an election.
 *
 * @module
 */

/** A named mix of faults and workload. */
export type DstProfile = "default" | "lease";

/** Every profile, in the order the command line lists them. */
export const DST_PROFILES: readonly DstProfile[] = ["default", "lease"];

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
