/**
 * Authentication over HTTP with a real server (`--auth`): the 401 answers, basic, bearer and cookie
 * authentication, CSRF, MLflow's auth REST API shapes, Slipway's token, whoami and audit endpoints, oversized
 * headers, the per-address limit, and the refusal to bind a non-loopback address without auth.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startServer, type RunningServer } from "../../main-server.js";
import { ConfigError, loadServerConfig } from "../../platform/config.js";
import type { AuthServiceOptions } from "./auth-service.js";

const ADMIN = { username: "root-admin", password: "admin password 1" };
const FAST = { N: 2 ** 10, r: 8, p: 1 };

interface AuthServer extends RunningServer {
  stop(): Promise<void>;
}

async function startAuthServer(auth: Omit<AuthServiceOptions, "db" | "defaultPermission"> = {}): Promise<AuthServer> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-auth-http-"));
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
  const server = await startServer(config, { auth: { scrypt: FAST, ...auth } });
  return {
    ...server,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  text: string;
}

async function call(
  base: string,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.auth === undefined ? {} : { authorization: options.auth }),
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the test reads `text`
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** A raw request (fetch refuses some header sizes on its own side). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "GET", headers, maxHeaderSize: 1 << 20 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("authentication over HTTP", () => {
  let server: AuthServer;
  let base: string;
  const admin = basic(ADMIN.username, ADMIN.password);

  before(async () => {
    server = await startAuthServer();
    base = server.url;
  });
  after(async () => {
    await server?.stop();
  });

  it("answers anonymous API requests 401 in MLflow's format, with a Basic challenge outside the UI's namespace", async () => {
    const api = await call(base, "GET", "/api/2.0/mlflow/experiments/search?max_results=1");
    assert.equal(api.status, 401);
    assert.equal(api.json.error_code, "UNAUTHENTICATED");
    assert.match(String(api.json.message), /MLFLOW_TRACKING_USERNAME/);
    assert.equal(api.headers.get("www-authenticate"), 'Basic realm="slipway"');
    const ajax = await call(base, "POST", "/ajax-api/2.0/mlflow/experiments/create", { body: { name: "x" } });
    assert.equal(ajax.status, 401);
    assert.equal(ajax.headers.get("www-authenticate"), null, "no browser password dialog for the UI");
    for (const path of ["/api/2.0/mlflow-artifacts/artifacts", "/api/2.0/mlflow/registered-models/search"]) {
      assert.equal((await call(base, "GET", path)).status, 401, path);
    }
    // reserved namespaces without a route here answer the app's 404 (never a UI page, never data)
    for (const path of ["/get-artifact?path=x&run_uuid=y", "/graphql"]) {
      assert.equal((await call(base, "GET", path)).status, 404, path);
    }
    const wrong = await call(base, "GET", "/api/2.0/mlflow/experiments/search", {
      auth: basic(ADMIN.username, "nope"),
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("www-authenticate"), 'Basic realm="slipway"');
  });

  it("decides by the matched route, so no spelling of a protected path passes as a public one", async () => {
    for (const path of [
      "/%61pi/2.0/mlflow/experiments/search",
      "/api/2.0/mlflow/experiments/%73earch",
      "/ajax-api/2.0/mlflow/experiments/search/",
      "/api/2.0/slipway/auth/%77hoami",
    ]) {
      const answer = await rawGet(`${base}${path}`, {});
      assert.equal(answer.status, 401, `${path}: ${answer.body.slice(0, 200)}`);
    }
    // a POST that matches no route is not public either
    assert.equal((await call(base, "POST", "/no/such/route", { body: {} })).status, 401);
  });

  it("leaves probes, the scrape path, the UI's files and the login endpoint public", async () => {
    for (const path of ["/health", "/version", "/metrics"]) {
      assert.equal((await call(base, "GET", path)).status, 200, path);
    }
    const ui = await call(base, "GET", "/", { headers: { accept: "text/html" } });
    assert.equal(ui.status, 200);
    assert.match(ui.text, /<html/i);
    const login = await call(base, "POST", "/api/2.0/slipway/auth/login", { body: { username: "x", password: "y" } });
    assert.equal(login.status, 401, "reachable, and refuses bad credentials");
    const oidc = await call(base, "GET", "/api/2.0/slipway/auth/oidc/start");
    assert.notEqual(oidc.status, 401, "the OIDC flow's paths need no credentials");
  });

  it("accepts HTTP basic (as MLflow's clients send it) and creates the bootstrap admin", async () => {
    const created = await call(base, "POST", "/api/2.0/mlflow/experiments/create", {
      auth: admin,
      body: { name: "basic-exp" },
    });
    assert.equal(created.status, 200, created.text);
    const who = await call(base, "GET", "/api/2.0/slipway/auth/whoami", { auth: admin });
    assert.equal(who.status, 200);
    assert.deepEqual(who.json, { user: { id: 1, username: ADMIN.username, is_admin: true, kind: "user" } });
  });

  it("refuses an Authorization header over 8 KB with 400, and a huge one with 431, never 500", async () => {
    const big = await rawGet(`${base}/api/2.0/slipway/auth/whoami`, { authorization: `Basic ${"A".repeat(9000)}` });
    assert.equal(big.status, 400);
    assert.match(big.body, /Authorization header is longer than 8192 bytes/);
    const huge = await rawGet(`${base}/api/2.0/slipway/auth/whoami`, { authorization: `Bearer ${"A".repeat(70_000)}` });
    assert.ok(huge.status === 431 || huge.status === 400, `status ${huge.status}`);
    const garbage = await call(base, "GET", "/api/2.0/slipway/auth/whoami", { auth: "Basic %%%not-base64" });
    assert.equal(garbage.status, 401);
    const scheme = await call(base, "GET", "/api/2.0/slipway/auth/whoami", { auth: "Digest abc" });
    assert.equal(scheme.status, 401);
  });

  it("MLflow's user endpoints: shapes, admin-only, self-service, errors", async () => {
    const created = await call(base, "POST", "/api/2.0/mlflow/users/create", {
      auth: admin,
      body: { username: "alice", password: "alice password" },
    });
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(created.json, {
      user: { id: 2, username: "alice", is_admin: false, experiment_permissions: [], registered_model_permissions: [] },
    });
    const again = await call(base, "POST", "/api/2.0/mlflow/users/create", {
      auth: admin,
      body: { username: "alice", password: "alice password" },
    });
    assert.equal(again.status, 400);
    assert.equal(again.json.error_code, "RESOURCE_ALREADY_EXISTS");
    const short = await call(base, "POST", "/api/2.0/mlflow/users/create", {
      auth: admin,
      body: { username: "bob", password: "short" },
    });
    assert.equal(short.status, 400);
    assert.equal(short.json.error_code, "INVALID_PARAMETER_VALUE");
    assert.match(String(short.json.message), /at least 8 characters/);
    const missing = await call(base, "POST", "/api/2.0/mlflow/users/create", {
      auth: admin,
      body: { username: "bob" },
    });
    assert.equal(missing.status, 400);
    assert.match(String(missing.json.message), /Missing value for required parameter 'password'/);

    const alice = basic("alice", "alice password");
    const self = await call(base, "GET", "/api/2.0/mlflow/users/get?username=alice", { auth: alice });
    assert.equal(self.status, 200);
    assert.equal((self.json.user as { username: string }).username, "alice");
    const other = await call(base, "GET", `/api/2.0/mlflow/users/get?username=${ADMIN.username}`, { auth: alice });
    assert.equal(other.status, 403);
    assert.equal(other.json.error_code, "PERMISSION_DENIED");
    const notAdmin = await call(base, "POST", "/api/2.0/mlflow/users/create", {
      auth: alice,
      body: { username: "mallory", password: "mallory password" },
    });
    assert.equal(notAdmin.status, 403);
    const nobody = await call(base, "GET", "/api/2.0/mlflow/users/get?username=nobody", { auth: admin });
    assert.equal(nobody.status, 404);
    assert.equal(nobody.json.error_code, "RESOURCE_DOES_NOT_EXIST");

    const changed = await call(base, "PATCH", "/api/2.0/mlflow/users/update-password", {
      auth: alice,
      body: { username: "alice", password: "alice new password" },
    });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.json, {});
    assert.equal((await call(base, "GET", "/api/2.0/slipway/auth/whoami", { auth: alice })).status, 401);
    const alice2 = basic("alice", "alice new password");
    assert.equal((await call(base, "GET", "/api/2.0/slipway/auth/whoami", { auth: alice2 })).status, 200);

    const promoted = await call(base, "PATCH", "/ajax-api/2.0/mlflow/users/update-admin", {
      auth: admin,
      body: { username: "alice", is_admin: true },
    });
    assert.equal(promoted.status, 200);
    assert.deepEqual(promoted.json, {});
    const whoAdmin = await call(base, "GET", "/api/2.0/slipway/auth/whoami", { auth: alice2 });
    assert.equal((whoAdmin.json.user as { is_admin: boolean }).is_admin, true);
    await call(base, "PATCH", "/api/2.0/mlflow/users/update-admin", {
      auth: admin,
      body: { username: "alice", is_admin: false },
    });

    const temp = await call(base, "POST", "/api/2.0/mlflow/users/create", {
      auth: admin,
      body: { username: "temp", password: "temp password" },
    });
    assert.equal(temp.status, 200);
    const deleted = await call(base, "DELETE", "/api/2.0/mlflow/users/delete", {
      auth: admin,
      body: { username: "temp" },
    });
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.json, {});
    assert.equal((await call(base, "GET", "/api/2.0/mlflow/users/get?username=temp", { auth: admin })).status, 404);
  });

  it("MLflow's permission endpoints: shapes, errors, and whoami's effective permissions", async () => {
    const alice = basic("alice", "alice new password");
    const exp = await call(base, "POST", "/api/2.0/mlflow/experiments/create", {
      auth: admin,
      body: { name: "perm-exp" },
    });
    const experimentId = String(exp.json.experiment_id);
    const path = "/api/2.0/mlflow/experiments/permissions";
    const create = await call(base, "POST", `${path}/create`, {
      auth: admin,
      body: { experiment_id: experimentId, username: "alice", permission: "EDIT" },
    });
    assert.equal(create.status, 200, create.text);
    assert.deepEqual(create.json, {
      experiment_permission: { experiment_id: experimentId, user_id: 2, permission: "EDIT" },
    });
    const dup = await call(base, "POST", `${path}/create`, {
      auth: admin,
      body: { experiment_id: experimentId, username: "alice", permission: "READ" },
    });
    assert.equal(dup.status, 400);
    assert.equal(dup.json.error_code, "RESOURCE_ALREADY_EXISTS");
    const bad = await call(base, "PATCH", `${path}/update`, {
      auth: admin,
      body: { experiment_id: experimentId, username: "alice", permission: "WRITE" },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error_code, "INVALID_PARAMETER_VALUE");
    const got = await call(base, "GET", `${path}/get?experiment_id=${experimentId}&username=alice`, { auth: admin });
    assert.deepEqual(got.json, {
      experiment_permission: { experiment_id: experimentId, user_id: 2, permission: "EDIT" },
    });
    const who = await call(
      base,
      "GET",
      `/api/2.0/slipway/auth/whoami?experiment_id=${experimentId}&registered_model_name=m1`,
      {
        auth: alice,
      },
    );
    assert.deepEqual(who.json, {
      user: { id: 2, username: "alice", is_admin: false, kind: "user" },
      registered_model_permission: "READ",
      experiment_permission: "EDIT",
    });
    // EDIT cannot manage permissions; MANAGE can
    const denied = await call(base, "PATCH", `${path}/update`, {
      auth: alice,
      body: { experiment_id: experimentId, username: "alice", permission: "MANAGE" },
    });
    assert.equal(denied.status, 403);
    const updated = await call(base, "PATCH", `${path}/update`, {
      auth: admin,
      body: { experiment_id: experimentId, username: "alice", permission: "MANAGE" },
    });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.json, {});
    const byManager = await call(base, "PATCH", `${path}/update`, {
      auth: alice,
      body: { experiment_id: experimentId, username: "alice", permission: "READ" },
    });
    assert.equal(byManager.status, 200);
    const removed = await call(base, "DELETE", `${path}/delete`, {
      auth: admin,
      body: { experiment_id: experimentId, username: "alice" },
    });
    assert.equal(removed.status, 200);
    const gone = await call(base, "GET", `${path}/get?experiment_id=${experimentId}&username=alice`, { auth: admin });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error_code, "RESOURCE_DOES_NOT_EXIST");

    const mpath = "/api/2.0/mlflow/registered-models/permissions";
    const mc = await call(base, "POST", `${mpath}/create`, {
      auth: admin,
      body: { name: "m1", username: "alice", permission: "MANAGE" },
    });
    assert.deepEqual(mc.json, { registered_model_permission: { name: "m1", user_id: 2, permission: "MANAGE" } });
    const mg = await call(base, "GET", `${mpath}/get?name=m1&username=alice`, { auth: alice });
    assert.deepEqual(mg.json, { registered_model_permission: { name: "m1", user_id: 2, permission: "MANAGE" } });
    assert.deepEqual(
      (
        await call(base, "PATCH", `${mpath}/update`, {
          auth: admin,
          body: { name: "m1", username: "alice", permission: "READ" },
        })
      ).json,
      {},
    );
    assert.deepEqual(
      (await call(base, "DELETE", `${mpath}/delete`, { auth: admin, body: { name: "m1", username: "alice" } })).json,
      {},
    );
    const unknownUser = await call(base, "POST", `${mpath}/create`, {
      auth: admin,
      body: { name: "m1", username: "nobody", permission: "READ" },
    });
    assert.equal(unknownUser.status, 404);
    const user = await call(base, "GET", "/api/2.0/mlflow/users/get?username=alice", { auth: admin });
    assert.deepEqual(user.json, {
      user: { id: 2, username: "alice", is_admin: false, experiment_permissions: [], registered_model_permissions: [] },
    });
  });

  it("bearer tokens: created once, accepted, listed without secrets, refused after revocation", async () => {
    const alice = basic("alice", "alice new password");
    const created = await call(base, "POST", "/api/2.0/slipway/tokens/create", {
      auth: alice,
      body: { name: "laptop", expires_in_days: 30 },
    });
    assert.equal(created.status, 200, created.text);
    const secret = String(created.json.secret);
    assert.match(secret, /^slw_/);
    const token = created.json.token as Record<string, unknown>;
    assert.deepEqual(Object.keys(token).sort(), ["created", "expires_at", "id", "name", "prefix"]);
    assert.ok(Math.abs(Number(token.expires_at) - Date.now() - 30 * 86_400_000) < 60_000);
    const bearer = `Bearer ${secret}`;
    const who = await call(base, "GET", "/api/2.0/slipway/auth/whoami", { auth: bearer });
    assert.equal((who.json.user as { username: string }).username, "alice");
    const list = await call(base, "GET", "/api/2.0/slipway/tokens/list", { auth: bearer });
    const tokens = list.json.tokens as Record<string, unknown>[];
    assert.equal(tokens.length, 1);
    assert.ok(!list.text.includes(secret.slice(12)), "listings never show the secret");
    const othersList = await call(base, "GET", `/api/2.0/slipway/tokens/list?username=${ADMIN.username}`, {
      auth: bearer,
    });
    assert.equal(othersList.status, 403);
    const badDays = await call(base, "POST", "/api/2.0/slipway/tokens/create", {
      auth: alice,
      body: { name: "x", expires_in_days: -1 },
    });
    assert.equal(badDays.status, 400);
    assert.equal(badDays.json.error_code, "INVALID_PARAMETER_VALUE");
    const revoked = await call(base, "POST", "/api/2.0/slipway/tokens/revoke", {
      auth: bearer,
      body: { id: token.id },
    });
    assert.equal(revoked.status, 200);
    const reuse = await call(base, "GET", "/api/2.0/slipway/auth/whoami", { auth: bearer });
    assert.equal(reuse.status, 401);
    assert.equal(reuse.json.error_code, "UNAUTHENTICATED");
  });

  it("service accounts: admin-created, token-only", async () => {
    const sa = await call(base, "POST", "/api/2.0/slipway/service-accounts/create", {
      auth: admin,
      body: { username: "ci-bot" },
    });
    assert.equal(sa.status, 200, sa.text);
    assert.deepEqual(sa.json, { user: { id: 4, username: "ci-bot", is_admin: false, kind: "service_account" } });
    const denied = await call(base, "POST", "/api/2.0/slipway/service-accounts/create", {
      auth: basic("alice", "alice new password"),
      body: { username: "ci-bot-2" },
    });
    assert.equal(denied.status, 403);
    const token = await call(base, "POST", "/api/2.0/slipway/tokens/create", {
      auth: admin,
      body: { name: "ci", username: "ci-bot" },
    });
    assert.equal(token.status, 200, token.text);
    const who = await call(base, "GET", "/api/2.0/slipway/auth/whoami", {
      auth: `Bearer ${String(token.json.secret)}`,
    });
    assert.deepEqual(who.json, { user: { id: 4, username: "ci-bot", is_admin: false, kind: "service_account" } });
    assert.equal((await call(base, "GET", "/api/2.0/slipway/auth/whoami", { auth: basic("ci-bot", "") })).status, 401);
  });

  it("UI sessions: secure cookie attributes, CSRF on writes, session and logout", async () => {
    const login = await call(base, "POST", "/api/2.0/slipway/auth/login", {
      body: { username: "alice", password: "alice new password" },
    });
    assert.equal(login.status, 200, login.text);
    const setCookie = login.headers.get("set-cookie") ?? "";
    const cookie = /^slipway_session=([^;]+)/.exec(setCookie)?.[1];
    assert.ok(cookie, setCookie);
    for (const attribute of ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"]) {
      assert.ok(setCookie.split("; ").includes(attribute), `${attribute} in ${setCookie}`);
    }
    assert.ok(!setCookie.includes("Secure"), "plain http: no Secure (the browser would drop the cookie)");
    const csrf = String(login.json.csrf_token);
    assert.deepEqual(login.json.user, { id: 2, username: "alice", is_admin: false, kind: "user" });
    const headers = { cookie: `slipway_session=${cookie}` };
    const session = await call(base, "GET", "/ajax-api/2.0/slipway/auth/session", { headers });
    assert.deepEqual(session.json, { user: login.json.user, csrf_token: csrf });
    const read = await call(base, "GET", "/ajax-api/2.0/mlflow/experiments/search?max_results=5", { headers });
    assert.equal(read.status, 200);
    const noCsrf = await call(base, "POST", "/ajax-api/2.0/mlflow/experiments/create", {
      headers,
      body: { name: "ui-exp" },
    });
    assert.equal(noCsrf.status, 403);
    assert.deepEqual(noCsrf.json, { error_code: "PERMISSION_DENIED", message: "missing or invalid CSRF token" });
    const badCsrf = await call(base, "POST", "/ajax-api/2.0/mlflow/experiments/create", {
      headers: { ...headers, "x-csrf-token": `${csrf}x` },
      body: { name: "ui-exp" },
    });
    assert.equal(badCsrf.status, 403);
    const ok = await call(base, "POST", "/ajax-api/2.0/mlflow/experiments/create", {
      headers: { ...headers, "x-csrf-token": csrf },
      body: { name: "ui-exp" },
    });
    assert.equal(ok.status, 200, ok.text);

    const secure = await call(base, "POST", "/api/2.0/slipway/auth/login", {
      body: { username: "alice", password: "alice new password" },
      headers: { "x-forwarded-proto": "https" },
    });
    assert.ok((secure.headers.get("set-cookie") ?? "").split("; ").includes("Secure"));

    const out = await call(base, "POST", "/ajax-api/2.0/slipway/auth/logout", { headers });
    assert.equal(out.status, 200);
    assert.match(out.headers.get("set-cookie") ?? "", /^slipway_session=; .*Max-Age=0/);
    assert.equal((await call(base, "GET", "/ajax-api/2.0/slipway/auth/session", { headers })).status, 401);
  });

  it("audit search: admin-only, newest first, paginated, recording auth events", async () => {
    const denied = await call(base, "GET", "/api/2.0/slipway/audit/search", {
      auth: basic("alice", "alice new password"),
    });
    assert.equal(denied.status, 403);
    const all = await call(base, "GET", "/api/2.0/slipway/audit/search?max_results=1000", { auth: admin });
    assert.equal(all.status, 200);
    const entries = all.json.entries as { action: string; timestamp: number; username?: string; ip?: string }[];
    const actions = new Set(entries.map((e) => e.action));
    for (const action of [
      "users.create",
      "users.update_password",
      "users.delete",
      "permissions.experiment.create",
      "tokens.create",
      "tokens.revoke",
      "service_accounts.create",
      "login.ok",
      "login.failed",
      "token.rejected",
    ]) {
      assert.ok(actions.has(action), `audited: ${action}`);
    }
    for (let i = 1; i < entries.length; i++)
      assert.ok(entries[i - 1]!.timestamp >= entries[i]!.timestamp, "newest first");
    assert.ok(entries.every((e) => e.ip === "127.0.0.1"));
    const first = await call(base, "GET", "/api/2.0/slipway/audit/search?max_results=2&action=users.", { auth: admin });
    const second = await call(
      base,
      "GET",
      `/api/2.0/slipway/audit/search?max_results=2&action=users.&page_token=${String(first.json.next_page_token)}`,
      { auth: admin },
    );
    const firstActions = (first.json.entries as { action: string }[]).map((e) => e.action);
    const secondActions = (second.json.entries as { action: string }[]).map((e) => e.action);
    assert.equal(firstActions.length, 2);
    assert.ok(secondActions.length >= 1);
    assert.ok([...firstActions, ...secondActions].every((a) => a.startsWith("users.")));
    const bad = await call(base, "GET", "/api/2.0/slipway/audit/search?max_results=abc", { auth: admin });
    assert.equal(bad.status, 400);
  });
});

describe("lockout and per-address limits over HTTP", () => {
  let server: AuthServer;
  before(async () => {
    server = await startAuthServer({
      lockout: { maxFailures: 3, lockMs: 60_000 },
      ipLimit: { maxFailures: 6, windowMs: 60_000 },
    });
  });
  after(async () => {
    await server?.stop();
  });

  it("locks the user after 3 failures (same generic answer), then limits the address with 429 and Retry-After", async () => {
    const base = server.url;
    const path = "/api/2.0/slipway/auth/whoami";
    const answers: string[] = [];
    for (let i = 0; i < 3; i++)
      answers.push((await call(base, "GET", path, { auth: basic(ADMIN.username, `wrong${i}`) })).text);
    const locked = await call(base, "GET", path, { auth: basic(ADMIN.username, ADMIN.password) });
    assert.equal(locked.status, 401, "locked even with the right password");
    answers.push(locked.text);
    answers.push((await call(base, "GET", path, { auth: basic("no-such-user", "whatever") })).text);
    assert.equal(new Set(answers).size, 1, "every failure answers the same");
    await call(base, "GET", path, { auth: basic("no-such-user", "whatever") });
    // six failures from this address: the seventh attempt is refused before any check
    const limited = await call(base, "GET", path, { auth: basic(ADMIN.username, ADMIN.password) });
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error_code, "REQUEST_LIMIT_EXCEEDED");
    const retryAfter = Number(limited.headers.get("retry-after"));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const login = await call(base, "POST", "/api/2.0/slipway/auth/login", { body: ADMIN });
    assert.equal(login.status, 429);
    assert.ok(Number(login.headers.get("retry-after")) > 0);
  });
});

describe("binding without authentication", () => {
  it("refuses a non-loopback host without --auth or --insecure-no-auth, saying how to fix it", () => {
    for (const host of ["0.0.0.0", "::", "10.1.2.3", "example.com"]) {
      assert.throws(
        () => loadServerConfig({ host }, {}),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.message.includes(`Refusing to listen on ${host} without authentication`) &&
          e.message.includes("--auth") &&
          e.message.includes("--insecure-no-auth") &&
          e.message.includes("--host 127.0.0.1"),
      );
    }
    assert.throws(() => loadServerConfig({}, { SLIPWAY_HOST: "0.0.0.0" }), ConfigError);
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "0:0:0:0:0:0:0:1"]) {
      assert.equal(loadServerConfig({ host }, {}).auth, false, host);
    }
    assert.equal(loadServerConfig({ host: "0.0.0.0", auth: true }, {}).auth, true);
    assert.equal(loadServerConfig({ host: "0.0.0.0" }, { SLIPWAY_AUTH: "true" }).auth, true);
    assert.equal(loadServerConfig({ host: "0.0.0.0", insecureNoAuth: true }, {}).insecureNoAuth, true);
    assert.equal(
      loadServerConfig({ host: "0.0.0.0", insecureNoAuth: true }, { SLIPWAY_AUTH: "true" }).auth,
      false,
      "the flag wins over the image's environment",
    );
    assert.throws(() => loadServerConfig({ auth: true, insecureNoAuth: true }, {}), /contradict/);
    assert.throws(() => loadServerConfig({ defaultPermission: "WRITE" }, {}), /--default-permission/);
    assert.equal(loadServerConfig({ defaultPermission: "no_permissions" }, {}).defaultPermission, "NO_PERMISSIONS");
    assert.throws(() => loadServerConfig({}, { SLIPWAY_ADMIN_USERNAME: "a" }), /set together/);
  });
});
