/**
 * Process-exit behaviour, in real child processes: buffered metrics are flushed when a script
 * simply ends (beforeExit), and on SIGTERM/SIGINT the run is marked KILLED before the signal is
 * re-raised. Also: the flush timer never keeps a process alive.
 */
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metric } from "@slipway/protocol";
import { Slipway, createSlipway } from "./slipway.js";
import { FakeMlflow } from "./testing/fake-mlflow.js";

const server = new FakeMlflow();
let scratch: string;
let script: string;
const fromSource = import.meta.url.endsWith(".ts");
const entry = new URL(fromSource ? "./index.ts" : "./index.js", import.meta.url).href;
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

before(async () => {
  await server.start();
  scratch = await mkdtemp(join(tmpdir(), "slipway-exit-"));
  script = join(scratch, "train.mjs");
  await writeFile(
    script,
    `
import { Slipway } from ${JSON.stringify(entry)};
const [mode] = process.argv.slice(2);
if (mode === "user-handler") process.on("SIGTERM", () => { console.log("user handler"); process.exit(0); });
const slipway = new Slipway({ trackingUri: process.env.TEST_TRACKING_URI, maxRetries: 0, flushIntervalMs: 60000 });
const run = await slipway.startRun({ captureEnvironment: false, runName: mode });
for (let i = 0; i < 5; i++) await run.logMetric("loss", 1 / (i + 1), { step: i });
console.log("ready", run.id);
if (mode === "exit-code") process.exitCode = 3;
if (mode === "sigterm" || mode === "sigint" || mode === "user-handler") {
  setInterval(() => {}, 1000); // a busy program
  process.kill(process.pid, mode === "sigint" ? "SIGINT" : "SIGTERM");
}
`,
  );
});
after(async () => {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});
beforeEach(() => {
  server.requests.length = 0;
});

function runChild(mode: string): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(fromSource ? ["--import", "tsx"] : []), script, mode], {
      cwd: repoRoot,
      env: { ...process.env, TEST_TRACKING_URI: server.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function finalStatus(): string | undefined {
  return (server.calls("runs/update").at(-1)?.json as { status?: string } | undefined)?.status;
}

function loggedSteps(): number[] {
  return server
    .calls("runs/log-batch")
    .flatMap((r) => (r.json as { metrics?: Metric[] }).metrics ?? [])
    .map((m) => m.step ?? 0);
}

test("a script that just ends: buffered metrics are flushed and the run ends FINISHED (timer is unref'd)", async () => {
  const result = await runChild("natural");
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^ready /);
  assert.deepEqual(loggedSteps(), [0, 1, 2, 3, 4]);
  assert.equal(finalStatus(), "FINISHED");
  // the 60 s flush interval did not hold the process open
  assert.ok(result.ms < 15_000, `took ${result.ms} ms`);
});

test("a non-zero process.exitCode at the natural end marks the run FAILED", async () => {
  const result = await runChild("exit-code");
  assert.equal(result.code, 3, result.stderr);
  assert.deepEqual(loggedSteps(), [0, 1, 2, 3, 4]);
  assert.equal(finalStatus(), "FAILED");
});

for (const [mode, signal] of [
  ["sigterm", "SIGTERM"],
  ["sigint", "SIGINT"],
] as const) {
  test(`${signal}: metrics flushed, run KILLED, then the process dies of ${signal}`, async () => {
    const result = await runChild(mode);
    assert.ok(
      result.signal === signal || result.code === (signal === "SIGINT" ? 130 : 143),
      `exit code ${result.code}, signal ${result.signal}, stderr ${result.stderr}`,
    );
    assert.deepEqual(loggedSteps(), [0, 1, 2, 3, 4]);
    assert.equal(finalStatus(), "KILLED");
  });
}

test("a program with its own SIGTERM handler keeps it: the SDK registers none", async () => {
  const result = await runChild("user-handler");
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /user handler/);
  assert.equal(finalStatus(), undefined);
});

test("handleProcessExit: false registers nothing; createSlipway is a factory", async () => {
  const before = process.listenerCount("SIGTERM") + process.listenerCount("beforeExit");
  const s = createSlipway({ trackingUri: server.url, handleProcessExit: false });
  assert.ok(s instanceof Slipway);
  const run = await s.startRun({ captureEnvironment: false });
  assert.equal(process.listenerCount("SIGTERM") + process.listenerCount("beforeExit"), before);
  await run.end();
});

test("listeners are registered while runs are open and removed when the last one ends", async () => {
  const before = process.listenerCount("beforeExit");
  const s = new Slipway({ trackingUri: server.url });
  const a = await s.startRun({ captureEnvironment: false });
  const b = await s.startRun({ captureEnvironment: false });
  assert.equal(process.listenerCount("beforeExit"), before + 1);
  await a.end();
  assert.equal(process.listenerCount("beforeExit"), before + 1);
  await b.end();
  assert.equal(process.listenerCount("beforeExit"), before);
});
