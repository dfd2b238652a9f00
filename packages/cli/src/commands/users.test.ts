/**
 * `slipway users create-admin` against a fresh SQLite store (no server running), then a real server with --auth on
 * that store: the admin signs in over HTTP, and the HTTP-backed `users` and `tokens` commands work with its
 * credentials (MLflow's environment variables).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "@slipway/server";
import { slipway, startAuthServerOn } from "../testing/auth.js";

describe("slipway users", () => {
  let dir: string;
  let storeUri: string;
  let server: RunningServer | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "slipway-users-cli-"));
    storeUri = `sqlite:///${join(dir, "db", "slipway.db")}`;
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("create-admin writes the admin into a fresh store; the server then accepts its credentials", async () => {
    const made = await slipway(
      ["users", "create-admin", "--username", "boss", "--password-stdin", "--backend-store-uri", storeUri],
      {
        input: "boss password 123\n",
      },
    );
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /Created admin 'boss'/);
    const twice = await slipway([
      "users",
      "create-admin",
      "--username",
      "boss",
      "--password",
      "boss password 123",
      "--backend-store-uri",
      storeUri,
    ]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /RESOURCE_ALREADY_EXISTS: User 'boss' already exists/);
    const weak = await slipway(
      ["users", "create-admin", "--username", "weak", "--password-stdin", "--backend-store-uri", storeUri],
      {
        input: "short\n",
      },
    );
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /at least 8 characters/);
    const none = await slipway(["users", "create-admin", "--username", "x", "--backend-store-uri", storeUri]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /password is required/);

    server = await startAuthServerOn(storeUri, dir);
    const anonymous = await fetch(`${server.url}/api/2.0/slipway/auth/whoami`);
    assert.equal(anonymous.status, 401);
    const who = await fetch(`${server.url}/api/2.0/slipway/auth/whoami`, {
      headers: { authorization: `Basic ${Buffer.from("boss:boss password 123").toString("base64")}` },
    });
    assert.equal(who.status, 200);
    assert.deepEqual(await who.json(), { user: { id: 1, username: "boss", is_admin: true, kind: "user" } });
  });

  it("slipway server refuses a non-loopback host without --auth, saying how to fix it", async () => {
    const refused = await slipway(["server", "--host", "0.0.0.0", "--port", "0", "--backend-store-uri", storeUri]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /Refusing to listen on 0\.0\.0\.0 without authentication/);
    assert.match(refused.stderr, /--auth/);
    assert.match(refused.stderr, /--insecure-no-auth/);
  });

  it("users and tokens commands go through the API with MLflow's credential variables", async () => {
    assert.ok(server);
    const env = {
      MLFLOW_TRACKING_URI: server.url,
      MLFLOW_TRACKING_USERNAME: "boss",
      MLFLOW_TRACKING_PASSWORD: "boss password 123",
    };
    const created = await slipway(["users", "create", "--username", "carol", "--password-stdin"], {
      input: "carol password\n",
      env,
    });
    assert.equal(created.code, 0, created.stderr);
    const sa = await slipway(["users", "create-service-account", "--username", "deployer"], { env });
    assert.equal(sa.code, 0, sa.stderr);
    const list = await slipway(["users", "list", "--json"], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { username: string; kind: string; is_admin: boolean }[]).map((u) => [
        u.username,
        u.kind,
        u.is_admin,
      ]),
      [
        ["boss", "user", true],
        ["carol", "user", false],
        ["deployer", "service_account", false],
      ],
    );
    const promoted = await slipway(["users", "set-admin", "--username", "carol"], { env });
    assert.equal(promoted.code, 0, promoted.stderr);

    const token = await slipway(
      ["tokens", "create", "--name", "deploy", "--username", "deployer", "--expires-in-days", "7"],
      { env },
    );
    assert.equal(token.code, 0, token.stderr);
    const secret = /^(slw_\S+)$/m.exec(token.stdout)?.[1];
    assert.ok(secret, token.stdout);
    const asDeployer = { MLFLOW_TRACKING_URI: server.url, MLFLOW_TRACKING_TOKEN: secret };
    const mine = await slipway(["tokens", "list", "--json"], { env: asDeployer });
    assert.equal(mine.code, 0, mine.stderr);
    const tokens = JSON.parse(mine.stdout) as { id: string; name: string; last_used_at?: number }[];
    assert.deepEqual(
      tokens.map((t) => t.name),
      ["deploy"],
    );
    assert.ok(!mine.stdout.includes(secret.slice(12)));
    const revoked = await slipway(["tokens", "revoke", "--id", tokens[0]!.id], { env });
    assert.equal(revoked.code, 0, revoked.stderr);
    const after = await slipway(["tokens", "list"], { env: asDeployer });
    assert.equal(after.code, 1);
    assert.match(after.stderr, /UNAUTHENTICATED/);
    assert.match(after.stderr, /slipway login/);

    const notAdmin = await slipway(["users", "delete", "--username", "boss"], {
      env: {
        MLFLOW_TRACKING_URI: server.url,
        MLFLOW_TRACKING_USERNAME: "deployer",
        MLFLOW_TRACKING_PASSWORD: "anything",
      },
    });
    assert.equal(notAdmin.code, 1);
    assert.match(notAdmin.stderr, /UNAUTHENTICATED/);
    const deleted = await slipway(["users", "delete", "--username", "carol"], { env });
    assert.equal(deleted.code, 0, deleted.stderr);
  });
});
