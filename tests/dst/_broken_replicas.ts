import type { ClientReply, InboundMessage } from "../../lib/kv/messages.ts";
import { loggedMids } from "../../lib/dst/_liveness.ts";
import type { KvServerOptions, ServerReady } from "../../lib/kv/server.ts";
import { ServedReplica, type SimulatedReplica } from "../../lib/dst/replica.ts";

/** What the bug does with one inbound message; undefined passes it to the replica. */
type Interception = ClientReply | "drop" | undefined;

/**
 * A real replica with one bug bolted on: `intercept` may answer a message
 * itself (returning the reply) or swallow it (returning "drop") instead of
 * passing it on.
 */
class InterceptingReplica extends ServedReplica {
  readonly #intercept: (replica: ServedReplica, message: InboundMessage) => Interception;
  #replies: ClientReply[] = [];

  constructor(
    options: KvServerOptions,
    intercept: (replica: ServedReplica, message: InboundMessage) => Interception,
  ) {
    super(options);
    this.#intercept = intercept;
  }

  override step(message: InboundMessage, now: number): void {
    const reply = this.#intercept(this, message);
    if (reply === undefined) super.step(message, now);
    else if (reply !== "drop") this.#replies.push(reply);
  }

  override ready(): ServerReady {
    const ready = super.ready();
    const messages = [...ready.messages, ...this.#replies];
    this.#replies = [];
    return { messages, deadline: ready.deadline };
  }
}

/** Any replica answers a get from its own applied state, leader or not: stale reads. */
export function staleReadReplica(options: KvServerOptions): SimulatedReplica {
  return new InterceptingReplica(options, (replica, message) =>
    message.type === "get"
      ? {
        src: replica.id,
        dst: message.src,
        leader: replica.leaderId ?? "FFFF",
        type: "ok",
        MID: message.MID,
        value: replica.read(message.key),
      }
      : undefined);
}

/** Every put is answered ok on arrival and never replicated: lost acknowledged writes. */
export function forgetfulPutReplica(options: KvServerOptions): SimulatedReplica {
  return new InterceptingReplica(
    options,
    (replica, message) =>
      message.type === "put"
        ? {
          src: replica.id,
          dst: message.src,
          leader: replica.leaderId ?? "FFFF",
          type: "ok",
          MID: message.MID,
        }
        : undefined,
  );
}

/** Peer messages are ignored: no replica ever gathers votes. */
export function deafReplica(options: KvServerOptions): SimulatedReplica {
  return new InterceptingReplica(
    options,
    (_, message) => message.type === "get" || message.type === "put" ? undefined : "drop",
  );
}

/** The core throws on the first put it receives, as a core with a crash bug would. */
export function throwingReplica(options: KvServerOptions): SimulatedReplica {
  return new InterceptingReplica(options, (_, message) => {
    if (message.type === "put") throw new TypeError("planted: cannot apply put");
    return undefined;
  });
}

/** The leader answers every get from its applied state, with no lease or ReadIndex round. */
export function unconfirmedLeaderReadReplica(options: KvServerOptions): SimulatedReplica {
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

/**
 * A replica that never redirects a put once it held it in its log: when a
 * new leader overwrites the put's entry, its client waits forever.
 */
export function silentOnOverwrittenPutReplica(options: KvServerOptions): SimulatedReplica {
  return new SilentOnOverwrittenPut(options);
}

class SilentOnOverwrittenPut extends ServedReplica {
  readonly #loggedMids = new Set<string>();

  override ready(): ServerReady {
    const ready = super.ready();
    for (const mid of loggedMids(this)) this.#loggedMids.add(mid);
    const messages = ready.messages.filter((message) =>
      !(message.type === "redirect" && this.#loggedMids.has(message.MID))
    );
    return { messages, deadline: ready.deadline };
  }
}

/**
 * A replica whose state machine, as the monitor reads it at the end, kept none
 * of the puts it applied; its log, its replies and its gets are the real
 * replica's. Only the end-of-run check of every live replica's store sees it.
 */
export function emptyStoreReplica(options: KvServerOptions): SimulatedReplica {
  return new EmptyStore(options);
}

class EmptyStore extends ServedReplica {
  override read(_key: string): string {
    return "";
  }
}

/**
 * A leader that answers `fail` to the first put it takes, then replicates and
 * commits it anyway, and never sends the `ok`: the client was told the put
 * did not happen. Only the end-of-run check of put replies against the
 * committed log sees it.
 */
export function failThenCommitReplica(options: KvServerOptions): SimulatedReplica {
  return new FailThenCommit(options);
}

class FailThenCommit extends ServedReplica {
  /** The put to answer `fail`: undefined until a first one is taken as leader, and once answered. */
  #failMid: string | undefined;
  #chosen = false;

  override step(message: InboundMessage, now: number): void {
    if (message.type === "put" && this.role === "leader" && !this.#chosen) {
      this.#chosen = true;
      this.#failMid = message.MID;
    }
    super.step(message, now);
  }

  override ready(): ServerReady {
    const ready = super.ready();
    const messages = ready.messages.map((message) => {
      if (message.type !== "ok" || message.MID !== this.#failMid) return message;
      this.#failMid = undefined;
      return { ...message, type: "fail" as const };
    });
    return { messages, deadline: ready.deadline };
  }
}
