import assert from "node:assert/strict";
import { it } from "node:test";
import { numberToJson, parseJson, stringifyJson } from "./json.js";

it("parses NaN, Infinity and -Infinity tokens outside strings only", () => {
  const v = parseJson('{"a": NaN, "b": [Infinity, -Infinity, 1], "s": "NaN and Infinity", "e": "x\\"NaN"}') as Record<
    string,
    unknown
  >;
  assert.ok(Number.isNaN(v.a));
  assert.deepEqual(v.b, [Infinity, -Infinity, 1]);
  assert.equal(v.s, "NaN and Infinity");
  assert.equal(v.e, 'x"NaN');
  assert.deepEqual(parseJson('{"plain": 1}'), { plain: 1 });
  assert.throws(() => parseJson("{broken"));
  assert.throws(() => parseJson("{NaN: 1}"));
});

it("writes non-finite numbers as Python's json module does, and round-trips", () => {
  const text = stringifyJson({ v: [NaN, Infinity, -Infinity, 0.5], s: "null", n: null });
  assert.equal(text, '{"v":[NaN,Infinity,-Infinity,0.5],"s":"null","n":null}');
  const back = parseJson(text) as { v: number[] };
  assert.ok(Number.isNaN(back.v[0]));
  assert.equal(back.v[1], Infinity);
  assert.equal(stringifyJson({ a: 1, b: "x" }), '{"a":1,"b":"x"}');
  assert.equal(numberToJson(NaN), "NaN");
  assert.equal(numberToJson(-Infinity), "-Infinity");
  assert.equal(numberToJson(1.5), "1.5");
});
