/**
 * The replicated state machine: a key-value map fed with committed log entries.
 *
 * @module
 */

import type { Entry } from "../raft/messages.ts";

/**
 * A string-to-string map that committed log entries are applied to, in log order
 * (Raft §5.3: "apply the command to its state machine").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvStore } from "./store.ts";
 * const store = new KvStore();
 * store.apply({ term: 1, key: "a", value: "1" });
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
   * Applies one committed entry. A no-op entry (no key) changes nothing.
   *
   * @param entry The committed entry.
   */
  apply(entry: Entry): void {
    if (entry.key !== undefined && entry.value !== undefined) {
      this.#values.set(entry.key, entry.value);
    }
  }

  /** How many keys have been put. */
  get size(): number {
    return this.#values.size;
  }
}
