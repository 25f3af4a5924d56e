/**
 * The key-value service on top of the Raft core: the course's client messages,
 * the server that answers them ({@linkcode KvServer}), the requests it holds and
 * the store committed puts are applied to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvServer } from "./mod.ts";
 * const server = new KvServer({ id: "0000", peers: ["0001", "0002"], now: 0, random: () => 0 });
 * server.step({ src: "0013", dst: "0000", leader: "FFFF", type: "get", MID: "m1", key: "k" }, 1);
 * assert.deepEqual(server.ready().messages, [], "no leader known yet: the get is held");
 * ```
 *
 * @module
 */

export { type HeldRequest, HeldRequests } from "./held.ts";
export * from "./messages.ts";
export { KvServer, type KvServerOptions, type ServerReady } from "./server.ts";
export { KvStore } from "./store.ts";
