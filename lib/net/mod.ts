/**
 * The network edge of a replica: the codec that validates every inbound datagram
 * and encodes outbound messages, and the UDP transport to the simulator.
 *
 * @example Encoding a message and decoding it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeDatagram, encodeMessage } from "./mod.ts";
 *
 * const vote = {
 *   src: "0001", dst: "0000", leader: "FFFF", type: "request_vote_reply",
 *   term: 3, granted: true, lastLogIndex: 7, lastLogTerm: 2, commitIndex: 5,
 * } as const;
 * assert.deepEqual(decodeDatagram(encodeMessage(vote)), { ok: true, message: vote });
 * ```
 *
 * @module
 */

export {
  decodeDatagram,
  type DecodeResult,
  encodeMessage,
  MAX_DATAGRAM_BYTES,
  MAX_ENCODED_BYTES,
  MAX_PUT_BYTES,
} from "./codec.ts";
export { LOOPBACK, UdpTransport, type UdpTransportOptions } from "./udp.ts";
