/**
 * `slipway login` against a real server with --auth: it verifies the credentials, saves a token (never the
 * password) in the credentials file with mode 0600, and the SDK and the CLI then authenticate from that file.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MlflowError } from "@slipway/protocol";
import { TrackingClient } from "@slipway/sdk";
import type { RunningServer } from "@slipway/server";
import { slipway, startAuthServerOn } from "../testing/auth.js";

describe("slipway login", () => {
  let dir: string;
  let server: RunningServer;
  let credentials: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-login-"));
    const storeUri = `sqlite:///${join(dir, "slipway.db")}`;
    const made = await slipway([
      "users",
      "create-admin",
      "--username",
      "dana",
      "--password",
      "dana password",
      "--backend-store-uri",
      storeUri,
    ]);
    assert.equal(made.code, 0, made.stderr);
    server = await startAuthServerOn(storeUri, dir);
    credentials = join(dir, "home", ".slipway", "credentials");
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses wrong credentials and writes nothing", async () => {
    const bad = await slipway(["login", "--tracking-uri", server.url, "--username", "dana", "--password-stdin"], {
      input: "not the password\n",
      env: { SLIPWAY_CREDENTIALS_FILE: credentials },
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /UNAUTHENTICATED/);
    await assert.rejects(stat(credentials), { code: "ENOENT" });
    const usage = await slipway(["login", "--tracking-uri", server.url, "--username", "dana"], {
      env: { SLIPWAY_CREDENTIALS_FILE: credentials },
    });
    assert.equal(usage.code, 2);
  });

  it("saves a cli-login token with mode 0600; the SDK and the CLI then use it", async () => {
    const ok = await slipway(["login", "--tracking-uri", `${server.url}/`, "--username", "dana", "--password-stdin"], {
      input: "dana password\n",
      env: { SLIPWAY_CREDENTIALS_FILE: credentials },
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Signed in to .* as 'dana' \(admin\)/);
    const info = await stat(credentials);
    assert.equal(info.mode & 0o777, 0o600);
    const text = await readFile(credentials, "utf8");
    assert.ok(!text.includes("dana password"), "the password is never stored");
    const content = JSON.parse(text) as { servers: Record<string, { token: string; username: string }> };
    const entry = content.servers[server.url];
    assert.ok(entry, `entry for ${server.url} in ${text}`);
    assert.match(entry.token, /^slw_/);
    assert.equal(entry.username, "dana");

    // the SDK: no MLflow variables, only the credentials file
    const client = new TrackingClient({
      trackingUri: server.url,
      maxRetries: 0,
      credentialsEnv: { SLIPWAY_CREDENTIALS_FILE: credentials },
    });
    const { experiment_id } = await client.createExperiment({ name: "from-the-credentials-file" });
    assert.ok(experiment_id);
    // without any credentials: a 401 that says what to do
    const anonymous = new TrackingClient({
      trackingUri: server.url,
      maxRetries: 0,
      credentialsEnv: { SLIPWAY_CREDENTIALS_FILE: join(dir, "none") },
    });
    await assert.rejects(anonymous.searchExperiments({ max_results: 1 }), (e: unknown) => {
      assert.ok(e instanceof MlflowError);
      assert.equal(e.status, 401);
      assert.match(e.message, /MLFLOW_TRACKING_TOKEN/);
      assert.match(e.message, /slipway login --tracking-uri/);
      return true;
    });
    // the environment wins over the file, as in MLflow
    const wrongEnv = new TrackingClient({
      trackingUri: server.url,
      maxRetries: 0,
      credentialsEnv: { SLIPWAY_CREDENTIALS_FILE: credentials, MLFLOW_TRACKING_TOKEN: "slw_wrong" },
    });
    await assert.rejects(wrongEnv.searchExperiments({ max_results: 1 }), { status: 401 });

    // the CLI reads the same file
    const list = await slipway(["experiments", "list", "--json", "--tracking-uri", server.url], {
      env: { SLIPWAY_CREDENTIALS_FILE: credentials },
    });
    assert.equal(list.code, 0, list.stderr);
    assert.ok((JSON.parse(list.stdout) as { name: string }[]).some((e) => e.name === "from-the-credentials-file"));
    const tokens = await slipway(["tokens", "list", "--json", "--tracking-uri", server.url], {
      env: { SLIPWAY_CREDENTIALS_FILE: credentials },
    });
    assert.deepEqual(
      (JSON.parse(tokens.stdout) as { name: string }[]).map((t) => t.name),
      ["cli-login"],
    );
  });

  it("--token-stdin saves a given token after checking it", async () => {
    const other = join(dir, "other-credentials");
    const created = await fetch(`${server.url}/api/2.0/slipway/tokens/create`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from("dana:dana password").toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ name: "given" }),
    });
    const { secret } = (await created.json()) as { secret: string };
    const bad = await slipway(["login", "--tracking-uri", server.url, "--token-stdin"], {
      input: "slw_not-a-real-token-at-all-000000000000000000\n",
      env: { SLIPWAY_CREDENTIALS_FILE: other },
    });
    assert.equal(bad.code, 1);
    const ok = await slipway(["login", "--tracking-uri", server.url, "--token-stdin"], {
      input: `${secret}\n`,
      env: { SLIPWAY_CREDENTIALS_FILE: other },
    });
    assert.equal(ok.code, 0, ok.stderr);
    const content = JSON.parse(await readFile(other, "utf8")) as { servers: Record<string, { token: string }> };
    assert.equal(content.servers[server.url]?.token, secret);
  });
});
