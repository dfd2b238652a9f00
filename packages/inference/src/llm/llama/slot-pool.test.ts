import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SlotPool, SlotPoolClosedError } from "./slot-pool.js";

const never = new AbortController().signal;

describe("SlotPool", () => {
  it("hands out free slots at once, then queues in FIFO order", async () => {
    const pool = new SlotPool(["a", "b"], 2);
    const first = await pool.acquire(never);
    const second = await pool.acquire(never);
    assert.deepEqual([first, second].sort(), ["a", "b"]);
    const order: string[] = [];
    const third = pool.acquire(never).then((s) => order.push(`third:${s}`));
    const fourth = pool.acquire(never).then((s) => order.push(`fourth:${s}`));
    assert.equal(pool.waiting, 2);
    pool.release(first);
    pool.release(second);
    await Promise.all([third, fourth]);
    assert.deepEqual(order, [`third:${first}`, `fourth:${second}`]);
    assert.deepEqual([pool.running, pool.free, pool.waiting], [2, 0, 0]);
  });

  it("admits a request only when all its jobs fit: free slots plus queue capacity", async () => {
    const pool = new SlotPool(["a", "b"], 1);
    assert.equal(pool.canAdmit(3), true);
    assert.equal(pool.canAdmit(4), false);
    await pool.acquire(never);
    await pool.acquire(never);
    assert.equal(pool.canAdmit(1), true);
    assert.equal(pool.canAdmit(2), false);
    void pool.acquire(never);
    assert.equal(pool.canAdmit(1), false);
  });

  it("prefers the free slot with the best score", async () => {
    const pool = new SlotPool(["short", "longest", "mid"], 0);
    assert.equal(await pool.acquire(never, (s) => s.length), "longest");
  });

  it("drops a waiting job whose signal aborts", async () => {
    const pool = new SlotPool(["a"], 4);
    const held = await pool.acquire(never);
    const abort = new AbortController();
    const waiting = pool.acquire(abort.signal);
    assert.equal(pool.waiting, 1);
    abort.abort(new Error("client left"));
    await assert.rejects(waiting, /client left/);
    assert.equal(pool.waiting, 0);
    pool.release(held);
    assert.equal(pool.free, 1);
  });

  it("fails waiting jobs and refuses new ones once closed", async () => {
    const pool = new SlotPool(["a"], 4);
    await pool.acquire(never);
    const waiting = pool.acquire(never);
    pool.close();
    await assert.rejects(waiting, SlotPoolClosedError);
    await assert.rejects(pool.acquire(never), SlotPoolClosedError);
    assert.equal(pool.canAdmit(1), false);
  });
});
