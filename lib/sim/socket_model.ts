/**
 * A model of the course grader's sockets, the part of its behaviour that loses datagrams
 * under a burst (issue 11). The grader is a Python loop over one UDP socket per replica: each
 * pass selects the readable sockets and reads one datagram from each, in socket order, and
 * routes it before the next pass. Each socket keeps the kernel's default receive buffer, and
 * once that is full the kernel drops what arrives, silently: the grader never counts it.
 *
 * Our simulator reads its sockets eagerly, so the kernel rarely drops anything for it. The
 * model puts the grader's queue back in process: every datagram the simulator reads joins its
 * socket's queue, charged at the size the kernel would charge, or is dropped when the kernel
 * would have dropped it; a virtual grader clock drains the queues one datagram per socket per
 * pass, each pass costing what the Python loop costs. Drops and the largest queues and bursts
 * are recorded per socket.
 *
 * The model is pure: the caller passes the time in and runs {@linkcode GraderLoop.runDue}
 * when it returns a due time.
 *
 * @module
 */

/**
 * The receive buffer of a socket nobody resized: `/proc/sys/net/core/rmem_default`, which
 * becomes `sk_rcvbuf` as it is (only `setsockopt(SO_RCVBUF)` doubles a value). 212,992 bytes on
 * the Linux kernels we measured (6.x) and the usual default since 2.6.
 */
export const RECEIVE_BUFFER_BYTES = 212_992;

/**
 * The window over which {@linkcode SocketStats.burstDatagrams} counts a sender's burst: the
 * 300 ms issue 11 measured after a heal.
 */
export const BURST_WINDOW_MS = 300;

/**
 * What one pass of the grader's loop costs, in microseconds. Measured with Python 3.11 on
 * the machine that runs our CI (2 shared cores): `select()` over 21 sockets takes 6 µs, a
 * `recvfrom` with `json.loads` of a 2 KB datagram 8 µs, a `sendto` 5 µs. The grader also
 * validates, counts and draws a drop per copy, so the figures are rounded up.
 */
export interface GraderCostsUs {
  /** The `select()` that starts each pass. */
  passUs: number;
  /** Reading, decoding, validating and counting one datagram. */
  datagramUs: number;
  /** Each datagram the grader sends while routing one (a broadcast sends N-1). */
  copyUs: number;
}

/** The costs the model uses unless told otherwise. */
export const GRADER_COSTS_US: Readonly<GraderCostsUs> = { passUs: 5, datagramUs: 15, copyUs: 6 };

/**
 * What the kernel charges a socket's receive buffer for one UDP datagram on loopback: the
 * skb's `truesize`, not the payload. Derived from the kernel's allocation and checked against
 * `/proc/net/udp` (its `rx_queue` is the charged total) for every payload from 0 to 20,000
 * bytes. The linear buffer holds the payload plus 379 bytes (28 of IPv4 and UDP headers, 16
 * of link-layer reserve, 15 of alignment, 320 of `skb_shared_info`); it comes from the
 * 576-byte small-head cache or else the next power of two, and the `sk_buff` adds 256. From
 * 16,005 bytes on the payload goes to page fragments charged at their size, plus 832.
 *
 * @param payloadBytes The datagram's length.
 * @returns The bytes charged.
 * @example
 * ```ts
 * import { truesizeBytes } from "./socket_model.ts";
 * if (truesizeBytes(150) !== 832 || truesizeBytes(2000) !== 4352) throw new Error("truesize");
 * ```
 */
export function truesizeBytes(payloadBytes: number): number {
  const SK_BUFF_BYTES = 256;
  const HEAD_OVERHEAD_BYTES = 379;
  const SMALL_HEAD_BYTES = 576;
  const PAGED_FROM_BYTES = 16_005;
  if (payloadBytes >= PAGED_FROM_BYTES) return payloadBytes + SMALL_HEAD_BYTES + SK_BUFF_BYTES;
  const headBytes = payloadBytes + HEAD_OVERHEAD_BYTES;
  if (headBytes <= SMALL_HEAD_BYTES) return SMALL_HEAD_BYTES + SK_BUFF_BYTES;
  return 2 ** Math.ceil(Math.log2(headBytes)) + SK_BUFF_BYTES;
}

/** What the model saw at one socket. */
export interface SocketStats {
  /** Datagrams the kernel would have dropped because the buffer was full. */
  drops: number;
  /** The most datagrams queued at once. */
  peakQueuedDatagrams: number;
  /** The most bytes charged at once (at most the buffer). */
  peakQueuedBytes: number;
  /** The most datagrams the replica sent within any {@linkcode BURST_WINDOW_MS}. */
  burstDatagrams: number;
  /** The most payload bytes the replica sent within any {@linkcode BURST_WINDOW_MS}. */
  burstBytes: number;
}

/** Options for {@linkcode GraderLoop}. */
export interface GraderLoopOptions {
  /**
   * Routes one datagram read from the socket of replica `id`, as the grader would.
   *
   * @returns How many datagrams routing it sent.
   */
  handle: (id: string, data: Uint8Array, fromPort: number) => number;
  /**
   * Each socket's receive buffer.
   *
   * @default {RECEIVE_BUFFER_BYTES}
   */
  receiveBufferBytes?: number;
  /**
   * The cost of the grader's loop.
   *
   * @default {GRADER_COSTS_US}
   */
  costsUs?: GraderCostsUs;
}

interface Queued {
  data: Uint8Array;
  fromPort: number;
  arrivedMs: number;
  chargedBytes: number;
}

interface ModelSocket {
  closed: boolean;
  queue: Queued[];
  /** Index of the queue's head: shifting an array per datagram would be quadratic. */
  head: number;
  queuedBytes: number;
  /** Arrival times and sizes within the burst window. */
  recent: { atMs: number; bytes: number }[];
  recentHead: number;
  recentBytes: number;
  stats: SocketStats;
}

/**
 * The grader's loop over its sockets, on a virtual clock.
 *
 * @example
 * ```ts
 * import { GraderLoop } from "./socket_model.ts";
 * const routed: string[] = [];
 * const loop = new GraderLoop({ handle: (id) => (routed.push(id), 0) });
 * loop.open("0000");
 * loop.offer("0000", new Uint8Array(100), 1234, 0);
 * if (routed.length !== 1 || loop.stats().get("0000")?.drops !== 0) throw new Error("routed");
 * ```
 */
export class GraderLoop {
  readonly #handle: GraderLoopOptions["handle"];
  readonly #bufferBytes: number;
  readonly #costsUs: GraderCostsUs;
  /** Sockets in the order the grader opened them, which is the order it reads them. */
  readonly #sockets = new Map<string, ModelSocket>();
  /** When the grader finishes its current pass. */
  #busyUntilMs = -Infinity;

  /**
   * Creates a loop with no sockets.
   *
   * @param options See {@linkcode GraderLoopOptions}.
   */
  constructor(options: GraderLoopOptions) {
    this.#handle = options.handle;
    this.#bufferBytes = options.receiveBufferBytes ?? RECEIVE_BUFFER_BYTES;
    this.#costsUs = options.costsUs ?? GRADER_COSTS_US;
  }

  /**
   * Adds replica `id`'s socket after the others.
   *
   * @param id The replica.
   */
  open(id: string): void {
    this.#sockets.set(id, {
      closed: false,
      queue: [],
      head: 0,
      queuedBytes: 0,
      recent: [],
      recentHead: 0,
      recentBytes: 0,
      stats: {
        drops: 0,
        peakQueuedDatagrams: 0,
        peakQueuedBytes: 0,
        burstDatagrams: 0,
        burstBytes: 0,
      },
    });
  }

  /**
   * Discards what replica `id`'s socket holds, as closing it does; later offers are ignored.
   *
   * @param id The replica.
   */
  close(id: string): void {
    const socket = this.#sockets.get(id);
    if (!socket) return;
    socket.closed = true;
    socket.queue = [];
    socket.head = 0;
    socket.queuedBytes = 0;
  }

  /**
   * A datagram from replica `id` reaches its socket at `nowMs`. The grader first catches up
   * to `nowMs`, so the queue holds what it would hold then; the datagram is then queued, or
   * dropped when the kernel would drop it (while the charged total plus its own charge
   * exceeds the buffer, as measured on Linux 6).
   *
   * @param id The replica whose socket it reached.
   * @param data The datagram.
   * @param fromPort The sender's port.
   * @param nowMs The time.
   * @returns Whether it was queued (false: dropped, or the socket is unknown or closed).
   */
  offer(id: string, data: Uint8Array, fromPort: number, nowMs: number): boolean {
    this.runDue(nowMs);
    const socket = this.#sockets.get(id);
    if (!socket || socket.closed) return false;
    this.#recordBurst(socket, data.length, nowMs);
    const chargedBytes = truesizeBytes(data.length);
    if (socket.queuedBytes + chargedBytes > this.#bufferBytes) {
      socket.stats.drops += 1;
      return false;
    }
    socket.queue.push({ data, fromPort, arrivedMs: nowMs, chargedBytes });
    socket.queuedBytes += chargedBytes;
    const stats = socket.stats;
    stats.peakQueuedDatagrams = Math.max(
      stats.peakQueuedDatagrams,
      socket.queue.length - socket.head,
    );
    stats.peakQueuedBytes = Math.max(stats.peakQueuedBytes, socket.queuedBytes);
    this.runDue(nowMs);
    return true;
  }

  /**
   * Runs every pass that starts by `nowMs`. A pass starts when the previous one ends or,
   * when the grader was idle, when the first datagram arrived; it reads the sockets whose
   * queue was non-empty at its start, one datagram each, in socket order.
   *
   * @param nowMs The time.
   * @returns When the next pass starts, or undefined when every queue is empty.
   */
  runDue(nowMs: number): number | undefined {
    while (true) {
      let firstArrivalMs = Infinity;
      for (const socket of this.#sockets.values()) {
        const next = socket.queue[socket.head];
        if (next) firstArrivalMs = Math.min(firstArrivalMs, next.arrivedMs);
      }
      if (firstArrivalMs === Infinity) return undefined;
      const startMs = Math.max(this.#busyUntilMs, firstArrivalMs);
      if (startMs > nowMs) return startMs;
      const readable = [...this.#sockets].filter(([, socket]) => {
        const next = socket.queue[socket.head];
        return next !== undefined && next.arrivedMs <= startMs;
      });
      let costUs = this.#costsUs.passUs;
      for (const [id, socket] of readable) {
        const next = socket.queue[socket.head];
        if (!next) continue;
        this.#dequeue(socket, next);
        const sent = this.#handle(id, next.data, next.fromPort);
        costUs += this.#costsUs.datagramUs + sent * this.#costsUs.copyUs;
      }
      this.#busyUntilMs = startMs + costUs / 1000;
    }
  }

  /**
   * What each socket saw, in socket order.
   *
   * @returns Per replica id.
   */
  stats(): Map<string, SocketStats> {
    return new Map([...this.#sockets].map(([id, socket]) => [id, { ...socket.stats }]));
  }

  #dequeue(socket: ModelSocket, next: Queued): void {
    socket.head += 1;
    socket.queuedBytes -= next.chargedBytes;
    if (socket.head === socket.queue.length) {
      socket.queue = [];
      socket.head = 0;
    }
  }

  #recordBurst(socket: ModelSocket, bytes: number, nowMs: number): void {
    socket.recent.push({ atMs: nowMs, bytes });
    socket.recentBytes += bytes;
    while (true) {
      const oldest = socket.recent[socket.recentHead];
      if (!oldest || oldest.atMs > nowMs - BURST_WINDOW_MS) break;
      socket.recentBytes -= oldest.bytes;
      socket.recentHead += 1;
    }
    if (socket.recentHead > 1024 && socket.recentHead * 2 > socket.recent.length) {
      socket.recent = socket.recent.slice(socket.recentHead);
      socket.recentHead = 0;
    }
    const stats = socket.stats;
    stats.burstDatagrams = Math.max(stats.burstDatagrams, socket.recent.length - socket.recentHead);
    stats.burstBytes = Math.max(stats.burstBytes, socket.recentBytes);
  }
}
