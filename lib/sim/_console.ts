/**
 * Terminal output for a run: plain lines, plus a live progress line rewritten in place
 * with `\r` when stdout is a terminal (and never otherwise).
 *
 * @module
 */

const encoder = new TextEncoder();
const CLEAR_LINE = "\r\x1b[K";

/** Where a run writes its lines. */
export interface Output {
  /** Writes one line. */
  line(text: string): void;
  /** Replaces the progress line (ignored when there is none). */
  progress(text: string): void;
  /** Removes the progress line for good. */
  endProgress(): void;
}

/**
 * Output to stdout; the progress line is shown only when `live` (a terminal).
 *
 * @param live Whether to show a progress line.
 * @returns The output.
 */
export function consoleOutput(live: boolean): Output {
  let progressText = "";
  const write = (text: string): void => {
    Deno.stdout.writeSync(encoder.encode(text));
  };
  return {
    line(text) {
      write(`${progressText ? CLEAR_LINE : ""}${text}\n${progressText}`);
    },
    progress(text) {
      if (!live) return;
      progressText = text;
      write(`${CLEAR_LINE}${text}`);
    },
    endProgress() {
      if (progressText) write(CLEAR_LINE);
      progressText = "";
    },
  };
}

/**
 * Output collected in memory, for tests.
 *
 * @returns The output and its lines.
 */
export function memoryOutput(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, line: (text) => void lines.push(text), progress() {}, endProgress() {} };
}

/** The signals that stop a command, each with the exit status a shell gives it. */
const STOP_SIGNALS = [["SIGINT", 130], ["SIGTERM", 143]] as const;

/**
 * Runs a command's `main` with Ctrl-C (SIGINT) and SIGTERM wired to an
 * AbortSignal, so that either stops the replicas it started, then exits with
 * its status, or with 130 or 143 when stopped by one of them.
 *
 * @param main The command: its arguments and a signal in, an exit status out.
 */
export async function runCommand(
  main: (args: string[], signal: AbortSignal) => Promise<number>,
): Promise<never> {
  const controller = new AbortController();
  let stoppedWith: number | undefined;
  const listeners = STOP_SIGNALS.map(([signal, status]) => {
    const listener = () => {
      stoppedWith ??= status;
      controller.abort();
    };
    Deno.addSignalListener(signal, listener);
    return () => Deno.removeSignalListener(signal, listener);
  });
  const status = await main(Deno.args, controller.signal);
  for (const remove of listeners) remove();
  Deno.exit(stoppedWith ?? status);
}
