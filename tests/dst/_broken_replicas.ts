import type { ClientReply, Id, InboundMessage } from "../../lib/raft/messages.ts";
import { RaftNode } from "../../lib/raft/node.ts";
import type { RaftOptions, Ready } from "../../lib/raft/options.ts";
import type { SimulatedReplica } from "../../lib/dst/mod.ts";

/** What the bug does with one inbound message; undefined passes it to the core. */
type Interception = ClientReply | "drop" | undefined;

/**
 * A real replica with one bug bolted on: `intercept` may answer a message
 * itself (returning the reply) or swallow it (returning "drop") instead of
 * passing it to the core.
 */
class InterceptingReplica implements SimulatedReplica {
  readonly #core: RaftNode;
  readonly #intercept: (core: RaftNode, message: InboundMessage) => Interception;
  #replies: ClientReply[] = [];

  constructor(
    options: RaftOptions,
    intercept: (core: RaftNode, message: InboundMessage) => Interception,
  ) {
    this.#core = new RaftNode(options);
    this.#intercept = intercept;
  }

  get id(): Id {
    return this.#core.id;
  }
  get role(): string {
    return this.#core.role;
  }
  get currentTerm(): number {
    return this.#core.currentTerm;
  }
  get leaderId(): Id | undefined {
    return this.#core.leaderId;
  }
  get commitIndex(): number {
    return this.#core.commitIndex;
  }
  get lastApplied(): number {
    return this.#core.lastApplied;
  }
  get lastIndex(): number {
    return this.#core.lastIndex;
  }
  entryAt(index: number): ReturnType<RaftNode["entryAt"]> {
    return this.#core.entryAt(index);
  }
  read(key: string): string {
    return this.#core.read(key);
  }
  step(message: InboundMessage, now: number): void {
    const reply = this.#intercept(this.#core, message);
    if (reply === undefined) this.#core.step(message, now);
    else if (reply !== "drop") this.#replies.push(reply);
  }
  tick(now: number): void {
    this.#core.tick(now);
  }
  ready(): Ready {
    const ready = this.#core.ready();
    const messages = [...ready.messages, ...this.#replies];
    this.#replies = [];
    return { messages, deadline: ready.deadline };
  }
}

/** Any replica answers a get from its own applied state, leader or not: stale reads. */
export function staleReadReplica(options: RaftOptions): SimulatedReplica {
  return new InterceptingReplica(options, (core, message) =>
    message.type === "get"
      ? {
        src: core.id,
        dst: message.src,
        leader: core.leaderId ?? "FFFF",
        type: "ok",
        MID: message.MID,
        value: core.read(message.key),
      }
      : undefined);
}

/** Every put is answered ok on arrival and never replicated: lost acknowledged writes. */
export function forgetfulPutReplica(options: RaftOptions): SimulatedReplica {
  return new InterceptingReplica(
    options,
    (core, message) =>
      message.type === "put"
        ? {
          src: core.id,
          dst: message.src,
          leader: core.leaderId ?? "FFFF",
          type: "ok",
          MID: message.MID,
        }
        : undefined,
  );
}

/** Peer messages are ignored: no replica ever gathers votes. */
export function deafReplica(options: RaftOptions): SimulatedReplica {
  return new InterceptingReplica(
    options,
    (_, message) => message.type === "get" || message.type === "put" ? undefined : "drop",
  );
}

/** The core throws on the first put it receives, as a core with a crash bug would. */
export function throwingReplica(options: RaftOptions): SimulatedReplica {
  return new InterceptingReplica(options, (_, message) => {
    if (message.type === "put") throw new TypeError("planted: cannot apply put");
    return undefined;
  });
}

/** The leader answers every get from its applied state, with no lease or ReadIndex round. */
export function unconfirmedLeaderReadReplica(options: RaftOptions): SimulatedReplica {
  return new InterceptingReplica(
    options,
    (core, message) =>
      message.type === "get" && core.role === "leader"
        ? {
          src: core.id,
          dst: message.src,
          leader: core.id,
          type: "ok",
          MID: message.MID,
          value: core.read(message.key),
        }
        : undefined,
  );
}
