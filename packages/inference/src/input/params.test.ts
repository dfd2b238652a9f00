import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InferenceError } from "../errors.js";
import { compileParams } from "./params.js";

describe("compileParams", () => {
  const check = compileParams([
    { name: "threshold", type: "double", default: 0.5, shape: null },
    { name: "top_k", type: "long", default: 3, shape: null },
    { name: "stop", type: "string", default: [], shape: [-1] },
  ]);

  it("fills defaults, keeps given values and drops undeclared ones (as MLflow does)", () => {
    assert.equal(check(undefined), undefined);
    assert.deepEqual(check({ threshold: 0.7, extra: 1 }), { threshold: 0.7, top_k: 3, stop: [] });
    assert.deepEqual(check({ stop: ["a", "b"], top_k: 1 }), { threshold: 0.5, top_k: 1, stop: ["a", "b"] });
  });

  it("names each parameter of the wrong type", () => {
    assert.throws(
      () => check({ threshold: "high", top_k: 1.5, stop: ["a", 2] }),
      (e: unknown) =>
        e instanceof InferenceError &&
        e.status === 400 &&
        /parameter 'threshold' expects double but got a string \('high'\); parameter 'top_k' expects long but got a number with a fraction \(1\.5\); parameter 'stop' expects a list of string but got a list with an integer at \[1\]/.test(
          e.message,
        ),
    );
    assert.throws(() => check([1]), /params must be a JSON object of parameter values, got a list/);
  });

  it("ignores parameters for a model that declares none, but still wants an object", () => {
    const none = compileParams(undefined);
    assert.equal(none({ anything: 1 }), undefined);
    assert.throws(() => none("x"), /must be a JSON object/);
  });
});
