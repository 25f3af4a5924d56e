import assert from "node:assert/strict";
import type { RequestRecord } from "../../lib/sim/clients.ts";
import { inferRole, TimelineRecorder } from "../../lib/sim/timeline.ts";

const IDS = ["0000", "0001", "0002"];

function roles(recorder: TimelineRecorder, endMs: number, replica: string): string[] {
  const lane = recorder.finish(endMs, []).lanes.find((l) => l.replica === replica);
  return (lane?.spans ?? []).map((span) => `${span.role}@${span.fromMs}-${span.toMs}`);
}

Deno.test("a replica naming itself as leader is leader", () => {
  assert.equal(
    inferRole("follower", { src: "0001", leader: "0001", type: "append_entries" }),
    "leader",
  );
});

Deno.test("a replica sending request_vote or pre_vote is candidate", () => {
  assert.equal(
    inferRole("follower", { src: "0001", leader: "FFFF", type: "request_vote" }),
    "candidate",
  );
  assert.equal(inferRole("leader", { src: "0001", leader: "FFFF", type: "pre_vote" }), "candidate");
});

Deno.test("a replica naming another replica as leader is follower", () => {
  assert.equal(inferRole("candidate", { src: "0001", leader: "0002", type: "x" }), "follower");
});

Deno.test("a message naming no leader keeps a candidate's role and demotes a leader", () => {
  const reply = { src: "0001", leader: "FFFF", type: "request_vote_reply" };
  assert.equal(inferRole("candidate", reply), "candidate");
  assert.equal(inferRole("leader", reply), "follower");
});

Deno.test("a leader redirecting a client naming no leader stays leader", () => {
  const redirect = { src: "0001", leader: "FFFF", type: "redirect" };
  assert.equal(inferRole("leader", redirect), "leader");
});

Deno.test("a dead replica stays dead whatever it is said to send", () => {
  assert.equal(inferRole("dead", { src: "0001", leader: "0001", type: "append_entries" }), "dead");
});

Deno.test("lanes cover the run without gaps, one span per role change", () => {
  const recorder = new TimelineRecorder(IDS, 10_000);
  recorder.routed(100, { src: "0000", leader: "FFFF", type: "request_vote" });
  recorder.routed(150, { src: "0000", leader: "FFFF", type: "request_vote" });
  recorder.routed(200, { src: "0000", leader: "0000", type: "append_entries" });
  recorder.dead(5_000, "0000", "kill_leader", true);
  recorder.routed(6_000, { src: "0000", leader: "0000", type: "append_entries" });
  assert.deepEqual(roles(recorder, 9_000, "0000"), [
    "follower@0-100",
    "candidate@100-200",
    "leader@200-5000",
    "dead@5000-9000",
  ]);
  assert.deepEqual(roles(recorder, 9_000, "0001"), ["follower@0-9000"]);
});

Deno.test("a role that lasted no time is replaced, not kept as an empty span", () => {
  const recorder = new TimelineRecorder(IDS, 10_000);
  recorder.routed(100, { src: "0001", leader: "FFFF", type: "request_vote" });
  recorder.routed(100, { src: "0001", leader: "0002", type: "append_entries_reply" });
  assert.deepEqual(roles(recorder, 1_000, "0001"), ["follower@0-1000"]);
});

Deno.test("a partition lasts from the event that made it to the heal, with its majority side", () => {
  const recorder = new TimelineRecorder(IDS, 10_000);
  recorder.event(2_000, "part_hard", new Set(["0002", "0000"]));
  recorder.event(4_000, "part_end", undefined);
  recorder.event(6_000, "part_easy", new Set(["0001", "0002"]));
  const timeline = recorder.finish(8_000, []);
  assert.deepEqual(timeline.partitions, [
    { type: "part_hard", fromMs: 2_000, toMs: 4_000, majority: ["0000", "0002"] },
    { type: "part_easy", fromMs: 6_000, toMs: 8_000, majority: ["0001", "0002"] },
  ]);
  assert.deepEqual(timeline.events.map((event) => event.type), [
    "part_hard",
    "part_end",
    "part_easy",
  ]);
});

Deno.test("traffic is counted per 100 ms bucket of send time", () => {
  const recorder = new TimelineRecorder(IDS, 1_000);
  recorder.traffic(50, 2, 1);
  recorder.traffic(99.9, 1, 0);
  recorder.traffic(250, 2, 2);
  recorder.traffic(260, 0, 0);
  const timeline = recorder.finish(1_000, []);
  assert.deepEqual(timeline.sentPerBucket, [3, 0, 2]);
  assert.deepEqual(timeline.droppedPerBucket, [1, 0, 2]);
});

Deno.test("requests become points with outcome, latency, destination and reply marks", () => {
  const recorder = new TimelineRecorder(IDS, 10_000);
  const records: RequestRecord[] = [
    { mid: "A", client: "0013", kind: "put", key: "k", value: "v", invokedAtMs: 100 },
    { mid: "B", client: "0013", kind: "get", key: "k", invokedAtMs: 200 },
    { mid: "C", client: "0014", kind: "get", key: "k", invokedAtMs: 300 },
  ];
  records[0]!.reply = { type: "ok", atMs: 105 };
  records[1]!.reply = { type: "redirect", atMs: 201 };
  for (const [mid, dst] of [["A", "0000"], ["B", "0001"], ["C", undefined]] as const) {
    recorder.requestSent(mid, dst);
  }
  recorder.duplicateReply(600, "A");
  recorder.incorrectReply(700, "0014", "C");
  recorder.incorrectReply(800, "0015", "nonsense");
  const timeline = recorder.finish(1_000, records);
  assert.deepEqual(timeline.requests, [
    {
      mid: "A",
      kind: "put",
      sentTo: "0000",
      sentAtMs: 100,
      outcome: "put_ok",
      latencyMs: 5,
      duplicateLatenciesMs: [500],
      incorrect: false,
    },
    {
      mid: "B",
      kind: "get",
      sentTo: "0001",
      sentAtMs: 200,
      outcome: "redirect",
      latencyMs: 1,
      duplicateLatenciesMs: [],
      incorrect: false,
    },
    {
      mid: "C",
      kind: "get",
      sentTo: undefined,
      sentAtMs: 300,
      outcome: "unanswered",
      latencyMs: undefined,
      duplicateLatenciesMs: [],
      incorrect: true,
    },
  ]);
  assert.deepEqual(timeline.strayIncorrect, [{ atMs: 800, client: "0015" }]);
});

Deno.test("a second death of the same replica is ignored", () => {
  const recorder = new TimelineRecorder(IDS, 10_000);
  recorder.dead(1_000, "0002", "kill_non_leader", true);
  recorder.dead(2_000, "0002", "exited on its own (code 1)", false);
  const timeline = recorder.finish(3_000, []);
  assert.deepEqual(timeline.deaths, [
    { replica: "0002", atMs: 1_000, cause: "kill_non_leader", killed: true },
  ]);
});
