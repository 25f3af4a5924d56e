/**
 * The Raft core: a pure, deterministic state machine ({@linkcode RaftNode}) that
 * replicates a key-value store. It does no I/O and reads no clock: the shell
 * feeds it messages and ticks and sends what it returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RaftNode } from "./mod.ts";
 * const node = new RaftNode({ id: "0000", peers: ["0001", "0002"], now: 0, random: () => 0.5 });
 * assert.equal(node.role, "follower");
 * assert.equal(node.ready().deadline, 900);
 * ```
 *
 * @module
 */

export { RaftNode, type Role } from "./node.ts";
export { RaftLog } from "./log.ts";
export * from "./messages.ts";
export type { RaftLogger, RaftOptions, Ready } from "./options.ts";
