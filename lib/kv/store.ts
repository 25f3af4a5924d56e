/**
 * The replicated state machine: a key-value map fed with committed log entries.
 *
 * @module
 */

import type { PutCommand } from "./messages.ts";

/**
 * A string-to-string map that committed puts are applied to, in log order
 * (Raft §5.3: "apply the command to its state machine").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvStore } from "./store.ts";
 * const store = new KvStore();
 * store.apply({ key: "a", value: "1", client: "0013", MID: "m1" });
 * assert.ok(store.get("a") === "1" && store.get("b") === "");
 * ```
 */
export class KvStore {
  #values = new Map<string, string>();

  /**
   * The value last put for `key`.
   *
   * @param key The key to read.
   * @returns The value, or `""` for a key never put (PROTOCOL.md section 2).
   */
  get(key: string): string {
    return this.#values.get(key) ?? "";
  }

  /**
   * Applies one committed put.
   *
   * @param put The put's command.
   */
  apply(put: PutCommand): void {
    this.#values.set(put.key, put.value);
  }

  /** How many keys have been put. */
  get size(): number {
    return this.#values.size;
  }
}
