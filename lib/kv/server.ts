/**
 * The key-value service the course's clients talk to, on top of the Raft core
 * (after etcd's raftexample: the core replicates opaque commands, this applies
 * them and answers clients).
 *
 * @module
 */

import { answeredPrefix, isAnswered } from "../raft/answered.ts";
import { BROADCAST, type Entry, type Id, type PeerMessage } from "../raft/messages.ts";
import { RaftNode } from "../raft/node.ts";
import { type RaftOptions, resolveRaftOptions } from "../raft/options.ts";
import { type HeldRequest, HeldRequests } from "./held.ts";
import {
  type ClientReply,
  type ClientRequest,
  type GetRequest,
  type InboundMessage,
  isClientRequest,
  isPutCommand,
  type OutboundMessage,
  type PutCommand,
  type PutRequest,
} from "./messages.ts";
import { KvStore } from "./store.ts";

/** Options for a {@linkcode KvServer}: its Raft core's, and the service's own. */
export interface KvServerOptions extends RaftOptions {
  /**
   * How long a replica that knows no leader holds a client request before it
   * redirects it naming no leader, so the client retries at a random replica
   * (the request is in no log, so sending it away is safe). A `fail` would
   * make the course's client do the same, but the course counts it as a
   * failure (PROTOCOL.md section 5): on the virtual clock, 58 in 300 runs each
   * of partition-3 and -4, from followers cut off with the old leader that
   * learned of the new one too late after the heal. Longer than a typical
   * partition: a request held until it heals is then redirected to the leader
   * instead of sent away, perhaps into the minority again.
   * @default {5000}
   */
  holdRequestMs?: number;
  /**
   * Most client requests waiting at once: held without a leader, waiting for a
   * ReadIndex round, or waiting for the leader to regain a majority. Beyond it a
   * request is answered `fail` at once, so no flood can exhaust the replica.
   * @default {10000}
   */
  maxWaitingRequests?: number;
}

/** A put waiting to be proposed. */
interface UnproposedPut extends HeldRequest {
  request: PutRequest;
}

/** A get waiting to be answered. */
interface WaitingGet extends HeldRequest {
  request: GetRequest;
}

/** The log command of a put: the write, and whom to acknowledge. */
function putCommand(request: PutRequest): PutCommand {
  return { key: request.key, value: request.value, client: request.src, MID: request.MID };
}

/** What the caller must do after feeding the server an input. */
export interface ServerReady {
  /** Messages to send, in order: client replies first, then peer messages. */
  messages: OutboundMessage[];
  /** The caller's clock value at which `tick` must next be called. */
  deadline: number;
}

/**
 * One replica of the key-value store: a Raft core plus the service. It takes
 * client requests and peer messages with {@linkcode KvServer.step}, timers with
 * {@linkcode KvServer.tick}, and after each input hands back what to send with
 * {@linkcode KvServer.ready}. Like the core, it does no I/O and reads no clock.
 *
 * The service's rules (PROTOCOL.md section 6): a follower redirects to the
 * leader it heard from recently, else holds the request until a leader appears
 * or `holdRequestMs` passes (then redirects it naming no leader); the leader
 * proposes puts and answers each once its entry is applied, and answers gets
 * from read states, or, cut off from a majority, redirects what is in no log
 * naming no leader; every put is answered at most once by a leader that
 * commits it, whichever leader received it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvServer } from "./server.ts";
 * const server = new KvServer({ id: "0000", peers: [], now: 0, random: () => 0.5 });
 * server.tick(server.ready().deadline);
 * server.step({ src: "0013", dst: "0000", leader: "FFFF", type: "put", MID: "m1", key: "k", value: "v" }, 1000);
 * assert.deepEqual(server.ready().messages, [{ src: "0000", dst: "0013", leader: "0000", type: "ok", MID: "m1" }]);
 * assert.equal(server.read("k"), "v");
 * ```
 */
export class KvServer {
  /** The Raft core this service runs on. */
  readonly core: RaftNode;

  readonly #holdRequestMs: number;
  readonly #maxWaitingRequests: number;
  /** A leader heard from this recently is live enough to redirect clients to. */
  readonly #leaderSilenceMs: number;
  readonly #store = new KvStore();
  readonly #held: HeldRequests;
  #replies: ClientReply[] = [];
  #lastApplied = 0;

  // Leader.
  /** The term this replica leads in, 0 when it does not lead. */
  #leaderTerm = 0;
  /** Gets waiting for their read state, by the context passed to the core. */
  #reading = new Map<number, HeldRequest>();
  #nextReadContext = 1;
  /** Puts the core refused while out of touch with a majority: in no log yet. */
  #unproposed: UnproposedPut[] = [];
  /**
   * Puts of earlier terms this leader applied while the election's commit was
   * open: an earlier leader may have answered them. Decided when it closes.
   */
  #undecidedPuts: { index: number; put: PutCommand }[] = [];
  /** Gets of keys with an undecided put: answered after its answer, if any. */
  #getsAwaitingDecision: WaitingGet[] = [];
  /**
   * Puts of keys with an earlier term's put still to decide: proposed once it
   * is decided (see `#keyAwaitsDecision`). In no log meanwhile.
   */
  #putsAwaitingDecision: UnproposedPut[] = [];
  /**
   * Puts this replica proposed whose index has not committed yet, kept across
   * a loss of leadership (see `#settleProposals`).
   */
  #proposals: { index: number; term: number; request: PutRequest }[] = [];

  // Followers.
  /** The leader contact a redirect was last sent after: one redirect per contact. */
  #redirectedAfterContactAt = NaN;
  /** The leader contact last seen: a newer one releases the held requests. */
  #seenContactAt = -Infinity;

  /**
   * @param options The core's options and the service's.
   * @throws {RangeError} When the options contradict each other.
   */
  constructor(options: KvServerOptions) {
    const { holdRequestMs = 5000, maxWaitingRequests = 10_000, ...raftOptions } = options;
    if (!(holdRequestMs >= 0 && Number.isInteger(maxWaitingRequests) && maxWaitingRequests >= 0)) {
      throw new RangeError(
        `Cannot create a key-value server as holdRequestMs is ${holdRequestMs} and maxWaitingRequests is ${maxWaitingRequests}: both must be 0 or more`,
      );
    }
    this.core = new RaftNode(raftOptions);
    this.#holdRequestMs = holdRequestMs;
    this.#maxWaitingRequests = maxWaitingRequests;
    this.#leaderSilenceMs = 2 * resolveRaftOptions(raftOptions).heartbeatIntervalMs;
    this.#held = new HeldRequests(maxWaitingRequests);
  }

  /** This replica's id. */
  get id(): Id {
    return this.core.id;
  }

  /** Highest log index applied to the store. */
  get lastApplied(): number {
    return this.#lastApplied;
  }

  /**
   * Reads the applied state directly, for tests and invariants (clients go
   * through {@linkcode KvServer.step}).
   *
   * @param key A key.
   * @returns Its applied value, `""` when never put.
   */
  read(key: string): string {
    return this.#store.get(key);
  }

  /**
   * Feeds one inbound message: a client request or a peer message.
   *
   * @param message A message whose shape the codec has validated.
   * @param now The caller's clock.
   */
  step(message: InboundMessage, now: number): void {
    if (isClientRequest(message)) this.#receive(message, now);
    else this.core.step(message as PeerMessage, now);
    this.#observeCore(now);
  }

  /**
   * Runs the timers due at `now`: the core's, and the expiry of held requests.
   *
   * @param now The caller's clock.
   */
  tick(now: number): void {
    this.core.tick(now);
    for (const { request } of this.#held.takeExpired(now, this.#holdRequestMs)) {
      this.#redirectAnywhere(request);
    }
    this.#observeCore(now);
  }

  /**
   * Applies what committed, answers what can be answered and takes the output.
   *
   * @returns The messages to send, client replies first, and the next deadline.
   */
  ready(): ServerReady {
    const { messages, committedEntries, readStates, deadline } = this.core.ready();
    for (const { index, entry } of committedEntries) this.#apply(index, entry);
    if (committedEntries.length > 0) this.#settleProposals();
    for (const { context } of readStates) {
      const read = this.#reading.get(context);
      this.#reading.delete(context);
      if (read?.request.type === "get") this.#answerGet(read as WaitingGet);
    }
    const out: OutboundMessage[] = this.#replies;
    this.#replies = [];
    // Client replies first: a burst of peer messages must not delay them.
    out.push(...messages);
    return {
      messages: out,
      deadline: Math.min(deadline, this.#held.nextExpiry(this.#holdRequestMs)),
    };
  }

  // ---- Client requests ----

  #receive(request: ClientRequest, now: number): void {
    if (this.core.role === "leader") {
      if (this.core.isCutOff(now)) this.#redirectAnywhere(request);
      else if (request.type === "put") this.#propose({ request, receivedAt: now }, now);
      else this.#requestRead({ request, receivedAt: now }, now);
    } else if (this.#mayRedirectNow(now)) {
      this.#redirectedAfterContactAt = this.core.lastLeaderContactAt;
      this.#reply(request, "redirect");
    } else if (this.#hasRoom()) {
      this.#held.add({ request, receivedAt: now });
    } else {
      this.#reply(request, "fail");
    }
  }

  /**
   * Whether a request may be redirected to the known leader right away: it was
   * heard from within two heartbeat intervals, and not already named in a
   * redirect since. Otherwise the request waits for the leader's next message.
   * After a leader dies, clients sent to it come back to a random replica at
   * once; without this rule they would bounce between followers until the next
   * election, each redirect naming the dead leader again.
   */
  #mayRedirectNow(now: number): boolean {
    const contactAt = this.core.lastLeaderContactAt;
    return this.core.leaderId !== undefined && contactAt !== this.#redirectedAfterContactAt &&
      now - contactAt < this.#leaderSilenceMs;
  }

  /**
   * Proposes a put; while the core refuses (no majority heard from lately) it
   * waits outside the log, so it can still be redirected if leadership is lost,
   * instead of becoming a put that may never be answered.
   */
  #propose(put: UnproposedPut, now: number): void {
    if (this.#keyAwaitsDecision(put.request.key)) {
      if (this.#hasRoom()) this.#putsAwaitingDecision.push(put);
      else this.#reply(put.request, "fail");
      return;
    }
    if (this.#unproposed.length === 0 && this.#proposeToCore(put.request, now)) return;
    if (this.#hasRoom()) this.#unproposed.push(put);
    else this.#reply(put.request, "fail");
  }

  /**
   * Whether a put of `key` must wait for this leader to decide an earlier
   * term's put of it: one applied and undecided, or one not applied yet while
   * the election's commit is open (it will be undecided once applied). A client
   * must be answered for its puts of a key in the log's order, as the course's
   * client takes the last put answered ok for the key's value (PROTOCOL.md
   * section 4). Proposed at once, a later put was answered as it committed,
   * and the earlier one only at the decision, up to 4.8 s later: the next get
   * of the key was then "incorrect" to the course, a failed run (advanced-2,
   * virtual clock, seed 388). Answering the earlier put early instead repeated
   * an earlier leader's answer whenever it had one (a part_hard's minority
   * holds the follower it told): 96 duplicates in 1000 runs each of
   * partition-3 and -4 on the virtual clock, against none.
   */
  #keyAwaitsDecision(key: string): boolean {
    const deciding = this.core.electionCommitOpen;
    if (this.#undecidedPuts.length === 0 && !deciding) return false;
    if (this.#hasUndecidedPut(key)) return true;
    if (!deciding) return false;
    // The earlier terms' entries end where this term's begin.
    for (let index = this.#lastApplied + 1; index <= this.core.lastIndex; index++) {
      const entry = this.core.entryAt(index);
      if (entry === undefined || entry.term >= this.core.currentTerm) return false;
      if (isPutCommand(entry.command) && entry.command.key === key) return true;
    }
    return false;
  }

  /** Whether an earlier term's put of `key` is applied and not decided yet. */
  #hasUndecidedPut(key: string): boolean {
    return this.#undecidedPuts.some(({ put }) => put.key === key);
  }

  /** Proposes, in order, the puts whose key no longer awaits a decision. */
  #proposeDecidedPuts(now: number): void {
    if (this.#putsAwaitingDecision.length === 0) return;
    const waiting = this.#putsAwaitingDecision;
    this.#putsAwaitingDecision = [];
    for (const put of waiting) this.#propose(put, now);
  }

  /** Hands a put to the core and, if it took it, remembers where it went. */
  #proposeToCore(request: PutRequest, now: number): boolean {
    if (!this.core.propose(putCommand(request), now)) return false;
    const { lastIndex: index, currentTerm: term } = this.core;
    this.#proposals.push({ index, term, request });
    return true;
  }

  #requestRead(get: HeldRequest, now: number): void {
    if (!this.#hasRoom()) {
      this.#reply(get.request, "fail");
      return;
    }
    const context = this.#nextReadContext++;
    this.#reading.set(context, get);
    this.core.requestRead(context, now);
  }

  /** Whether one more request may wait. */
  #hasRoom(): boolean {
    return this.#held.size + this.#waitingInNoLog() < this.#maxWaitingRequests;
  }

  /**
   * Requests this leader holds in no log: puts not proposed, gets awaiting a
   * read state or a decision.
   */
  #waitingInNoLog(): number {
    return this.#unproposed.length + this.#reading.size + this.#putsAwaitingDecision.length +
      this.#getsAwaitingDecision.length;
  }

  // ---- Following the core's state ----

  /** Reacts to what the last input changed in the core: leadership, leader contact. */
  #observeCore(now: number): void {
    const leading = this.core.role === "leader";
    if (leading && this.#leaderTerm !== this.core.currentTerm) this.#becameLeader(now);
    if (!leading && this.#leaderTerm !== 0) this.#lostLeadership();
    if (leading) {
      this.#decideEarlierPuts();
      this.#proposeDecidedPuts(now);
      this.#redirectWaitingWhenCutOff(now);
      this.#retryUnproposed(now);
    } else if (this.core.lastLeaderContactAt !== this.#seenContactAt) {
      this.#seenContactAt = this.core.lastLeaderContactAt;
      for (const { request } of this.#held.takeAll()) this.#reply(request, "redirect");
    }
  }

  #becameLeader(now: number): void {
    this.#leaderTerm = this.core.currentTerm;
    // Puts this replica applied that no one knows were answered: it committed
    // them as a leader whose election's commit was open, and lost the role.
    const { electionAnswered } = this.core;
    for (let index = answeredPrefix(electionAnswered) + 1; index <= this.#lastApplied; index++) {
      const { command } = this.core.entryAt(index) ?? {};
      if (isPutCommand(command) && !isAnswered(electionAnswered, index)) {
        this.#undecidedPuts.push({ index, put: command });
      }
    }
    for (const { request, receivedAt } of this.#held.takeAll()) {
      if (request.type === "put") this.#propose({ request, receivedAt }, now);
      else this.#requestRead({ request, receivedAt }, now);
    }
  }

  /**
   * Gets waiting for a read state changed nothing and unproposed puts are in no
   * log: both are held like any request at a replica without a leader.
   */
  #lostLeadership(): void {
    this.#leaderTerm = 0;
    // The next leader decides whether to answer them: it was told they are
    // undecided (so is this one, should it lead again).
    this.#undecidedPuts = [];
    for (const held of this.#takeWaiting()) {
      if (!this.#held.add(held)) this.#reply(held.request, "fail");
    }
  }

  /**
   * While this leader is cut off from a majority, the requests it holds in no
   * log (puts not proposed, gets waiting for a read state or a decision) are
   * redirected naming no leader: the clients retry at a random replica, which
   * is on the majority's side more often than not (three in five) and will
   * know the leader elected there long before the partition heals. Held here,
   * they waited for the heal, 3 to 5 s in the standard configs.
   */
  #redirectWaitingWhenCutOff(now: number): void {
    if (this.#waitingInNoLog() === 0) return;
    if (!this.core.isCutOff(now)) return;
    for (const { request } of this.#takeWaiting()) this.#redirectAnywhere(request);
  }

  /**
   * Removes and returns the gets waiting for a read state or a decision and the
   * puts in no log, oldest first.
   */
  #takeWaiting(): HeldRequest[] {
    const waiting = [
      ...this.#getsAwaitingDecision,
      ...this.#reading.values(),
      ...this.#unproposed,
      ...this.#putsAwaitingDecision,
    ];
    this.#reading.clear();
    this.#getsAwaitingDecision = [];
    this.#unproposed = [];
    this.#putsAwaitingDecision = [];
    return waiting.sort((a, b) => a.receivedAt - b.receivedAt);
  }

  /** Proposes the waiting puts, in order, once the core takes the first again. */
  #retryUnproposed(now: number): void {
    const [first, ...rest] = this.#unproposed;
    if (first === undefined || !this.#proposeToCore(first.request, now)) return;
    this.#unproposed = [];
    for (const put of rest) this.#propose(put, now);
  }

  // ---- The state machine ----

  /**
   * Applies a committed entry. The leader acknowledges each put it commits,
   * whichever leader received it (PROTOCOL.md section 6), except those the
   * core's `electionAnswered` says some replica knew an earlier leader
   * answered. An earlier term's put applied while that may still change waits
   * for it to settle. Followers never answer.
   */
  #apply(index: number, entry: Entry): void {
    this.#lastApplied = index;
    if (!isPutCommand(entry.command)) return;
    const put = entry.command;
    this.#store.apply(put);
    if (this.core.role !== "leader" || isAnswered(this.core.electionAnswered, index)) return;
    if (entry.term < this.core.currentTerm && this.core.electionCommitOpen) {
      this.#undecidedPuts.push({ index, put });
    } else {
      this.#acknowledge(put);
    }
  }

  /**
   * Settles the puts this replica proposed, as commits decide them. If the
   * entry at a put's index committed in the put's term, it is the put, and the
   * leader that committed it answers it. If a leader elected on the majority's
   * side wrote over it (this replica, leading, was cut off in a minority), the
   * put can never commit, and nobody else will ever answer it: this replica
   * redirects its client to the leader it knows (safe: PROTOCOL.md section 6;
   * left unanswered it would count as a failure). That is known as soon as an
   * entry of a later term commits at or below the put's index: terms never
   * decrease along a log and every later leader holds the committed entries,
   * so none can hold the put at its index. Waiting instead for a commit at the
   * index itself released a long uncommitted tail one put per round trip, as
   * each redirected client's retry made the one entry that released the next
   * (dst churn profile, seed 597: 13 s).
   */
  #settleProposals(): void {
    const applied = this.#lastApplied;
    const open = [];
    for (const proposal of this.#proposals) {
      const term = this.core.entryAt(Math.min(proposal.index, applied))?.term ?? 0;
      const neverCommits = proposal.index <= applied
        ? term !== proposal.term
        : term > proposal.term;
      if (neverCommits) this.#reply(proposal.request, "redirect");
      else if (proposal.index > applied) open.push(proposal);
    }
    this.#proposals = open;
  }

  /**
   * Once the election's commit closed, answers the earlier terms' puts no
   * earlier leader is known to have answered, then the gets that waited for
   * them (PROTOCOL.md section 6: a put is acknowledged before any later get of
   * its key is answered). The commit closes only while the core holds its
   * lease, so the store's values are the latest committed.
   */
  #decideEarlierPuts(): void {
    if (this.#undecidedPuts.length === 0 || this.core.electionCommitOpen) return;
    for (const { index, put } of this.#undecidedPuts) {
      if (!isAnswered(this.core.electionAnswered, index)) this.#acknowledge(put);
    }
    this.#undecidedPuts = [];
    const gets = this.#getsAwaitingDecision;
    this.#getsAwaitingDecision = [];
    for (const get of gets) this.#answerGet(get);
  }

  #acknowledge(put: PutCommand): void {
    this.#replies.push({
      src: this.id,
      dst: put.client,
      leader: this.id,
      type: "ok",
      MID: put.MID,
    });
  }

  #answerGet(get: WaitingGet): void {
    const { request } = get;
    if (this.#hasUndecidedPut(request.key)) {
      this.#getsAwaitingDecision.push(get);
      return;
    }
    this.#reply(request, "ok", this.#store.get(request.key));
  }

  /** Redirects a request in no log, naming no leader: the client retries at a random replica. */
  #redirectAnywhere(request: ClientRequest): void {
    const base = { src: this.id, dst: request.src, leader: BROADCAST, MID: request.MID };
    this.#replies.push({ ...base, type: "redirect" });
  }

  #reply(request: ClientRequest, type: ClientReply["type"], value?: string): void {
    const leader = this.core.leaderId ?? BROADCAST;
    const base = { src: this.id, dst: request.src, leader, MID: request.MID };
    this.#replies.push(value === undefined ? { ...base, type } : { ...base, type: "ok", value });
  }
}
