/**
 * End to end: `examples/spam-classifier` (what `npm run example:spam` runs) against a real server:
 * the quality bar, the tracked run, the model package, registration and the champion gate.
 */
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { TextClassifier, parseMLmodel } from "@slipway/ml";
import { TrackingClient, loadModelPackage } from "@slipway/sdk";
import { runNode, startServerProcess, type ServerProcess } from "./testing/harness.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/spam-classifier/train.mjs", import.meta.url));
let server: ServerProcess;
let client: TrackingClient;

before(async () => {
  server = await startServerProcess("slipway-spam-");
  client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
});
after(() => server.stop());

async function example(args: string[] = []) {
  const r = await runNode([EXAMPLE, ...args], {
    SLIPWAY_TRACKING_URI: server.url,
    SLIPWAY_MODEL_CACHE: join(server.dir, "cache"),
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const runId = /\/runs\/([0-9a-f]{32})/.exec(r.stdout)?.[1];
  const version = /model: models:\/spam-classifier\/(\d+)/.exec(r.stdout)?.[1];
  assert.ok(runId && version, r.stdout);
  return { stdout: r.stdout, runId, version };
}

test("trains past the quality bar, logs everything, registers and promotes; a worse model is not promoted", async () => {
  const first = await example();
  assert.match(first.stdout, /gate: promoted v1 to @champion: first spam-classifier version/);
  const { run } = await client.getRun({ run_id: first.runId });
  const metric = (key: string) => run.data.metrics?.find((m) => m.key === key)?.value;
  assert.ok(metric("test_accuracy")! >= 0.985, `accuracy ${metric("test_accuracy")}`);
  assert.ok(metric("test_f1")! >= 0.975, `F1 ${metric("test_f1")}`);
  assert.ok(metric("test_roc_auc")! > 0.99);
  const params = new Map((run.data.params ?? []).map((p) => [p.key, p.value]));
  assert.equal(params.get("seed"), "42");
  const datasets = run.inputs?.dataset_inputs ?? [];
  assert.deepEqual(datasets.map((d) => d.dataset.name).sort(), ["spam-assassin-test", "spam-assassin-train"]);
  assert.ok(datasets.every((d) => /^[0-9a-f]{16}$/.test(d.dataset.digest)));
  const loss = await client.getMetricHistory({ run_id: first.runId, metric_key: "train_loss" });
  assert.ok((loss.metrics ?? []).length > 5, "the loss per iteration is logged");
  const evaluation = await client.artifacts.listArtifacts(run.info.artifact_uri, "evaluation");
  assert.deepEqual(evaluation.map((f) => f.path).sort(), [
    "evaluation/confusion_matrix.json",
    "evaluation/confusion_matrix.svg",
    "evaluation/loss.svg",
    "evaluation/roc_curve.svg",
  ]);

  // the registered package loads and predicts like the run said
  const pkg = await loadModelPackage(client, "models:/spam-classifier@champion", {
    cacheDir: join(server.dir, "cache"),
  });
  assert.deepEqual((await readdir(pkg.dir)).sort(), [
    "MLmodel",
    "head.onnx",
    "input_example.json",
    "pipeline.json",
    "profile.json",
    "reference_data.jsonl",
    "serving_input_example.json",
  ]);
  const mlmodel = parseMLmodel(await readFile(join(pkg.dir, "MLmodel"), "utf8"));
  assert.equal(mlmodel.run_id, first.runId);
  const classifier = TextClassifier.fromJSON(JSON.parse(await readFile(join(pkg.dir, "pipeline.json"), "utf8")));
  assert.deepEqual(classifier.predict(["Congratulations! You have won a FREE prize, click here now"]), ["spam"]);

  // a weaker candidate (strong regularisation) is registered but does not take the alias
  const second = await example(["--C", "0.3"]);
  assert.match(second.stdout, /gate: @champion stays: candidate v2 F1 0\.\d{4} vs champion v1 F1 0\.\d{4}/);
  const alias = await client.getModelVersionByAlias({ name: "spam-classifier", alias: "champion" });
  assert.equal(alias.model_version.version, "1");
});
