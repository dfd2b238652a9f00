import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  authorizationFromEnv,
  credentialsFilePath,
  credentialsKey,
  readCredentialsFile,
  saveCredentials,
  savedToken,
} from "./credentials.js";
import { resolveCredentials } from "./client.js";

describe("client credentials", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-credentials-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("maps MLflow's variables: the token first, then username and password", () => {
    assert.equal(authorizationFromEnv({}), undefined);
    assert.equal(authorizationFromEnv({ MLFLOW_TRACKING_TOKEN: "slw_abc" }), "Bearer slw_abc");
    assert.equal(
      authorizationFromEnv({ MLFLOW_TRACKING_USERNAME: "ann", MLFLOW_TRACKING_PASSWORD: "pä:ss" }),
      `Basic ${Buffer.from("ann:pä:ss", "utf8").toString("base64")}`,
    );
    assert.equal(
      authorizationFromEnv({
        MLFLOW_TRACKING_TOKEN: "t",
        MLFLOW_TRACKING_USERNAME: "a",
        MLFLOW_TRACKING_PASSWORD: "b",
      }),
      "Bearer t",
    );
    assert.equal(authorizationFromEnv({ MLFLOW_TRACKING_USERNAME: "a" }), undefined, "no password: nothing");
  });

  it("keys entries by tracking URI without credentials, query or trailing slash", () => {
    assert.equal(credentialsKey("http://u:p@Host:5000/prefix/?x=1"), "http://host:5000/prefix");
    assert.equal(credentialsKey("http://127.0.0.1:5000/"), "http://127.0.0.1:5000");
    assert.equal(credentialsFilePath({ SLIPWAY_CREDENTIALS_FILE: "/x/y" }), "/x/y");
    assert.match(credentialsFilePath({}), /\.slipway[/\\]credentials$/);
  });

  it("writes atomically with mode 0600, one entry per server, and removes entries", async () => {
    const file = join(dir, "nested", "credentials");
    const env = { SLIPWAY_CREDENTIALS_FILE: file };
    await saveCredentials("http://a:5000", { token: "slw_a", saved: 1 }, env);
    await saveCredentials("http://b:5000/", { token: "slw_b", username: "bo", saved: 2 }, env);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(dir, "nested")), ["credentials"], "no temporary files left behind");
    assert.equal(await savedToken("http://a:5000/", env), "slw_a");
    assert.equal(await savedToken("http://b:5000", env), "slw_b");
    assert.equal(await savedToken("http://c:5000", env), undefined);
    assert.equal(await resolveCredentials("http://b:5000", env), "Bearer slw_b");
    assert.equal(await resolveCredentials("http://b:5000", { ...env, MLFLOW_TRACKING_TOKEN: "env" }), "Bearer env");
    await saveCredentials("http://a:5000", undefined, env);
    assert.deepEqual(Object.keys((await readCredentialsFile(file)).servers), ["http://b:5000"]);
    assert.equal((JSON.parse(await readFile(file, "utf8")) as { version: number }).version, 1);
    assert.deepEqual(await readCredentialsFile(join(dir, "missing")), { version: 1, servers: {} });
    await writeFile(join(dir, "broken"), "{not json");
    await assert.rejects(readCredentialsFile(join(dir, "broken")), /not valid JSON/);
  });
});
