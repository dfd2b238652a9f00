import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { BoundedSender, type SendOutcome } from "./bounded-sender.js";

/** A sender whose sends the test ends by hand. */
function manual(options: { maxBuffer?: number; maxBatch?: number; concurrency?: number; flushIntervalMs?: number }) {
  const sent: number[][] = [];
  const open: { batch: number[]; end: (outcome: Exclude<SendOutcome, "dropped_buffer_full">) => void }[] = [];
  const counted: [SendOutcome, number][] = [];
  const reports: string[] = [];
  const sender = new BoundedSender<number>({
    prefix: "test",
    items: "numbers",
    maxBuffer: options.maxBuffer ?? 100,
    maxBatch: options.maxBatch ?? 10,
    concurrency: options.concurrency ?? 1,
    ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
    send: (batch, signal) =>
      new Promise((resolve) => {
        sent.push(batch);
        open.push({ batch, end: resolve });
        signal.addEventListener("abort", () => resolve("dropped_send_failed"), { once: true });
      }),
    onCount: (outcome, n) => counted.push([outcome, n]),
    onReport: (line) => reports.push(line),
  });
  return { sender, sent, open, counted, reports };
}

describe("BoundedSender", () => {
  it("takes all of an offer or none of it, and counts what the full buffer drops", () => {
    const { sender, counted } = manual({ maxBuffer: 5, flushIntervalMs: 60_000 });
    assert.equal(sender.offer([1, 2, 3]), true);
    assert.equal(sender.offer([4, 5, 6]), false);
    assert.equal(sender.offer([4, 5]), true);
    assert.deepEqual(sender.stats(), {
      sent: 0,
      dropped_buffer_full: 3,
      dropped_send_failed: 0,
      dropped_rejected: 0,
      buffered: 5,
    });
    assert.deepEqual(counted, [["dropped_buffer_full", 3]]);
  });

  it("never sends from offer itself; without an interval, items go on the next turn, at most `concurrency` at once", async () => {
    const { sender, sent, open, counted } = manual({ maxBatch: 2, concurrency: 2 });
    sender.offer([1, 2, 3]);
    sender.offer([4, 5]);
    assert.equal(sent.length, 0, "nothing is sent from the request path");
    await sleep(5);
    assert.deepEqual(sent, [
      [1, 2],
      [3, 4],
    ]);
    open[0]!.end("sent");
    await sleep(5);
    assert.deepEqual(sent[2], [5]);
    open[1]!.end("dropped_rejected");
    open[2]!.end("sent");
    await sleep(5);
    assert.deepEqual(counted, [
      ["sent", 2],
      ["dropped_rejected", 2],
      ["sent", 1],
    ]);
  });

  it("with an interval, sends full batches at once and partial ones at the interval", async () => {
    const { sender, sent, open } = manual({ maxBatch: 3, flushIntervalMs: 40 });
    sender.start();
    sender.offer([1]);
    await sleep(10);
    assert.equal(sent.length, 0, "a partial batch waits for the interval");
    sender.offer([2, 3]);
    await sleep(5);
    assert.deepEqual(sent, [[1, 2, 3]], "a full batch goes at once");
    open[0]!.end("sent");
    sender.offer([4]);
    await sleep(60);
    assert.deepEqual(sent[1], [4]);
    open[1]!.end("sent");
    await sender.close();
  });

  it("a send that throws counts its batch as failed, reported once", async () => {
    const reports: string[] = [];
    const sender = new BoundedSender<number>({
      prefix: "test",
      items: "numbers",
      maxBuffer: 10,
      maxBatch: 1,
      concurrency: 1,
      send: () => Promise.reject(new Error("boom")),
      onReport: (line) => reports.push(line),
    });
    sender.offer([1]);
    sender.offer([2]);
    await sender.close();
    assert.equal(sender.stats().dropped_send_failed, 2);
    assert.deepEqual(reports, [
      'test: sending numbers failed: boom; such numbers are dropped and counted (outcome="dropped_send_failed"), this is reported once',
    ]);
  });

  it("close sends what waits, then at the deadline aborts the sends and drops the rest, counted", async () => {
    const { sender, sent, open, counted, reports } = manual({ maxBatch: 2, flushIntervalMs: 60_000 });
    sender.offer([1, 2, 3, 4, 5]);
    const closing = sender.close(50);
    await sleep(5);
    assert.deepEqual(sent, [[1, 2]], "one send at a time, partial batches included when closing");
    open[0]!.end("sent");
    await closing;
    assert.deepEqual(counted, [
      ["sent", 2],
      ["dropped_send_failed", 2],
      ["dropped_send_failed", 1],
    ]);
    assert.deepEqual(reports, ["test: 1 numbers were still unsent at the close deadline; dropped"]);
    assert.equal(sender.offer([6]), false, "a closed sender takes nothing");
    assert.equal(sender.stats().dropped_send_failed, 4);
  });

  it("refuses settings that are not positive integers", () => {
    const send = () => Promise.resolve("sent" as const);
    const base = { prefix: "t", items: "x", maxBuffer: 1, maxBatch: 1, concurrency: 1, send };
    assert.throws(() => new BoundedSender({ ...base, maxBuffer: 0 }), /maxBuffer must be a positive integer, got 0/);
    assert.throws(() => new BoundedSender({ ...base, concurrency: 1.5 }), /concurrency must be a positive integer/);
    assert.throws(() => new BoundedSender({ ...base, flushIntervalMs: -1 }), /flushIntervalMs must be a positive/);
  });
});
