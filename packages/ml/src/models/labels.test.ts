import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MlError } from "../core/errors.js";
import { checkLabels, compareLabels, encodeLabels, uniqueLabels } from "./labels.js";

describe("labels", () => {
  it("sorts numbers ascending and strings by code point, as numpy.unique", () => {
    assert.deepEqual(uniqueLabels([3, -1, 2.5, 3, -1]), [-1, 2.5, 3]);
    assert.deepEqual(uniqueLabels(["b", "B", "a", "ä", "b"]), ["B", "a", "b", "ä"]);
    // U+FF5E (BMP, above the surrogates) sorts before U+1F600 by code point, after it by UTF-16 unit
    assert.deepEqual(uniqueLabels(["\u{1F600}", "\uFF5E"]), ["\uFF5E", "\u{1F600}"]);
    assert.deepEqual(uniqueLabels(["ab", "a", ""]), ["", "a", "ab"]);
  });

  it("orders any strings as comparing their code point arrays (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
        const pa = [...a].map((c) => c.codePointAt(0) as number);
        const pb = [...b].map((c) => c.codePointAt(0) as number);
        let expected = 0;
        for (let i = 0; i < Math.min(pa.length, pb.length) && expected === 0; i++) {
          expected = Math.sign((pa[i] as number) - (pb[i] as number));
        }
        if (expected === 0) expected = Math.sign(pa.length - pb.length);
        assert.equal(Math.sign(compareLabels(a, b)), expected);
      }),
      { numRuns: 300, seed: 9 },
    );
  });

  it("rejects mixed kinds and non-finite numbers", () => {
    assert.throws(
      () => checkLabels([1, "1"]),
      (e: unknown) => e instanceof MlError && /mixes numbers and strings/.test(e.message),
    );
    assert.throws(
      () => checkLabels([1, Number.NaN]),
      (e: unknown) => e instanceof MlError && /NaN at index 1/.test(e.message),
    );
    assert.throws(
      () => uniqueLabels([1], ["a"]),
      (e: unknown) => e instanceof MlError && /mix numbers and strings/.test(e.message),
    );
    assert.equal(checkLabels([]), "empty");
  });

  it("encodes labels as class indices and names an unknown label", () => {
    assert.deepEqual(Array.from(encodeLabels(["b", "a", "b"], ["a", "b"])), [1, 0, 1]);
    assert.throws(
      () => encodeLabels(["c"], ["a", "b"]),
      (e: unknown) => e instanceof MlError && /y\[0\] = "c" is not one of the classes/.test(e.message),
    );
  });
});
