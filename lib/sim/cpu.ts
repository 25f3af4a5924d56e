/**
 * The processor time the replicas of a run used, read from Linux's account of this
 * process's children: when a child exits and is waited for, the kernel adds its user and
 * system time (its own children's included) to the parent's `cutime` and `cstime`. A run
 * waits for every replica it started, so the difference of that sum before and after the
 * run is what its replicas used, killed ones included, with no sampling while it runs.
 * The account is the whole process's, so this holds for one run at a time per process (as
 * `sim all`, the bench and `deno task test` run them; not `deno test --parallel`, whose
 * test modules share one process).
 *
 * A replica program that forks its replica instead of replacing itself with it hides the
 * replica's time: killed together with it, the replica is handed to init (or the nearest
 * subreaper), which waits for it instead. A shell script without `exec` does that, and so
 * does npm's `deno` when its install left the Node shim (`bin.cjs`) in place of the
 * binary. This project's launcher and the floor's `exec` the `deno` they find.
 *
 * @module
 */

import { readProcText } from "./_proc.ts";

/**
 * Clock ticks per second in `/proc`'s times (`USER_HZ`): 100 on every architecture the
 * simulator runs on (x86-64, arm64); glibc's `sysconf(_SC_CLK_TCK)` reads the same.
 */
const TICKS_PER_SECOND = 100;

/**
 * The `cutime` and `cstime` fields of a `/proc/<pid>/stat` line added up: the clock ticks
 * the process's exited and waited-for children used. The command name (field 2) sits in
 * parentheses and may hold spaces or parentheses, so the fields are counted from after the
 * last `)`.
 *
 * @param stat The text of `/proc/<pid>/stat`.
 * @returns The ticks, or undefined when the text is not such a line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { childrenCpuTicks } from "./cpu.ts";
 *
 * // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
 * // utime stime cutime cstime ...
 * const stat = "42 (deno (main)) S 1 42 42 0 -1 4194560 10 20 0 0 300 40 710 95 20 0 9";
 * assert.equal(childrenCpuTicks(stat), 805);
 * assert.equal(childrenCpuTicks("not a stat line"), undefined);
 * ```
 */
export function childrenCpuTicks(stat: string): number | undefined {
  const nameEnd = stat.lastIndexOf(")");
  if (nameEnd === -1) return undefined;
  const afterName = stat.slice(nameEnd + 1).trim().split(/\s+/);
  // Field 3 (state) is the first after the name, so cutime (16) and cstime (17) are the
  // 14th and 15th after it.
  const cutime = Number(afterName[13]);
  const cstime = Number(afterName[14]);
  return Number.isInteger(cutime) && Number.isInteger(cstime) ? cutime + cstime : undefined;
}

/**
 * The processor seconds this process's exited and waited-for children have used so far.
 * The `cat` that reads them ({@linkcode readProcText}) is counted by the next call, about
 * a millisecond.
 *
 * @returns The seconds, or undefined where `/proc` cannot be read.
 */
export function reapedChildrenCpuSeconds(): number | undefined {
  const stat = readProcText(`/proc/${Deno.pid}/stat`);
  const ticks = stat === undefined ? undefined : childrenCpuTicks(stat);
  return ticks === undefined ? undefined : ticks / TICKS_PER_SECOND;
}
