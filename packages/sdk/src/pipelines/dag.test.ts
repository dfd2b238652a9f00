/** The step graph: order, unknown steps and cycles, with messages that name the steps. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { topologicalOrder } from "./dag.js";
import { PipelineDefinitionError } from "./errors.js";

const graph = (edges: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(edges).map(([k, needs]) => [k, { needs }]));

describe("topologicalOrder", () => {
  it("puts each step after what it needs, ties in declaration order", () => {
    assert.deepEqual(topologicalOrder("p", graph({ a: [], b: [], c: ["a"], d: ["c", "b"] })), ["a", "b", "c", "d"]);
    assert.deepEqual(topologicalOrder("p", graph({ report: ["train", "eval"], eval: ["train"], train: [] })), [
      "train",
      "eval",
      "report",
    ]);
  });

  it("refuses a dependency that is not a step, naming both", () => {
    assert.throws(
      () => topologicalOrder("retrain", graph({ prepare: [], train: ["prep"] })),
      (error: Error) =>
        error instanceof PipelineDefinitionError &&
        error.message ===
          "pipeline 'retrain': step 'train' needs 'prep', which is not a step of this pipeline (its steps: prepare, train)",
    );
    assert.throws(() => topologicalOrder("p", graph({ a: ["a", "a"] })), /step 'a' lists 'a' twice in needs/);
  });

  it("refuses cycles, naming the steps in the order the work would flow", () => {
    assert.throws(
      () => topologicalOrder("p", graph({ start: [], a: ["start", "c"], b: ["a"], c: ["b"], end: ["c"] })),
      (error: Error) => {
        assert.match(error.message, /^pipeline 'p': steps form a cycle: /);
        const cycle = error.message.split(": ").pop()!.split(" → ");
        assert.equal(cycle.length, 4);
        assert.equal(cycle[0], cycle[3]);
        assert.deepEqual(new Set(cycle), new Set(["a", "b", "c"]));
        // each step is followed by one that needs it
        const needs: Record<string, string[]> = { a: ["c"], b: ["a"], c: ["b"] };
        for (let i = 0; i < 3; i++) assert.ok(needs[cycle[i + 1]!]!.includes(cycle[i]!), error.message);
        return true;
      },
    );
    assert.throws(() => topologicalOrder("p", graph({ a: ["a"] })), /steps form a cycle: a → a$/);
  });
});
