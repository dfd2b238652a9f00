import { test } from "node:test";
import assert from "node:assert/strict";
import { stringifyJson, type Metric, type Param, type RunTag } from "@slipway/protocol";
import { LOG_BATCH_LIMITS, compactBatch, splitIntoBatches } from "./batching.js";

const metric = (i: number): Metric => ({
  key: `m${i % 7}`,
  value: i,
  timestamp: 1000 + i,
  step: i,
});
const param = (i: number): Param => ({ key: `p${i}`, value: String(i) });
const tag = (i: number): RunTag => ({ key: `t${i}`, value: `v${i}` });

function assertWithinLimits(batches: ReturnType<typeof splitIntoBatches>): void {
  for (const b of batches) {
    assert.ok(b.metrics.length <= LOG_BATCH_LIMITS.metrics);
    assert.ok(b.params.length <= LOG_BATCH_LIMITS.params);
    assert.ok(b.tags.length <= LOG_BATCH_LIMITS.tags);
    assert.ok(b.metrics.length + b.params.length + b.tags.length <= LOG_BATCH_LIMITS.entities);
    const body = stringifyJson({ run_id: "0".repeat(32), ...compactBatch(b) });
    assert.ok(Buffer.byteLength(body) <= LOG_BATCH_LIMITS.bytes, `body of ${Buffer.byteLength(body)} bytes`);
  }
}

test("nothing to send gives no batches", () => {
  assert.deepEqual(splitIntoBatches({}), []);
});

test("mixed entities never exceed MLflow's per-kind and total limits, and order is kept", () => {
  const metrics = Array.from({ length: 3210 }, (_, i) => metric(i));
  const params = Array.from({ length: 250 }, (_, i) => param(i));
  const tags = Array.from({ length: 130 }, (_, i) => tag(i));
  const batches = splitIntoBatches({ metrics, params, tags });
  assertWithinLimits(batches);
  assert.deepEqual(
    batches.flatMap((b) => b.metrics),
    metrics,
  );
  assert.deepEqual(
    batches.flatMap((b) => b.params),
    params,
  );
  assert.deepEqual(
    batches.flatMap((b) => b.tags),
    tags,
  );
  // first batch: 100 params + 100 tags + 800 metrics = the 1000-entity cap
  assert.deepEqual([batches[0]!.params.length, batches[0]!.tags.length, batches[0]!.metrics.length], [100, 100, 800]);
  assert.equal(batches.length, 4);
});

test("params alone go in chunks of 100", () => {
  const batches = splitIntoBatches({ params: Array.from({ length: 250 }, (_, i) => param(i)) });
  assert.deepEqual(
    batches.map((b) => b.params.length),
    [100, 100, 50],
  );
});

test("the 1,000,000-byte request budget splits batches of large values", () => {
  const big = "x".repeat(7000);
  const tags = Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: big }));
  const params = Array.from({ length: 100 }, (_, i) => ({
    key: `p${i}`,
    value: big.slice(0, 6000),
  }));
  const batches = splitIntoBatches({ params, tags });
  assert.ok(batches.length >= 2);
  assertWithinLimits(batches);
  assert.deepEqual(
    batches.flatMap((b) => b.tags),
    tags,
  );
});

test("custom limits", () => {
  const batches = splitIntoBatches(
    { metrics: Array.from({ length: 10 }, (_, i) => metric(i)) },
    { ...LOG_BATCH_LIMITS, metrics: 4 },
  );
  assert.deepEqual(
    batches.map((b) => b.metrics.length),
    [4, 4, 2],
  );
});

test("compactBatch drops empty kinds", () => {
  assert.deepEqual(compactBatch({ metrics: [], params: [param(1)], tags: [] }), {
    params: [param(1)],
  });
});
