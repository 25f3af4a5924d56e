import assert from "node:assert/strict";
import { drawFaultPlan } from "../../lib/dst/faults.ts";
import { Prng } from "../../lib/dst/prng.ts";

Deno.test("fault plans stay within the bounds the issue and the lease set", () => {
  const electionTimeoutMinMs = 600;
  const leaseMs = 480;
  for (let seed = 0; seed < 500; seed++) {
    const replicas = 3 + (seed % 5);
    const plan = drawFaultPlan(new Prng(seed), {
      replicas,
      safetyMs: 5000,
      electionTimeoutMinMs,
      leaseMs,
    });
    const crashes = plan.faults.filter(({ fault }) => fault.kind === "crash").length;
    assert.ok(crashes <= Math.floor((replicas - 1) / 2));
    const conditions = [
      plan.conditions,
      ...plan.faults.flatMap(({ fault }) => fault.kind === "conditions" ? [fault.conditions] : []),
    ];
    for (const { dropRate } of conditions) assert.ok(dropRate >= 0 && dropRate <= 0.4);
    const maxRate = Math.max(...plan.clocks.map(({ rate }) => Math.abs(rate - 1)));
    const jumpsMs = plan.faults.reduce(
      (sum, { fault }) => sum + (fault.kind === "clock_jump" ? fault.forwardMs : 0),
      0,
    );
    assert.equal(plan.clocks.length, replicas);
    assert.ok(leaseMs / (1 - maxRate) < (electionTimeoutMinMs - jumpsMs) / (1 + maxRate));
    assert.ok(plan.faults.every(({ atMs }, i, all) => atMs >= (all[i - 1]?.atMs ?? 0)));
    assert.ok(plan.faults.every(({ atMs }) => atMs >= 0 && atMs < 5000));
  }
});

Deno.test("fault plans mix every kind of fault over many seeds", () => {
  const kinds = new Set<string>();
  for (let seed = 0; seed < 100; seed++) {
    const plan = drawFaultPlan(new Prng(seed), {
      replicas: 5,
      safetyMs: 5000,
      electionTimeoutMinMs: 600,
      leaseMs: 480,
    });
    for (const { fault } of plan.faults) {
      const detail = fault.kind === "partition"
        ? ` ${fault.style}`
        : fault.kind === "pause"
        ? ` ${fault.target}`
        : "";
      kinds.add(`${fault.kind}${detail}`);
    }
  }
  assert.deepEqual([...kinds].sort(), [
    "clock_jump",
    "conditions",
    "crash",
    "partition easy",
    "partition hard",
    "partition isolate_leader",
    "partition one_way",
    "pause any",
    "pause leader",
    "pause next_leader",
  ]);
});

Deno.test("the default profile draws no link faults and no lease delays", () => {
  for (let seed = 0; seed < 100; seed++) {
    const options = { replicas: 5, safetyMs: 5000, electionTimeoutMinMs: 600, leaseMs: 480 };
    const plan = drawFaultPlan(new Prng(seed), options);
    assert.ok(plan.faults.every(({ fault }) => fault.kind !== "link_cut"));
    assert.equal(plan.conditions.tailRate, undefined);
    assert.deepEqual(plan, drawFaultPlan(new Prng(seed), { ...options, profile: "default" }));
  }
});

Deno.test("lease bursts cut every link of the leader long, but one that comes back or is lossy", () => {
  const electionTimeoutMinMs = 300;
  const electionTimeoutMaxMs = 600;
  let leaderBursts = 0;
  for (let seed = 0; seed < 100; seed++) {
    const replicas = 3 + (seed % 3);
    const plan = drawFaultPlan(new Prng(seed), {
      replicas,
      safetyMs: 20_000,
      electionTimeoutMinMs,
      electionTimeoutMaxMs,
      leaseMs: 240,
      profile: "lease",
    });
    assert.ok(plan.faults.every(({ atMs }) => atMs >= 0 && atMs <= 20_000));
    assert.ok((plan.conditions.lateVoteReplyRate ?? 0) >= 0.3);
    const cuts = plan.faults.flatMap(({ fault }) => fault.kind === "link_cut" ? [fault] : []);
    const leaderCuts = cuts.filter((cut) => cut.from === "leader");
    assert.equal(leaderCuts.length % (replicas - 1), 0);
    leaderBursts += leaderCuts.length / (replicas - 1);
    assert.ok(leaderCuts.every((cut) => !cut.stall));
    const early = leaderCuts.filter((cut) =>
      cut.lossRate < 1 || cut.durationMs < electionTimeoutMaxMs
    );
    assert.equal(early.length, leaderCuts.length / (replicas - 1));
    for (const cut of cuts) {
      assert.ok(cut.lossRate > 0 && cut.lossRate <= 1);
      assert.ok(cut.peer >= 0 && cut.peer < replicas - 1);
    }
  }
  assert.ok(leaderBursts > 100);
});
