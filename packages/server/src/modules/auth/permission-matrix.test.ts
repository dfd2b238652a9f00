/**
 * The permission matrix (issue 10's proof): a real server with auth on (SQLite), every route it registers × every
 * kind of caller, each answer checked against the expected allow or deny.
 *
 * Routes come from the server itself (the authorization layer's onRoute collection), so a new route is in the
 * matrix automatically, and fails it until this file says what it expects of it and how to call it. The expected
 * level of each route is written here by hand from MLflow's rules, not read from policy.ts, so a wrong policy entry
 * shows up as a mismatch. Allowed means the answer is neither 401 nor 403 (a valid request may still be refused
 * for other reasons, e.g. 404 for a version already deleted); denied means exactly 401 for anonymous callers and
 * exactly 403 for the others.
 *
 * The callers: admin; reader, editor, manager (READ, EDIT, MANAGE on experiment E and model M); other (explicitly
 * NO_PERMISSIONS on E and M); anonymous. The default permission is NO_PERMISSIONS, so `other` proves isolation; a
 * second, smaller pass runs with MLflow's default READ.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  PASSWORD,
  ROLES,
  query,
  send,
  startMatrixWorld,
  type Answer,
  type MatrixWorld,
  type Role,
} from "./authorization-fixtures.js";
import { callFor, type Call } from "./authorization-matrix-calls.js";
import { registeredRoutes } from "./authorization.js";
import { createTempDatabase, type TempDatabase } from "../../testing/postgres.js";

/** Who may call a route: nobody needs credentials, any signed-in user, READ/EDIT/MANAGE on E or M, or an admin. */
type Level = "public" | "any" | "read" | "edit" | "manage" | "admin";

const RANK: Record<Role, number> = { anonymous: -1, other: 0, reader: 1, editor: 2, manager: 3, admin: 4 };
const LEVEL_RANK: Record<Exclude<Level, "public" | "any">, number> = { read: 1, edit: 2, manage: 3, admin: 4 };

function allowed(level: Level, role: Role): boolean {
  if (level === "public") return true;
  if (role === "anonymous") return false;
  if (level === "any") return true;
  return RANK[role] >= LEVEL_RANK[level];
}

/** The expected level of every route, keyed `METHOD path` (API paths without /api/2.0, /ajax-api/2.0 or 3.0). */
const EXPECTED: Record<string, Level> = {
  // tracking
  "POST /mlflow/experiments/create": "any",
  "GET /mlflow/experiments/search": "any",
  "POST /mlflow/experiments/search": "any",
  "GET /mlflow/experiments/get": "read",
  "GET /mlflow/experiments/get-by-name": "read",
  "POST /mlflow/experiments/delete": "manage",
  "POST /mlflow/experiments/restore": "manage",
  "POST /mlflow/experiments/update": "edit",
  "POST /mlflow/experiments/set-experiment-tag": "edit",
  "POST /mlflow/experiments/delete-experiment-tag": "edit",
  "POST /mlflow/runs/create": "edit",
  "POST /mlflow/runs/update": "edit",
  "POST /mlflow/runs/delete": "manage",
  "POST /mlflow/runs/restore": "manage",
  "GET /mlflow/runs/get": "read",
  "POST /mlflow/runs/search": "read",
  "POST /mlflow/runs/log-metric": "edit",
  "POST /mlflow/runs/log-parameter": "edit",
  "POST /mlflow/runs/set-tag": "edit",
  "POST /mlflow/runs/delete-tag": "edit",
  "POST /mlflow/runs/log-batch": "edit",
  "POST /mlflow/runs/log-inputs": "edit",
  "POST /mlflow/runs/log-model": "edit",
  "GET /mlflow/metrics/get-history": "read",
  "GET /mlflow/metrics/get-history-bulk-interval": "read",
  "GET /mlflow/artifacts/list": "read",
  // tracing (MLflow 3's routes under /api/3.0, MLflow 2's search and delete under /api/2.0)
  "POST /mlflow/traces": "edit",
  "GET /mlflow/traces/:trace_id": "read",
  "GET /mlflow/traces/get": "read",
  "GET /mlflow/traces/batchGet": "read",
  "POST /mlflow/traces/search": "read",
  "GET /mlflow/traces": "read",
  "PATCH /mlflow/traces/:trace_id/tags": "edit",
  "DELETE /mlflow/traces/:trace_id/tags": "edit",
  "POST /mlflow/traces/delete-traces": "edit",
  // registry
  "POST /mlflow/registered-models/create": "any",
  "GET /mlflow/registered-models/get": "read",
  "POST /mlflow/registered-models/rename": "edit",
  "PATCH /mlflow/registered-models/update": "edit",
  "DELETE /mlflow/registered-models/delete": "manage",
  "GET /mlflow/registered-models/search": "any",
  "GET /mlflow/registered-models/get-latest-versions": "read",
  "POST /mlflow/registered-models/get-latest-versions": "read",
  "POST /mlflow/registered-models/set-tag": "edit",
  "DELETE /mlflow/registered-models/delete-tag": "edit",
  "POST /mlflow/registered-models/alias": "edit",
  "DELETE /mlflow/registered-models/alias": "manage",
  "GET /mlflow/registered-models/alias": "read",
  "POST /mlflow/model-versions/create": "edit",
  "GET /mlflow/model-versions/get": "read",
  "PATCH /mlflow/model-versions/update": "edit",
  "DELETE /mlflow/model-versions/delete": "manage",
  "GET /mlflow/model-versions/search": "any",
  "POST /mlflow/model-versions/set-tag": "edit",
  "DELETE /mlflow/model-versions/delete-tag": "manage",
  "POST /mlflow/model-versions/transition-stage": "edit",
  "GET /mlflow/model-versions/get-download-uri": "read",
  // webhooks
  "POST /mlflow/webhooks": "admin",
  "GET /mlflow/webhooks": "admin",
  "GET /mlflow/webhooks/:webhook_id": "admin",
  "PATCH /mlflow/webhooks/:webhook_id": "admin",
  "DELETE /mlflow/webhooks/:webhook_id": "admin",
  // artifact proxy
  "GET /mlflow-artifacts/artifacts": "read",
  "GET /mlflow-artifacts/artifacts/*": "read",
  "PUT /mlflow-artifacts/artifacts/*": "edit",
  "DELETE /mlflow-artifacts/artifacts/*": "manage",
  "POST /mlflow-artifacts/mpu/create/*": "edit",
  "POST /mlflow-artifacts/mpu/complete/*": "edit",
  "POST /mlflow-artifacts/mpu/abort/*": "edit",
  // MLflow's auth API
  "POST /mlflow/users/create": "admin",
  "GET /mlflow/users/get": "any",
  "PATCH /mlflow/users/update-password": "admin",
  "PATCH /mlflow/users/update-admin": "admin",
  "DELETE /mlflow/users/delete": "admin",
  "POST /mlflow/experiments/permissions/create": "manage",
  "GET /mlflow/experiments/permissions/get": "manage",
  "PATCH /mlflow/experiments/permissions/update": "manage",
  "DELETE /mlflow/experiments/permissions/delete": "manage",
  "POST /mlflow/registered-models/permissions/create": "manage",
  "GET /mlflow/registered-models/permissions/get": "manage",
  "PATCH /mlflow/registered-models/permissions/update": "manage",
  "DELETE /mlflow/registered-models/permissions/delete": "manage",
  // Slipway's auth API
  "GET /slipway/auth/whoami": "any",
  "POST /slipway/tokens/create": "any",
  "GET /slipway/tokens/list": "any",
  "POST /slipway/tokens/revoke": "any",
  "POST /slipway/service-accounts/create": "admin",
  "GET /slipway/users/list": "admin",
  "GET /slipway/audit/search": "admin",
  "POST /slipway/auth/login": "public",
  "POST /slipway/auth/logout": "public",
  "GET /slipway/auth/session": "any",
  "GET /slipway/auth/oidc/config": "public",
  "GET /slipway/auth/oidc/login": "public",
  "GET /slipway/auth/oidc/callback": "public",
  // Slipway registry, inference log, monitors, deployments
  "GET /slipway/registered-models/alias-history": "read",
  "GET /slipway/events": "read",
  "POST /slipway/inference-log": "edit",
  "GET /slipway/inference-log/search": "read",
  "GET /slipway/inference-log/stats": "read",
  "POST /slipway/feedback": "edit",
  "POST /slipway/monitors": "edit",
  "GET /slipway/monitors": "any",
  "GET /slipway/monitors/:name": "read",
  "PATCH /slipway/monitors/:name": "edit",
  "DELETE /slipway/monitors/:name": "manage",
  "POST /slipway/monitors/:name/run": "edit",
  "GET /slipway/monitors/:name/windows": "read",
  "GET /slipway/monitors/:name/windows/:window_id": "read",
  "GET /slipway/monitors/:name/windows/:window_id/report": "read",
  "GET /slipway/monitors/:name/alerts": "read",
  "GET /slipway/alerts": "any",
  "POST /slipway/deployments": "edit",
  "GET /slipway/deployments": "any",
  "GET /slipway/deployments/:name": "read",
  "PATCH /slipway/deployments/:name": "edit",
  "DELETE /slipway/deployments/:name": "manage",
  "POST /slipway/deployments/:name/promote": "edit",
  "POST /slipway/deployments/:name/rollback": "edit",
  "POST /slipway/deployments/:name/stats": "edit",
  "GET /slipway/deployments/:name/events": "read",
  "GET /slipway/openapi.json": "public",
  // outside the API
  "GET /health": "public",
  "GET /version": "public",
  "GET /metrics": "public",
  "GET /*": "public",
};

function routeKey(method: string, url: string): string {
  const verb = method === "HEAD" ? "GET" : method;
  for (const prefix of ["/api/2.0", "/ajax-api/2.0", "/api/3.0", "/ajax-api/3.0"]) {
    if (url.startsWith(`${prefix}/`)) return `${verb} ${url.slice(prefix.length)}`;
  }
  return `${verb} ${url}`;
}

async function callRoute(w: MatrixWorld, method: string, call: Call, role: Role): Promise<Answer> {
  const body = call.raw ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  const contentType =
    call.raw !== undefined ? "application/octet-stream" : body !== undefined ? "application/json" : undefined;
  return send(w.server.url, {
    method,
    path: `${call.path}${query(call.query ?? {})}`,
    headers: {
      // a caller with a session cookie is not also sent a token
      ...(call.headers?.cookie === undefined ? w.headers[role] : {}),
      ...(contentType === undefined ? {} : { "content-type": contentType }),
      ...call.headers,
    },
    ...(body === undefined || method === "GET" || method === "HEAD" ? {} : { body }),
    ...(call.path.endsWith("/slipway/events") ? { openAfterMs: 1500 } : {}),
  });
}

// ---------------------------------------------------------------------------------------------- the matrix

async function walkMatrix(w: MatrixWorld, backend: string): Promise<void> {
  const routes = registeredRoutes(w.server.app);
  assert.ok(routes.length > 100, `only ${routes.length} routes were collected`);
  const unexpected = routes.filter((r) => EXPECTED[routeKey(r.method, r.url)] === undefined);
  assert.deepEqual(
    unexpected.map((r) => `${r.method} ${r.url}`),
    [],
    "routes the matrix has no expectation for (add them to EXPECTED)",
  );
  const mismatches: string[] = [];
  const serverErrors: string[] = [];
  let checks = 0;
  for (const route of routes) {
    const key = routeKey(route.method, route.url);
    const level = EXPECTED[key]!;
    for (const role of ROLES) {
      const call = await callFor(w, key, route.url, role);
      const answer = await callRoute(w, route.method, call, role);
      checks++;
      const expectAllow = allowed(level, role);
      const denyStatus = role === "anonymous" ? 401 : 403;
      const ok = expectAllow ? answer.status !== 401 && answer.status !== 403 : answer.status === denyStatus;
      if (!ok) {
        mismatches.push(
          `${route.method} ${route.url} as ${role}: expected ${expectAllow ? "allow" : `deny (${denyStatus})`}, got ${answer.status} ${answer.text.slice(0, 200)}`,
        );
      }
      if (answer.status >= 500 && answer.status !== 501) {
        serverErrors.push(`${route.method} ${route.url} as ${role}: ${answer.status} ${answer.text.slice(0, 200)}`);
      }
    }
  }
  console.log(
    `permission matrix (${backend}): ${routes.length} routes × ${ROLES.length} principals = ${checks} checks, ${mismatches.length} mismatches`,
  );
  assert.deepEqual(mismatches, []);
  assert.deepEqual(serverErrors, [], "no route answers a 5xx to a valid request");
}

describe("permission matrix (default NO_PERMISSIONS, SQLite)", () => {
  let w: MatrixWorld;
  before(async () => {
    w = await startMatrixWorld("NO_PERMISSIONS");
  });
  after(async () => {
    await w.stop();
  });

  test("every route × every caller answers as expected", async () => {
    await walkMatrix(w, "SQLite");
  });
});

describe("permission matrix (default NO_PERMISSIONS, PostgreSQL)", () => {
  let w: MatrixWorld | undefined;
  let temp: TempDatabase | { skip: string };
  before(async () => {
    temp = await createTempDatabase();
    if (!("skip" in temp)) w = await startMatrixWorld("NO_PERMISSIONS", { backendStoreUri: temp.url });
  });
  after(async () => {
    await w?.stop();
    if (!("skip" in temp)) await temp.drop();
  });

  test("every route × every caller answers as expected", async (t) => {
    if (w === undefined) {
      t.skip("skip" in temp ? temp.skip : "no server");
      return;
    }
    await walkMatrix(w, "PostgreSQL");
  });
});

describe("permission matrix (MLflow's default READ)", () => {
  let w: MatrixWorld;
  let newcomer: Record<string, string> = {};
  before(async () => {
    w = await startMatrixWorld("READ");
    await w.server.auth.createUser({ username: "newcomer", password: PASSWORD });
    const user = await w.server.auth.requireUser("newcomer");
    const token = await w.server.auth.createToken(Number(user.id), { name: "t" });
    newcomer = { authorization: `Bearer ${token.token}` };
  });
  after(async () => {
    await w.stop();
  });

  const get = (headers: Record<string, string>, path: string) =>
    send(w.server.url, { method: "GET", path: `/api/2.0${path}`, headers });
  const post = (headers: Record<string, string>, path: string, body: unknown) =>
    send(w.server.url, {
      method: "POST",
      path: `/api/2.0${path}`,
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  test("a user without recorded permissions reads everything and changes nothing", async () => {
    const checks: [string, Answer, number][] = [
      ["get E", await get(newcomer, `/mlflow/experiments/get?experiment_id=${w.E}`), 200],
      ["get F", await get(newcomer, `/mlflow/experiments/get?experiment_id=${w.F}`), 200],
      ["get run", await get(newcomer, `/mlflow/runs/get?run_id=${w.R}`), 200],
      ["get model", await get(newcomer, `/mlflow/registered-models/get?name=${w.M}`), 200],
      ["monitor", await get(newcomer, `/slipway/monitors/${w.MON}`), 200],
      ["deployment", await get(newcomer, `/slipway/deployments/${w.DEP}`), 200],
      [
        "log metric",
        await post(newcomer, "/mlflow/runs/log-metric", { run_id: w.R, key: "x", value: 1, timestamp: 1, step: 0 }),
        403,
      ],
      [
        "set model tag",
        await post(newcomer, "/mlflow/registered-models/set-tag", { name: w.M, key: "k", value: "v" }),
        403,
      ],
      ["feedback", await post(newcomer, "/slipway/feedback", { request_id: "seed-1", label: 1 }), 403],
      ["webhooks", await get(newcomer, "/mlflow/webhooks"), 403],
    ];
    for (const [what, answer, status] of checks) assert.equal(answer.status, status, `${what}: ${answer.text}`);
    const search = JSON.parse((await get(newcomer, "/mlflow/experiments/search")).text) as {
      experiments?: { experiment_id: string }[];
    };
    const ids = (search.experiments ?? []).map((e) => e.experiment_id);
    assert.ok(ids.includes(w.E) && ids.includes(w.F), `newcomer sees every experiment: ${ids.join(",")}`);
  });

  test("an explicit NO_PERMISSIONS still wins over the READ default", async () => {
    const checks: [string, Answer][] = [
      ["get E", await get(w.headers.other, `/mlflow/experiments/get?experiment_id=${w.E}`)],
      // the tracking service reads "007" as 7: the permission recorded for E applies to it too
      ["get 00E", await get(w.headers.other, `/mlflow/experiments/get?experiment_id=00${w.E}`)],
      ["search runs of 0E", await post(w.headers.other, "/mlflow/runs/search", { experiment_ids: [`0${w.E}`] })],
      ["get run", await get(w.headers.other, `/mlflow/runs/get?run_id=${w.R}`)],
      ["get model", await get(w.headers.other, `/mlflow/registered-models/get?name=${w.M}`)],
      ["artifact", await get(w.headers.other, `/mlflow-artifacts/artifacts/${w.runArtifactDir}/model/file.txt`)],
      ["monitor", await get(w.headers.other, `/slipway/monitors/${w.MON}`)],
      ["deployment", await get(w.headers.other, `/slipway/deployments/${w.DEP}`)],
      ["inference log", await get(w.headers.other, `/slipway/inference-log/search?model_name=${w.M}`)],
    ];
    for (const [what, answer] of checks) assert.equal(answer.status, 403, `${what}: ${answer.text}`);
    const search = JSON.parse((await get(w.headers.other, "/mlflow/experiments/search")).text) as {
      experiments?: { experiment_id: string }[];
    };
    const ids = (search.experiments ?? []).map((e) => e.experiment_id);
    assert.ok(!ids.includes(w.E) && ids.includes(w.F), `other sees F but not E: ${ids.join(",")}`);
    const models = JSON.parse((await get(w.headers.other, "/mlflow/registered-models/search")).text) as {
      registered_models?: { name: string }[];
    };
    assert.ok(!(models.registered_models ?? []).some((m) => m.name === w.M), "other does not see M");
  });
});
