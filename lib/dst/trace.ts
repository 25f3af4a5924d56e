/**
 * The trace of a run: a running hash of every event (two runs of one seed must
 * produce the same hash) and the last events kept for a failure report,
 * formatted only when someone asks.
 *
 * @module
 */

import type { InboundMessage, OutboundMessage } from "../kv/messages.ts";

/** One remembered event. */
interface TraceEvent {
  timeMs: number;
  actor: string;
  what: string;
  message: InboundMessage | OutboundMessage | undefined;
}

/**
 * A bounded trace with a running hash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Trace } from "./trace.ts";
 * const trace = new Trace(2);
 * trace.record(1, "0000", "tick");
 * trace.record(2, "0001", "tick");
 * trace.record(3, "0002", "crashed");
 * assert.equal(trace.lines().length, 2);
 * assert.match(trace.lines()[1] ?? "", /0002 crashed/);
 * ```
 */
export class Trace {
  readonly #capacity: number;
  readonly #ring: TraceEvent[] = [];
  #next = 0;
  #hash = 0x811c9dc5;

  /**
   * @param capacity How many of the latest events to keep.
   */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** A hex digest of every event recorded and every text mixed in. */
  get hash(): string {
    return this.#hash.toString(16).padStart(8, "0");
  }

  /**
   * Remembers an event.
   *
   * @param timeMs Simulated time.
   * @param actor Who acted: a replica or client id, or "sim".
   * @param what What happened, e.g. "received" or "crashed".
   * @param message The message involved, if any.
   */
  record(
    timeMs: number,
    actor: string,
    what: string,
    message?: InboundMessage | OutboundMessage,
  ): void {
    this.mix(`${timeMs}|${actor}|${what}`);
    const event = { timeMs, actor, what, message };
    if (this.#ring.length < this.#capacity) this.#ring.push(event);
    else this.#ring[this.#next] = event;
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /**
   * Adds text to the hash only (e.g. every message as sent on the wire).
   *
   * @param text Anything that describes the run.
   */
  mix(text: string): void {
    let hash = this.#hash;
    for (let i = 0; i < text.length; i++) {
      hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
    }
    this.#hash = hash;
  }

  /** @returns The kept events, oldest first, one line each. */
  lines(): string[] {
    const ordered = this.#ring.length < this.#capacity
      ? this.#ring
      : [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
    return ordered.map(formatEvent);
  }
}

function formatEvent({ timeMs, actor, what, message }: TraceEvent): string {
  const head = `${timeMs.toFixed(3).padStart(10)} ms  ${actor} ${what}`;
  return message === undefined ? head : `${head} ${describeMessage(message)}`;
}

/** A message on one line; AppendEntries shows its entries' terms, not their contents. */
function describeMessage(message: InboundMessage | OutboundMessage): string {
  if (message.type !== "append_entries") return JSON.stringify(message);
  const { entries, ...rest } = message;
  const terms = entries.map((entry) => entry.term).join(",");
  return `${JSON.stringify(rest)} entries=[${terms}]`;
}
