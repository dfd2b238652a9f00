import { test } from "node:test";
import assert from "node:assert/strict";
import { MlError } from "../core/errors.js";
import { denseFromRows, toRows } from "../core/matrix.js";
import { SimpleImputer } from "./simple-imputer.js";

const NaN_ = Number.NaN;

test("user guide example: mean imputation", () => {
  // Source: scikit-learn user guide, "Univariate feature imputation":
  // fit [[1, 2], [nan, 3], [7, 6]], transform [[nan, 2], [6, nan], [7, 6]] → [[4, 2], [6, 3.666...], [7, 6]].
  const imp = new SimpleImputer({ strategy: "mean" });
  imp.fit([
    [1, 2],
    [NaN_, 3],
    [7, 6],
  ]);
  const out = toRows(
    imp.transform([
      [NaN_, 2],
      [6, NaN_],
      [7, 6],
    ]),
  );
  assert.deepEqual(out, [
    [4, 2],
    [6, 11 / 3],
    [7, 6],
  ]);
  assert.ok(String(out[1]?.[1]).startsWith("3.666"));
});

test("docstring example: mean imputation", () => {
  // Source: SimpleImputer docstring: fit [[7, 2, 3], [4, nan, 6], [10, 5, 9]],
  // transform [[nan, 2, 3], [4, nan, 6], [10, nan, 9]] → [[7, 2, 3], [4, 3.5, 6], [10, 3.5, 9]].
  const imp = new SimpleImputer().fit(
    denseFromRows([
      [7, 2, 3],
      [4, NaN_, 6],
      [10, 5, 9],
    ]),
  );
  assert.deepEqual(
    toRows(
      imp.transform(
        denseFromRows([
          [NaN_, 2, 3],
          [4, NaN_, 6],
          [10, NaN_, 9],
        ]),
      ),
    ),
    [
      [7, 2, 3],
      [4, 3.5, 6],
      [10, 3.5, 9],
    ],
  );
});

test("median, most_frequent (ties to the smallest) and constant; null and undefined are missing", () => {
  const X = [
    [1, 5, null],
    [2, 3, 1],
    [10, 3, undefined],
    [null, 5, 2],
  ];
  assert.deepEqual(Array.from(new SimpleImputer({ strategy: "median" }).fit(X).statistics), [2, 4, 1.5]);
  // Column 1: 5 and 3 both appear twice → 3; column 2: 1 and 2 once each → 1 (sklearn: "only the smallest").
  assert.deepEqual(Array.from(new SimpleImputer({ strategy: "most_frequent" }).fit(X).statistics), [1, 3, 1]);
  const constant = new SimpleImputer({ strategy: "constant", fillValue: -1 });
  assert.deepEqual(toRows(constant.fitTransform(X)), [
    [1, 5, -1],
    [2, 3, 1],
    [10, 3, -1],
    [-1, 5, 2],
  ]);
  assert.deepEqual(Array.from(new SimpleImputer({ strategy: "constant" }).fit(X).statistics), [0, 0, 0]);
});

test("columns without observed values are dropped, or kept with keepEmptyFeatures", () => {
  const X = [
    [1, null],
    [3, Number.NaN],
  ];
  const dropped = new SimpleImputer().fit(X);
  assert.ok(Number.isNaN(dropped.statistics[1]));
  assert.deepEqual(toRows(dropped.transform(X)), [[1], [3]]);
  assert.deepEqual(toRows(new SimpleImputer({ keepEmptyFeatures: true }).fitTransform(X)), [
    [1, 0],
    [3, 0],
  ]);
  assert.deepEqual(toRows(new SimpleImputer({ strategy: "constant", fillValue: 7 }).fitTransform(X)), [
    [1, 7],
    [3, 7],
  ]);
});

test("errors: not fitted, width, infinity, ragged rows, bad options", () => {
  const imp = new SimpleImputer();
  assert.throws(() => imp.transform([[1]]), { name: "MlError", message: /SimpleImputer is not fitted/ });
  imp.fit([[1, 2]]);
  assert.throws(() => imp.transform([[1]]), /X has 1 features, but the imputer was fitted on 2/);
  assert.throws(() => imp.fit([[1, Number.NEGATIVE_INFINITY]]), /-Infinity at row 0, column 1/);
  assert.throws(() => imp.fit([[1, 2], [3]]), /row 1 has 1 values, expected 2/);
  assert.throws(() => imp.fit([[1, "2" as unknown as number]]), /row 0, column 1 is "2"/);
  assert.throws(() => new SimpleImputer({ strategy: "mode" as "mean" }), /strategy must be one of/);
  assert.throws(() => new SimpleImputer({ fillValue: Number.NaN }), /fillValue must be a finite number/);
});

test("toJSON / fromJSON round trip and malformed input", () => {
  const imp = new SimpleImputer({ strategy: "median" }).fit([
    [1, null],
    [2, null],
    [4, null],
  ]);
  const json = JSON.parse(JSON.stringify(imp.toJSON())) as ReturnType<SimpleImputer["toJSON"]>;
  assert.deepEqual(json.statistics, [2, null]);
  const back = SimpleImputer.fromJSON(json);
  assert.deepEqual(toRows(back.transform([[null, 1]])), [[2]]);
  assert.deepEqual(back.toJSON(), imp.toJSON());
  for (const bad of [
    { ...json, type: "StandardScaler" },
    { ...json, statistics: "x" },
    { ...json, options: { ...json.options, strategy: "mode" } },
    { ...json, options: { ...json.options, keepEmptyFeatures: true } },
    { ...json, options: { ...json.options, fillValue: null } },
  ]) {
    assert.throws(() => SimpleImputer.fromJSON(bad), MlError, JSON.stringify(bad));
  }
});
