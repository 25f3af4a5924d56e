import assert from "node:assert/strict";
import { DST_PROFILES, parseProfile } from "../../lib/dst/profile.ts";

Deno.test("every profile name parses to itself", () => {
  for (const profile of DST_PROFILES) assert.equal(parseProfile(profile), profile);
});

Deno.test("an unknown profile is refused with the names it could be", () => {
  assert.throws(
    () => parseProfile("Lease"),
    new RangeError(
      "Cannot run simulation as --profile is Lease: it must be one of default, lease, churn",
    ),
  );
});
