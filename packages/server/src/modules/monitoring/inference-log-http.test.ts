/**
 * The inference log and feedback API through the real server (SQLite, and PostgreSQL when the machine has it): the
 * wire format checked against protocol's schemas, labels before and after their rows, retries, atomicity, paging,
 * and every validation error answered 400 with the field named (never a 500, whatever the body).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { inferenceLogRoutes, INFERENCE_LOG_LIMITS, type InferenceLogRecord } from "@slipway/protocol";
import { backendSuite, unique } from "../../testing/contract.js";
import { createTempDatabase } from "../../testing/postgres.js";
import { startTestServer, type TestServer } from "../../testing/server.js";

const LOG = "/api/2.0/slipway/inference-log";
const FEEDBACK = "/api/2.0/slipway/feedback";
const SEARCH = "/api/2.0/slipway/inference-log/search";
const STATS = "/api/2.0/slipway/inference-log/stats";
const T0 = 1_700_000_000_000;

interface Answer {
  status: number;
  text: string;
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
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // NaN tokens or not JSON: tests that care read `text`
  }
  return { status: res.status, text, json };
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return `?${q.toString()}`;
}

function conforms(schema: TSchema, value: unknown): void {
  const errors = [...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`);
  assert.deepEqual(errors, [], JSON.stringify(value).slice(0, 500));
}

function record(model: string, id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_id: id,
    model_name: model,
    model_version: "1",
    timestamp_ms: T0,
    inputs: { x: 1.5 },
    outputs: 1,
    ...extra,
  };
}

function httpSuite(name: string, make: () => Promise<TestServer | { skip: string }>): void {
  describe(`inference log over HTTP: ${name}`, () => {
    const { test, subject } = backendSuite(async () => {
      const server = await make();
      return "skip" in server ? server : { server, cleanup: () => server.stop() };
    });
    const server = () => subject().server;
    const post = (path: string, body: unknown) => call(server(), "POST", path, body);
    const get = (path: string) => call(server(), "GET", path);

    async function search(params: Record<string, string | number | boolean | undefined>): Promise<Answer> {
      const r = await get(`${SEARCH}${query(params)}`);
      assert.equal(r.status, 200, r.text);
      conforms(inferenceLogRoutes.searchInferenceLog.response, r.json);
      return r;
    }
    const records = (r: Answer) => r.json.records as InferenceLogRecord[];

    test("round trip: log, search and stats, under /api and /ajax-api, matching protocol's schemas", async () => {
      const model = unique("http-round-trip");
      const body = {
        records: [
          record(model, "r1", {
            row_index: 0,
            inputs: { text: "héllo", n: 2 },
            outputs: { label: "spam", p: 0.9 },
            latency_ms: 3.25,
            server: "pod-a",
          }),
          record(model, "r1", { row_index: 1, outputs: [0.1, 0.9] }),
          record(model, "r2", { timestamp_ms: T0 + 10, outputs: null, model_version: "2" }),
        ],
      };
      conforms(inferenceLogRoutes.logInferences.request, body);
      const logged = await post(LOG, body);
      assert.equal(logged.status, 200, logged.text);
      assert.deepEqual(logged.json, { inserted: 3, duplicates: 0 });
      conforms(inferenceLogRoutes.logInferences.response, logged.json);

      const found = await search({ model_name: model });
      assert.deepEqual(records(found), [
        {
          request_id: "r1",
          row_index: 0,
          model_name: model,
          model_version: "1",
          timestamp_ms: T0,
          inputs: { text: "héllo", n: 2 },
          outputs: { label: "spam", p: 0.9 },
          status: 200,
          latency_ms: 3.25,
          server: "pod-a",
        },
        {
          request_id: "r1",
          row_index: 1,
          model_name: model,
          model_version: "1",
          timestamp_ms: T0,
          inputs: { x: 1.5 },
          outputs: [0.1, 0.9],
          status: 200,
        },
        {
          request_id: "r2",
          row_index: 0,
          model_name: model,
          model_version: "2",
          timestamp_ms: T0 + 10,
          inputs: { x: 1.5 },
          outputs: null,
          status: 200,
        },
      ]);
      assert.equal(found.json.next_page_token, undefined);

      const ajax = await get(
        `/ajax-api/2.0/slipway/inference-log/search${query({ model_name: model, model_version: "2" })}`,
      );
      assert.equal(ajax.status, 200);
      assert.deepEqual(
        records(ajax).map((r) => r.request_id),
        ["r2"],
      );

      const stats = await get(`${STATS}${query({ model_name: model })}`);
      assert.equal(stats.status, 200, stats.text);
      conforms(inferenceLogRoutes.getInferenceLogStats.response, stats.json);
      assert.deepEqual(stats.json, { records: 3, labelled: 0, first_timestamp_ms: T0, last_timestamp_ms: T0 + 10 });
      const none = await get(`${STATS}${query({ model_name: unique("none") })}`);
      assert.deepEqual(none.json, { records: 0, labelled: 0 });
      conforms(inferenceLogRoutes.getInferenceLogStats.response, none.json);
    });

    test("NaN and Infinity in inputs and outputs survive the round trip as Python's JSON writes them", async () => {
      const model = unique("http-nan");
      const text = `{"records": [{"request_id": "n", "model_name": "${model}", "model_version": "1", "timestamp_ms": ${T0}, "inputs": {"a": NaN, "b": -Infinity}, "outputs": Infinity}]}`;
      assert.equal((await post(LOG, text)).status, 200);
      const r = await get(`${SEARCH}${query({ model_name: model })}`);
      assert.match(r.text, /"inputs":\{"a":NaN,"b":-Infinity\},"outputs":Infinity/);
    });

    test("a label sent before its row and one sent after both join it; the last label for a key wins", async () => {
      const model = unique("http-labels");
      const first = await post(FEEDBACK, { request_id: `before-${model}`, label: "spam", timestamp_ms: T0 + 1 });
      assert.equal(first.status, 200, first.text);
      assert.deepEqual(first.json, { accepted: 1 });
      conforms(inferenceLogRoutes.addFeedback.response, first.json);
      await post(LOG, {
        records: [record(model, `before-${model}`), record(model, `after-${model}`, { timestamp_ms: T0 + 1 })],
      });
      let found = await search({ model_name: model, labelled_only: true });
      assert.deepEqual(
        records(found).map((r) => [r.request_id, r.label, r.label_timestamp_ms]),
        [[`before-${model}`, "spam", T0 + 1]],
      );
      const batch = {
        labels: [
          { request_id: `after-${model}`, label: { y: 0 }, timestamp_ms: T0 + 2 },
          { request_id: `before-${model}`, row_index: 0, label: "ham", timestamp_ms: T0 + 3 },
        ],
      };
      conforms(inferenceLogRoutes.addFeedback.request, batch);
      assert.deepEqual((await post(FEEDBACK, batch)).json, { accepted: 2 });
      found = await search({ model_name: model });
      assert.deepEqual(
        records(found).map((r) => [r.request_id, r.label, r.label_timestamp_ms]),
        [
          [`before-${model}`, "ham", T0 + 3],
          [`after-${model}`, { y: 0 }, T0 + 2],
        ],
      );
      const stats = await get(`${STATS}${query({ model_name: model })}`);
      assert.deepEqual(stats.json, { records: 2, labelled: 2, first_timestamp_ms: T0, last_timestamp_ms: T0 + 1 });
      // a label without a timestamp gets the server's clock
      const before = Date.now();
      await post(FEEDBACK, { request_id: `after-${model}`, label: 1 });
      const stamped = records(await search({ model_name: model }))[1]!.label_timestamp_ms!;
      assert.ok(stamped >= before && stamped <= Date.now() + 1000, String(stamped));
    });

    test("a retried batch is answered with duplicates and changes nothing", async () => {
      const model = unique("http-retry");
      const body = { records: Array.from({ length: 20 }, (_, i) => record(model, `q-${i}`, { outputs: i })) };
      assert.deepEqual((await post(LOG, body)).json, { inserted: 20, duplicates: 0 });
      assert.deepEqual((await post(LOG, body)).json, { inserted: 0, duplicates: 20 });
      const changed = { records: [record(model, "q-0", { outputs: "other" }), record(model, "q-20")] };
      assert.deepEqual((await post(LOG, changed)).json, { inserted: 1, duplicates: 1 });
      const found = records(await search({ model_name: model }));
      assert.equal(found.length, 21);
      assert.equal(found.find((r) => r.request_id === "q-0")!.outputs, 0);
    });

    test("a batch with one invalid record is refused whole: nothing is stored", async () => {
      const model = unique("http-atomic");
      const list: unknown[] = Array.from({ length: 50 }, (_, i) => record(model, `ok-${i}`));
      list[31] = record(model, "bad", { inputs: "not an object" });
      const r = await post(LOG, { records: list });
      assert.equal(r.status, 400);
      assert.equal(r.json.error_code, "INVALID_PARAMETER_VALUE");
      assert.match(r.json.message as string, /'records\[31\]\.inputs'/);
      assert.deepEqual((await get(`${STATS}${query({ model_name: model })}`)).json, { records: 0, labelled: 0 });
      const labels = await post(FEEDBACK, { labels: [{ request_id: "l1", label: 1 }, { request_id: "l2" }] });
      assert.equal(labels.status, 400);
      assert.match(labels.json.message as string, /'labels\[1\]\.label'/);
    });

    test("pages through a search with next_page_token until every row was seen once", async () => {
      const model = unique("http-pages");
      const body = {
        records: Array.from({ length: 23 }, (_, i) =>
          record(model, `p-${i % 4}`, { row_index: i, timestamp_ms: T0 + (i % 5) }),
        ),
      };
      assert.deepEqual((await post(LOG, body)).json, { inserted: 23, duplicates: 0 });
      const seen: InferenceLogRecord[] = [];
      let token: string | undefined;
      const sizes: number[] = [];
      do {
        const page = await search({ model_name: model, max_results: 5, page_token: token });
        sizes.push(records(page).length);
        seen.push(...records(page));
        token = page.json.next_page_token as string | undefined;
      } while (token !== undefined);
      assert.deepEqual(sizes, [5, 5, 5, 5, 3]);
      const keys = seen.map((r) => [r.timestamp_ms, r.request_id, r.row_index] as const);
      const sorted = [...keys].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2]);
      assert.deepEqual(keys, sorted);
      assert.equal(new Set(keys.map((k) => k.join("/"))).size, 23);
      // the same pages with the other filters on
      const labelled = await search({
        model_name: model,
        labelled_only: false,
        start_ms: T0 + 1,
        end_ms: T0 + 3,
        max_results: 100,
      });
      assert.equal(
        records(labelled).length,
        seen.filter((r) => r.timestamp_ms >= T0 + 1 && r.timestamp_ms < T0 + 3).length,
      );
    });

    test("answers every invalid request with 400 INVALID_PARAMETER_VALUE naming the field", async () => {
      const m = unique("http-invalid");
      const ok = record(m, "x");
      const one = (extra: Record<string, unknown>) => ({ records: [{ ...ok, ...extra }] });
      const without = (key: string) => {
        const copy: Record<string, unknown> = { ...ok };
        delete copy[key];
        return { records: [copy] };
      };
      const tooMany = {
        records: Array.from({ length: INFERENCE_LOG_LIMITS.maxBatch + 1 }, (_, i) => record(m, `t-${i}`)),
      };
      const tooManyLabels = {
        labels: Array.from({ length: INFERENCE_LOG_LIMITS.maxBatch + 1 }, (_, i) => ({
          request_id: `t-${i}`,
          label: 1,
        })),
      };
      const goodToken = (await search({ model_name: m })).json.next_page_token;
      assert.equal(goodToken, undefined);
      const forged = Buffer.from(JSON.stringify([T0, 42, 0])).toString("base64url");
      const cases: [string, string, unknown, RegExp][] = [
        ["POST", LOG, [ok], /parameter 'request'.*Expected a JSON object/],
        ["POST", LOG, {}, /Missing value for required parameter 'records'/],
        ["POST", LOG, { records: ok }, /parameter 'records'.*Expected a list of records/],
        ["POST", LOG, { records: [] }, /'records': it must hold at least 1 record/],
        ["POST", LOG, tooMany, /'records': at most 5000 records per call, got 5001/],
        ["POST", LOG, { records: [ok, "row"] }, /parameter 'records\[1\]'.*Expected an object/],
        ["POST", LOG, without("request_id"), /Missing value for required parameter 'records\[0\]\.request_id'/],
        ["POST", LOG, one({ request_id: 7 }), /parameter 'records\[0\]\.request_id'.*Expected a string/],
        ["POST", LOG, one({ request_id: "" }), /'records\[0\]\.request_id': it must not be empty/],
        [
          "POST",
          LOG,
          one({ request_id: "a".repeat(513) }),
          /'records\[0\]\.request_id': it must be at most 512 characters/,
        ],
        ["POST", LOG, one({ request_id: "a\u0000b" }), /'records\[0\]\.request_id': it must not contain NUL/],
        ["POST", LOG, without("model_name"), /Missing value for required parameter 'records\[0\]\.model_name'/],
        ["POST", LOG, one({ model_version: 2 }), /parameter 'records\[0\]\.model_version'.*Expected a string/],
        ["POST", LOG, without("timestamp_ms"), /Missing value for required parameter 'records\[0\]\.timestamp_ms'/],
        [
          "POST",
          LOG,
          one({ timestamp_ms: "yesterday" }),
          /parameter 'records\[0\]\.timestamp_ms'.*Expected an integer/,
        ],
        ["POST", LOG, one({ timestamp_ms: 1.5 }), /parameter 'records\[0\]\.timestamp_ms'.*Expected an integer/],
        ["POST", LOG, one({ timestamp_ms: -1 }), /'records\[0\]\.timestamp_ms': it must be an integer from 0/],
        ["POST", LOG, one({ row_index: -1 }), /'records\[0\]\.row_index': it must be an integer from 0 to 2147483647/],
        [
          "POST",
          LOG,
          one({ row_index: 2 ** 31 }),
          /'records\[0\]\.row_index': it must be an integer from 0 to 2147483647/,
        ],
        ["POST", LOG, one({ row_index: true }), /parameter 'records\[0\]\.row_index'.*Expected an integer/],
        ["POST", LOG, without("inputs"), /Missing value for required parameter 'records\[0\]\.inputs'/],
        ["POST", LOG, one({ inputs: [1, 2] }), /parameter 'records\[0\]\.inputs'.*Expected a JSON object/],
        ["POST", LOG, one({ inputs: "x=1" }), /parameter 'records\[0\]\.inputs'.*Expected a JSON object/],
        ["POST", LOG, one({ inputs: 3 }), /parameter 'records\[0\]\.inputs'.*Expected a JSON object/],
        ["POST", LOG, without("outputs"), /Missing value for required parameter 'records\[0\]\.outputs'/],
        ["POST", LOG, one({ latency_ms: "fast" }), /parameter 'records\[0\]\.latency_ms'.*Expected a number/],
        ["POST", LOG, one({ latency_ms: -2 }), /'records\[0\]\.latency_ms': it must be a finite number >= 0/],
        ["POST", LOG, one({ server: ["a"] }), /parameter 'records\[0\]\.server'.*Expected a string/],
        ["POST", LOG, one({ status: 99 }), /'records\[0\]\.status': it must be an integer from 100 to 599/],
        ["POST", LOG, one({ status: 600 }), /'records\[0\]\.status': it must be an integer from 100 to 599/],
        ["POST", LOG, one({ status: "teapot" }), /parameter 'records\[0\]\.status'.*Expected an integer/],
        ["POST", FEEDBACK, {}, /Missing value for required parameter 'label'/],
        ["POST", FEEDBACK, { label: 1 }, /Missing value for required parameter 'request_id'/],
        ["POST", FEEDBACK, { request_id: "x", label: null }, /Missing value for required parameter 'label'/],
        [
          "POST",
          FEEDBACK,
          { request_id: "x", label: 1, row_index: "first" },
          /parameter 'row_index'.*Expected an integer/,
        ],
        [
          "POST",
          FEEDBACK,
          { request_id: "x", label: 1, timestamp_ms: "now" },
          /parameter 'timestamp_ms'.*Expected an integer/,
        ],
        ["POST", FEEDBACK, { request_id: 5, label: 1 }, /parameter 'request_id'.*Expected a string/],
        ["POST", FEEDBACK, { labels: { request_id: "x", label: 1 } }, /parameter 'labels'.*Expected a list of labels/],
        ["POST", FEEDBACK, { labels: [] }, /'labels': it must hold at least 1 label/],
        ["POST", FEEDBACK, tooManyLabels, /'labels': at most 5000 labels per call, got 5001/],
        [
          "POST",
          FEEDBACK,
          { labels: [{ request_id: "x" }] },
          /Missing value for required parameter 'labels\[0\]\.label'/,
        ],
        [
          "POST",
          FEEDBACK,
          { labels: [{ request_id: "x", label: 1 }], request_id: "y" },
          /'request_id': give either 'labels'/,
        ],
        ["POST", FEEDBACK, "[1, 2]", /parameter 'request'.*Expected a JSON object/],
        ["GET", `${SEARCH}`, undefined, /Missing value for required parameter 'model_name'/],
        ["GET", `${SEARCH}?model_name=`, undefined, /'model_name': it must not be empty/],
        [
          "GET",
          `${SEARCH}?model_name=a&model_name=b`,
          undefined,
          /'model_name': the parameter must be given at most once/,
        ],
        [
          "GET",
          `${SEARCH}${query({ model_name: m, max_results: 0 })}`,
          undefined,
          /'max_results': it must be an integer from 1 to 10000/,
        ],
        [
          "GET",
          `${SEARCH}${query({ model_name: m, max_results: 10_001 })}`,
          undefined,
          /'max_results': it must be an integer from 1 to 10000/,
        ],
        [
          "GET",
          `${SEARCH}${query({ model_name: m, max_results: "lots" })}`,
          undefined,
          /parameter 'max_results'.*Expected an integer/,
        ],
        [
          "GET",
          `${SEARCH}${query({ model_name: m, page_token: "garbage!" })}`,
          undefined,
          /'page_token': not a page token/,
        ],
        [
          "GET",
          `${SEARCH}${query({ model_name: m, page_token: forged })}`,
          undefined,
          /'page_token': not a page token/,
        ],
        [
          "GET",
          `${SEARCH}${query({ model_name: m, labelled_only: "maybe" })}`,
          undefined,
          /parameter 'labelled_only'.*Expected a boolean/,
        ],
        [
          "GET",
          `${SEARCH}${query({ model_name: m, start_ms: -5 })}`,
          undefined,
          /'start_ms': it must be an integer from 0/,
        ],
        [
          "GET",
          `${SEARCH}${query({ model_name: m, start_ms: "monday" })}`,
          undefined,
          /parameter 'start_ms'.*Expected an integer/,
        ],
        [
          "GET",
          `${SEARCH}${query({ model_name: m, start_ms: 10, end_ms: 5 })}`,
          undefined,
          /'end_ms': it must not be before start_ms/,
        ],
        ["GET", `${STATS}`, undefined, /Missing value for required parameter 'model_name'/],
        [
          "GET",
          `${STATS}${query({ model_name: m, end_ms: "later" })}`,
          undefined,
          /parameter 'end_ms'.*Expected an integer/,
        ],
        [
          "GET",
          `${STATS}${query({ model_name: m, start_ms: 1.5 })}`,
          undefined,
          /parameter 'start_ms'.*Expected an integer/,
        ],
      ];
      for (const [method, path, body, message] of cases) {
        const r = await call(server(), method, path, body);
        const what = `${method} ${path.slice(0, 120)} ${JSON.stringify(body)?.slice(0, 120)}`;
        assert.equal(r.status, 400, `${what}: ${r.text}`);
        assert.equal(r.json.error_code, "INVALID_PARAMETER_VALUE", `${what}: ${r.text}`);
        assert.match(r.json.message as string, message, what);
      }
      assert.deepEqual((await get(`${STATS}${query({ model_name: m })}`)).json, { records: 0, labelled: 0 });
      const malformed = await post(LOG, "{records: [");
      assert.equal(malformed.status, 400);
      assert.equal(malformed.json.error_code, "MALFORMED_REQUEST");
    });

    test("never answers 500, whatever the body or query (property test)", async () => {
      const model = unique("http-fuzz");
      const scalar = fc.oneof(
        fc.string(),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.constantFrom("", "0", "-1", "1e3", "\u0000", "true", model, "a".repeat(600), 2 ** 31, 2 ** 53, -0.5),
      );
      const field = fc.constantFrom(
        "request_id",
        "row_index",
        "model_name",
        "model_version",
        "timestamp_ms",
        "inputs",
        "outputs",
        "latency_ms",
        "status",
        "server",
        "label",
        "labels",
        "records",
      );
      const value = fc.oneof(
        scalar,
        fc.dictionary(fc.string(), scalar, { maxKeys: 3 }),
        fc.array(scalar, { maxLength: 3 }),
      );
      const item = fc.oneof(
        fc.dictionary(field, value, { maxKeys: 9 }),
        fc.record({
          ...{
            request_id: fc.string(),
            model_name: fc.constant(model),
            model_version: fc.string(),
            timestamp_ms: fc.integer(),
            inputs: fc.dictionary(fc.string(), scalar),
            outputs: fc.jsonValue(),
          },
        }),
        scalar,
      );
      const body = fc.oneof(
        fc.record({ records: fc.oneof(fc.array(item, { maxLength: 4 }), value) }),
        fc.record({ labels: fc.oneof(fc.array(item, { maxLength: 4 }), value) }),
        fc.dictionary(field, value, { maxKeys: 5 }),
        fc.jsonValue(),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(LOG, FEEDBACK), body, async (path, b) => {
          const r = await post(path, b);
          assert.ok(r.status === 200 || r.status === 400, `POST ${path} ${JSON.stringify(b)} → ${r.status} ${r.text}`);
          if (r.status === 400) assert.equal(typeof r.json.message, "string");
        }),
        { numRuns: 300, seed: 11 },
      );
      const params = fc.dictionary(
        fc.constantFrom(
          "model_name",
          "model_version",
          "start_ms",
          "end_ms",
          "labelled_only",
          "max_results",
          "page_token",
        ),
        fc.oneof(fc.string(), fc.constantFrom(model, "0", "-1", "true", "10000", "1e3", "\u0000", "W1swLCJ4IiwwXV0")),
        { maxKeys: 5 },
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(SEARCH, STATS), params, async (path, q) => {
          const r = await get(`${path}?${new URLSearchParams(q).toString()}`);
          assert.ok(r.status === 200 || r.status === 400, `GET ${path} ${JSON.stringify(q)} → ${r.status} ${r.text}`);
        }),
        { numRuns: 200, seed: 12 },
      );
    });
  });
}

httpSuite("SQLite", () => startTestServer());

httpSuite("PostgreSQL", async () => {
  const temp = await createTempDatabase();
  if ("skip" in temp) return temp;
  const server = await startTestServer({ backendStoreUri: temp.url });
  return {
    ...server,
    async stop() {
      await server.stop();
      await temp.drop();
    },
  };
});

describe("inference log routes", () => {
  it("are mounted for every route of protocol's table", async () => {
    const server = await startTestServer();
    try {
      for (const spec of Object.values(inferenceLogRoutes)) {
        for (const prefix of ["/api/2.0", "/ajax-api/2.0"]) {
          assert.ok(
            server.app.hasRoute({ method: spec.method, url: `${prefix}${spec.path}` }),
            `${spec.method} ${prefix}${spec.path}`,
          );
        }
      }
    } finally {
      await server.stop();
    }
  });
});
