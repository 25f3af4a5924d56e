/**
 * The replica's UDP socket: bound on 127.0.0.1, talking only to the simulator at
 * `127.0.0.1:<port>` (PROTOCOL.md section 1). Needs `--unstable-net` and
 * `--allow-net=127.0.0.1`.
 *
 * @module
 */

import { MAX_ENCODED_BYTES } from "./codec.ts";

/** The loopback address the simulator and every replica use. */
export const LOOPBACK = "127.0.0.1";

/** Options for {@linkcode UdpTransport.open}. */
export interface UdpTransportOptions {
  /** The simulator's port on 127.0.0.1: every datagram goes there. */
  simulatorPort: number;
  /** Told about each datagram dropped because it came from elsewhere. */
  onForeignDatagram?: (from: Deno.NetAddr) => void;
}

/**
 * A UDP socket that sends to the simulator and yields, as an async iterable, the
 * payloads of the datagrams the simulator sends back. Datagrams from any other
 * address are dropped: only the simulator may speak for clients and peers.
 *
 * @example Exchanging a datagram with a stand-in simulator
 * ```ts
 * import assert from "node:assert/strict";
 * import { UdpTransport } from "./udp.ts";
 *
 * const simulator = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 * const transport = UdpTransport.open({ simulatorPort: (simulator.addr as Deno.NetAddr).port });
 * try {
 *   await transport.send(new Uint8Array([1]));
 *   const [payload, from] = await simulator.receive();
 *   assert.deepEqual([...payload], [1]);
 *   await simulator.send(new Uint8Array([2]), from);
 *   for await (const reply of transport) {
 *     assert.deepEqual([...reply], [2]);
 *     break;
 *   }
 * } finally {
 *   transport.close();
 *   simulator.close();
 * }
 * ```
 */
export class UdpTransport implements AsyncIterable<Uint8Array> {
  readonly #conn: Deno.DatagramConn;
  readonly #simulator: Deno.NetAddr;
  readonly #onForeignDatagram: ((from: Deno.NetAddr) => void) | undefined;
  /**
   * One buffer for every receive. Without one, `DatagramConn.receive` allocates
   * and zeroes a fresh 64 KiB per datagram, which with the garbage it leaves cost
   * about 45 µs of CPU a datagram (BENCHMARKS.md); each payload is copied out
   * instead, a few hundred bytes. Sized for the largest UDP payload, so every
   * datagram fits.
   */
  readonly #receiveBuffer = new Uint8Array(MAX_ENCODED_BYTES);
  #closed = false;

  private constructor(conn: Deno.DatagramConn, options: UdpTransportOptions) {
    this.#conn = conn;
    this.#simulator = { transport: "udp", hostname: LOOPBACK, port: options.simulatorPort };
    this.#onForeignDatagram = options.onForeignDatagram;
  }

  /**
   * Binds a socket on 127.0.0.1 at a port the system picks.
   *
   * @param options The simulator's port and a hook for dropped datagrams.
   * @returns The open transport; {@linkcode UdpTransport.close} it when done.
   * @throws {RangeError} When `simulatorPort` is not between 1 and 65535.
   */
  static open(options: UdpTransportOptions): UdpTransport {
    const { simulatorPort } = options;
    if (!Number.isInteger(simulatorPort) || simulatorPort < 1 || simulatorPort > 65_535) {
      throw new RangeError(
        `Cannot open transport as simulatorPort is ${simulatorPort}: it must be between 1 and 65535`,
      );
    }
    const conn = Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 });
    return new UdpTransport(conn, options);
  }

  /** The local port this socket is bound to. */
  get localPort(): number {
    return (this.#conn.addr as Deno.NetAddr).port;
  }

  /**
   * Sends one datagram to the simulator.
   *
   * @param payload The datagram's bytes.
   * @returns Resolves once the system has taken the datagram.
   * @throws {Error} When the system refuses it, e.g. `EMSGSIZE` for an oversized payload.
   */
  async send(payload: Uint8Array): Promise<void> {
    await this.#conn.send(payload, this.#simulator);
  }

  /**
   * Yields the payload of each datagram from the simulator, in arrival order, until
   * {@linkcode UdpTransport.close} is called.
   *
   * @returns An async iterator of payloads.
   * @throws {Error} When receiving fails while the socket is still open.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    while (!this.#closed) {
      let datagram: [Uint8Array, Deno.Addr];
      try {
        datagram = await this.#conn.receive(this.#receiveBuffer);
      } catch (error) {
        // close() rejects the pending receive: that is the normal end of the loop.
        if (this.#closed) return;
        throw error;
      }
      const [payload, from] = datagram;
      if (this.#isSimulator(from)) yield payload.slice();
      else if (from.transport === "udp") this.#onForeignDatagram?.(from);
    }
  }

  /** Closes the socket; a pending iteration ends. Closing twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }

  #isSimulator(from: Deno.Addr): boolean {
    return from.transport === "udp" && from.hostname === LOOPBACK &&
      from.port === this.#simulator.port;
  }
}
