/**
 * The model server with `--auth control-plane` against the REAL control plane (`startServer` with auth on a
 * fresh SQLite store), not the whoami contract double the inference package's tests use: a user's
 * password and API token are accepted by the model server when the user may read the served registered
 * model, refused with 403 when not, and with 401 when wrong.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ControlPlaneAuth,
  DataPlaneAuth,
  InferenceMetrics,
  ModelSet,
  ServedModel,
  startModelServer,
  vertexSettings,
  type InputBatch,
  type OutputTensor,
  type PredictionBatch,
  type Predictor,
  type RunningModelServer,
} from "@slipway/inference";
import { loadServerConfig, startServer, type RunningServer } from "@slipway/server";

const ADMIN = { username: "cp-admin", password: "admin password 1" };

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/** One `text` column in, its length out. */
function lengthPredictor(): Predictor {
  return {
    kind: "test/length",
    platform: "slipway_length",
    batchable: true,
    labelOutput: "length",
    signature: {
      inputs: { kind: "columns", columns: [{ name: "text", type: "string", required: true }] },
      outputs: { kind: "columns", columns: [{ name: "length", type: "long", required: true }] },
      params: [],
    },
    async predict(batch: InputBatch): Promise<PredictionBatch> {
      if (batch.kind !== "columns") throw new Error("columns expected");
      const texts = batch.columns.get("text")!.values as readonly string[];
      return {
        rows: batch.rows,
        outputs: new Map<string, OutputTensor>([
          ["length", { dtype: "int64", shape: [batch.rows], data: BigInt64Array.from(texts, (t) => BigInt(t.length)) }],
        ]),
      };
    },
    async warmup() {},
    async close() {},
  };
}

describe("model server --auth control-plane against the real control plane", () => {
  let dir: string;
  let controlPlane: RunningServer;
  let modelServer: RunningModelServer;
  let token = "";

  const admin = basic(ADMIN.username, ADMIN.password);
  const api = async (path: string, body: unknown, method = "POST") => {
    const res = await fetch(`${controlPlane.url}${path}`, {
      method,
      headers: { authorization: admin, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const predict = (authorization?: string) =>
    fetch(`${modelServer.url}/invocations`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ dataframe_records: [{ text: "hello" }] }),
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-serve-auth-"));
    const config = loadServerConfig(
      {
        host: "127.0.0.1",
        port: 0,
        backendStoreUri: `sqlite:///${join(dir, "slipway.db")}`,
        artifactsDestination: join(dir, "artifacts"),
        logLevel: "silent",
        monitorScheduler: false,
        auth: true,
      },
      { SLIPWAY_ADMIN_USERNAME: ADMIN.username, SLIPWAY_ADMIN_PASSWORD: ADMIN.password },
    );
    controlPlane = await startServer(config, { auth: { scrypt: { N: 2 ** 10, r: 8, p: 1 } } });
    for (const username of ["reader", "outsider"]) {
      await api("/api/2.0/mlflow/users/create", { username, password: `${username} password` });
    }
    await api("/api/2.0/mlflow/registered-models/permissions/create", {
      name: "fraud",
      username: "outsider",
      permission: "NO_PERMISSIONS",
    });
    await api("/api/2.0/mlflow/registered-models/permissions/create", {
      name: "fraud",
      username: "reader",
      permission: "READ",
    });
    const issued = await api("/api/2.0/slipway/tokens/create", { name: "scoring", username: "reader" });
    token = String(issued.secret);

    const models = new ModelSet();
    const metrics = new InferenceMetrics({ defaultMetrics: false });
    const model = new ServedModel({ name: "fraud", source: "models:/fraud@prod", predictor: lengthPredictor() });
    await model.start();
    models.add(model);
    modelServer = await startModelServer({
      models,
      metrics,
      version: "0.0.0-test",
      vertex: vertexSettings({}, "fraud"),
      host: "127.0.0.1",
      port: 0,
      auth: new DataPlaneAuth({ controlPlane: new ControlPlaneAuth({ trackingUri: controlPlane.url }) }),
    });
  });
  after(async () => {
    await modelServer?.close();
    await controlPlane?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the reader (password or API token), refuses the outsider 403 and wrong credentials 401", async () => {
    const byPassword = await predict(basic("reader", "reader password"));
    assert.equal(byPassword.status, 200, await byPassword.clone().text());
    assert.deepEqual(await byPassword.json(), { predictions: [5] });
    assert.ok(token.length > 10);
    const byToken = await predict(`Bearer ${token}`);
    assert.equal(byToken.status, 200, await byToken.clone().text());

    const outsider = await predict(basic("outsider", "outsider password"));
    assert.equal(outsider.status, 403);
    const denied = (await outsider.json()) as { error_code: string; message: string };
    assert.equal(denied.error_code, "PERMISSION_DENIED");
    assert.match(denied.message, /'outsider' does not have READ permission on registered model 'fraud'/);

    const wrong = await predict(basic("reader", "not the password"));
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error_code: string }).error_code, "UNAUTHENTICATED");
    const none = await predict();
    assert.equal(none.status, 401);
    assert.equal((await fetch(`${modelServer.url}/ping`)).status, 200);
  });
});
