import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { childrenCpuTicks, reapedChildrenCpuSeconds } from "../../lib/sim/cpu.ts";

Deno.test("childrenCpuTicks reads cutime and cstime, counting fields after the name", () => {
  const fields = (name: string, cutime: number, cstime: number) =>
    `7 (${name}) R 1 7 7 0 -1 4194304 126 0 0 0 12 3 ${cutime} ${cstime} 20 0 1 0 297598`;
  assert.equal(childrenCpuTicks(fields("cat", 0, 0)), 0);
  assert.equal(childrenCpuTicks(fields("sim", 712, 88)), 800);
  // A command name may hold spaces and parentheses.
  assert.equal(childrenCpuTicks(fields("a) b (c", 5, 6)), 11);
  assert.equal(childrenCpuTicks(""), undefined);
  assert.equal(childrenCpuTicks("7 (cat) R 1 7"), undefined);
  assert.equal(childrenCpuTicks(fields("cat", 1, 2).replace(" 1 2 20", " x 2 20")), undefined);
});

Deno.test({
  name: "a child killed with SIGKILL adds its processor time once it is waited for",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const before = reapedChildrenCpuSeconds();
    assert.notEqual(before, undefined, "Linux's /proc should be readable through cat");
    const spinner = new Deno.Command("sh", { args: ["-c", "while :; do :; done"] }).spawn();
    await delay(400);
    spinner.kill("SIGKILL");
    await spinner.status;
    const used = (reapedChildrenCpuSeconds() ?? 0) - (before ?? 0);
    // It spun for 400 ms on one core; a loaded machine gives it less, but not a tenth.
    assert.ok(used >= 0.04, `the spinner used ${used} s`);
    assert.ok(used < 5, `the spinner used ${used} s`);
  },
});
