import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareCodePoints } from "./code-point-order.js";

test("orders like Python's sorted(): by code point, shorter prefix first", () => {
  // Python: sorted(["b", "a", "ab", "", "\uff10", "\U0001f600", "é", "Z"]) ==
  //   ['', 'Z', 'a', 'ab', 'b', 'é', '０', '😀']
  const words = ["b", "a", "ab", "", "\uff10", "\u{1f600}", "é", "Z"];
  assert.deepEqual([...words].sort(compareCodePoints), ["", "Z", "a", "ab", "b", "é", "\uff10", "\u{1f600}"]);
  // JavaScript's default sort puts the astral emoji before U+FF10.
  assert.deepEqual(["\uff10", "\u{1f600}"].sort(), ["\u{1f600}", "\uff10"]);
});

test("agrees with comparing arrays of code points (property)", () => {
  const cmpArrays = (a: string, b: string): number => {
    const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
    const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
    }
    return x.length - y.length;
  };
  fc.assert(
    fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
      assert.equal(Math.sign(compareCodePoints(a, b)), Math.sign(cmpArrays(a, b)));
    }),
  );
});
