/**
 * MLflow's scoring protocol over real HTTP: a real server with a real ONNX model (MLflow's unnamed
 * tensor signature) as the default model, and every input format and bad input, each answered in
 * MLflow's error format, never a 500; and, with two models served, `/invocations` choosing the model the
 * request names (header or query) and refusing to guess.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { writeOnnxPackage, type OnnxPackage } from "../testing/onnx-package.js";
import { echoPredictor, get, post, startTestServer, type HttpResult, type TestServer } from "../testing/test-server.js";

let iris: OnnxPackage;
let columns: OnnxPackage;
let server: TestServer;
let columnServer: TestServer;
let textServer: TestServer;
let twoServer: TestServer;
const echo = echoPredictor();

before(async () => {
  iris = await writeOnnxPackage({ signature: "mlflow-tensor" });
  columns = await writeOnnxPackage({ signature: "columns" });
  server = await startTestServer([{ name: "iris", dir: iris.dir, version: "3" }], { bodyLimit: 64 * 1024 });
  columnServer = await startTestServer([{ name: "iris-df", dir: columns.dir }]);
  textServer = await startTestServer([{ name: "spam", predictor: echo, batching: { queueCapacity: 1 } }]);
  twoServer = await startTestServer([
    { name: "iris", dir: iris.dir, version: "3" },
    { name: "spam", predictor: echoPredictor() },
  ]);
});

after(async () => {
  await Promise.all([server.close(), columnServer.close(), textServer.close(), twoServer.close()]);
  await Promise.all([iris.remove(), columns.remove()]);
});

const invocations = (body: unknown, contentType?: string | null) =>
  post(`${server.url}/invocations`, body, contentType);

/** An MLflow error answer: status, JSON content type, `error_code` and a message matching `message`. */
function mlflowError(r: HttpResult, status: number, message: RegExp, code = "BAD_REQUEST"): void {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
  const body = r.json as { error_code: string; message: string };
  assert.equal(body.error_code, code);
  assert.match(body.message, message);
}

const ROW0 = [1, 0, 0, 0];
const ROW2 = [0, 0, 1, 0];

function labels(r: HttpResult): number[] {
  assert.equal(r.status, 200, r.text);
  return (r.json as { predictions: { label: number[] } }).predictions.label;
}

describe("POST /invocations input formats", () => {
  it("takes instances and inputs as lists of tensor rows, answering a mapping of outputs", async () => {
    const r = await invocations({ instances: [ROW0, ROW2] });
    assert.deepEqual(labels(r), [0, 2]);
    const predictions = (r.json as { predictions: { probabilities: number[][] } }).predictions;
    assert.equal(predictions.probabilities.length, 2);
    assert.equal(predictions.probabilities[0]!.length, 3);
    assert.deepEqual(labels(await invocations({ inputs: [ROW2] })), [2]);
  });

  it("takes inputs as a mapping of named tensors", async () => {
    assert.deepEqual(labels(await invocations({ inputs: { input: [ROW0, ROW2] } })), [0, 2]);
  });

  it("takes dataframe_split and dataframe_records (columns side by side as the tensor)", async () => {
    const split = { columns: ["a", "b", "c", "d"], data: [ROW2, ROW0], index: [7, 8] };
    assert.deepEqual(labels(await invocations({ dataframe_split: split })), [2, 0]);
    const records = [
      { a: 0, b: 1, c: 0, d: 0 },
      { a: 1, b: 0, c: 0, d: 0 },
    ];
    assert.deepEqual(labels(await invocations({ dataframe_records: records })), [1, 0]);
  });

  it("takes CSV with a header row, and a utf-8 charset on either type", async () => {
    assert.deepEqual(labels(await invocations("a,b,c,d\n0,0,1,0\r\n1,0,0,0", "text/csv")), [2, 0]);
    assert.deepEqual(labels(await invocations({ inputs: [ROW0] }, "application/json; charset=UTF-8")), [0]);
  });

  it("answers column models with one record per row, as a data frame", async () => {
    const r = await post(`${columnServer.url}/invocations`, {
      dataframe_records: [{ f0: 0, f1: 0, f2: 1, f3: 0 }],
    });
    assert.equal(r.status, 200, r.text);
    const [record] = (r.json as { predictions: { label: number; probabilities: number[] }[] }).predictions;
    assert.equal(record!.label, 2);
    assert.equal(record!.probabilities.length, 3);
  });

  it("passes params through (checked against the signature) and answers text models with records", async () => {
    const r = await post(`${textServer.url}/invocations`, {
      inputs: { text: ["free money", "hi"] },
      params: { suffix: "!" },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((r.json as { predictions: unknown }).predictions, [
      { label: "FREE MONEY!", length: 10 },
      { label: "HI!", length: 2 },
    ]);
    const one = await post(`${textServer.url}/invocations`, { instances: ["see you at 5"] });
    assert.deepEqual((one.json as { predictions: unknown }).predictions, [{ label: "SEE YOU AT 5", length: 12 }]);
  });
});

describe("POST /invocations with two models served", () => {
  const call = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> => {
    const response = await fetch(`${twoServer.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  const irisRows = { instances: [ROW0, ROW2] };
  const texts = { instances: ["free money"] };

  it("serves the model named by the X-Slipway-Model header or ?model=", async () => {
    assert.deepEqual(labels(await call("/invocations", irisRows, { "X-Slipway-Model": "iris" })), [0, 2]);
    assert.deepEqual(labels(await call("/invocations?model=iris", irisRows)), [0, 2]);
    const spam = await call("/invocations", texts, { "x-slipway-model": "spam" });
    assert.equal(spam.status, 200, spam.text);
    assert.deepEqual((spam.json as { predictions: unknown }).predictions, [{ label: "FREE MONEY", length: 10 }]);
    const query = await call("/invocations?model=spam", texts);
    assert.deepEqual((query.json as { predictions: unknown }).predictions, [{ label: "FREE MONEY", length: 10 }]);
    // both, naming the same model
    assert.deepEqual(labels(await call("/invocations?model=iris", irisRows, { "x-slipway-model": "iris" })), [0, 2]);
  });

  it("answers a request that names no model with 400, listing the models, in MLflow's format", async () => {
    mlflowError(
      await call("/invocations", irisRows),
      400,
      /^this server serves 2 models \(iris, spam\): say which with the X-Slipway-Model header or \?model=$/,
    );
  });

  it("answers an unknown model with 404, listing the models served", async () => {
    mlflowError(
      await call("/invocations", irisRows, { "x-slipway-model": "nope" }),
      404,
      /^Model 'nope' is not served here; this server serves iris, spam$/,
      "RESOURCE_DOES_NOT_EXIST",
    );
    mlflowError(await call("/invocations?model=nope", irisRows), 404, /'nope'/, "RESOURCE_DOES_NOT_EXIST");
  });

  it("refuses selectors that disagree, repeat or are empty", async () => {
    mlflowError(
      await call("/invocations?model=spam", irisRows, { "x-slipway-model": "iris" }),
      400,
      /X-Slipway-Model header \('iris'\) and \?model= \('spam'\) name different models/,
    );
    mlflowError(await call("/invocations?model=iris&model=spam", irisRows), 400, /given more than once/);
    mlflowError(await call("/invocations?model=", irisRows), 400, /is empty: give a model name/);
  });

  it("counts each request under the model it got", async () => {
    await call("/invocations?model=spam", texts);
    const text = (await get(`${twoServer.url}/metrics`)).text;
    assert.match(text, /slipway_inference_requests_total\{protocol="mlflow",model="spam",status="200"\} \d+/);
    assert.match(text, /slipway_inference_requests_total\{protocol="mlflow",model="iris",status="200"\} \d+/);
    assert.match(text, /slipway_inference_requests_total\{protocol="mlflow",model="unknown",status="404"\} 2/);
    assert.match(text, /slipway_inference_requests_total\{protocol="mlflow",model="",status="400"\} \d+/);
  });

  it("documents the selector in the OpenAPI document", async () => {
    const doc = (await get(`${twoServer.url}/openapi.json`)).json as {
      paths: Record<string, { post?: { description?: string; responses: Record<string, unknown> } }>;
    };
    const invocations = doc.paths["/invocations"]!.post!;
    assert.match(invocations.description ?? "", /X-Slipway-Model header or the \?model= query parameter/);
    assert.ok(invocations.responses["404"]);
  });
});

describe("GET /ping, /health, /version", () => {
  it("answer 200 when the model is ready, and the version as text", async () => {
    for (const path of ["/ping", "/health"]) {
      const r = await get(`${server.url}${path}`);
      assert.equal(r.status, 200);
      assert.equal(r.text, "\n");
    }
    const v = await get(`${server.url}/version`);
    assert.equal(v.status, 200);
    assert.equal(v.text, "0.0.0-test");
    assert.match(v.headers.get("content-type") ?? "", /^text\/plain/);
  });
});

describe("bad input gets MLflow's error format, never a 500", () => {
  it("answers a wrong content type with 415 in plain text, as MLflow does", async () => {
    for (const [contentType, message] of [
      [
        "text/plain",
        /only supports the following content types: Types: \['text\/csv', 'application\/json'\]\. Got 'text\/plain'/,
      ],
      [null, /only supports the following content types/],
      ["application/json; charset=latin-1", /^The scoring server only supports UTF-8$/],
      ["application/json; format=pandas-split", /^Unrecognized content type parameters: format/],
    ] as const) {
      const r = await invocations({ inputs: [ROW0] }, contentType);
      assert.equal(r.status, 415, `${contentType}: ${r.text}`);
      assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
      assert.match(r.text, message);
    }
  });

  it("answers malformed JSON and a body that is not one of the four formats with 400", async () => {
    mlflowError(await invocations('{"inputs": [', "application/json"), 400, /Ensure that input is a valid JSON/);
    mlflowError(await invocations([ROW0]), 400, /exactly one of the input fields .*Received a list\./);
    mlflowError(
      await invocations({ instances: [ROW0], inputs: [ROW0] }),
      400,
      /Received dictionary with input fields: \['instances', 'inputs'\]/,
    );
    mlflowError(await invocations({ data: [ROW0] }), 400, /exactly one of the input fields/);
    mlflowError(await invocations('"just text"'), 400, /Received a string/);
  });

  it("names the column and the problem for inputs that do not fit the signature", async () => {
    mlflowError(
      await invocations({ inputs: [ROW0, [1, 2, 3]] }),
      400,
      /tensor 'input' expects tensor<float32>\[-1, 4\] but got a list of 3 where 4 values were expected in row 1 \(1 of 2\)/,
    );
    mlflowError(
      await invocations({ instances: [[1, 0, "zero", 0]] }),
      400,
      /tensor 'input' expects tensor<float32>\[-1, 4\] but got a string \('zero'\) at \[2\] in row 0/,
    );
    mlflowError(
      await post(`${columnServer.url}/invocations`, { dataframe_records: [{ f0: 1, f1: 0, f2: 0 }] }),
      400,
      /column 'f3' \(double\) is required but missing in row 0/,
    );
    mlflowError(
      await post(`${columnServer.url}/invocations`, "f0,f1,f2,f3\n1,0,x,0\n", "text/csv"),
      400,
      /column 'f2' expects double but got a string \('x'\) in row 0/,
    );
    mlflowError(
      await invocations({ dataframe_split: { columns: ["a", "b"], data: [[1, 2, 3]] } }),
      400,
      /dataframe_split\.data\[0\] has 3 values where 'columns' names 2/,
    );
    mlflowError(await invocations({ dataframe_records: [1, 2] }), 400, /dataframe_records\[0\] must be a record/);
    mlflowError(await invocations({ inputs: [] }), 400, /The input has no rows/);
    mlflowError(
      await invocations("a,b\n1,2,3\n", "text/csv"),
      400,
      /CSV row 1 \(line 2\) has 3 fields where the header has 2/,
    );
  });

  it("checks params against the signature", async () => {
    mlflowError(
      await post(`${textServer.url}/invocations`, { instances: ["x"], params: { suffix: 3 } }),
      400,
      /Invalid params: parameter 'suffix' expects string but got an integer/,
    );
    mlflowError(
      await post(`${textServer.url}/invocations`, { instances: ["x"], params: [1] }),
      400,
      /params must be a JSON object of parameter values, got a list/,
    );
  });

  it("answers a body over the limit with 413 in MLflow's format", async () => {
    const big = JSON.stringify({ inputs: Array.from({ length: 8000 }, () => ROW0) });
    assert.ok(big.length > 64 * 1024);
    mlflowError(await invocations(big), 413, /Request body is larger than the limit of 65536 bytes/);
  });

  it("answers unknown paths and methods in MLflow's format", async () => {
    mlflowError(await get(`${server.url}/nowhere`), 404, /No endpoint at GET \/nowhere/, "ENDPOINT_NOT_FOUND");
    mlflowError(await get(`${server.url}/invocations`), 405, /Method GET is not allowed for \/invocations/);
  });

  it("answers 503 with Retry-After when the admission queue is full", async () => {
    echo.hold();
    const url = `${textServer.url}/invocations`;
    const running = post(url, { instances: ["a"] });
    while (echo.calls === 0) await new Promise((r) => setTimeout(r, 1));
    const queued = post(url, { instances: ["b"] });
    await new Promise((r) => setTimeout(r, 20));
    const rejected = await post(url, { instances: ["c"] });
    echo.release();
    mlflowError(rejected, 503, /Model 'spam' is at capacity \(1 requests queued\)/, "TEMPORARILY_UNAVAILABLE");
    assert.equal(rejected.headers.get("retry-after"), "1");
    assert.equal((await running).status, 200);
    assert.equal((await queued).status, 200);
  });

  it("keeps serving after all of that", async () => {
    assert.deepEqual(labels(await invocations({ instances: [ROW2] })), [2]);
    const metrics = await get(`${server.url}/metrics`);
    assert.match(metrics.text, /slipway_inference_requests_total\{protocol="mlflow",model="iris",status="400"\} \d+/);
    assert.doesNotMatch(metrics.text, /status="500"/);
  });
});
