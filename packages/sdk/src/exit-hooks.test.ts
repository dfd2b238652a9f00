import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import { ExitHooks, signalExitCode, type ExitReason, type HookableProcess } from "./exit-hooks.js";

class FakeProcess extends EventEmitter implements HookableProcess {
  readonly pid = 4242;
  exitCode: number | undefined;
  readonly killed: [number, string | undefined][] = [];
  readonly exits: (number | undefined)[] = [];
  kill(pid: number, signal?: string): boolean {
    this.killed.push([pid, signal]);
    return true;
  }
  exit(code?: number): void {
    this.exits.push(code);
  }
}

function hooks(proc: FakeProcess, onExit: (reason: ExitReason) => Promise<void>, shutdownTimeoutMs = 1000) {
  return new ExitHooks({ onExit, process: proc, shutdownTimeoutMs });
}

test("install registers beforeExit and SIGINT/SIGTERM; uninstall removes them", () => {
  const proc = new FakeProcess();
  const h = hooks(proc, () => Promise.resolve());
  h.install();
  h.install(); // idempotent
  assert.equal(proc.listenerCount("beforeExit"), 1);
  assert.equal(proc.listenerCount("SIGINT"), 1);
  assert.equal(proc.listenerCount("SIGTERM"), 1);
  h.uninstall();
  assert.equal(proc.listenerCount("beforeExit") + proc.listenerCount("SIGINT") + proc.listenerCount("SIGTERM"), 0);
});

test("no signal handler is registered where the program has its own", () => {
  const proc = new FakeProcess();
  proc.on("SIGINT", () => undefined);
  const h = hooks(proc, () => Promise.resolve());
  h.install();
  assert.equal(proc.listenerCount("SIGINT"), 1); // only the program's
  assert.equal(proc.listenerCount("SIGTERM"), 1); // ours
});

test("another Slipway instance's handlers do not count as the program's", () => {
  const proc = new FakeProcess();
  hooks(proc, () => Promise.resolve()).install();
  hooks(proc, () => Promise.resolve()).install();
  assert.equal(proc.listenerCount("SIGINT"), 2);
});

test("on SIGTERM: runs are ended, our handler removed, then the signal is re-raised", async () => {
  const proc = new FakeProcess();
  const reasons: ExitReason[] = [];
  const h = hooks(proc, async (reason) => {
    reasons.push(reason);
    await delay(20);
  });
  h.install();
  proc.emit("SIGTERM", "SIGTERM");
  assert.deepEqual(proc.killed, []); // still flushing
  await delay(60);
  assert.deepEqual(reasons, ["SIGTERM"]);
  assert.deepEqual(proc.killed, [[4242, "SIGTERM"]]);
  assert.deepEqual(proc.exits, [signalExitCode("SIGTERM")]);
  assert.equal(signalExitCode("SIGTERM"), 143);
  assert.equal(signalExitCode("SIGINT"), 130);
  assert.equal(proc.listenerCount("SIGTERM") + proc.listenerCount("SIGINT") + proc.listenerCount("beforeExit"), 0);
});

test("if the program added a handler later, ours flushes but leaves the exit to it", async () => {
  const proc = new FakeProcess();
  const reasons: ExitReason[] = [];
  hooks(proc, (reason) => {
    reasons.push(reason);
    return Promise.resolve();
  }).install();
  proc.on("SIGINT", () => undefined);
  proc.emit("SIGINT", "SIGINT");
  await delay(10);
  assert.deepEqual(reasons, ["SIGINT"]);
  assert.deepEqual(proc.killed, []);
  assert.deepEqual(proc.exits, []);
});

test("a second signal while flushing exits at once", () => {
  const proc = new FakeProcess();
  hooks(proc, () => new Promise(() => undefined), 5000).install();
  proc.emit("SIGINT", "SIGINT");
  proc.emit("SIGINT", "SIGINT");
  assert.deepEqual(proc.exits, [130]);
});

test("a flush that hangs is cut off by the shutdown timeout", async () => {
  const proc = new FakeProcess();
  hooks(proc, () => new Promise(() => undefined), 30).install();
  proc.emit("SIGTERM", "SIGTERM");
  await delay(80);
  assert.deepEqual(proc.killed, [[4242, "SIGTERM"]]);
});

test("beforeExit ends the runs once", async () => {
  const proc = new FakeProcess();
  const reasons: ExitReason[] = [];
  const h = hooks(proc, (reason) => {
    reasons.push(reason);
    return Promise.resolve();
  });
  h.install();
  proc.emit("beforeExit", 0);
  proc.emit("beforeExit", 0);
  await delay(5);
  assert.deepEqual(reasons, ["beforeExit"]);
  assert.equal(h.isInstalled, false);
  assert.equal(proc.listenerCount("SIGINT"), 0);
});

test("runs ending during the signal flush (which uninstalls the hooks) still lead to the re-raise", async () => {
  const proc = new FakeProcess();
  const h: ExitHooks = hooks(proc, async () => {
    await delay(5);
    h.uninstall(); // what Slipway does when its last run has ended
  });
  h.install();
  proc.emit("SIGINT", "SIGINT");
  await delay(30);
  assert.deepEqual(proc.killed, [[4242, "SIGINT"]]);
  assert.deepEqual(proc.exits, [130]);
});
