/** Cache keys: stable under key order, different when code, inputs, parameters or version differ. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { codeDigest, stepCacheKey } from "./cache-key.js";
import { definePipeline } from "./definition.js";
import { canonicalJson, findNonJson } from "./json-value.js";

describe("stepCacheKey", () => {
  const make = (run: () => unknown, cache: boolean | { params?: string[]; version?: string } = true) =>
    definePipeline({ name: "p", params: { a: 1, b: "x" }, steps: { s: { cache, run } } }).steps.s!;
  const fn = () => 1;

  it("depends on code, inputs, the parameters it uses and the version", () => {
    const s = make(fn);
    const key = stepCacheKey({ pipeline: "p", step: s, params: { a: 1, b: "x" }, inputs: { up: { m: 1, n: [1, 2] } } });
    assert.match(key!, /^[0-9a-f]{64}$/);
    // same values, other key order: same key
    assert.equal(
      stepCacheKey({ pipeline: "p", step: s, params: { b: "x", a: 1 }, inputs: { up: { n: [1, 2], m: 1 } } }),
      key,
    );
    assert.notEqual(
      stepCacheKey({ pipeline: "p", step: s, params: { a: 2, b: "x" }, inputs: { up: { m: 1, n: [1, 2] } } }),
      key,
    );
    assert.notEqual(
      stepCacheKey({ pipeline: "p", step: s, params: { a: 1, b: "x" }, inputs: { up: { m: 1, n: [2, 1] } } }),
      key,
    );
    assert.notEqual(
      stepCacheKey({ pipeline: "q", step: s, params: { a: 1, b: "x" }, inputs: { up: { m: 1, n: [1, 2] } } }),
      key,
    );
    const edited = make(() => 2);
    assert.notEqual(
      stepCacheKey({ pipeline: "p", step: edited, params: { a: 1, b: "x" }, inputs: { up: { m: 1, n: [1, 2] } } }),
      key,
    );
    const versioned = make(fn, { version: "2" });
    assert.notEqual(
      stepCacheKey({ pipeline: "p", step: versioned, params: { a: 1, b: "x" }, inputs: { up: { m: 1, n: [1, 2] } } }),
      key,
    );
    assert.notEqual(codeDigest(s), codeDigest(edited));
  });

  it("with cache.params, only those parameters count; without caching there is no key", () => {
    const s = make(fn, { params: ["a"] });
    const k1 = stepCacheKey({ pipeline: "p", step: s, params: { a: 1, b: "x" }, inputs: {} });
    assert.equal(stepCacheKey({ pipeline: "p", step: s, params: { a: 1, b: "y" }, inputs: {} }), k1);
    assert.notEqual(stepCacheKey({ pipeline: "p", step: s, params: { a: 3, b: "x" }, inputs: {} }), k1);
    assert.equal(stepCacheKey({ pipeline: "p", step: make(fn, false), params: {}, inputs: {} }), undefined);
  });
});

describe("JSON values", () => {
  it("canonicalJson sorts keys at every level", () => {
    assert.equal(canonicalJson({ b: [{ d: 1, c: 2 }], a: null }), '{"a":null,"b":[{"c":2,"d":1}]}');
  });

  it("findNonJson names the first value that JSON would change or drop", () => {
    assert.equal(findNonJson({ a: [1, "x", null, { b: true }] }, "outputs"), undefined);
    assert.equal(findNonJson({ a: [1, Number.NaN] }, "outputs"), "outputs.a[1] is NaN (JSON has no such number)");
    assert.equal(findNonJson({ m: new Map() }, "outputs"), "outputs.m is a Map, not a plain object");
    assert.equal(findNonJson({ "a b": new Date(0) }, "outputs"), 'outputs["a b"] is a Date, not a plain object');
    assert.equal(findNonJson({ f: () => 1 }, "outputs"), "outputs.f is a function");
    assert.equal(findNonJson({ u: undefined }, "outputs"), "outputs.u is undefined");
    assert.equal(findNonJson(10n, "outputs"), "outputs is the bigint 10n");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(findNonJson(cyclic, "outputs"), "outputs.self refers back to itself (a cycle)");
    const shared = { x: 1 };
    assert.equal(findNonJson({ a: shared, b: shared }, "outputs"), undefined, "a shared value is not a cycle");
  });
});
