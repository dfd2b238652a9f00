import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Random } from "../core/random.js";
import { MlError } from "../core/errors.js";
import { QuantileSketch, sketchRankError } from "./sketch.js";

/** Number of values ≤ x (or < x, when `strictly`) in sorted data. */
function countAtMost(sorted: Float64Array, x: number, strictly = false): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (strictly ? sorted[mid]! < x : sorted[mid]! <= x) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The largest rank error of quantile() and cdf() over a grid of 999 ranks. */
function maxRankError(sketch: QuantileSketch, sorted: Float64Array): number {
  const n = sorted.length;
  let worst = 0;
  for (let i = 1; i < 1000; i++) {
    const q = i / 1000;
    const estimate = sketch.quantile(q);
    // the rank interval of the value returned: any q inside it is answered exactly
    const below = countAtMost(sorted, estimate, true) / n;
    const atMost = countAtMost(sorted, estimate) / n;
    worst = Math.max(worst, q < below ? below - q : q > atMost ? q - atMost : 0);
    const x = sorted[Math.floor(q * (n - 1))]!;
    worst = Math.max(worst, Math.abs(sketch.cdf(x) - countAtMost(sorted, x) / n));
  }
  return worst;
}

function data(n: number, seed: number): Float64Array {
  const random = new Random(seed);
  const values = new Float64Array(n);
  // a skewed mixture: log-normal body, a far tail, many duplicates
  for (let i = 0; i < n; i++) {
    const u = random.next();
    values[i] = u < 0.1 ? Math.round(random.next() * 20) : u < 0.95 ? Math.exp(random.normal()) : 1e6 * random.next();
  }
  return values;
}

describe("QuantileSketch (KLL)", () => {
  it("is exact below k values", () => {
    const sketch = QuantileSketch.of([5, 1, 4, 2, 3]);
    assert.equal(sketch.exact, true);
    assert.deepEqual(sketch.quantiles([0, 0.2, 0.5, 0.8, 1]), [1, 1, 3, 4, 5]);
    assert.equal(sketch.quantile(0.5), 3);
    assert.equal(QuantileSketch.of([1, 2, 3, 4]).quantile(0.5), 2);
    assert.equal(sketch.cdf(0), 0);
    assert.equal(sketch.cdf(3), 0.6);
    assert.equal(sketch.cdf(3.5), 0.6);
    assert.equal(sketch.cdf(5), 1);
    assert.equal(sketch.count, 5);
    assert.equal(sketch.min, 1);
    assert.equal(sketch.max, 5);
  });

  it("answers NaN when empty and rejects bad input", () => {
    const sketch = new QuantileSketch();
    assert.ok(Number.isNaN(sketch.quantile(0.5)));
    assert.ok(Number.isNaN(sketch.cdf(1)));
    assert.ok(Number.isNaN(sketch.min));
    assert.throws(() => sketch.add(NaN), MlError);
    assert.throws(() => sketch.add(Infinity), /finite numbers, got Infinity/);
    assert.throws(() => sketch.quantile(1.5), /q must be between 0 and 1, got 1.5/);
    assert.throws(() => new QuantileSketch({ k: 4 }), /k: must be an integer between 8 and 65536, got 4/);
    assert.deepEqual(QuantileSketch.fromJSON(sketch.toJSON()).toJSON(), sketch.toJSON());
  });

  it("keeps 1,000,000 values within the rank-error bound in bounded memory", () => {
    const n = 1_000_000;
    const values = data(n, 7);
    const sketch = new QuantileSketch();
    for (let i = 0; i < n; i++) sketch.add(values[i]!);
    const sorted = values.slice().sort();
    const error = maxRankError(sketch, sorted);
    const bytes = JSON.stringify(sketch).length;
    const levels = sketch.toJSON().levels.length;
    console.log(
      `k=200, n=1e6: max rank error ${(error * 100).toFixed(3)}% (bound ${(sketchRankError() * 100).toFixed(2)}%), ` +
        `${sketch.retained} items in ${levels} levels, ${bytes} bytes of JSON`,
    );
    assert.ok(error <= sketchRankError(200), `rank error ${error}`);
    assert.ok(sketch.retained < 3 * 200 + 9 * levels, `retained ${sketch.retained}`);
    assert.ok(bytes < 20_000, `${bytes} bytes`);
    assert.equal(sketch.count, n);
    assert.equal(sketch.min, sorted[0]);
    assert.equal(sketch.max, sorted[n - 1]);
    assert.equal(sketch.quantile(0), sorted[0]);
    assert.equal(sketch.quantile(1), sorted[n - 1]);

    // sorted input (the worst order for many sketches) keeps the bound too
    const inOrder = QuantileSketch.of(sorted);
    assert.ok(maxRankError(inOrder, sorted) <= sketchRankError(200));
  });

  it("merges: two halves agree with one sketch of the whole within the bound", () => {
    const n = 1_000_000;
    const values = data(n, 11);
    const sorted = values.slice().sort();
    const whole = QuantileSketch.of(values);
    const first = QuantileSketch.of(values.subarray(0, n / 2), { seed: 2 });
    const second = QuantileSketch.of(values.subarray(n / 2), { seed: 3 });
    const merged = first.clone().merge(second);
    assert.equal(merged.count, n);
    assert.equal(merged.min, sorted[0]);
    assert.equal(merged.max, sorted[n - 1]);
    const bound = sketchRankError(200);
    const error = maxRankError(merged, sorted);
    let disagreement = 0;
    for (let i = 1; i < 1000; i++) {
      const x = sorted[Math.floor((i / 1000) * (n - 1))]!;
      disagreement = Math.max(disagreement, Math.abs(merged.cdf(x) - whole.cdf(x)));
    }
    console.log(
      `merged halves: max rank error ${(error * 100).toFixed(3)}%, max |cdf difference| with the whole ${(disagreement * 100).toFixed(3)}%`,
    );
    assert.ok(error <= bound, `merged error ${error}`);
    assert.ok(disagreement <= bound, `disagreement ${disagreement}`);
    assert.ok(merged.retained < 3 * 200 + 9 * merged.toJSON().levels.length);
    assert.equal(first.count, n / 2, "merge leaves its argument alone");
  });

  it("merges many windows without growing", () => {
    const values = data(200_000, 5);
    const sorted = values.slice().sort();
    const total = new QuantileSketch();
    for (let w = 0; w < 100; w++)
      total.merge(QuantileSketch.of(values.subarray(w * 2000, (w + 1) * 2000), { seed: w }));
    assert.equal(total.count, values.length);
    assert.ok(maxRankError(total, sorted) <= sketchRankError(200));
    assert.ok(JSON.stringify(total).length < 20_000);
  });

  it("is deterministic and round-trips through JSON", () => {
    const values = data(50_000, 3);
    const a = QuantileSketch.of(values);
    const b = QuantileSketch.of(values);
    assert.deepEqual(a.toJSON(), b.toJSON());
    const back = QuantileSketch.fromJSON(JSON.parse(JSON.stringify(a)));
    assert.deepEqual(back.toJSON(), a.toJSON());
    assert.equal(back.quantile(0.37), a.quantile(0.37));
    // the restored sketch continues exactly as the original would
    a.add(1);
    back.add(1);
    for (let i = 0; i < 5000; i++) {
      a.add(i);
      back.add(i);
    }
    assert.deepEqual(back.toJSON(), a.toJSON());
  });

  it("rejects malformed JSON with the path of the problem", () => {
    const good = QuantileSketch.of([1, 2, 3]).toJSON();
    assert.throws(() => QuantileSketch.fromJSON({ ...good, k: "x" }), /^MlError: sketch.k: must be an integer/);
    assert.throws(
      () => QuantileSketch.fromJSON({ ...good, levels: [[1, "2", 3]] }),
      /sketch.levels\[0\]\[1\]: must be a number, got '2'/,
    );
    assert.throws(() => QuantileSketch.fromJSON({ ...good, n: 4 }), /weight of 3, but n is 4/);
    assert.throws(() => QuantileSketch.fromJSON({ ...good, type: "tdigest" }), /sketch.type: must be "kll"/);
    assert.throws(() => QuantileSketch.fromJSON([], "columns.age.sketch"), /columns.age.sketch: must be an object/);
  });

  it("property: quantile and cdf are consistent and monotone", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 2000 }),
        (xs) => {
          const sketch = QuantileSketch.of(xs, { k: 16 });
          let previous = -Infinity;
          for (let i = 0; i <= 20; i++) {
            const v = sketch.quantile(i / 20);
            assert.ok(v >= previous);
            assert.ok(v >= sketch.min && v <= sketch.max);
            assert.ok(sketch.cdf(v) >= i / 20 - 1e-12);
            previous = v;
          }
          assert.equal(sketch.count, xs.length);
        },
      ),
      { numRuns: 100 },
    );
  });
});
