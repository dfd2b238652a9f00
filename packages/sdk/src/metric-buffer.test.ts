import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import type { Metric } from "@slipway/protocol";
import { MetricBuffer, MetricFlushError } from "./metric-buffer.js";

const metric = (i: number): Metric => ({ key: "loss", value: i, timestamp: 1000 + i, step: i });

function recorder(options: { failOn?: (call: number) => boolean; latencyMs?: () => number } = {}) {
  const batches: Metric[][] = [];
  let calls = 0;
  const send = async (metrics: Metric[]) => {
    const call = ++calls;
    await delay(options.latencyMs?.() ?? 0);
    if (options.failOn?.(call)) throw new Error(`batch ${call} refused`);
    batches.push(metrics);
  };
  return { batches, send, calls: () => calls };
}

test("size trigger: the call that fills the buffer sends it and waits for it", async () => {
  const r = recorder();
  const buffer = new MetricBuffer(r.send, { flushSize: 3, flushIntervalMs: 60_000 });
  await buffer.add(metric(0));
  await buffer.add(metric(1));
  assert.equal(r.calls(), 0);
  await buffer.add(metric(2));
  assert.deepEqual(r.batches, [[metric(0), metric(1), metric(2)]]);
  assert.equal(buffer.pending, 0);
});

test("time trigger: sent flushIntervalMs after the first unflushed metric", async () => {
  const r = recorder();
  const buffer = new MetricBuffer(r.send, { flushSize: 1000, flushIntervalMs: 80 });
  await buffer.add(metric(0));
  await delay(30);
  await buffer.add(metric(1));
  assert.equal(r.calls(), 0);
  await delay(120);
  assert.deepEqual(r.batches, [[metric(0), metric(1)]]);
  await buffer.add(metric(2));
  await delay(120);
  assert.deepEqual(r.batches, [[metric(0), metric(1)], [metric(2)]]);
});

test("explicit flush sends what is buffered and waits for batches in flight", async () => {
  const r = recorder({ latencyMs: () => 20 });
  const buffer = new MetricBuffer(r.send, { flushSize: 2, flushIntervalMs: 60_000 });
  void buffer.add(metric(0), metric(1)); // in flight
  await buffer.add(metric(2));
  assert.equal(buffer.pending, 3);
  await buffer.flush();
  assert.equal(buffer.pending, 0);
  assert.deepEqual(r.batches.flat(), [metric(0), metric(1), metric(2)]);
  await buffer.flush(); // nothing left: no empty batch
  assert.equal(r.calls(), 2);
});

test("order is kept across many batches with uneven latencies", async () => {
  const r = recorder({ latencyMs: () => Math.floor(Math.random() * 10) });
  const buffer = new MetricBuffer(r.send, { flushSize: 7, flushIntervalMs: 5 });
  const all = Array.from({ length: 500 }, (_, i) => metric(i));
  for (const m of all) {
    void buffer.add(m); // not awaited: buffering itself is synchronous
    if (m.step! % 50 === 0) await delay(3);
  }
  await buffer.flush();
  assert.deepEqual(r.batches.flat(), all);
  assert.ok(r.batches.every((b) => b.length <= 7));
});

test("a batch never exceeds 1000 metrics, even with a larger flushSize", async () => {
  const r = recorder();
  const buffer = new MetricBuffer(r.send, { flushSize: 5000, flushIntervalMs: 60_000 });
  await buffer.add(...Array.from({ length: 2500 }, (_, i) => metric(i)));
  await buffer.flush();
  assert.deepEqual(
    r.batches.map((b) => b.length),
    [1000, 1000, 500],
  );
});

test("a failed background flush is thrown by the next call, with the metrics it lost", async () => {
  const r = recorder({ failOn: (call) => call === 1 });
  const buffer = new MetricBuffer(r.send, { flushSize: 1000, flushIntervalMs: 10 });
  await buffer.add(metric(0), metric(1));
  await delay(50);
  await assert.rejects(buffer.add(metric(2)), (e: unknown) => {
    assert.ok(e instanceof MetricFlushError);
    assert.deepEqual(e.metrics, [metric(0), metric(1)]);
    assert.match(e.message, /2 metric\(s\) were not logged: batch 1 refused/);
    assert.ok(e.cause instanceof Error);
    return true;
  });
  // the failing call did not buffer its metric; later calls work again
  assert.equal(buffer.size, 0);
  await buffer.add(metric(3));
  await buffer.flush();
  assert.deepEqual(r.batches, [[metric(3)]]);
});

test("a failed size-triggered flush rejects the call that triggered it; later batches still go out in order", async () => {
  const r = recorder({ failOn: (call) => call === 2 });
  const buffer = new MetricBuffer(r.send, { flushSize: 2, flushIntervalMs: 60_000 });
  const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => buffer.add(metric(i))));
  const rejected = results.filter((x): x is PromiseRejectedResult => x.status === "rejected");
  assert.equal(rejected.length, 1);
  const reason: unknown = rejected[0]!.reason;
  assert.ok(reason instanceof MetricFlushError);
  assert.deepEqual(
    reason.metrics.map((m) => m.step),
    [2, 3],
  );
  assert.deepEqual(
    r.batches.flat().map((m) => m.step),
    [0, 1, 4, 5],
  );
  await buffer.flush(); // surfaced once, not twice
});

test("a failed flush is thrown by flush() when no other call has seen it", async () => {
  const r = recorder({ failOn: () => true });
  const buffer = new MetricBuffer(r.send, { flushSize: 1000, flushIntervalMs: 60_000 });
  await buffer.add(metric(0));
  await assert.rejects(buffer.flush(), (e: unknown) => e instanceof MetricFlushError && e.metrics.length === 1);
  await buffer.flush();
});

test("the size-triggered call itself rejects when its flush fails", async () => {
  const r = recorder({ failOn: () => true });
  const buffer = new MetricBuffer(r.send, { flushSize: 2, flushIntervalMs: 60_000 });
  await buffer.add(metric(0));
  await assert.rejects(buffer.add(metric(1)), MetricFlushError);
  await buffer.flush();
});

test("two background failures before anyone looks are merged, keeping every lost metric", async () => {
  const r = recorder({ failOn: () => true, latencyMs: () => 30 });
  const buffer = new MetricBuffer(r.send, { flushSize: 1000, flushIntervalMs: 10 });
  await buffer.add(metric(0));
  await delay(20); // first batch in flight, not failed yet
  await buffer.add(metric(1));
  await delay(100);
  await assert.rejects(buffer.flush(), (e: unknown) => {
    assert.ok(e instanceof MetricFlushError);
    assert.deepEqual(e.metrics, [metric(0), metric(1)]);
    assert.match(e.message, /^2 metric/);
    return true;
  });
});
