/**
 * The Raft core: a pure, deterministic state machine ({@linkcode RaftNode}) that
 * replicates a log of opaque commands. It does no I/O, reads no clock and draws
 * randomness only from what it is handed: the caller feeds it peer messages,
 * ticks, proposals and read requests, and after each takes `ready()`: messages
 * to send, committed entries to apply, reads to serve, the next deadline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RaftNode } from "./mod.ts";
 * const node = new RaftNode({ id: "0000", peers: ["0001", "0002"], now: 0, random: () => 0.5 });
 * assert.equal(node.role, "follower");
 * assert.equal(node.ready().deadline, 1800);
 * ```
 *
 * @module
 */

export { RaftNode, type Role } from "./node.ts";
export { RaftLog } from "./log.ts";
export * from "./messages.ts";
export {
  type CommittedEntry,
  MAX_ENTRIES_PER_MESSAGE,
  type RaftLogger,
  type RaftOptions,
  type ReadState,
  type Ready,
  type ResolvedRaftOptions,
  resolveRaftOptions,
} from "./options.ts";
