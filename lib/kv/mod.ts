/**
 * The key-value state machine the Raft log is applied to.
 *
 * @module
 */

export { KvStore } from "./store.ts";
