import assert from "node:assert/strict";
import fc from "fast-check";
import { checkLinearizability, type Operation } from "../../lib/check/mod.ts";

let midCounter = 0;

function put(value: string, invokedAt: number, returnedAt: number, key = "k"): Operation {
  return { kind: "put", key, value, invokedAt, returnedAt, client: "C1", mid: `m${midCounter++}` };
}

function get(value: string, invokedAt: number, returnedAt: number, key = "k"): Operation {
  return { kind: "get", key, value, invokedAt, returnedAt, client: "C2", mid: `m${midCounter++}` };
}

function assertRejected(ops: Operation[], culprit: Operation): void {
  const report = checkLinearizability(ops);
  assert.equal(report.linearizable, false);
  assert.equal(report.violations.length, 1);
  const violation = report.violations[0];
  assert.equal(violation?.key, culprit.key);
  assert.equal(violation?.operations[0], culprit);
  assert.match(violation?.message ?? "", new RegExp(culprit.mid));
}

Deno.test("an empty history is linearizable", () => {
  assert.deepEqual(checkLinearizability([]), {
    linearizable: true,
    violations: [],
    undeterminedKeys: [],
  });
});

Deno.test("a get of a key never put returns the empty string", () => {
  assert.equal(checkLinearizability([get("", 0, 1)]).linearizable, true);
  const neverPut = get("x", 0, 1);
  assertRejected([neverPut], neverPut);
});

Deno.test("a sequential history of puts and gets is linearizable", () => {
  const ops = [put("a", 0, 1), get("a", 2, 3), put("b", 4, 5), get("b", 6, 7), get("b", 8, 9)];
  assert.equal(checkLinearizability(ops).linearizable, true);
});

Deno.test("a get concurrent with a put may see the old or the new value", () => {
  const before = put("a", 0, 1);
  assert.equal(checkLinearizability([before, put("b", 2, 10), get("a", 3, 4)]).linearizable, true);
  assert.equal(checkLinearizability([before, put("b", 2, 10), get("b", 3, 4)]).linearizable, true);
});

Deno.test("operations whose intervals touch are concurrent", () => {
  assert.equal(checkLinearizability([put("a", 0, 5), get("", 5, 6)]).linearizable, true);
});

Deno.test("a stale read after a completed put is rejected", () => {
  const stale = get("a", 20, 21);
  assertRejected([put("a", 0, 1), put("b", 10, 11), stale], stale);
});

Deno.test("a read of a value never written is rejected", () => {
  const bogus = get("zzz", 5, 6);
  const report = checkLinearizability([put("a", 0, 1), bogus]);
  assert.equal(report.linearizable, false);
  assert.match(report.violations[0]?.message ?? "", /no put wrote/);
});

Deno.test("reads going backwards between two sequential gets are rejected", () => {
  const first = get("b", 5, 6);
  const second = get("a", 7, 8);
  const writes = [put("a", 0, 1), put("b", 2, 20)];
  assertRejected([...writes, first, second], second);
  assert.equal(
    checkLinearizability([...writes, get("a", 5, 6), get("b", 7, 8)]).linearizable,
    true,
  );
});

Deno.test("a read of a value whose put began after the get returned is rejected", () => {
  const early = get("a", 0, 1);
  const report = checkLinearizability([early, put("a", 5, 6)]);
  assert.equal(report.linearizable, false);
  assert.equal(report.violations[0]?.operations[0], early);
  assert.match(report.violations[0]?.message ?? "", /began after it returned/);
});

Deno.test("two concurrent puts seen in opposite orders by two readers are rejected", () => {
  const writes = [put("a", 0, 100), put("b", 0, 100)];
  const readerOne = [get("a", 10, 11), get("b", 12, 13)];
  const readerTwo = [get("b", 10, 11), get("a", 12, 13)];
  const report = checkLinearizability([...writes, ...readerOne, ...readerTwo]);
  assert.equal(report.linearizable, false);
  assert.equal(checkLinearizability([...writes, ...readerOne]).linearizable, true);
  assert.equal(checkLinearizability([...writes, ...readerTwo]).linearizable, true);
});

Deno.test("a violation names the puts that explain and contradict the read", () => {
  const explains = put("a", 0, 1);
  const unrelated = get("a", 2, 3); // a read the put of "b" came after: it explains nothing
  const contradicts = put("b", 10, 11);
  const stale = get("a", 20, 21);
  const concurrent = put("c", 19, 30); // may take effect before the read, or after
  const ops = [explains, unrelated, contradicts, concurrent, stale];
  const violation = checkLinearizability(ops).violations[0];
  assert.deepEqual(violation?.operations, [stale, explains, contradicts, concurrent]);
});

Deno.test("an unanswered put may take effect late", () => {
  const ops = [put("a", 0, Infinity), get("", 1, 2), get("a", 50, 51)];
  assert.equal(checkLinearizability(ops).linearizable, true);
});

Deno.test("an unanswered put may never take effect", () => {
  const ops = [put("a", 0, 1), put("b", 2, Infinity), get("a", 50, 51)];
  assert.equal(checkLinearizability(ops).linearizable, true);
});

Deno.test("an unanswered put cannot take effect before it was invoked", () => {
  const early = get("b", 0, 1);
  assertRejected([early, put("b", 5, Infinity)], early);
});

Deno.test("an unanswered put once seen cannot be unseen", () => {
  const unseen = get("", 7, 8);
  assertRejected([put("a", 0, Infinity), get("a", 5, 6), unseen], unseen);
});

/**
 * With two puts of "a", a read the search takes greedily can lead to a state it
 * explored before; it must then backtrack and go on, and find the order that
 * works (a, c, get c, the unanswered a, get a). The brute-force comparison below
 * found this history about once in 15,000 runs against a mutant of the search
 * that gave up there; here it is checked every time.
 */
Deno.test("a second put of the same value, unanswered, lets a later read see it again", () => {
  const ops = [
    put("c", 0, 1),
    put("a", 1, 1),
    put("a", 1, Infinity),
    get("a", 2, 2),
    get("c", 2, 2),
  ];
  assert.equal(checkLinearizability(ops).linearizable, true);
});

Deno.test("keys are checked independently and each violation names its key", () => {
  const report = checkLinearizability([
    put("a", 0, 1, "good"),
    get("a", 2, 3, "good"),
    put("a", 0, 1, "bad"),
    get("", 2, 3, "bad"),
  ]);
  assert.deepEqual(report.violations.map((violation) => violation.key), ["bad"]);
});

Deno.test("a search that exceeds its step budget reports the key undetermined", () => {
  // Two puts of one value: the zones do not apply, the search decides.
  const ops = [put("a", 0, 10), put("a", 0, 10), put("c", 0, 10), get("c", 11, 12)];
  const report = checkLinearizability(ops, { stepBudget: 2 });
  assert.deepEqual(report, { linearizable: false, violations: [], undeterminedKeys: ["k"] });
});

Deno.test("an operation returning before its invocation is refused", () => {
  assert.throws(() => checkLinearizability([put("a", 5, 1)]), RangeError);
  assert.throws(() => checkLinearizability([get("a", 5, Infinity)]), RangeError);
});

Deno.test("a history of 500 operations over 500 keys is checked", () => {
  const ops: Operation[] = [];
  for (let i = 0; i < 250; i++) {
    ops.push(put(`v${i}`, i * 10, i * 10 + 30, `key${i}`));
    ops.push(get(`v${i}`, i * 10 + 35, i * 10 + 40, `key${i}`));
  }
  assert.equal(checkLinearizability(ops).linearizable, true);
});

Deno.test("a history of 300 heavily concurrent operations on one key gets a verdict", () => {
  const ops: Operation[] = [];
  for (let i = 0; i < 150; i++) {
    ops.push(put(`v${i}`, i * 4, i * 4 + 40));
    ops.push(get(i < 10 ? "" : `v${i - 10}`, i * 4 + 1, i * 4 + 41));
  }
  const report = checkLinearizability(ops);
  assert.deepEqual(report.undeterminedKeys, []);
  assert.equal(report.linearizable, true);
});

/** One step of a sequential register run: the op and when it takes effect. */
interface PlannedOp {
  key: string;
  isPut: boolean;
  /** How long before its linearization point the op was invoked. */
  leadMs: number;
  /** How long after its linearization point the op returned. */
  lagMs: number;
  unanswered: boolean;
}

const plannedOp = fc.record({
  key: fc.constantFrom("x", "y"),
  isPut: fc.boolean(),
  leadMs: fc.integer({ min: 0, max: 50 }),
  lagMs: fc.integer({ min: 0, max: 50 }),
  unanswered: fc.boolean(),
});

/**
 * Executes the plan on a sequential register, one op every 10 ms, widening each
 * op to a random real-time interval around its instant: always linearizable.
 */
function executeSequentially(plan: readonly PlannedOp[]): Operation[] {
  const registers = new Map<string, string>();
  return plan.map((step, index) => {
    const at = index * 10;
    const invokedAt = at - step.leadMs;
    if (step.isPut) {
      const value = `v${index}`;
      registers.set(step.key, value);
      return put(value, invokedAt, step.unanswered ? Infinity : at + step.lagMs, step.key);
    }
    return get(registers.get(step.key) ?? "", invokedAt, at + step.lagMs, step.key);
  });
}

Deno.test("histories of a sequential register with random intervals are accepted", () => {
  fc.assert(
    fc.property(fc.array(plannedOp, { maxLength: 60 }), (plan) => {
      const report = checkLinearizability(executeSequentially(plan));
      assert.deepEqual(report.violations, []);
      assert.equal(report.linearizable, true);
    }),
    { numRuns: 300 },
  );
});

Deno.test("a get of a value no put wrote is rejected in any sequential history", () => {
  fc.assert(
    fc.property(
      fc.array(plannedOp, { minLength: 1, maxLength: 40 }),
      fc.nat(),
      (plan, pick) => {
        const ops = executeSequentially(plan);
        const victim = ops[pick % ops.length] as Operation;
        const corrupted = ops.map((op) =>
          op === victim ? get("never-written", op.invokedAt, op.invokedAt + 1, op.key) : op
        );
        assert.equal(checkLinearizability(corrupted).linearizable, false);
      },
    ),
    { numRuns: 200 },
  );
});

/** Linearizable by brute force: some order of a subset holding every answered op fits. */
function bruteForceLinearizable(ops: readonly Operation[]): boolean {
  const remaining = new Set(ops);
  const search = (value: string): boolean => {
    if ([...remaining].every((op) => op.returnedAt === Infinity)) return true;
    for (const op of [...remaining]) {
      const blocked = [...remaining].some((other) => other.returnedAt < op.invokedAt);
      if (blocked || (op.kind === "get" && op.value !== value)) continue;
      remaining.delete(op);
      const found = search(op.kind === "put" ? op.value : value);
      remaining.add(op);
      if (found) return true;
    }
    return false;
  };
  return search("");
}

const randomOp = fc.record({
  isPut: fc.boolean(),
  value: fc.constantFrom("", "a", "b", "c"),
  invokedAt: fc.integer({ min: 0, max: 20 }),
  durationMs: fc.integer({ min: 0, max: 10 }),
  unanswered: fc.boolean(),
});

Deno.test("the verdict on small random histories matches a brute-force search", () => {
  fc.assert(
    fc.property(fc.array(randomOp, { maxLength: 7 }), (drawn) => {
      const ops = drawn.map((op) => {
        const returnedAt = op.invokedAt + op.durationMs;
        return op.isPut
          ? put(op.value || "a", op.invokedAt, op.unanswered ? Infinity : returnedAt)
          : get(op.value, op.invokedAt, returnedAt);
      });
      assert.equal(checkLinearizability(ops).linearizable, bruteForceLinearizable(ops));
    }),
    { numRuns: 2000 },
  );
});

const distinctWriteOp = fc.record({
  isPut: fc.boolean(),
  /** For a get: which value it returns, by the index of a put (out of range: `""`). */
  reads: fc.nat({ max: 9 }),
  invokedAt: fc.integer({ min: 0, max: 20 }),
  durationMs: fc.integer({ min: 0, max: 10 }),
  unanswered: fc.boolean(),
});

/**
 * Where every put writes a value of its own, the verdict comes from the zones
 * (`_register_zones.ts`), not the search: it must agree with brute force on
 * every history, including touching intervals, unanswered puts seen or not,
 * and gets of values whose put began after they returned.
 */
Deno.test("the verdict on random histories with distinct puts matches a brute-force search", () => {
  fc.assert(
    fc.property(fc.array(distinctWriteOp, { maxLength: 9 }), (drawn) => {
      const ops = drawn.map((op, index) => {
        const returnedAt = op.invokedAt + op.durationMs;
        if (op.isPut) return put(`v${index}`, op.invokedAt, op.unanswered ? Infinity : returnedAt);
        const seen = drawn[op.reads]?.isPut === true ? `v${op.reads}` : "";
        return get(seen, op.invokedAt, returnedAt);
      });
      assert.equal(checkLinearizability(ops).linearizable, bruteForceLinearizable(ops));
    }),
    { numRuns: 20000 },
  );
});
