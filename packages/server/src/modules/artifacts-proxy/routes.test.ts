import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../../testing/server.js";

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

const base = () => `${server.url}/api/2.0/mlflow-artifacts/artifacts`;

describe("mlflow-artifacts proxy", () => {
  it("uploads, lists, downloads and deletes a run's artifacts, and artifacts/list sees them", async () => {
    const created = await fetch(`${server.url}/api/2.0/mlflow/runs/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ experiment_id: "0" }),
    });
    const { run } = (await created.json()) as { run: { info: { run_id: string; artifact_uri: string } } };
    const root = run.info.artifact_uri.replace("mlflow-artifacts:/", "");
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 31) % 256);
    const put = await fetch(`${base()}/${root}/model/weights.bin`, {
      method: "PUT",
      body: bytes,
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(await put.json(), {});
    const putJson = await fetch(`${base()}/${root}/metrics.json`, {
      method: "PUT",
      body: '{"f1": 0.98}',
      headers: { "content-type": "application/json" },
    });
    assert.equal(putJson.status, 200);

    const list = await fetch(`${base()}?path=${encodeURIComponent(root)}`);
    assert.deepEqual(await list.json(), {
      files: [
        { path: "metrics.json", is_dir: false, file_size: 12 },
        { path: "model", is_dir: true },
      ],
    });
    const get = await fetch(`${base()}/${root}/model/weights.bin`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get("content-type"), "application/octet-stream");
    assert.match(get.headers.get("content-disposition") ?? "", /attachment; filename="weights.bin"/);
    assert.deepEqual(new Uint8Array(await get.arrayBuffer()), bytes);
    const getJson = await fetch(`${base()}/${root}/metrics.json`);
    assert.match(getJson.headers.get("content-type") ?? "", /application\/json/);

    const tracked = await fetch(`${server.url}/api/2.0/mlflow/artifacts/list?run_id=${run.info.run_id}&path=model`);
    assert.deepEqual(await tracked.json(), {
      root_uri: run.info.artifact_uri,
      files: [{ path: "model/weights.bin", is_dir: false, file_size: 300_000 }],
    });

    assert.equal((await fetch(`${base()}/${root}/model`, { method: "DELETE" })).status, 200);
    const after = await fetch(`${server.url}/api/2.0/mlflow/artifacts/list?run_id=${run.info.run_id}`);
    assert.deepEqual(await after.json(), {
      root_uri: run.info.artifact_uri,
      files: [{ path: "metrics.json", is_dir: false, file_size: 12 }],
    });
    const missing = await fetch(`${base()}/${root}/model/weights.bin`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error_code: string }).error_code, "RESOURCE_DOES_NOT_EXIST");
  });

  it("refuses paths that escape the artifact root", async () => {
    for (const path of ["..%2F..%2Fetc%2Fpasswd", "a/..%2F..%2Fx", "%2Fetc%2Fpasswd", "a%5C..%5C..%5Cb", "a%00b"]) {
      const r = await fetch(`${base()}/${path}`);
      assert.equal(r.status, 400, `${path}: ${r.status}`);
      assert.equal(((await r.json()) as { error_code: string }).error_code, "INVALID_PARAMETER_VALUE");
      const p = await fetch(`${base()}/${path}`, { method: "PUT", body: "x" });
      assert.equal(p.status, 400, `PUT ${path}: ${p.status}`);
    }
    const listUp = await fetch(`${base()}?path=..`);
    assert.equal(listUp.status, 400);
    const trackedUp = await fetch(
      `${server.url}/api/2.0/mlflow/artifacts/list?run_id=0123456789abcdef0123456789abcdef&path=../..`,
    );
    assert.ok(trackedUp.status === 400 || trackedUp.status === 404);
  });

  it("answers multipart upload on a local store with 501, as MLflow does", async () => {
    const r = await fetch(`${server.url}/api/2.0/mlflow-artifacts/mpu/create/0/x/artifacts/big.bin`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "0/x/artifacts/big.bin", num_parts: 3 }),
    });
    assert.equal(r.status, 501);
    assert.equal(((await r.json()) as { error_code: string }).error_code, "NOT_IMPLEMENTED");
  });
});
