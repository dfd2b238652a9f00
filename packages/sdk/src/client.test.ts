import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import {
  MlflowError,
  trackingRoutes,
  type Experiment,
  type RequestOf,
  type ResponseOf,
  type Run,
} from "@slipway/protocol";
import { DEFAULT_TRACKING_URI, TrackingClient, resolveTrackingUri } from "./client.js";
import { FakeMlflow } from "./testing/fake-mlflow.js";

const server = new FakeMlflow();
let client: TrackingClient;
before(async () => {
  await server.start();
  client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
});
after(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.canned.length = 0;
});

// ---- compile-time checks (this file is type-checked by `tsc -p packages/sdk`) ----
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}
expectType<Equal<Parameters<TrackingClient["getRun"]>[0], RequestOf<"getRun">>>();
expectType<Equal<Awaited<ReturnType<TrackingClient["getRun"]>>, ResponseOf<"getRun">>>();
expectType<Equal<Awaited<ReturnType<TrackingClient["createExperiment"]>>, { experiment_id: string }>>();
expectType<Equal<Awaited<ReturnType<TrackingClient["searchRuns"]>>["runs"], Run[] | undefined>>();
expectType<Equal<Awaited<ReturnType<typeof client.call<"getExperiment">>>, { experiment: Experiment }>>();
async function typeErrors(c: TrackingClient): Promise<void> {
  // @ts-expect-error experiment_name is required
  await c.getExperimentByName({});
  // @ts-expect-error run_ids must be a string[]
  await c.getMetricHistoryBulkInterval({ run_ids: "a", metric_key: "m" });
  // @ts-expect-error status must be a RunStatus
  await c.updateRun({ run_id: "r", status: "DONE" });
  // @ts-expect-error not a route
  await c.call("noSuchMethod", {});
}
// @ts-expect-error the response has no such field
type _Missing = Awaited<ReturnType<TrackingClient["createExperiment"]>>["experiment"];
void typeErrors;

// ---- runtime ----

test("resolveTrackingUri: SLIPWAY_ first, then MLFLOW_, then the default; blanks ignored", () => {
  assert.equal(resolveTrackingUri({}), DEFAULT_TRACKING_URI);
  assert.equal(resolveTrackingUri({ MLFLOW_TRACKING_URI: "http://m:1" }), "http://m:1");
  assert.equal(
    resolveTrackingUri({ MLFLOW_TRACKING_URI: "http://m:1", SLIPWAY_TRACKING_URI: "http://s:2" }),
    "http://s:2",
  );
  assert.equal(resolveTrackingUri({ SLIPWAY_TRACKING_URI: "  ", MLFLOW_TRACKING_URI: "http://m:1" }), "http://m:1");
});

test("the explicit option wins over the environment", () => {
  const saved = process.env.SLIPWAY_TRACKING_URI;
  process.env.SLIPWAY_TRACKING_URI = "http://from-env:1";
  try {
    assert.equal(new TrackingClient().trackingUri, "http://from-env:1");
    assert.equal(new TrackingClient({ trackingUri: "http://explicit:2/" }).trackingUri, "http://explicit:2");
  } finally {
    if (saved === undefined) delete process.env.SLIPWAY_TRACKING_URI;
    else process.env.SLIPWAY_TRACKING_URI = saved;
  }
});

test("non-HTTP tracking URIs are refused with a clear error", () => {
  for (const uri of ["./mlruns", "file:///tmp/mlruns", "databricks"]) {
    assert.throws(
      () => new TrackingClient({ trackingUri: uri }),
      (e: unknown) => e instanceof MlflowError && /http\(s\)/.test(e.message),
    );
  }
});

test("every route of the table is a method that calls its own path and HTTP method", async () => {
  const names = Object.keys(trackingRoutes);
  assert.ok(names.length >= 20);
  for (const name of names) assert.equal(typeof (client as unknown as Record<string, unknown>)[name], "function", name);
  await client.getExperiment({ experiment_id: "0" });
  await client.searchExperiments({ max_results: 5 });
  const [get, search] = server.requests;
  assert.equal(get!.method, "GET");
  assert.equal(get!.path, "/api/2.0/mlflow/experiments/get");
  assert.equal(search!.method, "POST");
  assert.equal(search!.path, "/api/2.0/mlflow/experiments/search");
});

test("each route method uses its table entry's HTTP method and path (JSON only off GET)", async () => {
  const dynamic = client as unknown as Record<string, (request: object) => Promise<unknown>>;
  for (const route of Object.values(trackingRoutes)) {
    server.requests.length = 0;
    server.canned.push({ status: 200, body: "{}" });
    assert.deepEqual(await dynamic[route.name]!({ probe: "x" }), {});
    const [req] = server.requests;
    assert.equal(req!.method, route.method, route.name);
    assert.equal(req!.path, `/api/2.0${route.path}`, route.name);
    if (route.method === "GET") {
      assert.equal(req!.query.get("probe"), "x");
      assert.equal(req!.body.length, 0);
    } else {
      assert.equal(req!.headers["content-type"], "application/json");
      assert.equal(req!.body.toString(), '{"probe":"x"}');
    }
  }
});

test("GET sends the request as a query string: repeated keys for lists, no body", async () => {
  await assert.rejects(
    client.getMetricHistoryBulkInterval({
      run_ids: ["a", "b"],
      metric_key: "loss",
      max_results: 10,
    }),
  );
  const req = server.requests[0]!;
  assert.equal(req.method, "GET");
  assert.deepEqual(req.query.getAll("run_ids"), ["a", "b"]);
  assert.equal(req.query.get("metric_key"), "loss");
  assert.equal(req.query.get("max_results"), "10");
  assert.equal(req.body.length, 0);
  assert.equal(req.headers["content-type"], undefined);
});

test("POST sends JSON with content-type application/json and NaN/Infinity tokens", async () => {
  const { experiment_id } = await client.createExperiment({
    name: "json-body",
    tags: [{ key: "k", value: "v" }],
  });
  const { run } = await client.createRun({ experiment_id, run_name: "r1", start_time: 1 });
  await client.logBatch({
    run_id: run.info.run_id,
    metrics: [
      { key: "nan", value: NaN, timestamp: 5, step: 0 },
      { key: "inf", value: -Infinity, timestamp: 5, step: 1 },
    ],
  });
  const create = server.calls("experiments/create")[0]!;
  assert.equal(create.headers["content-type"], "application/json");
  assert.deepEqual(create.json, { name: "json-body", tags: [{ key: "k", value: "v" }] });
  const batch = server.calls("runs/log-batch")[0]!.body.toString();
  assert.match(batch, /"value":NaN/);
  assert.match(batch, /"value":-Infinity/);
  // ...and they come back as numbers through parseJson
  const history = await client.getMetricHistory({ run_id: run.info.run_id, metric_key: "nan" });
  assert.ok(Number.isNaN(history.metrics![0]!.value));
  const inf = await client.getMetricHistoryAll(run.info.run_id, "inf");
  assert.equal(inf[0]!.value, -Infinity);
});

test("an empty answer body is {}", async () => {
  server.canned.push({ status: 200, body: "" });
  assert.deepEqual(await client.deleteExperiment({ experiment_id: "0" }), {});
});

test("a 2xx answer that is not JSON is an INTERNAL_ERROR naming the route", async () => {
  server.canned.push({ status: 200, body: "<html>proxy login</html>" });
  await assert.rejects(
    client.getExperiment({ experiment_id: "0" }),
    (e: unknown) => e instanceof MlflowError && e.code === "INTERNAL_ERROR" && /not JSON/.test(e.message),
  );
});

test("error answers become MlflowError with MLflow's code and status", async () => {
  await assert.rejects(client.getRun({ run_id: "deadbeef" }), (e: unknown) => {
    assert.ok(e instanceof MlflowError);
    assert.equal(e.code, "RESOURCE_DOES_NOT_EXIST");
    assert.equal(e.status, 404);
    assert.equal(e.message, "Run with id=deadbeef not found");
    return true;
  });
});

test("a tracking URI with a path prefix keeps it", async () => {
  server.canned.push({ status: 200, body: "{}" });
  const prefixed = new TrackingClient({ trackingUri: `${server.url}/mlflow/`, maxRetries: 0 });
  await prefixed.deleteRun({ run_id: "x" });
  assert.equal(server.requests[0]!.path, "/mlflow/api/2.0/mlflow/runs/delete");
});

test("custom headers are sent", async () => {
  const c = new TrackingClient({
    trackingUri: server.url,
    headers: { authorization: "Bearer t0k" },
  });
  await c.getExperiment({ experiment_id: "0" });
  assert.equal(server.requests[0]!.headers.authorization, "Bearer t0k");
});

test("getOrCreateExperiment: returns an existing one without creating", async () => {
  const exp = await client.getOrCreateExperiment("Default");
  assert.equal(exp.experiment_id, "0");
  assert.equal(server.calls("experiments/create").length, 0);
});

test("getOrCreateExperiment: creates on 404 and returns the full experiment", async () => {
  const exp = await client.getOrCreateExperiment("fresh", { tags: { team: "ml" } });
  assert.equal(exp.name, "fresh");
  assert.deepEqual(
    server.requests.map((r) => `${r.method} ${r.path.replace("/api/2.0/mlflow/", "")}`),
    ["GET experiments/get-by-name", "POST experiments/create", "GET experiments/get"],
  );
  assert.deepEqual(server.calls("experiments/create")[0]!.json, {
    name: "fresh",
    tags: [{ key: "team", value: "ml" }],
  });
});

test("getOrCreateExperiment: tolerates another client creating it first", async () => {
  await client.createExperiment({ name: "racy" });
  server.requests.length = 0;
  // our first look misses (the other client had not created it yet)...
  server.canned.push({
    status: 404,
    pathPrefix: "/mlflow/experiments/get-by-name",
    body: '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Could not find experiment with name \'racy\'"}',
  });
  const exp = await client.getOrCreateExperiment("racy");
  assert.equal(exp.name, "racy");
  assert.deepEqual(
    server.requests.map((r) => r.path.replace("/api/2.0/mlflow/", "")),
    ["experiments/get-by-name", "experiments/create", "experiments/get-by-name"],
  );
});

test("getOrCreateExperiment: other errors propagate", async () => {
  server.canned.push({ status: 403, body: '{"error_code":"PERMISSION_DENIED","message":"no"}' });
  await assert.rejects(
    client.getOrCreateExperiment("x"),
    (e: unknown) => e instanceof MlflowError && e.code === "PERMISSION_DENIED",
  );
});

test("searchAllRuns follows next_page_token", async () => {
  const { experiment_id } = await client.createExperiment({ name: "paging" });
  for (let i = 0; i < 7; i++) await client.createRun({ experiment_id, run_name: `r${i}` });
  server.requests.length = 0;
  const names: string[] = [];
  for await (const run of client.searchAllRuns({ experiment_ids: [experiment_id], max_results: 3 }))
    names.push(run.info.run_name);
  assert.deepEqual(names, ["r0", "r1", "r2", "r3", "r4", "r5", "r6"]);
  const searches = server.calls("runs/search");
  assert.equal(searches.length, 3);
  assert.equal((searches[0]!.json as Record<string, unknown>).page_token, undefined);
  assert.equal(typeof (searches[1]!.json as Record<string, unknown>).page_token, "string");
});

test("searchAllRuns on an empty result yields nothing with one request", async () => {
  const { experiment_id } = await client.createExperiment({ name: "empty-search" });
  server.requests.length = 0;
  const runs: Run[] = [];
  for await (const run of client.searchAllRuns({ experiment_ids: [experiment_id] })) runs.push(run);
  assert.deepEqual(runs, []);
  assert.equal(server.requests.length, 1);
});

test("searchAllExperiments sends max_results 1000 by default and pages", async () => {
  const all: string[] = [];
  for await (const e of client.searchAllExperiments()) all.push(e.name);
  assert.ok(all.includes("Default"));
  assert.equal((server.calls("experiments/search")[0]!.json as Record<string, unknown>).max_results, 1000);
  server.requests.length = 0;
  const paged: string[] = [];
  for await (const e of client.searchAllExperiments({ max_results: 2 })) paged.push(e.name);
  assert.deepEqual(paged, all);
  assert.equal(server.calls("experiments/search").length, Math.ceil(all.length / 2));
});

test("getMetricHistoryAll sends max_results=25000 and follows pages", async () => {
  const { run } = await client.createRun({ experiment_id: "0" });
  const stored = server.runs.get(run.info.run_id)!;
  for (let i = 0; i < 25_003; i++) stored.metrics.push({ key: "loss", value: i, timestamp: i, step: i });
  stored.metrics.push({ key: "other", value: 1, timestamp: 1, step: 0 });
  server.requests.length = 0;
  const history = await client.getMetricHistoryAll(run.info.run_id, "loss");
  assert.equal(history.length, 25_003);
  assert.equal(history.at(-1)!.value, 25_002);
  const calls = server.calls("metrics/get-history");
  assert.equal(calls.length, 2);
  assert.equal(calls[0]!.query.get("max_results"), "25000");
  assert.equal(calls[0]!.query.get("run_id"), run.info.run_id);
  assert.equal(calls[0]!.query.get("metric_key"), "loss");
  assert.ok(calls[1]!.query.get("page_token"));
});

test("getMetricHistoryAll stops on a token that repeats with an empty page (MLflow 3.4–3.6 quirk)", async () => {
  const token = Buffer.from('{"offset": 0}').toString("base64");
  server.canned.push({ status: 200, body: JSON.stringify({ next_page_token: token }) });
  server.canned.push({ status: 200, body: JSON.stringify({ next_page_token: token }) });
  const history = await client.getMetricHistoryAll("r", "m");
  assert.deepEqual(history, []);
  assert.equal(server.requests.length, 2);
});
