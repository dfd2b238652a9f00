import assert from "node:assert/strict";
import { test } from "node:test";
import { randomId } from "./random-ids.js";

test("ids are fresh across pool refills and have the asked length", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = randomId(12);
    assert.equal(Buffer.from(id, "base64url").length, 12);
    seen.add(id);
  }
  assert.equal(seen.size, 5000, "no id repeats (5000 × 12 bytes spans 15 pool refills)");
  assert.match(randomId(12, "hex"), /^[0-9a-f]{24}$/);
  assert.throws(() => randomId(0), RangeError);
  assert.throws(() => randomId(257), RangeError);
});
