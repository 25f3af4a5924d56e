/**
 * The course protocol's client side (shared/PROTOCOL.md section 2): hello, the
 * requests clients send and the replies they get, and the command a put becomes
 * in the replicated log. Peer messages are the Raft core's (`lib/raft/messages.ts`).
 *
 * @module
 */

import type { Envelope, Id, PeerMessage } from "../raft/messages.ts";

/** The first datagram a replica sends, so the simulator learns its address. */
export interface Hello extends Envelope {
  type: "hello";
}

/** A client read. */
export interface GetRequest extends Envelope {
  type: "get";
  /** Message id chosen by the client; the reply echoes it. */
  MID: string;
  key: string;
}

/** A client write. */
export interface PutRequest extends Envelope {
  type: "put";
  MID: string;
  key: string;
  value: string;
}

/** A client request of either kind. */
export type ClientRequest = GetRequest | PutRequest;

/** Success: `value` is present for a get (`""` for a key never put), absent for a put. */
export interface OkReply extends Envelope {
  type: "ok";
  MID: string;
  value?: string;
}

/** "Ask the replica named in `leader` instead." */
export interface RedirectReply extends Envelope {
  type: "redirect";
  MID: string;
}

/** "Not done; retry." Only ever sent for a request that is in no log. */
export interface FailReply extends Envelope {
  type: "fail";
  MID: string;
}

/** A reply to a client. */
export type ClientReply = OkReply | RedirectReply | FailReply;

/**
 * The command a put becomes in the log: the write, and the client and MID to
 * acknowledge once it commits, so whichever leader commits it can answer
 * (PROTOCOL.md section 6).
 */
export interface PutCommand {
  key: string;
  value: string;
  client: Id;
  MID: string;
}

/** Any message a replica may receive from the simulator (hello excluded). */
export type InboundMessage = ClientRequest | PeerMessage;

/** Any message a replica may send. */
export type OutboundMessage = Hello | ClientReply | PeerMessage;

/**
 * Whether a message comes from a client.
 *
 * @param message A validated inbound message.
 * @returns `true` for a get or a put.
 */
export function isClientRequest(message: InboundMessage): message is ClientRequest {
  return message.type === "get" || message.type === "put";
}

/**
 * Whether a log entry's command is a put (the only command this service proposes).
 *
 * @param command An entry's command.
 * @returns `true` when it has the four string fields of a {@linkcode PutCommand}.
 */
export function isPutCommand(command: unknown): command is PutCommand {
  if (typeof command !== "object" || command === null) return false;
  const { key, value, client, MID } = command as Record<string, unknown>;
  return [key, value, client, MID].every((field) => typeof field === "string");
}
