/**
 * The wire codec of a replica: turns one inbound UDP datagram into a validated
 * {@linkcode InboundMessage}, and an {@linkcode OutboundMessage} into the bytes of
 * one datagram. Every field of every inbound message is checked, so the Raft core
 * only ever sees well-typed input (PROTOCOL.md section 2).
 *
 * @module
 */

import type {
  GetRequest,
  InboundMessage,
  OutboundMessage,
  PutCommand,
  PutRequest,
} from "../kv/messages.ts";
import {
  type AppendEntries,
  type AppendEntriesReply,
  type Entry,
  type Envelope,
  type Id,
  ID_PATTERN,
  type IndexRange,
  type VoteReply,
  type VoteRequest,
} from "../raft/messages.ts";
import { undecidedProblem } from "../raft/answered.ts";
import { MAX_ENTRIES_PER_MESSAGE } from "../raft/options.ts";

/** The largest datagram the protocol allows (PROTOCOL.md section 2). */
export const MAX_DATAGRAM_BYTES = 65_535;

/** The largest UDP payload IPv4 can carry: 65,535 minus the IP and UDP headers. */
export const MAX_ENCODED_BYTES = 65_507;

/**
 * The largest put datagram accepted. Its key, value and MID travel on in a log
 * entry, and an AppendEntries wraps that entry in a few hundred more bytes: a
 * larger put could never be replicated and would stall the log behind it.
 */
export const MAX_PUT_BYTES = 64_000;

/** The outcome of {@linkcode decodeDatagram}: the message, or why it was refused. */
export type DecodeResult =
  | { ok: true; message: InboundMessage }
  | { ok: false; reason: string };

/** A parsed JSON object whose fields are still unchecked. */
type Fields = Readonly<Record<string, unknown>>;

/** Thrown inside this module only, to unwind from a field check to the caller. */
class MalformedError extends Error {}

/**
 * Decodes valid UTF-8 on Deno's fast path; invalid bytes come out as U+FFFD, and
 * only text holding one is decoded again by {@linkcode strictUtf8Decoder} to tell
 * a real U+FFFD from invalid input. A fatal decoder alone costs a datagram about
 * twice as long.
 */
const utf8Decoder = new TextDecoder();
const strictUtf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();
const REPLACEMENT_CHARACTER = "\uFFFD";

/**
 * Validates one inbound datagram: a UTF-8 JSON object with the four envelope
 * fields as 4-digit hex ids, a known client or peer `type`, and every field that
 * type needs with the right type and range. Fields a type does not define are
 * ignored and absent from the result. A put larger than {@linkcode MAX_PUT_BYTES}
 * is refused too.
 *
 * @param bytes The datagram's payload.
 * @returns `{ ok: true, message }`, or `{ ok: false, reason }` for the debug log.
 *
 * @example Decoding a client get
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeDatagram } from "./codec.ts";
 *
 * const bytes = new TextEncoder().encode(
 *   '{"src":"0013","dst":"0000","leader":"FFFF","type":"get","MID":"m1","key":"k"}',
 * );
 * const result = decodeDatagram(bytes);
 * assert.ok(result.ok && result.message.type === "get");
 * assert.equal(decodeDatagram(new TextEncoder().encode("[]")).ok, false);
 * ```
 */
export function decodeDatagram(bytes: Uint8Array): DecodeResult {
  if (bytes.length > MAX_DATAGRAM_BYTES) {
    return refuse(`datagram is ${bytes.length} bytes: at most ${MAX_DATAGRAM_BYTES} allowed`);
  }
  const parsed = parseJson(bytes);
  if (!parsed.ok) return parsed;
  try {
    const message = decodeMessage(parsed.value);
    if (message.type === "put" && bytes.length > MAX_PUT_BYTES) {
      return refuse(`put is ${bytes.length} bytes: at most ${MAX_PUT_BYTES} fit in a log entry`);
    }
    return { ok: true, message };
  } catch (error) {
    if (error instanceof MalformedError) return refuse(error.message);
    throw error;
  }
}

/**
 * Serializes one outbound message as the JSON payload of a datagram.
 *
 * @param message The message to send.
 * @returns The UTF-8 bytes of its JSON.
 * @throws {RangeError} When the JSON exceeds {@linkcode MAX_ENCODED_BYTES}, which
 *   no UDP datagram can carry.
 *
 * @example Encoding a reply
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMessage } from "./codec.ts";
 *
 * const bytes = encodeMessage({ src: "0000", dst: "0013", leader: "0000", type: "ok", MID: "m1" });
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   '{"src":"0000","dst":"0013","leader":"0000","type":"ok","MID":"m1"}',
 * );
 * ```
 */
export function encodeMessage(message: OutboundMessage): Uint8Array {
  const bytes = utf8Encoder.encode(JSON.stringify(message));
  if (bytes.length > MAX_ENCODED_BYTES) {
    throw new RangeError(
      `Cannot encode ${message.type} as it is ${bytes.length} bytes: it must be at most ${MAX_ENCODED_BYTES}`,
    );
  }
  return bytes;
}

function refuse(reason: string): DecodeResult {
  return { ok: false, reason };
}

function parseJson(
  bytes: Uint8Array,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  let text = utf8Decoder.decode(bytes);
  if (text.includes(REPLACEMENT_CHARACTER)) {
    try {
      text = strictUtf8Decoder.decode(bytes);
    } catch {
      return { ok: false, reason: "datagram is not UTF-8" };
    }
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // SyntaxError for bad JSON, RangeError for nesting too deep to parse.
    return { ok: false, reason: "datagram is not JSON" };
  }
}

/** One decoder per inbound type; a Map so input like "__proto__" finds nothing. */
const DECODERS: ReadonlyMap<string, (fields: Fields, envelope: Envelope) => InboundMessage> =
  new Map<string, (fields: Fields, envelope: Envelope) => InboundMessage>([
    ["get", decodeGet],
    ["put", decodePut],
    ["request_vote", (fields, envelope) => decodeVoteRequest(fields, envelope, "request_vote")],
    ["pre_vote", (fields, envelope) => decodeVoteRequest(fields, envelope, "pre_vote")],
    [
      "request_vote_reply",
      (fields, envelope) => decodeVoteReply(fields, envelope, "request_vote_reply"),
    ],
    ["pre_vote_reply", (fields, envelope) => decodeVoteReply(fields, envelope, "pre_vote_reply")],
    ["append_entries", decodeAppendEntries],
    ["append_entries_reply", decodeAppendEntriesReply],
  ]);

function decodeMessage(value: unknown): InboundMessage {
  const fields = asObject(value, "datagram");
  const envelope: Envelope = {
    src: readId(fields, "src"),
    dst: readId(fields, "dst"),
    leader: readId(fields, "leader"),
  };
  const type = readString(fields, "type");
  const decode = DECODERS.get(type);
  if (decode === undefined) throw new MalformedError(`type ${describe(type)} is unknown`);
  return decode(fields, envelope);
}

function decodeGet(fields: Fields, envelope: Envelope): GetRequest {
  return {
    ...envelope,
    type: "get",
    MID: readString(fields, "MID"),
    key: readString(fields, "key"),
  };
}

function decodePut(fields: Fields, envelope: Envelope): PutRequest {
  return {
    ...envelope,
    type: "put",
    MID: readString(fields, "MID"),
    key: readString(fields, "key"),
    value: readString(fields, "value"),
  };
}

function decodeVoteRequest(
  fields: Fields,
  envelope: Envelope,
  type: VoteRequest["type"],
): VoteRequest {
  return {
    ...envelope,
    type,
    term: readCount(fields, "term"),
    lastLogIndex: readCount(fields, "lastLogIndex"),
    lastLogTerm: readCount(fields, "lastLogTerm"),
  };
}

function decodeVoteReply(fields: Fields, envelope: Envelope, type: VoteReply["type"]): VoteReply {
  return {
    ...envelope,
    type,
    term: readCount(fields, "term"),
    granted: readBoolean(fields, "granted"),
    lastLogIndex: readCount(fields, "lastLogIndex"),
    lastLogTerm: readCount(fields, "lastLogTerm"),
    commitIndex: readCount(fields, "commitIndex"),
    ...readUndecided(fields),
  };
}

function decodeAppendEntries(fields: Fields, envelope: Envelope): AppendEntries {
  return {
    ...envelope,
    type: "append_entries",
    term: readCount(fields, "term"),
    prevLogIndex: readCount(fields, "prevLogIndex"),
    prevLogTerm: readCount(fields, "prevLogTerm"),
    entries: readEntries(fields, "entries"),
    leaderCommit: readCount(fields, "leaderCommit"),
    ...readUndecided(fields),
    sentAt: readFinite(fields, "sentAt"),
    ...(fields.repliers === undefined ? {} : { repliers: readIds(fields, "repliers") }),
    ...(fields.replyTwice === undefined ? {} : { replyTwice: readBoolean(fields, "replyTwice") }),
  };
}

/** Most ids in a list: far more than the 20 peers a replica can have. */
const MAX_IDS_PER_LIST = 64;

function readIds(fields: Fields, name: string): Id[] {
  const value = fields[name];
  if (!Array.isArray(value) || value.length > MAX_IDS_PER_LIST) {
    throw new MalformedError(
      `${name} is ${describe(value)}: not a list of at most ${MAX_IDS_PER_LIST} ids`,
    );
  }
  return value.map((id: unknown, index) => {
    if (typeof id !== "string" || !ID_PATTERN.test(id)) {
      throw new MalformedError(`${name}[${index}] is ${describe(id)}: not 4 hex digits`);
    }
    return id;
  });
}

function decodeAppendEntriesReply(fields: Fields, envelope: Envelope): AppendEntriesReply {
  return {
    ...envelope,
    type: "append_entries_reply",
    term: readCount(fields, "term"),
    success: readBoolean(fields, "success"),
    matchIndex: readCount(fields, "matchIndex"),
    conflictIndex: readCount(fields, "conflictIndex"),
    conflictTerm: readCount(fields, "conflictTerm"),
    commitIndex: readCount(fields, "commitIndex"),
    ...readUndecided(fields),
    sentAt: readFinite(fields, "sentAt"),
    ...(fields.secondCopy === undefined ? {} : { secondCopy: readBoolean(fields, "secondCopy") }),
  };
}

/** The optional `undecided` ranges, as {@linkcode undecidedProblem} accepts them. */
function readUndecided(fields: Fields): { undecided?: IndexRange[] } {
  const value = fields.undecided;
  if (value === undefined) return {};
  const problem = undecidedProblem(value);
  if (problem !== undefined) throw new MalformedError(problem);
  return { undecided: value as IndexRange[] };
}

function readEntries(fields: Fields, name: string): Entry[] {
  const value = fields[name];
  if (!Array.isArray(value)) {
    throw new MalformedError(`${name} is ${describe(value)}: not an array`);
  }
  if (value.length > MAX_ENTRIES_PER_MESSAGE) {
    throw new MalformedError(
      `${name} has ${value.length} entries: at most ${MAX_ENTRIES_PER_MESSAGE} allowed`,
    );
  }
  return value.map((entry: unknown, index) => decodeEntry(entry, `${name}[${index}]`));
}

/** A no-op entry has only a term; any other carries a put's command (kv/messages.ts). */
function decodeEntry(value: unknown, name: string): Entry {
  const fields = asObject(value, name);
  const term = readCount(fields, "term", name);
  if (fields.command === undefined) return { term };
  return { term, command: decodePutCommand(fields.command, `${name}.command`) };
}

function decodePutCommand(value: unknown, name: string): PutCommand {
  const fields = asObject(value, name);
  return {
    key: readString(fields, "key", name),
    value: readString(fields, "value", name),
    client: readId(fields, "client", name),
    MID: readString(fields, "MID", name),
  };
}

function asObject(value: unknown, name: string): Fields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MalformedError(`${name} is ${describe(value)}: not a JSON object`);
  }
  return value as Fields;
}

function readString(fields: Fields, name: string, within?: string): string {
  const value = fields[name];
  if (typeof value !== "string") {
    throw new MalformedError(`${path(name, within)} is ${describe(value)}: not a string`);
  }
  return value;
}

function readId(fields: Fields, name: string, within?: string): Id {
  const value = fields[name];
  if (typeof value !== "string" || !ID_PATTERN.test(value)) {
    throw new MalformedError(`${path(name, within)} is ${describe(value)}: not 4 hex digits`);
  }
  return value;
}

/** Terms and log indexes: what Raft counts, so whole numbers from 0 up. */
function readCount(fields: Fields, name: string, within?: string): number {
  const value = fields[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new MalformedError(
      `${path(name, within)} is ${describe(value)}: not a non-negative safe integer`,
    );
  }
  return value;
}

function readFinite(fields: Fields, name: string): number {
  const value = fields[name];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new MalformedError(`${name} is ${describe(value)}: not a finite number`);
  }
  return value;
}

function readBoolean(fields: Fields, name: string): boolean {
  const value = fields[name];
  if (typeof value !== "boolean") {
    throw new MalformedError(`${name} is ${describe(value)}: not a boolean`);
  }
  return value;
}

function path(name: string, within: string | undefined): string {
  return within === undefined ? name : `${within}.${name}`;
}

/**
 * A short rendering of a bad value for the log. Objects and arrays are only named:
 * hostile input may be huge, or nested too deep to stringify again.
 */
function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
