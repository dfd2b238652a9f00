import { test } from "node:test";
import assert from "node:assert/strict";
import * as features from "./index.js";

test("the index exports the public API", () => {
  for (const name of [
    "tokenize",
    "CountVectorizer",
    "TfidfTransformer",
    "TfidfVectorizer",
    "HashingVectorizer",
    "murmurhash3_32",
    "StandardScaler",
    "OneHotEncoder",
    "SimpleImputer",
    "columnsFromRows",
  ]) {
    assert.ok(name in features, name);
  }
});

test("every transformer restores from its own JSON through the index", () => {
  const docs = ["one two three", "two three four"];
  const restored = [
    features.CountVectorizer.fromJSON(new features.CountVectorizer().fit(docs).toJSON()),
    features.TfidfVectorizer.fromJSON(new features.TfidfVectorizer().fit(docs).toJSON()),
    features.HashingVectorizer.fromJSON(new features.HashingVectorizer().toJSON()),
  ];
  assert.equal(restored.length, 3);
});
