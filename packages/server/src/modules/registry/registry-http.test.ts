/** The registry contract through HTTP: the SDK's REST client against a live server (MLflow compatibility). */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TrackingClient } from "@slipway/sdk";
import { createTempDatabase } from "../../testing/postgres.js";
import { startTestServer, type TestServer } from "../../testing/server.js";
import { registryContract } from "./registry.contract.js";

registryContract("REST API (SDK client) on SQLite", async () => {
  const server = await startTestServer();
  const client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
  return { api: client, tracking: client, cleanup: () => server.stop() };
});

registryContract("REST API (SDK client) on PostgreSQL", async () => {
  const temp = await createTempDatabase();
  if ("skip" in temp) return temp;
  const server = await startTestServer({ backendStoreUri: temp.url });
  const client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
  return {
    api: client,
    tracking: client,
    async cleanup() {
      await server.stop();
      await temp.drop();
    },
  };
});

describe("registry wire format", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>) };
  };

  it("serves every route under /api/2.0 and /ajax-api/2.0 with MLflow's methods", async () => {
    const created = await send("POST", "/api/2.0/mlflow/registered-models/create", { name: "wire" });
    assert.equal(created.status, 200);
    const mv = await send("POST", "/ajax-api/2.0/mlflow/model-versions/create", { name: "wire", source: "s3://b/m" });
    assert.equal(mv.status, 200);
    const version = (mv.json!.model_version as { version: unknown }).version;
    assert.equal(version, "1", "versions are strings in JSON");

    // GET reads the query string, repeated keys for lists
    const latest = await send(
      "GET",
      "/ajax-api/2.0/mlflow/registered-models/get-latest-versions?name=wire&stages=none&stages=staging",
    );
    assert.equal(latest.status, 200);
    assert.deepEqual(
      (latest.json!.model_versions as { version: string }[]).map((v) => v.version),
      ["1"],
    );
    const got = await send("GET", "/api/2.0/mlflow/model-versions/get?name=wire&version=1");
    assert.equal((got.json!.model_version as { status: string }).status, "READY");

    // PATCH and DELETE carry JSON bodies
    const patched = await send("PATCH", "/api/2.0/mlflow/registered-models/update", { name: "wire", description: "d" });
    assert.equal((patched.json!.registered_model as { description: string }).description, "d");
    assert.equal(
      (await send("POST", "/api/2.0/mlflow/registered-models/alias", { name: "wire", alias: "a", version: "1" }))
        .status,
      200,
    );
    const byAlias = await send("GET", "/api/2.0/mlflow/registered-models/alias?name=wire&alias=a");
    assert.deepEqual((byAlias.json!.model_version as { aliases: string[] }).aliases, ["a"]);
    const deleted = await send("DELETE", "/api/2.0/mlflow/registered-models/alias", { name: "wire", alias: "a" });
    assert.deepEqual(deleted, { status: 200, json: {} });
    const missing = await send("GET", "/api/2.0/mlflow/registered-models/alias?name=wire&alias=a");
    assert.equal(missing.status, 400);
    assert.equal(missing.json!.error_code, "INVALID_PARAMETER_VALUE");

    // a version given as a JSON number is refused, as MLflow's string check does
    const numeric = await send("POST", "/api/2.0/mlflow/model-versions/set-tag", {
      name: "wire",
      version: 1,
      key: "k",
      value: "v",
    });
    assert.equal(numeric.status, 400);
    assert.equal(numeric.json!.error_code, "INVALID_PARAMETER_VALUE");

    const notFound = await send("GET", "/api/2.0/mlflow/registered-models/get?name=nope");
    assert.deepEqual(notFound, {
      status: 404,
      json: { error_code: "RESOURCE_DOES_NOT_EXIST", message: "Registered Model with name=nope not found" },
    });
    const missingField = await send("DELETE", "/api/2.0/mlflow/registered-models/delete", {});
    assert.equal(missingField.status, 400);
    assert.match(String(missingField.json!.message), /Missing value for required parameter 'name'/);

    assert.equal((await send("DELETE", "/api/2.0/mlflow/registered-models/delete", { name: "wire" })).status, 200);
    assert.equal((await send("GET", "/api/2.0/mlflow/registered-models/get?name=wire")).status, 404);
  });
});
