import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { MlflowError, type Metric } from "@slipway/protocol";
import { MetricFlushError } from "./metric-buffer.js";
import { checkKey } from "./run.js";
import { Slipway, type SlipwayOptions } from "./slipway.js";
import { FakeMlflow } from "./testing/fake-mlflow.js";

const server = new FakeMlflow();
let scratch: string;
before(async () => {
  await server.start();
  scratch = await mkdtemp(join(tmpdir(), "slipway-run-"));
});
after(async () => {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});
beforeEach(() => {
  server.requests.length = 0;
  server.canned.length = 0;
});

function slipway(extra: Partial<SlipwayOptions> = {}): Slipway {
  return new Slipway({
    trackingUri: server.url,
    maxRetries: 0,
    handleProcessExit: false,
    ...extra,
  });
}

const batches = () =>
  server.calls("runs/log-batch").map((r) => r.json as { metrics?: Metric[]; params?: unknown[]; tags?: unknown[] });

test("startRun: gets or creates the experiment, creates the run with environment tags, logs params", async () => {
  const s = slipway();
  const run = await s.startRun({
    experiment: "spam",
    runName: "lr-0.1",
    tags: { team: "ml" },
    params: { lr: 0.1, epochs: 3, fast: true },
    logGitDiff: false, // this checkout may be dirty; the diff upload is tested by the CLI's reproduce.test.ts
  });
  assert.equal(run.info.status, "RUNNING");
  assert.equal(run.info.run_name, "lr-0.1");
  assert.match(run.artifactUri, /^mlflow-artifacts:\/\d+\/[0-9a-f]{32}\/artifacts$/);
  assert.deepEqual(
    server.requests.map((r) => r.path.replace("/api/2.0/mlflow/", "")),
    ["experiments/get-by-name", "experiments/create", "experiments/get", "runs/create", "runs/log-batch"],
  );
  const create = server.calls("runs/create")[0]!.json as {
    experiment_id: string;
    run_name: string;
    start_time: number;
    user_id?: string;
    tags: { key: string; value: string }[];
  };
  assert.equal(create.experiment_id, run.experimentId);
  assert.ok(Math.abs(create.start_time - Date.now()) < 10_000);
  const tags = Object.fromEntries(create.tags.map((t) => [t.key, t.value]));
  assert.equal(tags.team, "ml");
  assert.equal(tags["mlflow.source.type"], "LOCAL");
  assert.equal(tags["slipway.node.version"], process.version);
  assert.equal(tags["slipway.platform"], `${process.platform}-${process.arch}`);
  assert.ok(tags["slipway.command"]);
  assert.equal(tags["mlflow.user"], create.user_id);
  assert.deepEqual(batches()[0], {
    run_id: run.id,
    params: [
      { key: "lr", value: "0.1" },
      { key: "epochs", value: "3" },
      { key: "fast", value: "true" },
    ],
  });
  assert.ok(run.environment);
  await run.end();
  // the second run in the same experiment does not create it again
  server.requests.length = 0;
  const again = await s.startRun({ experiment: "spam", captureEnvironment: false });
  assert.equal(again.experimentId, run.experimentId);
  assert.equal(server.calls("experiments/create").length, 0);
  assert.deepEqual((server.calls("runs/create")[0]!.json as { tags: unknown[] }).tags, []);
  await again.end();
});

test("params and tags go out at once, in log-batch chunks of at most 100", async () => {
  const s = slipway();
  const params = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, i]));
  const run = await s.startRun({ captureEnvironment: false, params });
  await run.setTags(Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`t${i}`, `v${i}`])));
  const sizes = batches().map((b) => [b.params?.length ?? 0, b.tags?.length ?? 0]);
  assert.deepEqual(sizes, [
    [100, 0],
    [100, 0],
    [50, 0],
    [0, 100],
    [0, 50],
  ]);
  await run.logParam("single", 1);
  await run.setTag("one", "tag");
  assert.deepEqual(server.calls("runs/log-parameter")[0]!.json, {
    run_id: run.id,
    key: "single",
    value: "1",
  });
  assert.deepEqual(server.calls("runs/set-tag")[0]!.json, {
    run_id: run.id,
    key: "one",
    value: "tag",
  });
  const stored = server.runs.get(run.id)!.run.data;
  assert.equal(stored.params!.length, 251);
  await run.end();
});

test("more than 100 tags at start: the first 100 with runs/create, the rest by log-batch", async () => {
  const tags = Object.fromEntries(Array.from({ length: 130 }, (_, i) => [`t${i}`, "v"]));
  const run = await slipway().startRun({ captureEnvironment: false, tags });
  assert.equal((server.calls("runs/create")[0]!.json as { tags: unknown[] }).tags.length, 100);
  assert.equal(batches()[0]!.tags!.length, 30);
  await run.end();
});

test("metrics are buffered, then flushed as one log-batch in order, with step 0 and a timestamp by default", async () => {
  const run = await slipway().startRun({ captureEnvironment: false });
  const before = Date.now();
  await run.logMetric("loss", 0.9);
  await run.logMetric("loss", 0.5, { step: 1 });
  await run.logMetrics({ acc: 0.7, f1: NaN }, { step: 2, timestamp: 1234 });
  assert.equal(batches().length, 0);
  assert.equal(run.pendingMetrics, 4);
  await run.flush();
  assert.equal(run.pendingMetrics, 0);
  const [batch] = batches();
  assert.deepEqual(
    batch!.metrics!.map((m) => [m.key, m.step]),
    [
      ["loss", 0],
      ["loss", 1],
      ["acc", 2],
      ["f1", 2],
    ],
  );
  assert.ok(batch!.metrics![0]!.timestamp >= before);
  assert.equal(batch!.metrics![2]!.timestamp, 1234);
  assert.match(server.calls("runs/log-batch")[0]!.body.toString(), /"value":NaN/);
  await run.end();
});

test("size trigger: 1000 buffered metrics go out at once; batches never exceed 1000; order kept", async () => {
  const run = await slipway({ flushIntervalMs: 60_000 }).startRun({ captureEnvironment: false });
  for (let i = 0; i < 2500; i++) await run.logMetric("x", i, { step: i });
  assert.deepEqual(
    batches().map((b) => b.metrics!.length),
    [1000, 1000],
  );
  await run.end();
  assert.deepEqual(
    batches().map((b) => b.metrics!.length),
    [1000, 1000, 500],
  );
  const stored = server.runs.get(run.id)!.metrics.map((m) => m.value);
  assert.deepEqual(
    stored,
    Array.from({ length: 2500 }, (_, i) => i),
  );
});

test("unawaited logMetric calls keep their order too", async () => {
  const run = await slipway({ flushSize: 10, flushIntervalMs: 5 }).startRun({
    captureEnvironment: false,
  });
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 95; i++) pending.push(run.logMetric("y", i, { step: i }));
  await Promise.all(pending);
  await run.end();
  assert.deepEqual(
    server.runs.get(run.id)!.metrics.map((m) => m.step),
    Array.from({ length: 95 }, (_, i) => i),
  );
  assert.ok(batches().every((b) => b.metrics!.length <= 10));
});

test("time trigger: flushed flushIntervalMs after the first unflushed metric", async () => {
  const run = await slipway({ flushIntervalMs: 50 }).startRun({ captureEnvironment: false });
  await run.logMetric("t", 1);
  await delay(10);
  assert.equal(batches().length, 0);
  await delay(100);
  assert.equal(batches().length, 1);
  await run.end();
  assert.equal(batches().length, 1); // nothing left for end to send
});

test("end(): flushes, sets status and end_time; idempotent; later logging is refused", async () => {
  const run = await slipway().startRun({ captureEnvironment: false });
  await run.logMetric("m", 1);
  await run.end();
  await run.end();
  assert.equal(batches().length, 1);
  const updates = server.calls("runs/update");
  assert.equal(updates.length, 1);
  const update = updates[0]!.json as { run_id: string; status: string; end_time: number };
  assert.equal(update.run_id, run.id);
  assert.equal(update.status, "FINISHED");
  assert.ok(update.end_time > 0);
  assert.equal(run.info.status, "FINISHED");
  assert.equal(run.ended, true);
  await assert.rejects(run.logMetric("m", 2), /has ended/);
  await assert.rejects(run.logParam("p", 1), /has ended/);
  const other = await slipway().startRun({ captureEnvironment: false });
  await other.end("KILLED");
  assert.equal(server.runs.get(other.id)!.run.info.status, "KILLED");
});

test("a failed background flush is thrown by the next call, with the lost metrics", async () => {
  const run = await slipway({ flushIntervalMs: 10 }).startRun({ captureEnvironment: false });
  server.canned.push({
    status: 500,
    pathPrefix: "/mlflow/runs/log-batch",
    body: '{"error_code":"INTERNAL_ERROR","message":"db down"}',
  });
  await run.logMetric("a", 1);
  await run.logMetric("a", 2);
  await delay(60);
  await assert.rejects(run.setTag("k", "v"), (e: unknown) => {
    assert.ok(e instanceof MetricFlushError);
    assert.deepEqual(
      e.metrics.map((m) => m.value),
      [1, 2],
    );
    assert.ok(e.cause instanceof MlflowError && e.cause.message === "db down");
    return true;
  });
  await run.logMetric("a", 3);
  await run.end();
  assert.deepEqual(
    server.runs.get(run.id)!.metrics.map((m) => m.value),
    [3],
  );
});

test("end() sets the status even when the final flush fails, then throws the failure", async () => {
  const run = await slipway().startRun({ captureEnvironment: false });
  await run.logMetric("a", 1);
  server.canned.push({
    status: 400,
    pathPrefix: "/mlflow/runs/log-batch",
    body: '{"error_code":"INVALID_PARAMETER_VALUE","message":"bad"}',
  });
  await assert.rejects(run.end(), MetricFlushError);
  assert.equal(server.runs.get(run.id)!.run.info.status, "FINISHED");
  await assert.rejects(run.end(), MetricFlushError); // same outcome on repeat
});

test("metric keys and values are checked before buffering", async () => {
  const run = await slipway().startRun({ captureEnvironment: false });
  for (const bad of ["", "a//b", "/x", "x/", "a/../b", "bad!", "x".repeat(251)]) {
    await assert.rejects(run.logMetric(bad, 1), MlflowError, bad);
  }
  await assert.rejects(run.logMetric("ok", true as unknown as number), MlflowError);
  await assert.rejects(run.logMetric("ok", 1, { step: 1.5 }), MlflowError);
  await assert.rejects(run.logMetric("ok", 1, { timestamp: -1 }), MlflowError);
  await assert.rejects(run.logMetrics({ good: 1, "bad!": 2 }), MlflowError);
  assert.equal(run.pendingMetrics, 0); // logMetrics is all or nothing
  checkKey("metric", "train/loss: epoch 1.ü-x_y");
  await run.end();
});

test("artifacts: logArtifact (file or directory), logText, logDict as JSON and YAML", async () => {
  const run = await slipway().startRun({ captureEnvironment: false });
  const root = `${run.experimentId}/${run.id}/artifacts`;
  const file = join(scratch, "model.bin");
  await writeFile(file, "weights");
  const dir = join(scratch, "plots");
  await mkdir(join(dir, "inner"), { recursive: true });
  await writeFile(join(dir, "inner", "roc.svg"), "<svg/>");
  await run.logArtifact(file, "model");
  await run.logArtifact(dir, "plots");
  await run.logText("hello", "notes.txt");
  await run.logDict({ lr: 0.1, layers: [2, 3] }, "config.json");
  await run.logDict({ lr: 0.1, layers: [2, 3] }, "config.yaml");
  const get = (p: string) => server.artifacts.get(`${root}/${p}`)?.toString();
  assert.equal(get("model/model.bin"), "weights");
  assert.equal(get("plots/inner/roc.svg"), "<svg/>");
  assert.equal(get("notes.txt"), "hello");
  assert.deepEqual(JSON.parse(get("config.json")!), { lr: 0.1, layers: [2, 3] });
  assert.equal(get("config.yaml"), "lr: 0.1\nlayers:\n- 2\n- 3\n");
  assert.deepEqual((await run.listArtifacts()).map((f) => f.path).sort(), [
    "config.json",
    "config.yaml",
    "model",
    "notes.txt",
    "plots",
  ]);
  await run.end();
});

test("withRun ends FINISHED, or FAILED when the callback throws (rethrown)", async () => {
  const s = slipway();
  const value = await s.withRun({ captureEnvironment: false }, async (run) => {
    await run.logMetric("m", 1);
    return 42;
  });
  assert.equal(value, 42);
  const finished = server.calls("runs/update").at(-1)!.json as { status: string };
  assert.equal(finished.status, "FINISHED");
  assert.equal(batches().length, 1);
  const boom = new Error("training diverged");
  await assert.rejects(
    s.withRun({ captureEnvironment: false }, async (run) => {
      await run.logMetric("m", 2);
      throw boom;
    }),
    (e: unknown) => e === boom,
  );
  const failed = server.calls("runs/update").at(-1)!.json as { status: string };
  assert.equal(failed.status, "FAILED");
  assert.equal(batches().length, 2); // metrics flushed before FAILED
  assert.equal(s.activeRuns.length, 0);
});

test("child runs and descriptions use MLflow's tags; a deleted experiment is refused", async () => {
  const s = slipway();
  const parent = await s.startRun({ captureEnvironment: false });
  const child = await s.startRun({
    captureEnvironment: false,
    parentRunId: parent.id,
    description: "a step",
  });
  const tags = Object.fromEntries(
    (server.calls("runs/create").at(-1)!.json as { tags: { key: string; value: string }[] }).tags.map((t) => [
      t.key,
      t.value,
    ]),
  );
  assert.equal(tags["mlflow.parentRunId"], parent.id);
  assert.equal(tags["mlflow.note.content"], "a step");
  assert.equal(s.activeRuns.length, 2);
  await s.endAll();
  assert.equal(s.activeRuns.length, 0);
  assert.equal(child.info.status, "FINISHED");

  const { experiment_id } = await s.client.createExperiment({ name: "gone" });
  server.experiments.get(experiment_id)!.lifecycle_stage = "deleted";
  await assert.rejects(
    s.startRun({ experiment: "gone" }),
    (e: unknown) => e instanceof MlflowError && /deleted/.test(e.message),
  );
});

test("resuming a run by id sets it RUNNING again and logs to it", async () => {
  const s = slipway();
  const first = await s.startRun({ captureEnvironment: false });
  await first.end();
  server.requests.length = 0;
  const resumed = await s.startRun({ runId: first.id, tags: { resumed: "yes" } });
  assert.equal(resumed.id, first.id);
  assert.equal(resumed.info.status, "RUNNING");
  assert.equal(resumed.environment, undefined);
  assert.deepEqual(
    server.requests.map((r) => r.path.replace("/api/2.0/mlflow/", "")),
    ["runs/get", "runs/update", "runs/log-batch"],
  );
  assert.deepEqual(batches()[0], { run_id: first.id, tags: [{ key: "resumed", value: "yes" }] });
  await resumed.end();
});

test("if logging the initial params fails, the new run is marked FAILED and the error thrown", async () => {
  server.canned.push({
    status: 400,
    pathPrefix: "/mlflow/runs/log-batch",
    body: '{"error_code":"INVALID_PARAMETER_VALUE","message":"nope"}',
  });
  const s = slipway();
  await assert.rejects(
    s.startRun({ captureEnvironment: false, params: { a: 1 } }),
    (e: unknown) => e instanceof MlflowError && e.message === "nope",
  );
  assert.equal((server.calls("runs/update").at(-1)!.json as { status: string }).status, "FAILED");
  assert.equal(s.activeRuns.length, 0);
});

test("a local (non-proxied) artifact root is written directly", async () => {
  server.localArtifactRoot = join(scratch, "mlruns");
  try {
    const run = await slipway().startRun({ captureEnvironment: false });
    await run.logText("local!", "x/y.txt");
    assert.deepEqual(await run.listArtifacts("x"), [{ path: "x/y.txt", is_dir: false, file_size: 6 }]);
    assert.equal(server.calls("mlflow-artifacts/artifacts").length, 0);
    await run.end();
  } finally {
    server.localArtifactRoot = undefined;
  }
});
