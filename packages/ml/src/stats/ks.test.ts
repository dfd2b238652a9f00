import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ksFromSorted, ksTwoSample } from "./ks.js";
import { kolmogorovLimitSf } from "./kolmogorov.js";
import { sortedFinite } from "./sorted.js";
import { wassersteinFromSorted } from "./wasserstein.js";
import { assertClose, num, numericCases } from "./testing/scipy-cases.js";
import { throwsMl } from "../testing/assertions.js";

/** rtol 1e-9, 1e-7 below 1e-100 (the reference data's suggestion). */
function pTol(expected: number): number {
  return Math.abs(expected) < 1e-100 ? 1e-7 : 1e-9;
}

/** Deterministic N(mu, 1) sample (LCG + Box–Muller), for the timing test. */
function normalSample(n: number, mu: number, seed: number): Float64Array {
  let s = seed;
  const uniform = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s + 0.5) / 2147483648;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mu + Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

describe("ksTwoSample against SciPy 1.10 ks_2samp", () => {
  for (const c of numericCases()) {
    it(c.id, () => {
      const e = c.expected;
      for (const method of ["auto", "exact", "asymp"] as const) {
        const r = ksTwoSample(c.ref, c.cur, { method });
        const statistic = num(e, `ks_${method}.statistic`);
        const pvalue = num(e, `ks_${method}.pvalue`);
        // measured: statistics bit-identical; worst p-value error 1.8e-14 (asymp, num_poisson_n3000)
        assertClose(r.statistic, statistic, 1e-9, `${c.id} ${method} statistic`);
        assertClose(r.pvalue, pvalue, pTol(pvalue), `${c.id} ${method} pvalue`);
      }
      // the exact p-value of num_shift_n100000 is the subnormal 4·2⁻¹⁰⁷⁴ ≈ 1.98e-323 in SciPy: the
      // alternating-sum path reproduces SciPy's floating-point operations one for one, so it matches exactly
      if (c.id === "num_shift_n100000") assert.equal(ksTwoSample(c.ref, c.cur, { method: "exact" }).pvalue, 2e-323);
      const auto = ksTwoSample(c.ref, c.cur);
      assert.equal(auto.method, Math.max(c.ref.length, c.cur.length) <= 10000 ? "exact" : "asymp");
      // Kolmogorov's limiting distribution at √(n1·n2/(n1+n2))·D (the cheaper approximation SciPy does not use)
      const n1 = c.ref.length;
      const n2 = c.cur.length;
      const d = ksTwoSample(c.ref, c.cur, { method: "asymp" }).statistic;
      const limit = num(e, "ks_kolmogorov_limit_pvalue");
      assertClose(kolmogorovLimitSf(Math.sqrt((n1 * n2) / (n1 + n2)) * d), limit, pTol(limit), `${c.id} limit`);
    });
  }
});

describe("ksTwoSample by hand", () => {
  it("identical samples: D = 0, p = 1", () => {
    const x = [3, 1, 2, 2, 5];
    for (const method of ["auto", "exact", "asymp"] as const) {
      const r = ksTwoSample(x, [...x].reverse(), { method });
      assert.equal(r.statistic, 0);
      assert.equal(r.pvalue, 1);
    }
  });

  it("separated samples of 3: D = 1, exact p = 2/C(6,3) = 0.1 (one-sided 0.05)", () => {
    const r = ksTwoSample([1, 2, 3], [4, 5, 6]);
    assert.equal(r.statistic, 1);
    assertClose(r.pvalue, 0.1, 1e-15, "two-sided");
    assert.equal(r.method, "exact");
    assertClose(ksTwoSample([1, 2, 3], [4, 5, 6], { alternative: "greater" }).pvalue, 0.05, 1e-15, "greater");
    assert.deepEqual(ksTwoSample([1, 2, 3], [4, 5, 6], { alternative: "less" }), {
      statistic: 0,
      pvalue: 1,
      method: "exact",
    });
  });

  it("matches SciPy for unequal sizes with ties, every alternative and method", () => {
    const x = [0.1, 0.4, 0.7, 1.2, 1.9, 2.6];
    const y = [0.3, 0.5, 2.2, 2.5, 3.1, 3.3, 4.0, 2.2, 0.5];
    const expected = {
      "two-sided": { exact: 0.27352647352647347, asymp: 0.1875 },
      greater: { exact: 0.13686313686313686, asymp: 0.10365712861152786 },
      less: { exact: 1, asymp: 1 },
    } as const;
    for (const alternative of ["two-sided", "greater", "less"] as const) {
      for (const method of ["exact", "asymp"] as const) {
        const r = ksTwoSample(x, y, { alternative, method });
        assert.equal(r.statistic, alternative === "less" ? 0 : 0.5);
        assertClose(r.pvalue, expected[alternative][method], 1e-12, `${alternative} ${method}`);
      }
    }
  });

  it("one-sided exact p-value for equal sizes", () => {
    const a = Array.from({ length: 40 }, (_, i) => i / 39);
    const b = a.map((v) => v + 0.1);
    const r = ksTwoSample(a, b, { alternative: "greater" });
    assertClose(r.statistic, 0.1, 1e-15, "D+");
    assertClose(r.pvalue, 0.6732178768480527, 1e-12, "p");
  });

  it("exact falls back to asymp when lcm(n1, n2) exceeds 2^31 (SciPy's check)", () => {
    const x = Array.from({ length: 100003 }, (_, i) => i / 100003);
    const y = Array.from({ length: 99991 }, (_, i) => i / 99991 + 0.001);
    const r = ksTwoSample(x, y, { method: "exact" });
    assert.equal(r.method, "asymp");
    assertClose(r.statistic, 0.0010099996027031488, 1e-12, "D");
    assertClose(r.pvalue, 0.9999999995951953, 1e-12, "p");
  });

  it("ksFromSorted equals ksTwoSample and never re-sorts", () => {
    const x = [5, -1, 3, 3, 8, 0.5];
    const y = [2, 2, 9, -4, 1];
    assert.deepEqual(ksFromSorted(sortedFinite(x), sortedFinite(y)), ksTwoSample(x, y));
    throwsMl(() => ksFromSorted(Float64Array.from([1, 3, 2]), Float64Array.from([0, 5])), /not sorted/);
    throwsMl(() => ksFromSorted(Float64Array.from([1, 2]), Float64Array.from([0, NaN])), /NaN/);
  });

  it("accepts ±Infinity as values", () => {
    const r = ksTwoSample([-Infinity, 0, 1], [0, 1, Infinity]);
    assertClose(r.statistic, 1 / 3, 1e-15, "D");
  });

  it("rejects empty samples, NaN and unknown options", () => {
    throwsMl(() => ksTwoSample([], [1, 2]), /non-empty/);
    throwsMl(() => ksTwoSample([1, NaN], [1, 2]), /NaN/);
    throwsMl(() => ksTwoSample([1], [2], { method: "fast" as never }), /unknown method/);
    throwsMl(() => ksTwoSample([1], [2], { alternative: "both" as never }), /unknown alternative/);
  });

  it("1,000,000 vs 1,000,000 sorted values: one merge pass", () => {
    const sa = sortedFinite(normalSample(1_000_000, 0, 1));
    const sb = sortedFinite(normalSample(1_000_000, 0.01, 2));
    const t0 = performance.now();
    const r = ksFromSorted(sa, sb);
    const t1 = performance.now();
    const w = wassersteinFromSorted(sa, sb);
    const t2 = performance.now();
    assert.equal(r.method, "asymp");
    assert.ok(r.statistic > 0 && r.statistic < 0.02 && r.pvalue >= 0 && r.pvalue <= 1 && w > 0);
    // generous bounds (typically ~10 ms and ~3 ms): they catch an accidental sort or quadratic path
    assert.ok(t1 - t0 < 500, `ksFromSorted took ${t1 - t0} ms`);
    assert.ok(t2 - t1 < 500, `wassersteinFromSorted took ${t2 - t1} ms`);
  });
});
