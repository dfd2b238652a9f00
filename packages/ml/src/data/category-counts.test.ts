import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Random } from "../core/random.js";
import { CategoryCounts } from "./category-counts.js";

describe("CategoryCounts", () => {
  it("counts exactly up to the capacity", () => {
    const counts = new CategoryCounts({ capacity: 3 });
    for (const v of ["b", "a", "b", "c", "b", "a"]) counts.add(v);
    assert.equal(counts.exact, true);
    assert.deepEqual(counts.top(), [
      { value: "b", count: 3 },
      { value: "a", count: 2 },
      { value: "c", count: 1 },
    ]);
    assert.deepEqual(counts.top(1), [{ value: "b", count: 3 }]);
    assert.equal(counts.count("zzz"), 0);
    assert.equal(counts.total, 6);
  });

  it("keeps the frequent categories within the Misra–Gries bound past the capacity", () => {
    const random = new Random(1);
    const truth = new Map<string, number>();
    const counts = new CategoryCounts({ capacity: 50 });
    for (let i = 0; i < 100_000; i++) {
      // Zipf-like: a few heavy categories and a long tail of rare ones
      const u = random.next();
      const value = u < 0.5 ? `heavy-${Math.floor(random.next() * 5)}` : `rare-${Math.floor(random.next() * 20_000)}`;
      truth.set(value, (truth.get(value) ?? 0) + 1);
      counts.add(value);
    }
    assert.equal(counts.exact, false);
    assert.ok(counts.size <= 50);
    assert.ok(counts.offset <= (2 * counts.total) / 50, String(counts.offset));
    for (const [value, count] of truth) {
      const counted = counts.count(value);
      assert.ok(counted <= count && count <= counted + counts.offset, `${value}: ${counted} vs ${count}`);
    }
    assert.deepEqual(
      counts
        .top(5)
        .map((c) => c.value)
        .sort(),
      ["heavy-0", "heavy-1", "heavy-2", "heavy-3", "heavy-4"],
    );
  });

  it("property: merges keep the bound and lower bounds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 300 }), { minLength: 1, maxLength: 6 }),
        (parts) => {
          const truth = new Map<string, number>();
          const merged = new CategoryCounts({ capacity: 8 });
          for (const part of parts) {
            const counts = new CategoryCounts({ capacity: 8 });
            for (const v of part) {
              counts.add(String(v));
              truth.set(String(v), (truth.get(String(v)) ?? 0) + 1);
            }
            merged.merge(counts);
          }
          assert.ok(merged.size <= 8);
          const total = [...truth.values()].reduce((a, b) => a + b, 0);
          assert.equal(merged.total, total);
          assert.ok(merged.offset <= (2 * total) / 8);
          for (const [value, count] of truth) {
            assert.ok(merged.count(value) <= count && count <= merged.count(value) + merged.offset);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("round-trips through JSON and rejects bad documents precisely", () => {
    const counts = new CategoryCounts({ capacity: 4 });
    for (const v of ["x", "y", "x", "__proto__", "constructor"]) counts.add(v);
    const back = CategoryCounts.fromJSON(JSON.parse(JSON.stringify(counts)));
    assert.deepEqual(back.toJSON(), counts.toJSON());
    assert.equal(back.count("__proto__"), 1);
    assert.throws(
      () => CategoryCounts.fromJSON({ ...counts.toJSON(), counts: [["x", "2"]] }, "columns.city.categories"),
      /columns.city.categories.counts\[0\]\[1\]: must be a non-negative integer, got '2'/,
    );
    assert.throws(
      () => CategoryCounts.fromJSON({ ...counts.toJSON(), total: 1 }),
      /add up to 5, more than the total 1/,
    );
    assert.throws(() => counts.add("x", 0), /count must be a positive integer/);
  });
});
