import { test } from "node:test";
import assert from "node:assert/strict";
import { MlError } from "../core/errors.js";
import { checkCsr, toRows } from "../core/matrix.js";
import { columnsFromRows, OneHotEncoder } from "./one-hot-encoder.js";

test("docstring example: categories, unknown ignored, feature names", () => {
  // Source: OneHotEncoder docstring (handle_unknown='ignore', X = [['Male', 1], ['Female', 3], ['Female', 2]]).
  const enc = new OneHotEncoder({ handleUnknown: "ignore" });
  enc.fit(
    columnsFromRows([
      ["Male", 1],
      ["Female", 3],
      ["Female", 2],
    ]),
  );
  assert.deepEqual(enc.categories, [
    ["Female", "Male"],
    [1, 2, 3],
  ]);
  const X = enc.transform(
    columnsFromRows([
      ["Female", 1],
      ["Male", 4],
    ]),
  );
  checkCsr(X);
  assert.deepEqual(toRows(X), [
    [1, 0, 1, 0, 0],
    [0, 1, 0, 0, 0],
  ]);
  assert.deepEqual(enc.featureNames(["gender", "group"]), [
    "gender_Female",
    "gender_Male",
    "group_1",
    "group_2",
    "group_3",
  ]);
  assert.deepEqual(enc.featureNames(), ["x0_Female", "x0_Male", "x1_1", "x1_2", "x1_3"]);
});

test("user guide example: missing values are a category of their own, placed last", () => {
  // Source: scikit-learn user guide, "Encoding categorical features", support of missing values:
  // X = [['male', 'Safari'], ['female', None], [np.nan, 'Firefox']].
  const columns = columnsFromRows([
    ["male", "Safari"],
    ["female", null],
    [Number.NaN, "Firefox"],
  ]);
  const enc = new OneHotEncoder().fit(columns);
  assert.deepEqual(enc.categories, [
    ["female", "male", null],
    ["Firefox", "Safari", null],
  ]);
  assert.deepEqual(toRows(enc.transformDense(columns)), [
    [0, 1, 0, 0, 1, 0],
    [1, 0, 0, 0, 0, 1],
    [0, 0, 1, 1, 0, 0],
  ]);
  assert.deepEqual(enc.featureNames(), ["x0_female", "x0_male", "x0_nan", "x1_Firefox", "x1_Safari", "x1_nan"]);
  // null, undefined and NaN are one category here (scikit-learn keeps None and NaN apart).
  assert.deepEqual(new OneHotEncoder().fit([[null, undefined, Number.NaN, "a"]]).categories, [["a", null]]);
});

test("sorting: strings by code point, numbers numerically, typed-array columns", () => {
  const enc = new OneHotEncoder().fit([
    ["b", "\u{1d400}", "\uff5a", "B", "a"],
    Float64Array.from([10, 9, -1, 2.5, -0]),
  ]);
  assert.deepEqual(enc.categories, [
    ["B", "a", "b", "\uff5a", "\u{1d400}"],
    [-1, 0, 2.5, 9, 10],
  ]);
  // 0 and -0 are the same category.
  assert.deepEqual(toRows(enc.transform([["a"], [0]])), [[0, 1, 0, 0, 0, 0, 1, 0, 0, 0]]);
});

test("unknown categories: a clear MlError under 'error', zeros under 'ignore'", () => {
  const enc = new OneHotEncoder().fit([
    ["red", "green"],
    [1, 2],
  ]);
  assert.throws(
    () =>
      enc.transform([
        ["red", "blue"],
        [1, 2],
      ]),
    {
      name: "MlError",
      message:
        'OneHotEncoder: column 0 has an unknown category "blue" (row 1) during transform; known categories: "green", "red"',
    },
  );
  assert.throws(() => enc.transform([["red"], [null]]), /column 1 has an unknown category null \(row 0\)/);
  assert.throws(() => enc.transform([["red"], ["1"]]), /column 1 has an unknown category "1"/);
  const ignore = new OneHotEncoder({ handleUnknown: "ignore" }).fit([
    ["red", "green"],
    [1, 2],
  ]);
  assert.deepEqual(
    toRows(
      ignore.transform([
        ["blue", "red"],
        [2, 3],
      ]),
    ),
    [
      [0, 0, 0, 1],
      [0, 1, 0, 0],
    ],
  );
});

test("errors: not fitted, mixed types, infinite numbers, ragged or missing columns", () => {
  const enc = new OneHotEncoder();
  assert.throws(() => enc.transform([["a"]]), { name: "MlError", message: /OneHotEncoder is not fitted/ });
  assert.throws(() => enc.fit([["a", 1]]), /column 0 mixes strings and numbers \(row 1 is 1\)/);
  assert.throws(() => enc.fit([[Number.POSITIVE_INFINITY]]), /categories must be finite/);
  assert.throws(() => enc.fit([["a", "b"], ["c"]]), /column 1 has 1 values, column 0 has 2/);
  assert.throws(() => enc.fit([]), /at least one column/);
  assert.throws(() => enc.fit([[true as unknown as string]]), /expected a string or a number/);
  enc.fit([["a"], ["b"]]);
  assert.throws(() => enc.transform([["a"]]), /got 1 columns, but the encoder was fitted on 2/);
  assert.throws(() => enc.featureNames(["one"]), /got 1 input names for 2 columns/);
  assert.throws(() => new OneHotEncoder({ handleUnknown: "warn" as "error" }), /handleUnknown must be/);
  assert.throws(() => columnsFromRows([["a", 1], ["b"]]), /row 1 has 1 values, expected 2/);
});

test("toJSON / fromJSON round trip and malformed input", () => {
  const enc = new OneHotEncoder({ handleUnknown: "ignore" }).fit([
    ["x", null, "y"],
    [3, 1, Number.NaN],
  ]);
  const json = JSON.parse(JSON.stringify(enc.toJSON())) as ReturnType<OneHotEncoder["toJSON"]>;
  assert.deepEqual(json.categories, [
    ["x", "y", null],
    [1, 3, null],
  ]);
  const back = OneHotEncoder.fromJSON(json);
  const cols = [
    ["y", undefined, "z"],
    [1, Number.NaN, 4],
  ];
  assert.deepEqual(toRows(back.transform(cols)), toRows(enc.transform(cols)));
  assert.deepEqual(back.toJSON(), enc.toJSON());
  for (const bad of [
    { ...json, type: "X" },
    { ...json, categories: "x" },
    { ...json, categories: [["y", "x"]] },
    { ...json, categories: [["x", "x"]] },
    { ...json, categories: [[null, "x"]] },
    { ...json, categories: [["a", 1]] },
    { ...json, categories: [[true]] },
    { ...json, options: { handleUnknown: "warn" } },
  ]) {
    assert.throws(() => OneHotEncoder.fromJSON(bad), MlError, JSON.stringify(bad));
  }
});
