import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HdrHistogram } from "./hdr-histogram.js";
import { distribution } from "./load-report.js";

/** Seeded uniform numbers on [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Exact nearest-rank percentile of sorted values. */
function exact(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const PERCENTILES = [1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

describe("HdrHistogram", () => {
  for (const digits of [1, 2, 3, 4]) {
    it(`${digits} significant digits: percentiles within 10^-${digits} of the exact ones`, () => {
      const next = random(digits);
      // log-normal latencies from ~0.05 ms to minutes, plus exact round values and zeros
      const values = Array.from({ length: 50_000 }, () => Math.exp(Math.log(20) + 2.5 * normal(next)));
      values.push(0, 1, 2, 1000, 1024, 60_000);
      const h = new HdrHistogram({ digits });
      for (const v of values) h.record(v);
      const sorted = Float64Array.from(values).sort();
      for (const p of PERCENTILES) {
        const want = exact(sorted, p);
        const got = h.percentile(p)!;
        // the relative bound, plus half the 1 µs resolution for values near it
        const bound = want * 10 ** -digits + 0.0005;
        assert.ok(Math.abs(got - want) <= bound, `p${p}: ${got} vs exact ${want} (bound ${bound})`);
      }
      assert.equal(h.count, values.length);
      assert.equal(h.min, 0);
      assert.equal(h.max, sorted[sorted.length - 1]);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      assert.ok(Math.abs(h.mean! - mean) < 1e-9 * mean);
    });
  }

  it("agrees with the exact distribution (3 digits) on the figures the report shows", () => {
    const next = random(42);
    const values = Array.from({ length: 10_000 }, () => 5 + next() * 995);
    const h = new HdrHistogram();
    for (const v of values) h.record(v);
    const want = distribution(values)!;
    for (const key of ["p50", "p90", "p99"] as const) {
      const p = Number(key.slice(1));
      assert.ok(Math.abs(h.percentile(p)! - want[key]) <= want[key] * 1e-3, key);
    }
  });

  it("memory does not grow with the number of values", () => {
    const h = new HdrHistogram({ digits: 3 });
    const next = random(7);
    for (let i = 0; i < 1000; i++) h.record(next() * 5000);
    const buckets = h.bucketCount;
    for (let i = 0; i < 200_000; i++) h.record(next() * 5000);
    assert.equal(h.bucketCount, buckets);
    // an hour in µs at 3 digits: about 2048 + 21 · 1024 buckets at most
    const full = new HdrHistogram({ digits: 3 });
    full.record(3_600_000);
    assert.ok(full.bucketCount <= 2048 + 22 * 1024, String(full.bucketCount));
  });

  it("merges: two halves give the same percentiles as the whole", () => {
    const next = random(3);
    const whole = new HdrHistogram({ digits: 2 });
    const a = new HdrHistogram({ digits: 2 });
    const b = new HdrHistogram({ digits: 2 });
    for (let i = 0; i < 20_000; i++) {
      const v = next() < 0.5 ? next() * 10 : 100 + next() * 10_000;
      whole.record(v);
      (i % 2 === 0 ? a : b).record(v);
    }
    a.merge(b);
    assert.equal(a.count, whole.count);
    assert.equal(a.min, whole.min);
    assert.equal(a.max, whole.max);
    for (const p of PERCENTILES) assert.equal(a.percentile(p), whole.percentile(p), `p${p}`);
    assert.throws(() => a.merge(new HdrHistogram({ digits: 3 })), /different digits/);
  });

  it("values above `highest` count at the top and report the exact maximum", () => {
    const h = new HdrHistogram({ highest: 1000 });
    h.record(10);
    h.record(5000);
    assert.equal(h.percentile(100), 5000);
    assert.ok(Math.abs(h.percentile(50)! - 10) <= 0.01);
  });

  it("refuses bad settings and values", () => {
    assert.throws(() => new HdrHistogram({ digits: 0 }), /digits must be a whole number from 1 to 5/);
    assert.throws(() => new HdrHistogram({ digits: 6 }), /digits/);
    assert.throws(() => new HdrHistogram({ resolution: 0 }), /resolution must be a positive number/);
    assert.throws(() => new HdrHistogram().record(Number.NaN), /cannot record NaN/);
    assert.throws(() => new HdrHistogram().percentile(0), /percentile must be in \(0, 100\]/);
    assert.equal(new HdrHistogram().percentile(50), undefined);
  });

  it("log bins for charts hold every value", () => {
    const h = new HdrHistogram();
    const next = random(9);
    for (let i = 0; i < 5000; i++) h.record(1 + next() * 999);
    const bins = h.logBins(40);
    assert.equal(bins.length, 40);
    assert.equal(
      bins.reduce((s, b) => s + b.count, 0),
      5000,
    );
    assert.ok(bins.every((b, i) => i === 0 || b.from === bins[i - 1]!.to));
    assert.equal(bins[0]!.from, h.min);
    assert.equal(bins.at(-1)!.to, h.max);
  });
});

/** A standard normal draw (Box–Muller). */
function normal(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}
