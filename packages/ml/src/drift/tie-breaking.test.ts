import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { breakTies, manyTies } from "./tie-breaking.js";

describe("breakTies", () => {
  it("keeps both samples sorted, keeps the order of distinct values and makes every value distinct", () => {
    const a = Float64Array.of(1, 1, 1, 2, 5, 5);
    const b = Float64Array.of(0, 1, 2, 2, 2, 7);
    assert.equal(manyTies(a, b), true);
    const [x, y] = breakTies(a, b);
    const isSorted = (s: Float64Array) => s.every((v, k) => k === 0 || s[k - 1]! < v);
    assert.ok(isSorted(x) && isSorted(y));
    assert.equal(manyTies(x, y), false);
    // dense ranks over both: 0→0, 1→1, 2→2, 5→3, 7→4
    assert.deepEqual(Array.from(x, Math.floor), [1, 1, 1, 2, 3, 3]);
    assert.deepEqual(Array.from(y, Math.floor), [0, 1, 2, 2, 2, 4]);
    assert.ok([...x, ...y].every((v) => v - Math.floor(v) < 0.5));
  });

  it("is seeded, and data without ties are reported as such", () => {
    const a = Float64Array.of(1, 2, 2);
    const b = Float64Array.of(2, 3);
    assert.deepEqual(breakTies(a, b, 7), breakTies(a, b, 7));
    assert.notDeepEqual(breakTies(a, b, 7), breakTies(a, b, 8));
    assert.equal(manyTies(Float64Array.of(1, 2), Float64Array.of(3, 4)), false);
    assert.equal(manyTies(Float64Array.of(1, 2), Float64Array.of(2, 4)), true);
    const continuous = Float64Array.from({ length: 100 }, (_, i) => i);
    const oneRepeat = Float64Array.from({ length: 100 }, (_, i) => (i === 0 ? 1 : i + 0.5));
    assert.equal(manyTies(continuous, oneRepeat), false, "1 repeat in 200 values is not many");
  });
});
