/**
 * `deno task compile` builds `build/3700kvstore`, a self-contained replica for the
 * course grader. It needs Deno's `denort` runtime, which `deno compile` downloads
 * unless `DENORT_BIN` names a local copy; where neither is possible this test is
 * reported as ignored, not passed.
 */

import assert from "node:assert/strict";
import { ReplicaCluster } from "./_helpers/replica_cluster.ts";

const REPO_ROOT = new URL("..", import.meta.url).pathname;
const COMPILED = new URL("../build/3700kvstore", import.meta.url).pathname;
const denortBin = Deno.env.get("DENORT_BIN");
const hasDenort = denortBin !== undefined &&
  new Deno.Command("test", { args: ["-x", denortBin] }).outputSync().success;

Deno.test({
  name: hasDenort
    ? "deno task compile builds a replica binary that elects, serves and stops like the launcher"
    : "skipped: deno compile needs denort (set DENORT_BIN)",
  ignore: !hasDenort,
  fn: async () => {
    const compile = await new Deno.Command("deno", {
      args: ["task", "compile"],
      cwd: REPO_ROOT,
      stdin: "null",
    }).output();
    assert.equal(compile.code, 0, new TextDecoder().decode(compile.stderr));

    const cluster = ReplicaCluster.start({ executable: COMPILED });
    try {
      const leader = await cluster.expect(() => cluster.agreedLeader(), 10_000, "a leader");
      await cluster.request({ type: "put", key: "compiled", value: "yes" }, leader);
      const get = await cluster.request({ type: "get", key: "compiled" }, leader);
      assert.equal(get.type === "ok" ? get.value : undefined, "yes");
      for (const id of cluster.ids) cluster.kill(id, "SIGTERM");
      for (const replica of cluster.replicas.values()) {
        assert.equal((await cluster.waitForExit(replica.id, 5_000))?.code, 0, replica.id);
        assert.deepEqual(await replica.output, { stdout: "", stderr: "" }, replica.id);
      }
      assert.deepEqual(cluster.violations, []);
    } finally {
      await cluster.close();
    }
  },
});
