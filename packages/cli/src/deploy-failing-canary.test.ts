/**
 * A canary whose predictor throws on every request (it loads and warms fine), against a real `slipway server`
 * process: the model server here is built in this process as `slipway serve --deployment` builds it, with one more
 * predictor kind (the throwing one), and listens on a real port. Under load from 4 clients no request fails (every
 * request the canary fails is answered by the primary), the canary's errors reach the control plane, and the
 * controller rolls it back by itself: weight 0, the alias untouched, the reason in the event log.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DeploymentsClient,
  InferenceMetrics,
  ModelSet,
  ServedDeployment,
  builtinPredictors,
  fetchDeployment,
  loadServedModel,
  loadServedModels,
  loadTextClassifierPredictor,
  startModelServer,
  vertexSettings,
  type RunningModelServer,
} from "@slipway/inference";
import { LogisticRegression, TextClassifier, TfidfVectorizer, textClassifierPackage, type MLmodel } from "@slipway/ml";
import type { Deployment, DeploymentEvent } from "@slipway/protocol";
import { Slipway, TrackingClient, aliasHistory, logModelPackage, setAlias, type ActiveRun } from "@slipway/sdk";
import { startServerProcess, type ServerProcess } from "./testing/harness.js";

const THROWING_KIND = "text-classifier-that-throws";
const TEXTS = ["win a free prize now", "free money click here", "meeting on monday", "review the report please"];

let tracking: ServerProcess;
let client: TrackingClient;
let run: ActiveRun;
let server: RunningModelServer;
let served: ServedDeployment;
let models: ModelSet;
const lines: string[] = [];

function classifier(): TextClassifier {
  return new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 })).fit(TEXTS, [
    "spam",
    "spam",
    "ham",
    "ham",
  ]);
}

/** A text classifier that loads and warms up, then throws on every prediction. */
async function loadThrowing(dir: string, mlmodel: MLmodel) {
  const slipway = mlmodel.flavors.slipway as Record<string, unknown>;
  const inner = await loadTextClassifierPredictor(dir, {
    ...mlmodel,
    flavors: { ...mlmodel.flavors, slipway: { ...slipway, predictor: "text-classifier" } },
  });
  return Object.assign(Object.create(inner) as typeof inner, {
    predict: () => Promise.reject(new Error("predictor exploded")),
  });
}

before(async () => {
  tracking = await startServerProcess("slipway-failing-canary-");
  client = new TrackingClient({ trackingUri: tracking.url, maxRetries: 0 });
  run = await new Slipway({ client, handleProcessExit: false }).startRun({
    experiment: "failing-canary",
    captureEnvironment: false,
  });
  await logModelPackage(run, textClassifierPackage(classifier()), "v1", { registeredModelName: "spam" });
  const throwing = textClassifierPackage(classifier());
  (throwing.mlmodel.flavors.slipway as Record<string, unknown>).predictor = THROWING_KIND;
  await logModelPackage(run, throwing, "v2", { registeredModelName: "spam" });
  await setAlias(client, "spam", "champion", 1);
});

after(async () => {
  await served?.stop();
  await server?.close();
  await served?.close();
  await run.end().catch(() => undefined);
  await tracking.stop();
});

async function infer(i: number): Promise<{ status: number }> {
  const response = await fetch(`${server.url}/invocations`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": `r-${i}` },
    body: JSON.stringify({ instances: ["free prize"] }),
  });
  await response.arrayBuffer();
  return { status: response.status };
}

test("a canary whose predictor throws is rolled back by itself, and no client request fails", async () => {
  const api = new DeploymentsClient(client);
  const createdAt = Date.now();
  await api.create({
    name: "spam",
    model_uri: "models:/spam@champion",
    canary: { model_uri: "models:/spam/2", weight: 30, step: 20, interval_ms: 1000, min_requests: 20 },
  });
  const deployment = await fetchDeployment(api, "spam", tracking.url);
  const predictors = builtinPredictors().registerSlipwayPredictor(THROWING_KIND, loadThrowing);
  const metrics = new InferenceMetrics({ defaultMetrics: false });
  const loading = { client, predictors, hooks: metrics.modelHooks(), cacheDir: `${tracking.dir}/cache` };
  models = new ModelSet();
  for (const m of await loadServedModels({ ...loading, uris: [deployment.model_uri] })) models.add(m);
  served = new ServedDeployment({
    api: new DeploymentsClient(new TrackingClient({ trackingUri: tracking.url, maxRetries: 0 }), { timeoutMs: 5000 }),
    deployment,
    models,
    servedName: "spam",
    load: (model) => loadServedModel(loading, model),
    metrics,
    onReport: (line) => lines.push(line),
  });
  server = await startModelServer({
    models,
    metrics,
    version: "test",
    vertex: vertexSettings({}, "spam"),
    host: "127.0.0.1",
    port: 0,
    router: served.router,
  });
  served.start(`127.0.0.1:${new URL(server.url).port}`);

  const statuses: number[] = [];
  let done = false;
  let i = 0;
  const clients = Array.from({ length: 4 }, async () => {
    while (!done) statuses.push((await infer(++i).catch(() => ({ status: 0 }))).status);
  });
  let d: Deployment;
  const deadline = Date.now() + 20_000;
  do {
    await sleep(100);
    d = await api.get("spam");
  } while (d.canary?.state === "running" && Date.now() < deadline);
  const rolledBackAt = Date.now();
  await sleep(500);
  done = true;
  await Promise.all(clients);

  const failed = statuses.filter((s) => s !== 200).length;
  assert.equal(failed, 0, `${failed} of ${statuses.length} requests failed; server said:\n${lines.join("\n")}`);
  assert.deepEqual([d.canary?.state, d.canary?.weight, d.primary_version], ["rolled_back", 0, "1"]);
  assert.match(
    d.canary!.reason!,
    /^canary: 100% errors, p99 .* over \d+ requests at 30%: error rate above the limit of 1% \(\d+ failed\); last error: predictor exploded$/,
  );
  const { events } = (await api.events("spam")) as { events: DeploymentEvent[] };
  assert.deepEqual(
    events.map((e) => [e.kind, e.from_weight, e.to_weight]),
    [
      ["rolled_back", 30, 0],
      ["created", undefined, 30],
    ],
  );
  const { history } = await aliasHistory(client, { name: "spam", alias: "champion" });
  assert.equal(history.length, 1, "the alias never moved");
  // the server stops routing to the canary once it hears of the rollback
  await served.report();
  assert.equal(served.router.routing.weight, 0);
  const text = await metrics.text();
  assert.match(
    text,
    /slipway_inference_deployment_requests_total\{deployment="spam",role="canary",version="2",outcome="error"\} [1-9]/,
  );
  assert.match(text, /slipway_inference_canary_weight\{deployment="spam"\} 0/);
  process.stdout.write(
    `# throwing canary: ${statuses.length} requests under load (4 clients), failed: ${failed}; ` +
      `rolled back ${((rolledBackAt - createdAt) / 1000).toFixed(1)} s after create (as seen by polling)\n`,
  );
});
