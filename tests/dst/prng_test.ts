import assert from "node:assert/strict";
import fc from "fast-check";
import { EventQueue } from "../../lib/dst/event_queue.ts";
import { Prng } from "../../lib/dst/prng.ts";
import { ReplicaClock } from "../../lib/dst/clock.ts";

Deno.test("a seed always yields the same stream and different seeds differ", () => {
  const draw = (seed: number) =>
    Array.from({ length: 5 }, () => new Prng(seed)).map((p) => p.next());
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(new Prng(7).next(), new Prng(8).next());
});

Deno.test("draws stay within their ranges", () => {
  const prng = new Prng(3);
  for (let i = 0; i < 10_000; i++) {
    const unit = prng.next();
    assert.ok(unit >= 0 && unit < 1);
    const die = prng.int(1, 6);
    assert.ok(Number.isInteger(die) && die >= 1 && die <= 6);
  }
});

Deno.test("a fork is independent of later draws in its parent", () => {
  const a = new Prng(12);
  const b = new Prng(12);
  const forkA = a.fork();
  const forkB = b.fork();
  a.next();
  assert.equal(forkA.next(), forkB.next());
});

Deno.test("the event queue pops by time, then in insertion order", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20 })), (times) => {
      const queue = new EventQueue<number>();
      times.forEach((time, index) => queue.push(time, index));
      const popped: number[] = [];
      for (let next = queue.pop(); next !== undefined; next = queue.pop()) popped.push(next.event);
      const expected = times.map((time, index) => ({ time, index }))
        .sort((x, y) => x.time - y.time || x.index - y.index).map(({ index }) => index);
      assert.deepEqual(popped, expected);
    }),
  );
});

Deno.test("a replica clock never runs backwards and fires timers at their deadline", () => {
  const clock = new ReplicaClock(500, 0.97);
  const deadline = clock.read(10) + 123.456;
  const at = clock.simTimeOf(deadline);
  assert.ok(clock.read(at, deadline) >= deadline);
  assert.ok(clock.read(at - 1) >= deadline);
  assert.throws(() => new ReplicaClock(0, 0), RangeError);
});
