/**
 * The batcher against a predictor stand-in whose calls the test releases by hand (the real predictors
 * run in the protocol and ONNX tests): each row's output is its input value doubled, so every request
 * can check it got its own rows back.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InferenceError } from "../errors.js";
import type { ColumnBatch, InputBatch, PredictParams, PredictionBatch } from "../predictors/predictor.js";
import { Batcher, type BatcherOptions } from "./batcher.js";

function batchOf(...values: number[]): ColumnBatch {
  return {
    kind: "columns",
    rows: values.length,
    columns: new Map([["x", { kind: "float64", values: Float64Array.from(values) }]]),
  };
}

function valuesOf(batch: InputBatch): number[] {
  assert.equal(batch.kind, "columns");
  return [...(batch.columns.get("x")!.values as Float64Array)];
}

function outputOf(p: PredictionBatch): number[] {
  return [...(p.outputs.get("y")!.data as Float64Array)];
}

interface Call {
  values: number[];
  params: PredictParams | undefined;
  release(): void;
}

/** A runner whose calls wait until released (or run at once with `auto`); a row of value 13 fails. */
function gatedRunner(auto = false) {
  const calls: Call[] = [];
  const waiting: (() => void)[] = [];
  const run = (batch: InputBatch, params: PredictParams | undefined): Promise<PredictionBatch> => {
    const values = valuesOf(batch);
    return new Promise<PredictionBatch>((resolve, reject) => {
      const release = () => {
        if (values.includes(13)) reject(new Error("unlucky row"));
        else {
          const y = Float64Array.from(values, (v) => v * 2);
          resolve({
            rows: values.length,
            outputs: new Map([["y", { dtype: "float64", shape: [values.length], data: y }]]),
          });
        }
      };
      calls.push({ values, params, release });
      if (auto) setImmediate(release);
      else waiting.push(release);
    });
  };
  const releaseAll = async () => {
    while (waiting.length > 0) {
      waiting.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { run, calls, releaseAll };
}

function batcher(
  run: ReturnType<typeof gatedRunner>["run"],
  options: BatcherOptions = {},
  onBatch?: (rows: number, requests: number) => void,
) {
  return new Batcher("m", run, options, onBatch ? { onBatch } : {});
}

const tick = () => new Promise((r) => setImmediate(r));

describe("Batcher", () => {
  it("runs an idle model's request at once, and merges the requests that arrive meanwhile, in order", async () => {
    const runner = gatedRunner();
    const sizes: [number, number][] = [];
    const b = batcher(runner.run, {}, (rows, requests) => sizes.push([rows, requests]));
    const first = b.submit(batchOf(1));
    assert.equal(runner.calls.length, 1, "the first request runs without waiting");
    const rest = [b.submit(batchOf(2, 3)), b.submit(batchOf(4)), b.submit(batchOf(5, 6, 7))];
    assert.equal(b.depth, 3);
    await runner.releaseAll();
    await tick();
    await runner.releaseAll();
    assert.deepEqual(outputOf(await first), [2]);
    const results = await Promise.all(rest);
    assert.deepEqual(results.map(outputOf), [[4, 6], [8], [10, 12, 14]]);
    assert.deepEqual(
      runner.calls.map((c) => c.values),
      [[1], [2, 3, 4, 5, 6, 7]],
    );
    assert.deepEqual(sizes, [
      [1, 1],
      [6, 3],
    ]);
    assert.equal(b.depth, 0);
  });

  it("never puts more than maxBatchSize rows in a call, but runs a larger request alone", async () => {
    const runner = gatedRunner();
    const b = batcher(runner.run, { maxBatchSize: 3 });
    const all = [b.submit(batchOf(0)), b.submit(batchOf(1)), b.submit(batchOf(2)), b.submit(batchOf(3))];
    all.push(b.submit(batchOf(4, 5)), b.submit(batchOf(6, 7, 8, 9)), b.submit(batchOf(10)));
    for (let i = 0; i < 6; i++) {
      await runner.releaseAll();
      await tick();
    }
    const results = await Promise.all(all);
    assert.deepEqual(results.map(outputOf), [[0], [2], [4], [6], [8, 10], [12, 14, 16, 18], [20]]);
    assert.deepEqual(
      runner.calls.map((c) => c.values),
      [[0], [1, 2, 3], [4, 5], [6, 7, 8, 9], [10]],
    );
  });

  it("waits up to maxWaitMicros for more requests before running", async () => {
    const runner = gatedRunner(true);
    // a window far longer than the 5 ms pause, so a loaded machine cannot close it early
    const b = batcher(runner.run, { maxWaitMicros: 300_000, maxBatchSize: 8 });
    const started = performance.now();
    const a = b.submit(batchOf(1));
    await new Promise((r) => setTimeout(r, 5));
    const c = b.submit(batchOf(2));
    assert.equal(runner.calls.length, 0, "nothing runs before the wait is over");
    const results = await Promise.all([a, c]);
    const waited = performance.now() - started;
    assert.deepEqual(results.map(outputOf), [[2], [4]]);
    assert.deepEqual(
      runner.calls.map((x) => x.values),
      [[1, 2]],
    );
    assert.ok(waited >= 290, `the first request waited ${waited.toFixed(1)} ms, expected about 300`);
  });

  it("runs as soon as maxBatchSize rows are queued, without waiting out the window", async () => {
    const runner = gatedRunner(true);
    const b = batcher(runner.run, { maxWaitMicros: 10_000_000, maxBatchSize: 3 });
    const results = await Promise.all([b.submit(batchOf(1)), b.submit(batchOf(2)), b.submit(batchOf(3))]);
    assert.deepEqual(results.map(outputOf), [[2], [4], [6]]);
    assert.equal(runner.calls.length, 1);
  });

  it("waits less than a millisecond on the next event-loop turn", async () => {
    const runner = gatedRunner(true);
    const b = batcher(runner.run, { maxWaitMicros: 200 });
    const results = await Promise.all([b.submit(batchOf(1)), b.submit(batchOf(2))]);
    assert.deepEqual(results.map(outputOf), [[2], [4]]);
    assert.deepEqual(
      runner.calls.map((x) => x.values),
      [[1, 2]],
    );
  });

  it("answers 503 with Retry-After past the queue's capacity, and takes requests again once there is room", async () => {
    const runner = gatedRunner();
    const b = batcher(runner.run, { queueCapacity: 2, retryAfterSeconds: 3 });
    const running = b.submit(batchOf(1));
    const queued = [b.submit(batchOf(2)), b.submit(batchOf(3))];
    await assert.rejects(b.submit(batchOf(4)), (e: unknown) => {
      assert.ok(e instanceof InferenceError);
      assert.equal(e.status, 503);
      assert.equal(e.code, "TEMPORARILY_UNAVAILABLE");
      assert.equal(e.retryAfterSeconds, 3);
      assert.match(e.message, /Model 'm' is at capacity \(2 requests queued\)/);
      return true;
    });
    await runner.releaseAll();
    await tick();
    const later = b.submit(batchOf(5));
    await runner.releaseAll();
    await tick();
    await runner.releaseAll();
    assert.deepEqual(outputOf(await running), [2]);
    assert.deepEqual((await Promise.all(queued)).map(outputOf), [[4], [6]]);
    assert.deepEqual(outputOf(await later), [10]);
  });

  it("isolates a failing request: the others of its batch still get their predictions", async () => {
    const runner = gatedRunner();
    const b = batcher(runner.run);
    const first = b.submit(batchOf(1));
    const good1 = b.submit(batchOf(2));
    const bad = assert.rejects(b.submit(batchOf(13)), /unlucky row/);
    const good2 = b.submit(batchOf(3, 4));
    for (let i = 0; i < 6; i++) {
      await runner.releaseAll();
      await tick();
    }
    assert.deepEqual(outputOf(await first), [2]);
    assert.deepEqual(outputOf(await good1), [4]);
    await bad;
    assert.deepEqual(outputOf(await good2), [6, 8]);
    assert.deepEqual(
      runner.calls.map((c) => c.values),
      [[1], [2, 13, 3, 4], [2], [13], [3, 4]],
    );
  });

  it("merges only requests with the same parameters, keeping the order", async () => {
    const runner = gatedRunner();
    const b = batcher(runner.run);
    const a = b.submit(batchOf(1));
    const p1 = { threshold: 0.5 };
    const rest = [
      b.submit(batchOf(2), p1, JSON.stringify(p1)),
      b.submit(batchOf(3), p1, JSON.stringify(p1)),
      b.submit(batchOf(4)),
      b.submit(batchOf(5), p1, JSON.stringify(p1)),
    ];
    for (let i = 0; i < 6; i++) {
      await runner.releaseAll();
      await tick();
    }
    await a;
    assert.deepEqual((await Promise.all(rest)).map(outputOf), [[4], [6], [8], [10]]);
    assert.deepEqual(
      runner.calls.map((c) => [c.values, c.params]),
      [
        [[1], undefined],
        [[2, 3], p1],
        [[4], undefined],
        [[5], p1],
      ],
    );
  });

  it("does not merge when merging is off", async () => {
    const runner = gatedRunner();
    const b = batcher(runner.run, { mergeable: false });
    const all = [b.submit(batchOf(1)), b.submit(batchOf(2)), b.submit(batchOf(3))];
    for (let i = 0; i < 6; i++) {
      await runner.releaseAll();
      await tick();
    }
    await Promise.all(all);
    assert.deepEqual(
      runner.calls.map((c) => c.values),
      [[1], [2], [3]],
    );
  });

  it("refuses new requests once closed, and lets queued ones finish before drained() resolves", async () => {
    const runner = gatedRunner();
    const b = batcher(runner.run);
    const running = b.submit(batchOf(1));
    const queued = b.submit(batchOf(2));
    b.close();
    await assert.rejects(b.submit(batchOf(3)), (e: unknown) => e instanceof InferenceError && e.status === 503);
    let drained = false;
    const done = b.drained().then(() => (drained = true));
    await tick();
    assert.equal(drained, false);
    for (let i = 0; i < 4; i++) {
      await runner.releaseAll();
      await tick();
    }
    await done;
    assert.deepEqual(outputOf(await running), [2]);
    assert.deepEqual(outputOf(await queued), [4]);
  });
});
