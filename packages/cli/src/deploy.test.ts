/**
 * End to end: `slipway deploy` and `slipway serve --deployment` in child processes against a real `slipway server`,
 * with 4 clients sending requests all along (each with its own `x-request-id`). A canary is stepped up and promoted
 * (the alias history has the reason) with no failed request; a canary version that cannot load is never routed to
 * and is rolled back by itself, with no failed request; shadow traffic is compared and never changes an answer; bad
 * definitions are refused with precise messages. Prints the figures the issue asks for (failed requests during the
 * canary and the swap, time from create to promotion).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Deployment, DeploymentEvent } from "@slipway/protocol";
import { Slipway, TrackingClient, aliasHistory, setAlias, type ActiveRun } from "@slipway/sdk";
import { registerSpamVersions } from "./testing/spam-versions.js";
import { BIN, runSlipway, startServerProcess, type Result, type ServerProcess } from "./testing/harness.js";

let tracking: ServerProcess;
let client: TrackingClient;
let run: ActiveRun;
let serve: ChildProcess;
let url: string;
let stdout = "";

function slipway(args: string[]): Promise<Result> {
  return runSlipway(args, { SLIPWAY_TRACKING_URI: tracking.url });
}

async function ok(args: string[]): Promise<string> {
  const r = await slipway(args);
  assert.equal(r.code, 0, `slipway ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function deployment(): Promise<Deployment> {
  return (JSON.parse(await ok(["deploy", "get", "spam", "--json"])) as { deployment: Deployment }).deployment;
}

async function events(): Promise<DeploymentEvent[]> {
  return (JSON.parse(await ok(["deploy", "events", "spam", "--json"])) as { events: DeploymentEvent[] }).events;
}

interface Answer {
  status: number;
  version?: string;
  label?: string;
  at: number;
}

let seq = 0;
async function infer(): Promise<Answer> {
  const response = await fetch(`${url}/v2/models/spam/infer`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": `req-${process.pid}-${++seq}` },
    body: JSON.stringify({ inputs: [{ name: "text", shape: [1], datatype: "BYTES", data: ["free prize"] }] }),
  });
  const body = (await response.json()) as { model_version?: string; outputs?: { name: string; data: string[] }[] };
  return {
    status: response.status,
    at: Date.now(),
    ...(body.model_version === undefined ? {} : { version: body.model_version }),
    ...(body.outputs ? { label: body.outputs.find((o) => o.name === "label")?.data[0] } : {}),
  };
}

/** Sends requests from 4 concurrent clients until `until` resolves; returns every answer in order. */
async function underLoad(until: () => Promise<void>): Promise<Answer[]> {
  const answers: Answer[] = [];
  let done = false;
  const clients = Array.from({ length: 4 }, async () => {
    while (!done) answers.push(await infer().catch(() => ({ status: 0, at: Date.now() })));
  });
  try {
    await until();
  } finally {
    done = true;
    await Promise.all(clients);
  }
  return answers;
}

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; serve said:\n${stdout}`);
    await sleep(100);
  }
}

function failures(answers: readonly Answer[]): number {
  return answers.filter((a) => a.status !== 200).length;
}

before(async () => {
  tracking = await startServerProcess("slipway-deploy-");
  client = new TrackingClient({ trackingUri: tracking.url, maxRetries: 0 });
  run = await new Slipway({ client, handleProcessExit: false }).startRun({
    experiment: "deploy",
    captureEnvironment: false,
  });
  await registerSpamVersions(client, run, tracking.dir);
  await setAlias(client, "spam", "challenger", 2);
});

after(async () => {
  await run.end().catch(() => undefined);
  if (serve && serve.exitCode === null && serve.signalCode === null) {
    serve.kill("SIGTERM");
    await new Promise((r) => serve.once("exit", r));
  }
  await tracking.stop();
});

test("bad definitions are refused with precise messages", async () => {
  let r = await slipway([
    "deploy",
    "create",
    "spam",
    "--model",
    "models:/spam@champion",
    "--canary",
    "models:/spam@challenger",
    "--weight",
    "120",
  ]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /--weight: '120' is not a number from 0 to 100 \(the percent of requests sent to the canary\)/,
  );
  r = await slipway(["deploy", "create", "spam", "--model", "models:/nope@champion"]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    "slipway: RESOURCE_DOES_NOT_EXIST: model_uri 'models:/nope@champion': there is no registered model 'nope'.",
  );
  r = await slipway(["deploy", "create", "spam", "--model", "models:/spam@champion", "--weight", "10"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--weight applies to a canary: give --canary models:\/NAME@ALIAS too/);
  r = await slipway([
    "deploy",
    "create",
    "spam",
    "--model",
    "models:/spam@champion",
    "--canary",
    "models:/spam@champion",
    "--weight",
    "10",
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /'models:\/spam@champion' is version 1, which the primary .* serves already/);
  r = await slipway(["serve", "--deployment", "nope", "--port", "0", "--tracking-uri", tracking.url]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /There is no deployment 'nope' on .*; create it with: slipway deploy create nope/);
  assert.match(await ok(["deploy", "list"]), /No deployments\./);
});

test("a canary is stepped up and promoted under load with no failed request; the alias history has the reason", async () => {
  const createdAt = Date.now();
  const out = await ok([
    "deploy",
    "create",
    "spam",
    "--model",
    "models:/spam@champion",
    "--canary",
    "models:/spam@challenger",
    "--weight",
    "10",
    "--step",
    "30",
    "--interval",
    "1s",
    "--max-error-rate",
    "1%",
    "--max-latency-p99",
    "500ms",
    "--min-requests",
    "20",
  ]);
  assert.match(out, /Created deployment 'spam'/);
  assert.match(out, /canary: {3}models:\/spam@challenger → v2 {2}running at 10%/);
  serve = spawn(
    process.execPath,
    [BIN, "serve", "--deployment", "spam", "--port", "0", "--tracking-uri", tracking.url],
    {
      env: { ...process.env, SLIPWAY_MODEL_CACHE: join(tracking.dir, "cache") },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  serve.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    };
    serve.stdout!.on("data", check);
    serve.once("exit", (code) => reject(new Error(`slipway serve exited with ${code}: ${stdout}`)));
  });
  assert.match(stdout, /deployment: spam \(canary\)/);
  const servingAt = Date.now();
  let promotedAt = 0;
  const answers = await underLoad(async () => {
    await waitFor(async () => (await deployment()).canary?.state === "promoted", "the promotion");
    promotedAt = Date.now();
    // the servers learn of it with their next report; then only version 2 answers
    await waitFor(() => /promoted: it is the primary now|now serving version 2/.test(stdout), "the swap", 10_000);
    await sleep(500);
  });
  const failed = failures(answers);
  assert.equal(failed, 0, `${failed} of ${answers.length} requests failed during the canary`);
  const byVersion = (v: string) => answers.filter((a) => a.version === v).length;
  assert.ok(byVersion("1") > 0 && byVersion("2") > 0, "both versions answered during the canary");
  assert.ok(
    answers.slice(-100).every((a) => a.version === "2" && a.label === "ham"),
    "after the promotion only version 2 answers",
  );

  const d = await deployment();
  assert.deepEqual([d.canary?.state, d.canary?.weight, d.primary_version], ["promoted", 100, "2"]);
  const log = await events();
  // a hold (the canary looked slower than the primary for an interval) only delays a step
  assert.deepEqual(
    log.filter((e) => e.kind !== "hold").map((e) => [e.kind, e.from_weight, e.to_weight]),
    [
      ["promoted", 70, 100],
      ["step", 40, 70],
      ["step", 10, 40],
      ["created", undefined, 10],
    ],
  );
  const { history } = await aliasHistory(client, { name: "spam", alias: "champion" });
  assert.equal(history[0]?.to_version, "2");
  assert.match(history[0].reason!, /^canary: 0% errors, p99 [\d.]+ ms over [\d,]+ requests at 70%$/);
  const historyText = await ok(["models", "history", "spam", "--alias", "champion"]);
  assert.match(historyText, /champion {2}v1 {4}v2 .*canary: 0% errors, p99/);
  const get = await ok(["deploy", "get", "spam"]);
  assert.match(get, /Recent decisions:/);
  assert.match(get, /promoted +70% → 100% +v2/);
  const toPromotion = log[0]!.created_at - log.at(-1)!.created_at;
  process.stdout.write(
    `# canary: ${answers.length} requests under load (4 clients), failed: ${failed}; ` +
      `v1 ${byVersion("1")}, v2 ${byVersion("2")}; create → promotion ${(toPromotion / 1000).toFixed(1)} s ` +
      `(serve ready ${((servingAt - createdAt) / 1000).toFixed(1)} s after create; promoted seen ${((promotedAt - servingAt) / 1000).toFixed(1)} s after ready)\n`,
  );
});

test("a canary version that cannot load gets no traffic and is rolled back by itself, with no failed request", async () => {
  const answers = await underLoad(async () => {
    await sleep(200);
    await ok([
      "deploy",
      "update",
      "spam",
      "--canary",
      "models:/spam/3",
      "--weight",
      "50",
      "--interval",
      "1s",
      "--min-requests",
      "20",
    ]);
    await waitFor(async () => (await deployment()).canary?.state === "rolled_back", "the rollback");
    await sleep(300);
  });
  assert.equal(failures(answers), 0, `${failures(answers)} of ${answers.length} requests failed`);
  assert.ok(answers.every((a) => a.version === "2"));
  const d = await deployment();
  assert.deepEqual([d.canary?.state, d.canary?.weight, d.primary_version], ["rolled_back", 0, "2"]);
  assert.match(d.canary!.reason!, /^canary version 3 failed to load on \S+:\d+: Cannot load 'models:\/spam\/3'/);
  const [last] = await events();
  assert.deepEqual([last?.kind, last?.from_weight, last?.to_weight, last?.version], ["rolled_back", 50, 0, "3"]);
  const { history } = await aliasHistory(client, { name: "spam", alias: "champion" });
  assert.equal(history[0]?.to_version, "2", "a rollback moves no alias");
  assert.match(stdout, /canary version 3 failed to load; it gets no traffic/);
  process.stdout.write(`# failing canary: ${answers.length} requests under load, failed: ${failures(answers)}\n`);
});

test("shadow traffic is compared with the primary's answers and never changes a response", async () => {
  const answers = await underLoad(async () => {
    await ok(["deploy", "update", "spam", "--shadow", "models:/spam/1", "--remove-canary"]);
    await waitFor(async () => {
      const shadow = (await deployment()).stats?.find((s) => s.role === "shadow");
      return (shadow?.compared_rows ?? 0) >= 50;
    }, "compared shadow rows");
  });
  assert.equal(failures(answers), 0);
  // version 1 says spam, version 2 (the primary) ham: the clients only ever see ham
  assert.ok(answers.every((a) => a.version === "2" && a.label === "ham"));
  const d = await deployment();
  assert.equal(d.strategy, "shadow");
  const shadow = d.stats?.find((s) => s.role === "shadow");
  assert.equal(shadow?.version, "1");
  assert.equal(shadow?.agreement, 0);
  assert.equal(shadow?.errors, 0);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /slipway_inference_shadow_agreement\{deployment="spam",version="1"\} 0/);
  assert.match(metrics, /slipway_inference_shadow_rows_total\{deployment="spam",version="1",result="disagree"\} [1-9]/);
  assert.match(
    metrics,
    /slipway_inference_deployment_requests_total\{deployment="spam",role="primary",version="2",outcome="ok"\} [1-9]/,
  );
  assert.match(
    metrics,
    /slipway_inference_deployment_requests_total\{deployment="spam",role="canary",version="2",outcome="ok"\} [1-9]/,
  );
  assert.match(metrics, /slipway_inference_canary_weight\{deployment="spam"\} 0/);
  assert.match(await ok(["deploy", "get", "spam"]), /shadow +v1 .* 0%/);
  process.stdout.write(
    `# shadow: ${answers.length} requests, failed: ${failures(answers)}, compared rows ${shadow?.compared_rows}, dropped ${shadow?.dropped}\n`,
  );
});
