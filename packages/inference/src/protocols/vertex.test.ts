/**
 * Vertex AI's routes (from the AIP_* environment) and SageMaker's settings, over real HTTP.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { writeOnnxPackage, type OnnxPackage } from "../testing/onnx-package.js";
import { echoPredictor, get, post, startTestServer, type HttpResult, type TestServer } from "../testing/test-server.js";
import { sagemakerSettings } from "./sagemaker.js";
import { vertexSettings } from "./vertex.js";

const ENV = {
  AIP_HEALTH_ROUTE: "/v1/endpoints/123/deployedModels/456",
  AIP_PREDICT_ROUTE: "/v1/endpoints/123/deployedModels/456:predict",
};

let iris: OnnxPackage;
let server: TestServer;
let text: TestServer;

before(async () => {
  iris = await writeOnnxPackage({ signature: "mlflow-tensor" });
  server = await startTestServer([{ name: "iris", dir: iris.dir }], { env: ENV, bodyLimit: 16 * 1024 });
  text = await startTestServer([{ name: "spam", predictor: echoPredictor() }]);
});

after(async () => {
  await Promise.all([server.close(), text.close()]);
  await iris.remove();
});

function vertexError(r: HttpResult, status: number, message: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.match((r.json as { error: string }).error, message);
}

describe("vertexSettings", () => {
  it("reads the routes Vertex sets, or builds Vertex's defaults", () => {
    assert.deepEqual(vertexSettings(ENV, "iris"), {
      healthRoute: ENV.AIP_HEALTH_ROUTE,
      predictRoute: ENV.AIP_PREDICT_ROUTE,
    });
    assert.deepEqual(vertexSettings({ AIP_ENDPOINT_ID: "9", AIP_DEPLOYED_MODEL_ID: "7" }, "iris"), {
      healthRoute: "/v1/endpoints/9/deployedModels/7",
      predictRoute: "/v1/endpoints/9/deployedModels/7:predict",
    });
    assert.deepEqual(vertexSettings({}, "iris").predictRoute, "/v1/endpoints/default/deployedModels/iris:predict");
    assert.throws(
      () => vertexSettings({ AIP_PREDICT_ROUTE: "predict" }, "x"),
      /AIP_PREDICT_ROUTE: 'predict' is not a path/,
    );
  });
});

describe("Vertex AI routes", () => {
  it("answers the health route with 200 {}", async () => {
    const r = await get(`${server.url}${ENV.AIP_HEALTH_ROUTE}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {});
  });

  it("answers instances with one prediction per instance, in order", async () => {
    const r = await post(`${server.url}${ENV.AIP_PREDICT_ROUTE}`, {
      instances: [
        [0, 0, 1, 0],
        [1, 0, 0, 0],
      ],
    });
    assert.equal(r.status, 200, r.text);
    const predictions = (r.json as { predictions: { label: number; probabilities: number[] }[] }).predictions;
    assert.deepEqual(
      predictions.map((p) => p.label),
      [2, 0],
    );
    assert.equal(predictions[0]!.probabilities.length, 3);
  });

  it("takes instances as objects and parameters", async () => {
    const route = vertexSettings({}, "spam").predictRoute;
    const r = await post(`${text.url}${route}`, {
      instances: [{ text: "a" }, { text: "bc" }],
      parameters: { suffix: "." },
    });
    assert.deepEqual((r.json as { predictions: unknown }).predictions, [
      { label: "A.", length: 1 },
      { label: "BC.", length: 2 },
    ]);
  });

  it('answers bad requests as {"error"} with their status, never a 500', async () => {
    const url = `${server.url}${ENV.AIP_PREDICT_ROUTE}`;
    vertexError(
      await post(url, { instances: [[0, 0, 1, 0]] }, "text/plain"),
      415,
      /Unsupported content type 'text\/plain'/,
    );
    vertexError(await post(url, "{", "application/json"), 400, /not valid JSON/);
    vertexError(await post(url, { inputs: [[1, 0, 0, 0]] }), 400, /The request has no 'instances'/);
    vertexError(await post(url, { instances: { a: 1 } }), 400, /instances must be a list, got a mapping/);
    vertexError(
      await post(url, { instances: [[1, 0]] }),
      400,
      /tensor 'input' expects tensor<float32>\[-1, 4\] but got a list of 2/,
    );
    vertexError(
      await post(url, { instances: [[1, 0, 0, 0], { a: 1 }] }),
      400,
      /instances mixes objects and other values/,
    );
    const big = JSON.stringify({ instances: Array.from({ length: 2000 }, () => [1, 0, 0, 0]) });
    vertexError(await post(url, big), 413, /larger than the limit of 16384 bytes/);
    assert.equal((await post(url, { instances: [[1, 0, 0, 0]] })).status, 200);
  });
});

describe("sagemakerSettings", () => {
  it("binds all interfaces on 8080 or SAGEMAKER_BIND_TO_PORT, serving /opt/ml/model", () => {
    assert.deepEqual(sagemakerSettings({}), { host: "0.0.0.0", port: 8080, modelDir: "/opt/ml/model" });
    assert.equal(sagemakerSettings({ SAGEMAKER_BIND_TO_PORT: "9090" }).port, 9090);
    assert.throws(
      () => sagemakerSettings({ SAGEMAKER_BIND_TO_PORT: "http" }),
      /SAGEMAKER_BIND_TO_PORT: 'http' is not a port number/,
    );
  });

  it("/ping and /invocations are SageMaker's routes on the same server", async () => {
    assert.equal((await get(`${server.url}/ping`)).status, 200);
    const r = await post(`${server.url}/invocations`, "1,0,0,0\n0,1,0,0\n".replace(/^/, "a,b,c,d\n"), "text/csv");
    assert.deepEqual((r.json as { predictions: { label: number[] } }).predictions.label, [0, 1]);
  });
});
