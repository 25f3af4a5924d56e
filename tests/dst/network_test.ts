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

Deno.test("a single cut link blocks only itself, until each overlapping cut is restored", () => {
  const network = new Network(new Prng(1), clean);
  network.cutLink("0000", "0001", true);
  network.cutLink("0000", "0001", false);
  assert.deepEqual(network.transmit("0000", "0001"), []);
  assert.deepEqual(network.transmit("0001", "0000"), []);
  assert.equal(network.transmit("0000", "0002").length, 1);
  network.restoreLink("0000", "0001", false);
  assert.deepEqual(network.transmit("0000", "0001"), []);
  assert.equal(network.transmit("0001", "0000").length, 1);
  network.restoreLink("0000", "0001", true);
  assert.equal(network.transmit("0000", "0001").length, 1);
});

Deno.test("healing a partition leaves single cut links cut", () => {
  const network = new Network(new Prng(1), clean);
  network.cutLink("0000", "0001", true);
  network.cut(["0002"], ["0000"], false);
  network.heal();
  assert.equal(network.partitioned, false);
  assert.equal(network.isCut("0000", "0001"), true);
  network.restoreLinks();
  assert.equal(network.isCut("0000", "0001"), false);
});

Deno.test("a lossy link loses about its loss rate", () => {
  const network = new Network(new Prng(3), clean);
  network.cutLink("0000", "0001", true, 0.8);
  assert.equal(network.isCut("0000", "0001"), false);
  const lost = Array.from({ length: 2000 }, () => network.transmit("0000", "0001").length === 0)
    .filter(Boolean).length / 2000;
  assert.ok(lost > 0.75 && lost < 0.85);
});

Deno.test("a stalled link reports until when it holds messages", () => {
  const network = new Network(new Prng(1), clean);
  network.stallLink("0000", "0001", false, 700);
  network.stallLink("0000", "0001", true, 500);
  assert.equal(network.stalledUntilMs("0000", "0001"), 700);
  assert.equal(network.stalledUntilMs("0001", "0000"), 700);
  assert.equal(network.stalledUntilMs("0000", "0002"), 0);
});

Deno.test("only vote refusals and vote requests are held back, at the late-vote rate", () => {
  const network = new Network(new Prng(4), { ...clean, lateVoteReplyRate: 1 });
  const reply = {
    src: "0001",
    dst: "0000",
    leader: "FFFF",
    term: 2,
    commitIndex: 0,
    lastLogIndex: 0,
    lastLogTerm: 0,
  } as const;
  assert.equal(network.holdsBack({ ...reply, type: "pre_vote_reply", granted: false }), true);
  assert.equal(network.holdsBack({ ...reply, type: "request_vote_reply", granted: false }), true);
  assert.equal(network.holdsBack({ ...reply, type: "pre_vote_reply", granted: true }), false);
  const request = {
    src: "0001",
    dst: "0000",
    leader: "FFFF",
    term: 2,
    lastLogIndex: 0,
    lastLogTerm: 0,
  };
  assert.equal(network.holdsBack({ ...request, type: "request_vote" }), true);
  assert.equal(network.holdsBack({ ...request, type: "pre_vote" }), false);
  const calm = new Network(new Prng(4), clean);
  assert.equal(calm.holdsBack({ ...reply, type: "pre_vote_reply", granted: false }), false);
});

Deno.test("the long-delay tail delivers past its minimum, and calm conditions end it", () => {
  const tail = { ...clean, tailRate: 1, tailMinMs: 600, tailMaxMs: 1200 };
  const network = new Network(new Prng(5), tail);
  for (let i = 0; i < 50; i++) assert.ok((network.transmit("0000", "0001")[0] as number) >= 601);
  assert.deepEqual(calmConditions({ ...tail, lateVoteReplyRate: 0.5 }), {
    ...tail,
    tailRate: 0,
    lateVoteReplyRate: 0,
  });
});
