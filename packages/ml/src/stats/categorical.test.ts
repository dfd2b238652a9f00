import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { throwsMl } from "../testing/assertions.js";
import {
  alignedValueCounts,
  chiSquareContingency,
  chiSquareGoodnessOfFit,
  fisherExact2x2,
  gTest,
  twoProportionZTest,
  valueCounts,
} from "./categorical.js";
import { assertClose, categoricalCases, num } from "./testing/scipy-cases.js";

const RTOL = 1e-9;
/** the reference data's suggested tolerance: 1e-9, and 1e-7 for p-values below 1e-100 */
const rtolP = (expected: number): number => (expected !== 0 && Math.abs(expected) < 1e-100 ? 1e-7 : RTOL);

describe("valueCounts and alignedValueCounts", () => {
  it("counts integer codes and arbitrary numbers in ascending key order", () => {
    const dense = valueCounts([3, 0, 3, 3, 1]);
    assert.deepEqual(Array.from(dense.keys), [0, 1, 3]);
    assert.deepEqual(Array.from(dense.counts), [1, 1, 3]);
    const sparse = valueCounts([2.5, -1, 1e9, 2.5, -1, -1]);
    assert.deepEqual(Array.from(sparse.keys), [-1, 2.5, 1e9]);
    assert.deepEqual(Array.from(sparse.counts), [3, 2, 1]);
    assert.equal(valueCounts([]).keys.length, 0);
    throwsMl(() => valueCounts([1, NaN]), /index 1 is NaN/);
  });

  it("aligns two samples over the union of their values", () => {
    const a = alignedValueCounts([0, 0, 2, 5], [2, 3, 3]);
    assert.deepEqual(Array.from(a.keys), [0, 2, 3, 5]);
    assert.deepEqual(Array.from(a.refCounts), [2, 1, 0, 1]);
    assert.deepEqual(Array.from(a.curCounts), [0, 1, 2, 0]);
  });
});

describe("chi-square and G tests (scipy.stats.chisquare / power_divergence, SciPy 1.10.1 values)", () => {
  it("computes Pearson's statistic with k−1 degrees of freedom", () => {
    const r = chiSquareGoodnessOfFit([10, 20, 30], [20, 20, 20]);
    assert.equal(r.statistic, 10);
    assert.equal(r.dof, 2);
    assertClose(r.pvalue, 0.006737946999085468, 1e-14, "p");
  });

  it("gives ∞ and p = 0 for an expected zero with observations (a new category)", () => {
    const r = chiSquareGoodnessOfFit([5, 5], [10, 0]);
    assert.equal(r.statistic, Infinity);
    assert.equal(r.pvalue, 0);
  });

  it("computes the G statistic, with 0·ln 0 = 0", () => {
    const g = gTest([10, 20, 30], [20, 20, 20]);
    assertClose(g.statistic, 10.464962875290956, 1e-14, "G");
    assertClose(g.pvalue, 0.005340257332066883, 1e-13, "p");
    const z = gTest([0, 20, 40], [20, 20, 20]);
    assertClose(z.statistic, 55.451774444795625, 1e-14, "G with an empty category");
    assertClose(z.pvalue, 9.094947017729277e-13, 1e-12, "p");
  });

  it("refuses totals that differ by more than 1e-8 with SciPy's message, and bad frequencies", () => {
    throwsMl(
      () => gTest([1, 2], [3, 4]),
      /sum of the observed frequencies must agree with the sum of the expected frequencies to a relative tolerance of 1e-08, but the percent differences are:\n1.3333333333333333/,
    );
    throwsMl(() => chiSquareGoodnessOfFit([1, 2], [1.5, 1.5000001]), /relative tolerance of 1e-08/);
    chiSquareGoodnessOfFit([1, 2], [1.5, 1.500000001]); // within 1e-8: accepted
    throwsMl(() => chiSquareGoodnessOfFit([1, 2], [3]), /observed has 2 categories but expected has 1/);
    throwsMl(() => gTest([], []), /no categories/);
    throwsMl(() => chiSquareGoodnessOfFit([1, -1], [0, 0]), /observed\[1\] = -1/);
    throwsMl(() => gTest([1, 1], [NaN, 2]), /expected\[0\] = NaN/);
  });
});

describe("chiSquareContingency (scipy.stats.chi2_contingency, SciPy 1.10.1 values)", () => {
  it("applies Yates' correction when dof = 1 and returns the expected table", () => {
    const r = chiSquareContingency([
      [10, 20],
      [30, 40],
    ]);
    assertClose(r.statistic, 0.4464285714285714, 1e-14, "statistic");
    assertClose(r.pvalue, 0.5040358664525046, 1e-14, "p");
    assert.equal(r.dof, 1);
    assert.deepEqual(r.expected, [
      [12, 18],
      [28, 42],
    ]);
  });

  it("leaves Yates' correction out on request (SciPy's correction=False)", () => {
    const r = chiSquareContingency(
      [
        [10, 20],
        [25, 15],
      ],
      { correction: false },
    );
    assertClose(r.statistic, 5.833333333333334, 1e-14, "statistic");
    assertClose(r.pvalue, 0.0157252997545054, 1e-14, "p");
  });

  it("tests larger tables without correction", () => {
    const r = chiSquareContingency([
      [12, 5, 9],
      [7, 14, 3],
    ]);
    assertClose(r.statistic, 8.512567476383268, 1e-14, "statistic");
    assertClose(r.pvalue, 0.014174882222918836, 1e-14, "p");
    assert.equal(r.dof, 2);
  });

  it("drops all-zero rows and columns, and has statistic 0 / p 1 when nothing is left to compare", () => {
    const r = chiSquareContingency([
      [10, 0, 20],
      [30, 0, 40],
      [0, 0, 0],
    ]);
    assert.equal(r.dof, 1);
    assertClose(r.statistic, 0.4464285714285714, 1e-14, "statistic");
    assert.deepEqual(r.expected, [
      [12, 0, 18],
      [28, 0, 42],
      [0, 0, 0],
    ]);
    assert.deepEqual(chiSquareContingency([[5, 3]]), { statistic: 0, pvalue: 1, dof: 0, expected: [[5, 3]] });
  });

  it("refuses empty, ragged, negative and all-zero tables", () => {
    throwsMl(() => chiSquareContingency([]), /no rows/);
    throwsMl(() => chiSquareContingency([[]]), /no columns/);
    throwsMl(() => chiSquareContingency([[1, 2], [3]]), /row 1 has 1 cells, row 0 has 2/);
    throwsMl(() => chiSquareContingency([[1, -2]]), /cell \[0\]\[1\] = -2/);
    throwsMl(() => chiSquareContingency([[0, 0]]), /all zeros/);
  });
});

describe("twoProportionZTest (Evidently's z stattest)", () => {
  it("compares the shares of the non-first value with a pooled variance (SciPy 1.10.1 norm.cdf)", () => {
    const r = twoProportionZTest([0, 0, 1, 1], [0, 1, 1, 1]);
    assert.equal(r.z, (0.5 - 0.75) / Math.sqrt(0.625 * 0.375 * (1 / 4 + 1 / 4)));
    assertClose(r.z, -0.7302967433402214, 1e-15, "z");
    assertClose(r.pvalue, 0.4652088184521417, 1e-14, "p");
    // constant but different samples: p1 = 0, p2 = 1, z = −2
    const d = twoProportionZTest([4, 4], [5, 5]);
    assert.equal(d.z, -2);
    assertClose(d.pvalue, 0.04550026389635842, 1e-13, "p at z = −2");
    // more than two values: everything but the smallest counts as 1
    assert.deepEqual(twoProportionZTest([1, 2, 3], [1, 3, 3]), twoProportionZTest([0, 1, 1], [0, 1, 1]));
  });

  it("uses Evidently's 2·(1 − Φ(|z|)), which is 0 once Φ rounds to 1", () => {
    const ref = Array.from({ length: 400 }, (_, i) => (i < 380 ? 0 : 1));
    const cur = Array.from({ length: 400 }, (_, i) => (i < 20 ? 0 : 1));
    assert.equal(twoProportionZTest(ref, cur).pvalue, 0);
  });

  it("gives p = 1 when both samples are the same constant, and refuses empty input or NaN", () => {
    assert.deepEqual(twoProportionZTest([4, 4], [4, 4, 4]), { z: 0, pvalue: 1 });
    throwsMl(() => twoProportionZTest([], [1]), /must not be empty/);
    throwsMl(() => twoProportionZTest([1, NaN], [1]), /reference contains NaN at index 1/);
  });
});

describe("fisherExact2x2 (scipy.stats.fisher_exact, SciPy 1.10.1 values)", () => {
  it("sums the probabilities of tables no more likely than the observed one", () => {
    const r = fisherExact2x2([
      [8, 2],
      [1, 5],
    ]);
    assert.equal(r.oddsRatio, 20);
    assertClose(r.pvalue, 0.034965034965034975, 1e-13, "docs example");
    assertClose(
      fisherExact2x2([
        [3, 7],
        [7, 3],
      ]).pvalue,
      0.1788954079975752,
      1e-13,
      "symmetric table",
    );
    assertClose(
      fisherExact2x2([
        [0, 5],
        [5, 0],
      ]).pvalue,
      0.007936507936507938,
      1e-13,
      "extreme",
    );
    assert.equal(
      fisherExact2x2([
        [0, 5],
        [5, 0],
      ]).oddsRatio,
      0,
    );
    assertClose(
      fisherExact2x2([
        [1000, 2000],
        [1100, 1900],
      ]).pvalue,
      0.007364099121621419,
      1e-11,
      "n = 6000",
    );
    const big = fisherExact2x2([
      [500000, 500000],
      [499000, 501000],
    ]);
    assertClose(big.pvalue, 0.15771450486976657, 1e-9, "n = 2 000 000");
    assertClose(big.oddsRatio, 1.0040080160320641, 1e-15, "odds ratio");
  });

  it("gives p = 1 at the mode, odds ratio ∞ with a zero off-diagonal and NaN with an empty line", () => {
    assert.deepEqual(
      fisherExact2x2([
        [10, 10],
        [10, 10],
      ]),
      { oddsRatio: 1, pvalue: 1 },
    );
    assert.equal(
      fisherExact2x2([
        [3, 0],
        [1, 4],
      ]).oddsRatio,
      Infinity,
    );
    const empty = fisherExact2x2([
      [0, 0],
      [3, 4],
    ]);
    assert.ok(Number.isNaN(empty.oddsRatio));
    assert.equal(empty.pvalue, 1);
  });

  it("refuses other shapes and non-integer or negative counts", () => {
    throwsMl(
      () =>
        fisherExact2x2([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      /shape \(2, 2\)/,
    );
    throwsMl(() => fisherExact2x2([[1, 2]]), /shape \(2, 2\)/);
    throwsMl(
      () =>
        fisherExact2x2([
          [1, 2.5],
          [1, 1],
        ]),
      /2.5 is not a non-negative integer/,
    );
    throwsMl(
      () =>
        fisherExact2x2([
          [1, -2],
          [1, 1],
        ]),
      /-2 is not a non-negative integer/,
    );
  });
});

describe("categorical tests against the SciPy reference cases", () => {
  it("matches every case: counts, chisquare, chi2_contingency, G-test, z-test and Fisher", () => {
    for (const c of categoricalCases()) {
      const e = c.expected;
      const counts = alignedValueCounts(c.ref, c.cur);
      assert.deepEqual(Array.from(counts.refCounts), e.ref_counts, `${c.id} ref_counts`);
      assert.deepEqual(Array.from(counts.curCounts), e.cur_counts, `${c.id} cur_counts`);

      // Evidently's chisquare: f_exp = ref_counts · (n_cur / n_ref)
      const kNorm = c.cur.length / c.ref.length;
      const fExp = Array.from(counts.refCounts, (r) => r * kNorm);
      const cs = chiSquareGoodnessOfFit(counts.curCounts, fExp);
      assertClose(cs.statistic, num(e, "chisquare_evidently.statistic"), RTOL, `${c.id} chisquare statistic`);
      const csp = num(e, "chisquare_evidently.pvalue");
      assertClose(cs.pvalue, csp, rtolP(csp), `${c.id} chisquare p`);

      const table = [Array.from(counts.refCounts), Array.from(counts.curCounts)];
      assert.deepEqual(table, (e.chi2_contingency as { table: number[][] }).table, `${c.id} contingency table`);
      const ct = chiSquareContingency(table);
      assertClose(ct.statistic, num(e, "chi2_contingency.statistic"), RTOL, `${c.id} contingency statistic`);
      const ctp = num(e, "chi2_contingency.pvalue");
      assertClose(ct.pvalue, ctp, rtolP(ctp), `${c.id} contingency p`);
      assert.equal(ct.dof, num(e, "chi2_contingency.dof"), `${c.id} contingency dof`);

      // Evidently 0.7.21's g_test does not rescale f_exp, so SciPy refuses unequal sample sizes
      const g = e.g_test_evidently as { error?: string };
      if (g.error !== undefined) {
        const message = g.error.replace(/^ValueError: /, "");
        assert.throws(
          () => gTest(counts.curCounts, counts.refCounts),
          (err: unknown) => err instanceof Error && err.message.endsWith(message),
          `${c.id} g-test error`,
        );
      } else {
        const gt = gTest(counts.curCounts, counts.refCounts);
        assertClose(gt.statistic, num(e, "g_test_evidently.statistic"), RTOL, `${c.id} g statistic`);
        const gp = num(e, "g_test_evidently.pvalue");
        assertClose(gt.pvalue, gp, rtolP(gp), `${c.id} g p`);
      }

      if (e.z_test_evidently !== undefined) {
        const z = twoProportionZTest(c.ref, c.cur);
        assertClose(z.z, num(e, "z_test_evidently.z"), RTOL, `${c.id} z`);
        assertClose(z.pvalue, num(e, "z_test_evidently.pvalue"), RTOL, `${c.id} z p`);
      }

      if (e.fisher_exact !== undefined) {
        // Evidently's table: [[ones_cur, zeros_cur], [ones_ref, zeros_ref]]
        const ft = [
          [counts.curCounts[1]!, counts.curCounts[0]!],
          [counts.refCounts[1]!, counts.refCounts[0]!],
        ];
        assert.deepEqual(ft, (e.fisher_exact as { table: number[][] }).table, `${c.id} fisher table`);
        assertClose(fisherExact2x2(ft).pvalue, num(e, "fisher_exact.pvalue"), RTOL, `${c.id} fisher p`);
      }
    }
  });
});
