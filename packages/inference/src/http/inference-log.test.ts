/**
 * Request ids and the inference log through the real model server over HTTP: every answer carries
 * `x-request-id`, each prediction reaches a real receiver as one record per row, with the inputs the
 * request gave and the outputs the response showed, and each failed prediction request for a served model
 * as one record with its status.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseMLmodel } from "@slipway/ml";
import { builtinPredictors } from "../predictors/builtin.js";
import { vertexSettings } from "../protocols/vertex.js";
import { InferenceLogger, type InferenceLogRecord } from "../serving/inference-logger.js";
import { InferenceMetrics } from "../serving/metrics.js";
import { ModelSet } from "../serving/model-set.js";
import { ServedModel } from "../serving/served-model.js";
import { writeOnnxPackage, type OnnxPackage } from "../testing/onnx-package.js";
import { echoPredictor, get } from "../testing/test-server.js";
import { startModelServer, type RunningModelServer } from "./model-server.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let iris: OnnxPackage;
let server: RunningModelServer;
let logger: InferenceLogger;
let receiver: ReturnType<typeof createServer>;
const received: InferenceLogRecord[] = [];

before(async () => {
  receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      received.push(...(JSON.parse(body) as { records: InferenceLogRecord[] }).records);
      response.writeHead(200, { "content-type": "application/json" }).end('{"inserted":0,"duplicates":0}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const { port } = receiver.address() as AddressInfo;

  iris = await writeOnnxPackage({ signature: "mlflow-tensor" });
  const metrics = new InferenceMetrics({ defaultMetrics: false });
  const models = new ModelSet();
  const predictor = await builtinPredictors().load(
    iris.dir,
    parseMLmodel(await readFile(join(iris.dir, "MLmodel"), "utf8")),
  );
  for (const model of [
    new ServedModel({ name: "iris", version: "2", predictor, hooks: metrics.modelHooks() }),
    new ServedModel({ name: "spam", predictor: echoPredictor(), hooks: metrics.modelHooks() }),
  ]) {
    await model.start();
    models.add(model);
  }
  logger = new InferenceLogger({
    endpoint: `http://127.0.0.1:${port}/api/2.0/slipway/inference-log`,
    sampleRate: 1,
    server: "test-pod",
    metrics,
  });
  logger.start();
  server = await startModelServer({
    models,
    metrics,
    version: "0.0.0-test",
    vertex: vertexSettings({}, "iris"),
    host: "127.0.0.1",
    port: 0,
    inferenceLog: logger,
  });
});

after(async () => {
  await server.close();
  await logger.close();
  await new Promise((resolve) => receiver.close(resolve));
  await iris.remove();
});

async function call(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    id: response.headers.get("x-request-id"),
    json: await response.json(),
  };
}

describe("x-request-id and the inference log", () => {
  it("answers every protocol with x-request-id and logs each row's inputs and outputs under it", async () => {
    // two models are served: /invocations is told which
    const mlflow = await call(
      "/invocations?model=iris",
      {
        instances: [
          [1, 0, 0, 0],
          [0, 0, 1, 0],
        ],
      },
      { "x-request-id": "client-42" },
    );
    assert.equal(mlflow.status, 200);
    assert.equal(mlflow.id, "client-42");
    const kserve = await call("/v2/models/spam/infer", {
      inputs: [{ name: "text", shape: [2], datatype: "BYTES", data: ["free money", "hi"] }],
      outputs: [{ name: "label" }],
    });
    assert.equal(kserve.status, 200);
    assert.match(kserve.id!, UUID);
    const kserveIris = await call(
      "/v2/models/iris/infer",
      { inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [0, 1, 0, 0] }] },
      { "x-request-id": "x".repeat(129) }, // too long: replaced
    );
    assert.equal(kserveIris.status, 200);
    assert.match(kserveIris.id!, UUID);
    const vertex = await call("/v1/endpoints/default/deployedModels/iris:predict", { instances: [[0, 0, 0, 1]] });
    assert.equal(vertex.status, 200);
    assert.match(vertex.id!, UUID);
    // errors carry one too; a failed request for a served model is logged as one record with its status
    const bad = await call(
      "/invocations",
      { instances: [[1, 0]] },
      { "x-request-id": "bad-1", "x-slipway-model": "iris" },
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.id, "bad-1");
    const badKserve = await call(
      "/v2/models/spam/infer",
      { inputs: [{ name: "nope", shape: [1], datatype: "BYTES", data: ["x"] }] },
      { "x-request-id": "bad-2" },
    );
    assert.equal(badKserve.status, 400);
    // ...but not one for a model that is not served, nor other routes
    const unknownModel = await call(
      "/v2/models/nope/infer",
      { inputs: [{ name: "text", shape: [1], datatype: "BYTES", data: ["x"] }] },
      { "x-request-id": "bad-3" },
    );
    assert.equal(unknownModel.status, 404);
    assert.match((await get(`${server.url}/ping`)).headers.get("x-request-id")!, UUID);
    assert.equal((await get(`${server.url}/v2/models/nope`)).status, 404);

    await logger.close();
    const byId = (id: string) => received.filter((r) => r.request_id === id);
    const [failed] = byId("bad-1");
    assert.ok(failed !== undefined && byId("bad-1").length === 1, "one record for the failed request");
    assert.ok(typeof failed.latency_ms === "number" && failed.latency_ms >= 0);
    assert.ok(typeof failed.timestamp_ms === "number");
    assert.deepEqual(
      { ...failed, latency_ms: 0, timestamp_ms: 0 },
      {
        request_id: "bad-1",
        row_index: 0,
        model_name: "iris",
        model_version: "2",
        timestamp_ms: 0,
        inputs: {},
        outputs: null,
        status: 400,
        latency_ms: 0,
        server: "test-pod",
      },
    );
    assert.deepEqual(
      byId("bad-2").map((r) => [r.row_index, r.model_name, r.model_version, r.status, r.inputs, r.outputs]),
      [[0, "spam", "", 400, {}, null]],
    );
    assert.equal(byId("bad-3").length, 0);

    // MLflow, tensor model: {"predictions": {output: [rows...]}}; each record holds its row of every output
    const predictions = (mlflow.json as { predictions: Record<string, unknown[]> }).predictions;
    const rows = byId("client-42");
    // predictions carry no status: the endpoint's default, 200
    assert.ok(rows.every((r) => !("status" in r)));
    assert.deepEqual(
      rows.map((r) => [r.row_index, r.model_name, r.model_version, r.server, r.inputs]),
      [
        [0, "iris", "2", "test-pod", { input: [1, 0, 0, 0] }],
        [1, "iris", "2", "test-pod", { input: [0, 0, 1, 0] }],
      ],
    );
    rows.forEach((r) =>
      assert.deepEqual(
        r.outputs,
        Object.fromEntries(Object.entries(predictions).map(([name, values]) => [name, values[r.row_index]])),
      ),
    );
    assert.equal((rows[1]!.outputs as { label: number }).label, 2);
    assert.ok(typeof rows[0]!.latency_ms === "number" && rows[0]!.latency_ms >= 0);

    // KServe, column model, only the requested output
    assert.deepEqual(
      byId(kserve.id!).map((r) => [r.row_index, r.model_name, r.model_version, r.inputs, r.outputs]),
      [
        [0, "spam", "", { text: "free money" }, { label: "FREE MONEY" }],
        [1, "spam", "", { text: "hi" }, { label: "HI" }],
      ],
    );
    const kserveOutputs = (kserveIris.json as { outputs: { name: string; data: unknown[] }[] }).outputs;
    assert.deepEqual(byId(kserveIris.id!)[0]!.outputs, {
      label: kserveOutputs.find((o) => o.name === "label")!.data[0],
      probabilities: kserveOutputs.find((o) => o.name === "probabilities")!.data,
    });

    // Vertex: one prediction per instance, the record holds that prediction
    const vertexRows = byId(vertex.id!);
    assert.deepEqual(vertexRows[0]!.inputs, { input: [0, 0, 0, 1] });
    assert.deepEqual(vertexRows[0]!.outputs, (vertex.json as { predictions: unknown[] }).predictions[0]);

    assert.equal(received.length, 8);
    assert.equal(logger.stats().sent, 8);
  });
});
