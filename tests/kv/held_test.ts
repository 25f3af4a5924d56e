import assert from "node:assert/strict";
import fc from "fast-check";
import { type HeldRequest, HeldRequests } from "../../lib/kv/held.ts";
import type { ClientRequest } from "../../lib/kv/messages.ts";

const HOLD_MS = 50;

function heldAt(receivedAt: number): HeldRequest {
  const request: ClientRequest = {
    src: "0013",
    dst: "0000",
    leader: "FFFF",
    type: "get",
    MID: `m${receivedAt}`,
    key: "k",
  };
  return { request, receivedAt };
}

type Operation =
  | { kind: "add"; afterMs: number }
  | { kind: "expire"; afterMs: number }
  | { kind: "takeAll" };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 3000, arbitrary: fc.nat(3).map((afterMs) => ({ kind: "add" as const, afterMs })) },
  { weight: 1000, arbitrary: fc.nat(40).map((afterMs) => ({ kind: "expire" as const, afterMs })) },
  // Rare, so that more than 1024 requests expire between two of them in most runs.
  { weight: 1, arbitrary: fc.constant({ kind: "takeAll" as const }) },
);

/**
 * Against a plain array: the same requests held, refused and taken, oldest first,
 * also past the 1024 taken slots after which the queue drops them from its array.
 */
Deno.test("held requests behave as a bounded first-in first-out list with expiry", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2000 }),
      fc.array(operation, { minLength: 2000, maxLength: 4000 }),
      (capacity, operations) => {
        const held = new HeldRequests(capacity);
        let model: HeldRequest[] = [];
        let now = 0;
        for (const op of operations) {
          if (op.kind === "takeAll") {
            assert.deepEqual(held.takeAll(), model);
            model = [];
          } else if (op.kind === "add") {
            now += op.afterMs;
            const request = heldAt(now);
            const room = model.length < capacity;
            assert.equal(held.add(request), room);
            if (room) model.push(request);
          } else {
            now += op.afterMs;
            const expired = model.filter(({ receivedAt }) => receivedAt + HOLD_MS <= now);
            assert.deepEqual(held.takeExpired(now, HOLD_MS), expired);
            model = model.slice(expired.length);
          }
          assert.equal(held.size, model.length);
          const oldest = model[0];
          assert.equal(held.nextExpiry(HOLD_MS), oldest ? oldest.receivedAt + HOLD_MS : Infinity);
        }
      },
    ),
    { numRuns: 50, endOnFailure: true },
  );
});

Deno.test("a full queue takes a request again once one expired", () => {
  const held = new HeldRequests(2);
  assert.ok(held.add(heldAt(0)));
  assert.ok(held.add(heldAt(10)));
  assert.ok(!held.add(heldAt(20)));
  assert.deepEqual(held.takeExpired(HOLD_MS - 1, HOLD_MS), []);
  assert.deepEqual(held.takeExpired(HOLD_MS, HOLD_MS), [heldAt(0)]);
  assert.ok(held.add(heldAt(HOLD_MS)));
  assert.equal(held.size, 2);
});
