import assert from "node:assert/strict";
import { type ReplicaView, SafetyMonitor } from "../../lib/dst/mod.ts";
import type { Entry } from "../../lib/raft/messages.ts";

/** A hand-made replica state for the monitor. */
function replica(
  id: string,
  state: Partial<Omit<ReplicaView, "entryAt" | "read">> & {
    log?: Entry[];
    store?: Record<string, string>;
  } = {},
): ReplicaView {
  const log = state.log ?? [];
  return {
    id,
    role: state.role ?? "follower",
    currentTerm: state.currentTerm ?? 1,
    votedFor: state.votedFor,
    commitIndex: state.commitIndex ?? 0,
    lastApplied: state.lastApplied ?? state.commitIndex ?? 0,
    lastIndex: log.length,
    entryAt: (index) => log[index - 1],
    read: (key) => state.store?.[key] ?? "",
  };
}

const noop1: Entry = { term: 1 };
const putA: Entry = { term: 1, command: { key: "k", value: "a", client: "0013", MID: "m1" } };
const putB: Entry = { term: 1, command: { key: "k", value: "b", client: "0013", MID: "m2" } };

Deno.test("a second vote in a term, or a term going back, breaks one vote per term", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { currentTerm: 2 }));
  monitor.observe(replica("0000", { currentTerm: 2, votedFor: "0001" }));
  monitor.observe(replica("0000", { currentTerm: 3 }));
  monitor.observe(replica("0000", { currentTerm: 3, votedFor: "0002" }));
  assert.throws(
    () => monitor.observe(replica("0000", { currentTerm: 3 })),
    /one_vote_per_term: 0000 voted for 0002 in term 3, then for nobody/,
  );
  const other = new SafetyMonitor();
  other.observe(replica("0001", { currentTerm: 3, votedFor: "0001" }));
  assert.throws(
    () => other.observe(replica("0001", { currentTerm: 3, votedFor: "0002" })),
    /one_vote_per_term/,
  );
  assert.throws(
    () => other.observe(replica("0001", { currentTerm: 2, votedFor: "0001" })),
    /one_vote_per_term: 0001 went back from term 3 to 2/,
  );
});

Deno.test("a leader that drops or replaces an entry of its log breaks leader append-only", () => {
  const leader = { role: "leader", currentTerm: 1 } as const;
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { ...leader, log: [noop1, putA] }));
  monitor.observe(replica("0000", { ...leader, log: [noop1, putA, putB] }));
  assert.throws(
    () => monitor.observe(replica("0000", { ...leader, log: [noop1, putB] })),
    /leader_append_only: 0000, leader of term 1, lost or replaced its entry at 2/,
  );
  // Once it stopped leading, or leads a later term, it may have lost uncommitted
  // entries as a follower meanwhile.
  const other = new SafetyMonitor();
  other.observe(replica("0001", { ...leader, log: [noop1, putA] }));
  other.observe(replica("0001", { log: [noop1] }));
  other.observe(replica("0001", { role: "leader", currentTerm: 3, log: [noop1, { term: 3 }] }));
});

Deno.test("two leaders in one term break election safety", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { role: "leader", currentTerm: 3 }));
  monitor.observe(replica("0001", { role: "leader", currentTerm: 4 }));
  assert.throws(
    () => monitor.observe(replica("0002", { role: "leader", currentTerm: 3 })),
    /election_safety: 0002 and 0000 are both leaders of term 3/,
  );
});

Deno.test("the same leader observed twice in its term is fine", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { role: "leader", currentTerm: 3 }));
  monitor.observe(replica("0000", { role: "leader", currentTerm: 3, log: [{ term: 3 }] }));
  assert.deepEqual([...monitor.leaders], [[3, "0000"]]);
});

Deno.test("entries of equal index and term over different prefixes break log matching", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { log: [noop1, putA, { term: 2 }] }));
  assert.throws(
    () => monitor.observe(replica("0001", { log: [noop1, putB, { term: 2 }] })),
    /log_matching/,
  );
});

Deno.test("an entry of equal index and term over prefixes that differ further back breaks log matching", () => {
  // The entries at index 2 have different terms, so only their successors' shared
  // index and term can tell that the logs below them differ (Raft §5.3).
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { log: [noop1, putA, { term: 2 }] }));
  assert.throws(
    () => monitor.observe(replica("0001", { log: [noop1, { ...putB, term: 2 }, { term: 2 }] })),
    /log_matching/,
  );
});

Deno.test("a committed entry removed from a log is caught", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { log: [noop1, putA], commitIndex: 2 }));
  assert.throws(
    () => monitor.observe(replica("0000", { log: [noop1], commitIndex: 1 })),
    /committed_entry_kept/,
  );
});

Deno.test("a committed entry replaced in a log is caught", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { log: [noop1, putA], commitIndex: 2 }));
  assert.throws(
    () => monitor.observe(replica("0000", { log: [noop1, { ...putB, term: 2 }], commitIndex: 2 })),
    /committed_entry_kept: 0000 lost or replaced its entry at 2/,
  );
});

Deno.test("an uncommitted suffix may be replaced", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { log: [noop1, putA], commitIndex: 1 }));
  monitor.observe(replica("0000", { log: [noop1, { term: 2 }], commitIndex: 1 }));
});

Deno.test("two replicas committing different entries at one index break state-machine safety", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { log: [noop1, putA], commitIndex: 2 }));
  assert.throws(
    () =>
      monitor.observe(
        replica("0001", { currentTerm: 2, log: [noop1, { term: 2 }], commitIndex: 2 }),
      ),
    /state_machine_safety/,
  );
});

Deno.test("a commit index moving backwards is caught", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { log: [noop1, putA], commitIndex: 2 }));
  assert.throws(
    () => monitor.observe(replica("0000", { log: [noop1, putA], commitIndex: 1 })),
    /committed_entry_kept/,
  );
});

Deno.test("applying beyond the commit index is caught", () => {
  const monitor = new SafetyMonitor();
  assert.throws(
    () => monitor.observe(replica("0000", { log: [noop1], commitIndex: 0, lastApplied: 1 })),
    /state_machine_safety/,
  );
});

Deno.test("a leader missing a committed entry breaks leader completeness", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { log: [noop1, putA], commitIndex: 2 }));
  assert.throws(
    () => monitor.observe(replica("0001", { role: "leader", currentTerm: 2, log: [noop1] })),
    /leader_completeness/,
  );
});

Deno.test("a store that differs from the replayed committed log is caught", () => {
  const monitor = new SafetyMonitor();
  const good = replica("0000", { log: [noop1, putA, putB], commitIndex: 3, store: { k: "b" } });
  monitor.observe(good);
  monitor.checkAppliedState(good, ["k", "other"]);
  const stale = replica("0001", { log: [noop1, putA, putB], commitIndex: 3, store: { k: "a" } });
  monitor.observe(stale);
  assert.throws(() => monitor.checkAppliedState(stale, ["k"]), /applied_state/);
});

Deno.test("a leader of an old term need not hold entries committed in a later term", () => {
  const monitor = new SafetyMonitor();
  monitor.observe(replica("0000", { role: "leader", currentTerm: 2, log: [{ term: 2 }] }));
  monitor.observe(
    replica("0000", { role: "leader", currentTerm: 2, log: [{ term: 2 }], commitIndex: 1 }),
  );
  monitor.observe(replica("0001", { role: "leader", currentTerm: 1 }));
  assert.throws(
    () => monitor.observe(replica("0002", { role: "leader", currentTerm: 3 })),
    /leader_completeness: 0002 became leader of term 3 without the committed entry/,
  );
});
