/**
 * Deterministic simulation of the Raft key-value store: many replicas in one
 * process, a simulated clock and network, seeded faults, and Raft's invariants
 * checked after every event. `main.ts` is the command line (`deno task dst`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSimulation } from "./mod.ts";
 * assert.equal(runSimulation({ seed: 1, steps: 20 }).violation, undefined);
 * ```
 *
 * @module
 */

export {
  type InvariantName,
  InvariantViolation,
  type ReplicaView,
  SafetyMonitor,
} from "./invariants.ts";
export { ServedReplica, type SimulatedReplica } from "./replica.ts";
export {
  runSimulation,
  type SimulationOptions,
  type SimulationResult,
  type SimulationStats,
  type SimulationViolation,
} from "./simulation.ts";
export { Prng } from "./prng.ts";
export { DST_PROFILES, type DstProfile, parseProfile } from "./profile.ts";
