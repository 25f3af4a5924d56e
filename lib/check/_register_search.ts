/**
 * The Wing–Gong search with Lowe's memoization (Lowe, "Testing for
 * linearizability", 2017; the same algorithm as Porcupine) for one read/write
 * register. Callers split a history by key first: linearizability is
 * compositional (Herlihy & Wing 1990, Theorem 1), so each key is checked alone.
 *
 * @module
 */

/** One operation on a single register, in the shape the search needs. */
export interface RegisterOp {
  kind: "get" | "put";
  /** put: the value written; get: the value returned. */
  value: string;
  invokedAt: number;
  /** `Infinity` for a put whose outcome is unknown: it may take effect late or never. */
  returnedAt: number;
}

/** What the search concluded about one register history. */
export type SearchOutcome = "linearizable" | "not_linearizable" | "undetermined";

/** One call or return event, kept in a doubly linked list ordered by time. */
interface Event {
  op: number;
  isCall: boolean;
  time: number;
  /** For a call: its return event. */
  match: Event | undefined;
  prev: Event | undefined;
  next: Event | undefined;
}

/** A linearized call on the backtracking stack, with the register value before it. */
interface Frame {
  call: Event;
  valueBefore: number;
  /**
   * A get taken greedily: it matched the register when it could be linearized,
   * and taking such a get at once never loses a solution (it changes no value
   * and only relaxes later real-time constraints). Backtracking past it goes on
   * to the choice before, since no alternative from that state can succeed.
   */
  forced: boolean;
}

/**
 * Decides whether `ops` is a linearizable history of one register whose initial
 * value is `""`. Operation `a` must precede `b` when `a.returnedAt < b.invokedAt`;
 * operations whose intervals touch or overlap are concurrent.
 *
 * @param ops The register's operations, in any order.
 * @param stepBudget Search steps allowed before giving up with `"undetermined"`.
 * @returns The verdict.
 */
export function searchRegister(ops: readonly RegisterOp[], stepBudget: number): SearchOutcome {
  return new RegisterSearch(ops).run(stepBudget);
}

/** The depth-first search state: which operations are linearized, in what order. */
class RegisterSearch {
  readonly #ops: readonly RegisterOp[];
  readonly #valueIds: Map<string, number>;
  readonly #head: Event;
  readonly #mustLinearize: number;
  readonly #linearized: Uint32Array;
  readonly #seen = new Set<string>();
  readonly #stack: Frame[] = [];
  #value = 0;
  #linearizedFinite = 0;

  constructor(ops: readonly RegisterOp[]) {
    this.#ops = ops;
    this.#valueIds = internValues(ops);
    this.#head = buildEventList(ops);
    this.#mustLinearize = ops.filter((op) => op.returnedAt !== Infinity).length;
    this.#linearized = new Uint32Array(Math.ceil(ops.length / 32) + 1);
  }

  run(stepBudget: number): SearchOutcome {
    let event = this.#head.next;
    let fresh = true;
    for (let step = 0; this.#linearizedFinite < this.#mustLinearize; step++) {
      if (step >= stepBudget) return "undetermined";
      if (fresh) {
        fresh = false;
        const read = this.#findMatchingRead();
        if (read !== undefined) {
          if (this.#tryLinearize(read, true)) fresh = true;
          else if ((event = this.#backtrack()) === undefined) return "not_linearizable";
          continue;
        }
        event = this.#head.next;
      }
      // Every call has its return after it, so the walk never runs off the list.
      event = event as Event;
      if (!event.isCall) {
        // A return reached before its call was linearized: undo the latest choice.
        if ((event = this.#backtrack()) === undefined) return "not_linearizable";
      } else if (this.#tryLinearize(event, false)) {
        fresh = true;
      } else {
        event = event.next;
      }
    }
    return "linearizable";
  }

  /** The first linearizable-now get (no pending return before it) that sees the current value. */
  #findMatchingRead(): Event | undefined {
    for (let event = this.#head.next; event?.isCall; event = event.next) {
      const op = this.#ops[event.op] as RegisterOp;
      if (op.kind === "get" && this.#valueIds.get(op.value) === this.#value) return event;
    }
    return undefined;
  }

  /** Linearizes the call next unless the operation does not fit or the state was explored. */
  #tryLinearize(call: Event, forced: boolean): boolean {
    const op = this.#ops[call.op] as RegisterOp;
    const valueId = this.#valueIds.get(op.value) as number;
    if (op.kind === "get" && valueId !== this.#value) return false;
    const valueAfter = op.kind === "put" ? valueId : this.#value;
    if (!markIfUnseen(this.#seen, this.#linearized, call.op, valueAfter)) return false;
    this.#stack.push({ call, valueBefore: this.#value, forced });
    this.#value = valueAfter;
    if (op.returnedAt !== Infinity) this.#linearizedFinite++;
    lift(call);
    return true;
  }

  /**
   * Undoes choices back to the latest unforced one and returns the event to try
   * next from there, or undefined when no choice is left.
   */
  #backtrack(): Event | undefined {
    for (let frame = this.#stack.pop(); frame !== undefined; frame = this.#stack.pop()) {
      const op = this.#ops[frame.call.op] as RegisterOp;
      if (op.returnedAt !== Infinity) this.#linearizedFinite--;
      clearBit(this.#linearized, frame.call.op);
      this.#value = frame.valueBefore;
      unlift(frame.call);
      if (!frame.forced) return frame.call.next;
    }
    return undefined;
  }
}

/** Maps each distinct value (and the initial `""`) to a small integer. */
function internValues(ops: readonly RegisterOp[]): Map<string, number> {
  const values = new Map<string, number>([["", 0]]);
  for (const op of ops) {
    if (!values.has(op.value)) values.set(op.value, values.size);
  }
  return values;
}

/**
 * Builds the event list behind a sentinel head: by time, calls before returns
 * at equal times (touching intervals are concurrent), then by operation order.
 */
function buildEventList(ops: readonly RegisterOp[]): Event {
  const events: Event[] = [];
  ops.forEach((op, index) => {
    const ret: Event = {
      op: index,
      isCall: false,
      time: op.returnedAt,
      match: undefined,
      prev: undefined,
      next: undefined,
    };
    const call: Event = {
      op: index,
      isCall: true,
      time: op.invokedAt,
      match: ret,
      prev: undefined,
      next: undefined,
    };
    events.push(call, ret);
  });
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  const head: Event = {
    op: -1,
    isCall: false,
    time: -Infinity,
    match: undefined,
    prev: undefined,
    next: undefined,
  };
  let last = head;
  for (const event of events) {
    last.next = event;
    event.prev = last;
    last = event;
  }
  return head;
}

/**
 * Sets the operation's bit and records (linearized set, value) as explored.
 * Returns false, leaving the bit clear, when that state was explored before:
 * the search from it already failed (Lowe's memoization).
 */
function markIfUnseen(
  seen: Set<string>,
  linearized: Uint32Array,
  op: number,
  valueAfter: number,
): boolean {
  setBit(linearized, op);
  const state = `${linearized.join(",")}:${valueAfter}`;
  if (seen.has(state)) {
    clearBit(linearized, op);
    return false;
  }
  seen.add(state);
  return true;
}

function setBit(bits: Uint32Array, index: number): void {
  bits[index >>> 5] = (bits[index >>> 5] as number) | (1 << (index & 31));
}

function clearBit(bits: Uint32Array, index: number): void {
  bits[index >>> 5] = (bits[index >>> 5] as number) & ~(1 << (index & 31));
}

/** Removes a call and its return from the list. */
function lift(call: Event): void {
  unlink(call);
  unlink(call.match as Event);
}

/** Puts back a call and its return, in the reverse order of {@linkcode lift}. */
function unlift(call: Event): void {
  relink(call.match as Event);
  relink(call);
}

function unlink(event: Event): void {
  (event.prev as Event).next = event.next;
  if (event.next !== undefined) event.next.prev = event.prev;
}

function relink(event: Event): void {
  (event.prev as Event).next = event;
  if (event.next !== undefined) event.next.prev = event;
}
