/**
 * Seeds a server through its API (the SDK's client) with what every view of the web UI shows: experiments with
 * runs (params, metric histories, tags, artifacts), an empty experiment, a registered model with versions and
 * aliases, a monitor with three evaluated windows, and two deployments (a canary, a shadow). Used by the end-to-end
 * test and by bench/ui.mjs.
 */
import { createHash } from "node:crypto";
import { TrackingClient, withReason } from "@slipway/sdk";

export interface SeededDemo {
  experimentId: string;
  experimentName: string;
  emptyExperimentId: string;
  runIds: string[];
  /** The run with the highest final accuracy. */
  bestRunId: string;
  /** The run that carries the artifacts (metrics.json, notes.txt, plots/roc.svg, report.html, data/sample.csv). */
  artifactRunId: string;
  model: string;
  monitor: string;
  /** A deployment with a canary at 10% and one model server that reported. */
  deployment: string;
}

export const RUNS = 24;
/** Runs with a final accuracy above 0.9 (the filter the test types). */
export const ABOVE_090 = 5;

/** A run's final accuracy: 0.70 + 0.01·i, so runs 21..23 pass 0.9, plus two tuned runs (see below). */
function finalAccuracy(i: number): number {
  if (i === 5) return 0.955;
  if (i === 11) return 0.94;
  return Math.round((0.7 + 0.01 * i) * 1000) / 1000;
}

/** A made-up git commit id. */
function commitId(seed: number): string {
  return createHash("sha1").update(`commit ${seed}`).digest("hex");
}

export async function seedDemo(trackingUri: string): Promise<SeededDemo> {
  const client = new TrackingClient({ trackingUri });
  const experimentName = "churn-prediction";
  const { experiment_id: experimentId } = await client.createExperiment({
    name: experimentName,
    tags: [{ key: "team", value: "growth" }],
  });
  const { experiment_id: emptyExperimentId } = await client.createExperiment({ name: "empty-experiment" });
  await client.createExperiment({ name: "fraud-detection" });

  const t0 = Date.UTC(2026, 2, 1, 9, 0, 0);
  const runIds: string[] = [];
  let best = { id: "", accuracy: -1 };
  for (let i = 0; i < RUNS; i++) {
    const start = t0 + i * 3_600_000;
    const { run } = await client.createRun({
      experiment_id: experimentId,
      run_name: `run-${String(i).padStart(2, "0")}`,
      user_id: i % 3 === 0 ? "ana" : "ben",
      start_time: start,
      tags: [
        { key: "team", value: "growth" },
        { key: "mlflow.source.name", value: "train.py" },
        { key: "mlflow.source.type", value: "LOCAL" },
        { key: "mlflow.source.git.commit", value: commitId(i) },
        { key: "mlflow.source.git.branch", value: "main" },
        { key: "mlflow.user", value: i % 3 === 0 ? "ana" : "ben" },
      ],
    });
    const runId = run.info.run_id;
    runIds.push(runId);
    const accuracy = finalAccuracy(i);
    if (accuracy > best.accuracy) best = { id: runId, accuracy };
    const metrics = [];
    for (let step = 0; step < 30; step++) {
      const value = accuracy - (accuracy - 0.5) * Math.exp(-step / 6) + (step === 29 ? 0 : 0.004 * Math.sin(step * i));
      metrics.push({
        key: "accuracy",
        value: step === 29 ? accuracy : value,
        timestamp: start + step * 60_000,
        step,
      });
    }
    for (let step = 0; step < 100; step++) {
      metrics.push({
        key: "loss",
        value: 1.2 * Math.exp(-step / (20 + i)) + 0.05,
        timestamp: start + step * 18_000,
        step,
      });
    }
    metrics.push({ key: "f1", value: Math.round((accuracy - 0.03) * 1000) / 1000, timestamp: start, step: 0 });
    await client.logBatch({
      run_id: runId,
      metrics,
      params: [
        { key: "lr", value: ["0.1", "0.01", "0.001"][i % 3]! },
        { key: "epochs", value: String([5, 10, 20][i % 3]) },
        { key: "model", value: i % 2 === 0 ? "logreg" : "gbm" },
        { key: "features", value: "tfidf" },
      ],
    });
    await client.updateRun({
      run_id: runId,
      status: i === 4 ? "FAILED" : "FINISHED",
      end_time: start + 30 * 60_000 + i * 7_000,
    });
  }

  const artifactRunId = runIds[0]!;
  const artifactUri = (await client.getRun({ run_id: artifactRunId })).run.info.artifact_uri;
  await client.artifacts.logText(artifactUri, JSON.stringify({ accuracy: 0.7, f1: 0.67, rows: 5000 }), "metrics.json");
  await client.artifacts.logText(artifactUri, "Trained on the March snapshot.\nNo tuning yet.\n", "notes.txt");
  await client.artifacts.logText(
    artifactUri,
    'customer,tenure,churned\nacme,12,0\n"globex, inc",3,1\ninitech,27,0\n',
    "data/sample.csv",
  );
  await client.artifacts.logText(
    artifactUri,
    '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160"><rect width="240" height="160" fill="#fff"/>' +
      '<polyline points="10,150 40,60 90,35 230,10" fill="none" stroke="#2563eb" stroke-width="3"/></svg>',
    "plots/roc.svg",
  );
  await client.artifacts.logText(
    artifactUri,
    "<!doctype html><html><body><h1>Evaluation report</h1><p>Accuracy 0.70</p></body></html>",
    "report.html",
  );

  // the registry: two versions from the best runs, champion → 1 (with a reason), challenger → 2
  const model = "churn-model";
  await client.createRegisteredModel({ name: model, description: "Predicts which customers leave next month." });
  const sources = [runIds[11]!, best.id];
  for (const runId of sources) {
    const uri = (await client.getRun({ run_id: runId })).run.info.artifact_uri;
    await client.artifacts.logText(uri, "flavors:\n  slipway: {}\n", "model/MLmodel");
    await client.artifacts.logText(uri, referenceJsonl(), "model/reference_data.jsonl");
    await client.createModelVersion({ name: model, source: `runs:/${runId}/model`, run_id: runId });
  }
  // what MLflow's log_model records on a run; run-00's model was logged but never registered
  for (const runId of [...sources, artifactRunId])
    await client.setTag({ run_id: runId, key: "mlflow.log-model.history", value: logModelHistory(runId) });
  await client.setRegisteredModelAlias({ name: model, alias: "champion", version: "1" }, withReason("baseline"));
  await client.setRegisteredModelAlias(
    { name: model, alias: "challenger", version: "2" },
    withReason("tuned learning rate"),
  );

  // a monitor on the champion with one evaluated window of drifted traffic
  const monitor = "churn-drift";
  const now = Date.now();
  const records = Array.from({ length: 400 }, (_, i) => ({
    request_id: `seed-${i}`,
    model_name: model,
    model_version: "1",
    timestamp_ms: now - 3_000_000 + i * 5_000,
    inputs: { tenure: 30 + (i % 25), plan: i % 4 === 0 ? "basic" : "pro" },
    outputs: { label: i % 3 === 0 ? 1 : 0 },
    latency_ms: 4 + (i % 7),
  }));
  await post(trackingUri, "/api/2.0/slipway/inference-log", { records });
  await post(trackingUri, "/api/2.0/slipway/monitors", {
    name: monitor,
    model_name: model,
    model_alias: "champion",
    window_ms: 3_600_000,
    schedule: "0 * * * *",
    alerts: [{ name: "drift", when: "drift_share", threshold: 0.3 }],
  });
  // two earlier hourly windows, so the monitor page has drift over time: one like the reference, one half-way
  const earlier = (hoursAgo: number, shift: number) =>
    Array.from({ length: 200 }, (_, i) => ({
      request_id: `seed-${hoursAgo}h-${i}`,
      model_name: model,
      model_version: "1",
      timestamp_ms: now - hoursAgo * 3_600_000 - 3_300_000 + i * 15_000,
      inputs: { tenure: 1 + shift + (i % 24), plan: i % 4 === 0 ? "pro" : "basic" },
      outputs: { label: i % 2 },
      latency_ms: 4 + (i % 5),
    }));
  await post(trackingUri, "/api/2.0/slipway/inference-log", { records: [...earlier(2, 0), ...earlier(1, 12)] });
  await post(trackingUri, `/api/2.0/slipway/monitors/${monitor}/run`, { end_ms: now - 2 * 3_600_000 });
  await post(trackingUri, `/api/2.0/slipway/monitors/${monitor}/run`, { end_ms: now - 3_600_000 });
  await post(trackingUri, `/api/2.0/slipway/monitors/${monitor}/run`, { end_ms: now });

  // deployments: a canary of v2 at 10% behind the champion (its interval is long: it stays at 10% while the
  // tests run), with one model server's report; and one with a shadow
  const deployment = "churn-api";
  await post(trackingUri, "/api/2.0/slipway/deployments", {
    name: deployment,
    model_uri: `models:/${model}@champion`,
    canary: { model_uri: `models:/${model}/2`, weight: 10, step: 10, interval_ms: 3_600_000, min_requests: 50 },
  });
  await reportDeploymentTraffic(trackingUri, deployment, "seed-1");
  await post(trackingUri, "/api/2.0/slipway/deployments", {
    name: "churn-shadow",
    model_uri: `models:/${model}/1`,
    shadow: { model_uri: `models:/${model}/2` },
  });

  return {
    experimentId,
    experimentName,
    emptyExperimentId,
    runIds,
    bestRunId: best.id,
    artifactRunId,
    model,
    monitor,
    deployment,
  };
}

/**
 * Reports, as the model server at 127.0.0.1:8081 would, 900 primary (v1) and 100 canary (v2) requests of the
 * seeded deployment's first revision. The server lists model servers that reported in the last minute, so a test
 * that shows them reports again first (with another `reportId`: a repeated one is counted once).
 */
export async function reportDeploymentTraffic(trackingUri: string, deployment: string, reportId: string) {
  const latency = (bucket: number, count: number) => {
    const buckets = new Array<number>(32).fill(0);
    buckets[bucket] = count;
    return buckets;
  };
  const entry = { revision: 1, client_errors: 0 };
  await post(trackingUri, `/api/2.0/slipway/deployments/${deployment}/stats`, {
    server: "127.0.0.1:8081",
    report_id: reportId,
    revision: 1,
    entries: [
      { ...entry, role: "primary", version: "1", requests: 900, errors: 1, latency_ms: latency(9, 900) },
      { ...entry, role: "canary", version: "2", requests: 100, errors: 0, latency_ms: latency(8, 100) },
    ],
    models: [
      { role: "primary", version: "1", state: "ready" },
      { role: "canary", version: "2", state: "ready" },
    ],
  });
}

function logModelHistory(runId: string): string {
  return JSON.stringify([
    {
      run_id: runId,
      artifact_path: "model",
      utc_time_created: "2026-03-01 12:00:00.000000",
      flavors: { python_function: { loader_module: "slipway" }, slipway: {} },
      model_uuid: createHash("sha1").update(runId).digest("hex").slice(0, 32),
    },
  ]);
}

/** Reference rows (training data with labels and predictions) for the monitor: tenure ~ 1..24, mostly basic. */
function referenceJsonl(): string {
  const rows = Array.from({ length: 300 }, (_, i) => ({
    tenure: 1 + (i % 24),
    plan: i % 4 === 0 ? "pro" : "basic",
    label: i % 2,
    prediction: { label: i % 2 },
  }));
  return `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;
}

async function post(base: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

/** One run with a metric of `points` steps, logged in order 1000 points per log-batch (as training does). */
export async function seedLongMetric(
  trackingUri: string,
  options: { points: number; key?: string; concurrency?: number },
): Promise<string> {
  const client = new TrackingClient({ trackingUri });
  const { experiment_id } = await client.createExperiment({ name: `bench-${options.points}-points` });
  const { run } = await client.createRun({ experiment_id, run_name: "long-history" });
  const key = options.key ?? "loss";
  const t0 = Date.UTC(2026, 0, 1);
  let next = 0;
  const worker = async () => {
    while (next < options.points) {
      const from = next;
      next += 1000;
      const metrics = [];
      for (let step = from; step < Math.min(options.points, from + 1000); step++)
        metrics.push({
          key,
          value: Math.exp(-step / 200_000) + 0.02 * Math.sin(step / 50),
          timestamp: t0 + step,
          step,
        });
      await client.logBatch({ run_id: run.info.run_id, metrics });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 1 }, worker));
  return run.info.run_id;
}
