/**
 * The Raft core: a pure state machine fed with messages and timer ticks that
 * queues the messages to send (after etcd-io/raft's `raft` struct and `RawNode`).
 *
 * @module
 */

import { peerMessageProblem } from "./_validate.ts";
import {
  type AnsweredReport,
  answeredReport,
  mergeAnswered,
  NOTHING_ANSWERED,
} from "./answered.ts";
import { EarlierAnswers } from "./earlier_answers.ts";
import { RaftLog } from "./log.ts";
import {
  type AppendEntries,
  type AppendEntriesReply,
  BROADCAST,
  type Command,
  type Entry,
  type Id,
  type PeerMessage,
  type VoteReply,
  type VoteRequest,
} from "./messages.ts";
import {
  type RaftOptions,
  type ReadState,
  type Ready,
  type ResolvedRaftOptions,
  resolveRaftOptions,
} from "./options.ts";
import { Pacing } from "./pacing.ts";
import { type Progress, ProgressTracker } from "./progress.ts";
import { majority } from "./quorum.ts";
import { leaseHolds, ReadOnly } from "./read_only.ts";

/** A replica's role; `pre_candidate` is the pre-vote phase (thesis §9.6). */
export type Role = "follower" | "pre_candidate" | "candidate" | "leader";

/** Most JSON characters of entries in one AppendEntries, far below a 64 KiB datagram. */
const MAX_APPEND_BYTES = 16_000;

/**
 * Most separate AppendEntries one round sends; a round to more followers is one
 * broadcast, so the leader's output per input stays bounded in a large cluster.
 */
const MAX_SEPARATE_APPENDS = 4;

/**
 * Most entries a broadcast carries for followers behind the newest: one far
 * behind gets its backlog in AppendEntries of its own, so a burst of proposals after
 * a heal does not make every broadcast a full 16 KB batch.
 */
const MAX_BROADCAST_BACKLOG = 8;

/**
 * Most followers far behind with a batch of entries in flight at once, cluster-wide.
 * A batch may fill {@linkcode MAX_APPEND_BYTES}, which the receiving kernel charges
 * 16.6 KB; four stay under a third of a default 208 KB socket buffer, so a leader
 * catching up a whole partition's side never bursts more than that. One batch per far
 * follower was 20 batches at once in a 21-replica cluster, and the simulator's own
 * socket overflowed (issue 11). The next batch goes as an acknowledgement frees a slot.
 */
const MAX_CATCH_UPS_IN_FLIGHT = 4;

/** One follower in a round of AppendEntries, and where its entries start. */
interface RoundTarget {
  peer: Id;
  progress: Progress;
  /**
   * The first index to send; a separate AppendEntries is anchored just below
   * it (a broadcast, see {@linkcode RaftNode.#sendBroadcast}, may start higher).
   */
  start: number;
  /** `false` for a heartbeat: nothing to send from `start`, or the follower is paused. */
  withEntries: boolean;
}

function isVoteRequest(message: PeerMessage): message is VoteRequest {
  return message.type === "request_vote" || message.type === "pre_vote";
}

/**
 * One Raft replica. It never does I/O, never reads a clock and draws randomness
 * only from `options.random`: the caller feeds it peer messages with
 * {@linkcode RaftNode.step}, proposes commands with {@linkcode RaftNode.propose},
 * asks for linearizable reads with {@linkcode RaftNode.requestRead}, calls
 * {@linkcode RaftNode.tick} once the deadline passes, and after each of these
 * takes {@linkcode RaftNode.ready}: messages to send, entries to apply, reads to
 * serve. Commands are opaque: the core replicates them and hands them back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RaftNode } from "./node.ts";
 * const node = new RaftNode({ id: "0000", peers: [], now: 0, random: () => 0.5 });
 * node.tick(node.ready().deadline);
 * assert.equal(node.role, "leader");
 * assert.ok(node.propose({ set: "k" }, 1000));
 * const { committedEntries } = node.ready();
 * assert.deepEqual(committedEntries.map(({ entry }) => entry.command), [undefined, { set: "k" }]);
 * ```
 */
export class RaftNode {
  /** This replica's id. */
  readonly id: Id;
  /** The other replicas' ids. */
  readonly peers: readonly Id[];

  readonly #peerSet: ReadonlySet<Id>;
  /** How many followers, with the leader, make a majority: 2 of 4 in a cluster of 5. */
  readonly #followersForMajority: number;
  readonly #options: ResolvedRaftOptions;

  #role: Role = "follower";
  #currentTerm = 0;
  #votedFor: Id | undefined = undefined;
  #leaderId: Id | undefined = undefined;
  readonly #log = new RaftLog();
  /**
   * What leaders told this replica, or it told as a leader, of the entries
   * answered: its commit index but for the earlier terms' entries a leader
   * whose election's commit was open had not decided (see
   * {@linkcode RaftNode.electionCommitOpen}). A leader that lost its role then
   * committed entries it did not answer, and must not vouch for them. Votes
   * and answers to AppendEntries carry it; a leader sends neither, and adds
   * what it told when it steps down.
   */
  #answered: AnsweredReport = NOTHING_ANSWERED;
  #outbox: PeerMessage[] = [];
  #readStates: ReadState[] = [];
  #now: number;
  #stepRole: (message: PeerMessage, now: number) => void = this.#stepFollower;
  #tickRole: (now: number) => void = this.#tickElection;

  // Followers and candidates.
  #electionDeadline = 0;
  /** This role's election timeout, drawn from its range when the role begins (§5.2). */
  #electionTimeoutMs = 0;
  #lastLeaderContactAt = -Infinity;
  /** Granted (pre-)votes this campaign: voter id to what the voter knew answered. */
  #votes = new Map<Id, AnsweredReport>();
  /** Where the log of each peer that granted its vote this term ends: its last index and term. */
  #voterLogEnds = new Map<Id, readonly [number, number]>();
  /** Peers that answered this campaign, granting or not. */
  #voteAnswered = new Set<Id>();
  /** When a campaign asks the peers that have not answered again. */
  #voteRetransmitAt = Infinity;
  /** How many times this campaign asked again: each wait doubles. */
  #voteRetransmits = 0;

  // Leader.
  #progress = new ProgressTracker([], 1, 0);
  /** Index of the no-op this leader appended: committed means the term's entry is committed. */
  #termStartIndex = 0;
  /** What this leader learned, since its election, of the earlier terms' entries answered. */
  #earlier: EarlierAnswers;
  /** Whether the election's commit closed: see {@linkcode RaftNode.electionCommitOpen}. */
  #electionCommitClosed = false;
  /** Whether followers were told the commit index since the election's commit closed. */
  #electionCommitTold = false;
  /** When one follower is told of commits no AppendEntries carried; `Infinity` when none wait. */
  #commitNoticeAt = Infinity;
  /** What this leader measured of its term, and the pacing it decides. */
  #pacing: Pacing;
  /**
   * When uncommitted entries go to one more follower. It stays set when its
   * round commits, and the next round keeps it if it is sooner than its own
   * (see {@linkcode RaftNode.#replicateNewEntries}).
   */
  #hedgeAt = Infinity;
  /** Hedges left for the entries of the last round. */
  #hedgesLeft = 0;
  /** Whether the last round of new entries went to a bare majority of followers. */
  #roundToBareMajority = false;
  /**
   * Since when the entries not yet committed have waited: the oldest one's
   * append, or the last commit when that came later.
   */
  #commitAwaitedSince = 0;
  /**
   * The last index the last round of new entries carried. New entries wait
   * while it is not committed, at most until the hedge is due (Nagle's
   * algorithm for a burst: one round per round trip carries all of them).
   */
  #lastRoundIndex = 0;
  readonly #reads = new ReadOnly();
  /** Entries were appended since the last `ready()`: they go out with it, together. */
  #appendPending = false;
  /**
   * Followers that get nothing else in this `ready()` must get a heartbeat: for
   * the reads waiting on a ReadIndex round, or to learn the term's first commit.
   */
  #heartbeatRoundPending = false;

  /**
   * @param options Identity, clock, randomness and timing settings.
   * @throws {RangeError} When the timing settings contradict each other.
   */
  constructor(options: RaftOptions) {
    this.#options = resolveRaftOptions(options);
    // A leader starts its own of both at its election (`#becomeLeader`).
    this.#pacing = new Pacing(this.#options, -Infinity);
    this.#earlier = new EarlierAnswers(this.#options, {
      answered: NOTHING_ANSWERED,
      lastEarlierIndex: 0,
      followers: 0,
      holdsCommand: () => false,
      now: options.now,
    });
    this.id = options.id;
    this.peers = [...options.peers];
    this.#followersForMajority = majority(this.peers.length + 1) - 1;
    this.#peerSet = new Set(options.peers);
    this.#now = options.now;
    this.#drawElectionTimeout(options.now);
  }

  /** The current role. */
  get role(): Role {
    return this.#role;
  }

  /** Latest term this replica has seen (§5.1). */
  get currentTerm(): number {
    return this.#currentTerm;
  }

  /** The candidate voted for in the current term, if any (§5.2). */
  get votedFor(): Id | undefined {
    return this.#votedFor;
  }

  /** The leader this replica believes in for the current term, if any. */
  get leaderId(): Id | undefined {
    return this.#leaderId;
  }

  /** Highest log index known to be committed (§5.3). */
  get commitIndex(): number {
    return this.#log.commitIndex;
  }

  /** Highest log index handed to the caller in {@linkcode RaftNode.ready} to apply. */
  get lastApplied(): number {
    return this.#log.lastApplied;
  }

  /** When this replica last accepted an AppendEntries from a leader of its term. */
  get lastLeaderContactAt(): number {
    return this.#lastLeaderContactAt;
  }

  /**
   * For a leader: which of the earlier terms' entries it, a replica that voted
   * for it, or a follower that answered it while the election's commit was
   * open knew an earlier leader answered (a leader answers each entry as it
   * commits it, or decides like this one, see
   * {@linkcode RaftNode.electionCommitOpen}); of the others, this leader cannot
   * tell. Final once `electionCommitOpen` is `false`.
   */
  get electionAnswered(): AnsweredReport {
    return this.#earlier.known;
  }

  /**
   * For a leader: whether followers' answers may still add to
   * {@linkcode RaftNode.electionAnswered}, from the election until every
   * follower answered, some replica knew every earlier entry answered, or
   * `retransmitMs` passed with at most one follower silent (longer when more
   * are, see {@linkcode EarlierAnswers.listening}), and the term's first entry
   * committed (which commits the earlier terms' entries). Each answer carries
   * what the follower was told of an earlier leader's last commits: a commit
   * notice reaches one follower (two under heavy loss), and that one, having
   * heard a leader last, is the last to stop ignoring vote requests, so it
   * rarely voted. Meanwhile this leader commits and serves as usual, and tells
   * followers its commit index with the earlier terms' entries it has not
   * decided; its caller holds back its decisions on those. It closes at the
   * end of an input that finds this leader holding its lease (see
   * {@linkcode RaftNode.holdsLease}): its caller then answers the gets that
   * waited for the decisions from its state machine, which no newer leader
   * can have changed. A leader cut off meanwhile decides nothing: it steps
   * down, and its successor was told those entries are undecided.
   * `false` for a follower or candidate.
   */
  get electionCommitOpen(): boolean {
    return this.#role === "leader" && !this.#electionCommitClosed;
  }

  /**
   * Whether this leader holds its lease at `now`: its term's first entry is
   * committed, and a majority acknowledged an AppendEntries sent less than
   * `leaseMs` ago (thesis §6.4.1). While it holds, no other replica can
   * become leader, so the entries this one applied are the latest committed.
   *
   * @param now The caller's clock.
   * @returns `false` for a follower or candidate.
   */
  holdsLease(now: number): boolean {
    if (this.#role !== "leader" || this.#log.commitIndex < this.#termStartIndex) return false;
    return leaseHolds(now, this.#progress.quorumAckedSentAt(now), this.#options.leaseMs);
  }

  /**
   * Whether this leader is cut off from a majority: entries or reads have
   * waited for `retransmitMs` (a retransmission went out), or two smoothed
   * round trips when those are longer, and no majority answered anything sent
   * meanwhile. No answer comes back sooner than a round trip: where two round
   * trips outgrew the retransmit interval (the deterministic simulation's long
   * delays), a leader its followers answered called itself cut off, sent its
   * clients away naming no leader, and the followers sent them back at its
   * next message, a storm of requests. Such a leader keeps its role until
   * check-quorum, the full election timeout, though it can serve nobody; the
   * caller can send elsewhere what it holds in no log. (Once two smoothed round
   * trips pass `electionTimeoutMaxMs`, check-quorum comes first.)
   *
   * @param now The caller's clock.
   * @returns `false` for a follower or candidate.
   */
  isCutOff(now: number): boolean {
    if (this.#role !== "leader" || this.peers.length === 0) return false;
    const since = now - Math.max(this.#options.retransmitMs, 2 * this.#pacing.roundTripMs);
    const entriesWaited = this.#log.commitIndex < this.#log.lastIndex &&
      this.#commitAwaitedSince < since;
    const readsWaited = this.#reads.oldestRequestedAt < since;
    return (entriesWaited || readsWaited) && this.#progress.quorumContactAt(now) < since;
  }

  /** Index of the last log entry, 0 when the log is empty. */
  get lastIndex(): number {
    return this.#log.lastIndex;
  }

  /**
   * A log entry.
   *
   * @param index A 1-based log index.
   * @returns The entry, or `undefined` when there is none at `index`.
   */
  entryAt(index: number): Entry | undefined {
    return this.#log.entryAt(index);
  }

  /**
   * Feeds one peer message. Messages that make no sense (unknown sender, absurd
   * indexes, ...) are dropped with a debug log line; this never throws on input.
   *
   * @param message A message whose shape the codec has validated.
   * @param now The caller's clock.
   */
  step(message: PeerMessage, now: number): void {
    this.#now = now;
    const problem = peerMessageProblem(message, this.id, this.#peerSet);
    if (problem !== undefined) {
      this.#debug(`dropped ${message.type} from ${message.src}: ${problem}`);
      return;
    }
    if (isVoteRequest(message)) {
      this.#handleVoteRequest(message, now);
    } else if (this.#stepTerm(message, now)) {
      this.#stepRole(message, now);
    }
    this.#closeElectionCommit(now);
  }

  /**
   * Runs the timers due at `now`: elections, heartbeats, retransmissions and
   * check-quorum. Harmless when nothing is due.
   *
   * @param now The caller's clock.
   */
  tick(now: number): void {
    this.#now = now;
    this.#tickRole(now);
    this.#closeElectionCommit(now);
  }

  /**
   * Appends a command to the log, to be replicated and handed back in
   * {@linkcode Ready.committedEntries} once committed. Only a leader that heard
   * from a majority within the lease, and whose replication has not stalled,
   * accepts: a leader cut off in a minority would append commands that may never
   * commit, and the caller could no longer safely send the request elsewhere.
   *
   * @param command Any JSON value.
   * @param now The caller's clock.
   * @returns Whether the command was appended.
   */
  propose(command: Command, now: number): boolean {
    this.#now = now;
    if (this.#role !== "leader" || !this.#hasRecentContact(now)) return false;
    if (this.#replicationStalled(now)) return false;
    if (this.#log.commitIndex >= this.#log.lastIndex) this.#commitAwaitedSince = now;
    this.#log.append({ term: this.#currentTerm, command });
    this.#pacing.proposed(now);
    this.#appendPending = true;
    this.#maybeCommit(now);
    this.#closeElectionCommit(now);
    return true;
  }

  /**
   * Asks for a linearizable read (§8, thesis §6.4). Under a lease it is ready at
   * once; otherwise once a majority acknowledged a heartbeat round sent after
   * this call. It comes back as a {@linkcode ReadState} with `context`. A leader
   * that steps down drops the reads still waiting: watch {@linkcode RaftNode.role}.
   *
   * @param context The caller's handle for this read.
   * @param now The caller's clock.
   * @returns `false` when this replica is not the leader.
   */
  requestRead(context: number, now: number): boolean {
    this.#now = now;
    if (this.#role !== "leader") return false;
    if (this.holdsLease(now)) {
      this.#readStates.push({ context, index: this.#log.commitIndex });
      return true;
    }
    const index = Math.max(this.#log.commitIndex, this.#termStartIndex);
    this.#reads.add({ context, index, requestedAt: now });
    this.#heartbeatRoundPending = true;
    this.#serveReadyReads(now);
    return true;
  }

  /**
   * Sends what the last inputs left to send, and takes everything the caller
   * must act on: messages, newly committed entries, reads ready to serve and the
   * time of the next timer. Call it after every input.
   *
   * @returns What to send, apply and serve, and the deadline for the next {@linkcode RaftNode.tick}.
   */
  ready(): Ready {
    this.#tellClosedElectionCommit();
    this.#flushPendingSends(this.#now);
    const messages = this.#outbox;
    const readStates = this.#readStates;
    this.#outbox = [];
    this.#readStates = [];
    const committedEntries = this.#log.takeEntriesToApply().map(([index, entry]) => ({
      index,
      entry,
    }));
    return { messages, committedEntries, readStates, deadline: this.#deadline() };
  }

  // ---- Terms and role changes (§5.1, §5.2) ----

  /**
   * Compares a non-vote message's term with ours once, for every role
   * (etcd's `Step`): a higher term makes us a follower in it, a lower one is
   * answered only when the sender must learn it is stale.
   *
   * @returns Whether the role handler must see the message.
   */
  #stepTerm(
    message: VoteReply | AppendEntries | AppendEntriesReply,
    now: number,
  ): boolean {
    if (message.type === "pre_vote_reply") {
      // A granted pre-vote carries the term asked about, which is not a real
      // term; a refusal carries the voter's term, which we adopt when higher.
      if (!message.granted && message.term > this.#currentTerm) {
        this.#becomeFollower(message.term, now);
        return false;
      }
      return true;
    }
    if (message.term > this.#currentTerm) {
      this.#becomeFollower(message.term, now);
    } else if (message.term < this.#currentTerm) {
      // The stale leader learns our term from the refusal; no hint applies.
      if (message.type === "append_entries") {
        this.#sendAppendReply(message, { conflictIndex: 0, conflictTerm: 0 });
      }
      return false;
    }
    return true;
  }

  #becomeFollower(term: number, now: number): void {
    const wasLeader = this.#role === "leader";
    if (wasLeader) this.#answered = mergeAnswered(this.#answered, this.#toldAnswered());
    if (term > this.#currentTerm) {
      this.#currentTerm = term;
      this.#votedFor = undefined;
    }
    this.#role = "follower";
    this.#leaderId = undefined;
    this.#stepRole = this.#stepFollower;
    this.#tickRole = this.#tickElection;
    if (wasLeader) {
      // The caller sees the role change and serves its reads elsewhere.
      this.#reads.clear();
      this.#appendPending = this.#heartbeatRoundPending = false;
    }
    this.#drawElectionTimeout(now);
    this.#info(`became follower at term ${this.#currentTerm}`);
  }

  /** Pre-vote (thesis §9.6): ask whether we could win before disturbing anyone's term. */
  #becomePreCandidate(now: number): void {
    // The leader is only suspected: pre-voting changes no term, so the replica
    // keeps naming it (etcd clears it; we keep it so the `leader` field the
    // simulator reads does not flicker to FFFF whenever one heartbeat is lost).
    this.#role = "pre_candidate";
    this.#stepRole = this.#stepPreCandidate;
    this.#tickRole = this.#tickElection;
    this.#votes = new Map([[this.id, this.#answered]]);
    this.#drawElectionTimeout(now);
    this.#info(`became pre_candidate at term ${this.#currentTerm}`);
    this.#broadcastVoteRequest("pre_vote", this.#currentTerm + 1, now);
    if (this.#hasVoteQuorum()) this.#becomeCandidate(now);
  }

  #becomeCandidate(now: number): void {
    this.#role = "candidate";
    this.#currentTerm++;
    this.#votedFor = this.id;
    this.#leaderId = undefined;
    this.#stepRole = this.#stepCandidate;
    this.#tickRole = this.#tickElection;
    this.#votes = new Map([[this.id, this.#answered]]);
    this.#voterLogEnds = new Map();
    this.#drawElectionTimeout(now);
    this.#info(`became candidate at term ${this.#currentTerm}`);
    this.#broadcastVoteRequest("request_vote", this.#currentTerm, now);
    if (this.#hasVoteQuorum()) this.#becomeLeader(now);
  }

  #becomeLeader(now: number): void {
    this.#role = "leader";
    this.#leaderId = this.id;
    this.#stepRole = this.#stepLeader;
    this.#tickRole = this.#tickLeader;
    this.#progress = new ProgressTracker(this.peers, this.#log.lastIndex + 1, now);
    this.#replicateToMatchingVoters();
    this.#pacing = new Pacing(this.#options, now);
    this.#hedgeAt = Infinity;
    this.#lastRoundIndex = 0;
    this.#roundToBareMajority = false;
    this.#earlier = new EarlierAnswers(this.#options, {
      answered: [...this.#votes.values()].reduce(mergeAnswered, this.#answered),
      lastEarlierIndex: this.#log.lastIndex,
      followers: this.peers.length,
      holdsCommand: (index) => this.#holdsCommand(index),
      now,
    });
    this.#electionCommitClosed = false;
    this.#electionCommitTold = false;
    this.#commitNoticeAt = Infinity;
    // §8: a no-op entry of the new term lets the leader commit, and so learn, the
    // entries of earlier terms, and is the "entry of its term" reads wait for.
    this.#termStartIndex = this.#log.append({ term: this.#currentTerm });
    this.#commitAwaitedSince = now;
    this.#info(`became leader at term ${this.#currentTerm}`);
    this.#appendPending = true;
    this.#maybeCommit(now);
  }

  /**
   * Starts replicating at once to each voter whose last entry this leader holds
   * (same index, same term): by the Log Matching Property (§5.3) the two logs
   * agree up to it, so the voter gets what follows in the term's first round.
   * Probed instead, as Raft starts every follower, a voter that lacked the last
   * entries (after rounds to a bare majority, two followers of four do) first
   * refused the probe, a round trip lost; and under loss a lost probe waited
   * for the retransmit timer, as no hedge resends a probe. A voter's log cannot
   * change between its vote and this leader's first AppendEntries: it refuses
   * AppendEntries of earlier terms, and this term has no other leader.
   */
  #replicateToMatchingVoters(): void {
    for (const [voter, [lastIndex, lastTerm]] of this.#voterLogEnds) {
      if (!this.#log.matchTerm(lastIndex, lastTerm)) continue;
      this.#progress.followers.get(voter)?.startReplicating(lastIndex);
    }
  }

  /**
   * Draws a new election timeout and restarts the timer with it. Drawn once per
   * role rather than on every AppendEntries (as etcd does): the deadline then only
   * moves later while a leader is heard, so the shell's timer need not be reset.
   */
  #drawElectionTimeout(now: number): void {
    const { electionTimeoutMinMs, electionTimeoutMaxMs } = this.#options;
    const spreadMs = electionTimeoutMaxMs - electionTimeoutMinMs;
    this.#electionTimeoutMs = electionTimeoutMinMs + Math.floor(this.#options.random() * spreadMs);
    this.#resetElectionTimer(now);
  }

  #resetElectionTimer(now: number): void {
    this.#electionDeadline = now + this.#electionTimeoutMs;
  }

  /** Learns who leads this term from its AppendEntries. */
  #setLeader(leaderId: Id): void {
    if (this.#leaderId !== leaderId) {
      this.#leaderId = leaderId;
      this.#debug(`following leader ${leaderId}`);
    }
  }

  // ---- Elections (§5.2, thesis §9.6 pre-vote, §6.2 check-quorum) ----

  /**
   * Whether vote requests are ignored: a leader holds its leadership, and a
   * replica that accepted an AppendEntries within the minimum election timeout
   * neither bumps its term nor grants (thesis §6.2). Leases rest on this rule, so
   * it holds even after a higher term made the replica forget that leader: its
   * acknowledgement may have renewed a lease that is still running.
   */
  #ignoresVotes(now: number): boolean {
    return this.#role === "leader" ||
      now - this.#lastLeaderContactAt < this.#options.electionTimeoutMinMs;
  }

  #handleVoteRequest(message: VoteRequest, now: number): void {
    if (this.#ignoresVotes(now)) {
      this.#debug(`ignored ${message.type} from ${message.src}: a leader is live`);
      // A follower that campaigns lost touch with this leader: it hears from it at once.
      const progress = this.#role === "leader" && this.#progress.followers.get(message.src);
      if (progress) this.#sendRound([this.#heartbeatTarget(message.src, progress, now)], now);
      return;
    }
    const upToDate = this.#log.isUpToDate(message.lastLogIndex, message.lastLogTerm);
    if (message.type === "pre_vote") {
      // Granting changes nothing here; a refusal carries our term so a replica
      // that fell behind catches up.
      const granted = message.term > this.#currentTerm && upToDate;
      this.#sendVoteReply(message, granted ? message.term : this.#currentTerm, granted);
      return;
    }
    if (message.term < this.#currentTerm) return;
    if (message.term > this.#currentTerm) this.#becomeFollower(message.term, now);
    const canVote = this.#votedFor === undefined || this.#votedFor === message.src;
    const granted = canVote && upToDate;
    if (granted) {
      this.#votedFor = message.src;
      this.#resetElectionTimer(now);
    }
    this.#sendVoteReply(message, this.#currentTerm, granted);
  }

  #hasVoteQuorum(): boolean {
    return this.#votes.size >= majority(this.peers.length + 1);
  }

  #tickElection(now: number): void {
    if (now >= this.#electionDeadline && this.#currentTerm === 0) {
      // No replica at term 0 has a leader to lose (a leader's term is at least
      // 1, and any message from it raises ours), and a vote request for term 1
      // raises the term of those replicas alone: nothing for pre-vote to protect.
      // It saves the first election a round trip and, in a cluster of five, 8
      // messages (on unreliable-3, whose bonus line is close, runs at 2300 or
      // more went from 31 to 22 of 200 on the virtual clock).
      this.#becomeCandidate(now);
    } else if (now >= this.#electionDeadline) {
      this.#becomePreCandidate(now);
    } else if (this.#role !== "follower" && now >= this.#voteRetransmitAt) {
      // Lost requests or replies would otherwise wait a whole election timeout.
      this.#resendVoteRequest(now);
    }
  }

  // ---- Role handlers (etcd's stepFollower / stepCandidate / stepLeader) ----

  #stepFollower(message: PeerMessage, now: number): void {
    if (message.type === "append_entries") this.#handleAppendEntries(message, now);
  }

  #stepPreCandidate(message: PeerMessage, now: number): void {
    if (message.type === "append_entries") {
      this.#becomeFollower(this.#currentTerm, now);
      this.#handleAppendEntries(message, now);
    } else if (message.type === "pre_vote_reply") {
      // A refusal carries the voter's own term, a grant the term asked about.
      this.#voteAnswered.add(message.src);
      if (!message.granted || message.term !== this.#currentTerm + 1) return;
      this.#votes.set(message.src, answeredReport(message.commitIndex, message.undecided));
      if (this.#hasVoteQuorum()) this.#becomeCandidate(now);
    }
  }

  #stepCandidate(message: PeerMessage, now: number): void {
    if (message.type === "append_entries") {
      this.#becomeFollower(this.#currentTerm, now);
      this.#handleAppendEntries(message, now);
    } else if (message.type === "request_vote_reply") {
      this.#voteAnswered.add(message.src);
      if (!message.granted) return;
      this.#votes.set(message.src, answeredReport(message.commitIndex, message.undecided));
      this.#voterLogEnds.set(message.src, [message.lastLogIndex, message.lastLogTerm]);
      if (this.#hasVoteQuorum()) this.#becomeLeader(now);
    }
  }

  #stepLeader(message: PeerMessage, now: number): void {
    if (message.type === "append_entries_reply") {
      this.#handleAppendReply(message, now);
    } else if (message.type === "append_entries") {
      this.#debug(`dropped append_entries from ${message.src}: two leaders in one term`);
    }
  }

  // ---- Log replication, follower side (§5.3) ----

  #handleAppendEntries(message: AppendEntries, now: number): void {
    this.#lastLeaderContactAt = now;
    this.#setLeader(message.src);
    this.#resetElectionTimer(now);
    const { prevLogIndex, prevLogTerm, entries } = message;
    if (!this.#log.matchTerm(prevLogIndex, prevLogTerm)) {
      this.#rejectAppend(message);
      return;
    }
    const conflict = this.#log.findConflict(prevLogIndex, entries);
    if (conflict !== 0 && conflict <= this.#log.commitIndex) {
      this.#debug(`dropped append_entries from ${message.src}: it conflicts at ${conflict}`);
      return;
    }
    const lastNewIndex = this.#log.appendAfter(prevLogIndex, entries);
    // §5.3: commitIndex = min(leaderCommit, index of last new entry).
    const commitIndex = Math.min(message.leaderCommit, lastNewIndex);
    this.#log.commitTo(commitIndex);
    this.#answered = mergeAnswered(this.#answered, answeredReport(commitIndex, message.undecided));
    const quiet = message.repliers !== undefined && !message.repliers.includes(this.id);
    if (!quiet) this.#sendAppendReply(message, { matchIndex: lastNewIndex });
  }

  /**
   * Fails the consistency check with the fast-backtracking hint (§5.3 end): the
   * term of our conflicting entry and the first index we store for it, or our
   * last index + 1 when the log is too short.
   */
  #rejectAppend(message: AppendEntries): void {
    if (message.prevLogIndex > this.#log.lastIndex) {
      this.#sendAppendReply(message, { conflictIndex: this.#log.lastIndex + 1, conflictTerm: 0 });
      return;
    }
    const conflictTerm = this.#log.term(message.prevLogIndex) ?? 0;
    const conflictIndex = this.#log.firstIndexOfTerm(message.prevLogIndex);
    this.#sendAppendReply(message, { conflictIndex, conflictTerm });
  }

  // ---- Log replication, leader side (§5.3, §5.4) ----

  #handleAppendReply(message: AppendEntriesReply, now: number): void {
    const progress = this.#progress.followers.get(message.src) as Progress;
    if (message.sentAt > now || (message.success && message.matchIndex > this.#log.lastIndex)) {
      this.#debug(`dropped append_entries_reply from ${message.src}: it acknowledges the future`);
      return;
    }
    // A follower back from seeming gone (a healed partition) had its retransmissions backed off
    // to an election timeout; what it lacks goes a retransmit interval from now instead.
    const rejoined = progress.lastAckAt + this.#options.electionTimeoutMaxMs <= now;
    progress.recordReply(message.sentAt);
    if (rejoined) progress.restartBackoff();
    // First copies only: the share measures one message each way, copies or not.
    const lost = message.secondCopy === true ? undefined : progress.settleAnswer(message.sentAt);
    if (lost !== undefined) this.#pacing.answerSettled(lost);
    if (this.electionCommitOpen) {
      this.#earlier.hear(message.src, answeredReport(message.commitIndex, message.undecided), now);
    }
    this.#pacing.sampleRoundTrip(message.sentAt, now);
    if (message.success) {
      if (progress.maybeUpdate(message.matchIndex)) this.#maybeCommit(now);
      this.#expectRoundPartners(message.matchIndex, now);
      this.#scheduleRetransmit(progress, now);
      this.#tellLateHolder(message.src, progress, now);
      // Followers catching up get their next batch as acknowledgements free a
      // slot; one that only lacks the newest entries gets them with its next turn,
      // so a burst of proposals does not make every acknowledgement cost a message.
      this.#continueCatchUps(now);
    } else {
      this.#backtrack(message, progress, now);
    }
    this.#serveReadyReads(now);
  }

  /**
   * Moves `nextIndex` back past the follower's whole conflicting term in one
   * round trip (§5.3 end), then probes from there.
   */
  #backtrack(message: AppendEntriesReply, progress: Progress, now: number): void {
    // A probed follower answers its probe; its rejections of anything else (an
    // older probe, a broadcast it was not a target of) are stale. So are a
    // replicating follower's rejections of what was sent before the entries it
    // has in flight (a broadcast it could not fit, sent before its catch-up batch):
    // that batch is answered next, and probing now would send it twice.
    const stale = progress.state === "probe"
      ? message.sentAt !== progress.probeSentAt
      : progress.hasEntriesInFlight && message.sentAt < progress.lastSentAt;
    if (stale) return;
    const lastOfTerm = message.conflictTerm > 0
      ? this.#log.lastIndexOfTerm(message.conflictTerm)
      : 0;
    const hinted = lastOfTerm > 0 ? lastOfTerm + 1 : message.conflictIndex;
    // A probe never moves up: a heartbeat broadcast anchored at the last entry
    // takes the probe's place, and its hint may lie above what was learned.
    const nextIndex = progress.state === "probe" ? Math.min(hinted, progress.nextIndex) : hinted;
    progress.becomeProbe(Math.min(nextIndex, this.#log.lastIndex + 1));
    if (this.#isFarBehind(progress)) this.#continueCatchUps(now);
    else this.#sendAppend(message.src, progress, now);
  }

  /**
   * §5.4.2: commit the highest index stored on a majority, but only when its
   * entry is of the current term (older entries commit with it, Figure 8).
   */
  #maybeCommit(now: number): void {
    const index = this.#progress.quorumMatchIndex(this.#log.lastIndex);
    if (index <= this.#log.commitIndex || this.#log.term(index) !== this.#currentTerm) return;
    const commandsCommitted = this.#holdsCommandBetween(this.#log.commitIndex + 1, index);
    this.#log.commitTo(index);
    this.#commitAwaitedSince = now;
    if (commandsCommitted) {
      this.#commitNoticeAt = Math.min(
        this.#commitNoticeAt,
        now + this.#pacing.commitNoticeDelayMs(),
      );
    }
    this.#serveReadyReads(now);
  }

  /**
   * Whether an entry from `from` to `to` holds a command. Only commands are
   * answered, so only their commits need telling before the next
   * AppendEntries: a successor that missed the commit of a no-op has no one
   * to answer twice.
   */
  #holdsCommandBetween(from: number, to: number): boolean {
    for (let index = from; index <= to; index++) {
      if (this.#holdsCommand(index)) return true;
    }
    return false;
  }

  /** Whether the entry at `index` holds a command (a no-op answers no one). */
  #holdsCommand(index: number): boolean {
    return this.#log.entryAt(index)?.command !== undefined;
  }

  /**
   * Closes the election's commit (see {@linkcode RaftNode.electionCommitOpen})
   * once followers can add nothing to what this leader knows was answered,
   * the term's first entry committed, and this leader holds its lease.
   */
  #closeElectionCommit(now: number): void {
    if (this.#role !== "leader" || this.#electionCommitClosed) return;
    if (this.#earlier.listening || this.#log.commitIndex < this.#termStartIndex) return;
    this.#electionCommitClosed = this.holdsLease(now);
  }

  /**
   * Once the election's commit closes, tells every follower that no earlier
   * entry is undecided any more: the term's first commit may settle a backlog
   * of earlier terms' entries at once, and a successor elected soon after
   * learns of it through their votes (electionAnswered). Later commits travel
   * with the next AppendEntries. A leader with no earlier entries (the first
   * of a cluster) has nothing to settle: its followers learn of its no-op's
   * commit with its next AppendEntries.
   */
  #tellClosedElectionCommit(): void {
    if (this.#electionCommitTold || this.#role !== "leader" || this.electionCommitOpen) return;
    this.#electionCommitTold = true;
    if (this.#termStartIndex > 1) this.#heartbeatRoundPending = true;
  }

  /**
   * What this leader tells followers of the entries answered: its commit
   * index, and while the election's commit is open, the earlier terms'
   * entries above what it knows answered, which its caller has not yet decided
   * whether to answer. A successor must not take those for answered.
   */
  #toldAnswered(): AnsweredReport {
    const undecided = this.electionCommitOpen ? this.#earlier.undecided : undefined;
    return answeredReport(this.#log.commitIndex, undecided);
  }

  /**
   * Sends the entries appended since the last `ready()` in one round, then a
   * heartbeat to each follower that got nothing in it when a round is due (for
   * ReadIndex or a term's first commit): all reads waiting share that one
   * round. Then a commit notice that is due and that none of these carried.
   */
  #flushPendingSends(now: number): void {
    if (this.#role !== "leader") return;
    if (this.#appendPending && this.#log.commitIndex >= this.#lastRoundIndex) {
      this.#replicateNewEntries(now);
      this.#appendPending = false;
    }
    if (this.#heartbeatRoundPending) this.#sendHeartbeats(this.#followersNotSentAt(now), now);
    this.#heartbeatRoundPending = false;
    if (now >= this.#commitNoticeAt) this.#sendCommitNotice(now);
  }

  /** Followers not sent anything at `now`, but for those that seem gone. */
  #followersNotSentAt(now: number): [Id, Progress][] {
    return [...this.#progress.followers].filter(([, progress]) =>
      progress.lastSentAt < now && !this.#seemsGone(progress, now)
    );
  }

  /**
   * Sends new entries at once (pipelining) to just enough replicating followers
   * to commit them, those sent to least recently first, so that consecutive
   * entries rotate over the followers and each hears from the leader every few
   * entries; the others get the entries they lack with their next turn or
   * heartbeat. Probed followers get their probe. Should the acknowledgements be
   * late by a few round trips, the hedge sends to one more follower.
   */
  #replicateNewEntries(now: number): void {
    this.#lastRoundIndex = this.#log.lastIndex;
    const wanting: RoundTarget[] = [];
    for (const [peer, progress] of this.#progress.followers) {
      if (this.#wantsEntries(progress)) {
        wanting.push({
          peer,
          progress,
          start: this.#appendStart(progress, now),
          withEntries: true,
        });
      }
    }
    const replicating = wanting.filter(({ progress }) => progress.state === "replicate");
    const needed = this.#followersForMajority;
    this.#hedgesLeft = this.peers.length;
    // A leader alone commits its entries as it appends them: it has no one to hedge to.
    if (this.peers.length > 0) {
      // A round sent as the one before commits (entries held back behind it)
      // keeps that round's hedge time when sooner, which may be due already:
      // hedged at once. Clearing the hedge at each commit made puts slower at
      // 30 % loss (put p50 slower in 8 of 8 side-by-side advanced-3 runs;
      // BENCHMARKS.md).
      this.#hedgeAt = Math.min(this.#hedgeAt, now + this.#pacing.hedgeDelayMs());
    }
    this.#pacing.judgeLoss(needed, this.#answeringFollowers(now));
    if (replicating.length <= needed || this.#pacing.sendsToEveryFollower) {
      // Under heavy loss, most rounds to a bare majority would need hedges:
      // every follower gets the entries, and the average decays back slowly so
      // the leader tries a bare majority again once the network is better.
      this.#pacing.roundSent(false);
      this.#roundToBareMajority = false;
      this.#sendRound(wanting, now);
      return;
    }
    const chosen = replicating.sort((a, b) => a.progress.lastSentAt - b.progress.lastSentAt)
      .slice(0, needed);
    const probes = wanting.filter(({ progress }) => progress.state === "probe");
    this.#sendRound([...chosen, ...probes], now);
    this.#roundToBareMajority = true;
    this.#pacing.roundSent(true);
  }

  /**
   * An acknowledgement of a round to a bare majority that leaves it short of
   * one means another target's is missing; the targets got the round at the
   * same moment, so theirs come close together, and the hedge need not wait
   * for a few round trips from the round. It goes a round trip after this
   * acknowledgement unless the rest arrive first. Measured (unreliable-2, 10 %
   * loss, seed 11, 409 rounds): the second acknowledgement came within 1 ms of
   * the first in 273 rounds and 1 to 3 ms later in 6; in the other 130 it was
   * lost and the hedge committed the round, at 7.3 ms (p50) against 1.9 ms for
   * all rounds, with a smoothed round trip of 1.2 to 1.7 ms.
   */
  #expectRoundPartners(matchIndex: number, now: number): void {
    const roundOpen = this.#log.commitIndex < this.#lastRoundIndex;
    if (!this.#roundToBareMajority || !roundOpen || matchIndex < this.#lastRoundIndex) return;
    this.#hedgeAt = Math.min(this.#hedgeAt, now + this.#pacing.partnerHedgeDelayMs());
  }

  /**
   * Sends the entries not yet committed to one more replicating follower that
   * has not acknowledged them: one not sent them yet if any, else the one sent
   * to least recently (a fast retransmission, long before the retransmit
   * timer). Then it waits a few round trips again, at most once per follower
   * for the entries of one round, so a leader that cannot commit (cut off with
   * a minority) does not flood its side.
   */
  #hedge(now: number): void {
    this.#hedgeAt = Infinity;
    if (this.#log.commitIndex >= this.#log.lastIndex || this.#hedgesLeft <= 0) return;
    this.#hedgesLeft--;
    this.#pacing.hedged();
    const lastIndex = this.#log.lastIndex;
    const notSent = (progress: Progress) => progress.nextIndex <= lastIndex ? 0 : 1;
    const [next] = [...this.#progress.followers]
      .filter(([, progress]) =>
        progress.state === "replicate" && progress.matchIndex < lastIndex &&
        (progress.nextIndex <= lastIndex || this.#unacknowledgedFit(progress))
      )
      .sort(([, a], [, b]) => notSent(a) - notSent(b) || a.lastSentAt - b.lastSentAt);
    if (next === undefined) return;
    this.#sendAppend(next[0], next[1], now, true);
    this.#hedgeAt = now + this.#pacing.hedgeDelayMs();
  }

  /**
   * Whether replication stalled: entries have waited to commit for as long as a
   * round and all its hedges take, and no majority answered meanwhile. Then this
   * leader is most likely cut off in a minority, and a command appended now would
   * never commit; its caller can hold the request outside the log instead, where
   * it may still go to the next leader. Without it the leader took commands for
   * its whole lease (960 ms), and advanced-4 lost about five puts to each
   * partition that cut the leader off.
   */
  #replicationStalled(now: number): boolean {
    if (this.#log.commitIndex >= this.#log.lastIndex) return false;
    const hedgesMs = (this.peers.length + 1) * this.#pacing.hedgeDelayMs();
    const since = now - Math.min(this.#options.retransmitMs, hedgesMs);
    return this.#commitAwaitedSince < since && this.#progress.quorumContactAt(now) < since;
  }

  /** Whether every entry the follower has not acknowledged fits in one AppendEntries. */
  #unacknowledgedFit(progress: Progress): boolean {
    return this.#log.lastIndex - progress.matchIndex <= this.#options.maxEntriesPerAppend;
  }

  /**
   * Where the next AppendEntries to a follower starts: at `nextIndex`, entries
   * not sent yet (pipelining). A retransmission (the retransmit timer, or the
   * hedge a few round trips after a round) sends a replicating follower again
   * every entry it has not acknowledged, while they fit in one message; so does
   * a new round to a follower whose acknowledgement is overdue by the hedge's
   * margin (lost, under loss): sent only its new entries, it would refuse them
   * for the gap and need them again, two messages more and a round trip later.
   * A round never resends what is merely in flight: when acknowledgements lag,
   * as on a starved machine, resending the unacknowledged window with every put
   * made each round a full-size batch per follower (issue 11).
   */
  #appendStart(progress: Progress, now: number, retransmit = false): number {
    const resend = retransmit || progress.lastSentAt + this.#pacing.hedgeDelayMs() <= now;
    return resend && progress.state === "replicate" && this.#unacknowledgedFit(progress)
      ? progress.matchIndex + 1
      : progress.nextIndex;
  }

  /** Whether the follower lacks entries not sent to it yet, and may be sent some now. */
  #wantsEntries(progress: Progress): boolean {
    return progress.canSend && progress.nextIndex <= this.#log.lastIndex;
  }

  /**
   * Whether the follower lacks more than a broadcast, or one AppendEntries,
   * carries, so it is caught up apart: batch after batch, each as the last is
   * acknowledged. A follower that lacks more than one AppendEntries carries and
   * waits for its turns gains one batch a turn, and new entries may come as
   * fast: with one entry a message it stayed 8 behind for good (dst churn
   * profile, seed 597).
   */
  #isFarBehind(progress: Progress): boolean {
    const carried = Math.min(MAX_BROADCAST_BACKLOG, this.#options.maxEntriesPerAppend);
    return this.#log.lastIndex - progress.matchIndex > carried;
  }

  /**
   * How many more far followers may be sent a batch now. A follower that has not
   * answered lately holds no slot: the retransmit timer paces what it is sent, and
   * a dead follower would otherwise hold one for good.
   */
  #freeCatchUpSlots(now: number): number {
    let busy = 0;
    for (const progress of this.#progress.followers.values()) {
      const holdsSlot = progress.hasEntriesInFlight && this.#answeredRecently(progress, now);
      if (holdsSlot && this.#isFarBehind(progress)) busy++;
    }
    return Math.max(0, MAX_CATCH_UPS_IN_FLIGHT - busy);
  }

  /**
   * Sends far followers their next batch while slots are free, least recently
   * sent first. It runs on every acknowledgement, so in the steady state (no
   * follower far behind) it is one pass over the followers and nothing more.
   */
  #continueCatchUps(now: number): void {
    const waiting: [Id, Progress][] = [];
    for (const [peer, progress] of this.#progress.followers) {
      if (!this.#isFarBehind(progress) || progress.hasEntriesInFlight) continue;
      if (this.#wantsEntries(progress)) waiting.push([peer, progress]);
    }
    if (waiting.length === 0) return;
    waiting.sort(([, a], [, b]) => a.lastSentAt - b.lastSentAt);
    const free = this.#freeCatchUpSlots(now);
    for (const [peer, progress] of waiting.slice(0, free)) this.#sendAppend(peer, progress, now);
  }

  #sendAppend(peer: Id, progress: Progress, now: number, retransmit = false): void {
    const start = this.#appendStart(progress, now, retransmit);
    this.#sendRound([{ peer, progress, start, withEntries: true }], now);
  }

  /**
   * Sends one round of AppendEntries: to each target its entries from `start`
   * (or, without entries, a heartbeat anchored at its match index, which it
   * always accepts). A round to every follower, or to more than
   * {@linkcode MAX_SEPARATE_APPENDS}, is one broadcast that ends at the last
   * entry (see {@linkcode RaftNode.#sendBroadcast}): the simulator counts a
   * broadcast as one message per peer, so it costs no more than separate sends
   * to all, and the leader's output per input stays one datagram however large
   * the cluster. A follower that already holds some of its entries accepts
   * them again unchanged.
   */
  #sendRound(targets: readonly RoundTarget[], now: number, repliers?: Id[]): void {
    if (targets.length === 0) return;
    const quiet = repliers === undefined ? {} : { repliers };
    if (targets.length === this.peers.length || targets.length > MAX_SEPARATE_APPENDS) {
      // Followers far behind would make every broadcast carry their backlog;
      // they are caught up separately instead, while catch-up slots are free,
      // each with one batch in flight at a time (the next goes when one is
      // acknowledged), so catching up is paced by round trips, not by how fast
      // puts arrive. The broadcast reaches the others that are far behind too,
      // so each target hears from the leader: one that does not fit is refused,
      // and the refusal makes it probed.
      const nearFrom = this.#broadcastFloor();
      const isFar = (target: RoundTarget) => target.withEntries && target.start < nearFrom;
      const far = targets.filter(isFar).sort((a, b) =>
        a.progress.lastSentAt - b.progress.lastSentAt
      );
      const caughtUp = far.filter((target) => !target.progress.hasEntriesInFlight)
        .slice(0, this.#freeCatchUpSlots(now));
      const waiting = far.filter((target) => !caughtUp.includes(target));
      const near = targets.filter((target) => !isFar(target));
      this.#sendBroadcast(near, waiting, now, quiet);
      for (const target of caughtUp) this.#sendSeparate(target, now, quiet);
    } else {
      for (const target of targets) this.#sendSeparate(target, now, quiet);
    }
    // Every target, heartbeat ones too: a broadcast may have carried entries to
    // them, and what a target lacks must be resent if no answer comes.
    for (const { progress } of targets) this.#scheduleRetransmit(progress, now);
  }

  /**
   * The lowest index from which one AppendEntries carries every entry through
   * the last, at most {@linkcode MAX_BROADCAST_BACKLOG} back. A follower takes
   * the commit index only up to the last entry it was sent (§5.3), so a
   * broadcast that stopped short of the last entry (entries over
   * `maxEntriesPerAppend` or {@linkcode MAX_APPEND_BYTES}) would keep every
   * follower it reaches below the commit for as long as a laggard pinned it.
   */
  #broadcastFloor(): number {
    const tailStart = this.#log.tailStart(this.#options.maxEntriesPerAppend, MAX_APPEND_BYTES);
    return Math.max(this.#log.lastIndex + 1 - MAX_BROADCAST_BACKLOG, tailStart);
  }

  /**
   * One AppendEntries to every peer, from the lowest start of the `targets`
   * given entries (none is below the broadcast floor, so it ends at the last
   * entry); a round of heartbeats only is anchored at the last entry. Either
   * way every follower that holds the log up to there learns the commit index.
   * A target whose log ends below the anchor (a probe, entries lost on the
   * way) refuses it, and the refusal makes it probed. The `waiting` targets,
   * far behind, hear from the leader by it, and refuse it too.
   */
  #sendBroadcast(
    targets: readonly RoundTarget[],
    waiting: readonly RoundTarget[],
    now: number,
    quiet: { repliers?: Id[] },
  ): void {
    if (targets.length === 0 && waiting.length === 0) return;
    const starts = targets.filter((target) => target.withEntries).map((target) => target.start);
    const from = starts.length === 0 ? this.#log.lastIndex + 1 : Math.min(...starts);
    const entries = starts.length === 0 ? [] : this.#entriesFrom(from);
    // A broadcast for some of the followers only: the others take the entries
    // without answering, so a round costs as many answers as it has targets.
    const repliers = targets.length < this.peers.length && quiet.repliers === undefined
      ? { repliers: targets.map((target) => target.peer) }
      : quiet;
    this.#send({ ...this.#appendEntries(BROADCAST, from - 1, entries, now), ...repliers });
    this.#awaitAnswers(repliers.repliers ?? this.peers, now);
    for (const { progress } of targets) progress.sentAppend(from, entries.length, now);
    for (const { progress } of waiting) progress.sentHeartbeat(now);
  }

  /** One AppendEntries to one follower: its entries from `start`, or a heartbeat. */
  #sendSeparate(target: RoundTarget, now: number, quiet: { repliers?: Id[] }): void {
    const { peer, progress, start, withEntries } = target;
    if (withEntries) {
      const entries = this.#entriesFrom(start);
      this.#send(this.#appendEntries(peer, start - 1, entries, now));
      progress.sentAppend(start, entries.length, now);
    } else {
      this.#send({ ...this.#appendEntries(peer, progress.matchIndex, [], now), ...quiet });
      progress.sentHeartbeat(now);
    }
    if (withEntries || quiet.repliers === undefined || quiet.repliers.includes(peer)) {
      this.#awaitAnswers([peer], now);
    }
  }

  /** Notes the answers asked of followers, settled as their replies come back. */
  #awaitAnswers(peers: readonly Id[], now: number): void {
    for (const peer of peers) this.#progress.followers.get(peer)?.awaitAnswer(now);
  }

  #entriesFrom(index: number): Entry[] {
    return this.#log.slice(index, this.#options.maxEntriesPerAppend, MAX_APPEND_BYTES);
  }

  #appendEntries(dst: Id, prevLogIndex: number, entries: Entry[], now: number): AppendEntries {
    // §5.3: a follower takes the commit index up to the last entry it was sent.
    const { commitIndex: leaderCommit, undecided } = this.#toldAnswered();
    const lastSent = prevLogIndex + entries.length;
    if (lastSent >= leaderCommit) this.#commitNoticeAt = Infinity;
    this.#noteToldCommit(dst, Math.min(leaderCommit, lastSent));
    // A second answer is there to commit a new entry in one round trip under
    // heavy loss; a resend of committed entries has no commit to speed.
    const replyTwice = entries.length > 0 && lastSent > leaderCommit && this.#pacing.lossy;
    return {
      src: this.id,
      dst,
      leader: this.id,
      type: "append_entries",
      term: this.#currentTerm,
      prevLogIndex,
      prevLogTerm: this.#log.term(prevLogIndex) ?? 0,
      entries,
      leaderCommit,
      sentAt: now,
      ...(undecided === undefined ? {} : { undecided }),
      ...(replyTwice ? { replyTwice: true } : {}),
    };
  }

  /** Records what commit index an AppendEntries to `dst` (one follower, or all) tells. */
  #noteToldCommit(dst: Id, index: number): void {
    if (dst !== BROADCAST) return this.#progress.followers.get(dst)?.toldCommit(index);
    for (const progress of this.#progress.followers.values()) progress.toldCommit(index);
  }

  /** Arms the retransmit timer while the follower lacks entries; disarms it otherwise. */
  #scheduleRetransmit(progress: Progress, now: number): void {
    if (progress.matchIndex >= this.#log.lastIndex) {
      progress.disarmRetransmit();
      return;
    }
    // Back off towards the contact interval for a follower that does not answer
    // (dead or cut off), so it costs no more than heartbeats would.
    const { retransmitMs } = this.#options;
    const contactMs = this.#contactIntervalMs(progress, now);
    const backoffMs = Math.min(
      retransmitMs * 2 ** progress.retransmits,
      Math.max(retransmitMs, contactMs),
    );
    progress.armRetransmit(now + backoffMs);
  }

  #tickLeader(now: number): void {
    if (this.#progress.quorumContactAt(now) + this.#options.electionTimeoutMaxMs <= now) {
      // Check-quorum (thesis §6.2): a leader cut off from a majority steps down.
      // The full election timeout, not its minimum: under heavy loss a healthy
      // leader can miss a majority's replies for a few heartbeats.
      this.#info(`stepped down at term ${this.#currentTerm}: no majority heard from`);
      this.#becomeFollower(this.#currentTerm, now);
      return;
    }
    this.#earlier.tick(now);
    if (now >= this.#commitNoticeAt) this.#sendCommitNotice(now);
    if (now >= this.#hedgeAt && this.#appendPending) {
      // The last round is late: the entries held back behind it go out now.
      this.#hedgeAt = Infinity;
      this.#replicateNewEntries(now);
      this.#appendPending = false;
    } else if (now >= this.#hedgeAt) {
      this.#hedge(now);
    }
    const targets: RoundTarget[] = [];
    for (const [peer, progress] of this.#progress.followers) {
      let retransmit = progress.takeRetransmit(now);
      if (retransmit && this.#canWaitForTurn(progress, now)) {
        progress.armRetransmit(now + this.#options.heartbeatIntervalMs);
        retransmit = false;
      }
      if (retransmit) {
        // A follower still answering lost a message and stays replicating (the
        // resend carries everything it lacks); one that went quiet is probed, so
        // new entries stop going to a dead or cut-off follower until it answers again.
        if (progress.state !== "replicate" || !this.#answeredRecently(progress, now)) {
          progress.becomeProbe(
            progress.state === "replicate" ? progress.matchIndex + 1 : progress.nextIndex,
          );
        }
        const start = this.#appendStart(progress, now, true);
        targets.push({ peer, progress, start, withEntries: true });
      } else if (progress.lastSentAt + this.#contactIntervalMs(progress, now) <= now) {
        targets.push(this.#heartbeatTarget(peer, progress, now));
      }
    }
    this.#sendRound(targets, now, this.#quietRepliers(targets, now));
  }

  /**
   * For a round of heartbeats only: the followers that must answer. Liveness
   * needs every follower to hear from the leader, but the lease and
   * check-quorum need answers from a majority only, so the live followers heard
   * from least recently answer and the others stay quiet: a heartbeat round to
   * four followers costs six messages, not eight. Followers not heard from
   * lately answer too (a dead one sends nothing): left quiet, one whose answers
   * were lost would never answer again, and would come to seem gone. `undefined`
   * (all answer) when the round carries entries or too few followers answer
   * lately.
   */
  #quietRepliers(targets: readonly RoundTarget[], now: number): Id[] | undefined {
    if (targets.some((target) => target.withEntries)) return undefined;
    // Contact fading (see #contactFading): all answer.
    if (this.#majoritySilent(now)) return undefined;
    const needed = this.#followersForMajority;
    // Answered this term: `lastAckAt` starts at the election, and would count a
    // follower that died with the last leader as live, so that it was picked to
    // answer and a live one left quiet.
    const isLive = (progress: Progress) =>
      progress.ackedSentAt + 3 * this.#options.heartbeatIntervalMs > now;
    const followers = [...this.#progress.followers];
    const live = followers.filter(([, progress]) => isLive(progress))
      .sort(([, a], [, b]) => a.ackedSentAt - b.ackedSentAt);
    if (live.length <= needed) return undefined;
    const silent = followers.filter(([, progress]) => !isLive(progress));
    return [...live.slice(0, needed), ...silent].map(([peer]) => peer);
  }

  /**
   * Tells one follower that holds every committed entry, the one heard from
   * last, the commit index, without asking for an answer: one message. A new
   * leader learns it from that follower's vote or its first answer to the new
   * leader (see {@linkcode RaftNode.electionCommitOpen}), and does not answer again the puts this
   * leader answered (a commit reaches followers otherwise only with the next
   * AppendEntries, which a crash may never let leave). Under any loss
   * measured (see {@linkcode Pacing.tellsCommitTwice}) two followers are told:
   * a leader killed before its next AppendEntries leaves its last answered put
   * to be answered again when every notice was lost. Followers whose
   * acknowledgements come later are told as they come
   * ({@linkcode RaftNode.#tellLateHolder}).
   */
  #sendCommitNotice(now: number): void {
    this.#commitNoticeAt = Infinity;
    const holders = [...this.#progress.followers]
      .filter(([, progress]) => progress.matchIndex >= this.#log.commitIndex)
      .sort(([, a], [, b]) => b.lastAckAt - a.lastAckAt);
    const tellTwo = this.#pacing.tellsCommitTwice;
    for (const [peer, progress] of holders.slice(0, tellTwo ? 2 : 1)) {
      this.#sendNotice(peer, progress, now);
    }
  }

  /** One commit notice: an AppendEntries at the follower's match index that asks for no answer. */
  #sendNotice(peer: Id, progress: Progress, now: number): void {
    this.#send({ ...this.#appendEntries(peer, progress.matchIndex, [], now), repliers: [] });
    progress.sentHeartbeat(now);
  }

  /**
   * Tells a follower that holds every entry but was not told the commit (its
   * acknowledgement, or the second copy of one, came after the commit's notice
   * went to others: a hedge's follower, or under heavy loss a third or fourth
   * follower) the commit index, in one message that asks for no answer, where
   * requests come sparse: no new entry waits to carry it, and the successor of a
   * leader killed now learns that its last put was answered from any follower
   * told, so every notice to a holder of that put makes answering it twice less
   * likely. The commit holds a command: sparse means four proposals this term,
   * and the last entry, which is committed, is one of them.
   */
  #tellLateHolder(peer: Id, progress: Progress, now: number): void {
    const { commitIndex, lastIndex } = this.#log;
    if (this.#commitNoticeAt !== Infinity || this.#appendPending || lastIndex > commitIndex) return;
    if (progress.matchIndex < commitIndex || progress.toldCommitIndex >= commitIndex) return;
    if (this.#pacing.commitNoticeDelayMs() > 0) return;
    this.#sendNotice(peer, progress, now);
  }

  /**
   * Whether a follower that lost an AppendEntries or its answer can wait for
   * its next turn instead of a retransmission: once everything it lacks is
   * committed, a resend only gives it a copy, two messages, and new entries go
   * to the followers in turn, each carrying all that its follower has not
   * acknowledged. Only the first retransmission waits, one heartbeat interval,
   * so without new puts a follower lags that much longer; one that stopped
   * answering is probed at once as before. Not while entries go to every
   * follower: under that much loss the wait measured worse (on the in-memory
   * network of tests/raft, six seeds of 300 puts, gaps drawn around 60 ms,
   * 0.6 ms each way, at 30 % loss: p90 commit 21.8 ms against 9.5 ms, for 1 %
   * fewer messages).
   */
  #canWaitForTurn(progress: Progress, now: number): boolean {
    return progress.retransmits === 1 && progress.state === "replicate" &&
      this.#answeredRecently(progress, now) && this.#log.commitIndex >= this.#log.lastIndex &&
      !this.#pacing.sendsToEveryFollower;
  }

  /** Whether the follower replied within two heartbeat intervals. */
  #answeredRecently(progress: Progress, now: number): boolean {
    return progress.lastAckAt + 2 * this.#options.heartbeatIntervalMs > now;
  }

  /** How many followers replied within two heartbeat intervals. */
  #answeringFollowers(now: number): number {
    let answering = 0;
    for (const progress of this.#progress.followers.values()) {
      if (this.#answeredRecently(progress, now)) answering++;
    }
    return answering;
  }

  /**
   * Whether a follower seems gone: silent for the maximum election timeout while
   * the followers answering lately (see
   * {@linkcode RaftNode.#answeringFollowers}) make a majority without it. It is
   * dead or cut off, and the heartbeats it would get are lost, so it hears from
   * this leader once per maximum election timeout instead (a killed leader cost
   * its successor one AppendEntries every 400 ms until the run ended, 6 % of
   * advanced-2's messages). If it is alive, its own election timeout has run
   * out, so it campaigns, and its vote request gets an AppendEntries back at
   * once (`#handleVoteRequest`): it rejoins at its next campaign or the next
   * probe, whichever comes first. Neither the lease nor check-quorum counts on
   * it, as a majority answers without it. Not while this leader waits for silent
   * followers' commit indexes: a partition's healed side must hear from it
   * within a heartbeat interval (see `ELECTION_COMMIT_WAIT_TIMEOUTS` in
   * earlier_answers.ts).
   */
  #seemsGone(progress: Progress, now: number): boolean {
    if (this.#earlier.listening) return false;
    const silent = progress.lastAckAt + this.#options.electionTimeoutMaxMs <= now;
    return silent && this.#answeringFollowers(now) >= this.#followersForMajority;
  }

  /**
   * How long a follower may go without an AppendEntries: see
   * {@linkcode RaftNode.#seemsGone} and {@linkcode RaftNode.#contactFading}.
   */
  #contactIntervalMs(progress: Progress, now: number): number {
    const { heartbeatIntervalMs, electionTimeoutMaxMs, retransmitMs } = this.#options;
    if (this.#seemsGone(progress, now)) return electionTimeoutMaxMs;
    return this.#contactFading(progress, now) ? retransmitMs : heartbeatIntervalMs;
  }

  /**
   * Whether a follower silent for two heartbeat intervals is asked again every
   * `retransmitMs` instead of every heartbeat interval: while no majority has
   * answered for that long either, and this leader is not cut off (nothing it
   * sent has waited long unanswered, see {@linkcode RaftNode.isCutOff}).
   * Check-quorum steps down after `electionTimeoutMaxMs` without a majority,
   * and heartbeats alone give five chances in that time (at 400, 800, 1200,
   * 1600 and 2000 ms; the sixth leaves as it steps down). With two live
   * followers of four at 30 % loss a round trip comes back 49 % of the time,
   * each of the two misses five in a row 3.5 % of the time (0.51^5), and an
   * idle leader stepped down about once every 16 s though both were there
   * (BENCHMARKS.md). Asked every 100 ms from the 800th ms on, a follower has
   * seventeen chances instead (0.51^17, about 1 in 100,000); the same probe saw
   * no step-down. A follower silent for longer than `electionTimeoutMaxMs`
   * keeps its usual interval: it is most likely dead, and the leader has had a
   * majority without it all that time.
   */
  #contactFading(progress: Progress, now: number): boolean {
    if (this.#answeredRecently(progress, now)) return false;
    if (progress.lastAckAt + this.#options.electionTimeoutMaxMs <= now) return false;
    return this.#majoritySilent(now) && !this.isCutOff(now);
  }

  /** Whether no majority has answered for two heartbeat intervals. */
  #majoritySilent(now: number): boolean {
    return this.#progress.quorumContactAt(now) + 2 * this.#options.heartbeatIntervalMs <= now;
  }

  /**
   * A heartbeat for a follower: its missing entries when it may take them, else
   * an empty AppendEntries anchored at its match index.
   */
  #heartbeatTarget(peer: Id, progress: Progress, now: number): RoundTarget {
    const withEntries = this.#wantsEntries(progress);
    const start = withEntries ? this.#appendStart(progress, now) : progress.matchIndex + 1;
    return { peer, progress, start, withEntries };
  }

  #sendHeartbeats(targets: readonly [Id, Progress][], now: number): void {
    this.#sendRound(
      targets.map(([peer, progress]) => this.#heartbeatTarget(peer, progress, now)),
      now,
    );
  }

  // ---- Reads (§8, thesis §6.4) ----

  #hasRecentContact(now: number): boolean {
    return this.#progress.quorumContactAt(now) > now - this.#options.leaseMs;
  }

  /**
   * Serves the reads a majority confirmed with AppendEntries sent after they
   * arrived (thesis §6.4), only while this leader holds its lease: the
   * acknowledgements may have waited in the socket while this process
   * stalled, and older than the lease they no longer rule out a newer leader,
   * which may have answered a newer put already (the course's client judges a
   * get by the last put answered when the get's answer arrives). A fresh
   * round serves them instead. A read's index is at least the term's first,
   * so the lease's other condition, that entry committed, holds for any read
   * served.
   */
  #serveReadyReads(now: number): void {
    if (this.#reads.size === 0 || !this.holdsLease(now)) return;
    const confirmedSince = this.#progress.quorumAckedSentAt(now);
    for (const { context, index } of this.#reads.takeReady(confirmedSince, this.#log.commitIndex)) {
      this.#readStates.push({ context, index });
    }
  }

  // ---- Output ----

  #deadline(): number {
    if (this.#role !== "leader") {
      const voteRetransmitAt = this.#role === "follower" ? Infinity : this.#voteRetransmitAt;
      return Math.min(this.#electionDeadline, voteRetransmitAt);
    }
    let deadline = Math.min(
      this.#progress.quorumContactAt(this.#now) + this.#options.electionTimeoutMaxMs,
      this.#hedgeAt,
      this.#commitNoticeAt,
      this.#earlier.deadline(this.#now),
    );
    for (const progress of this.#progress.followers.values()) {
      deadline = Math.min(
        deadline,
        progress.lastSentAt + this.#contactIntervalMs(progress, this.#now),
        progress.retransmitAt ?? Infinity,
      );
    }
    return deadline;
  }

  #send(message: PeerMessage): void {
    this.#outbox.push(message);
  }

  #broadcastVoteRequest(type: VoteRequest["type"], term: number, now: number): void {
    if (this.peers.length === 0) return;
    this.#send(this.#voteRequest(BROADCAST, type, term));
    this.#voteAnswered = new Set();
    this.#voteRetransmits = 0;
    this.#voteRetransmitAt = now + this.#options.retransmitMs;
  }

  /**
   * Asks again each peer that has not answered this campaign, waiting twice as
   * long each time so a cut-off replica does not flood the network.
   */
  #resendVoteRequest(now: number): void {
    const type = this.#role === "pre_candidate" ? "pre_vote" : "request_vote";
    const term = this.#role === "pre_candidate" ? this.#currentTerm + 1 : this.#currentTerm;
    for (const peer of this.peers) {
      if (!this.#voteAnswered.has(peer)) this.#send(this.#voteRequest(peer, type, term));
    }
    this.#voteRetransmits++;
    this.#voteRetransmitAt = now + this.#options.retransmitMs * 2 ** this.#voteRetransmits;
  }

  #voteRequest(dst: Id, type: VoteRequest["type"], term: number): VoteRequest {
    return {
      src: this.id,
      dst,
      leader: this.#leaderId ?? BROADCAST,
      type,
      term,
      lastLogIndex: this.#log.lastIndex,
      lastLogTerm: this.#log.lastTerm,
    };
  }

  #sendVoteReply(request: VoteRequest, term: number, granted: boolean): void {
    this.#send({
      src: this.id,
      dst: request.src,
      leader: this.#leaderId ?? BROADCAST,
      type: request.type === "pre_vote" ? "pre_vote_reply" : "request_vote_reply",
      term,
      granted,
      lastLogIndex: this.#log.lastIndex,
      lastLogTerm: this.#log.lastTerm,
      ...this.#answered,
    });
  }

  /** Answers an AppendEntries: accepted up to `matchIndex`, or refused with a backtracking hint. */
  #sendAppendReply(
    request: AppendEntries,
    outcome: { matchIndex: number } | { conflictIndex: number; conflictTerm: number },
  ): void {
    const success = "matchIndex" in outcome;
    const reply: AppendEntriesReply = {
      src: this.id,
      dst: request.src,
      leader: this.#leaderId ?? BROADCAST,
      type: "append_entries_reply",
      term: this.#currentTerm,
      success,
      matchIndex: success ? outcome.matchIndex : 0,
      conflictIndex: success ? 0 : outcome.conflictIndex,
      conflictTerm: success ? 0 : outcome.conflictTerm,
      ...this.#answered,
      sentAt: request.sentAt,
    };
    this.#send(reply);
    // Acknowledgements only: a refusal is answered by a probe either way.
    if (success && request.replyTwice === true) this.#send({ ...reply, secondCopy: true });
  }

  #info(line: string): void {
    this.#options.logger?.("info", line);
  }

  #debug(line: string): void {
    this.#options.logger?.("debug", line);
  }
}
