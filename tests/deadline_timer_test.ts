import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { DeadlineTimer } from "../lib/deadline_timer.ts";

/** A timer whose firings are recorded, closed when the test ends. */
async function withTimer(test: (timer: DeadlineTimer, firings: number[]) => Promise<void>) {
  const firings: number[] = [];
  const timer = new DeadlineTimer(() => firings.push(performance.now()));
  try {
    await test(timer, firings);
  } finally {
    timer.close();
  }
}

Deno.test("the timer fires once, not before its deadline", () =>
  withTimer(async (timer, firings) => {
    const deadline = performance.now() + 5;
    timer.setAt(deadline);
    await delay(60);
    assert.equal(firings.length, 1);
    assert.ok(firings[0]! >= deadline, `fired ${deadline - firings[0]!} ms early`);
  }));

Deno.test("a new deadline replaces the pending one, sooner or later", () =>
  withTimer(async (timer, firings) => {
    timer.setAt(performance.now() + 40);
    const sooner = performance.now() + 5;
    timer.setAt(sooner);
    await delay(80);
    assert.equal(firings.length, 1);
    assert.ok(firings[0]! >= sooner);

    timer.setAt(performance.now() + 5);
    const later = performance.now() + 30;
    timer.setAt(later);
    await delay(80);
    assert.equal(firings.length, 2);
    assert.ok(firings[1]! >= later, `fired ${later - firings[1]!} ms before the later deadline`);
  }));

Deno.test("Infinity clears the deadline", () =>
  withTimer(async (timer, firings) => {
    timer.setAt(performance.now() + 5);
    timer.setAt(Infinity);
    await delay(40);
    assert.deepEqual(firings, []);
  }));

Deno.test("a closed timer never fires, and closing twice does nothing", async () => {
  let fired = false;
  const timer = new DeadlineTimer(() => fired = true);
  timer.setAt(performance.now() + 5);
  timer.close();
  timer.close();
  timer.setAt(performance.now() + 5);
  await delay(40);
  assert.equal(fired, false);
});
