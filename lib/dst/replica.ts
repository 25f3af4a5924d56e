/**
 * The replica the simulation drives by default: the real key-value server with
 * its Raft core, seen through the view the invariants need.
 *
 * @module
 */

import type { InboundMessage } from "../kv/messages.ts";
import { KvServer, type KvServerOptions, type ServerReady } from "../kv/server.ts";
import type { Entry, Id } from "../raft/messages.ts";
import type { ReplicaView } from "./invariants.ts";

/** A replica the simulation can drive: the {@linkcode KvServer} API plus its core's state. */
export interface SimulatedReplica extends ReplicaView {
  readonly leaderId: Id | undefined;
  step(message: InboundMessage, now: number): void;
  tick(now: number): void;
  ready(): ServerReady;
}

/**
 * A {@linkcode KvServer} as a {@linkcode SimulatedReplica}: inputs go to the
 * server, the view reads its core.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServedReplica } from "./replica.ts";
 * const replica = new ServedReplica({ id: "0000", peers: ["0001"], now: 0, random: () => 0 });
 * assert.equal(replica.role, "follower");
 * assert.equal(replica.ready().deadline, 1200);
 * ```
 */
export class ServedReplica implements SimulatedReplica {
  /** The server driven. */
  readonly server: KvServer;

  /** @param options The server's and its core's options. */
  constructor(options: KvServerOptions) {
    this.server = new KvServer(options);
  }

  /** This replica's id. */
  get id(): Id {
    return this.server.id;
  }
  /** The core's role. */
  get role(): string {
    return this.server.core.role;
  }
  /** The core's current term. */
  get currentTerm(): number {
    return this.server.core.currentTerm;
  }
  /** The candidate the core voted for in its current term, if any. */
  get votedFor(): Id | undefined {
    return this.server.core.votedFor;
  }
  /** The leader the core believes in. */
  get leaderId(): Id | undefined {
    return this.server.core.leaderId;
  }
  /** The core's commit index. */
  get commitIndex(): number {
    return this.server.core.commitIndex;
  }
  /** The index last applied to the store. */
  get lastApplied(): number {
    return this.server.lastApplied;
  }
  /** The core's last log index. */
  get lastIndex(): number {
    return this.server.core.lastIndex;
  }
  /**
   * @param index A log index.
   * @returns The core's entry there.
   */
  entryAt(index: number): Entry | undefined {
    return this.server.core.entryAt(index);
  }
  /**
   * @param key A key.
   * @returns Its applied value.
   */
  read(key: string): string {
    return this.server.read(key);
  }
  /**
   * @param message An inbound message.
   * @param now The replica's clock.
   */
  step(message: InboundMessage, now: number): void {
    this.server.step(message, now);
  }
  /** @param now The replica's clock. */
  tick(now: number): void {
    this.server.tick(now);
  }
  /** @returns The server's output. */
  ready(): ServerReady {
    return this.server.ready();
  }
}
