import assert from "node:assert/strict";
import fc from "fast-check";
import { Network } from "./_network.ts";
import type { Entry } from "../../lib/raft/messages.ts";

type Fault =
  | { kind: "put"; target: number }
  | { kind: "get"; target: number }
  | { kind: "isolate"; target: number }
  | { kind: "cut"; a: number; b: number }
  | { kind: "heal" }
  | { kind: "wait"; ms: number };

const fault: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ kind: fc.constant("put" as const), target: fc.nat(4) }),
  fc.record({ kind: fc.constant("get" as const), target: fc.nat(4) }),
  fc.record({ kind: fc.constant("isolate" as const), target: fc.nat(4) }),
  fc.record({ kind: fc.constant("cut" as const), a: fc.nat(4), b: fc.nat(4) }),
  fc.record({ kind: fc.constant("heal" as const) }),
  fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 1, max: 1_500 }) }),
);

/**
 * Under random losses, cuts and heals: one leader per term (§5.2), a committed
 * entry is never changed on any replica (§5.4, State Machine Safety), logs that
 * agree on an entry agree on the whole prefix (§5.3, Log Matching), and once the
 * network heals every replica converges on the same committed log.
 */
Deno.test("random faults keep Raft's safety properties and heal to one log", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.double({ min: 0, max: 0.3, noNaN: true }),
      fc.array(fault, { maxLength: 40 }),
      (seed, dropRate, faults) => {
        const net = new Network({ size: 5, seed });
        net.dropRate = dropRate;
        const leaders = new Map<number, string>();
        const committed: Entry[] = [];
        const check = () => {
          for (const node of net.live) {
            if (node.role === "leader") {
              const known = leaders.get(node.currentTerm) ?? node.id;
              assert.equal(known, node.id, `two leaders in term ${node.currentTerm}`);
              leaders.set(node.currentTerm, node.id);
            }
            for (let index = 1; index <= node.commitIndex; index++) {
              const entry = node.entryAt(index) as Entry;
              committed[index - 1] ??= entry;
              assert.deepEqual(entry, committed[index - 1], `committed entry ${index} changed`);
            }
          }
          return false;
        };
        let mid = 0;
        for (const step of faults) {
          const id = net.ids[(step as { target?: number }).target ?? 0] as string;
          if (step.kind === "put") {
            net.request(id, { type: "put", MID: `m${mid++}`, key: `k${mid % 3}`, value: `${mid}` });
          } else if (step.kind === "get") {
            net.request(id, { type: "get", MID: `m${mid++}`, key: `k${mid % 3}` });
          } else if (step.kind === "isolate") net.isolate(id);
          else if (step.kind === "cut") {
            net.cut(net.ids[step.a] as string, net.ids[step.b] as string);
          } else if (step.kind === "heal") net.heal();
          net.runUntil(check, step.kind === "wait" ? step.ms : 20);
        }
        net.heal();
        net.dropRate = 0;
        net.runUntil(check, 5_000);
        const leader = net.leader();
        assert.ok(leader !== undefined, "no leader after healing");
        for (const node of net.live) {
          assert.equal(node.commitIndex, leader.lastIndex);
          for (let index = 1; index <= node.lastIndex; index++) {
            assert.deepEqual(node.entryAt(index), leader.entryAt(index));
          }
        }
      },
    ),
    { numRuns: 60 },
  );
});
