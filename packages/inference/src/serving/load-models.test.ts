/**
 * Loading models by URI through the SDK (local packages here; registry URIs in the CLI's end-to-end test).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { TrackingClient } from "@slipway/sdk";
import { builtinPredictors } from "../predictors/builtin.js";
import { writeOnnxPackage, type OnnxPackage } from "../testing/onnx-package.js";
import { loadServedModels, modelNameFromUri } from "./load-models.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

async function cacheDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-cache-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function pkg(): Promise<OnnxPackage> {
  const p = await writeOnnxPackage();
  cleanup.push(() => p.remove());
  return p;
}

// local packages never reach the tracking server
const client = new TrackingClient({ trackingUri: "http://127.0.0.1:9" });

describe("modelNameFromUri", () => {
  it("is the registered model's name, the artifact path's last part, or the directory's name", () => {
    assert.equal(modelNameFromUri("models:/spam@champion"), "spam");
    assert.equal(modelNameFromUri("models:/spam/3"), "spam");
    assert.equal(modelNameFromUri("models:/spam/Production"), "spam");
    assert.equal(modelNameFromUri("runs:/abc123/models/classifier"), "classifier");
    assert.equal(modelNameFromUri("runs:/abc123"), "abc123");
    assert.equal(modelNameFromUri("/tmp/packages/iris"), "iris");
    assert.equal(modelNameFromUri("mlflow-artifacts:/1/abc/artifacts/model"), "model");
  });
});

describe("loadServedModels", () => {
  it("loads local packages through the cache, warm and ready, named by directory or by --name", async () => {
    const a = await pkg();
    const b = await pkg();
    const models = await loadServedModels({
      client,
      uris: [a.dir, b.dir],
      names: ["iris"],
      predictors: builtinPredictors(),
      cacheDir: await cacheDir(),
      batching: { maxBatchSize: 8 },
    });
    assert.deepEqual(
      models.map((m) => [m.name, m.ready, m.version, m.predictor.kind]),
      [
        ["iris", true, undefined, "onnx"],
        ["model", true, undefined, "onnx"],
      ],
    );
    const prediction = await models[0]!.predict({ form: "rows", rows: [[0, 0, 1, 0]] });
    assert.deepEqual([...prediction.outputs.get("label")!.data].map(Number), [2]);
    await Promise.all(models.map((m) => m.close()));
  });

  it("refuses two models under one name, and more names than URIs", async () => {
    const a = await pkg();
    const b = await pkg();
    const options = { client, predictors: builtinPredictors() };
    await assert.rejects(
      loadServedModels({ ...options, uris: [a.dir, b.dir] }),
      /would both be served as 'model'; name one with --name/,
    );
    await assert.rejects(loadServedModels({ ...options, uris: [a.dir], names: ["x", "y"] }), /2 names for 1 model URI/);
    await assert.rejects(
      loadServedModels({ ...options, uris: [a.dir], names: ["a b"] }),
      /'a b' .* is not a model name/,
    );
  });

  it("names the URI of a package no predictor can load", async () => {
    const broken = await pkg();
    await writeFile(join(broken.dir, "model.onnx"), "not onnx");
    await assert.rejects(
      loadServedModels({ client, uris: [broken.dir], predictors: builtinPredictors(), cacheDir: await cacheDir() }),
      (e: unknown) =>
        e instanceof Error &&
        e.message.startsWith(`Cannot load '${broken.dir}'`) &&
        /not an ONNX model/.test(e.message),
    );
  });
});
