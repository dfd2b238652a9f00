import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { MlflowError } from "@slipway/protocol";
import {
  HttpTransport,
  isRetryableStatus,
  parseRetryAfter,
  splitCredentials,
  type HttpTransportOptions,
} from "./http-transport.js";
import { codeForStatus, errorFromResponse } from "./http-errors.js";
import { FakeMlflow } from "./testing/fake-mlflow.js";

const server = new FakeMlflow();
before(() => server.start());
after(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.canned.length = 0;
  server.beforeHandle = undefined;
});

function transport(extra: Partial<HttpTransportOptions> = {}): {
  t: HttpTransport;
  waits: number[];
} {
  const waits: number[] = [];
  const t = new HttpTransport({
    baseUrl: server.url,
    retry: { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    ...extra,
  });
  return { t, waits };
}

const readText = (r: Response) => r.text();
const health = {
  method: "GET" as const,
  path: "/api/2.0/mlflow/experiments/get?experiment_id=0",
  read: readText,
};

test("5xx is retried with exponential backoff and jitter, then succeeds", async () => {
  server.canned.push({ status: 503, body: "busy" }, { status: 500, body: "{}" }, { status: 502, body: "bad gateway" });
  const { t, waits } = transport();
  const text = await t.request(health);
  assert.match(text, /"Default"/);
  assert.equal(server.requests.length, 4);
  // ceiling 100, 200, 400 → half fixed + random(0.5) of the other half
  assert.deepEqual(waits, [75, 150, 300]);
});

test("backoff grows exponentially and is capped; jitter stays within [ceiling/2, ceiling]", () => {
  const low = new HttpTransport({
    baseUrl: server.url,
    retry: { baseDelayMs: 100, maxDelayMs: 1000 },
    random: () => 0,
  });
  const high = new HttpTransport({
    baseUrl: server.url,
    retry: { baseDelayMs: 100, maxDelayMs: 1000 },
    random: () => 0.999999,
  });
  assert.deepEqual(
    [0, 1, 2, 3, 4, 10].map((n) => low.backoffMs(n)),
    [50, 100, 200, 400, 500, 500],
  );
  assert.deepEqual(
    [0, 1, 2, 3, 4, 10].map((n) => high.backoffMs(n)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

test("429 honours Retry-After in seconds", async () => {
  server.canned.push({
    status: 429,
    headers: { "retry-after": "2" },
    body: '{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}',
  });
  const { t, waits } = transport();
  await t.request(health);
  assert.deepEqual(waits, [2000]);
  assert.equal(server.requests.length, 2);
});

test("Retry-After as an HTTP date", async () => {
  const when = new Date(Date.now() + 3000).toUTCString();
  server.canned.push({ status: 503, headers: { "retry-after": when } });
  const { t, waits } = transport();
  await t.request(health);
  assert.equal(waits.length, 1);
  assert.ok(waits[0]! > 1000 && waits[0]! <= 3000, `waited ${waits[0]}`);
});

test("a Retry-After beyond the budget is not waited for", async () => {
  server.canned.push({ status: 503, headers: { "retry-after": "3600" }, body: "maintenance" });
  const { t, waits } = transport({ retry: { maxRetries: 3, maxRetryAfterMs: 60_000 } });
  await assert.rejects(t.request(health), (e: unknown) => e instanceof MlflowError && e.status === 503);
  assert.deepEqual(waits, []);
  assert.equal(server.requests.length, 1);
});

test("real-time Retry-After wait (no sleep hook)", async () => {
  server.canned.push({ status: 429, headers: { "retry-after": "1" } });
  const t = new HttpTransport({ baseUrl: server.url, retry: { maxRetries: 1 } });
  const started = Date.now();
  await t.request(health);
  assert.ok(Date.now() - started >= 950, `only waited ${Date.now() - started} ms`);
});

test("4xx is never retried and keeps MLflow's code, message and status", async () => {
  server.canned.push({
    status: 400,
    headers: { "content-type": "application/json" },
    body: '{"error_code": "RESOURCE_ALREADY_EXISTS", "message": "Experiment(name=x) already exists."}',
  });
  const { t, waits } = transport();
  await assert.rejects(t.request(health), (e: unknown) => {
    assert.ok(e instanceof MlflowError);
    assert.equal(e.code, "RESOURCE_ALREADY_EXISTS");
    assert.equal(e.status, 400);
    assert.equal(e.message, "Experiment(name=x) already exists.");
    return true;
  });
  assert.equal(server.requests.length, 1);
  assert.deepEqual(waits, []);
});

test("a JSON error body uses the real status, even when the code maps elsewhere", async () => {
  server.canned.push({
    status: 403,
    body: '{"error_code":"CUSTOM_CODE","message":"nope","details":1}',
  });
  const { t } = transport();
  await assert.rejects(
    t.request(health),
    (e: unknown) => e instanceof MlflowError && e.code === "CUSTOM_CODE" && e.status === 403,
  );
});

test("a non-JSON 404 (Flask's HTML page) becomes ENDPOINT_NOT_FOUND", async () => {
  const { t } = transport();
  await assert.rejects(t.request({ method: "GET", path: "/api/2.0/mlflow/nope", read: readText }), (e: unknown) => {
    assert.ok(e instanceof MlflowError);
    assert.equal(e.code, "ENDPOINT_NOT_FOUND");
    assert.equal(e.status, 404);
    assert.match(e.message, /HTTP 404/);
    assert.match(e.message, /Not Found/);
    return true;
  });
  assert.equal(server.requests.length, 1);
});

test("exhausted retries throw the last server error", async () => {
  for (let i = 0; i < 4; i++)
    server.canned.push({ status: 500, body: '{"error_code":"INTERNAL_ERROR","message":"boom"}' });
  const { t, waits } = transport();
  await assert.rejects(
    t.request(health),
    (e: unknown) => e instanceof MlflowError && e.code === "INTERNAL_ERROR" && e.message === "boom",
  );
  assert.equal(server.requests.length, 4);
  assert.equal(waits.length, 3);
});

test("501 Not Implemented is not retried", async () => {
  server.canned.push({
    status: 501,
    body: '{"error_code":"NOT_IMPLEMENTED","message":"no multipart"}',
  });
  const { t } = transport();
  await assert.rejects(t.request(health), (e: unknown) => e instanceof MlflowError && e.code === "NOT_IMPLEMENTED");
  assert.equal(server.requests.length, 1);
});

test("network errors are retried, then reported as TEMPORARILY_UNAVAILABLE with the cause", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const { t, waits } = transport({ baseUrl: `http://127.0.0.1:${port}` });
  await assert.rejects(t.request(health), (e: unknown) => {
    assert.ok(e instanceof MlflowError);
    assert.equal(e.code, "TEMPORARILY_UNAVAILABLE");
    assert.match(e.message, /ECONNREFUSED/);
    assert.match(e.message, /4 attempts/);
    assert.ok(e.cause instanceof Error);
    return true;
  });
  assert.equal(waits.length, 3);
});

test("a network error followed by success", async () => {
  let calls = 0;
  const flaky: typeof fetch = async (input, init) => {
    calls++;
    if (calls === 1)
      throw new TypeError("fetch failed", {
        cause: Object.assign(new Error("reset"), { code: "ECONNRESET" }),
      });
    return fetch(input, init);
  };
  const { t, waits } = transport({ fetch: flaky });
  assert.match(await t.request(health), /Default/);
  assert.equal(calls, 2);
  assert.equal(waits.length, 1);
});

test("each attempt has a timeout; timeouts are retried, then DEADLINE_EXCEEDED", async () => {
  server.beforeHandle = () => new Promise((resolve) => setTimeout(resolve, 500));
  const { t, waits } = transport({ timeoutMs: 50, retry: { maxRetries: 1 } });
  await assert.rejects(t.request(health), (e: unknown) => {
    assert.ok(e instanceof MlflowError);
    assert.equal(e.code, "DEADLINE_EXCEEDED");
    assert.match(e.message, /50 ms/);
    return true;
  });
  assert.equal(waits.length, 1);
});

test("the body factory is called once per attempt", async () => {
  server.canned.push({ status: 503, pathPrefix: "/mlflow/experiments/create" });
  let made = 0;
  const { t } = transport();
  const text = await t.request({
    method: "POST",
    path: "/api/2.0/mlflow/experiments/create",
    headers: { "content-type": "application/json" },
    body: () => {
      made++;
      return new Blob(['{"name":"factory"}']).stream();
    },
    read: readText,
  });
  assert.equal(made, 2);
  assert.match(text, /experiment_id/);
  assert.equal(server.requests.at(-1)!.body.toString(), '{"name":"factory"}');
});

test("an aborted signal stops retrying and rejects with its reason", async () => {
  server.canned.push({ status: 503 }, { status: 503 }, { status: 503 });
  const controller = new AbortController();
  const t = new HttpTransport({
    baseUrl: server.url,
    retry: { maxRetries: 5 },
    sleep: () => {
      const reason = new Error("user gave up");
      controller.abort(reason);
      return Promise.reject(reason);
    },
  });
  await assert.rejects(t.request({ ...health, signal: controller.signal }), /user gave up/);
  assert.equal(server.requests.length, 1);
});

test("credentials in the URL become a Basic authorization header", async () => {
  const { url, authorization } = splitCredentials("http://al%40ice:s%3Acret@example.com:5000/prefix");
  assert.equal(url, "http://example.com:5000/prefix");
  assert.equal(authorization, `Basic ${Buffer.from("al@ice:s:cret").toString("base64")}`);
  assert.deepEqual(splitCredentials("http://example.com"), { url: "http://example.com" });

  const base = new URL(server.url);
  base.username = "bob";
  base.password = "pw";
  const t = new HttpTransport({ baseUrl: base.toString(), headers: { "X-Extra": "1" } });
  await t.request(health);
  const overridden = new HttpTransport({ baseUrl: base.toString(), headers: { Authorization: "Bearer t" } });
  await overridden.request(health);
  assert.equal(server.requests.at(-1)!.headers.authorization, "Bearer t");
  server.requests.pop();
  const seen = server.requests.at(-1)!.headers;
  assert.equal(seen.authorization, `Basic ${Buffer.from("bob:pw").toString("base64")}`);
  assert.equal(seen["x-extra"], "1");
  assert.match(String(seen["user-agent"]), /^slipway-sdk\//);
});

test("parseRetryAfter, isRetryableStatus, codeForStatus", () => {
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter("5"), 5000);
  assert.equal(parseRetryAfter("0.5"), 500);
  assert.equal(parseRetryAfter("garbage"), undefined);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(parseRetryAfter(new Date(0).toUTCString(), 4_000), 0);
  assert.deepEqual([400, 404, 409, 429, 500, 501, 502, 503, 504].map(isRetryableStatus), [
    false,
    false,
    false,
    true,
    true,
    false,
    true,
    true,
    true,
  ]);
  assert.deepEqual([400, 401, 403, 404, 405, 409, 429, 500, 501, 503, 504, 418, 599].map(codeForStatus), [
    "BAD_REQUEST",
    "UNAUTHENTICATED",
    "PERMISSION_DENIED",
    "ENDPOINT_NOT_FOUND",
    "BAD_REQUEST",
    "RESOURCE_CONFLICT",
    "REQUEST_LIMIT_EXCEEDED",
    "INTERNAL_ERROR",
    "NOT_IMPLEMENTED",
    "TEMPORARILY_UNAVAILABLE",
    "DEADLINE_EXCEEDED",
    "BAD_REQUEST",
    "INTERNAL_ERROR",
  ]);
});

test("errorFromResponse: empty bodies, JSON without error_code, NaN in JSON", () => {
  const empty = errorFromResponse({ status: 404, body: "", method: "GET", url: "http://x/api" });
  assert.equal(empty.code, "ENDPOINT_NOT_FOUND");
  assert.equal(empty.message, "GET http://x/api answered HTTP 404");
  const fastapi = errorFromResponse({
    status: 422,
    body: '{"detail":"bad"}',
    method: "POST",
    url: "http://x/y",
  });
  assert.equal(fastapi.code, "BAD_REQUEST");
  assert.equal(fastapi.status, 422);
  assert.match(fastapi.message, /detail/);
  const nan = errorFromResponse({
    status: 400,
    body: '{"error_code":"INVALID_PARAMETER_VALUE","message":"m","value":NaN}',
    method: "POST",
    url: "u",
  });
  assert.equal(nan.code, "INVALID_PARAMETER_VALUE");
});
