import assert from "node:assert/strict";
import { KvStore } from "../../lib/kv/store.ts";

Deno.test("a key never put reads as the empty string", () => {
  assert.equal(new KvStore().get("missing"), "");
});

Deno.test("applying puts keeps the last value of each key", () => {
  const store = new KvStore();
  store.apply({ term: 1, key: "a", value: "1" });
  store.apply({ term: 1, key: "a", value: "2" });
  store.apply({ term: 2, key: "b", value: "3" });
  assert.equal(store.get("a"), "2");
  assert.equal(store.get("b"), "3");
  assert.equal(store.size, 2);
});

Deno.test("applying a no-op entry changes nothing", () => {
  const store = new KvStore();
  store.apply({ term: 4 });
  assert.equal(store.size, 0);
});
