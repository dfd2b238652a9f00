/**
 * Test support for the authorization tests: a real server with auth on (SQLite) with users for every role of the
 * permission matrix, their grants, and the fixtures routes' requests refer to; and a raw HTTP client.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../main-server.js";
import { loadServerConfig } from "../../platform/config.js";
import type { AuthService } from "./auth-service.js";

export const ROLES = ["anonymous", "other", "reader", "editor", "manager", "admin"] as const;
export type Role = (typeof ROLES)[number];

// ---------------------------------------------------------------------------------------------- HTTP

export interface Answer {
  status: number;
  text: string;
}

/**
 * One request with node:http (not fetch: it sends the path as written, `..` and `%2e` included, and lets an
 * event stream be abandoned once its status arrived).
 */
export function send(
  base: string,
  options: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /**
     * For an event stream: after this long without an answer, settle with status 0 ("still open"). A refusal is
     * always prompt; a HEAD of the registry event stream sends no headers until the stream ends.
     */
    openAfterMs?: number;
  },
): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: options.path,
        // a connection of its own: a server that refused oversized headers closes it
        agent: false,
        headers: {
          ...(options.body === undefined ? {} : { "content-length": String(Buffer.byteLength(options.body)) }),
          ...options.headers,
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (String(res.headers["content-type"] ?? "").startsWith("text/event-stream")) {
          res.destroy();
          resolve({ status, text: "" });
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    if (options.openAfterMs !== undefined) {
      const timer = setTimeout(() => {
        req.destroy();
        resolve({ status: 0, text: "(stream still open)" });
      }, options.openAfterMs);
      req.on("response", () => clearTimeout(timer));
      req.on("close", () => clearTimeout(timer));
    }
    req.setTimeout(30_000, () => req.destroy(new Error(`${options.method} ${options.path}: no answer in 30 s`)));
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

export function query(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

// ---------------------------------------------------------------------------------------------- the server

export const PASSWORD = "Matrix-password-1";
const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };

export interface MatrixWorld {
  server: RunningServer & { auth: AuthService };
  dir: string;
  /** Headers that authenticate each role (none for anonymous). */
  headers: Record<Role, Record<string, string>>;
  userIds: Record<Exclude<Role, "anonymous">, number>;
  E: string;
  F: string;
  R: string;
  runArtifactDir: string;
  M: string;
  MON: string;
  WIN: string;
  DEP: string;
  /** A fresh name on every call. */
  unique(prefix: string): string;
  asAdmin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** Grants reader READ, editor EDIT, manager MANAGE and other NO_PERMISSIONS on a resource, like E and M. */
  grantRoles(resource: "experiment" | "registered_model", key: string): Promise<void>;
  stop(): Promise<void>;
}

const ROLE_PERMISSION = { other: "NO_PERMISSIONS", reader: "READ", editor: "EDIT", manager: "MANAGE" } as const;

/** Starts the server with auth on, its users, their grants and the fixtures every route's request refers to. */
export async function startMatrixWorld(
  defaultPermission: "NO_PERMISSIONS" | "READ",
  options: { backendStoreUri?: string } = {},
): Promise<MatrixWorld> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-matrix-"));
  const config = loadServerConfig(
    {
      host: "127.0.0.1",
      port: 0,
      backendStoreUri: options.backendStoreUri ?? `sqlite:///${join(dir, "slipway.db")}`,
      artifactsDestination: join(dir, "artifacts"),
      logLevel: "silent",
      monitorScheduler: false,
      auth: true,
      defaultPermission,
    },
    { SLIPWAY_ADMIN_USERNAME: "admin", SLIPWAY_ADMIN_PASSWORD: PASSWORD },
  );
  const running = await startServer(config, { auth: { scrypt: FAST_SCRYPT } });
  const auth = running.auth;
  assert.ok(auth, "the server runs with auth");
  const server = Object.assign(running, { auth });
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${++counter}`;

  const adminUser = await auth.requireUser("admin");
  const userIds = { admin: Number(adminUser.id) } as Record<Exclude<Role, "anonymous">, number>;
  const headers = { anonymous: {} } as Record<Role, Record<string, string>>;
  const adminToken = await auth.createToken(userIds.admin, { name: "matrix" });
  headers.admin = { authorization: `Bearer ${adminToken.token}` };
  for (const role of ["other", "reader", "editor", "manager"] as const) {
    const user = await auth.createUser({ username: role, password: PASSWORD });
    userIds[role] = Number(user.id);
    const token = await auth.createToken(userIds[role], { name: "matrix" });
    headers[role] = { authorization: `Bearer ${token.token}` };
  }
  for (const name of ["perm-target", "login-user"]) await auth.createUser({ username: name, password: PASSWORD });

  const asAdmin = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const answer = await send(server.url, {
      method,
      path: `/api/2.0${path}`,
      headers: { ...headers.admin, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    assert.ok(answer.status === 200, `${method} ${path}: ${answer.status} ${answer.text}`);
    return answer.text === "" ? {} : (JSON.parse(answer.text) as Record<string, unknown>);
  };
  const grantRoles = async (resource: "experiment" | "registered_model", key: string): Promise<void> => {
    for (const [role, permission] of Object.entries(ROLE_PERMISSION)) {
      await auth.createPermission(resource, key, role, permission);
    }
  };

  const E = String((await asAdmin("POST", "/mlflow/experiments/create", { name: "matrix-E" })).experiment_id);
  const F = String((await asAdmin("POST", "/mlflow/experiments/create", { name: "matrix-F" })).experiment_id);
  await grantRoles("experiment", E);
  const run = (await asAdmin("POST", "/mlflow/runs/create", { experiment_id: E, start_time: Date.now() })).run as {
    info: { run_id: string; artifact_uri: string };
  };
  const R = run.info.run_id;
  await asAdmin("POST", "/mlflow/runs/log-metric", { run_id: R, key: "loss", value: 0.5, timestamp: 1, step: 0 });
  await asAdmin("POST", "/mlflow/runs/log-parameter", { run_id: R, key: "lr", value: "0.1" });
  await asAdmin("POST", "/mlflow/runs/set-tag", { run_id: R, key: "team", value: "a" });
  const runArtifactDir = run.info.artifact_uri.replace(/^mlflow-artifacts:\/*/, "");
  const put = await send(server.url, {
    method: "PUT",
    path: `/api/2.0/mlflow-artifacts/artifacts/${runArtifactDir}/model/file.txt`,
    headers: headers.admin,
    body: "hello",
  });
  assert.equal(put.status, 200, put.text);

  const M = "matrix-M";
  await asAdmin("POST", "/mlflow/registered-models/create", { name: M });
  await grantRoles("registered_model", M);
  await asAdmin("POST", "/mlflow/model-versions/create", {
    name: M,
    source: `${run.info.artifact_uri}/model`,
    run_id: R,
  });
  await asAdmin("POST", "/mlflow/model-versions/create", { name: M, source: `${run.info.artifact_uri}/model` });
  await asAdmin("POST", "/mlflow/registered-models/alias", { name: M, alias: "champion", version: "1" });
  await asAdmin("POST", "/mlflow/registered-models/set-tag", { name: M, key: "team", value: "a" });
  await asAdmin("POST", "/slipway/inference-log", {
    records: [1, 2, 3].map((i) => ({
      request_id: `seed-${i}`,
      model_name: M,
      model_version: "1",
      timestamp_ms: Date.now() - 1000 * i,
      inputs: { x: i },
      outputs: i % 2,
    })),
  });

  const MON = "matrix-monitor";
  await server.monitors.create({
    name: MON,
    model_name: M,
    model_alias: "champion",
    window_ms: 3_600_000,
    schedule: "0 * * * *",
  });
  let WIN = "1";
  try {
    WIN = String((await server.monitors.run(MON, { end_ms: Date.now() })).window_id);
  } catch {
    // no window (e.g. no reference data): the window routes then answer 404 to those allowed, 403 to the others
  }
  const DEP = "matrix-deployment";
  await server.deployments.create({ name: DEP, model_uri: `models:/${M}@champion` });

  return {
    server,
    dir,
    headers,
    userIds,
    E,
    F,
    R,
    runArtifactDir,
    M,
    MON,
    WIN,
    DEP,
    unique,
    asAdmin,
    grantRoles,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
