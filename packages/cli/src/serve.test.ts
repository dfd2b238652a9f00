/**
 * End to end: a real `slipway server`, an ONNX model package (exported by `@slipway/ml`, with the MLmodel
 * MLflow's Python client writes) logged, registered and aliased through the SDK, and `slipway serve
 * models:/iris@champion` as a child process, called over every protocol with real HTTP, then stopped
 * with SIGTERM.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { exportLinearModelToOnnx, onnxFlavors, onnxSignature, writeMLmodel, type LinearModelParams } from "@slipway/ml";
import { Slipway, TrackingClient, logModel, setAlias, type ActiveRun } from "@slipway/sdk";
import { BIN, runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";

/** A 3-class softmax classifier over 4 features: row e_k is class k (k < 3). */
const IRIS: LinearModelParams = {
  link: "softmax",
  nFeatures: 4,
  nOutputs: 3,
  weights: Float64Array.from([3, 0, 0, 0.5, 0, 3, 0, 0.5, 0, 0, 3, 0.5]),
  bias: Float64Array.from([0, 0, 0]),
  classes: [0, 1, 2],
};

const VERTEX_ENV = {
  AIP_HEALTH_ROUTE: "/v1/endpoints/e1/deployedModels/d1",
  AIP_PREDICT_ROUTE: "/v1/endpoints/e1/deployedModels/d1:predict",
};

let tracking: ServerProcess;
let client: TrackingClient;
let run: ActiveRun;
let serve: ChildProcess;
let url: string;
let stdout = "";

/** Writes the package MLflow's `mlflow.onnx.log_model` writes: an unnamed float32 [-1, 4] tensor in. */
async function writeIrisPackage(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const named = onnxSignature(IRIS);
  await writeFile(join(dir, "model.onnx"), exportLinearModelToOnnx(IRIS));
  await writeFile(
    join(dir, "MLmodel"),
    writeMLmodel({
      flavors: onnxFlavors({ onnxVersion: "1.16.1", pythonVersion: "3.11.9" }),
      signature: {
        inputs: { kind: "tensors", tensors: [{ dtype: "float32", shape: [-1, 4] }] },
        outputs: named.outputs,
      },
      mlflow_version: "2.17.2",
    }),
  );
}

/** Starts `slipway serve ARGS` and resolves with its URL once it listens. */
function startServe(args: readonly string[], env: Record<string, string>): Promise<string> {
  serve = spawn(process.execPath, [BIN, "serve", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    serve.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    serve.once("exit", (code) => reject(new Error(`slipway serve exited with ${code}: ${stdout}`)));
  });
}

async function call(method: "GET" | "POST", path: string, body?: unknown, contentType = "application/json") {
  const response = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { "content-type": contentType }, body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, headers: response.headers };
}

before(async () => {
  tracking = await startServerProcess("slipway-serve-");
  client = new TrackingClient({ trackingUri: tracking.url, maxRetries: 0 });
  const slipway = new Slipway({ client, handleProcessExit: false });
  run = await slipway.startRun({ experiment: "serving", captureEnvironment: false });
  const pkg = join(tracking.dir, "iris-package");
  await writeIrisPackage(pkg);
  const logged = await logModel(run, pkg, "model", { registeredModelName: "iris" });
  await logModel(run, pkg, "model-v2", { registeredModelName: "iris" });
  assert.equal(logged.modelVersion?.version, "1");
  // the champion is version 2
  await setAlias(client, "iris", "champion", 2);
  await run.end();
  url = await startServe(
    ["models:/iris@champion", "--port", "0", "--tracking-uri", tracking.url, "--max-batch-size", "16"],
    {
      SLIPWAY_MODEL_CACHE: join(tracking.dir, "cache"),
      ...VERTEX_ENV,
    },
  );
});

after(async () => {
  if (serve && serve.exitCode === null && serve.signalCode === null) {
    serve.kill("SIGKILL");
    await new Promise((r) => serve.once("exit", r));
  }
  await tracking.stop();
});

describe("slipway serve models:/iris@champion", () => {
  it("loads the champion version and says where it listens", () => {
    assert.match(stdout, /loading models:\/iris@champion as 'iris'/);
    assert.match(stdout, /serving 'iris' version 2 \(onnx\)/);
    assert.match(stdout, /models: {3}iris \(version 2\)/);
  });

  it("speaks MLflow's scoring protocol", async () => {
    assert.equal((await call("GET", "/ping")).status, 200);
    assert.equal((await call("GET", "/version")).text, "0.1.0");
    const instances = await call("POST", "/invocations", {
      instances: [
        [1, 0, 0, 0],
        [0, 0, 1, 0],
      ],
    });
    assert.equal(instances.status, 200, instances.text);
    assert.deepEqual((instances.json as { predictions: { label: number[] } }).predictions.label, [0, 2]);
    const split = await call("POST", "/invocations", {
      dataframe_split: { columns: ["sl", "sw", "pl", "pw"], data: [[0, 1, 0, 0]] },
    });
    assert.deepEqual((split.json as { predictions: { label: number[] } }).predictions.label, [1]);
    const csv = await call("POST", "/invocations", "sl,sw,pl,pw\n0,0,1,0\n", "text/csv");
    assert.deepEqual((csv.json as { predictions: { label: number[] } }).predictions.label, [2]);
    const bad = await call("POST", "/invocations", { instances: [[1, 0, 0]] });
    assert.equal(bad.status, 400);
    assert.equal((bad.json as { error_code: string }).error_code, "BAD_REQUEST");
    assert.match((bad.json as { message: string }).message, /tensor 'input' expects tensor<float32>\[-1, 4\]/);
  });

  it("speaks KServe V2, with the registered name and version", async () => {
    assert.deepEqual((await call("GET", "/v2/health/ready")).json, { ready: true });
    const meta = (await call("GET", "/v2/models/iris")).json as { versions: string[]; platform: string };
    assert.deepEqual(meta.versions, ["2"]);
    assert.equal(meta.platform, "onnx_onnxv1");
    const infer = await call("POST", "/v2/models/iris/versions/2/infer", {
      id: "e2e",
      inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [0, 1, 0, 0] }],
    });
    assert.equal(infer.status, 200, infer.text);
    const body = infer.json as {
      model_name: string;
      model_version: string;
      id: string;
      outputs: { name: string; data: number[] }[];
    };
    assert.deepEqual([body.model_name, body.model_version, body.id], ["iris", "2", "e2e"]);
    assert.deepEqual(body.outputs.find((o) => o.name === "label")?.data, [1]);
    const unknown = await call("POST", "/v2/models/spam/infer", { inputs: [] });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json, { error: "Model 'spam' is not served here" });
    assert.equal((await call("GET", "/v2/models/iris/versions/1")).status, 404);
  });

  it("speaks SageMaker's contract (/ping and /invocations) and Vertex AI's routes from the environment", async () => {
    const ping = await call("GET", "/ping");
    assert.equal(ping.status, 200);
    const sagemaker = await call("POST", "/invocations", { inputs: [[0, 0, 1, 0]] });
    assert.deepEqual((sagemaker.json as { predictions: { label: number[] } }).predictions.label, [2]);
    assert.deepEqual((await call("GET", VERTEX_ENV.AIP_HEALTH_ROUTE)).json, {});
    const vertex = await call("POST", VERTEX_ENV.AIP_PREDICT_ROUTE, {
      instances: [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
      ],
    });
    assert.equal(vertex.status, 200, vertex.text);
    assert.deepEqual(
      (vertex.json as { predictions: { label: number }[] }).predictions.map((p) => p.label),
      [0, 1],
    );
  });

  it("serves many concurrent requests, each getting its own rows", async () => {
    const rows = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ];
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call("POST", "/invocations", { instances: [rows[i % 3]] })),
    );
    answers.forEach((a, i) =>
      assert.deepEqual((a.json as { predictions: { label: number[] } }).predictions.label, [i % 3]),
    );
  });

  it("exposes /metrics and /openapi.json", async () => {
    const metrics = (await call("GET", "/metrics")).text;
    assert.match(metrics, /slipway_inference_requests_total\{protocol="kserve",model="iris",status="200"\}/);
    assert.match(metrics, /slipway_inference_predictions_total\{model="iris",version="2",class="0"\}/);
    assert.match(metrics, /slipway_inference_batch_size_bucket/);
    const doc = (await call("GET", "/openapi.json")).json as { paths: Record<string, unknown> };
    assert.ok(doc.paths["/v2/models/{name}/infer"]);
    assert.ok(doc.paths[VERTEX_ENV.AIP_PREDICT_ROUTE]);
  });

  it("shuts down on SIGTERM with exit code 0", async () => {
    const exited = new Promise<number | null>((resolve) => serve.once("exit", (code) => resolve(code)));
    serve.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.match(stdout, /SIGTERM: finishing in-flight requests and shutting down/);
  });
});

describe("slipway serve refuses", () => {
  it("bad settings with a usage error (exit 2) and an unknown model with exit 1", async () => {
    const usage = await runSlipway([
      "serve",
      "models:/iris@champion",
      "--max-batch-size",
      "zero",
      "--tracking-uri",
      tracking.url,
    ]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--max-batch-size: 'zero' is not an integer/);
    const none = await runSlipway(["serve"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give at least one model URI/);
    const unknown = await runSlipway(
      ["serve", "models:/nope@champion", "--port", "0", "--tracking-uri", tracking.url],
      {
        SLIPWAY_MODEL_CACHE: join(tracking.dir, "cache"),
      },
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Cannot resolve model URI 'models:\/nope@champion'/);
  });
});
