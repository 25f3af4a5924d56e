import assert from "node:assert/strict";
import { calmConditions, type LinkConditions, Network } from "../../lib/dst/network.ts";
import { Prng } from "../../lib/dst/prng.ts";

const clean: LinkConditions = {
  dropRate: 0,
  duplicateRate: 0,
  delayMinMs: 1,
  delayMeanMs: 2,
  spikeRate: 0,
  spikeMaxMs: 0,
};

Deno.test("a clean link delivers one copy no sooner than the minimum delay", () => {
  const network = new Network(new Prng(1), clean);
  for (let i = 0; i < 100; i++) {
    const delays = network.transmit("0000", "0001");
    assert.equal(delays.length, 1);
    assert.ok((delays[0] as number) >= 1);
  }
});

Deno.test("a two-way cut blocks both directions until healed", () => {
  const network = new Network(new Prng(1), clean);
  network.cut(["0000"], ["0001"], false);
  assert.deepEqual(network.transmit("0000", "0001"), []);
  assert.deepEqual(network.transmit("0001", "0000"), []);
  network.heal();
  assert.equal(network.transmit("0001", "0000").length, 1);
});

Deno.test("a one-way cut blocks only its direction", () => {
  const network = new Network(new Prng(1), clean);
  network.cut(["0000"], ["0001"], true);
  assert.deepEqual(network.transmit("0000", "0001"), []);
  assert.equal(network.transmit("0001", "0000").length, 1);
});

Deno.test("drop and duplicate rates shape what arrives", () => {
  const network = new Network(new Prng(2), { ...clean, dropRate: 0.3, duplicateRate: 0.5 });
  const copies = Array.from({ length: 2000 }, () => network.transmit("0000", "0001").length);
  const dropped = copies.filter((n) => n === 0).length / copies.length;
  const doubled = copies.filter((n) => n === 2).length / copies.length;
  assert.ok(dropped > 0.25 && dropped < 0.35);
  assert.ok(doubled > 0.3 && doubled < 0.4);
});

Deno.test("calm conditions lose, duplicate and hold back nothing", () => {
  const calm = calmConditions({ ...clean, dropRate: 0.4, duplicateRate: 0.1, spikeRate: 0.05 });
  assert.deepEqual(calm, clean);
});
