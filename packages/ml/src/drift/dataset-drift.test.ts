import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Random } from "../core/random.js";
import { tableFromColumns, type Table } from "../data/table.js";
import { throwsMl } from "../testing/assertions.js";
import { datasetDrift } from "./dataset-drift.js";
import { driftReportHtml } from "./drift-report-html.js";

function normals(seed: number, n: number, shift = 0): Float64Array {
  const random = new Random(seed);
  return Float64Array.from({ length: n }, () => shift + random.normal());
}

function levels(seed: number, n: number, values: readonly string[]): string[] {
  const random = new Random(seed);
  return Array.from({ length: n }, () => values[random.int(values.length)]!);
}

describe("datasetDrift", () => {
  const n = 2000;
  const reference = tableFromColumns({
    age: normals(1, n),
    income: normals(2, n),
    plan: levels(3, n, ["basic", "plus", "pro"]),
  });

  it("finds no drift between two samples of the same distribution", () => {
    const current = tableFromColumns({
      age: normals(4, n),
      income: normals(5, n),
      plan: levels(6, n, ["basic", "plus", "pro"]),
    });
    const report = datasetDrift(reference, current);
    assert.equal(report.tested_columns, 3);
    assert.equal(report.dataset_drift, false);
    assert.deepEqual(
      report.columns.map((c) => [c.column, c.type, c.test]),
      [
        ["age", "numeric", "ks"],
        ["income", "numeric", "ks"],
        ["plan", "categorical", "chi2"],
      ],
    );
    for (const key of [
      "ks_statistic",
      "ks_p_value",
      "wasserstein",
      "wasserstein_norm",
      "psi",
      "jensenshannon",
      "energy_distance",
    ]) {
      assert.equal(typeof report.columns[0]!.statistics[key], "number", key);
    }
  });

  it("flags shifted columns, new categories and the dataset verdict", () => {
    const plan = levels(6, n, ["basic", "plus", "pro"]);
    for (let i = 0; i < 300; i++) plan[i] = "enterprise";
    const current = tableFromColumns({ age: normals(4, n, 0.5), income: normals(5, n, 0.4), plan });
    const report = datasetDrift(reference, current);
    assert.deepEqual(
      report.columns.map((c) => c.drift),
      [true, true, true],
    );
    assert.equal(report.dataset_drift, true);
    assert.equal(report.share, 1);
    const fresh = report.findings.find((f) => f.kind === "new_categories");
    assert.ok(fresh);
    assert.match(fresh.message, /"enterprise"/);
    assert.match(fresh.message, /15\.0% of current/);
  });

  it("reports missing values, absent columns, empty and constant columns as findings, never throwing", () => {
    const age = normals(4, n);
    for (let i = 0; i < 600; i++) age[i] = NaN;
    const current = tableFromColumns({
      age,
      plan: Array.from({ length: n }, () => null),
      extra: normals(7, n),
    });
    const ref = tableFromColumns({
      age: normals(1, n),
      income: normals(2, n),
      plan: levels(3, n, ["basic", "plus", "pro"]),
      flag: new Float64Array(n).fill(1),
    });
    const cur2 = tableFromColumns({ ...Object.fromEntries(current.columns), flag: new Float64Array(n).fill(1) });
    const report = datasetDrift(ref, cur2);
    const kinds = report.findings.map((f) => `${f.column}:${f.kind}`).sort();
    assert.deepEqual(kinds, [
      "age:missing_values_changed",
      "extra:column_missing_in_reference",
      "flag:constant_column",
      "income:column_missing_in_current",
      "plan:missing_values_changed",
      "plan:no_values_in_current",
    ]);
    const byName = new Map(report.columns.map((c) => [c.column, c]));
    assert.equal(byName.get("income")!.drift, null);
    assert.equal(byName.get("plan")!.drift, null);
    assert.equal(byName.get("flag")!.drift, false);
    assert.equal(byName.get("age")!.drift, false);
    assert.equal(report.tested_columns, 2);
  });

  it("an empty current table tests nothing and says why", () => {
    const report = datasetDrift(reference, tableFromColumns({ age: [], income: [], plan: [] }));
    assert.equal(report.tested_columns, 0);
    assert.equal(report.dataset_drift, false);
    assert.ok(report.findings.every((f) => f.kind === "no_values_in_current" || f.kind === "no_values_in_reference"));
  });

  it("honours methods and thresholds per column, type and table, and rejects bad options", () => {
    const current = tableFromColumns({
      age: normals(4, n, 0.05),
      income: normals(5, n),
      plan: levels(6, n, ["basic", "plus", "pro"]),
    });
    const report = datasetDrift(reference, current, {
      method: "psi",
      methods: { categorical: "jensenshannon" },
      columnMethods: { income: "wasserstein" },
      columnThresholds: { income: 0.5 },
    });
    assert.deepEqual(
      report.columns.map((c) => [c.test, c.threshold]),
      [
        ["psi", 0.1],
        ["wasserstein", 0.5],
        ["jensenshannon", 0.1],
      ],
    );
    throwsMl(() => datasetDrift(reference, current, { method: "nope" }), /unknown drift method 'nope'/);
    throwsMl(() => datasetDrift(reference, current, { driftShare: 2 }), /driftShare must be between 0 and 1/);
    throwsMl(() => datasetDrift(reference, current, { columns: ["zip"] }), /'zip' is not a column of the reference/);
    throwsMl(
      () => datasetDrift(reference, current, { columnMethods: { plan: "ks" } }),
      /method 'ks' does not apply to categorical columns/,
    );
  });

  it("sees a change of correlation that no column shows on its own (PCA reconstruction)", () => {
    const pair = (seed: number, rotate: boolean): Table => {
      const random = new Random(seed);
      const x = new Float64Array(3000);
      const y = new Float64Array(3000);
      for (let i = 0; i < 3000; i++) {
        const a = random.normal();
        const b = 0.2 * random.normal();
        // reference: y ≈ x; current: the cloud turned by 90° (y ≈ −x), the same marginals
        x[i] = a + b;
        y[i] = rotate ? -(a - b) : a - b;
      }
      return tableFromColumns({ x, y });
    };
    const same = datasetDrift(pair(1, false), pair(2, false));
    assert.equal(same.multivariate?.drift, false);
    const turned = datasetDrift(pair(1, false), pair(3, true));
    assert.deepEqual(
      turned.columns.map((c) => c.drift),
      [false, false],
    );
    assert.equal(turned.dataset_drift, false);
    assert.equal(turned.multivariate?.drift, true);
    assert.ok(turned.multivariate.error > turned.multivariate.upper);
    assert.ok(turned.findings.some((f) => f.kind === "multivariate_drift"));
    assert.equal(datasetDrift(pair(1, false), pair(3, true), { multivariate: false }).multivariate, undefined);
  });

  it("does not test uncorrelated columns jointly: all components kept, the reconstruction error is round-off", () => {
    const independent = (seed: number, shift: number): Table => {
      const random = new Random(seed);
      const x = new Float64Array(3000);
      const y = new Float64Array(3000);
      for (let i = 0; i < 3000; i++) {
        x[i] = random.normal() + shift;
        y[i] = random.normal();
      }
      return tableFromColumns({ x, y });
    };
    const report = datasetDrift(independent(1, 0), independent(2, 0.2));
    assert.equal(report.columns[0]!.drift, true);
    assert.equal(report.multivariate, undefined);
    const finding = report.findings.find((f) => f.kind === "multivariate_not_tested");
    assert.match(finding?.message ?? "", /too weakly correlated \(all 2 principal components/);
    assert.ok(!report.findings.some((f) => f.kind === "multivariate_drift"));
  });

  it("writes a self-contained HTML report", () => {
    const current = tableFromColumns({
      age: normals(4, n, 0.5),
      income: normals(5, n),
      plan: levels(6, n, ["basic", "plus", "pro"]),
    });
    const html = driftReportHtml(datasetDrift(reference, current), { title: "Weekly <check>" });
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /Weekly &lt;check&gt;/);
    assert.match(html, /1 of 3 tested columns drifted/);
    assert.equal((html.match(/<svg /g) ?? []).length, 3);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);
  });
});
