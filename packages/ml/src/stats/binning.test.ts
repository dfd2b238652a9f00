import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { throwsMl } from "../testing/assertions.js";
import {
  evidentlyBinning,
  histogramBinEdges,
  histogramCounts,
  nannymlBinningCategorical,
  nannymlBinningContinuous,
} from "./binning.js";
import { assertClose, categoricalCases, numericCases, type Expected } from "./testing/scipy-cases.js";

interface ExpectedBinning {
  mode?: string;
  edges: number[] | null;
  keys: number[] | null;
  ref_pct: number[];
  cur_pct: number[];
  ref_pct_filled: number[];
  cur_pct_filled: number[];
}

function closeArray(actual: ArrayLike<number> | null, expected: number[] | null, label: string): void {
  if (expected === null) {
    assert.equal(actual, null, label);
    return;
  }
  assert.ok(actual !== null, `${label}: missing`);
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) assertClose(actual[i]!, expected[i]!, 1e-9, `${label}[${i}]`);
}

function checkBinning(ref: number[], cur: number[], kind: "num" | "cat", expected: Expected, id: string): void {
  const e = expected.evidently_binning as ExpectedBinning;
  const b = evidentlyBinning(ref, cur, kind);
  if (e.mode !== undefined) assert.equal(b.mode, e.mode.startsWith("sturges") ? "sturges" : "values", `${id} mode`);
  else assert.equal(b.mode, "values", `${id} mode`);
  closeArray(b.edges, e.edges ?? null, `${id} edges`);
  closeArray(b.keys, e.keys, `${id} keys`);
  closeArray(b.refPct, e.ref_pct, `${id} ref_pct`);
  closeArray(b.curPct, e.cur_pct, `${id} cur_pct`);
  closeArray(b.refPctFilled, e.ref_pct_filled, `${id} ref_pct_filled`);
  closeArray(b.curPctFilled, e.cur_pct_filled, `${id} cur_pct_filled`);
}

describe("histogramBinEdges (numpy.histogram_bin_edges)", () => {
  // expected edges from NumPy 1.24.2
  it("uses Sturges' and Doane's widths with linspace edges", () => {
    const ten = Array.from({ length: 10 }, (_, i) => i);
    assert.deepEqual(Array.from(histogramBinEdges(ten, "sturges")), [0.0, 1.8, 3.6, 5.4, 7.2, 9.0]);
    assert.deepEqual(Array.from(histogramBinEdges(ten, "doane")), [0.0, 1.8, 3.6, 5.4, 7.2, 9.0]);
    const skewed = [0.1, 0.2, 0.2, 0.35, 0.9, 1.7, 2.2, 5.0, 9.5, 9.9, 13.0];
    assert.deepEqual(
      Array.from(histogramBinEdges(skewed, "doane")),
      [0.1, 2.25, 4.3999999999999995, 6.549999999999999, 8.7, 10.85, 13.0],
    );
    assert.deepEqual(Array.from(histogramBinEdges(skewed, "sturges")), [0.1, 2.68, 5.26, 7.84, 10.42, 13.0]);
  });

  it("widens a constant sample to [v−0.5, v+0.5] and gives one bin when a width is undefined", () => {
    assert.deepEqual(Array.from(histogramBinEdges([3, 3, 3], "sturges")), [2.5, 3.5]);
    assert.deepEqual(Array.from(histogramBinEdges([3, 3, 3], "doane")), [2.5, 3.5]);
    assert.deepEqual(Array.from(histogramBinEdges([1, 4], "doane")), [1, 4]); // Doane needs n > 2
    assert.deepEqual(Array.from(histogramBinEdges([], "sturges")), [0, 1]);
  });

  it("refuses non-finite values", () => {
    throwsMl(() => histogramBinEdges([1, NaN, 2], "sturges"), /range of \[NaN, NaN\] is not finite/);
    throwsMl(() => histogramBinEdges([1, Infinity], "doane"), /range of \[1, Infinity\] is not finite/);
  });
});

describe("histogramCounts (numpy.histogram with explicit edges)", () => {
  it("counts [a, b) bins, the last one closed, and skips out-of-range values and NaN", () => {
    assert.deepEqual(Array.from(histogramCounts([-1, 0, 0.5, 1, 2.9999, 3, 3.5, NaN], [0, 1, 2, 3])), [2, 1, 2]);
  });

  it("compares with the edge values themselves, not the uniform-width formula (NumPy 1.24.2)", () => {
    const edges = histogramBinEdges([0, 1, 0.5, 0.25, 0.75, 0.1, 0.9, 0.2, 0.3, 0.4, 0.6], "sturges");
    const lin = [0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9, 1.0];
    assert.equal(edges.length, 6); // sanity: Sturges gives 5 bins for 11 values
    const values = [
      0.3, 0.30000000000000004, 0.7, 0.7000000000000001, 0.1, 1.0, 0.0, -0.0, 1.0000000000000002, -1e-300,
    ];
    assert.deepEqual(Array.from(histogramCounts(values, lin)), [2, 1, 1, 1, 0, 0, 1, 1, 0, 1]);
  });

  it("allows repeated edges (empty bins) and refuses decreasing or too few edges", () => {
    assert.deepEqual(Array.from(histogramCounts([0, 1, 1, 1.5, 2], [0, 1, 1, 2])), [1, 0, 4]);
    throwsMl(() => histogramCounts([1], [0, 2, 1]), /must increase monotonically/);
    throwsMl(() => histogramCounts([1], [0]), /at least 2 edges/);
    throwsMl(() => histogramCounts([1], [0, NaN]), /edge 1 is NaN/);
  });
});

describe("evidentlyBinning (Evidently get_binned_data)", () => {
  it("bins by distinct value when the reference has at most 20, and fills zeros with 1e-4", () => {
    const b = evidentlyBinning([1, 1, 2], [2, 3, 3, 3], "num");
    assert.equal(b.mode, "values");
    assert.equal(b.edges, null);
    assert.deepEqual(Array.from(b.keys ?? []), [1, 2, 3]);
    assert.deepEqual(Array.from(b.refPct), [2 / 3, 1 / 3, 0]);
    assert.deepEqual(Array.from(b.curPct), [0, 0.25, 0.75]);
    assert.deepEqual(Array.from(b.refPctFilled), [2 / 3, 1 / 3, 0.0001]);
    assert.deepEqual(Array.from(b.curPctFilled), [0.0001, 0.25, 0.75]);
  });

  it("fills with min/1e6 when the smallest non-zero share is at most 1e-4", () => {
    const ref = new Float64Array(20000); // one 1 among 19 999 zeros: share 5e-5
    ref[7] = 1;
    const b = evidentlyBinning(ref, [0, 2], "cat");
    assert.deepEqual(Array.from(b.keys ?? []), [0, 1, 2]);
    assert.deepEqual(Array.from(b.refPctFilled), [19999 / 20000, 1 / 20000, 1 / 20000 / 1e6]);
    assert.deepEqual(Array.from(b.curPctFilled), [0.5, 0.0001, 0.5]);
  });

  it("uses Sturges edges on ref∪cur once the reference has 21 distinct values", () => {
    const ref = Array.from({ length: 21 }, (_, i) => i);
    const b = evidentlyBinning(ref, [30, 40], "num");
    assert.equal(b.mode, "sturges");
    assert.deepEqual(Array.from(b.edges ?? []), Array.from(histogramBinEdges([...ref, 30, 40], "sturges")));
    assert.equal(evidentlyBinning(ref.slice(1), [30, 40], "num").mode, "values");
    assert.equal(evidentlyBinning(ref, [30, 40], "cat").mode, "values");
  });

  it("refuses empty samples and non-finite values", () => {
    throwsMl(() => evidentlyBinning([], [1], "num"), /reference is empty/);
    throwsMl(() => evidentlyBinning([1], [], "cat"), /current is empty/);
    throwsMl(() => evidentlyBinning([1, NaN], [1], "num"), /reference: value at index 1 is NaN/);
    throwsMl(() => evidentlyBinning([1], [-Infinity], "cat"), /current: value at index 0 is -Infinity/);
  });

  it("matches SciPy/NumPy on every numeric reference case (mode, edges, shares, zero fill)", () => {
    for (const c of numericCases()) checkBinning(c.ref, c.cur, "num", c.expected, c.id);
  });

  it("matches every categorical reference case", () => {
    for (const c of categoricalCases()) checkBinning(c.ref, c.cur, "cat", c.expected, c.id);
  });
});

describe("NannyML binning", () => {
  it("fits Doane edges on the reference and puts current mass outside them in a leftover bin", () => {
    const ref = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const inside = nannymlBinningContinuous(ref, [1, 2, 3, 9]);
    assert.equal(inside.leftover, 0);
    assert.equal(inside.refPct.length, 5);
    const outside = nannymlBinningContinuous(ref, [1, 2, 30, -4]);
    assert.equal(outside.leftover, 0.5);
    assert.deepEqual(Array.from(outside.refPct), [0.2, 0.2, 0.2, 0.2, 0.2, 0]);
    assert.deepEqual(Array.from(outside.curPct), [0.25, 0.25, 0, 0, 0, 0.5]);
  });

  it("uses the reference's categories and a leftover bin for unseen ones", () => {
    const b = nannymlBinningCategorical([2, 0, 0, 2], [0, 1, 1, 2, 5]);
    assert.deepEqual(Array.from(b.keys ?? []), [0, 2]);
    assert.deepEqual(Array.from(b.refPct), [0.5, 0.5, 0]);
    assert.deepEqual(Array.from(b.curPct), [0.2, 0.2, 1 - 0.4]);
    assert.equal(nannymlBinningCategorical([1, 2], [2, 1]).leftover, 0);
  });

  it("gives NumPy's Doane bin count on every numeric reference case", () => {
    for (const c of numericCases()) {
      const b = nannymlBinningContinuous(c.ref, c.cur);
      assert.equal((b.edges ?? []).length - 1, c.expected.nannyml_doane_bins, `${c.id} doane bins`);
    }
  });

  it("refuses empty samples", () => {
    throwsMl(() => nannymlBinningContinuous([], [1]), /reference is empty/);
    throwsMl(() => nannymlBinningCategorical([1], []), /current is empty/);
  });
});
