import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventChannel } from "./event-channel.js";

describe("EventChannel", () => {
  it("delivers pushed values in order, before and after the consumer waits", async () => {
    const channel = new EventChannel<{ n: number }>();
    channel.push({ n: 1 });
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const v of channel) seen.push(v.n);
    })();
    await Promise.resolve();
    channel.push({ n: 2 });
    channel.push({ n: 3 });
    channel.end();
    await consumer;
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it("throws a failure after the values pushed before it", async () => {
    const channel = new EventChannel<{ n: number }>();
    channel.push({ n: 1 });
    channel.fail(new Error("boom"));
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const v of channel) seen.push(v.n);
    }, /boom/);
    assert.deepEqual(seen, [1]);
  });

  it("calls onCancel once when the consumer leaves early, and drops later pushes", async () => {
    let cancels = 0;
    const channel = new EventChannel<{ n: number }>(() => cancels++);
    channel.push({ n: 1 });
    channel.push({ n: 2 });
    for await (const v of channel) {
      assert.equal(v.n, 1);
      break;
    }
    assert.equal(cancels, 1);
    assert.equal(channel.isCancelled, true);
    channel.push({ n: 3 });
    channel.end();
    assert.equal(cancels, 1);
  });

  it("does not cancel when the consumer finishes a completed stream", async () => {
    let cancels = 0;
    const channel = new EventChannel<{ n: number }>(() => cancels++);
    channel.push({ n: 1 });
    channel.end();
    for await (const v of channel) assert.equal(v.n, 1);
    assert.equal(cancels, 0);
  });

  it("allows one consumer only", () => {
    const channel = new EventChannel<{ n: number }>();
    channel[Symbol.asyncIterator]();
    assert.throws(() => channel[Symbol.asyncIterator](), /only one consumer/);
  });
});
