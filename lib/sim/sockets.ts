/**
 * The simulator's UDP sockets: one per replica on 127.0.0.1, port chosen by the OS. The
 * replica learns the port from its command line and says hello from its own socket; the
 * simulator learns the replica's port from that hello (PROTOCOL.md section 1).
 *
 * @module
 */

import { readProcText } from "./_proc.ts";

const LOOPBACK = "127.0.0.1";

/** The largest UDP payload over IPv4: every datagram fits in a buffer this size. */
const MAX_DATAGRAM_BYTES = 65_507;

/** One replica's socket on the simulator side. */
export class ReplicaSocket {
  /** The simulator's port for this replica. */
  readonly port: number;
  /** The replica's port, known once it said hello. */
  remotePort: number | undefined;
  readonly #conn: Deno.DatagramConn;
  #closed = false;

  private constructor(conn: Deno.DatagramConn) {
    this.#conn = conn;
    this.port = (conn.addr as Deno.NetAddr).port;
  }

  /**
   * Opens a socket on 127.0.0.1 with an OS-chosen port.
   *
   * @returns The socket.
   */
  static open(): ReplicaSocket {
    return new ReplicaSocket(
      Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 }),
    );
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Calls `onDatagram` for every datagram until the socket closes.
   *
   * @param onDatagram Receives the bytes and the sender's port.
   */
  async receive(onDatagram: (data: Uint8Array, fromPort: number) => void): Promise<void> {
    // One buffer for every datagram: without one, Deno allocates and zeroes a fresh
    // 64 KiB per receive, and the simulator, on every hop, would pay for it in
    // latency the course's grader does not have. Each datagram is copied out.
    const buffer = new Uint8Array(MAX_DATAGRAM_BYTES);
    try {
      while (!this.#closed) {
        const [data, addr] = await this.#conn.receive(buffer);
        onDatagram(data.slice(), (addr as Deno.NetAddr).port);
      }
    } catch (error) {
      if (!this.#closed) throw error;
    }
  }

  /**
   * Sends a datagram to the replica (fire and forget, as UDP is).
   *
   * @param data The bytes.
   * @returns Whether it was sent (false before the hello or after close).
   */
  send(data: Uint8Array): boolean {
    if (this.#closed || this.remotePort === undefined) return false;
    this.#conn.send(data, { transport: "udp", hostname: LOOPBACK, port: this.remotePort })
      .catch(() => {});
    return true;
  }

  /** Closes the socket; {@linkcode receive} then returns. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }
}

/** Linux's table of UDP sockets; its last column counts the datagrams each one dropped. */
const PROC_NET_UDP = "/proc/net/udp";

/**
 * How many datagrams the kernel dropped at each loopback UDP socket because its receive
 * buffer was full. Our sockets have the grader's buffer size, so when the simulator reads too
 * slowly (its CPU taken by the replicas) it loses datagrams as the grader would.
 *
 * @returns Drops per local port, or undefined where the table cannot be read (not Linux).
 */
export function kernelDropsByPort(): Map<number, number> | undefined {
  const text = readProcText(PROC_NET_UDP);
  if (text === undefined) return undefined;
  const drops = new Map<number, number>();
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local_address is hex "0100007F:PORT" (127.0.0.1, little-endian); drops comes last.
    const [address, port] = (fields[1] ?? "").split(":");
    if (address !== "0100007F" || port === undefined || fields.length < 13) continue;
    drops.set(parseInt(port, 16), Number(fields[fields.length - 1]));
  }
  return drops;
}
