import assert from "node:assert/strict";
import fc from "fast-check";
import { chanceOfAtLeast, DeliveryRate } from "../../lib/raft/delivery.ts";

/** The same chance by enumerating every outcome of the tries. */
function enumeratedChance(needed: number, tries: number, success: number): number {
  let chance = 0;
  for (let outcome = 0; outcome < 2 ** tries; outcome++) {
    let successes = 0;
    let probability = 1;
    for (let bit = 0; bit < tries; bit++) {
      const succeeded = (outcome >> bit) & 1;
      successes += succeeded;
      probability *= succeeded === 1 ? success : 1 - success;
    }
    if (successes >= needed) chance += probability;
  }
  return chance;
}

Deno.test("chanceOfAtLeast is the binomial tail", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -1, max: 10 }),
      fc.integer({ min: 0, max: 9 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (needed, tries, success) => {
        const chance = chanceOfAtLeast(needed, tries, success);
        assert.ok(Math.abs(chance - enumeratedChance(needed, tries, success)) < 1e-9);
      },
    ),
  );
});

Deno.test("the delivery share is undefined until 32 settled requests, then the share answered", () => {
  const delivery = new DeliveryRate();
  for (let i = 0; i < 31; i++) delivery.settled(true);
  assert.equal(delivery.share, undefined);
  delivery.settled(false);
  assert.ok(delivery.share !== undefined && delivery.share > 0.96 && delivery.share < 1);
});

Deno.test("the delivery share follows a change of loss within about a hundred requests", () => {
  const delivery = new DeliveryRate();
  for (let i = 0; i < 200; i++) delivery.settled(true);
  assert.equal(delivery.share, 1);
  for (let i = 0; i < 150; i++) delivery.settled(i % 2 === 0);
  const share = delivery.share ?? NaN;
  assert.ok(share > 0.5 && share < 0.65, `share ${share}`);
});
