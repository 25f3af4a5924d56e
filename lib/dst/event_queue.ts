/**
 * The simulated clock's agenda: a binary min-heap of events ordered by time,
 * then by insertion order, so that equal times never depend on heap internals.
 *
 * @module
 */

interface Slot<T> {
  time: number;
  sequence: number;
  event: T;
}

/**
 * A deterministic priority queue of timed events.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventQueue } from "./event_queue.ts";
 * const queue = new EventQueue<string>();
 * queue.push(5, "late");
 * queue.push(1, "first");
 * queue.push(1, "second");
 * assert.equal(queue.pop()?.event, "first");
 * assert.equal(queue.pop()?.event, "second");
 * ```
 */
export class EventQueue<T> {
  readonly #heap: Slot<T>[] = [];
  #sequence = 0;

  /** How many events are waiting. */
  get size(): number {
    return this.#heap.length;
  }

  /** The time of the earliest event, `Infinity` when empty. */
  get nextTime(): number {
    return this.#heap[0]?.time ?? Infinity;
  }

  /**
   * @param time When the event happens (simulated milliseconds).
   * @param event What happens.
   */
  push(time: number, event: T): void {
    const heap = this.#heap;
    heap.push({ time, sequence: this.#sequence++, event });
    let child = heap.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.#before(child, parent)) break;
      this.#swap(child, parent);
      child = parent;
    }
  }

  /** @returns The earliest event with its time, or undefined when empty. */
  pop(): { time: number; event: T } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop() as Slot<T>;
    if (heap.length > 0) {
      heap[0] = last;
      this.#siftDown();
    }
    return { time: top.time, event: top.event };
  }

  #siftDown(): void {
    const heap = this.#heap;
    let parent = 0;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < heap.length && this.#before(left, smallest)) smallest = left;
      if (right < heap.length && this.#before(right, smallest)) smallest = right;
      if (smallest === parent) return;
      this.#swap(parent, smallest);
      parent = smallest;
    }
  }

  #before(i: number, j: number): boolean {
    const a = this.#heap[i] as Slot<T>;
    const b = this.#heap[j] as Slot<T>;
    return a.time < b.time || (a.time === b.time && a.sequence < b.sequence);
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap;
    [heap[i], heap[j]] = [heap[j] as Slot<T>, heap[i] as Slot<T>];
  }
}
