import assert from "node:assert/strict";
import { test } from "node:test";
import { Random } from "../core/random.js";
import { throwsMl } from "../testing/assertions.js";
import {
  fitReconstructionDrift,
  ReconstructionDriftModel,
  type NumericColumns,
  type ReconstructionDriftResult,
} from "./multivariate-drift.js";

/**
 * NannyML's "butterfly": x and y standard normal with correlation `rho`, plus an independent feature z.
 * `rotate` turns the (x, y) plane by 90° — (x, y) → (−y, x) — which keeps both marginals N(0, 1) and makes
 * the correlation −rho.
 */
function butterfly(n: number, seed: number, options: { rotate?: boolean; rho?: number } = {}): NumericColumns {
  const rho = options.rho ?? 0.9;
  const random = new Random(seed);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = random.normal();
    const b = rho * a + Math.sqrt(1 - rho * rho) * random.normal();
    x[i] = options.rotate === true ? -b : a;
    y[i] = options.rotate === true ? a : b;
    z[i] = 10 + 2 * random.normal();
  }
  return { columns: { x, y, z } };
}

/** The two-sample Kolmogorov–Smirnov statistic (for the univariate check only). */
function ks(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < sa.length && j < sb.length) {
    const v = Math.min(sa[i] as number, sb[j] as number);
    while (i < sa.length && sa[i] === v) i++;
    while (j < sb.length && sb[j] === v) j++;
    d = Math.max(d, Math.abs(i / sa.length - j / sb.length));
  }
  return d;
}

function show(r: ReconstructionDriftResult): string {
  return JSON.stringify(r);
}

test("the butterfly: a 90° rotation keeps every marginal but breaks the correlation, and is flagged", (t) => {
  const reference = butterfly(5000, 1);
  const model = fitReconstructionDrift(reference);
  assert.deepEqual(model.columns, ["x", "y", "z"]);
  assert.equal(model.chunkSize, 500);
  assert.equal(model.referenceChunkErrors.length, 10);
  // standardised variances 1.9, 1, 0.1 (of 3): one component explains 63%, two 97% > 65%
  assert.equal(model.nComponents, 2);

  const rotated = butterfly(1000, 2, { rotate: true });
  // univariate: each marginal is unchanged (KS far below its 5% critical value 1.36·√(1/5000 + 1/1000) ≈ 0.047)
  for (const name of ["x", "y", "z"]) {
    const d = ks(reference.columns[name] as Float64Array, rotated.columns[name] as Float64Array);
    assert.ok(d < 0.047, `${name}: KS ${d}`);
  }
  const r = model.evaluate(rotated);
  t.diagnostic(`thresholds [${model.lower}, ${model.upper}]; rotated: ${show(r)}`);
  assert.equal(r.drift, true, show(r));
  assert.ok(r.error > 2 * model.upper, show(r));
  assert.equal(r.rows, 1000);

  const fresh = model.evaluate(butterfly(1000, 3));
  t.diagnostic(`fresh sample: ${show(fresh)}`);
  assert.equal(fresh.drift, false, show(fresh));
  assert.ok(fresh.error > fresh.lower && fresh.error < fresh.upper);
});

test("no drift on fresh samples of the reference distribution: chunk by chunk", (t) => {
  const model = fitReconstructionDrift(butterfly(5000, 4));
  const results = model.evaluateChunks(butterfly(10000, 5));
  assert.equal(results.length, 20);
  const alarms = results.filter((r) => r.drift).length;
  t.diagnostic(`${alarms} of 20 fresh chunks of 500 rows outside the thresholds`);
  assert.ok(alarms <= 1, `${alarms} alarms`);
  assert.ok(results.every((r) => r.rows === 500 && Number.isFinite(r.error) && r.errorStd > 0));
});

test("evaluating the reference itself gives the mean of the reference chunk values", () => {
  const reference = butterfly(3000, 6);
  const model = fitReconstructionDrift(reference, { chunkSize: 300, varianceToKeep: 0.5 });
  assert.equal(model.nComponents, 1);
  const chunks = model.referenceChunkErrors;
  const mean = chunks.reduce((s, e) => s + e, 0) / chunks.length;
  const std = Math.sqrt(chunks.reduce((s, e) => s + (e - mean) ** 2, 0) / chunks.length);
  const r = model.evaluate(reference);
  assert.ok(Math.abs(r.error - mean) < 1e-12);
  assert.ok(Math.abs(model.upper - (mean + 3 * std)) < 1e-12);
  assert.ok(Math.abs(model.lower - Math.max(0, mean - 3 * std)) < 1e-12);
  // the same rows chunk by chunk reproduce the reference chunk values
  const again = model.evaluateChunks(reference).map((c) => c.error);
  again.forEach((e, i) => assert.ok(Math.abs(e - (chunks[i] as number)) < 1e-12));
  // sigmas widens or narrows the band
  const wide = fitReconstructionDrift(reference, { chunkSize: 300, varianceToKeep: 0.5, sigmas: 6 });
  assert.ok(Math.abs(wide.upper - (mean + 6 * std)) < 1e-12);
});

test("missing values: imputed by the reference means, so results stay finite", () => {
  const reference = butterfly(2000, 7);
  const random = new Random(8);
  const withGaps = (table: NumericColumns): NumericColumns => {
    const columns: Record<string, (number | null)[]> = {};
    for (const [name, values] of Object.entries(table.columns)) {
      columns[name] = Array.from(values as Float64Array, (v) => {
        const u = random.next();
        return u < 0.05 ? Number.NaN : u < 0.1 ? null : v;
      });
    }
    return { columns };
  };
  const model = fitReconstructionDrift(withGaps(reference));
  assert.deepEqual(model.excludedColumns, []);
  const r = model.evaluate(withGaps(butterfly(500, 9)));
  assert.ok(Number.isFinite(r.error) && Number.isFinite(r.upper) && Number.isFinite(r.errorStd), show(r));
  assert.equal(r.drift, false, show(r));
  // a row with every value missing sits at the reference means: its error is 0
  const blank = model.evaluate({ columns: { x: [null], y: [Number.NaN], z: [undefined] } });
  assert.ok(blank.error < 1e-12, show(blank));
  assert.equal(blank.errorStd, 0);
  // a column with no value at all in the reference is left out
  const n = 2000;
  const partial = fitReconstructionDrift({
    columns: { ...reference.columns, empty: new Array<null>(n).fill(null) },
  });
  assert.deepEqual(partial.excludedColumns, [{ name: "empty", reason: "no values in the reference" }]);
  assert.deepEqual(partial.columns, ["x", "y", "z"]);
});

test("constant columns are left out with a reason; nothing turns NaN", () => {
  const reference = butterfly(2000, 10);
  const n = 2000;
  const model = fitReconstructionDrift({
    columns: { ...reference.columns, flag: new Float64Array(n).fill(5), zero: new Array<number>(n).fill(0) },
  });
  assert.deepEqual(model.excludedColumns, [
    { name: "flag", reason: "constant in the reference (5)" },
    { name: "zero", reason: "constant in the reference (0)" },
  ]);
  assert.deepEqual(model.columns, ["x", "y", "z"]);
  // excluded and extra columns of the current batch are ignored
  const current = butterfly(500, 11);
  const r = model.evaluate({ columns: { ...current.columns, flag: new Float64Array(500).fill(7), other: [1] } });
  assert.ok(Number.isFinite(r.error) && Number.isFinite(r.lower) && Number.isFinite(r.upper), show(r));
  assert.equal(r.drift, false);
  throwsMl(
    () => fitReconstructionDrift({ columns: { a: [1, 1, 1, 1], b: [null, null, null, null] } }, { chunkSize: 2 }),
    /no column varies in the reference \(a: constant in the reference \(1\); b: no values in the reference\)/,
  );
});

test("toJSON / fromJSON: a stored model evaluates exactly as the original", () => {
  const model = fitReconstructionDrift(butterfly(2000, 12), { chunkSize: 250 });
  const json = JSON.parse(JSON.stringify(model.toJSON())) as unknown;
  const restored = ReconstructionDriftModel.fromJSON(json);
  const current = butterfly(400, 13, { rotate: true });
  assert.deepEqual(restored.evaluate(current), model.evaluate(current));
  assert.deepEqual(restored.toJSON(), model.toJSON());
  assert.equal(restored.chunkSize, 250);
  throwsMl(() => ReconstructionDriftModel.fromJSON({ ...model.toJSON(), version: 2 }), /supports version 1, got 2/);
  throwsMl(
    () => ReconstructionDriftModel.fromJSON({ ...model.toJSON(), columns: [{ name: "x", mean: 0, std: 0 }] }),
    /"columns" must be a non-empty array of \{ name, mean, std > 0 \}/,
  );
  throwsMl(
    () => ReconstructionDriftModel.fromJSON({ ...model.toJSON(), columns: [{ name: "x", mean: 0, std: 1 }] }),
    /"pca" must be a PCA over the 1 columns/,
  );
  throwsMl(
    () => ReconstructionDriftModel.fromJSON({ ...model.toJSON(), referenceChunkErrors: [1] }),
    /"referenceChunkErrors" must be at least 2 finite numbers ≥ 0/,
  );
});

test("bad input: precise MlErrors", () => {
  const reference = butterfly(100, 14);
  const model = fitReconstructionDrift(reference);
  throwsMl(() => model.evaluate({ columns: { x: [1] } }), /current lacks the columns y, z/);
  throwsMl(
    () => model.evaluate({ columns: { x: [1, 2], y: [1], z: [1, 2] } }),
    /current column "y" has 1 rows, column "x" has 2/,
  );
  throwsMl(() => model.evaluate({ columns: { x: [], y: [], z: [] } }), /current has no rows/);
  throwsMl(
    () => model.evaluate({ columns: { x: [1], y: [Infinity], z: [1] } }),
    /current column "y" has Infinity at row 0/,
  );
  throwsMl(
    () => model.evaluate({ columns: { x: ["1"], y: [1], z: [1] } } as unknown as NumericColumns),
    /current column "x" has "1" at row 0/,
  );
  throwsMl(() => model.evaluate(null as unknown as NumericColumns), /current must be \{ columns/);
  throwsMl(() => fitReconstructionDrift({ columns: {} }), /reference has no columns/);
  throwsMl(() => fitReconstructionDrift({ columns: { a: [1] } }), /at least 2 rows, got 1/);
  throwsMl(
    () => fitReconstructionDrift(reference, { chunkSize: 60 }),
    /100 reference rows make fewer than 2 chunks of 60/,
  );
  throwsMl(() => fitReconstructionDrift(reference, { chunkSize: 0 }), /chunkSize must be a positive integer, got 0/);
  throwsMl(
    () => fitReconstructionDrift(reference, { varianceToKeep: 1.5 }),
    /varianceToKeep must be in \(0, 1\], got 1.5/,
  );
  throwsMl(() => fitReconstructionDrift(reference, { sigmas: -1 }), /sigmas must be a finite number ≥ 0, got -1/);
  throwsMl(() => model.evaluateChunks(reference, 0), /chunkSize must be a positive integer, got 0/);
});
