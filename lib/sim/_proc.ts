/**
 * Reads a file of Linux's `/proc`, which the simulator's reports take counters from.
 *
 * @module
 */

/**
 * The text of a `/proc` file. Deno lets only `--allow-all` read `/proc`, so `cat` (under
 * `--allow-run`) reads it for us.
 *
 * @param path The file, e.g. `/proc/net/udp`.
 * @returns Its text, or undefined where it cannot be read (not Linux, or no permission to
 * run `cat`).
 */
export function readProcText(path: string): string | undefined {
  if (Deno.permissions.querySync({ name: "run", command: "cat" }).state !== "granted") {
    return undefined;
  }
  try {
    const output = new Deno.Command("cat", { args: [path], stderr: "null" }).outputSync();
    return output.success ? new TextDecoder().decode(output.stdout) : undefined;
  } catch {
    return undefined;
  }
}
