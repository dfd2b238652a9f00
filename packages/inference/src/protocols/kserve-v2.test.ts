/**
 * The KServe V2 / Open Inference Protocol over real HTTP: two models (a real ONNX classifier with a
 * version, and a text model), health, metadata, inference with flat and nested data, and every bad input
 * answered as `{"error": ...}` with the right status.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { writeOnnxPackage, type OnnxPackage } from "../testing/onnx-package.js";
import { echoPredictor, get, post, startTestServer, type HttpResult, type TestServer } from "../testing/test-server.js";

let iris: OnnxPackage;
let server: TestServer;

before(async () => {
  iris = await writeOnnxPackage({ signature: "mlflow-tensor" });
  server = await startTestServer(
    [
      { name: "iris", dir: iris.dir, version: "3" },
      { name: "spam", predictor: echoPredictor() },
    ],
    { bodyLimit: 32 * 1024 },
  );
});

after(async () => {
  await server.close();
  await iris.remove();
});

function kserveError(r: HttpResult, status: number, message: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
  const body = r.json as { error: string };
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.match(body.error, message);
}

const irisInput = (data: unknown, shape = [2, 4], datatype = "FP32") => ({
  inputs: [{ name: "input", shape, datatype, data }],
});

describe("KServe V2 health and metadata", () => {
  it("answers liveness, readiness and server metadata", async () => {
    assert.deepEqual((await get(`${server.url}/v2/health/live`)).json, { live: true });
    const ready = await get(`${server.url}/v2/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json, { ready: true });
    assert.deepEqual((await get(`${server.url}/v2`)).json, { name: "slipway", version: "0.0.0-test", extensions: [] });
  });

  it("describes each model: versions, platform, named input and output tensors", async () => {
    const meta = await get(`${server.url}/v2/models/iris`);
    assert.deepEqual(meta.json, {
      name: "iris",
      versions: ["3"],
      platform: "onnx_onnxv1",
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 4] }],
      outputs: [
        { name: "label", datatype: "INT64", shape: [-1] },
        { name: "probabilities", datatype: "FP32", shape: [-1, 3] },
      ],
    });
    assert.deepEqual((await get(`${server.url}/v2/models/iris/versions/3`)).json, meta.json);
    const spam = await get(`${server.url}/v2/models/spam`);
    assert.deepEqual((spam.json as { inputs: unknown }).inputs, [{ name: "text", datatype: "BYTES", shape: [-1] }]);
    assert.deepEqual((await get(`${server.url}/v2/models/iris/ready`)).json, { name: "iris", ready: true });
    assert.deepEqual((await get(`${server.url}/v2/models/iris/versions/3/ready`)).json, { name: "iris", ready: true });
  });
});

describe("KServe V2 inference", () => {
  it("takes flat and nested data and answers flat outputs with shapes and datatypes, echoing the id", async () => {
    const flat = await post(`${server.url}/v2/models/iris/infer`, { id: "42", ...irisInput([1, 0, 0, 0, 0, 0, 1, 0]) });
    assert.equal(flat.status, 200, flat.text);
    const body = flat.json as {
      model_name: string;
      model_version: string;
      id: string;
      outputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
    };
    assert.equal(body.model_name, "iris");
    assert.equal(body.model_version, "3");
    assert.equal(body.id, "42");
    assert.deepEqual(
      body.outputs.map((o) => [o.name, o.shape, o.datatype]),
      [
        ["label", [2], "INT64"],
        ["probabilities", [2, 3], "FP32"],
      ],
    );
    assert.deepEqual(body.outputs[0]!.data, [0, 2]);
    assert.equal(body.outputs[1]!.data.length, 6);
    const nested = await post(
      `${server.url}/v2/models/iris/versions/3/infer`,
      irisInput([
        [0, 1, 0, 0],
        [1, 0, 0, 0],
      ]),
    );
    assert.deepEqual((nested.json as typeof body).outputs[0]!.data, [1, 0]);
  });

  it("returns only the outputs asked for, and takes FP64 data for an FP32 model", async () => {
    const r = await post(`${server.url}/v2/models/iris/infer`, {
      ...irisInput([0, 0, 1, 0], [1, 4], "FP64"),
      outputs: [{ name: "label" }],
    });
    assert.deepEqual((r.json as { outputs: unknown }).outputs, [
      { name: "label", shape: [1], datatype: "INT64", data: [2] },
    ]);
  });

  it("serves a text model: BYTES in, BYTES and INT64 out, parameters passed on", async () => {
    const r = await post(`${server.url}/v2/models/spam/infer`, {
      parameters: { suffix: "?" },
      inputs: [{ name: "text", shape: [2], datatype: "BYTES", data: ["free money", "hi"] }],
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((r.json as { outputs: unknown }).outputs, [
      { name: "label", shape: [2], datatype: "BYTES", data: ["FREE MONEY?", "HI?"] },
      { name: "length", shape: [2], datatype: "INT64", data: [10, 2] },
    ]);
  });
});

describe('KServe V2 bad input: {"error"} with the right status, never a 500', () => {
  const infer = (body: unknown, contentType?: string | null) =>
    post(`${server.url}/v2/models/iris/infer`, body, contentType);

  it("answers an unknown model or version with 404", async () => {
    kserveError(
      await post(`${server.url}/v2/models/nope/infer`, irisInput([1, 0, 0, 0], [1, 4])),
      404,
      /Model 'nope' is not served here/,
    );
    kserveError(await get(`${server.url}/v2/models/nope`), 404, /Model 'nope' is not served here/);
    kserveError(
      await get(`${server.url}/v2/models/iris/versions/9/ready`),
      404,
      /Model 'iris' version '9' is not served here/,
    );
    kserveError(await get(`${server.url}/v2/models/iris/explain`), 404, /No endpoint at GET/);
  });

  it("answers a body that is not JSON, or sent as another type, with 400 / 415", async () => {
    kserveError(await infer("{nope", "application/json"), 400, /not valid JSON/);
    kserveError(await infer(irisInput([1, 0, 0, 0], [1, 4]), "text/csv"), 415, /Unsupported content type 'text\/csv'/);
    kserveError(await infer([1, 2]), 400, /must be a JSON object, got a list/);
  });

  it("names what is wrong with an input tensor", async () => {
    kserveError(await infer({}), 400, /has no 'inputs'/);
    kserveError(await infer({ inputs: [] }), 400, /non-empty list.*got an empty list/);
    kserveError(
      await infer({ inputs: [{ shape: [1], datatype: "FP32", data: [1] }] }),
      400,
      /inputs\[0\]\.name must be a non-empty string/,
    );
    kserveError(
      await infer(irisInput([1, 0, 0], [1, 4])),
      400,
      /input 'input': 'data' has 3 elements but shape \[1, 4\] holds 4/,
    );
    kserveError(await infer(irisInput([1, 0, 0, 0], [1, 4], "FP16")), 400, /datatype 'FP16' is not supported here/);
    kserveError(
      await infer(irisInput([1, 0, "0", 0], [1, 4])),
      400,
      /datatype FP32 takes numbers, but element 2 of 'data' is a string/,
    );
    kserveError(
      await infer(irisInput([1, 0, 0, 0], [2, 2])),
      400,
      /input 'input' has shape \[2, 2\] where the model expects tensor<float32>\[-1, 4\]/,
    );
    kserveError(
      await infer({ inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [1, 0, 0, 0] }] }),
      400,
      /the model has no input 'features' \(its inputs: input\)/,
    );
    kserveError(
      await infer({ ...irisInput([1, 0, 0, 0], [1, 4]), outputs: [{ name: "scores" }] }),
      400,
      /no output 'scores' \(its outputs: label, probabilities\)/,
    );
    kserveError(
      await post(`${server.url}/v2/models/spam/infer`, {
        inputs: [{ name: "text", shape: [1], datatype: "INT64", data: [3] }],
      }),
      400,
      /column 'text' expects string but got an integer in row 0/,
    );
    kserveError(
      await post(`${server.url}/v2/models/spam/infer`, {
        inputs: [{ name: "text", shape: [1], datatype: "BYTES", data: ["x"] }],
        parameters: { suffix: false },
      }),
      400,
      /parameter 'suffix' expects string but got a boolean/,
    );
  });

  it("answers a body over the limit with 413 in KServe's format", async () => {
    const data = Array.from({ length: 10_000 }, () => 0.5);
    kserveError(await infer(irisInput(data, [2500, 4])), 413, /larger than the limit of 32768 bytes/);
  });

  it("keeps serving", async () => {
    const r = await post(`${server.url}/v2/models/iris/infer`, irisInput([0, 1, 0, 0], [1, 4]));
    assert.equal(r.status, 200);
  });
});
