/**
 * End to end: model packages through a real `slipway server` process — logModel, registerModel,
 * setAlias, every model URI form, loadModelPackage and its content-addressed cache — with the SDK.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";
import { MlflowError } from "@slipway/protocol";
import {
  ModelUriError,
  Slipway,
  TrackingClient,
  loadModelPackage,
  logModel,
  registerModel,
  resolveModelCacheDir,
  resolveModelUri,
  setAlias,
  type ActiveRun,
  type LoggedModel,
} from "@slipway/sdk";

let dir: string;
let server: ServerProcess;
let client: TrackingClient;
let slipway: Slipway;
let run: ActiveRun;

/** An ONNX package as MLflow's Python client writes one (`mlflow.onnx.log_model`), before logging. */
const ONNX_MLMODEL = `flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: 1.16.1
    providers:
    - CUDAExecutionProvider
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: 3.11.9
mlflow_version: 2.17.2
model_size_bytes: 200412
model_uuid: 6a2b8a1b1c2b4e6f9a0d3c4b5e6f7a8b
saved_input_example_info:
  artifact_path: input_example.json
  format: tf-serving
  serving_input_path: serving_input_example.json
  type: ndarray
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]'
  params: null
utc_time_created: '2024-06-20 09:12:33.123456'
`;

const SLIPWAY_MLMODEL = `flavors:
  slipway:
    data: weights
    predictor: linear
    version: 1
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}]'
  outputs: '[{"type": "double", "required": true}]'
  params: null
`;

const SKLEARN_MLMODEL = `flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.5.1
`;

let onnxBytes: Buffer;

async function writePackage(root: string, files: Record<string, string | Buffer>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

/** Asserts that `promise` rejects with an MlflowError of `code` whose message matches. */
async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<MlflowError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof MlflowError, `expected an MlflowError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  return caught;
}

before(async () => {
  server = await startServerProcess("slipway-packages-");
  dir = server.dir;
  const url = server.url;
  client = new TrackingClient({ trackingUri: url, maxRetries: 0 });
  slipway = new Slipway({ client, handleProcessExit: false });
  run = await slipway.startRun({ experiment: "model-packages", captureEnvironment: false });
  onnxBytes = randomBytes(200_000);
});

after(async () => {
  await run?.end().catch(() => undefined);
  await server.stop();
});

describe("model packages against a real server", () => {
  let logged: LoggedModel;
  let onnxDir: string;
  const cacheDir = () => join(dir, "cache");

  it("logs a package to a run, records it on the run, and registers it", async () => {
    onnxDir = await writePackage(join(dir, "pkg-onnx"), {
      MLmodel: ONNX_MLMODEL,
      "model.onnx": onnxBytes,
      "input_example.json": '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}',
      "serving_input_example.json": '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}',
      "conda.yaml": "name: mlflow-env\n",
      "python_env.yaml": "python: 3.11.9\n",
      "requirements.txt": "onnx==1.16.1\nonnxruntime==1.18.0\n",
    });
    logged = await logModel(run, onnxDir, "model", { registeredModelName: "iris-onnx" });
    assert.equal(logged.modelUri, `runs:/${run.id}/model`);
    assert.equal(logged.mlmodel.run_id, run.id);
    assert.equal(logged.mlmodel.artifact_path, "model");
    assert.equal(logged.mlmodel.model_uuid, "6a2b8a1b1c2b4e6f9a0d3c4b5e6f7a8b");
    assert.equal(logged.modelVersion?.version, "1");
    assert.equal(logged.modelVersion?.status, "READY");
    assert.equal(logged.modelVersion?.run_id, run.id);
    assert.equal(logged.modelVersion?.source, `runs:/${run.id}/model`);

    const listed = (await run.listArtifacts("model")).map((f) => f.path).sort();
    assert.deepEqual(listed, [
      "model/MLmodel",
      "model/conda.yaml",
      "model/input_example.json",
      "model/model.onnx",
      "model/python_env.yaml",
      "model/requirements.txt",
      "model/serving_input_example.json",
    ]);
    const { run: stored } = await client.getRun({ run_id: run.id });
    const history = stored.data?.tags?.find((t) => t.key === "mlflow.log-model.history");
    assert.ok(history, "the run records the logged model");
    const entries = JSON.parse(history.value) as { artifact_path: string; run_id: string; flavors: object }[];
    assert.equal(entries[0]?.artifact_path, "model");
    assert.equal(entries[0]?.run_id, run.id);
    assert.deepEqual(Object.keys(entries[0]?.flavors ?? {}).sort(), ["onnx", "python_function"]);
  });

  it("registers another version, moves an alias and a stage", async () => {
    const v2 = await registerModel(client, logged.modelUri, "iris-onnx", { tags: { trained_on: "iris" } });
    assert.equal(v2.version, "2");
    assert.deepEqual(v2.tags, [{ key: "trained_on", value: "iris" }]);
    await setAlias(client, "iris-onnx", "champion", 1);
    await client.transitionModelVersionStage({ name: "iris-onnx", version: "2", stage: "Production" });
    const { model_version } = await client.getModelVersionByAlias({ name: "iris-onnx", alias: "champion" });
    assert.equal(model_version.version, "1");
    await rejects(
      setAlias(client, "iris-onnx", "latest", 1),
      "INVALID_PARAMETER_VALUE",
      /'latest' alias name .* is reserved/,
    );
    // a version registered from another version's URI points at the same files, with the same run
    const copy = await registerModel(client, "models:/iris-onnx@champion", "iris-copy");
    assert.equal(copy.version, "1");
    assert.equal(copy.run_id, run.id);
    assert.equal(copy.source, (await resolveModelUri(client, logged.modelUri)).artifactUri);
  });

  it("resolves every model URI form", async () => {
    const runs = await resolveModelUri(client, logged.modelUri);
    assert.equal(runs.kind, "runs");
    assert.equal(runs.runId, run.id);
    assert.ok(runs.artifactUri.endsWith(`${run.id}/artifacts/model`), runs.artifactUri);
    const cases: [string, string][] = [
      ["models:/iris-onnx/1", "1"],
      ["models:/iris-onnx@champion", "1"],
      ["models:/iris-onnx/Production", "2"],
      ["models:/iris-onnx/production", "2"],
      ["models:/iris-onnx/None", "1"],
      ["models:/iris-onnx/latest", "2"],
    ];
    for (const [uri, version] of cases) {
      const resolved = await resolveModelUri(client, uri);
      assert.equal(resolved.kind, "models", uri);
      assert.equal(resolved.modelVersion?.version, version, uri);
      assert.equal(resolved.runId, run.id, uri);
      assert.equal(resolved.artifactUri, runs.artifactUri, uri);
    }
    const local = await resolveModelUri(client, onnxDir);
    assert.deepEqual(local, { uri: onnxDir, kind: "local", artifactUri: onnxDir });
    const fileUri = pathToFileURL(onnxDir).href;
    assert.equal((await resolveModelUri(client, fileUri)).artifactUri, onnxDir);
    assert.equal((await resolveModelUri(client, runs.artifactUri)).kind, "artifact");
  });

  it("loads a package into the cache, then from the cache", async () => {
    const first = await loadModelPackage(client, "models:/iris-onnx@champion", { cacheDir: cacheDir() });
    assert.equal(first.cacheHit, false);
    assert.match(first.digest, /^[0-9a-f]{64}$/);
    assert.equal(first.modelVersion?.version, "1");
    assert.ok(first.dir.startsWith(join(cacheDir(), "packages", first.digest)), first.dir);
    assert.deepEqual(await readFile(join(first.dir, "model.onnx")), onnxBytes);
    assert.equal(first.mlmodel.run_id, run.id);
    assert.deepEqual(first.mlmodel.flavors.onnx?.providers, ["CUDAExecutionProvider", "CPUExecutionProvider"]);
    assert.deepEqual((await readdir(join(cacheDir(), "tmp"))).length, 0, "no download left behind");

    const second = await loadModelPackage(client, "models:/iris-onnx@champion", { cacheDir: cacheDir() });
    assert.equal(second.cacheHit, true);
    assert.equal(second.dir, first.dir);
    assert.equal(second.digest, first.digest);
    // the same files under another name are the same cache entry
    const viaRun = await loadModelPackage(client, logged.modelUri, { cacheDir: cacheDir() });
    assert.equal(viaRun.cacheHit, true);
    assert.equal(viaRun.digest, first.digest);
    // the local copy is another package: its MLmodel was not stamped with the run it was logged to
    const fromDisk = await loadModelPackage(client, onnxDir, { cacheDir: cacheDir() });
    assert.notEqual(fromDisk.digest, first.digest);
    assert.equal(fromDisk.mlmodel.run_id, undefined);

    assert.equal(resolveModelCacheDir({ SLIPWAY_MODEL_CACHE: join(dir, "elsewhere") }), join(dir, "elsewhere"));
    assert.ok(resolveModelCacheDir({}).endsWith(join(".cache", "slipway", "models")));
  });

  it("downloads a corrupted, truncated or altered cache entry again", async () => {
    const load = () => loadModelPackage(client, "models:/iris-onnx/1", { cacheDir: cacheDir() });
    const { dir: modelDir, digest } = await load();
    const corruptions: [string, () => Promise<void>][] = [
      ["same size, other bytes", () => writeFile(join(modelDir, "model.onnx"), randomBytes(onnxBytes.length))],
      ["truncated", () => writeFile(join(modelDir, "model.onnx"), onnxBytes.subarray(0, 1000))],
      ["deleted", () => rm(join(modelDir, "model.onnx"))],
      ["a file added", () => writeFile(join(modelDir, "extra.bin"), "x")],
      ["MLmodel edited", () => writeFile(join(modelDir, "MLmodel"), "flavors: {}\n")],
      ["manifest damaged", () => writeFile(join(dirname(modelDir), "manifest.json"), "{")],
    ];
    for (const [what, corrupt] of corruptions) {
      await corrupt();
      const again = await load();
      assert.equal(again.cacheHit, false, what);
      assert.equal(again.digest, digest, what);
      assert.deepEqual(await readFile(join(again.dir, "model.onnx")), onnxBytes, what);
      await assert.rejects(stat(join(again.dir, "extra.bin")), /ENOENT/, what);
      assert.equal((await load()).cacheHit, true, what);
    }
  });

  it("slipway models download fetches a package by alias into the cache and copies it", async () => {
    const env = { SLIPWAY_TRACKING_URI: server.url };
    const dst = join(dir, "downloaded");
    const r = await runSlipway(
      [
        "models",
        "download",
        "models:/iris-onnx@champion",
        "--dst",
        dst,
        "--cache-dir",
        join(dir, "cli-cache"),
        "--json",
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { dir: string; digest: string; flavors: string[] };
    assert.equal(info.dir, dst);
    assert.match(info.digest, /^[0-9a-f]{64}$/);
    assert.ok(info.flavors.includes("onnx"));
    assert.deepEqual(await readFile(join(dst, "model.onnx")), onnxBytes);
    const again = await runSlipway(
      ["models", "download", "models:/iris-onnx@champion", "--cache-dir", join(dir, "cli-cache")],
      env,
    );
    assert.match(again.stdout, /from the cache, verified/);
    const bad = await runSlipway(["models", "download", "models:/no-such-model@x"], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /RESOURCE_DOES_NOT_EXIST|not found/);
  });

  it("loads a Slipway package with a data directory through runs:/", async () => {
    const pkg = await writePackage(join(dir, "pkg-slipway"), {
      MLmodel: SLIPWAY_MLMODEL,
      "weights/coef.json": "[0.5, 1.5]",
      "weights/meta/info.json": "{}",
    });
    const loggedSlipway = await logModel(run, pkg, "models/linear");
    assert.equal(loggedSlipway.modelUri, `runs:/${run.id}/models/linear`);
    const loaded = await loadModelPackage(client, loggedSlipway.modelUri, { cacheDir: cacheDir() });
    assert.equal(await readFile(join(loaded.dir, "weights", "coef.json"), "utf8"), "[0.5, 1.5]");
    assert.equal(await readFile(join(loaded.dir, "weights", "meta", "info.json"), "utf8"), "{}");
    assert.deepEqual(loaded.mlmodel.flavors.slipway, { data: "weights", predictor: "linear", version: 1 });
    assert.deepEqual(loaded.mlmodel.signature?.inputs, {
      kind: "columns",
      columns: [{ name: "x", type: "double", required: true }],
    });
  });

  it("refuses malformed URIs and names that do not exist, precisely", async () => {
    const load = (uri: string) => loadModelPackage(client, uri, { cacheDir: cacheDir() });
    const malformed = await rejects(
      load("models:/iris-onnx"),
      "INVALID_PARAMETER_VALUE",
      /names a model but no version/,
    );
    assert.ok(malformed instanceof ModelUriError);
    await rejects(load("models:/iris-onnx/Champion"), "INVALID_PARAMETER_VALUE", /'Champion' is neither a version/);
    await rejects(load("runs:/"), "INVALID_PARAMETER_VALUE", /Invalid model URI 'runs:\/'/);
    await rejects(load("s3://bucket/model"), "INVALID_PARAMETER_VALUE", /scheme 's3:' is not supported/);
    await rejects(
      load("models:/iris-onnx@challenger"),
      "INVALID_PARAMETER_VALUE",
      /^Cannot resolve model URI 'models:\/iris-onnx@challenger': Registered model alias challenger not found/,
    );
    await rejects(
      load("models:/iris-onnx/9"),
      "RESOURCE_DOES_NOT_EXIST",
      /^Cannot resolve model URI 'models:\/iris-onnx\/9': /,
    );
    await rejects(load("models:/no-such-model/1"), "RESOURCE_DOES_NOT_EXIST", /no-such-model/);
    await rejects(
      load("models:/iris-onnx/Archived"),
      "RESOURCE_DOES_NOT_EXIST",
      /No version of registered model 'iris-onnx' is in stage 'Archived'/,
    );
    await rejects(
      load(`runs:/${"0".repeat(32)}/model`),
      "RESOURCE_DOES_NOT_EXIST",
      /^Cannot resolve model URI 'runs:\/0{32}\/model': /,
    );
    await rejects(
      load(`runs:/${run.id}/nothing-here`),
      "INVALID_PARAMETER_VALUE",
      /'runs:\/\w+\/nothing-here' is not a model package: it has no MLmodel file at its root/,
    );
  });

  it("refuses packages without MLmodel, with an unknown flavor or missing files, before uploading", async () => {
    const noMLmodel = await writePackage(join(dir, "pkg-bare"), { "model.onnx": onnxBytes });
    await rejects(
      logModel(run, noMLmodel, "bad/bare"),
      "INVALID_PARAMETER_VALUE",
      /pkg-bare' is not a model package: it has no MLmodel file at its root/,
    );
    const sklearn = await writePackage(join(dir, "pkg-sklearn"), { MLmodel: SKLEARN_MLMODEL, "model.pkl": "pickle" });
    await rejects(
      logModel(run, sklearn, "bad/sklearn"),
      "INVALID_PARAMETER_VALUE",
      /Invalid model package '.*pkg-sklearn': flavors: no flavor here can load this model: it has 'python_function', 'sklearn', and the loaders here are for 'slipway', 'onnx'/,
    );
    const noData = await writePackage(join(dir, "pkg-nodata"), { MLmodel: SLIPWAY_MLMODEL });
    await rejects(
      logModel(run, noData, "bad/nodata"),
      "INVALID_PARAMETER_VALUE",
      /flavors\.slipway\.data: 'weights' is not in the package/,
    );
    const badSignature = await writePackage(join(dir, "pkg-badsig"), {
      MLmodel: SLIPWAY_MLMODEL.replace('"type": "double", "name": "x"', '"type": "int", "name": "x"'),
      "weights/coef.json": "[]",
    });
    await rejects(
      logModel(run, badSignature, "bad/signature"),
      "INVALID_PARAMETER_VALUE",
      /signature\.inputs\[0\]\.type: 'int' is not an MLflow column type/,
    );
    assert.deepEqual(await run.listArtifacts("bad"), [], "nothing was uploaded");
    // a package Slipway cannot load is accepted when the caller says it can load it
    const widened = await logModel(run, sklearn, "other/sklearn", { supportedFlavors: ["sklearn"] });
    assert.deepEqual(Object.keys(widened.mlmodel.flavors).sort(), ["python_function", "sklearn"]);
  });

  it("leaves no registered model and no version behind when a registration fails", async () => {
    const versionsOf = async (name: string) =>
      (await client.searchModelVersions({ filter: `name = '${name}'` })).model_versions?.length ?? 0;

    // an invalid package (uploaded around logModel's checks) is refused before anything is created
    await client.artifacts.logArtifacts(run.artifactUri, join(dir, "pkg-sklearn"), "raw/sklearn");
    await rejects(
      registerModel(client, `runs:/${run.id}/raw/sklearn`, "sk-model"),
      "INVALID_PARAMETER_VALUE",
      /flavors: no flavor here can load this model/,
    );
    await rejects(client.getRegisteredModel({ name: "sk-model" }), "RESOURCE_DOES_NOT_EXIST", /sk-model/);
    await rejects(
      registerModel(client, `runs:/${run.id}/bad/bare`, "bare-model"),
      "INVALID_PARAMETER_VALUE",
      /is not a model package: it has no MLmodel file/,
    );
    await rejects(client.getRegisteredModel({ name: "bare-model" }), "RESOURCE_DOES_NOT_EXIST", /bare-model/);

    // the server refuses the version (a tag key over MLflow's limit): the model made for it is removed
    const badTags = { tags: { ["k".repeat(300)]: "v" } };
    await rejects(
      registerModel(client, logged.modelUri, "fresh-model", badTags),
      "INVALID_PARAMETER_VALUE",
      /'key' exceeds the maximum length/,
    );
    await rejects(client.getRegisteredModel({ name: "fresh-model" }), "RESOURCE_DOES_NOT_EXIST", /fresh-model/);
    // the server refuses a local source without a run: same outcome
    await rejects(
      registerModel(client, onnxDir, "local-model"),
      "INVALID_PARAMETER_VALUE",
      /To use a local path as a model version source/,
    );
    await rejects(client.getRegisteredModel({ name: "local-model" }), "RESOURCE_DOES_NOT_EXIST", /local-model/);
    // ...and an existing model keeps exactly the versions it had
    assert.equal(await versionsOf("iris-onnx"), 2);
    await rejects(
      registerModel(client, logged.modelUri, "iris-onnx", badTags),
      "INVALID_PARAMETER_VALUE",
      /'key' exceeds the maximum length/,
    );
    assert.equal(await versionsOf("iris-onnx"), 2);
    assert.equal((await client.getRegisteredModel({ name: "iris-onnx" })).registered_model.name, "iris-onnx");
  });
});
