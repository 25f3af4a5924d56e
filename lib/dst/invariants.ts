/**
 * The safety properties of Raft (§5.2, §5.3, §5.4, Figure 3), checked after
 * every event a replica handles, and the end-of-run checks on client replies
 * and applied state. A broken property throws {@linkcode InvariantViolation}.
 *
 * @module
 */

import { isPutCommand } from "../kv/messages.ts";
import type { Entry, Id } from "../raft/messages.ts";

/** Names of the properties a run checks. */
export type InvariantName =
  | "election_safety"
  | "one_vote_per_term"
  | "leader_append_only"
  | "log_matching"
  | "leader_completeness"
  | "state_machine_safety"
  | "committed_entry_kept"
  | "well_formed_messages"
  | "reply_after_refusal"
  | "unexplained_duplicate_ok"
  | "unknown_mid"
  | "malformed_reply"
  | "refused_put_committed"
  | "acknowledged_put_committed"
  | "committed_put_acknowledged"
  | "get_value_as_acknowledged"
  | "applied_state"
  | "linearizability"
  | "lease_read_safety"
  | "liveness"
  | "replica_threw";

/** A broken property: the run stops and reports it. */
export class InvariantViolation extends Error {
  /** Which property broke. */
  readonly invariant: InvariantName;

  /**
   * @param invariant Which property broke.
   * @param message What was observed.
   */
  constructor(invariant: InvariantName, message: string) {
    super(`${invariant}: ${message}`);
    this.name = "InvariantViolation";
    this.invariant = invariant;
  }
}

/** What the monitor reads from a replica: the inspection API of `RaftNode`. */
export interface ReplicaView {
  readonly id: Id;
  readonly role: string;
  readonly currentTerm: number;
  /** The candidate voted for in the current term, if any. */
  readonly votedFor: Id | undefined;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly lastIndex: number;
  entryAt(index: number): Entry | undefined;
  read(key: string): string;
}

/** What the monitor remembers of one replica's log since it last looked. */
interface ReplicaTrack {
  /** Entry fingerprints by index; index 0 unused. */
  fingerprints: string[];
  /** Hash of the log prefix ending at each index; index 0 is the empty prefix. */
  chain: number[];
  commitIndex: number;
  lastApplied: number;
  /** The highest term seen, and the vote seen first in it. */
  term: number;
  votedFor: Id | undefined;
  /** The term it led in when last observed; 0 when it did not lead. */
  ledTerm: number;
}

/**
 * Watches every replica and the whole cluster's history. Call
 * {@linkcode SafetyMonitor.observe} after each event a replica handles.
 *
 * Each observation costs little: only the log suffix that changed since the
 * last one is read, found by walking back from the end to the first entry
 * still identical. (An entry replaced in the middle of a log while its tail
 * stays identical would go unseen; Raft only ever truncates suffixes.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SafetyMonitor } from "./invariants.ts";
 * const monitor = new SafetyMonitor();
 * const replica = (id: string) => ({
 *   id, role: "leader", currentTerm: 1, votedFor: id, commitIndex: 0, lastApplied: 0, lastIndex: 0,
 *   entryAt: () => undefined, read: () => "",
 * });
 * monitor.observe(replica("0000"));
 * assert.throws(() => monitor.observe(replica("0001")), /election_safety/);
 * ```
 */
export class SafetyMonitor {
  readonly #tracks = new Map<Id, ReplicaTrack>();
  readonly #leaders = new Map<number, Id>();
  /** Every entry known committed anywhere, by index; index 0 unused. */
  readonly #committed: Entry[] = [];
  readonly #committedFingerprints: string[] = [""];
  /**
   * By index, the term of the replica first seen committing the entry: the
   * leader that committed it, which commits before anyone learns of it.
   */
  readonly #committedInTerm: number[] = [0];
  /** Prefix hash of every (index, term) pair seen in any log. */
  readonly #chainByIndexTerm = new Map<string, number>();
  readonly #fingerprints = new WeakMap<Entry, string>();

  /** @returns The leaders seen, by term. */
  get leaders(): ReadonlyMap<number, Id> {
    return this.#leaders;
  }

  /** @returns The entries known committed, in index order from 1. */
  committedEntries(): readonly Entry[] {
    return this.#committed;
  }

  /**
   * Checks a replica's state after it handled an event.
   *
   * @param replica The replica.
   * @throws {InvariantViolation} When a safety property broke.
   */
  observe(replica: ReplicaView): void {
    const track = this.#trackOf(replica.id);
    this.#checkVote(replica, track);
    const leads = replica.role === "leader";
    this.#syncLog(replica, track, leads && track.ledTerm === replica.currentTerm);
    this.#syncCommit(replica, track);
    if (leads) this.#checkLeader(replica, track);
    track.ledTerm = leads ? replica.currentTerm : 0;
  }

  /**
   * Replays the committed log up to a replica's `lastApplied` and compares the
   * result with what the replica's store returns.
   *
   * @param replica A replica.
   * @param keys The keys to compare.
   * @throws {InvariantViolation} When the replica's store differs.
   */
  checkAppliedState(replica: ReplicaView, keys: Iterable<string>): void {
    const expected = new Map<string, string>();
    for (let index = 1; index <= replica.lastApplied; index++) {
      const { command } = this.#committed[index - 1] as Entry;
      if (isPutCommand(command)) expected.set(command.key, command.value);
    }
    for (const key of keys) {
      const actual = replica.read(key);
      const wanted = expected.get(key) ?? "";
      if (actual !== wanted) {
        throw new InvariantViolation(
          "applied_state",
          `${replica.id} has applied through ${replica.lastApplied} but reads ${
            JSON.stringify(actual)
          } for key ${key}, where replaying the committed log gives ${JSON.stringify(wanted)}`,
        );
      }
    }
  }

  #trackOf(id: Id): ReplicaTrack {
    let track = this.#tracks.get(id);
    if (track === undefined) {
      track = {
        fingerprints: [""],
        chain: [0],
        commitIndex: 0,
        lastApplied: 0,
        term: 0,
        votedFor: undefined,
        ledTerm: 0,
      };
      this.#tracks.set(id, track);
    }
    return track;
  }

  /**
   * A replica's term never goes back, and a vote given in a term stays (§5.2,
   * Figure 2: at most one vote per term). Election safety rests on it, but
   * `election_safety` fires only in the rare runs where a second vote completes
   * a second majority.
   */
  #checkVote(replica: ReplicaView, track: ReplicaTrack): void {
    const { id, currentTerm, votedFor } = replica;
    if (currentTerm < track.term) {
      throw new InvariantViolation(
        "one_vote_per_term",
        `${id} went back from term ${track.term} to ${currentTerm}`,
      );
    }
    if (currentTerm > track.term || track.votedFor === undefined) {
      track.term = currentTerm;
      track.votedFor = votedFor;
    } else if (votedFor !== track.votedFor) {
      throw new InvariantViolation(
        "one_vote_per_term",
        `${id} voted for ${track.votedFor} in term ${currentTerm}, then for ${
          votedFor ?? "nobody"
        }`,
      );
    }
  }

  /**
   * Reads the changed log suffix; checks committed entries stay, log matching
   * (§5.3), and that a leader that led in this term at the last look only
   * appended since (Figure 3, Leader Append-Only).
   */
  #syncLog(replica: ReplicaView, track: ReplicaTrack, stillLeads: boolean): void {
    const lastIndex = replica.lastIndex;
    const knownEnd = track.fingerprints.length - 1;
    let same = Math.min(knownEnd, lastIndex);
    while (same > 0 && this.#fingerprint(replica, same) !== track.fingerprints[same]) same--;
    if (stillLeads && same < knownEnd) {
      throw new InvariantViolation(
        "leader_append_only",
        `${replica.id}, leader of term ${replica.currentTerm}, lost or replaced its entry at ${
          same + 1
        }`,
      );
    }
    if (same < track.commitIndex) {
      throw new InvariantViolation(
        "committed_entry_kept",
        `${replica.id} lost or replaced its entry at ${
          same + 1
        }, at or below its commitIndex ${track.commitIndex}`,
      );
    }
    track.fingerprints.length = same + 1;
    track.chain.length = same + 1;
    for (let index = same + 1; index <= lastIndex; index++) {
      const fingerprint = this.#fingerprint(replica, index);
      const chain = fnv1a(track.chain[index - 1] as number, fingerprint);
      track.fingerprints.push(fingerprint);
      track.chain.push(chain);
      const { term } = replica.entryAt(index) as Entry;
      const slot = `${index}:${term}`;
      const known = this.#chainByIndexTerm.get(slot);
      if (known === undefined) this.#chainByIndexTerm.set(slot, chain);
      else if (known !== chain) {
        throw new InvariantViolation(
          "log_matching",
          `${replica.id} holds an entry of term ${term} at ${index} whose log prefix differs from another replica's entry of the same index and term`,
        );
      }
    }
  }

  /** Pins newly committed entries: no two replicas ever commit different ones (§5.4.3). */
  #syncCommit(replica: ReplicaView, track: ReplicaTrack): void {
    const { id, commitIndex, lastApplied, lastIndex } = replica;
    if (commitIndex < track.commitIndex || commitIndex > lastIndex) {
      throw new InvariantViolation(
        "committed_entry_kept",
        `${id} moved commitIndex from ${track.commitIndex} to ${commitIndex} with lastIndex ${lastIndex}`,
      );
    }
    for (let index = track.commitIndex + 1; index <= commitIndex; index++) {
      const fingerprint = track.fingerprints[index] as string;
      const known = this.#committedFingerprints[index];
      if (known === undefined) {
        this.#committedFingerprints[index] = fingerprint;
        this.#committedInTerm[index] = replica.currentTerm;
        this.#committed[index - 1] = replica.entryAt(index) as Entry;
      } else if (known !== fingerprint) {
        throw new InvariantViolation(
          "state_machine_safety",
          `${id} committed ${fingerprint} at ${index} where another replica committed ${known}`,
        );
      }
    }
    track.commitIndex = commitIndex;
    if (lastApplied < track.lastApplied || lastApplied > commitIndex) {
      throw new InvariantViolation(
        "state_machine_safety",
        `${id} moved lastApplied from ${track.lastApplied} to ${lastApplied} with commitIndex ${commitIndex}`,
      );
    }
    track.lastApplied = lastApplied;
  }

  /**
   * One leader per term (§5.2) holding every entry committed in an earlier
   * term (§5.4, Leader Completeness). Entries committed in its own term or
   * later need not be there: a candidate cut off since an old term may still
   * win that term with votes that arrive late, and can commit nothing in it.
   * Commit terms grow with the index, so the entries to check are a prefix.
   */
  #checkLeader(replica: ReplicaView, track: ReplicaTrack): void {
    const known = this.#leaders.get(replica.currentTerm);
    if (known === replica.id) return;
    if (known !== undefined) {
      throw new InvariantViolation(
        "election_safety",
        `${replica.id} and ${known} are both leaders of term ${replica.currentTerm}`,
      );
    }
    this.#leaders.set(replica.currentTerm, replica.id);
    for (
      let index = 1;
      index < this.#committedFingerprints.length &&
      (this.#committedInTerm[index] as number) < replica.currentTerm;
      index++
    ) {
      if (track.fingerprints[index] !== this.#committedFingerprints[index]) {
        throw new InvariantViolation(
          "leader_completeness",
          `${replica.id} became leader of term ${replica.currentTerm} without the committed entry ${
            this.#committedFingerprints[index]
          } at ${index}`,
        );
      }
    }
  }

  #fingerprint(replica: ReplicaView, index: number): string {
    const entry = replica.entryAt(index);
    if (entry === undefined) {
      throw new InvariantViolation(
        "log_matching",
        `${replica.id} has lastIndex ${replica.lastIndex} but no entry at ${index}`,
      );
    }
    let fingerprint = this.#fingerprints.get(entry);
    if (fingerprint === undefined) {
      fingerprint = JSON.stringify(entry);
      this.#fingerprints.set(entry, fingerprint);
    }
    return fingerprint;
  }
}

/** FNV-1a over a string, continuing from `seed`. */
function fnv1a(seed: number, text: string): number {
  let hash = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash;
}
