/**
 * A one-shot timer that fires within a fraction of a millisecond of its
 * deadline. Deno's `setTimeout` fires on a 1 ms tick and about 1.1 ms late,
 * never sooner than 2.1 ms after it is set, even with a delay of 0 (measured
 * after 20 ms idle: 2.13 / 2.16 / 2.21 ms p10 / p50 / p90 for delays of 0 and
 * 1 ms, 3.16 ms for 2 ms). A leader's hedge is due one round trip (about 2 ms)
 * after an acknowledgement, so those delays were rounded to 2.2 or 3.2 ms. Here
 * a worker thread blocks in `Atomics.wait` until the deadline and then posts a
 * message, which wakes the event loop at once: 0.15 to 0.2 ms late for delays
 * of 0.3 to 3 ms (BENCHMARKS.md).
 *
 * @example Firing once, at a deadline on the `performance.now()` clock
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeadlineTimer } from "./deadline_timer.ts";
 *
 * const deadline = performance.now() + 3;
 * const firedAt = await new Promise<number>((resolve) => {
 *   const timer = new DeadlineTimer(() => {
 *     timer.close();
 *     resolve(performance.now());
 *   });
 *   timer.setAt(deadline);
 * });
 * assert.ok(firedAt >= deadline);
 * ```
 *
 * @module
 */

/** Slots of the shared `Int32Array`. */
const GENERATION = 0;
const STOPPED = 1;

/**
 * The worker's whole program, turned into its source with `toString()`, so it
 * needs no module file (and no read permission): it waits until the deadline
 * shared with the main thread (epoch microseconds, `-1` for none), posts once,
 * and waits again whenever the main thread sets a new deadline or stops it.
 * It must not use anything outside its own body.
 */
function waitForDeadlines(): void {
  const scope = globalThis as unknown as {
    onmessage: (event: MessageEvent<SharedArrayBuffer>) => void;
    postMessage(message: number): void;
    close(): void;
  };
  scope.onmessage = ({ data }) => {
    const control = new Int32Array(data, 0, 2);
    const deadline = new BigInt64Array(data, 8, 1);
    let firedGeneration = -1;
    for (;;) {
      if (Atomics.load(control, 1) === 1) return scope.close();
      const generation = Atomics.load(control, 0);
      const at = Number(Atomics.load(deadline, 0)) / 1000;
      const waitMs = at - (performance.timeOrigin + performance.now());
      const armed = at >= 0 && firedGeneration !== generation;
      if (armed && waitMs <= 0) {
        firedGeneration = generation;
        scope.postMessage(generation);
      } else {
        Atomics.wait(control, 0, generation, armed ? waitMs : Infinity);
      }
    }
  };
}

/** Base64 rather than percent-encoded: the form that `deno compile`d programs load too. */
const WORKER_URL = `data:text/javascript;base64,${btoa(`(${waitForDeadlines.toString()})();`)}`;

/**
 * Calls `onFire` at the deadline last set, once, from the event loop. Setting a
 * deadline replaces the one pending, sooner or later; {@linkcode DeadlineTimer.close}
 * ends the worker, after which the timer never fires.
 */
export class DeadlineTimer {
  readonly #worker: Worker;
  readonly #control: Int32Array;
  readonly #deadline: BigInt64Array;
  #closed = false;

  /** @param onFire Called when the deadline has come; not called again until a new one is set. */
  constructor(onFire: () => void) {
    const shared = new SharedArrayBuffer(16);
    this.#control = new Int32Array(shared, 0, 2);
    this.#deadline = new BigInt64Array(shared, 8, 1);
    Atomics.store(this.#deadline, 0, -1n);
    this.#worker = new Worker(WORKER_URL, { type: "module" });
    this.#worker.onmessage = ({ data }: MessageEvent<number>) => {
      // A deadline set after the worker posted makes this message stale.
      if (!this.#closed && data === Atomics.load(this.#control, GENERATION)) onFire();
    };
    this.#worker.postMessage(shared);
  }

  /**
   * Sets the deadline, on the clock of `performance.now()`; `Infinity` clears it.
   *
   * @param deadline When to fire, in milliseconds.
   */
  setAt(deadline: number): void {
    if (this.#closed) return;
    const epochUs = Number.isFinite(deadline)
      ? BigInt(Math.ceil((performance.timeOrigin + deadline) * 1000))
      : -1n;
    Atomics.store(this.#deadline, 0, epochUs);
    Atomics.add(this.#control, GENERATION, 1);
    Atomics.notify(this.#control, GENERATION);
  }

  /** Stops the timer for good and ends its worker. Closing twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#control, STOPPED, 1);
    Atomics.add(this.#control, GENERATION, 1);
    Atomics.notify(this.#control, GENERATION);
    this.#worker.terminate();
  }
}
