import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MlError } from "../core/errors.js";
import { DEFAULT_TOKEN_PATTERN, tokenize, WORD_CHAR_CLASS } from "./tokenizer.js";

// Expected values below were computed with CPython 3.11's `re.findall(r"(?u)\b\w\w+\b", text.lower())`,
// which is what scikit-learn's default analyzer does before n-grams and stop words.

test("ASCII words, punctuation and single characters", () => {
  assert.deepEqual(tokenize("Hello, World! a b2"), ["hello", "world", "b2"]);
  assert.deepEqual(tokenize("This is the first document."), ["this", "is", "the", "first", "document"]);
  assert.deepEqual(tokenize(""), []);
  assert.deepEqual(tokenize("a b c . ! ?"), []);
});

test("apostrophes split words and the one-letter rest is dropped", () => {
  assert.deepEqual(tokenize("don't it's"), ["don", "it"]);
});

test("underscores and digits are word characters", () => {
  assert.deepEqual(tokenize("foo_bar __ _ 42 7 3.14"), ["foo_bar", "__", "42", "14"]);
});

test("precomposed accents stay in the word, combining marks split it", () => {
  assert.deepEqual(tokenize("café"), ["café"]);
  // "cafe" + U+0301 COMBINING ACUTE ACCENT: the mark (Mn) is not a word character in Python's re.
  assert.deepEqual(tokenize("cafe\u0301"), ["cafe"]);
  assert.deepEqual(tokenize("e\u0301t\u00e9"), ["té"]);
});

test("CJK, Arabic-Indic digits and letter-like numbers", () => {
  assert.deepEqual(tokenize("日本語 テスト"), ["日本語", "テスト"]);
  assert.deepEqual(tokenize("١٢٣ ٣"), ["١٢٣"]);
  // Roman numerals (Nl) are word characters and are lowercased.
  assert.deepEqual(tokenize("ⅫⅣ ab"), ["ⅻⅳ", "ab"]);
});

test("superscript digits (No) are word characters", () => {
  assert.deepEqual(tokenize("x² ab² ²"), ["x²", "ab²"]);
});

test("emoji are separators and astral letters count as one character", () => {
  assert.deepEqual(tokenize("😀ab😀 a😀b"), ["ab"]);
  // U+1D400 MATHEMATICAL BOLD CAPITAL A is one code point (Lu): alone it is a single character.
  assert.deepEqual(tokenize("\u{1D400} \u{1D400}\u{1D401}"), ["\u{1D400}\u{1D401}"]);
});

test("lowercasing follows Python str.lower (final sigma, dotted capital I)", () => {
  assert.deepEqual(tokenize("ΟΔΟΣ"), ["οδος"]);
  // "İ".lower() is "i" + U+0307 (a combining mark), so the "i" stands alone and is dropped.
  assert.deepEqual(tokenize("İstanbul"), ["stanbul"]);
});

test("lowercase: false keeps the case", () => {
  assert.deepEqual(tokenize("Hello World", { lowercase: false }), ["Hello", "World"]);
});

test("custom token patterns: whole match, one group, g flag added, two groups rejected", () => {
  assert.deepEqual(tokenize("a bb ccc", { tokenPattern: /\S+/ }), ["a", "bb", "ccc"]);
  assert.deepEqual(tokenize("k=v x=y", { tokenPattern: /(\w)=\w/g }), ["k", "x"]);
  assert.throws(() => tokenize("k=v", { tokenPattern: /(\w)=(\w)/ }), MlError);
});

test("the default pattern is global and reusable", () => {
  assert.ok(DEFAULT_TOKEN_PATTERN.global);
  assert.deepEqual(tokenize("one two"), ["one", "two"]);
  assert.deepEqual(tokenize("one two"), ["one", "two"]);
});

test("property: the default pattern equals the literal translation of \\b\\w\\w+\\b with lookarounds", () => {
  const w = WORD_CHAR_CLASS;
  const literal = new RegExp(`(?<!${w})${w}${w}+(?!${w})`, "gu");
  const piece = fc.constantFrom(
    "a",
    "Z",
    "_",
    "7",
    " ",
    "-",
    "é",
    "\u0301",
    "日",
    "²",
    "\u{1d400}",
    "😀",
    "\ud800",
    "'",
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
      const text = pieces.join("");
      assert.deepEqual(tokenize(text), text.toLowerCase().match(literal) ?? []);
    }),
    { numRuns: 500 },
  );
});
