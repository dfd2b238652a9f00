import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DistinctCount } from "./distinct-count.js";
import { hashNumber, hashString, hashValue } from "./hash.js";

describe("hashValue", () => {
  it("gives 53-bit safe integers, different for 1 and '1', equal for 0 and -0", () => {
    for (const v of ["", "a", "héllo 👋", 0, 1, -1.5, 1e300, true, false, { a: 1 }, [1, 2]]) {
      const h = hashValue(v);
      assert.ok(Number.isSafeInteger(h) && h >= 0, String(h));
    }
    assert.notEqual(hashValue(1), hashValue("1"));
    assert.equal(hashNumber(0), hashNumber(-0));
    assert.notEqual(hashString("ab"), hashString("ba"));
    assert.notEqual(hashString("a"), hashString("a\u0000"));
    assert.notEqual(hashValue({ a: 1 }), hashValue({ a: 2 }));
  });

  it("spreads sequential keys over the high bits (the register index)", () => {
    const buckets = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) buckets[Math.floor(hashString(`user-${i}`) / 2 ** 47)]!++;
    for (const b of buckets) assert.ok(b > 800 && b < 1200, String(b));
  });
});

describe("DistinctCount", () => {
  it("is exact up to the limit", () => {
    const count = new DistinctCount({ exactLimit: 100 });
    for (let i = 0; i < 1000; i++) count.add(i % 100);
    assert.equal(count.exact, true);
    assert.equal(count.estimate(), 100);
    count.add("100");
    assert.equal(count.exact, false);
    assert.ok(Math.abs(count.estimate() - 101) <= 5, String(count.estimate()));
  });

  it("estimates within 3 standard errors from 2,000 to 1,000,000 values", () => {
    for (const n of [2_000, 20_000, 200_000, 1_000_000]) {
      const count = new DistinctCount();
      for (let i = 0; i < n; i++) count.add(`id-${i}`);
      const error = Math.abs(count.estimate() - n) / n;
      assert.ok(error < 3 * count.standardError, `n=${n}: estimate ${count.estimate()} (${(error * 100).toFixed(2)}%)`);
    }
  });

  it("merges exactly: the merged count equals the count of the union", () => {
    const a = new DistinctCount();
    const b = new DistinctCount();
    const whole = new DistinctCount();
    for (let i = 0; i < 60_000; i++) {
      (i < 40_000 ? a : b).add(i % 50_000);
      whole.add(i % 50_000);
    }
    assert.deepEqual(a.clone().merge(b).toJSON(), whole.toJSON());
    assert.deepEqual(b.clone().merge(a).toJSON(), whole.toJSON());
    // small exact ones merge into an exact one, or switch when the union passes the limit
    const x = new DistinctCount({ exactLimit: 10 });
    const y = new DistinctCount({ exactLimit: 10 });
    for (let i = 0; i < 6; i++) x.add(i);
    for (let i = 3; i < 9; i++) y.add(i);
    assert.equal(x.clone().merge(y).estimate(), 9);
    for (let i = 9; i < 12; i++) y.add(i);
    assert.equal(x.merge(y).exact, false);
    assert.throws(() => x.merge(new DistinctCount({ precision: 10, exactLimit: 10 })), /different settings/);
  });

  it("round-trips through JSON and rejects bad documents precisely", () => {
    const small = new DistinctCount();
    ["a", "b", "c"].forEach((v) => small.add(v));
    assert.deepEqual(DistinctCount.fromJSON(JSON.parse(JSON.stringify(small))).toJSON(), small.toJSON());
    const big = new DistinctCount({ precision: 8 });
    for (let i = 0; i < 5000; i++) big.add(i);
    const json = big.toJSON();
    assert.equal(json.registers!.length, 256);
    assert.equal(DistinctCount.fromJSON(json).estimate(), big.estimate());
    assert.throws(
      () => DistinctCount.fromJSON({ ...json, registers: "AB" }, "columns.id.distinct"),
      /columns.id.distinct.registers: must have 256 characters, got 2/,
    );
    assert.throws(
      () => DistinctCount.fromJSON({ ...json, precision: 3 }),
      /distinct.precision: must be an integer between 4 and 16, got 3/,
    );
    assert.throws(
      () => DistinctCount.fromJSON({ ...small.toJSON(), hashes: [-1] }),
      /distinct.hashes\[0\]: must be a non-negative integer, got -1/,
    );
  });
});
