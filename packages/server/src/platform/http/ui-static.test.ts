/** The web UI's hosting: static files, caching, compression, the SPA fallback, and the API left as it was. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { brotliDecompressSync } from "node:zlib";
import { startServer, type RunningServer } from "../../main-server.js";
import { loadServerConfig } from "../config.js";

const INDEX = "<!doctype html><title>Slipway</title><div id=root></div>";
const SCRIPT = `console.log(${JSON.stringify("x".repeat(4000))});\n`;

async function start(dir: string, uiDir: string): Promise<RunningServer> {
  return startServer(
    loadServerConfig(
      {
        host: "127.0.0.1",
        port: 0,
        backendStoreUri: `sqlite:///${join(dir, "slipway.db")}`,
        artifactsDestination: join(dir, "artifacts"),
        logLevel: "silent",
        monitorScheduler: false,
        uiDir,
      },
      {},
    ),
  );
}

/** A raw GET (fetch would normalise `..` away and always ask for compression). */
function get(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("web UI hosting", () => {
  let dir: string;
  let server: RunningServer;
  const html = { accept: "text/html,application/xhtml+xml" };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-ui-static-"));
    const ui = join(dir, "web");
    await mkdir(join(ui, "assets"), { recursive: true });
    await writeFile(join(ui, "index.html"), INDEX);
    await writeFile(join(ui, "assets", "index-abc123.js"), SCRIPT);
    await writeFile(join(ui, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    await writeFile(join(dir, "secret.txt"), "do not serve");
    server = await start(dir, ui);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves index.html at / and for client-side routes, revalidated", async () => {
    for (const path of ["/", "/experiments", "/experiments/3?filter=x", "/models/churn.v2", "/runs/abc/"]) {
      const r = await get(server.url, path, html);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers["content-type"], "text/html; charset=utf-8", path);
      assert.equal(r.headers["cache-control"], "no-cache", path);
      assert.equal(r.body.toString(), INDEX, path);
    }
    const plain = await get(server.url, "/experiments/3");
    assert.equal(plain.body.toString(), INDEX, "a path without an extension is a page even without Accept");
  });

  it("serves assets with their content type, immutable caching, compression and ETags", async () => {
    const first = await get(server.url, "/assets/index-abc123.js", { "accept-encoding": "gzip, br" });
    assert.equal(first.body.toString(), SCRIPT, "the first answer does not wait for compression");
    let r = first;
    for (let i = 0; i < 100 && r.headers["content-encoding"] === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      r = await get(server.url, "/assets/index-abc123.js", { "accept-encoding": "gzip, br" });
    }
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(r.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(r.headers["content-encoding"], "br");
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    assert.equal(brotliDecompressSync(r.body).toString(), SCRIPT);
    const identity = await get(server.url, "/assets/index-abc123.js");
    assert.equal(identity.headers["content-encoding"], undefined);
    assert.equal(identity.body.toString(), SCRIPT);
    const etag = String(r.headers.etag);
    const again = await get(server.url, "/assets/index-abc123.js", { "if-none-match": etag });
    assert.equal(again.status, 304);
    const svg = await get(server.url, "/favicon.svg");
    assert.equal(svg.headers["content-type"], "image/svg+xml");
  });

  it("answers a missing asset with a 404 and never serves files outside the bundle", async () => {
    const missing = await get(server.url, "/assets/gone-123.js");
    assert.equal(missing.status, 404);
    for (const path of ["/..%2fsecret.txt", "/assets/..%2f..%2fsecret.txt", "/%2e%2e/secret.txt", "/a%00.js"]) {
      const r = await get(server.url, path, html);
      assert.ok(!r.body.toString().includes("do not serve"), path);
    }
  });

  it("leaves the APIs, /health and /metrics as they were", async () => {
    const cases: [string, number, RegExp][] = [
      ["/api/2.0/mlflow/nope", 404, /ENDPOINT_NOT_FOUND/],
      ["/ajax-api/2.0/mlflow/nope", 404, /ENDPOINT_NOT_FOUND/],
      ["/ajax-api/2.0/mlflow/runs/create", 405, /BAD_REQUEST/],
      ["/api", 404, /ENDPOINT_NOT_FOUND/],
      ["/metrics/x", 404, /ENDPOINT_NOT_FOUND/],
    ];
    for (const [path, status, body] of cases) {
      const r = await get(server.url, path, html);
      assert.equal(r.status, status, path);
      assert.match(String(r.headers["content-type"]), /application\/json/, path);
      assert.match(r.body.toString(), body, path);
    }
    assert.equal((await get(server.url, "/health")).body.toString(), "OK");
    assert.match((await get(server.url, "/metrics")).body.toString(), /slipway_http_requests_total/);
    const experiments = await get(server.url, "/api/2.0/mlflow/experiments/get?experiment_id=0");
    assert.equal(experiments.status, 200);
  });

  it("says how to build the UI when the bundle is missing", async () => {
    const other = await start(join(dir, "other"), join(dir, "no-such-bundle"));
    try {
      const r = await get(other.url, "/experiments", html);
      assert.equal(r.status, 200);
      assert.match(r.body.toString(), /web UI is not built/);
      assert.match(r.body.toString(), /npm run build/);
      assert.equal((await get(other.url, "/health")).body.toString(), "OK");
    } finally {
      await other.close();
    }
  });

  it("takes the bundle directory from --ui-dir or SLIPWAY_UI_DIR", () => {
    assert.equal(loadServerConfig({}, { SLIPWAY_UI_DIR: "ui/web" }, "/srv").uiDir, "/srv/ui/web");
    assert.equal(loadServerConfig({ uiDir: "/x" }, { SLIPWAY_UI_DIR: "ui/web" }, "/srv").uiDir, "/x");
    assert.equal(loadServerConfig({}, {}, "/srv").uiDir, undefined);
  });
});
