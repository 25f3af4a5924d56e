import assert from "node:assert/strict";
import { createPrng } from "../../lib/sim/_prng.ts";
import {
  clientIdsFor,
  md5Hex,
  type OutgoingRequest,
  replicaIdsFor,
  Workload,
} from "../../lib/sim/clients.ts";
import type { WireMessage } from "../../lib/sim/network.ts";
import { createCounters } from "../../lib/sim/stats.ts";

const LIVING = ["0000", "0001", "0002"];

function workload(seed = 1) {
  const counters = createCounters();
  const clock = { ms: 0 };
  const load = new Workload({
    replicaCount: 3,
    random: createPrng(seed),
    counters,
    now: () => clock.ms,
  });
  return { load, counters, clock };
}

function reply(request: OutgoingRequest, fields: Record<string, unknown>): WireMessage {
  return {
    src: request.dst ?? "0000",
    dst: request.message.src,
    leader: "0001",
    type: "ok",
    MID: request.message.MID,
    ...fields,
  };
}

function deliver(
  load: Workload,
  request: OutgoingRequest,
  fields: Record<string, unknown>,
  living = LIVING,
) {
  const message = reply(request, fields);
  return load.deliver(message.dst, message, JSON.stringify(message), living);
}

/** Creates a put and acknowledges it; returns the put. */
function ackedPut(load: Workload): OutgoingRequest {
  const put = load.createRequest(false, LIVING);
  deliver(load, put, {});
  return put;
}

Deno.test("ids follow the course: replicas from 0000, 8 clients from N+16", () => {
  assert.deepEqual(replicaIdsFor(3), ["0000", "0001", "0002"]);
  assert.deepEqual(clientIdsFor(5), [
    "0015",
    "0016",
    "0017",
    "0018",
    "0019",
    "001A",
    "001B",
    "001C",
  ]);
});

Deno.test("a new key is 32 chars of A-Z0-9 and its value the MD5 of the key", () => {
  const { load, counters } = workload();
  const put = load.createRequest(false, LIVING);
  assert.equal(put.message.type, "put");
  assert.match(put.message.key, /^[A-Z0-9]{32}$/);
  assert.match(put.message.MID, /^[A-Z0-9]{16}$/);
  assert.equal(put.message.value, md5Hex(put.message.key));
  assert.equal(md5Hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  assert.equal(counters.totalPut, 1);
});

Deno.test("a get event with no key for its client counts a generation failure and puts", () => {
  const { load, counters } = workload();
  const request = load.createRequest(true, LIVING);
  assert.equal(request.message.type, "put");
  assert.equal(counters.failedToGenerateGet, 1);
  assert.equal(counters.totalGet, 0);
  assert.equal(counters.totalPut, 1);
});

Deno.test("an update chains the MD5 of the client's last acknowledged value", () => {
  for (let seed = 0; seed < 50; seed++) {
    const { load } = workload(seed);
    const first = ackedPut(load);
    const values = new Map([[first.message.key, first.message.value]]);
    for (let i = 0; i < 30; i++) {
      const put = load.createRequest(false, LIVING);
      const previous = values.get(put.message.key);
      if (previous !== undefined && put.message.src === first.message.src) {
        assert.equal(put.message.value, md5Hex(previous));
        return;
      }
    }
  }
  assert.fail("no update was generated in 50 seeds");
});

Deno.test("requests go to a random living replica until a leader is known", () => {
  const { load } = workload();
  const request = load.createRequest(false, LIVING);
  assert.ok(LIVING.includes(request.dst ?? ""));
  assert.equal(request.message.leader, "FFFF");
  assert.equal(load.createRequest(false, []).dst, undefined);
});

Deno.test("a redirect is retried at once with a new MID to the named leader", () => {
  const { load, counters } = workload();
  const put = load.createRequest(false, LIVING);
  const result = deliver(load, put, { type: "redirect", leader: "0002" });
  assert.ok(result.retry);
  assert.notEqual(result.retry.message.MID, put.message.MID);
  assert.equal(result.retry.dst, "0002");
  assert.equal(result.retry.message.leader, "0002");
  assert.equal(result.retry.message.key, put.message.key);
  assert.equal(result.retry.message.value, put.message.value);
  assert.equal(counters.redirects, 1);
  assert.equal(counters.totalPut, 2);
  assert.equal(counters.failedPut, 0);
});

Deno.test("a fail counts as a failure and a redirect; the retry avoids a dead leader", () => {
  const { load, counters } = workload();
  const put = load.createRequest(false, LIVING);
  const result = deliver(load, put, { type: "fail", leader: "0009" });
  assert.equal(counters.failedPut, 1);
  assert.equal(counters.redirects, 1);
  assert.ok(LIVING.includes(result.retry?.dst ?? ""));
  assert.equal(result.retry?.message.leader, "FFFF");
});

Deno.test("latency is recorded for every reply, redirects included", () => {
  const { load, counters, clock } = workload();
  const put = load.createRequest(false, LIVING);
  clock.ms = 30;
  const retry = deliver(load, put, { type: "redirect" }).retry as OutgoingRequest;
  clock.ms = 50;
  deliver(load, retry, {});
  assert.deepEqual(counters.latenciesS, [0.03, 0.02]);
});

Deno.test("a second reply to a completed MID is a duplicate, not incorrect", () => {
  const { load, counters } = workload();
  const put = ackedPut(load);
  assert.deepEqual(deliver(load, put, {}), { duplicate: true });
  assert.equal(counters.duplicates, 1);
  assert.equal(counters.incorrect, 0);
});

Deno.test("an ok after a redirect for the same MID is an unexpected MID", () => {
  const { load, counters } = workload();
  const put = load.createRequest(false, LIVING);
  deliver(load, put, { type: "redirect" });
  const result = deliver(load, put, {});
  assert.match(result.warning ?? "", /unexpected MID/);
  assert.equal(counters.incorrect, 1);
});

Deno.test("replies without MID or with an unknown type are incorrect", () => {
  const { load, counters } = workload();
  const put = load.createRequest(false, LIVING);
  const noMid = reply(put, {});
  delete (noMid as Record<string, unknown>)["MID"];
  assert.match(
    load.deliver(noMid.dst, noMid, "", LIVING).warning ?? "",
    /Message missing mid field/,
  );
  assert.match(deliver(load, put, { type: "nack" }).warning ?? "", /Unknown message type/);
  assert.equal(counters.incorrect, 2);
});

Deno.test("a get answered with a value other than the last acknowledged one is incorrect", () => {
  const { load, counters } = workload();
  const put = ackedPut(load);
  let get = load.createRequest(true, LIVING);
  while (get.message.src !== put.message.src) get = load.createRequest(true, LIVING);
  assert.equal(get.message.type, "get");
  assert.equal(get.message.key, put.message.key);
  assert.match(deliver(load, get, { value: "" }).warning ?? "", /incorrect value for a key/);
  assert.equal(counters.incorrect, 1);
});

Deno.test("a get answered with the acknowledged value is correct; one without value is not", () => {
  const { load, counters } = workload();
  const put = ackedPut(load);
  const gets: OutgoingRequest[] = [];
  while (gets.length < 2) {
    const request = load.createRequest(true, LIVING);
    if (request.message.type === "get") gets.push(request);
  }
  const [good, bad] = gets as [OutgoingRequest, OutgoingRequest];
  assert.deepEqual(deliver(load, good, { value: put.message.value }), {});
  assert.match(deliver(load, bad, {}).warning ?? "", /missing the value/);
  assert.equal(counters.incorrect, 1);
});

Deno.test("requests still outstanding at the end are counted unanswered by kind", () => {
  const { load, counters } = workload();
  ackedPut(load);
  load.createRequest(false, LIVING);
  let get = load.createRequest(true, LIVING);
  while (get.message.type !== "get") get = load.createRequest(true, LIVING);
  load.finalize();
  assert.ok(counters.unansweredPut >= 1);
  assert.equal(counters.unansweredGet, 1);
  assert.equal(load.outstanding(), counters.unansweredGet + counters.unansweredPut);
});

Deno.test("forgetting leaders sends the next request to a random living replica", () => {
  const { load } = workload();
  const put = load.createRequest(false, LIVING);
  deliver(load, put, { leader: "0002" });
  load.forgetLeaders();
  const next = load.createRequest(false, LIVING);
  assert.equal(next.message.leader, "FFFF");
});
