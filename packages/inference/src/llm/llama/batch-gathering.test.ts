import assert from "node:assert/strict";
import { test } from "node:test";
import { gatherBatches, queuedSequences } from "./batch-gathering.js";

const turn = () => new Promise((resolve) => setImmediate(resolve));

test("dispatches once every active sequence has queued", async () => {
  let queued = 1;
  let dispatched = 0;
  gatherBatches({ queued: () => queued, active: () => 3, maxWaitMs: 10_000 })(() => dispatched++);
  await turn();
  await turn();
  assert.equal(dispatched, 0, "two of three sequences still sampling");
  queued = 3;
  await turn();
  await turn();
  assert.equal(dispatched, 1);
});

test("does not wait past maxWaitMs for a sequence that never queues", async () => {
  let dispatched = 0;
  const started = performance.now();
  gatherBatches({ queued: () => 1, active: () => 2, maxWaitMs: 20 })(() => dispatched++);
  while (dispatched === 0) await turn();
  const waited = performance.now() - started;
  assert.ok(waited >= 20 && waited < 1000, `waited ${waited} ms`);
});

test("an empty queue (the batch went out without it) ends the wait at once, still calling dispatch", async () => {
  let polls = 0;
  let dispatched = 0;
  gatherBatches({
    queued: () => {
      polls++;
      return 0;
    },
    active: () => 4,
    maxWaitMs: 10_000,
  })(() => dispatched++);
  for (let i = 0; i < 5; i++) await turn();
  assert.equal(polls, 1, "one look, then no more turns");
  // node-llama-cpp's dispatch is a no-op for a batch already sent, and clears its "scheduled" flag otherwise:
  // a schedule that never calls it leaves every later decode unscheduled
  assert.equal(dispatched, 1);
});

test("an unknown queue count dispatches on the next turn, like node-llama-cpp's default", async () => {
  let dispatched = 0;
  gatherBatches({ queued: () => undefined, active: () => 4, maxWaitMs: 10_000 })(() => dispatched++);
  await turn();
  await turn();
  assert.equal(dispatched, 1);
  assert.equal(queuedSequences({}), undefined);
  assert.equal(queuedSequences({ _queuedDecodeSequenceIds: new Set([1, 2]) }), 2);
});
