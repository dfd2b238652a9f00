/**
 * `defaults: "evidently"` picks the test Evidently 0.7.21 picks, with its score and verdict, on all 26
 * reference cases (values from Evidently's own stattest code, in scipy-cases.json), and the dataset
 * verdict of the reference data's example.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tableFromColumns } from "../data/table.js";
import { assertClose, scipyCases, type ScipyCase } from "../stats/testing/scipy-cases.js";
import { columnDrift } from "./column-drift.js";
import { datasetDrift } from "./dataset-drift.js";

interface EvidentlyDefault {
  stattest: string;
  score: number;
  threshold: number;
  drift: boolean;
}

function columns(c: ScipyCase): { ref: unknown[]; cur: unknown[]; type: "numeric" | "categorical" } {
  if (c.type === "num") return { ref: c.ref, cur: c.cur, type: "numeric" };
  return { ref: c.ref.map((x) => c.levels[x]), cur: c.cur.map((x) => c.levels[x]), type: "categorical" };
}

describe("Evidently's default tests", () => {
  for (const c of scipyCases().cases) {
    it(`${c.id}: same test, score and verdict as Evidently`, () => {
      const expected = c.expected.evidently_default as EvidentlyDefault;
      const { ref, cur, type } = columns(c);
      const result = columnDrift(c.id, type, ref, cur, { defaults: "evidently" });
      assert.equal(result.test, expected.stattest);
      assert.equal(result.threshold, expected.threshold);
      assertClose(result.score!, expected.score, 1e-9, `${c.id} score`, 1e-300);
      assert.equal(result.drift, expected.drift);
    });
  }

  it("dataset drift of the reference example: share of drifted columns against drift_share", () => {
    const example = scipyCases().dataset_drift_example;
    const cases = new Map(scipyCases().cases.map((c) => [c.id, c]));
    // the example's columns have different lengths: compare each as its own one-column table pair and
    // combine, as the report would for columns of equal length
    let drifted = 0;
    for (const id of example.columns) {
      const { ref, cur } = columns(cases.get(id)!);
      const report = datasetDrift(tableFromColumns({ [id]: ref }), tableFromColumns({ [id]: cur }), {
        defaults: "evidently",
      });
      assert.equal(report.columns[0]!.drift, example.drifted.includes(id), id);
      if (report.columns[0]!.drift === true) drifted++;
    }
    const share = drifted / example.columns.length;
    assertClose(share, example.share, 1e-12, "share");
    assert.equal(share >= example.drift_share, example.dataset_drift);
  });
});
