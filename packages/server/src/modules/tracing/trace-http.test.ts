/**
 * MLflow Tracing through the real server (SQLite): the wire format checked against protocol's schemas, both API
 * versions and both prefixes, the SDK's client, paging and filters over HTTP, tags, deletion, MLflow's upload of
 * `traces.json` through the artifact proxy, and bad input answered with MLflow's JSON errors (never a 500).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { TRACE_LIMITS, tracingRoutes } from "@slipway/protocol";
import {
  deleteTraceTag,
  experimentLocation,
  getTrace,
  getTraceInfo,
  searchTraces,
  setTraceTag,
  startTrace,
  TrackingClient,
} from "@slipway/sdk";
import { unique } from "../../testing/contract.js";
import { startTestServer, type TestServer } from "../../testing/server.js";

const T0 = Date.parse("2026-11-27T09:00:00.000Z");

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

async function call(server: TestServer, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          headers: { "content-type": "application/json" },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

function conforms(schema: TSchema, value: unknown, what: string): void {
  const errors = [...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`);
  assert.deepEqual(errors, [], `${what} does not match its schema`);
}

function traceBody(experimentId: string, id: string, extra: Record<string, unknown> = {}) {
  return {
    trace: {
      trace_info: {
        trace_id: id,
        trace_location: experimentLocation(experimentId),
        request_time: new Date(T0).toISOString(),
        execution_duration: "1.5s",
        state: "OK",
        trace_metadata: { "mlflow.trace_schema.version": "3" },
        tags: {},
        ...extra,
      },
      data: { spans: [{ trace_id: id, span_id: "a1", name: "root", attributes: {} }] },
    },
  };
}

describe("tracing over HTTP", () => {
  let server: TestServer;
  let experimentId: string;
  before(async () => {
    server = await startTestServer();
    experimentId = (await server.tracking.createExperiment({ name: unique("http-traces") })).experiment_id;
  });
  after(async () => {
    await server.stop();
  });

  it("start → get info → get → batchGet, answers matching their schemas, under /api and /ajax-api", async () => {
    const id = unique("tr-http");
    const started = await call(server, "POST", "/api/3.0/mlflow/traces", traceBody(experimentId, id));
    assert.equal(started.status, 200, JSON.stringify(started.json));
    conforms(tracingRoutes.startTraceV3.response, started.json, "startTraceV3");
    const info = await call(server, "GET", `/api/3.0/mlflow/traces/${id}`);
    assert.equal(info.status, 200);
    conforms(tracingRoutes.getTraceInfoV3.response, info.json, "getTraceInfoV3");
    assert.deepEqual(info.json, started.json);
    const ajax = await call(server, "GET", `/ajax-api/3.0/mlflow/traces/${id}`);
    assert.deepEqual(ajax.json, started.json);
    const full = await call(server, "GET", `/api/3.0/mlflow/traces/get?trace_id=${id}`);
    assert.equal(full.status, 200);
    conforms(tracingRoutes.getTrace.response, full.json, "getTrace");
    const spans = (full.json as { trace: { data: { spans: { name: string }[] } } }).trace.data.spans;
    assert.deepEqual(
      spans.map((s) => s.name),
      ["root"],
    );
    const batch = await call(server, "GET", `/api/3.0/mlflow/traces/batchGet?trace_ids=${id}&trace_ids=tr-none`);
    assert.equal(batch.status, 200);
    conforms(tracingRoutes.batchGetTraces.response, batch.json, "batchGetTraces");
    assert.equal((batch.json.traces as unknown[]).length, 1);
  });

  it("the SDK starts, reads, searches (filters, pages) and tags traces", async () => {
    const client = new TrackingClient({ trackingUri: server.url, credentialsEnv: false });
    const e = (await server.tracking.createExperiment({ name: unique("sdk-traces") })).experiment_id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `tr-sdk-${i}-${unique("x")}`;
      ids.push(id);
      const body = traceBody(e, id, {
        request_time: new Date(T0 + i * 1000).toISOString(),
        state: i === 2 ? "ERROR" : "OK",
        tags: { parity: i % 2 === 0 ? "even" : "odd" },
      });
      const info = await startTrace(client, body.trace as Parameters<typeof startTrace>[1]);
      assert.equal(info.trace_id, id);
    }
    assert.equal((await getTraceInfo(client, ids[0]!)).execution_duration, "1.5s");
    assert.equal((await getTrace(client, ids[0]!)).data?.spans.length, 1);
    const errors = await searchTraces(client, { experimentIds: [e], filter: "trace.status = 'ERROR'" });
    assert.deepEqual(
      errors.traces.map((t) => t.trace_id),
      [ids[2]],
    );
    const even = await searchTraces(client, {
      experimentIds: [e],
      filter: `tag.parity = 'even' AND trace.timestamp_ms >= ${T0 + 1000}`,
    });
    assert.deepEqual(
      even.traces.map((t) => t.trace_id),
      [ids[4], ids[2]],
    );
    const seen: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await searchTraces(client, {
        experimentIds: [e],
        maxResults: 2,
        ...(pageToken ? { pageToken } : {}),
      });
      seen.push(...page.traces.map((t) => t.trace_id));
      pageToken = page.next_page_token;
    } while (pageToken !== undefined);
    assert.deepEqual(seen, [...ids].reverse());
    await setTraceTag(client, ids[0]!, { key: "reviewed", value: "yes" });
    assert.equal((await getTraceInfo(client, ids[0]!)).tags?.reviewed, "yes");
    await deleteTraceTag(client, ids[0]!, "reviewed");
    assert.equal((await getTraceInfo(client, ids[0]!)).tags?.reviewed, undefined);
    // MLflow 2's search lists the same traces in its own shape
    const v2 = await call(server, "GET", `/api/2.0/mlflow/traces?experiment_ids=${e}&max_results=1`);
    assert.equal(v2.status, 200);
    conforms(tracingRoutes.searchTraces.response, v2.json, "searchTraces (v2)");
    assert.equal((v2.json.traces as { request_id: string }[])[0]!.request_id, ids[4]);
    const deleted = await call(server, "POST", "/api/3.0/mlflow/traces/delete-traces", {
      experiment_id: e,
      max_timestamp_millis: T0 + 1000,
    });
    assert.deepEqual(deleted.json, { traces_deleted: 2 });
    const v2deleted = await call(server, "POST", "/api/2.0/mlflow/traces/delete-traces", {
      experiment_id: e,
      request_ids: [ids[4]],
    });
    assert.deepEqual(v2deleted.json, { traces_deleted: 1 });
    assert.equal((await searchTraces(client, { experimentIds: [e] })).traces.length, 2);
  });

  it("spans MLflow's clients upload to mlflow.artifactLocation are served by getTrace", async () => {
    const id = unique("tr-upload");
    const body = traceBody(experimentId, id);
    delete (body.trace as { data?: unknown }).data;
    const started = await call(server, "POST", "/api/3.0/mlflow/traces", body);
    const location = (started.json as { trace: { trace_info: { tags: Record<string, string> } } }).trace.trace_info
      .tags["mlflow.artifactLocation"]!;
    assert.equal(location, `mlflow-artifacts:/${experimentId}/traces/${id}/artifacts`);
    // what MLflow's client does: PUT traces.json through the artifact proxy
    const path = location.replace(/^mlflow-artifacts:\//, "");
    const spans = [{ trace_id: id, span_id: "u1", name: "uploaded" }];
    const put = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${path}/traces.json`, {
      method: "PUT",
      body: JSON.stringify({ spans }),
    });
    assert.equal(put.status, 200);
    const full = await call(server, "GET", `/api/3.0/mlflow/traces/get?trace_id=${id}`);
    assert.deepEqual((full.json as { trace: { data: { spans: unknown } } }).trace.data.spans, spans);
  });

  it("bad requests get MLflow's JSON errors naming the problem, never a 500", async () => {
    const cases: [string, string, unknown, number, string, RegExp][] = [
      ["POST", "/api/3.0/mlflow/traces", {}, 400, "INVALID_PARAMETER_VALUE", /'trace'/],
      ["POST", "/api/3.0/mlflow/traces", "[1,2]", 400, "INVALID_PARAMETER_VALUE", /request/],
      ["POST", "/api/3.0/mlflow/traces", "{nope", 400, "MALFORMED_REQUEST", /Malformed JSON/],
      ["POST", "/api/3.0/mlflow/traces", traceBody("424242", "tr-orphan"), 404, "RESOURCE_DOES_NOT_EXIST", /424242/],
      [
        "POST",
        "/api/3.0/mlflow/traces",
        traceBody("0", "tr-bad-time", { request_time: "noon" }),
        400,
        "INVALID_PARAMETER_VALUE",
        /request_time/,
      ],
      ["GET", "/api/3.0/mlflow/traces/tr-nothing", undefined, 404, "RESOURCE_DOES_NOT_EXIST", /tr-nothing/],
      ["GET", "/api/3.0/mlflow/traces/get", undefined, 400, "INVALID_PARAMETER_VALUE", /trace_id/],
      ["GET", "/api/3.0/mlflow/traces/batchGet", undefined, 400, "INVALID_PARAMETER_VALUE", /trace_ids/],
      ["POST", "/api/3.0/mlflow/traces/search", {}, 400, "INVALID_PARAMETER_VALUE", /locations/],
      [
        "POST",
        "/api/3.0/mlflow/traces/search",
        { locations: [experimentLocation("0")], filter: "trace.status LIKE 'O%'" },
        400,
        "INVALID_PARAMETER_VALUE",
        /LIKE/,
      ],
      [
        "POST",
        "/api/3.0/mlflow/traces/search",
        { locations: [{ type: "INFERENCE_TABLE" }] },
        400,
        "INVALID_PARAMETER_VALUE",
        /locations\[0\]\.type/,
      ],
      ["GET", "/api/2.0/mlflow/traces", undefined, 400, "INVALID_PARAMETER_VALUE", /experiment_ids/],
      [
        "PATCH",
        "/api/3.0/mlflow/traces/tr-nothing/tags",
        { key: "a", value: "b" },
        404,
        "RESOURCE_DOES_NOT_EXIST",
        /tr-nothing/,
      ],
      ["PATCH", "/api/3.0/mlflow/traces/tr-nothing/tags", { value: "b" }, 400, "INVALID_PARAMETER_VALUE", /'key'/],
      [
        "POST",
        "/api/3.0/mlflow/traces/delete-traces",
        { experiment_id: "0" },
        400,
        "INVALID_PARAMETER_VALUE",
        /Exactly one/,
      ],
    ];
    for (const [method, path, body, status, code, message] of cases) {
      const answer = await call(server, method, path, body);
      assert.equal(answer.status, status, `${method} ${path}: ${JSON.stringify(answer.json)}`);
      assert.equal(answer.json.error_code, code, `${method} ${path}`);
      assert.match(String(answer.json.message), message, `${method} ${path}`);
    }
  });

  it("a body over the trace size limit is refused with 413 and a clear message", async () => {
    const big = traceBody(experimentId, "tr-too-big");
    (big.trace.data.spans[0] as Record<string, unknown>).attributes = {
      blob: "x".repeat(TRACE_LIMITS.maxBodyBytes + 10),
    };
    const answer = await call(server, "POST", "/api/3.0/mlflow/traces", big);
    assert.equal(answer.status, 413);
    assert.equal(answer.json.error_code, "RESOURCE_EXHAUSTED");
    assert.match(String(answer.json.message), new RegExp(`limit of ${TRACE_LIMITS.maxBodyBytes} bytes`));
  });

  it("the OpenAPI document lists the trace routes with their schemas", async () => {
    const doc = (await call(server, "GET", "/api/2.0/slipway/openapi.json")).json as {
      paths: Record<string, Record<string, { operationId: string; tags: string[] }>>;
    };
    assert.equal(doc.paths["/api/3.0/mlflow/traces"]?.post?.operationId, "startTraceV3");
    assert.equal(doc.paths["/api/3.0/mlflow/traces/search"]?.post?.operationId, "searchTracesV3");
    assert.equal(doc.paths["/api/3.0/mlflow/traces/{trace_id}"]?.get?.operationId, "getTraceInfoV3");
    assert.equal(doc.paths["/api/2.0/mlflow/traces"]?.get?.operationId, "searchTraces");
    assert.deepEqual(doc.paths["/api/3.0/mlflow/traces"]?.post?.tags, ["MLflow tracing"]);
  });
});
