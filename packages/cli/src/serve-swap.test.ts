/**
 * End to end: hot swap. `slipway serve models:/spam@champion` follows the alias through the registry's
 * event stream: moving it swaps the new version in while clients keep sending requests (none may fail),
 * and a version that cannot load is never swapped in (the old one keeps serving, the failure is reported).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Slipway, TrackingClient, setAlias, type ActiveRun } from "@slipway/sdk";
import { registerSpamVersions } from "./testing/spam-versions.js";
import { BIN, startServerProcess, type ServerProcess } from "./testing/harness.js";

let tracking: ServerProcess;
let client: TrackingClient;
let run: ActiveRun;
let serve: ChildProcess;
let url: string;
let stdout = "";

interface Answer {
  status: number;
  version?: string;
  label?: string;
}

async function infer(): Promise<Answer> {
  const response = await fetch(`${url}/v2/models/spam/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: [{ name: "text", shape: [1], datatype: "BYTES", data: ["free prize"] }] }),
  });
  const body = (await response.json()) as { model_version?: string; outputs?: { name: string; data: string[] }[] };
  return {
    status: response.status,
    ...(body.model_version === undefined ? {} : { version: body.model_version }),
    ...(body.outputs ? { label: body.outputs.find((o) => o.name === "label")?.data[0] } : {}),
  };
}

/** Sends requests from 4 concurrent clients until `until` resolves; returns every answer in order. */
async function underLoad(until: () => Promise<void>): Promise<Answer[]> {
  const answers: Answer[] = [];
  let done = false;
  const clients = Array.from({ length: 4 }, async () => {
    while (!done) answers.push(await infer().catch(() => ({ status: 0 })));
  });
  await until();
  done = true;
  await Promise.all(clients);
  return answers;
}

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; serve said:\n${stdout}`);
    await sleep(50);
  }
}

before(async () => {
  tracking = await startServerProcess("slipway-swap-");
  client = new TrackingClient({ trackingUri: tracking.url, maxRetries: 0 });
  run = await new Slipway({ client, handleProcessExit: false }).startRun({
    experiment: "swap",
    captureEnvironment: false,
  });
  await registerSpamVersions(client, run, tracking.dir);

  serve = spawn(
    process.execPath,
    [BIN, "serve", "models:/spam@champion", "--port", "0", "--tracking-uri", tracking.url],
    {
      env: { ...process.env, SLIPWAY_MODEL_CACHE: join(tracking.dir, "cache") },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  url = await new Promise<string>((resolve, reject) => {
    serve.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    serve.once("exit", (code) => reject(new Error(`slipway serve exited with ${code}: ${stdout}`)));
  });
});

after(async () => {
  await run.end().catch(() => undefined);
  if (serve && serve.exitCode === null && serve.signalCode === null) {
    serve.kill("SIGTERM");
    await new Promise((r) => serve.once("exit", r));
  }
  await tracking.stop();
});

test("moving the alias swaps the new version in under load, with no failed request", async () => {
  assert.match(stdout, /following spam ← models:\/spam@champion/);
  assert.deepEqual(await infer(), { status: 200, version: "1", label: "spam" });
  const answers = await underLoad(async () => {
    await sleep(200);
    await setAlias(client, "spam", "champion", 2);
    await waitFor(async () => (await infer()).version === "2", "version 2");
    await sleep(200);
  });
  const failed = answers.filter((a) => a.status !== 200);
  assert.equal(failed.length, 0, `${failed.length} of ${answers.length} requests failed during the swap`);
  const versions = answers.map((a) => a.version);
  assert.ok(versions.includes("1") && versions.includes("2"), "traffic was served by both versions");
  // once version 2 answers, version 1 never answers again
  assert.ok(!versions.slice(versions.indexOf("2")).includes("1"));
  assert.deepEqual(await infer(), { status: 200, version: "2", label: "ham" });
  assert.match(stdout, /'spam': now serving version 2 \(was 1\)/);
});

test("a version that cannot load is never swapped in; the failure is reported and counted", async () => {
  const answers = await underLoad(async () => {
    await setAlias(client, "spam", "champion", 3);
    await waitFor(() => /version 3 failed to load, still serving version 2/.test(stdout), "the failure report");
  });
  assert.ok(answers.every((a) => a.status === 200 && a.version === "2"));
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /slipway_inference_model_swaps_total\{model="spam",result="failed"\} 1/);
  assert.match(metrics, /slipway_inference_model_swaps_total\{model="spam",result="swapped"\} 1/);
  // it keeps following: back to version 1
  await setAlias(client, "spam", "champion", 1);
  await waitFor(async () => (await infer()).version === "1", "version 1 again");
});
