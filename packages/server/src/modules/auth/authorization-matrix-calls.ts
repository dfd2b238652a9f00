/**
 * The permission matrix's requests: a valid request to each route for each caller (permission-matrix.test.ts).
 */
import { PASSWORD, type MatrixWorld, type Role } from "./authorization-fixtures.js";

export interface Call {
  path: string;
  query?: Record<string, string | string[]>;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/**
 * A valid request to one route for one role. Requests that would change what later checks rely on (deleting or
 * renaming, moving an alias) act on a fresh resource, given the same grants as E or M.
 */
export async function callFor(w: MatrixWorld, key: string, url: string, role: Role): Promise<Call> {
  // the route's own prefix: /api/2.0, /ajax-api/2.0, or 3.0 for MLflow 3's trace routes
  const prefix = /^\/(ajax-)?api\/\d\.\d(?=\/)/.exec(url)?.[0] ?? "/api/2.0";
  const p = (path: string) => `${prefix}${path}`;
  const { E, R, M, MON, DEP, WIN } = w;
  const freshExperiment = async () => {
    const id = String(
      (await w.asAdmin("POST", "/mlflow/experiments/create", { name: w.unique("matrix-exp") })).experiment_id,
    );
    await w.grantRoles("experiment", id);
    return id;
  };
  const freshModel = async () => {
    const name = w.unique("matrix-model");
    await w.asAdmin("POST", "/mlflow/registered-models/create", { name });
    await w.grantRoles("registered_model", name);
    await w.asAdmin("POST", "/mlflow/model-versions/create", { name, source: "s3://bucket/model" });
    return name;
  };
  const freshRun = async () =>
    ((await w.asAdmin("POST", "/mlflow/runs/create", { experiment_id: E })).run as { info: { run_id: string } }).info
      .run_id;
  /** A trace in E (made as the admin would, through the service), with the tag `k`. */
  const freshTrace = async () => {
    const traceId = w.unique("tr-matrix");
    await w.server.traces.startTraceV3({
      trace: {
        trace_info: {
          trace_id: traceId,
          trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: E } },
          request_time: new Date().toISOString(),
          state: "OK",
          tags: { k: "v" },
        },
        data: { spans: [{ name: "root", span_id: "1", trace_id: traceId }] },
      },
    });
    return traceId;
  };
  const inE = [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: E } }];
  const self = role === "anonymous" ? "nobody" : role;
  const artifact = `${w.runArtifactDir}/model/file.txt`;
  switch (key) {
    case "POST /mlflow/experiments/create":
      return { path: p("/mlflow/experiments/create"), body: { name: w.unique("created-exp") } };
    case "GET /mlflow/experiments/search":
      return { path: p("/mlflow/experiments/search"), query: { max_results: "10" } };
    case "POST /mlflow/experiments/search":
      return { path: p("/mlflow/experiments/search"), body: { max_results: 10 } };
    case "GET /mlflow/experiments/get":
      return { path: p("/mlflow/experiments/get"), query: { experiment_id: E } };
    case "GET /mlflow/experiments/get-by-name":
      return { path: p("/mlflow/experiments/get-by-name"), query: { experiment_name: "matrix-E" } };
    case "POST /mlflow/experiments/delete":
      return { path: p("/mlflow/experiments/delete"), body: { experiment_id: await freshExperiment() } };
    case "POST /mlflow/experiments/restore":
      return { path: p("/mlflow/experiments/restore"), body: { experiment_id: E } };
    case "POST /mlflow/experiments/update":
      return {
        path: p("/mlflow/experiments/update"),
        body: { experiment_id: await freshExperiment(), new_name: w.unique("renamed-exp") },
      };
    case "POST /mlflow/experiments/set-experiment-tag":
      return { path: p("/mlflow/experiments/set-experiment-tag"), body: { experiment_id: E, key: "k", value: "v" } };
    case "POST /mlflow/experiments/delete-experiment-tag":
      return { path: p("/mlflow/experiments/delete-experiment-tag"), body: { experiment_id: E, key: "k" } };
    case "POST /mlflow/runs/create":
      return { path: p("/mlflow/runs/create"), body: { experiment_id: E } };
    case "POST /mlflow/runs/update":
      return { path: p("/mlflow/runs/update"), body: { run_id: R, status: "RUNNING" } };
    case "POST /mlflow/runs/delete":
      return { path: p("/mlflow/runs/delete"), body: { run_id: await freshRun() } };
    case "POST /mlflow/runs/restore":
      return { path: p("/mlflow/runs/restore"), body: { run_id: R } };
    case "GET /mlflow/runs/get":
      return { path: p("/mlflow/runs/get"), query: { run_id: R } };
    case "POST /mlflow/runs/search":
      return { path: p("/mlflow/runs/search"), body: { experiment_ids: [E] } };
    case "POST /mlflow/runs/log-metric":
      return { path: p("/mlflow/runs/log-metric"), body: { run_id: R, key: "m", value: 1, timestamp: 1, step: 1 } };
    case "POST /mlflow/runs/log-parameter":
      return { path: p("/mlflow/runs/log-parameter"), body: { run_id: R, key: w.unique("p"), value: "1" } };
    case "POST /mlflow/runs/set-tag":
      return { path: p("/mlflow/runs/set-tag"), body: { run_id: R, key: "t", value: "v" } };
    case "POST /mlflow/runs/delete-tag":
      return { path: p("/mlflow/runs/delete-tag"), body: { run_id: R, key: "t" } };
    case "POST /mlflow/runs/log-batch":
      return {
        path: p("/mlflow/runs/log-batch"),
        body: { run_id: R, metrics: [{ key: "b", value: 1, timestamp: 1, step: 2 }] },
      };
    case "POST /mlflow/runs/log-inputs":
      return { path: p("/mlflow/runs/log-inputs"), body: { run_id: R, datasets: [] } };
    case "POST /mlflow/runs/log-model":
      return {
        path: p("/mlflow/runs/log-model"),
        body: { run_id: R, model_json: JSON.stringify({ artifact_path: "model", flavors: {} }) },
      };
    case "GET /mlflow/metrics/get-history":
      return { path: p("/mlflow/metrics/get-history"), query: { run_id: R, metric_key: "loss" } };
    case "GET /mlflow/metrics/get-history-bulk-interval":
      return {
        path: p("/mlflow/metrics/get-history-bulk-interval"),
        query: { run_ids: [R], metric_key: "loss", max_results: "10" },
      };
    case "GET /mlflow/artifacts/list":
      return { path: p("/mlflow/artifacts/list"), query: { run_id: R } };
    case "POST /mlflow/traces":
      return {
        path: p("/mlflow/traces"),
        body: {
          trace: {
            trace_info: {
              trace_id: w.unique("tr-started"),
              trace_location: inE[0],
              request_time: new Date().toISOString(),
              state: "OK",
            },
          },
        },
      };
    case "GET /mlflow/traces/:trace_id":
      return { path: p(`/mlflow/traces/${await freshTrace()}`) };
    case "GET /mlflow/traces/get":
      return { path: p("/mlflow/traces/get"), query: { trace_id: await freshTrace() } };
    case "GET /mlflow/traces/batchGet":
      return { path: p("/mlflow/traces/batchGet"), query: { trace_ids: [await freshTrace()] } };
    case "POST /mlflow/traces/search":
      return { path: p("/mlflow/traces/search"), body: { locations: inE, max_results: 5 } };
    case "GET /mlflow/traces":
      return { path: p("/mlflow/traces"), query: { experiment_ids: [E], max_results: "5" } };
    case "PATCH /mlflow/traces/:trace_id/tags":
      return { path: p(`/mlflow/traces/${await freshTrace()}/tags`), body: { key: "k2", value: "v2" } };
    case "DELETE /mlflow/traces/:trace_id/tags":
      return { path: p(`/mlflow/traces/${await freshTrace()}/tags`), body: { key: "k" } };
    case "POST /mlflow/traces/delete-traces":
      return { path: p("/mlflow/traces/delete-traces"), body: { experiment_id: E, request_ids: [await freshTrace()] } };
    case "POST /mlflow/registered-models/create":
      return { path: p("/mlflow/registered-models/create"), body: { name: w.unique("created-model") } };
    case "GET /mlflow/registered-models/get":
      return { path: p("/mlflow/registered-models/get"), query: { name: M } };
    case "POST /mlflow/registered-models/rename":
      return {
        path: p("/mlflow/registered-models/rename"),
        body: { name: await freshModel(), new_name: w.unique("renamed-model") },
      };
    case "PATCH /mlflow/registered-models/update":
      return { path: p("/mlflow/registered-models/update"), body: { name: M, description: "d" } };
    case "DELETE /mlflow/registered-models/delete":
      return { path: p("/mlflow/registered-models/delete"), body: { name: await freshModel() } };
    case "GET /mlflow/registered-models/search":
      return { path: p("/mlflow/registered-models/search"), query: {} };
    case "GET /mlflow/registered-models/get-latest-versions":
      return { path: p("/mlflow/registered-models/get-latest-versions"), query: { name: M } };
    case "POST /mlflow/registered-models/get-latest-versions":
      return { path: p("/mlflow/registered-models/get-latest-versions"), body: { name: M } };
    case "POST /mlflow/registered-models/set-tag":
      return { path: p("/mlflow/registered-models/set-tag"), body: { name: M, key: "k", value: "v" } };
    case "DELETE /mlflow/registered-models/delete-tag":
      return { path: p("/mlflow/registered-models/delete-tag"), body: { name: M, key: "k" } };
    case "POST /mlflow/registered-models/alias":
      return { path: p("/mlflow/registered-models/alias"), body: { name: M, alias: "matrix", version: "2" } };
    case "DELETE /mlflow/registered-models/alias":
      return { path: p("/mlflow/registered-models/alias"), body: { name: M, alias: "nothing-here" } };
    case "GET /mlflow/registered-models/alias":
      return { path: p("/mlflow/registered-models/alias"), query: { name: M, alias: "champion" } };
    case "POST /mlflow/model-versions/create":
      return { path: p("/mlflow/model-versions/create"), body: { name: M, source: "s3://bucket/m", run_id: R } };
    case "GET /mlflow/model-versions/get":
      return { path: p("/mlflow/model-versions/get"), query: { name: M, version: "1" } };
    case "PATCH /mlflow/model-versions/update":
      return { path: p("/mlflow/model-versions/update"), body: { name: M, version: "1", description: "d" } };
    case "DELETE /mlflow/model-versions/delete":
      return { path: p("/mlflow/model-versions/delete"), body: { name: await freshModel(), version: "1" } };
    case "GET /mlflow/model-versions/search":
      return { path: p("/mlflow/model-versions/search"), query: {} };
    case "POST /mlflow/model-versions/set-tag":
      return { path: p("/mlflow/model-versions/set-tag"), body: { name: M, version: "1", key: "k", value: "v" } };
    case "DELETE /mlflow/model-versions/delete-tag":
      return { path: p("/mlflow/model-versions/delete-tag"), body: { name: M, version: "1", key: "k" } };
    case "POST /mlflow/model-versions/transition-stage":
      return {
        path: p("/mlflow/model-versions/transition-stage"),
        body: { name: M, version: "2", stage: "Staging", archive_existing_versions: false },
      };
    case "GET /mlflow/model-versions/get-download-uri":
      return { path: p("/mlflow/model-versions/get-download-uri"), query: { name: M, version: "1" } };
    case "POST /mlflow/webhooks":
      return {
        path: p("/mlflow/webhooks"),
        body: { name: w.unique("hook"), url: "http://127.0.0.1:9/hook", events: ["registered_model.created"] },
      };
    case "GET /mlflow/webhooks":
      return { path: p("/mlflow/webhooks") };
    case "GET /mlflow/webhooks/:webhook_id":
    case "PATCH /mlflow/webhooks/:webhook_id":
    case "DELETE /mlflow/webhooks/:webhook_id":
      return { path: p("/mlflow/webhooks/no-such-webhook"), body: key.startsWith("GET") ? undefined : {} };
    case "GET /mlflow-artifacts/artifacts":
      return { path: p("/mlflow-artifacts/artifacts"), query: { path: w.runArtifactDir } };
    case "GET /mlflow-artifacts/artifacts/*":
      return { path: p(`/mlflow-artifacts/artifacts/${artifact}`) };
    case "PUT /mlflow-artifacts/artifacts/*":
      return { path: p(`/mlflow-artifacts/artifacts/${w.runArtifactDir}/${w.unique("upload")}.txt`), raw: "data" };
    case "DELETE /mlflow-artifacts/artifacts/*":
      return { path: p(`/mlflow-artifacts/artifacts/${w.runArtifactDir}/${w.unique("gone")}.txt`) };
    case "POST /mlflow-artifacts/mpu/create/*":
      return { path: p(`/mlflow-artifacts/mpu/create/${w.runArtifactDir}/big.bin`), raw: '{"num_parts":2}' };
    case "POST /mlflow-artifacts/mpu/complete/*":
      return {
        path: p(`/mlflow-artifacts/mpu/complete/${w.runArtifactDir}/big.bin`),
        raw: '{"upload_id":"u","parts":[]}',
      };
    case "POST /mlflow-artifacts/mpu/abort/*":
      return { path: p(`/mlflow-artifacts/mpu/abort/${w.runArtifactDir}/big.bin`), raw: '{"upload_id":"u"}' };
    case "POST /mlflow/users/create":
      return { path: p("/mlflow/users/create"), body: { username: w.unique("new-user"), password: PASSWORD } };
    case "GET /mlflow/users/get":
      return { path: p("/mlflow/users/get"), query: { username: self } };
    case "PATCH /mlflow/users/update-password":
      return { path: p("/mlflow/users/update-password"), body: { username: "ghost-user", password: PASSWORD } };
    case "PATCH /mlflow/users/update-admin":
      return { path: p("/mlflow/users/update-admin"), body: { username: "ghost-user", is_admin: true } };
    case "DELETE /mlflow/users/delete":
      return { path: p("/mlflow/users/delete"), body: { username: "ghost-user" } };
    case "POST /mlflow/experiments/permissions/create":
    case "PATCH /mlflow/experiments/permissions/update":
      return {
        path: p(`/mlflow/experiments/permissions/${key.startsWith("POST") ? "create" : "update"}`),
        body: { experiment_id: E, username: "perm-target", permission: "READ" },
      };
    case "GET /mlflow/experiments/permissions/get":
      return { path: p("/mlflow/experiments/permissions/get"), query: { experiment_id: E, username: "reader" } };
    case "DELETE /mlflow/experiments/permissions/delete":
      return { path: p("/mlflow/experiments/permissions/delete"), body: { experiment_id: E, username: "perm-target" } };
    case "POST /mlflow/registered-models/permissions/create":
    case "PATCH /mlflow/registered-models/permissions/update":
      return {
        path: p(`/mlflow/registered-models/permissions/${key.startsWith("POST") ? "create" : "update"}`),
        body: { name: M, username: "perm-target", permission: "READ" },
      };
    case "GET /mlflow/registered-models/permissions/get":
      return { path: p("/mlflow/registered-models/permissions/get"), query: { name: M, username: "reader" } };
    case "DELETE /mlflow/registered-models/permissions/delete":
      return { path: p("/mlflow/registered-models/permissions/delete"), body: { name: M, username: "perm-target" } };
    case "GET /slipway/auth/whoami":
      return { path: p("/slipway/auth/whoami") };
    case "POST /slipway/tokens/create":
      return { path: p("/slipway/tokens/create"), body: { name: w.unique("token") } };
    case "GET /slipway/tokens/list":
      return { path: p("/slipway/tokens/list") };
    case "POST /slipway/tokens/revoke": {
      // each caller revokes a token of its own (a throwaway one)
      const id =
        role === "anonymous"
          ? "no-such-token"
          : (await w.server.auth.createToken(w.userIds[role], { name: w.unique("throwaway") })).tokenId;
      return { path: p("/slipway/tokens/revoke"), body: { id } };
    }
    case "POST /slipway/service-accounts/create":
      return { path: p("/slipway/service-accounts/create"), body: { username: w.unique("robot") } };
    case "GET /slipway/users/list":
      return { path: p("/slipway/users/list") };
    case "GET /slipway/audit/search":
      return { path: p("/slipway/audit/search") };
    case "POST /slipway/auth/login":
      return { path: p("/slipway/auth/login"), body: { username: "login-user", password: PASSWORD } };
    case "POST /slipway/auth/logout":
      return { path: p("/slipway/auth/logout"), body: {} };
    case "GET /slipway/auth/session": {
      // the session route answers for UI sessions: each caller comes with a session cookie instead of a token
      if (role === "anonymous") return { path: p("/slipway/auth/session") };
      const session = await w.server.auth.createSession(w.userIds[role], { ip: "127.0.0.1" });
      return { path: p("/slipway/auth/session"), headers: { cookie: `slipway_session=${session.sessionCookie}` } };
    }
    case "GET /slipway/auth/oidc/config":
    case "GET /slipway/auth/oidc/login":
    case "GET /slipway/auth/oidc/callback":
      return { path: url };
    case "GET /slipway/registered-models/alias-history":
      return { path: p("/slipway/registered-models/alias-history"), query: { name: M } };
    case "GET /slipway/events":
      return { path: p("/slipway/events"), query: { model: M } };
    case "POST /slipway/inference-log":
      return {
        path: p("/slipway/inference-log"),
        body: {
          records: [
            {
              request_id: w.unique("req"),
              model_name: M,
              model_version: "1",
              timestamp_ms: Date.now(),
              inputs: { x: 1 },
              outputs: 1,
            },
          ],
        },
      };
    case "GET /slipway/inference-log/search":
    case "GET /slipway/inference-log/stats":
      return {
        path: p(`/slipway/inference-log/${key.endsWith("search") ? "search" : "stats"}`),
        query: { model_name: M },
      };
    case "POST /slipway/feedback":
      return { path: p("/slipway/feedback"), body: { request_id: "seed-1", label: 1 } };
    case "POST /slipway/monitors":
      return {
        path: p("/slipway/monitors"),
        body: {
          name: w.unique("mon"),
          model_name: M,
          model_alias: "champion",
          window_ms: 3_600_000,
          schedule: "0 * * * *",
        },
      };
    case "GET /slipway/monitors":
      return { path: p("/slipway/monitors") };
    case "GET /slipway/monitors/:name":
      return { path: p(`/slipway/monitors/${MON}`) };
    case "PATCH /slipway/monitors/:name":
      return { path: p(`/slipway/monitors/${MON}`), body: { schedule: "0 * * * *" } };
    case "DELETE /slipway/monitors/:name": {
      const name = w.unique("doomed-monitor");
      await w.server.monitors.create({
        name,
        model_name: M,
        model_alias: "champion",
        window_ms: 3_600_000,
        schedule: "0 * * * *",
      });
      return { path: p(`/slipway/monitors/${name}`) };
    }
    case "POST /slipway/monitors/:name/run":
      return { path: p(`/slipway/monitors/${MON}/run`), body: {} };
    case "GET /slipway/monitors/:name/windows":
      return { path: p(`/slipway/monitors/${MON}/windows`) };
    case "GET /slipway/monitors/:name/windows/:window_id":
      return { path: p(`/slipway/monitors/${MON}/windows/${WIN}`) };
    case "GET /slipway/monitors/:name/windows/:window_id/report":
      return { path: p(`/slipway/monitors/${MON}/windows/${WIN}/report`) };
    case "GET /slipway/monitors/:name/alerts":
      return { path: p(`/slipway/monitors/${MON}/alerts`) };
    case "GET /slipway/alerts":
      return { path: p("/slipway/alerts") };
    case "POST /slipway/deployments":
      return { path: p("/slipway/deployments"), body: { name: w.unique("dep"), model_uri: `models:/${M}@champion` } };
    case "GET /slipway/deployments":
      return { path: p("/slipway/deployments") };
    case "GET /slipway/deployments/:name":
      return { path: p(`/slipway/deployments/${DEP}`) };
    case "PATCH /slipway/deployments/:name":
      return { path: p(`/slipway/deployments/${DEP}`), body: {} };
    case "DELETE /slipway/deployments/:name": {
      const name = w.unique("doomed-dep");
      await w.server.deployments.create({ name, model_uri: `models:/${M}@champion` });
      return { path: p(`/slipway/deployments/${name}`) };
    }
    case "POST /slipway/deployments/:name/promote":
    case "POST /slipway/deployments/:name/rollback":
      return { path: p(`/slipway/deployments/${DEP}/${key.endsWith("promote") ? "promote" : "rollback"}`), body: {} };
    case "POST /slipway/deployments/:name/stats":
      return { path: p(`/slipway/deployments/${DEP}/stats`), body: {} };
    case "GET /slipway/deployments/:name/events":
      return { path: p(`/slipway/deployments/${DEP}/events`) };
    case "GET /slipway/openapi.json":
    case "GET /health":
    case "GET /version":
    case "GET /metrics":
      return { path: url };
    case "GET /*":
      return { path: "/", headers: { accept: "text/html" } };
    default:
      throw new Error(`the permission matrix has no request for ${key}: add one to permission-matrix.test.ts`);
  }
}
