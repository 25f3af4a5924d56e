import assert from "node:assert/strict";
import { KvStore } from "../../lib/kv/store.ts";

Deno.test("a key never put reads as the empty string", () => {
  assert.equal(new KvStore().get("missing"), "");
});

Deno.test("applying puts keeps the last value of each key", () => {
  const store = new KvStore();
  const put = { client: "0013", MID: "m" };
  store.apply({ ...put, key: "a", value: "1" });
  store.apply({ ...put, key: "a", value: "2" });
  store.apply({ ...put, key: "b", value: "3" });
  assert.equal(store.get("a"), "2");
  assert.equal(store.get("b"), "3");
  assert.equal(store.size, 2);
});
