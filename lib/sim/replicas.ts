/**
 * Replica processes: each is spawned in its own process group (`detached`, which calls
 * `setsid`) with its output piped to the simulator, and killed with SIGTERM to the
 * whole group (PROTOCOL.md section 1).
 *
 * @module
 */

/** How long a replica may take to exit after SIGTERM before its group gets SIGKILL. */
const TERMINATE_GRACE_MS = 2000;

/**
 * Refuses a replica program that does not exist or cannot be executed, with a
 * one-line message instead of a spawn error.
 *
 * @param path The program.
 * @param role What the program is to the run, as the message names it.
 * @throws {Error} When it is missing, not a file, or not executable.
 */
export async function checkProgram(path: string, role = "replica program"): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot start simulation as ${role} ${path} does not exist`);
    }
    throw new Error(`Cannot start simulation as ${role} ${path} cannot be read: ${error}`);
  }
  if (!info.isFile) {
    throw new Error(`Cannot start simulation as ${role} ${path} is not a file`);
  }
  if (info.mode !== null && (info.mode & 0o111) === 0) {
    throw new Error(
      `Cannot start simulation as ${role} ${path} is not executable (try chmod +x ${path})`,
    );
  }
}

/** Options for {@linkcode ReplicaProcess.spawn}. */
export interface SpawnOptions {
  /** The replica program. */
  program: string;
  /** The simulator's UDP port for this replica. */
  port: number;
  /** This replica's id. */
  id: string;
  /** The other replicas' ids. */
  peers: readonly string[];
  /** Receives each output line; when absent, output goes to /dev/null. */
  onLine?: (line: string) => void;
}

/** One running replica. */
export class ReplicaProcess {
  /** Resolves when the process exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Whether the simulator asked it to stop. */
  terminated = false;
  readonly #child: Deno.ChildProcess;
  readonly #pumps: Promise<void>[];

  private constructor(child: Deno.ChildProcess, pumps: Promise<void>[]) {
    this.#child = child;
    this.#pumps = pumps;
    this.status = child.status;
  }

  /**
   * Starts `program <port> <id> <peer>...` in its own process group.
   *
   * @param options See {@linkcode SpawnOptions}.
   * @returns The process.
   */
  static spawn(options: SpawnOptions): ReplicaProcess {
    const output = options.onLine ? "piped" : "null";
    const child = new Deno.Command(options.program, {
      args: [String(options.port), options.id, ...options.peers],
      detached: true,
      stdin: "null",
      stdout: output,
      stderr: output,
    }).spawn();
    const onLine = options.onLine;
    const pumps = onLine ? [pumpLines(child.stdout, onLine), pumpLines(child.stderr, onLine)] : [];
    return new ReplicaProcess(child, pumps);
  }

  /** The process id (also its process group id). */
  get pid(): number {
    return this.#child.pid;
  }

  /**
   * Sends SIGTERM to the process group, then SIGKILL if it lingers, and waits for the
   * process and its output to end.
   */
  async terminate(): Promise<void> {
    this.terminated = true;
    signalGroup(this.pid, "SIGTERM");
    // A stopped group (pause_leader) only acts on the SIGTERM once it runs again.
    signalGroup(this.pid, "SIGCONT");
    const exited = await Promise.race([
      this.status.then(() => true),
      new Promise<false>((resolve) => {
        const timer = setTimeout(() => resolve(false), TERMINATE_GRACE_MS);
        this.status.finally(() => clearTimeout(timer));
      }),
    ]);
    if (!exited) signalGroup(this.pid, "SIGKILL");
    await this.status;
    await Promise.all(this.#pumps);
  }

  /**
   * Sends SIGKILL to the process group, which no handler can delay, and waits for the
   * process and its output to end.
   */
  async kill(): Promise<void> {
    this.terminated = true;
    signalGroup(this.pid, "SIGKILL");
    await this.status;
    await Promise.all(this.#pumps);
  }

  /** Stops the process group (SIGSTOP) until {@linkcode resume}. */
  pause(): void {
    signalGroup(this.pid, "SIGSTOP");
  }

  /** Continues the process group after {@linkcode pause} (SIGCONT). */
  resume(): void {
    signalGroup(this.pid, "SIGCONT");
  }
}

function signalGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

async function pumpLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffered = "";
  try {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    }
  } catch {
    // The pipe closes with the process group; nothing more will come.
  }
  if (buffered) onLine(buffered);
}
