import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeDatagram,
  encodeMessage,
  MAX_DATAGRAM_BYTES,
  MAX_ENCODED_BYTES,
  MAX_PUT_BYTES,
} from "../../lib/net/codec.ts";
import {
  type InboundMessage,
  isClientRequest,
  type OutboundMessage,
} from "../../lib/kv/messages.ts";
import type { AppendEntries, Entry, PeerMessage } from "../../lib/raft/messages.ts";
import { MAX_ENTRIES_PER_MESSAGE } from "../../lib/raft/options.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of any JSON value, as a sender other than our codec would produce them. */
function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

const putCommand = { key: "k", value: "v", client: "0013", MID: "m7" };
const putEntry: Entry = { term: 2, command: putCommand };

/** One valid sample of every inbound type, with every field set. */
const SAMPLES: readonly InboundMessage[] = [
  { src: "0013", dst: "0000", leader: "FFFF", type: "get", MID: "m1", key: "k" },
  { src: "0013", dst: "0000", leader: "0001", type: "put", MID: "m2", key: "k", value: "v" },
  {
    src: "0001",
    dst: "FFFF",
    leader: "FFFF",
    type: "request_vote",
    term: 3,
    lastLogIndex: 4,
    lastLogTerm: 2,
  },
  {
    src: "0001",
    dst: "FFFF",
    leader: "FFFF",
    type: "pre_vote",
    term: 3,
    lastLogIndex: 0,
    lastLogTerm: 0,
  },
  {
    src: "0002",
    dst: "0001",
    leader: "FFFF",
    type: "request_vote_reply",
    term: 3,
    granted: true,
    lastLogIndex: 2,
    lastLogTerm: 2,
    commitIndex: 1,
  },
  {
    src: "0002",
    dst: "0001",
    leader: "0000",
    type: "pre_vote_reply",
    term: 3,
    granted: false,
    lastLogIndex: 0,
    lastLogTerm: 0,
    commitIndex: 0,
  },
  {
    src: "0000",
    dst: "FFFF",
    leader: "0000",
    type: "append_entries",
    term: 2,
    prevLogIndex: 1,
    prevLogTerm: 1,
    entries: [{ term: 2 }, putEntry],
    leaderCommit: 1,
    sentAt: 1234.5,
  },
  {
    src: "0002",
    dst: "0000",
    leader: "0000",
    type: "append_entries_reply",
    term: 2,
    success: false,
    matchIndex: 0,
    conflictIndex: 2,
    conflictTerm: 1,
    commitIndex: 1,
    sentAt: 1234.5,
  },
];

Deno.test("decodeDatagram returns every inbound type exactly as it was sent", () => {
  for (const sample of SAMPLES) {
    assert.deepEqual(decodeDatagram(jsonBytes(sample)), { ok: true, message: sample }, sample.type);
  }
});

Deno.test("encodeMessage writes every outbound type as the plain JSON of the message", () => {
  const replies: OutboundMessage[] = [
    { src: "0000", dst: "FFFF", leader: "FFFF", type: "hello" },
    { src: "0000", dst: "0013", leader: "0000", type: "ok", MID: "m1", value: "" },
    { src: "0000", dst: "0013", leader: "0000", type: "ok", MID: "m2" },
    { src: "0001", dst: "0013", leader: "0000", type: "redirect", MID: "m3" },
    { src: "0001", dst: "0013", leader: "FFFF", type: "fail", MID: "m4" },
  ];
  for (const reply of replies) {
    assert.deepEqual(JSON.parse(decoder.decode(encodeMessage(reply))), reply);
  }
});

Deno.test("encodeMessage then decodeDatagram round-trips every peer message", () => {
  for (const sample of SAMPLES.filter((message) => !isClientRequest(message))) {
    const peerMessage = sample as PeerMessage;
    assert.deepEqual(decodeDatagram(encodeMessage(peerMessage)), { ok: true, message: sample });
  }
});

Deno.test("encodeMessage refuses a message no UDP datagram can carry, and takes the largest", () => {
  const ok = { src: "0000", dst: "0013", leader: "0000", type: "ok", MID: "m", value: "" } as const;
  const overhead = encodeMessage(ok).length;
  const largest = encodeMessage({ ...ok, value: "x".repeat(MAX_ENCODED_BYTES - overhead) });
  assert.equal(largest.length, MAX_ENCODED_BYTES);
  assert.throws(
    () => encodeMessage({ ...ok, value: "x".repeat(MAX_ENCODED_BYTES - overhead + 1) }),
    RangeError,
  );
});

Deno.test("decodeDatagram refuses a put too large to fit in an AppendEntries", () => {
  const put = { src: "0013", dst: "0000", leader: "FFFF", type: "put", MID: "m", key: "k" };
  const overhead = jsonBytes({ ...put, value: "" }).length;
  const fits = jsonBytes({ ...put, value: "x".repeat(MAX_PUT_BYTES - overhead) });
  const tooLarge = jsonBytes({ ...put, value: "x".repeat(MAX_PUT_BYTES - overhead + 1) });
  assert.equal(fits.length, MAX_PUT_BYTES);
  assert.equal(decodeDatagram(fits).ok, true);
  assert.match(JSON.stringify(decodeDatagram(tooLarge)), /put is 64001 bytes/);
  const get = { ...put, type: "get", key: "x".repeat(MAX_PUT_BYTES) };
  assert.equal(decodeDatagram(jsonBytes(get)).ok, true, "the bound is for puts only");
});

Deno.test("decodeDatagram takes the largest datagram, the most entries and the most ids exactly", () => {
  const get = { src: "0013", dst: "0000", leader: "FFFF", type: "get", MID: "m", key: "" };
  const overhead = jsonBytes(get).length;
  const largest = jsonBytes({ ...get, key: "x".repeat(MAX_DATAGRAM_BYTES - overhead) });
  assert.equal(largest.length, MAX_DATAGRAM_BYTES);
  assert.equal(decodeDatagram(largest).ok, true);
  const append = SAMPLES.find((sample) => sample.type === "append_entries") as AppendEntries;
  const noOp = { term: append.term };
  const most = { ...append, entries: Array.from({ length: MAX_ENTRIES_PER_MESSAGE }, () => noOp) };
  assert.equal(decodeDatagram(jsonBytes(most)).ok, true);
  const oneMore = { ...most, entries: [...most.entries, noOp] };
  assert.match(JSON.stringify(decodeDatagram(jsonBytes(oneMore))), /1025 entries/);
  // A list holds at most 64 ids (the codec's MAX_IDS_PER_LIST).
  const ids = Array.from({ length: 64 }, (_, i) => i.toString(16).toUpperCase().padStart(4, "0"));
  const repliers = { ...append, repliers: ids };
  assert.deepEqual(decodeDatagram(jsonBytes(repliers)), { ok: true, message: repliers });
  assert.equal(decodeDatagram(jsonBytes({ ...append, repliers: [...ids, "0040"] })).ok, false);
});

Deno.test("decodeDatagram leaves out fields the message type does not define", () => {
  const get = { ...SAMPLES[0], value: "stray", extra: { nested: true } };
  assert.deepEqual(decodeDatagram(jsonBytes(get)), { ok: true, message: SAMPLES[0] });
});

Deno.test("decodeDatagram accepts ids in lower-case hex, as the protocol only asks for hex", () => {
  const get = { ...SAMPLES[0], src: "00ab" };
  const result = decodeDatagram(jsonBytes(get));
  assert.ok(result.ok);
  assert.equal(result.message.src, "00ab");
});

Deno.test("isClientRequest tells client requests from peer messages", () => {
  assert.deepEqual(
    SAMPLES.map(isClientRequest),
    SAMPLES.map((sample) => sample.type === "get" || sample.type === "put"),
  );
});

Deno.test("decodeDatagram refuses invalid UTF-8 in a string and keeps a real U+FFFD", () => {
  const [before, after] =
    '{"src":"0013","dst":"0000","leader":"FFFF","type":"get","MID":"m1","key":"k"}'
      .split('"k"');
  const withKeyBytes = (key: number[]) =>
    new Uint8Array([...encoder.encode(`${before}"`), ...key, ...encoder.encode(`"${after}`)]);
  const invalid = decodeDatagram(withKeyBytes([0x6b, 0xff]));
  assert.deepEqual(invalid, { ok: false, reason: "datagram is not UTF-8" });
  const replacement = decodeDatagram(withKeyBytes([0x6b, 0xef, 0xbf, 0xbd]));
  assert.ok(replacement.ok && replacement.message.type === "get");
  assert.equal(replacement.message.key, "k\uFFFD");
});

Deno.test("decodeDatagram refuses payloads that are not one JSON object", () => {
  const payloads: Uint8Array[] = [
    new Uint8Array(),
    new Uint8Array([0xff, 0xfe, 0xfd]),
    new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]),
    new Uint8Array(MAX_DATAGRAM_BYTES + 1).fill(0x20),
    ...[
      "",
      " ",
      "{",
      "}",
      "{'src':'0000'}",
      '{"src":"0000",}',
      "null",
      "true",
      "0",
      "-1",
      '"text"',
      "[]",
      "[{}]",
      JSON.stringify([SAMPLES[0]]),
      JSON.stringify(SAMPLES[0]) + "x",
      JSON.stringify(SAMPLES[0]) + JSON.stringify(SAMPLES[0]),
      "[".repeat(60_000) + "]".repeat(60_000),
      '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000),
    ].map((text) => encoder.encode(text)),
  ];
  for (const payload of payloads) {
    const result = decodeDatagram(payload);
    assert.equal(result.ok, false, decoder.decode(payload.subarray(0, 40)));
  }
});

/** The kind of each field, to know which values are wrong for it. */
type FieldKind = "id" | "string" | "count" | "finite" | "boolean" | "entries";

const FIELD_KINDS: Readonly<Record<string, FieldKind>> = {
  src: "id",
  dst: "id",
  leader: "id",
  client: "id",
  type: "string",
  MID: "string",
  key: "string",
  value: "string",
  term: "count",
  lastLogIndex: "count",
  lastLogTerm: "count",
  commitIndex: "count",
  prevLogIndex: "count",
  prevLogTerm: "count",
  leaderCommit: "count",
  matchIndex: "count",
  conflictIndex: "count",
  conflictTerm: "count",
  sentAt: "finite",
  granted: "boolean",
  success: "boolean",
  entries: "entries",
};

const NOT_JSON_SCALARS: readonly unknown[] = [null, [], {}, [1], { a: 1 }];
const WRONG_VALUES: Readonly<Record<FieldKind, readonly unknown[]>> = {
  id: [
    ...NOT_JSON_SCALARS,
    "",
    "0",
    "000",
    "00000",
    "GGGG",
    "00 1",
    " 0001",
    "0x01",
    "０００１",
    "0001\n",
    1,
    1234,
    true,
  ],
  string: [...NOT_JSON_SCALARS, 0, 1.5, -1, true, false],
  count: [
    ...NOT_JSON_SCALARS,
    -1,
    -0.5,
    0.5,
    1.000001,
    2 ** 53,
    1e300,
    -1e300,
    "1",
    "",
    true,
  ],
  finite: [...NOT_JSON_SCALARS, "1", "", true, false],
  boolean: [...NOT_JSON_SCALARS, 0, 1, "true", "false", ""],
  entries: [
    null,
    {},
    "",
    "[]",
    0,
    true,
    [1],
    ["x"],
    [null],
    [[]],
    [{}],
    [{ term: -1 }],
    [{ term: 1.5 }],
    [{ term: "1" }],
    [{ term: 1 }, { term: 2 ** 53 }],
    [{ term: 1, command: { ...putCommand, key: undefined } }],
    [{ term: 1, command: { key: "k" } }],
    [{ term: 1, command: { MID: "m", client: "0013" } }],
    [{ term: 1, command: { ...putCommand, value: 7 } }],
    [{ term: 1, command: { ...putCommand, key: null } }],
    [{ term: 1, command: { ...putCommand, MID: [] } }],
    [{ term: 1, command: { ...putCommand, client: "13" } }],
    [{ term: 1, command: { ...putCommand, client: "FFFFF" } }],
    [{ term: 1, command: "put k v" }],
    [{ term: 1, command: null }],
    Array.from({ length: MAX_ENTRIES_PER_MESSAGE + 1 }, () => ({ term: 1 })),
  ],
};

const UNKNOWN_TYPES = [
  "hello",
  "ok",
  "fail",
  "redirect",
  "GET",
  "Put",
  "",
  "get ",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
];

Deno.test("decodeDatagram refuses each sample with any field missing or of a wrong value", () => {
  let refused = 0;
  for (const sample of SAMPLES) {
    for (const field of Object.keys(sample)) {
      const kind = FIELD_KINDS[field];
      assert.ok(kind !== undefined, `no kind for field ${field}`);
      const wrongValues = [
        undefined,
        ...WRONG_VALUES[kind],
        ...(field === "type" ? UNKNOWN_TYPES : []),
      ];
      for (const wrong of wrongValues) {
        const result = decodeDatagram(jsonBytes({ ...sample, [field]: wrong }));
        assert.equal(result.ok, false, `${sample.type}.${field} = ${JSON.stringify(wrong)}`);
        refused++;
      }
    }
  }
  assert.ok(refused > 500, `only ${refused} cases`);
});

Deno.test("decodeDatagram keeps the optional peer fields when valid and refuses them when not", () => {
  const append = SAMPLES.find((sample) => sample.type === "append_entries") as AppendEntries;
  const reply = SAMPLES.find((sample) => sample.type === "append_entries_reply") as PeerMessage;
  const vote = SAMPLES.find((sample) => sample.type === "request_vote_reply") as PeerMessage;
  const nineRanges = Array.from({ length: 9 }, (_, i) => [2 * i + 1, 2 * i + 1]);
  const notRanges = [
    ...[null, [0, 1], [5, 3], [1], [1, 2, 3], ["1", 2], [1.5, 2], [-1, 2], {}].map((r) => [r]),
    null,
    {},
    [],
    [3, 5],
    [[1, 2], [3, 4]],
    [[4, 5], [1, 2]],
    nineRanges,
  ];
  const optional: readonly [PeerMessage, string, unknown, readonly unknown[]][] = [
    [append, "repliers", ["0001", "0002"], [null, "0001", ["1"], [1]]],
    [append, "replyTwice", true, [null, 1, "true", []]],
    [reply, "secondCopy", true, [null, 0, "yes", {}]],
    [append, "undecided", [[3, 5]], notRanges],
    [reply, "undecided", [[4, 4], [6, 9]], notRanges],
    [vote, "undecided", [[1, 2]], notRanges],
  ];
  for (const [sample, field, valid, wrongValues] of optional) {
    const withField = { ...sample, [field]: valid };
    assert.deepEqual(decodeDatagram(encodeMessage(withField)), { ok: true, message: withField });
    for (const wrong of wrongValues) {
      const result = decodeDatagram(jsonBytes({ ...sample, [field]: wrong }));
      assert.equal(result.ok, false, `${sample.type}.${field} = ${JSON.stringify(wrong)}`);
    }
  }
});

Deno.test("decodeDatagram refuses numbers JSON can spell but JavaScript cannot hold exactly", () => {
  const text = JSON.stringify(SAMPLES[6]);
  for (const [field, wrong] of [["sentAt", "1e400"], ["term", "1e400"], ["term", "-1e400"]]) {
    const pattern = new RegExp(`"${field}":[0-9.]+`);
    const payload = encoder.encode(text.replace(pattern, `"${field}":${wrong}`));
    assert.equal(decodeDatagram(payload).ok, false, `${field}: ${wrong}`);
  }
});

Deno.test("decodeDatagram gives a reason that names the faulty field", () => {
  const result = decodeDatagram(jsonBytes({ ...SAMPLES[2], lastLogTerm: -3 }));
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.reason, /lastLogTerm is -3/);
});

const idArbitrary = fc.integer({ min: 0, max: 0xffff }).map((n) =>
  n.toString(16).toUpperCase().padStart(4, "0")
);
const countArbitrary = fc.oneof(fc.nat(), fc.maxSafeNat());
const entryArbitrary: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ term: countArbitrary }),
  fc.record({
    term: countArbitrary,
    command: fc.record({
      key: fc.string(),
      value: fc.string(),
      client: idArbitrary,
      MID: fc.string(),
    }),
  }),
);
const appendEntriesArbitrary: fc.Arbitrary<AppendEntries> = fc.record({
  src: idArbitrary,
  dst: idArbitrary,
  leader: idArbitrary,
  type: fc.constant("append_entries" as const),
  term: countArbitrary,
  prevLogIndex: countArbitrary,
  prevLogTerm: countArbitrary,
  entries: fc.array(entryArbitrary, { maxLength: 8 }),
  leaderCommit: countArbitrary,
  sentAt: fc.double({ noNaN: true, noDefaultInfinity: true }),
});
const peerMessageArbitrary: fc.Arbitrary<PeerMessage> = fc.oneof(
  appendEntriesArbitrary,
  fc.record({
    src: idArbitrary,
    dst: idArbitrary,
    leader: idArbitrary,
    type: fc.constantFrom("request_vote" as const, "pre_vote" as const),
    term: countArbitrary,
    lastLogIndex: countArbitrary,
    lastLogTerm: countArbitrary,
  }),
  fc.record({
    src: idArbitrary,
    dst: idArbitrary,
    leader: idArbitrary,
    type: fc.constantFrom("request_vote_reply" as const, "pre_vote_reply" as const),
    term: countArbitrary,
    granted: fc.boolean(),
    lastLogIndex: countArbitrary,
    lastLogTerm: countArbitrary,
    commitIndex: countArbitrary,
  }),
  fc.record({
    src: idArbitrary,
    dst: idArbitrary,
    leader: idArbitrary,
    type: fc.constant("append_entries_reply" as const),
    term: countArbitrary,
    success: fc.boolean(),
    matchIndex: countArbitrary,
    conflictIndex: countArbitrary,
    conflictTerm: countArbitrary,
    commitIndex: countArbitrary,
    sentAt: fc.double({ noNaN: true, noDefaultInfinity: true }),
  }),
);

Deno.test("every generated peer message survives encodeMessage then decodeDatagram", () => {
  fc.assert(
    fc.property(peerMessageArbitrary, (message) => {
      // JSON has no -0: it is sent as 0.
      const expected = JSON.parse(JSON.stringify(message));
      assert.deepEqual(decodeDatagram(encodeMessage(message)), { ok: true, message: expected });
    }),
    { numRuns: 300 },
  );
});

Deno.test("decodeDatagram never throws on random bytes and refuses them", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      assert.equal(decodeDatagram(bytes).ok, false);
    }),
    { numRuns: 500 },
  );
});

Deno.test("decodeDatagram never throws on random JSON and refuses what lacks a valid envelope", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.equal(decodeDatagram(jsonBytes(value)).ok, false);
    }),
    { numRuns: 500 },
  );
});

/** Values of any JSON type except `kind`'s own valid ones. */
function wrongValueArbitrary(kind: FieldKind): fc.Arbitrary<unknown> {
  const others: fc.Arbitrary<unknown>[] = [
    fc.constant(null),
    fc.array(fc.jsonValue(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
  ];
  if (kind !== "boolean") others.push(fc.boolean());
  if (kind === "id") others.push(fc.string().filter((text) => !/^[0-9A-Fa-f]{4}$/.test(text)));
  else if (kind !== "string") others.push(fc.string());
  if (kind === "count") {
    others.push(
      fc.integer({ max: -1 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
      fc.double({ min: 2 ** 53, noDefaultInfinity: true, noNaN: true }),
    );
  } else if (kind !== "finite") {
    others.push(fc.double({ noNaN: true, noDefaultInfinity: true }));
  }
  return fc.oneof(...others);
}

Deno.test("a valid peer message with one field made wrong is always refused", () => {
  const mutated = peerMessageArbitrary.chain((message) => {
    const fields = Object.keys(message).filter((field) => field !== "entries");
    return fc.constantFrom(...fields).chain((field) =>
      wrongValueArbitrary(FIELD_KINDS[field] ?? "string").map((wrong) => ({
        ...message,
        [field]: wrong,
      }))
    );
  });
  fc.assert(
    fc.property(mutated, (message) => {
      assert.equal(decodeDatagram(jsonBytes(message)).ok, false);
    }),
    { numRuns: 500 },
  );
});
