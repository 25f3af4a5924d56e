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
 * A queue of requests held while no leader is known (PROTOCOL.md section 6:
 * "holding the request briefly until one is elected costs fewer failures than
 * refusing it"), in the order they were held.
 */
export class HeldRequests {
  #held: HeldRequest[] = [];

  /** How many requests are held. */
  get size(): number {
    return this.#held.length;
  }

  /**
   * Holds a request.
   *
   * @param held The request and its arrival time.
   */
  add(held: HeldRequest): void {
    this.#held.push(held);
  }

  /**
   * Removes and returns every held request.
   *
   * @returns The requests, oldest first.
   */
  takeAll(): HeldRequest[] {
    const all = this.#held;
    this.#held = [];
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
    const expired = this.#held.filter((held) => held.receivedAt + holdMs <= now);
    if (expired.length > 0) {
      this.#held = this.#held.filter((held) => held.receivedAt + holdMs > now);
    }
    return expired;
  }

  /**
   * When the first request expires.
   *
   * @param holdMs How long a request may be held.
   * @returns That time, `Infinity` when nothing is held.
   */
  nextExpiry(holdMs: number): number {
    return Math.min(...this.#held.map((held) => held.receivedAt + holdMs));
  }
}
