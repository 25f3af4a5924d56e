/**
 * Keeps the code a datagram runs through in the processor's caches while
 * requests flow, by running datagrams through throwaway servers.
 *
 * Why: on this project's shared 2-core machine, running five replicas and the
 * simulator, a replica that waited a few milliseconds for its next datagram
 * found its code and data pushed out of the caches by the other processes, and
 * the next datagram's path (decode, step, ready, encode) took 150 to 250 µs
 * instead of about 10 back to back. A follower's AppendEntries run the same way
 * every 2 ms took 34 µs at the median against 148 µs after a 75 ms pause
 * (BENCHMARKS.md). A put pays that on three hops: the leader's put, the
 * followers' AppendEntries and the leader's acknowledgement.
 *
 * @module
 */

import { KvServer } from "./kv/server.ts";
import { decodeDatagram, encodeMessage } from "./net/codec.ts";
import type { Id } from "./raft/messages.ts";

/** The throwaway servers' own ids: they never meet a real replica or client. */
const FOLLOWER: Id = "0F01";
const LEADER: Id = "0F00";
const CLIENT: Id = "0F10";
const FOLLOWER_PEERS: readonly Id[] = [LEADER, "0F02", "0F03", "0F04"];

/** A single-replica leader's log grows by a put per run: a fresh one after this many. */
const PUTS_PER_LEADER = 1000;

/** Longer than any election timeout of the default options: a lone replica has elected itself. */
const SELF_ELECTION_MS = 10_000;

/** Sample sizes like a course put's: a key, a value and a MID of some tens of characters. */
const KEY = "warm-path-key-0123456789abcdef";
const VALUE = "warm-path-value-0123456789abcdef";

const utf8Encoder = new TextEncoder();

function datagram(message: object): Uint8Array {
  return utf8Encoder.encode(JSON.stringify(message));
}

/**
 * Runs a role's datagrams through servers of its own, as the shell runs real
 * ones: for a follower, an AppendEntries of one put through a follower of a
 * 5-replica cluster; for a leader, a put and a get through a leader alone in
 * its cluster, which commits and answers at once. Each is decoded, stepped,
 * readied and its output encoded; nothing is sent, and the replica's own
 * server is never touched.
 *
 * @example A leader's run answers a put and a get; a follower's, an AppendEntries
 * ```ts
 * import assert from "node:assert/strict";
 * import { WarmPath } from "./warm_path.ts";
 *
 * const warmPath = new WarmPath();
 * assert.equal(warmPath.run(true), 2);
 * assert.equal(warmPath.run(false), 1);
 * ```
 */
export class WarmPath {
  readonly #follower = new KvServer({ id: FOLLOWER, peers: FOLLOWER_PEERS, now: 0, random });
  /**
   * The same AppendEntries every run: the follower holds its entry after the
   * first and answers each again, so its log does not grow.
   */
  readonly #appendEntries = datagram({
    src: LEADER,
    dst: FOLLOWER,
    leader: LEADER,
    type: "append_entries",
    term: 1,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [{
      term: 1,
      command: { key: KEY, value: VALUE, client: CLIENT, MID: "warm-path-mid" },
    }],
    leaderCommit: 0,
    sentAt: 0,
  });
  /** The servers' own clock, a millisecond a run: they see time pass, as a replica does. */
  #now = 0;
  #leader = this.#newLeader();
  #putsToLeader = 0;

  /**
   * Runs the datagrams of one role once: a leader's put and get, or a
   * follower's AppendEntries. Each replica warms the path its own datagrams take:
   * on a shared machine every run takes processor time from the others.
   *
   * @param leading Whether the replica leads.
   * @returns How many answers the servers encoded: 2 for a leader, 1 for a follower.
   */
  run(leading: boolean): number {
    this.#now++;
    if (!leading) return this.#pass(this.#follower, this.#appendEntries);
    if (this.#putsToLeader >= PUTS_PER_LEADER) {
      this.#leader = this.#newLeader();
      this.#putsToLeader = 0;
    }
    this.#putsToLeader++;
    const mid = `warm-path-${this.#putsToLeader}`;
    const client = { src: CLIENT, dst: LEADER, leader: LEADER };
    return this.#pass(
      this.#leader,
      datagram({ ...client, type: "put", MID: mid, key: KEY, value: VALUE }),
    ) +
      this.#pass(this.#leader, datagram({ ...client, type: "get", MID: `${mid}-get`, key: KEY }));
  }

  /** A leader alone in its cluster: it elects itself at its first timeout. */
  #newLeader(): KvServer {
    const leader = new KvServer({ id: LEADER, peers: [], now: this.#now, random });
    this.#now += SELF_ELECTION_MS;
    leader.tick(this.#now);
    leader.ready();
    return leader;
  }

  /** One datagram through one server: how many messages it answered with. */
  #pass(server: KvServer, bytes: Uint8Array): number {
    const decoded = decodeDatagram(bytes);
    if (!decoded.ok) return 0;
    server.step(decoded.message, this.#now);
    const { messages } = server.ready();
    for (const message of messages) encodeMessage(message);
    return messages.length;
  }
}

/** A fixed draw: these servers' elections and timeouts never matter. */
function random(): number {
  return 0.5;
}
