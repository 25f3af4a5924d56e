import assert from "node:assert/strict";
import { Prng } from "../../lib/dst/prng.ts";
import { Workload } from "../../lib/dst/workload.ts";
import type { ClientReply, ClientRequest } from "../../lib/kv/messages.ts";

const replicas = ["0000", "0001", "0002"];

function reply(request: ClientRequest, type: ClientReply["type"], leader = "0001"): ClientReply {
  return { src: request.dst, dst: request.src, leader, type, MID: request.MID };
}

Deno.test("a redirected request is retried at once with a new MID at the named leader", () => {
  const workload = new Workload(new Prng(5), ["0013"], { mix: 0, strayRate: 0 });
  const { request } = workload.issue(0, replicas);
  const { retry } = workload.receive(reply(request, "redirect", "0002"), "0000", 1, 2, replicas);
  assert.equal(retry?.to, "0002");
  assert.notEqual(retry?.request.MID, request.MID);
  assert.equal(retry?.request.type, request.type);
});

Deno.test("a retry goes to a live replica when the named leader is dead", () => {
  const workload = new Workload(new Prng(5), ["0013"], { mix: 0, strayRate: 0 });
  const { request } = workload.issue(0, replicas);
  const { retry } = workload.receive(reply(request, "fail", "0002"), "0000", 1, 2, ["0000"]);
  assert.equal(retry?.to, "0000");
});

Deno.test("requests follow the leader the last reply named", () => {
  const workload = new Workload(new Prng(9), ["0013"], { mix: 0, strayRate: 0 });
  const first = workload.issue(0, replicas);
  workload.receive(reply(first.request, "ok", "0002"), first.to, 1, 2, replicas);
  assert.equal(workload.issue(3, replicas).to, "0002");
  workload.forgetLeaders();
  const tos = new Set(Array.from({ length: 30 }, (_, i) => workload.issue(10 + i, replicas).to));
  assert.ok(tos.size > 1);
});

Deno.test("an ok after a redirect for the same MID is reported", () => {
  const workload = new Workload(new Prng(5), ["0013"], { mix: 0, strayRate: 0 });
  const { request } = workload.issue(0, replicas);
  workload.receive(reply(request, "redirect"), "0000", 1, 2, replicas);
  const { anomaly } = workload.receive(reply(request, "ok"), "0001", 3, 4, replicas);
  assert.equal(anomaly?.kind, "reply_after_refusal");
  assert.equal(anomaly?.first?.type, "redirect");
});

Deno.test("a second ok for one MID is reported and counted as a duplicate", () => {
  const workload = new Workload(new Prng(5), ["0013"], { mix: 0, strayRate: 0 });
  const { request } = workload.issue(0, replicas);
  workload.receive(reply(request, "ok"), "0000", 1, 2, replicas);
  const { anomaly } = workload.receive(reply(request, "ok"), "0001", 3, 4, replicas);
  assert.equal(anomaly?.kind, "reply_after_ok");
  assert.equal(anomaly?.first?.replier, "0000");
  assert.equal(workload.duplicates, 1);
});

Deno.test("a reply for a MID never sent is reported", () => {
  const workload = new Workload(new Prng(5), ["0013"], { mix: 0, strayRate: 0 });
  const stray: ClientReply = { src: "0000", dst: "0013", leader: "0000", type: "ok", MID: "nope" };
  assert.equal(workload.receive(stray, "0000", 1, 2, replicas).anomaly?.kind, "unknown_mid");
});

Deno.test("the history keeps acknowledged and unanswered puts but not refused ones", () => {
  const workload = new Workload(new Prng(5), ["0013"], { mix: 0, strayRate: 0 });
  const acked = workload.issue(0, replicas).request;
  const refused = workload.issue(1, replicas).request;
  const silent = workload.issue(2, replicas).request;
  workload.receive(reply(acked, "ok"), "0000", 3, 4, replicas);
  workload.receive(reply(refused, "fail"), "0000", 3, 5, replicas);
  const byMid = new Map(workload.history().map((op) => [op.mid, op]));
  assert.equal(byMid.get(acked.MID)?.returnedAt, 4);
  assert.equal(byMid.get(silent.MID)?.returnedAt, Infinity);
  assert.equal(byMid.has(refused.MID), false);
});

Deno.test("puts write distinct MD5-chained values and gets read written keys", () => {
  const workload = new Workload(new Prng(11), ["0013", "0014"], { mix: 0.5, strayRate: 0 });
  const values = new Set<string>();
  const keys = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const { request, to } = workload.issue(i, replicas);
    if (request.type === "put") {
      assert.match(request.value, /^[0-9a-f]{32}$/);
      assert.ok(!values.has(request.value));
      values.add(request.value);
      keys.add(request.key);
    } else {
      assert.ok(keys.has(request.key));
    }
    workload.receive(reply(request, "ok", to), to, i, i, replicas);
  }
  assert.ok(workload.history().some((op) => op.kind === "get"));
});

Deno.test("sticky readers only read, at any replica that claims to lead", () => {
  const workload = new Workload(new Prng(3), ["0013", "0014"], {
    mix: 0,
    strayRate: 0,
    sharedKeys: 1,
    stickyShare: 0.5,
  });
  const claimants = ["0002", "0000"];
  const reads = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const { request, to } = workload.issue(i, replicas, claimants);
    if (request.src === "0013") {
      assert.equal(request.type, "get");
      reads.add(to);
    } else {
      assert.equal(request.type, "put");
    }
  }
  assert.deepEqual([...reads].sort(), ["0000", "0002"]);
});

Deno.test("other clients send to the replica that claims the newest term", () => {
  const workload = new Workload(new Prng(4), ["0013"], {
    mix: 0.5,
    strayRate: 0,
    sharedKeys: 2,
    followNewestClaim: true,
  });
  for (let i = 0; i < 20; i++) {
    assert.equal(workload.issue(i, replicas, ["0002", "0000"]).to, "0002");
  }
});

Deno.test("shared keys get a distinct value from every put", () => {
  const workload = new Workload(new Prng(6), ["0013", "0014", "0015"], {
    mix: 0,
    strayRate: 0.2,
    sharedKeys: 2,
  });
  const puts = Array.from({ length: 50 }, (_, i) => workload.issue(i, replicas).request);
  assert.equal(new Set(puts.map((put) => put.key)).size, 2);
  assert.equal(new Set(puts.map((put) => put.type === "put" ? put.value : "")).size, 50);
});

Deno.test("a closed-loop client waits for its reply, up to its patience", () => {
  const workload = new Workload(new Prng(7), ["0013"], {
    mix: 0,
    strayRate: 0,
    sharedKeys: 1,
    patienceMs: 500,
    getPatienceMs: 50,
  });
  const { request, to } = workload.issue(0, replicas);
  assert.equal(request.type, "put");
  assert.equal(workload.hasIdleClient(100, replicas), false);
  assert.equal(workload.hasIdleClient(500, replicas), true);
  assert.equal(workload.hasIdleClient(100, replicas.filter((id) => id !== to)), true);
  workload.receive(reply(request, "ok"), to, 1, 2, replicas);
  assert.equal(workload.hasIdleClient(3, replicas), true);
});

Deno.test("an open-loop client is always idle", () => {
  const workload = new Workload(new Prng(7), ["0013"], { mix: 0, strayRate: 0 });
  workload.issue(0, replicas);
  assert.equal(workload.hasIdleClient(1, replicas), true);
});

Deno.test("a put at a replica that no longer claims the newest term is given up", () => {
  const workload = new Workload(new Prng(8), ["0013"], {
    mix: 0,
    strayRate: 0,
    sharedKeys: 1,
    followNewestClaim: true,
    patienceMs: 2000,
  });
  const { to } = workload.issue(0, replicas, ["0000"]);
  assert.equal(to, "0000");
  assert.equal(workload.hasIdleClient(10, replicas, ["0000"]), false);
  assert.equal(workload.hasIdleClient(10, replicas, ["0002", "0000"]), true);
});

Deno.test("an acknowledged put makes an idle sticky reader read its key back", () => {
  const workload = new Workload(new Prng(9), ["0013", "0014"], {
    mix: 0,
    strayRate: 0,
    sharedKeys: 1,
    stickyShare: 0.5,
    readAfterWrite: true,
  });
  let put = workload.issue(0, replicas, ["0001"]);
  while (put.request.type !== "put") put = workload.issue(1, replicas, ["0001"]);
  const { written } = workload.receive(reply(put.request, "ok"), put.to, 2, 3, replicas);
  assert.equal(written, put.request.key);
  const read = workload.readBack(3, replicas, ["0002", "0001"], put.request.key);
  assert.equal(read?.request.type, "get");
  assert.equal(read?.request.src, "0013");
  assert.equal(read?.request.key, put.request.key);
  assert.ok(read !== undefined && ["0001", "0002"].includes(read.to));
  assert.equal(workload.readBack(3, replicas, [], put.request.key), undefined);
});

/**
 * Two puts of one key and a later get of it, from the one client of a workload
 * whose requests are drawn from `seed`.
 */
function twoPutsAndAGet(seed: number) {
  const workload = new Workload(new Prng(seed), ["0013"], { mix: 0.4, strayRate: 0 });
  const sent = Array.from({ length: 80 }, (_, i) => workload.issue(i, replicas).request);
  for (const get of sent) {
    const puts = sent.filter((r) =>
      r.type === "put" && r.key === get.key && sent.indexOf(r) < sent.indexOf(get)
    );
    const [first, second] = puts;
    if (get.type === "get" && first?.type === "put" && second?.type === "put") {
      return { workload, first, second, get };
    }
  }
  throw new Error(`seed ${seed} made no two puts of a key before a get of it`);
}

function ok(request: ClientRequest, value?: string): ClientReply {
  const base = { src: request.dst, dst: request.src, leader: request.dst, MID: request.MID };
  return value === undefined ? { ...base, type: "ok" } : { ...base, type: "ok", value };
}

Deno.test("a get must carry the value of its client's last put answered ok, in sending order", () => {
  const { workload, first, second, get } = twoPutsAndAGet(3);
  assert.equal(workload.observeSent(ok(first)), undefined);
  assert.equal(workload.observeSent(ok(second)), undefined);
  assert.equal(workload.observeSent(ok(first)), undefined, "a duplicate changes nothing");
  assert.equal(workload.observeSent(ok(get, second.value)), undefined);
});

Deno.test("a get is reported when its client's puts of the key were answered out of log order", () => {
  const { workload, first, second, get } = twoPutsAndAGet(3);
  workload.observeSent(ok(second));
  workload.observeSent(ok(first));
  assert.match(
    workload.observeSent(ok(get, second.value)) ?? "",
    /^get \w+ of 0013's key \w+ was answered "\w+", but the last put of it answered ok wrote "\w+"$/,
  );
});

Deno.test("a put refused first does not count as answered ok for the get check", () => {
  const { workload, first, second, get } = twoPutsAndAGet(3);
  workload.observeSent(ok(first));
  workload.observeSent({ ...ok(second), type: "redirect" });
  workload.observeSent(ok(second));
  assert.equal(workload.observeSent(ok(get, first.value)), undefined);
});
