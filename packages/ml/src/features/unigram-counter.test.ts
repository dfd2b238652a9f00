import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { toRows } from "../core/matrix.js";
import { CountVectorizer } from "./count-vectorizer.js";
import { DEFAULT_TOKEN_PATTERN, tokenize } from "./tokenizer.js";
import { countUnigrams, TermTable } from "./unigram-counter.js";

/** Counts per document as sorted [term, count] pairs. */
function viaCounter(docs: string[], lowercase = true): [string, number][][] {
  const table = new TermTable();
  const raw = countUnigrams(docs, { lowercase, stopWords: null }, table, true);
  return docs.map((_, d) => {
    const pairs: [string, number][] = [];
    for (let k = raw.indptr[d] as number; k < (raw.indptr[d + 1] as number); k++) {
      pairs.push([table.terms[raw.ids[k] as number] as string, raw.counts[k] as number]);
    }
    return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  });
}

function viaTokenize(docs: string[], lowercase = true): [string, number][][] {
  return docs.map((doc) => {
    const counts = new Map<string, number>();
    for (const t of tokenize(doc, { lowercase })) counts.set(t, (counts.get(t) ?? 0) + 1);
    return [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  });
}

// Characters that exercise every branch: ASCII, accents, combining marks, CJK, astral letters and
// emoji (surrogate pairs), lone surrogates, superscripts, underscores and separators.
const piece = fc.constantFrom(
  "a",
  "B",
  "z",
  "_",
  "1",
  " ",
  ".",
  "'",
  "é",
  "e\u0301",
  "ß",
  "İ",
  "Σ",
  "日",
  "本",
  "²",
  "\u{1d400}",
  "\u{1d401}",
  "😀",
  "\ud800",
  "\udc00",
  "\u0301",
  "\uff5a",
  "-",
  "\n",
);
const text = fc.array(piece, { maxLength: 30 }).map((p) => p.join(""));

test("countUnigrams counts exactly the tokens of tokenize() (property, random Unicode)", () => {
  fc.assert(
    fc.property(fc.array(text, { minLength: 1, maxLength: 5 }), fc.boolean(), (docs, lowercase) => {
      assert.deepEqual(viaCounter(docs, lowercase), viaTokenize(docs, lowercase));
    }),
    { numRuns: 300 },
  );
});

test("the fast path and the generic analyzer give the same CountVectorizer results", () => {
  fc.assert(
    fc.property(fc.array(text, { minLength: 1, maxLength: 6 }), (docs) => {
      fc.pre(docs.some((d) => tokenize(d).length > 0));
      const stopWords = ["aa", "日本"];
      const fast = new CountVectorizer({ stopWords });
      const generic = new CountVectorizer({ stopWords, tokenPattern: DEFAULT_TOKEN_PATTERN });
      let fastX;
      try {
        fastX = fast.fitTransform(docs);
      } catch (error) {
        assert.throws(() => generic.fitTransform(docs), { message: (error as Error).message });
        return;
      }
      assert.deepEqual(toRows(generic.fitTransform(docs)), toRows(fastX));
      assert.deepEqual(generic.featureNames(), fast.featureNames());
      assert.deepEqual(
        toRows(generic.transform(docs.slice().reverse())),
        toRows(fast.transform(docs.slice().reverse())),
      );
    }),
    { numRuns: 200 },
  );
});

test("TermTable: ids in insertion order, duplicates ignored, growth keeps lookups", () => {
  const words = Array.from({ length: 5000 }, (_, i) => `w${i}`);
  const table = TermTable.from([...words, "w1", "w2"]);
  assert.equal(table.size, 5000);
  for (const [i, w] of words.entries()) assert.equal(table.find(w, 0, w.length, TermTable.hash(w)), i);
  assert.ok(table.find("nope", 0, 4, TermTable.hash("nope")) < 0);
});

test("stop words never reach the vocabulary, even with minDf 0", () => {
  const v = new CountVectorizer({ stopWords: ["the"], minDf: 0 });
  assert.deepEqual(v.fit(["the cat the hat"]).featureNames(), ["cat", "hat"]);
  assert.throws(() => new CountVectorizer({ stopWords: ["the"] }).fit(["the the"]), /empty vocabulary/);
});
