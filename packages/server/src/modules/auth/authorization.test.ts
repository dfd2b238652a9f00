/**
 * The authorization layer on a real server with auth on (SQLite): startup refuses a route without a policy;
 * artifact path traversal is refused on every artifact route; searches and lists show only what the caller may read,
 * with pages filled after filtering; revoked and expired tokens are refused; oversized headers never cause a 500;
 * creators get MANAGE; permissions follow a renamed model and go with a deleted one; writes are audited.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildApp } from "../../platform/http/app.js";
import { createHttpMetrics } from "../../platform/http/metrics.js";
import { send, startMatrixWorld, type Answer, type MatrixWorld } from "./authorization-fixtures.js";
import { registeredRoutes } from "./authorization.js";

let w: MatrixWorld;

before(async () => {
  w = await startMatrixWorld("NO_PERMISSIONS");
});

after(async () => {
  await w.stop();
});

type Who = "admin" | "reader" | "editor" | "manager" | "other";

function call(who: Who | Record<string, string>, method: string, path: string, body?: unknown): Promise<Answer> {
  const headers = typeof who === "string" ? w.headers[who] : who;
  return send(w.server.url, {
    method,
    path: path.startsWith("/api/") || path.startsWith("/ajax-api/") ? path : `/api/2.0${path}`,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function json(answer: Answer): Record<string, unknown> {
  return JSON.parse(answer.text) as Record<string, unknown>;
}

async function ok(who: Who, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const answer = await call(who, method, path, body);
  assert.equal(answer.status, 200, `${who} ${method} ${path}: ${answer.text}`);
  return json(answer);
}

/** Follows `next_page_token` to the end; returns every page's ids. */
async function walk(
  fetchPage: (token: string | undefined) => Promise<Record<string, unknown>>,
  ids: (page: Record<string, unknown>) => string[],
): Promise<string[][]> {
  const pages: string[][] = [];
  let token: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await fetchPage(token);
    pages.push(ids(page));
    token = page.next_page_token as string | undefined;
    if (token === undefined) return pages;
  }
  throw new Error("more than 100 pages");
}

describe("startup", () => {
  test("fails closed: a route without a policy stops the app from starting, naming the route", async () => {
    const deps = {
      tracking: w.server.tracking,
      artifacts: w.server.artifacts,
      metrics: createHttpMetrics(),
      version: "test",
      auth: w.server.auth,
    };
    const app = await buildApp(deps);
    app.post("/api/2.0/slipway/unlisted-route", () => ({}));
    await assert.rejects(async () => {
      await app.ready();
    }, /no policy for POST \/api\/2\.0\/slipway\/unlisted-route/);
    await app.close().catch(() => undefined);

    const listed = await buildApp({ ...deps, metrics: createHttpMetrics() });
    await listed.ready();
    assert.ok(registeredRoutes(listed).length > 50);
    await listed.close();
  });
});

describe("403 answers", () => {
  test("are MLflow's PERMISSION_DENIED and name what is missing; unknown runs get the handler's 404", async () => {
    const denied = await call("reader", "POST", "/mlflow/runs/log-metric", {
      run_id: w.R,
      key: "x",
      value: 1,
      timestamp: 1,
      step: 0,
    });
    assert.equal(denied.status, 403);
    assert.deepEqual(json(denied), {
      error_code: "PERMISSION_DENIED",
      message: `Permission denied for POST /api/2.0/mlflow/runs/log-metric: EDIT on experiment ${w.E} is required`,
    });
    // MLflow looks the run up first and answers RESOURCE_DOES_NOT_EXIST for an unknown one
    const missing = await call("other", "GET", `/mlflow/runs/get?run_id=${"0".repeat(32)}`);
    assert.equal(missing.status, 404, missing.text);
    assert.equal(json(missing).error_code, "RESOURCE_DOES_NOT_EXIST");
    // an experiment id is not looked up: the default applies, existing or not
    const unknown = await call("other", "GET", "/mlflow/experiments/get?experiment_id=987654");
    assert.equal(unknown.status, 403, unknown.text);
  });
});

describe("artifact path traversal", () => {
  test("is refused on every artifact route, for admins too, and writes nothing outside the store", async () => {
    const routes = registeredRoutes(w.server.app).filter(
      (r) => r.method !== "HEAD" && (r.url.includes("/mlflow-artifacts/") || r.url.endsWith("/mlflow/artifacts/list")),
    );
    assert.ok(routes.length >= 14, `artifact routes: ${routes.map((r) => r.url).join(", ")}`);
    const dir = w.runArtifactDir;
    const starAttacks = [
      `${dir}/../../../../escape.txt`,
      `${dir}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/escape.txt`,
      `${dir}/%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Fescape.txt`,
      `%2e%2e%2f%2e%2e%2fescape.txt`,
      `..%2f..%2fescape.txt`,
      `${w.E}/../${w.F}/secret.txt`,
      `/${w.E}/escape.txt`,
      `%2fetc%2fpasswd`,
      `${dir}/..%5c..%5cescape.txt`,
    ];
    const queryAttacks = ["../escape", "%2e%2e%2fescape", `${w.E}%2f..%2f${w.F}`, "%2fetc", "/etc"];
    let tried = 0;
    for (const route of routes) {
      const attacks = route.url.endsWith("*")
        ? starAttacks.map((a) => route.url.replace("*", a))
        : queryAttacks.map((a) =>
            route.url.endsWith("/mlflow/artifacts/list")
              ? `${route.url}?run_id=${w.R}&path=${a}`
              : `${route.url}?path=${a}`,
          );
      for (const path of attacks) {
        for (const who of ["admin", "editor"] as const) {
          const answer = await send(w.server.url, {
            method: route.method,
            path,
            headers: { ...w.headers[who], "content-type": "application/octet-stream" },
            ...(route.method === "GET" || route.method === "DELETE"
              ? {}
              : { body: '{"num_parts":1,"upload_id":"u","parts":[]}' }),
          });
          tried++;
          assert.ok(
            answer.status === 400 || answer.status === 404,
            `${route.method} ${path} as ${who}: ${answer.status} ${answer.text}`,
          );
        }
      }
    }
    assert.ok(tried > 200, `${tried} attempts`);
    for (const file of ["escape.txt", "artifacts/escape.txt", "../escape.txt"]) {
      assert.equal(existsSync(join(w.dir, file)), false, `${file} was written`);
    }
  });
});

describe("model artifacts through the proxy", () => {
  test("a model's readers may download its versions' files, and nothing else of the run", async () => {
    const run = (await ok("admin", "POST", "/mlflow/runs/create", { experiment_id: w.F })).run as {
      info: { run_id: string; artifact_uri: string };
    };
    const dir = run.info.artifact_uri.replace(/^mlflow-artifacts:\/*/, "");
    for (const file of ["model/MLmodel", "model/weights.bin", "notes.txt"]) {
      const put = await send(w.server.url, {
        method: "PUT",
        path: `/api/2.0/mlflow-artifacts/artifacts/${dir}/${file}`,
        headers: w.headers.admin,
        body: file,
      });
      assert.equal(put.status, 200, put.text);
    }
    await ok("admin", "POST", "/mlflow/registered-models/create", { name: "served-model" });
    await ok("admin", "POST", "/mlflow/model-versions/create", {
      name: "served-model",
      source: `${run.info.artifact_uri}/model`,
      run_id: run.info.run_id,
    });
    await w.server.auth.createPermission("registered_model", "served-model", "manager", "READ");
    const file = await call("manager", "GET", `/mlflow-artifacts/artifacts/${dir}/model/MLmodel`);
    assert.equal(file.status, 200, file.text);
    assert.equal(file.text, "model/MLmodel");
    const listing = await call("manager", "GET", `/mlflow-artifacts/artifacts?path=${dir}/model`);
    assert.equal(listing.status, 200, listing.text);
    // the rest of the run stays the experiment's
    assert.equal((await call("manager", "GET", `/mlflow-artifacts/artifacts/${dir}/notes.txt`)).status, 403);
    assert.equal((await call("manager", "GET", `/mlflow-artifacts/artifacts?path=${dir}`)).status, 403);
    assert.equal((await call("manager", "GET", `/mlflow-artifacts/artifacts/${dir}/model-other/x`)).status, 403);
    // reading is all: writing and deleting still need the experiment
    const write = await send(w.server.url, {
      method: "PUT",
      path: `/api/2.0/mlflow-artifacts/artifacts/${dir}/model/MLmodel`,
      headers: w.headers.manager,
      body: "overwritten",
    });
    assert.equal(write.status, 403);
    assert.equal((await call("manager", "DELETE", `/mlflow-artifacts/artifacts/${dir}/model/MLmodel`)).status, 403);
    // without READ on the model, nothing
    assert.equal((await call("editor", "GET", `/mlflow-artifacts/artifacts/${dir}/model/MLmodel`)).status, 403);
  });
});

describe("registering a model version", () => {
  test("needs READ on the experiment its source lies in, whatever form the source takes", async () => {
    const run = (await ok("admin", "POST", "/mlflow/runs/create", { experiment_id: w.F })).run as {
      info: { run_id: string; artifact_uri: string };
    };
    const sources = [
      `${run.info.artifact_uri}/model`,
      `runs:/${run.info.run_id}/model`,
      `mlflow-artifacts://127.0.0.1:5000/${w.F}/${run.info.run_id}/artifacts/model`,
      `mlflow-artifacts:/0${w.F}/${run.info.run_id}/artifacts/model`,
    ];
    for (const source of sources) {
      const answer = await call("editor", "POST", "/mlflow/model-versions/create", { name: w.M, source });
      assert.equal(answer.status, 403, `${source}: ${answer.text}`);
    }
    const outside = await call("editor", "POST", "/mlflow/model-versions/create", {
      name: w.M,
      source: "mlflow-artifacts:/shared/model",
    });
    assert.equal(outside.status, 403, outside.text);
    await ok("editor", "POST", "/mlflow/model-versions/create", { name: w.M, source: "s3://bucket/editors-model" });
    await ok("editor", "POST", "/mlflow/model-versions/create", {
      name: w.M,
      source: `${w.runArtifactDir.replace(/^/, "mlflow-artifacts:/")}/model`,
    });
  });
});

describe("searches and lists", () => {
  const readable: string[] = [];
  const hidden: string[] = [];
  before(async () => {
    for (let i = 0; i < 7; i++) {
      const id = String((await ok("admin", "POST", "/mlflow/experiments/create", { name: `page-${i}` })).experiment_id);
      if (i % 2 === 0) {
        await w.server.auth.createPermission("experiment", id, "reader", "READ");
        readable.push(id);
      } else hidden.push(id);
      const name = `page-model-${i}`;
      await ok("admin", "POST", "/mlflow/registered-models/create", { name });
      await ok("admin", "POST", "/mlflow/model-versions/create", { name, source: "s3://bucket/x" });
      if (i % 2 === 0) await w.server.auth.createPermission("registered_model", name, "reader", "READ");
      await w.server.monitors.create({
        name: `page-monitor-${i}`,
        model_name: name,
        model_version: "1",
        window_ms: 3_600_000,
        schedule: "0 * * * *",
      });
      await w.server.deployments.create({ name: `page-dep-${i}`, model_uri: `models:/${name}/1` });
    }
  });

  test("search-experiments (GET and POST) shows only readable experiments, max_results pages filled", async () => {
    const expected = [w.E, ...readable].sort();
    for (const method of ["GET", "POST"] as const) {
      const pages = await walk(
        async (token) =>
          method === "GET"
            ? ok("reader", "GET", `/mlflow/experiments/search?max_results=2${token ? `&page_token=${token}` : ""}`)
            : ok("reader", "POST", "/mlflow/experiments/search", {
                max_results: 2,
                ...(token ? { page_token: token } : {}),
              }),
        (page) => ((page.experiments ?? []) as { experiment_id: string }[]).map((e) => e.experiment_id),
      );
      const seen = pages.flat();
      assert.deepEqual([...seen].sort(), expected, `${method}: ${JSON.stringify(pages)}`);
      assert.equal(new Set(seen).size, seen.length, "no experiment twice");
      // every page but the last is full
      for (const page of pages.slice(0, -1)) assert.equal(page.length, 2, JSON.stringify(pages));
    }
    const all = await ok("admin", "GET", "/mlflow/experiments/search?max_results=100");
    const ids = ((all.experiments ?? []) as { experiment_id: string }[]).map((e) => e.experiment_id);
    for (const id of [...readable, ...hidden, w.F]) assert.ok(ids.includes(id), `admin sees ${id}`);
    // other sees nothing (explicit NO_PERMISSIONS on E, default NO_PERMISSIONS)
    assert.deepEqual(await ok("other", "GET", "/mlflow/experiments/search"), {});
  });

  test("search-runs refuses experiments the caller may not read, as MLflow does", async () => {
    const denied = await call("reader", "POST", "/mlflow/runs/search", { experiment_ids: [w.E, w.F] });
    assert.equal(denied.status, 403, denied.text);
    assert.match(json(denied).message as string, new RegExp(`READ on experiment ${w.F} is required`));
    const allowed = await ok("reader", "POST", "/mlflow/runs/search", { experiment_ids: [w.E] });
    assert.ok(((allowed.runs ?? []) as unknown[]).length >= 1);
  });

  test("the UI's bulk metric read refuses runs of experiments the caller may not read", async () => {
    const run = (await ok("admin", "POST", "/mlflow/runs/create", { experiment_id: w.F })).run as {
      info: { run_id: string };
    };
    const path = `/mlflow/metrics/get-history-bulk-interval?run_ids=${w.R}&run_ids=${run.info.run_id}&metric_key=loss`;
    assert.equal((await call("reader", "GET", path)).status, 403);
    assert.equal((await call("admin", "GET", path)).status, 200);
    assert.equal(
      (await call("reader", "GET", `/mlflow/metrics/get-history-bulk-interval?run_ids=${w.R}&metric_key=loss`)).status,
      200,
    );
  });

  test("registered models, model versions, monitors and deployments show only readable models", async () => {
    const readableModels = [w.M, "page-model-0", "page-model-2", "page-model-4", "page-model-6"].sort();
    const models = await walk(
      (token) =>
        ok("reader", "GET", `/mlflow/registered-models/search?max_results=1${token ? `&page_token=${token}` : ""}`),
      (page) => ((page.registered_models ?? []) as { name: string }[]).map((m) => m.name),
    );
    assert.deepEqual(models.flat().sort(), readableModels);
    for (const page of models.slice(0, -1)) assert.equal(page.length, 1);

    const versions = await walk(
      (token) =>
        ok("reader", "GET", `/mlflow/model-versions/search?max_results=2${token ? `&page_token=${token}` : ""}`),
      (page) => ((page.model_versions ?? []) as { name: string }[]).map((v) => v.name),
    );
    assert.ok(versions.flat().length >= readableModels.length);
    assert.ok(
      versions.flat().every((name) => readableModels.includes(name)),
      JSON.stringify(versions),
    );

    const monitors = await walk(
      (token) => ok("reader", "GET", `/slipway/monitors?max_results=2${token ? `&page_token=${token}` : ""}`),
      (page) => (page.monitors as { model_name: string }[]).map((m) => m.model_name),
    );
    assert.deepEqual([...new Set(monitors.flat())].sort(), readableModels);
    for (const page of monitors.slice(0, -1)) assert.equal(page.length, 2);

    const deployments = await walk(
      (token) => ok("reader", "GET", `/slipway/deployments?max_results=1${token ? `&page_token=${token}` : ""}`),
      (page) => (page.deployments as { model_name: string }[]).map((d) => d.model_name),
    );
    assert.deepEqual([...new Set(deployments.flat())].sort(), readableModels);

    assert.deepEqual(await ok("other", "GET", "/slipway/monitors"), { monitors: [] });
    assert.deepEqual(await ok("other", "GET", "/slipway/deployments"), { deployments: [] });
    assert.deepEqual(await ok("other", "GET", "/slipway/alerts"), { alerts: [] });
    assert.deepEqual(await ok("other", "GET", "/mlflow/registered-models/search"), {});
    const admin = await ok("admin", "GET", "/slipway/monitors?max_results=100");
    assert.ok((admin.monitors as unknown[]).length >= 8);
  });

  test("bad paging arguments still get the service's own 400", async () => {
    const answer = await call("reader", "GET", "/mlflow/experiments/search?max_results=0");
    assert.equal(answer.status, 400, answer.text);
    assert.equal(json(answer).error_code, "INVALID_PARAMETER_VALUE");
    assert.equal((await call("reader", "GET", "/slipway/monitors?max_results=0")).status, 400);
  });
});

describe("tokens", () => {
  test("a revoked token is refused", async () => {
    const issued = await w.server.auth.createToken(w.userIds.reader, { name: "to-revoke" });
    const bearer = { authorization: `Bearer ${issued.token}` };
    assert.equal((await call(bearer, "GET", `/mlflow/experiments/get?experiment_id=${w.E}`)).status, 200);
    assert.equal((await call(bearer, "POST", "/slipway/tokens/revoke", { id: issued.tokenId })).status, 200);
    const after = await call(bearer, "GET", `/mlflow/experiments/get?experiment_id=${w.E}`);
    assert.equal(after.status, 401, after.text);
    assert.equal(json(after).error_code, "UNAUTHENTICATED");
    assert.equal((await call(bearer, "GET", "/mlflow/experiments/search")).status, 401);
  });

  test("an expired token is refused", async () => {
    const issued = await w.server.auth.createToken(w.userIds.editor, { name: "short", expiresAt: Date.now() + 300 });
    const bearer = { authorization: `Bearer ${issued.token}` };
    assert.equal((await call(bearer, "GET", `/mlflow/runs/get?run_id=${w.R}`)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const after = await call(bearer, "GET", `/mlflow/runs/get?run_id=${w.R}`);
    assert.equal(after.status, 401, after.text);
  });
});

describe("oversized headers", () => {
  test("never produce a 500", async () => {
    const attempts: [string, Record<string, string>][] = [
      ["a 9 KB bearer token", { authorization: `Bearer ${"a".repeat(9000)}` }],
      [
        "a 7 KB basic password",
        { authorization: `Basic ${Buffer.from(`admin:${"p".repeat(5000)}`).toString("base64")}` },
      ],
      ["a 12 KB session cookie", { cookie: `slipway_session=${"c".repeat(12_000)}` }],
      ["a 70 KB header", { "x-padding": "x".repeat(70_000) }],
      ["a 70 KB authorization header", { authorization: `Bearer ${"t".repeat(70_000)}` }],
      ["many headers", Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x-h${i}`, "v".repeat(60)]))],
    ];
    for (const [what, headers] of attempts) {
      for (const path of [`/api/2.0/mlflow/experiments/get?experiment_id=${w.E}`, "/health", "/"]) {
        let status: number;
        try {
          status = (await send(w.server.url, { method: "GET", path, headers })).status;
        } catch (error) {
          // Node may close the connection after its 431: refused either way, and not by a 500
          status = (error as NodeJS.ErrnoException).code === "ECONNRESET" ? 431 : 0;
        }
        // public paths read no credentials, so only sizes past Node's header limit are refused there
        const refused = status >= 400 && status < 500;
        assert.ok(
          path === "/health" || path === "/" ? status > 0 && status < 500 : refused,
          `${what} on ${path}: ${status}`,
        );
      }
    }
    // the server still answers afterwards
    assert.equal((await call("admin", "GET", "/mlflow/experiments/search")).status, 200);
  });
});

describe("after a successful call", () => {
  test("the creator of an experiment or a registered model gets MANAGE on it", async () => {
    const id = String((await ok("other", "POST", "/mlflow/experiments/create", { name: "others-own" })).experiment_id);
    await ok("other", "GET", `/mlflow/experiments/get?experiment_id=${id}`);
    await ok("other", "POST", "/mlflow/experiments/delete", { experiment_id: id });
    assert.equal((await call("reader", "GET", `/mlflow/experiments/get?experiment_id=${id}`)).status, 403);
    await ok("other", "POST", "/mlflow/registered-models/create", { name: "others-model" });
    await ok("other", "POST", "/mlflow/registered-models/set-tag", { name: "others-model", key: "k", value: "v" });
    const permission = await ok(
      "other",
      "GET",
      "/mlflow/registered-models/permissions/get?name=others-model&username=other",
    );
    assert.equal(
      (permission.registered_model_permission as { permission: string }).permission,
      "MANAGE",
      JSON.stringify(permission),
    );
  });

  test("permissions follow a renamed model and go with a deleted one", async () => {
    await ok("admin", "POST", "/mlflow/registered-models/create", { name: "before-rename" });
    await w.server.auth.createPermission("registered_model", "before-rename", "reader", "READ");
    await w.server.auth.createPermission("registered_model", "before-rename", "editor", "EDIT");
    await ok("editor", "POST", "/mlflow/registered-models/rename", { name: "before-rename", new_name: "after-rename" });
    await ok("reader", "GET", "/mlflow/registered-models/get?name=after-rename");
    assert.equal(
      (await call("reader", "PATCH", "/mlflow/registered-models/update", { name: "after-rename" })).status,
      403,
    );

    await ok("admin", "DELETE", "/mlflow/registered-models/delete", { name: "after-rename" });
    await ok("admin", "POST", "/mlflow/registered-models/create", { name: "after-rename" });
    const again = await call("reader", "GET", "/mlflow/registered-models/get?name=after-rename");
    assert.equal(again.status, 403, "a new model of a deleted model's name starts without its grants");
  });
});

describe("audit", () => {
  test("writes that reached a handler are recorded with their resource; reads and refusals are not", async () => {
    await ok("editor", "POST", "/mlflow/runs/log-metric", {
      run_id: w.R,
      key: "audited",
      value: 1,
      timestamp: 5,
      step: 0,
    });
    await ok("editor", "GET", `/mlflow/runs/get?run_id=${w.R}`);
    assert.equal(
      (await call("reader", "POST", "/mlflow/runs/set-tag", { run_id: w.R, key: "no", value: "no" })).status,
      403,
    );
    const logged = await ok("admin", "GET", "/slipway/audit/search?action=runs.log-metric&username=editor");
    const entries = logged.entries as {
      username: string;
      resource_type: string;
      resource_id: string;
      status: number;
      ip: string;
      method: string;
      path: string;
    }[];
    assert.ok(entries.length >= 1, JSON.stringify(logged));
    const entry = entries[0]!;
    assert.equal(entry.resource_type, "experiment");
    assert.equal(entry.resource_id, w.E);
    assert.equal(entry.status, 200);
    assert.equal(entry.method, "POST");
    assert.equal(entry.path, "/api/2.0/mlflow/runs/log-metric");
    assert.ok(entry.ip);
    const reads = await ok("admin", "GET", "/slipway/audit/search?action=runs.get");
    assert.deepEqual(reads.entries, []);
    const refused = await ok("admin", "GET", "/slipway/audit/search?action=runs.set-tag&username=reader");
    assert.deepEqual(refused.entries, []);
  });
});
