import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Random } from "../core/random.js";
import { populationStd, sortedFinite, sortFloat64 } from "./sorted.js";

function sameOrder(values: Float64Array): void {
  const expected = values.slice().sort();
  const actual = sortFloat64(values.slice());
  for (let i = 0; i < values.length; i++)
    assert.ok(Object.is(actual[i], expected[i]), `[${i}] ${actual[i]} vs ${expected[i]}`);
}

describe("sortFloat64", () => {
  it("orders like Float64Array.prototype.sort: negatives, −0 before +0, infinities, subnormals, duplicates", () => {
    const random = new Random(3);
    const values = Float64Array.from({ length: 50_000 }, (_, i) =>
      i % 7 === 0 ? Math.round(random.normal() * 3) : (random.next() - 0.5) * 10 ** random.int(12),
    );
    values.set([-0, 0, Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE], 100);
    sameOrder(values);
  });

  it("handles arrays whose keys share digits (skipped passes), views into larger buffers, and small arrays", () => {
    sameOrder(new Float64Array(10_000).fill(2.5));
    sameOrder(Float64Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 10_000));
    const buffer = Float64Array.from({ length: 20_000 }, (_, i) => Math.sin(i));
    const view = buffer.subarray(5_000, 15_000);
    const expected = view.slice().sort();
    sortFloat64(view);
    assert.deepEqual(view, expected);
    assert.equal(buffer[4_999], Math.sin(4_999));
    assert.deepEqual(sortFloat64(Float64Array.of(3, -1, 2)), Float64Array.of(-1, 2, 3));
  });

  it("sortedFinite drops NaN only; populationStd uses ddof 0", () => {
    assert.deepEqual(sortedFinite([3, NaN, -Infinity, 1]), Float64Array.of(-Infinity, 1, 3));
    assert.equal(populationStd([1, 3]), 1);
  });
});
