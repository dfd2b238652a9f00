/** The wire itself: status codes, MLflow error bodies, content types and bad input, through raw HTTP. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { startTestServer, type TestServer } from "../../testing/server.js";

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body !== undefined ? { "content-type": "application/json", ...headers } : headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    type: res.headers.get("content-type") ?? "",
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

async function newRunId(): Promise<string> {
  const r = await call("POST", "/api/2.0/mlflow/runs/create", JSON.stringify({ experiment_id: "0" }));
  return (r.json().run as { info: { run_id: string } }).info.run_id;
}

describe("HTTP surface", () => {
  it("answers /health, /version and /metrics", async () => {
    const health = await call("GET", "/health");
    assert.equal(health.status, 200);
    assert.equal(health.text, "OK");
    const version = await call("GET", "/version");
    assert.match(version.text, /^\d+\.\d+\.\d+/);
    await call("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0");
    const metrics = await call("GET", "/metrics");
    assert.equal(metrics.status, 200);
    assert.match(
      metrics.text,
      /slipway_http_requests_total\{method="GET",route="\/api\/2.0\/mlflow\/experiments\/get",status="200"\} \d+/,
    );
    assert.match(metrics.text, /slipway_http_request_duration_seconds_bucket/);
    assert.match(metrics.text, /slipway_db_operation_duration_seconds_count\{op="read"\} \d+/);
  });

  it("mounts every route under /api/2.0 and /ajax-api/2.0", async () => {
    for (const prefix of ["/api/2.0", "/ajax-api/2.0"]) {
      const r = await call("GET", `${prefix}/mlflow/experiments/get-by-name?experiment_name=Default`);
      assert.equal(r.status, 200);
      assert.equal((r.json().experiment as { experiment_id: string }).experiment_id, "0");
    }
    const search = await call("GET", "/api/2.0/mlflow/experiments/search?max_results=5");
    assert.equal(search.status, 200);
  });

  it("answers errors in MLflow's JSON format with its status codes", async () => {
    const cases: [string, string, string | undefined, number, string, RegExp?][] = [
      [
        "GET",
        "/api/2.0/mlflow/runs/get?run_id=0123456789abcdef0123456789abcdef",
        undefined,
        404,
        "RESOURCE_DOES_NOT_EXIST",
        /Run with id=/,
      ],
      [
        "GET",
        "/api/2.0/mlflow/experiments/get?experiment_id=999999",
        undefined,
        404,
        "RESOURCE_DOES_NOT_EXIST",
        /No Experiment with id=999999 exists/,
      ],
      [
        "GET",
        "/api/2.0/mlflow/experiments/get",
        undefined,
        400,
        "INVALID_PARAMETER_VALUE",
        /Missing value for required parameter 'experiment_id'/,
      ],
      ["POST", "/api/2.0/mlflow/experiments/create", "{broken", 400, "MALFORMED_REQUEST"],
      [
        "POST",
        "/api/2.0/mlflow/experiments/create",
        JSON.stringify({ name: 42 }),
        400,
        "INVALID_PARAMETER_VALUE",
        /Invalid value 42 for parameter 'name'/,
      ],
      [
        "POST",
        "/api/2.0/mlflow/experiments/create",
        JSON.stringify({}),
        400,
        "INVALID_PARAMETER_VALUE",
        /Missing value for required parameter 'name'/,
      ],
      [
        "POST",
        "/api/2.0/mlflow/runs/search",
        JSON.stringify({ experiment_ids: ["0"], filter: "metrics.a >" }),
        400,
        "INVALID_PARAMETER_VALUE",
      ],
      [
        "POST",
        "/api/2.0/mlflow/runs/search",
        JSON.stringify({ experiment_ids: "0", run_view_type: "SOME" }),
        400,
        "INVALID_PARAMETER_VALUE",
      ],
      [
        "GET",
        "/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=a&metric_key=x&max_results=abc",
        undefined,
        400,
        "INVALID_PARAMETER_VALUE",
      ],
      ["GET", "/api/2.0/mlflow/nope", undefined, 404, "ENDPOINT_NOT_FOUND"],
      ["DELETE", "/api/2.0/mlflow/runs/get", undefined, 405, "BAD_REQUEST"],
    ];
    for (const [method, path, body, status, code, message] of cases) {
      const r = await call(method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      assert.match(r.type, /application\/json/);
      const j = r.json();
      assert.equal(j.error_code, code, `${method} ${path}: ${r.text}`);
      assert.equal(typeof j.message, "string");
      if (message) assert.match(j.message as string, message);
    }
  });

  it("requires application/json for bodies", async () => {
    const r = await call("POST", "/api/2.0/mlflow/experiments/create", JSON.stringify({ name: "x" }), {
      "content-type": "text/plain",
    });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), {
      error_code: "INVALID_PARAMETER_VALUE",
      message: "Content-Type must be one of ['application/json']",
    });
  });

  it("accepts NaN and Infinity tokens and a JSON body encoded as a string, and writes them back", async () => {
    const runId = await newRunId();
    const body = `{"run_id": "${runId}", "metrics": [{"key": "n", "value": NaN, "timestamp": 1}, {"key": "i", "value": -Infinity, "timestamp": 1}]}`;
    assert.equal((await call("POST", "/api/2.0/mlflow/runs/log-batch", body)).status, 200);
    const twice = JSON.stringify(JSON.stringify({ run_id: runId, key: "k", value: "v" }));
    assert.equal((await call("POST", "/api/2.0/mlflow/runs/set-tag", twice)).status, 200);
    const history = await call("GET", `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=n`);
    assert.match(history.text, /"value":NaN/);
  });

  it("returns the whole metric history when max_results is absent (MLflow's documented behaviour)", async () => {
    const runId = await newRunId();
    for (let start = 0; start < 3000; start += 1000) {
      const metrics = Array.from({ length: 1000 }, (_, i) => ({
        key: "loss",
        value: (start + i) / 7,
        timestamp: start + i,
        step: start + i,
      }));
      assert.equal(
        (await call("POST", "/api/2.0/mlflow/runs/log-batch", JSON.stringify({ run_id: runId, metrics }))).status,
        200,
      );
    }
    const all = await call("GET", `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss`);
    const list = all.json().metrics as { value: number; step: number; run_id: string }[];
    assert.equal(list.length, 3000);
    assert.equal(list[2999]!.step, 2999);
    assert.equal(list[7]!.value, 1);
    assert.deepEqual(Object.keys(list[0]!).sort(), ["key", "step", "timestamp", "value"]);
    const paged = await call(
      "GET",
      `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss&max_results=25000`,
    );
    assert.equal((paged.json().metrics as unknown[]).length, 3000);
  });

  it("streams a history kept in many chunks, in order and complete", async () => {
    const runId = await newRunId();
    // 40 calls of 10 points: 40 chunks, more than one read of the streaming loop
    for (let c = 0; c < 40; c++) {
      const metrics = Array.from({ length: 10 }, (_, i) => ({
        key: "acc",
        value: c + i / 10,
        timestamp: c * 10 + i,
        step: c * 10 + i,
      }));
      assert.equal(
        (await call("POST", "/api/2.0/mlflow/runs/log-batch", JSON.stringify({ run_id: runId, metrics }))).status,
        200,
      );
    }
    const r = await call("GET", `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=acc`);
    const steps = (r.json().metrics as { step: number }[]).map((m) => m.step);
    assert.deepEqual(
      steps,
      Array.from({ length: 400 }, (_, i) => i),
    );
    const missing = await call(
      "GET",
      `/api/2.0/mlflow/metrics/get-history?run_id=0123456789abcdef0123456789abcdef&metric_key=acc`,
    );
    assert.equal(missing.status, 404);
  });

  it("refuses bodies over the limit with 413 and keeps serving", async () => {
    const huge = JSON.stringify({ name: "x".repeat(40 * 1024 * 1024) });
    const r = await call("POST", "/api/2.0/mlflow/experiments/create", huge);
    assert.equal(r.status, 413);
    assert.equal(r.json().error_code, "RESOURCE_EXHAUSTED");
    assert.equal((await call("GET", "/health")).status, 200);
  });

  it("never answers 500 to arbitrary bodies on any route (property test)", async () => {
    const routes: [string, string][] = [
      ["POST", "/api/2.0/mlflow/experiments/create"],
      ["POST", "/api/2.0/mlflow/experiments/search"],
      ["POST", "/api/2.0/mlflow/experiments/update"],
      ["POST", "/api/2.0/mlflow/experiments/set-experiment-tag"],
      ["POST", "/api/2.0/mlflow/runs/create"],
      ["POST", "/api/2.0/mlflow/runs/update"],
      ["POST", "/api/2.0/mlflow/runs/log-metric"],
      ["POST", "/api/2.0/mlflow/runs/log-parameter"],
      ["POST", "/api/2.0/mlflow/runs/set-tag"],
      ["POST", "/api/2.0/mlflow/runs/log-batch"],
      ["POST", "/api/2.0/mlflow/runs/log-inputs"],
      ["POST", "/api/2.0/mlflow/runs/search"],
      ["POST", "/api/2.0/mlflow/runs/delete"],
      ["POST", "/api/2.0/mlflow/runs/log-model"],
    ];
    const runId = await newRunId();
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(runId),
      fc.constantFrom("0", "-1", "../../etc/passwd", "metrics.a > 1", "params.x = 'y'", "a//b", "RUNNING", "ALL"),
      fc.array(
        fc.oneof(
          fc.string(),
          fc.record({ key: fc.string(), value: fc.oneof(fc.string(), fc.double()), timestamp: fc.integer() }),
        ),
        { maxLength: 5 },
      ),
    );
    const fields = fc.constantFrom(
      "name",
      "experiment_id",
      "experiment_ids",
      "run_id",
      "key",
      "value",
      "timestamp",
      "step",
      "metrics",
      "params",
      "tags",
      "filter",
      "order_by",
      "max_results",
      "status",
      "new_name",
      "datasets",
      "model_json",
      "page_token",
      "run_view_type",
    );
    const body = fc.oneof(fc.dictionary(fields, value, { maxKeys: 6 }), fc.string(), fc.jsonValue());
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, async ([method, path], b) => {
        const text = typeof b === "string" ? b : JSON.stringify(b);
        const r = await call(method, path, text);
        assert.ok(r.status < 500, `${method} ${path} ${text} → ${r.status} ${r.text}`);
        if (r.status >= 400) {
          const j = r.json();
          assert.equal(typeof j.error_code, "string");
          assert.equal(typeof j.message, "string");
        }
      }),
      { numRuns: 400, seed: 42 },
    );
    const query = fc.dictionary(fields, fc.oneof(fc.string(), fc.constantFrom("true", "false", "-5", "1e9", runId)), {
      maxKeys: 4,
    });
    const getRoutes = [
      "/api/2.0/mlflow/runs/get",
      "/api/2.0/mlflow/experiments/get",
      "/api/2.0/mlflow/metrics/get-history",
      "/api/2.0/mlflow/artifacts/list",
      "/api/2.0/mlflow/experiments/search",
      "/api/2.0/mlflow-artifacts/artifacts",
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...getRoutes), query, async (path, q) => {
        const r = await call("GET", `${path}?${new URLSearchParams(q).toString()}`);
        assert.ok(r.status < 500, `GET ${path} ${JSON.stringify(q)} → ${r.status} ${r.text}`);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
