/**
 * Client requests a replica holds because it cannot answer them yet.
 *
 * @module
 */

import type { ClientRequest } from "./messages.ts";

/** A client request and when this replica received it. */
export interface HeldRequest {
  /** The request. */
  request: ClientRequest;
  /** When it arrived. */
  receivedAt: number;
}

/**
 * A bounded queue of requests held while no leader is known (PROTOCOL.md
 * section 6: "holding the request briefly until one is elected costs fewer
 * failures than refusing it"), oldest first. Every request is held equally
 * long, so they expire in arrival order: adding, expiring and finding the next
 * expiry cost O(1) each however many are held.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeldRequests } from "./held.ts";
 * const held = new HeldRequests(1);
 * const request = { src: "0013", dst: "0000", leader: "FFFF", type: "get", MID: "m", key: "k" } as const;
 * assert.ok(held.add({ request, receivedAt: 0 }));
 * assert.ok(!held.add({ request, receivedAt: 1 }), "full");
 * assert.equal(held.nextExpiry(100), 100);
 * assert.equal(held.takeExpired(100, 100).length, 1);
 * ```
 */
export class HeldRequests {
  readonly #capacity: number;
  #queue: HeldRequest[] = [];
  /** Index of the oldest request still held; the slots before it are taken. */
  #head = 0;

  /** @param capacity Most requests held at once. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** How many requests are held. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Holds a request, unless `capacity` requests are held already.
   *
   * @param held The request and its arrival time, no earlier than the last one held.
   * @returns Whether it is held.
   */
  add(held: HeldRequest): boolean {
    if (this.size >= this.#capacity) return false;
    this.#queue.push(held);
    return true;
  }

  /**
   * Removes and returns every held request.
   *
   * @returns The requests, oldest first.
   */
  takeAll(): HeldRequest[] {
    const all = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    return all;
  }

  /**
   * Removes and returns the requests held for `holdMs` or longer.
   *
   * @param now The current time.
   * @param holdMs How long a request may be held.
   * @returns The expired requests, oldest first.
   */
  takeExpired(now: number, holdMs: number): HeldRequest[] {
    const start = this.#head;
    while (this.#head < this.#queue.length && this.#oldest().receivedAt + holdMs <= now) {
      this.#head++;
    }
    const expired = this.#queue.slice(start, this.#head);
    // Drop the taken slots once they are most of the array: amortized O(1).
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return expired;
  }

  /**
   * When the oldest request expires.
   *
   * @param holdMs How long a request may be held.
   * @returns That time, `Infinity` when nothing is held.
   */
  nextExpiry(holdMs: number): number {
    return this.size === 0 ? Infinity : this.#oldest().receivedAt + holdMs;
  }

  #oldest(): HeldRequest {
    return this.#queue[this.#head] as HeldRequest;
  }
}
