/**
 * The model server with auth, over real HTTP: control-plane callers (checked against a whoami contract
 * double over real HTTP, see testing/whoami-server.ts) and the server's own API keys; errors in each
 * protocol's format; the whoami cache; a control plane that is down.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startModelServer, type RunningModelServer } from "../http/model-server.js";
import { vertexSettings } from "../protocols/vertex.js";
import { InferenceMetrics } from "../serving/metrics.js";
import { ModelSet } from "../serving/model-set.js";
import { ServedModel } from "../serving/served-model.js";
import { echoPredictor } from "../testing/test-server.js";
import { generateApiKey, hashApiKey, readApiKeysFile } from "./api-keys.js";
import { ControlPlaneAuth } from "./control-plane-auth.js";
import { DataPlaneAuth } from "./data-plane-auth.js";
import { basic, startWhoamiDouble, type WhoamiDouble } from "./testing/whoami-server.js";

const ROWS = { dataframe_records: [{ text: "hi" }] };

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(url: string, options: { authorization?: string; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url, {
    method: options.body === undefined ? "GET" : "POST",
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

async function serve(auth: DataPlaneAuth): Promise<RunningModelServer> {
  const models = new ModelSet();
  const metrics = new InferenceMetrics({ defaultMetrics: false });
  for (const [name, source] of [
    ["spam", "models:/spam-filter@champion"],
    ["churn", "models:/churn/3"],
  ] as const) {
    const model = new ServedModel({ name, source, predictor: echoPredictor(), hooks: metrics.modelHooks() });
    await model.start();
    models.add(model);
  }
  return startModelServer({
    models,
    metrics,
    version: "0.0.0-test",
    vertex: vertexSettings({}, "spam"),
    host: "127.0.0.1",
    port: 0,
    auth,
  });
}

describe("model server with --auth control-plane", () => {
  const READER = basic("rita", "pw-rita");
  const OTHER = "Bearer slw_other_token";
  const ADMIN = "Bearer slw_admin_token";
  let whoami: WhoamiDouble;
  let controlPlane: ControlPlaneAuth;
  let server: RunningModelServer;

  before(async () => {
    whoami = await startWhoamiDouble(
      {
        [READER]: { id: 2, username: "rita", permissions: { "spam-filter": "READ", churn: "NO_PERMISSIONS" } },
        [OTHER]: { id: 3, username: "otto", permissions: { "spam-filter": "NO_PERMISSIONS", churn: "EDIT" } },
        [ADMIN]: { id: 1, username: "admin", isAdmin: true, permissions: { "spam-filter": "MANAGE", churn: "MANAGE" } },
      },
      { defaultPermission: "NO_PERMISSIONS" },
    );
    controlPlane = new ControlPlaneAuth({ trackingUri: whoami.url });
    server = await serve(new DataPlaneAuth({ controlPlane }));
  });
  after(async () => {
    await server.close();
    await whoami.close();
  });

  it("answers a request without credentials 401 UNAUTHENTICATED, in the protocol's format", async () => {
    const before = whoami.calls;
    const mlflow = await call(`${server.url}/invocations?model=spam`, { body: ROWS });
    assert.equal(mlflow.status, 401);
    assert.equal(mlflow.body.error_code, "UNAUTHENTICATED");
    assert.match(String(mlflow.body.message), /Authentication required/);
    assert.match(mlflow.headers.get("www-authenticate") ?? "", /Bearer/);
    const kserve = await call(`${server.url}/v2/models/spam/infer`, { body: {} });
    assert.equal(kserve.status, 401);
    assert.match(String(kserve.body.error), /Authentication required/);
    assert.equal(whoami.calls, before, "no credentials: the control plane is not asked");
  });

  it("keeps health, readiness, version, metrics and the API document public", async () => {
    for (const path of ["/ping", "/health", "/version", "/v2/health/live", "/v2/health/ready", "/metrics"]) {
      const r = await fetch(`${server.url}${path}`);
      assert.equal(r.status, 200, path);
      await r.arrayBuffer();
    }
    const doc = await call(`${server.url}/openapi.json`);
    assert.equal(doc.status, 200);
    const components = doc.body.components as { securitySchemes: Record<string, { scheme: string }> };
    assert.deepEqual(Object.keys(components.securitySchemes).sort(), ["basic", "bearer"]);
    const paths = doc.body.paths as Record<string, Record<string, { security?: unknown[] }>>;
    assert.deepEqual(paths["/ping"]!.get!.security, []);
    assert.equal(paths["/invocations"]!.post!.security, undefined, "inherits the document's security");
  });

  it("serves a reader of the registered model the served model came from", async () => {
    const r = await call(`${server.url}/invocations?model=spam`, { authorization: READER, body: ROWS });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.predictions, [{ label: "HI", length: 2 }]);
    assert.equal(whoami.asked.at(-1), "spam-filter", "permission asked on the registered model, not the served name");
  });

  it("answers 403 PERMISSION_DENIED to a user who may read another model only", async () => {
    const r = await call(`${server.url}/invocations?model=spam`, { authorization: OTHER, body: ROWS });
    assert.equal(r.status, 403);
    assert.equal(r.body.error_code, "PERMISSION_DENIED");
    assert.match(String(r.body.message), /otto.*READ.*spam-filter/);
    // the same user reads the model it routes to when it names the other one
    const churn = await call(`${server.url}/v2/models/churn/infer`, {
      authorization: OTHER,
      body: { inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["x"] }] },
    });
    assert.equal(churn.status, 200, JSON.stringify(churn.body));
    const rita = await call(`${server.url}/v2/models/churn/infer`, { authorization: READER, body: {} });
    assert.equal(rita.status, 403);
    assert.match(String(rita.body.error), /does not have READ permission/);
  });

  it("answers wrong credentials 401 and caches the refusal briefly", async () => {
    const wrong = basic("rita", "wrong");
    const before = whoami.calls;
    for (let i = 0; i < 3; i++) {
      const r = await call(`${server.url}/invocations?model=spam`, { authorization: wrong, body: ROWS });
      assert.equal(r.status, 401);
      assert.equal(r.body.error_code, "UNAUTHENTICATED");
    }
    assert.equal(whoami.calls, before + 1, "a refusal is cached too");
  });

  it("does not call whoami again for a cached answer", async () => {
    const before = whoami.calls;
    for (let i = 0; i < 5; i++) {
      const r = await call(`${server.url}/invocations?model=spam`, { authorization: ADMIN, body: ROWS });
      assert.equal(r.status, 200);
    }
    assert.equal(whoami.calls, before + 1);
    // another model is another question
    const r = await call(`${server.url}/v2/models/churn`, { authorization: ADMIN });
    assert.equal(r.status, 200);
    assert.equal(whoami.calls, before + 2);
    assert.equal(whoami.asked.at(-1), "churn");
  });

  it("answers 503 when the control plane is down, and never allows", async () => {
    const fresh = basic("new", "caller");
    await whoami.close();
    const r = await call(`${server.url}/invocations?model=spam`, { authorization: fresh, body: ROWS });
    assert.equal(r.status, 503);
    assert.equal(r.body.error_code, "TEMPORARILY_UNAVAILABLE");
    assert.match(String(r.body.message), /control plane .* could not be reached/);
    assert.equal(r.headers.get("retry-after"), "5");
    const kserve = await call(`${server.url}/v2/models/spam/infer`, { authorization: fresh, body: {} });
    assert.equal(kserve.status, 503);
    // an answer cached before the outage still holds for its 30 s
    const cached = await call(`${server.url}/invocations?model=spam`, { authorization: ADMIN, body: ROWS });
    assert.equal(cached.status, 200);
  });
});

describe("model server with --api-keys", () => {
  let dir: string;
  let server: RunningModelServer;
  const all = generateApiKey();
  const spamOnly = generateApiKey();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-keys-"));
    const file = join(dir, "keys.json");
    await writeFile(
      file,
      JSON.stringify({
        keys: [
          { name: "all", sha256: hashApiKey(all) },
          { name: "spam-only", sha256: hashApiKey(spamOnly), models: ["spam"] },
        ],
      }),
    );
    server = await serve(new DataPlaneAuth({ keys: await readApiKeysFile(file) }));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves a valid key, refuses a wrong one, and keeps a restricted key to its models", async () => {
    const ok = await call(`${server.url}/invocations?model=churn`, { authorization: `Bearer ${all}`, body: ROWS });
    assert.equal(ok.status, 200);
    const wrong = await call(`${server.url}/invocations?model=churn`, {
      // one character changed, never to itself
      authorization: `Bearer ${all.slice(0, -1)}${all.endsWith("x") ? "y" : "x"}`,
      body: ROWS,
    });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, { error_code: "UNAUTHENTICATED", message: "Invalid API key" });
    const basicAuth = await call(`${server.url}/invocations?model=churn`, {
      authorization: basic("a", "b"),
      body: ROWS,
    });
    assert.equal(basicAuth.status, 401, "basic credentials need the control plane");
    const spam = await call(`${server.url}/invocations?model=spam`, {
      authorization: `Bearer ${spamOnly}`,
      body: ROWS,
    });
    assert.equal(spam.status, 200);
    const churn = await call(`${server.url}/invocations?model=churn`, {
      authorization: `Bearer ${spamOnly}`,
      body: ROWS,
    });
    assert.equal(churn.status, 403);
    assert.equal(churn.body.error_code, "PERMISSION_DENIED");
    assert.match(String(churn.body.message), /'spam-only' may not use model 'churn'/);
  });

  it("documents only the bearer scheme", async () => {
    const doc = await call(`${server.url}/openapi.json`);
    const components = doc.body.components as { securitySchemes: Record<string, unknown> };
    assert.deepEqual(Object.keys(components.securitySchemes), ["bearer"]);
    assert.deepEqual(doc.body.security, [{ bearer: [] }]);
  });
});
