/**
 * The authorization policy: for every route the control plane registers, what it touches and what the caller must
 * hold, as data. authorization.ts enforces it and refuses to start when a registered route has no entry here, so a
 * new route cannot go unprotected by omission: whoever adds a route adds its line below.
 *
 * The rules follow MLflow's auth plugin (mlflow.server.auth): experiment reads need READ; run, metric, param, tag
 * and artifact writes need EDIT on the run's experiment; deleting or restoring an experiment or a run needs MANAGE;
 * a registered model and its versions, aliases and tags need the model's permission by the same rules; creating an
 * experiment or a registered model needs only a signed-in caller (who then gets MANAGE on it); permission management
 * needs MANAGE on the resource; user management is for admins. Slipway's monitors, deployments and inference log
 * follow the registered model they name.
 */

/** What the caller must be able to do to the resource (MLflow's can_read / can_update / can_delete / can_manage). */
export type Ability = "read" | "update" | "delete" | "manage";

/** Where a request names the experiment it touches. */
export type ExperimentLocator =
  /** `experiment_id` in the query (GET) or the JSON body. */
  | "experiment_id"
  /** `experiment_name` (get-by-name): looked up. */
  | "experiment_name"
  /** `run_id` (or MLflow's older `run_uuid`): the run's experiment. */
  | "run"
  /** Every run of `run_ids` (the UI's bulk metric reads): each run's experiment. */
  | "run_ids"
  /** Every id of `experiment_ids` (search-runs): MLflow requires READ on each one asked for. */
  | "experiment_ids"
  /** An optional `run_id` (a model version's source run): its experiment, when given. */
  | "source_run"
  /**
   * A model version's `source`: `runs:/<run_id>/…` names a run, `mlflow-artifacts:/<experiment_id>/…` a proxied
   * directory (whose files the model's readers may then download); other schemes are outside the proxy.
   */
  | "source_uri"
  /** A proxied artifact path (`<experiment_id>/<run_id>/artifacts/...`), from the `*` parameter or `?path=`. */
  | "artifact_path"
  /** A trace (`:trace_id` path parameter, else `trace_id` in the query or body): the trace's experiment. */
  | "trace"
  /** Every trace of `trace_ids` (batch get): each trace's experiment. */
  | "trace_ids"
  /** `trace.trace_info.trace_location.mlflow_experiment.experiment_id` of a trace being started. */
  | "trace_location"
  /** Every `locations[].mlflow_experiment.experiment_id` of a trace search: READ on each one asked for. */
  | "trace_locations";

/** Where a request names the registered model it touches. */
export type ModelLocator =
  /** `name` in the query or body (MLflow's registry messages, model versions included). */
  | "name"
  /** `model_name` in the query or body (monitors, deployments, inference-log reads). */
  | "model_name"
  /** `model_name` in the body only when present (a monitor or deployment update that moves it to another model). */
  | "new_model_name"
  /** `model_uri` (`models:/NAME@ALIAS` or `models:/NAME/VERSION`) in the body: a deployment's primary. */
  | "model_uri"
  /** `shadow.model_uri` in the body when present: a deployment's shadow, which may be any registered model. */
  | "shadow_model_uri"
  /** Every `records[].model_name` of an inference-log upload. */
  | "records"
  /** The monitor named by the `:name` path parameter: its model. */
  | "monitor"
  /** The deployment named by the `:name` path parameter: its model. */
  | "deployment"
  /** `?model=` of the registry event stream; without it the stream carries every model's events. */
  | "events_model";

export type Check =
  | { on: "experiment"; need: Ability; from: ExperimentLocator }
  | { on: "registered_model"; need: Ability; from: ModelLocator };

/** The result sets narrowed to what the caller may read (see authorization-search.ts). */
export type SearchKind = "experiments" | "registered_models" | "model_versions" | "monitors" | "deployments" | "alerts";

export type Access =
  /** No credentials needed: health checks, the UI's files (the login page must load). */
  | { kind: "public" }
  /** Any signed-in caller. */
  | { kind: "authenticated" }
  | { kind: "admin" }
  /**
   * Let through to the handler, which decides (the auth module's own user routes: a user may read themselves and
   * change their own password; everything else there is for admins). Still needs a signed-in caller.
   */
  | { kind: "delegated"; why: string }
  /** Every check must pass. */
  | { kind: "resource"; checks: readonly Check[] }
  /** Answered for non-admins with only the rows they may read, pages filled after filtering. */
  | { kind: "filtered"; search: SearchKind }
  /**
   * Ground-truth labels name a request id, not a model: the inference log says which model each logged request
   * belongs to, and the caller needs EDIT on each. A label may arrive before its row; such labels cannot be tied to
   * a model yet, so they need EDIT on some registered model (a residual risk, described in authorization.ts).
   */
  | { kind: "feedback" };

/** What the caller gets MANAGE on after a successful call (MLflow's after-request handlers). */
export type AfterSuccess = "grant_experiment_creator" | "grant_model_creator" | "rename_model" | "delete_model";

export interface RoutePolicy {
  /** Audit action, e.g. "runs.log-metric". */
  action: string;
  access: Access;
  /**
   * Whether a call that reached its handler goes to the audit log. Default: every method but GET and HEAD. Off for
   * reads sent as POST (search) and for the auth module's routes, which audit themselves.
   */
  audit?: boolean;
  after?: AfterSuccess;
}

const PUBLIC: Access = { kind: "public" };
const AUTHENTICATED: Access = { kind: "authenticated" };
const ADMIN: Access = { kind: "admin" };

function exp(need: Ability, from: ExperimentLocator = "experiment_id"): Access {
  return { kind: "resource", checks: [{ on: "experiment", need, from }] };
}

function model(need: Ability, from: ModelLocator = "name"): Access {
  return { kind: "resource", checks: [{ on: "registered_model", need, from }] };
}

function filtered(search: SearchKind): Access {
  return { kind: "filtered", search };
}

/**
 * Policies of routes mounted under both `/api/2.0` and `/ajax-api/2.0` (MLflow 3's trace routes: `/api/3.0` and
 * `/ajax-api/3.0`), keyed `METHOD path-after-prefix`.
 */
const API: Record<string, RoutePolicy> = {
  // ------------------------------------------------------------------ MLflow tracking: experiments
  "POST /mlflow/experiments/create": {
    action: "experiments.create",
    access: AUTHENTICATED,
    after: "grant_experiment_creator",
  },
  "GET /mlflow/experiments/search": { action: "experiments.search", access: filtered("experiments") },
  "POST /mlflow/experiments/search": { action: "experiments.search", access: filtered("experiments"), audit: false },
  "GET /mlflow/experiments/get": { action: "experiments.get", access: exp("read") },
  "GET /mlflow/experiments/get-by-name": { action: "experiments.get-by-name", access: exp("read", "experiment_name") },
  "POST /mlflow/experiments/delete": { action: "experiments.delete", access: exp("delete") },
  "POST /mlflow/experiments/restore": { action: "experiments.restore", access: exp("delete") },
  "POST /mlflow/experiments/update": { action: "experiments.update", access: exp("update") },
  "POST /mlflow/experiments/set-experiment-tag": { action: "experiments.set-tag", access: exp("update") },
  "POST /mlflow/experiments/delete-experiment-tag": { action: "experiments.delete-tag", access: exp("update") },
  // ------------------------------------------------------------------ MLflow tracking: runs
  "POST /mlflow/runs/create": { action: "runs.create", access: exp("update") },
  "POST /mlflow/runs/update": { action: "runs.update", access: exp("update", "run") },
  "POST /mlflow/runs/delete": { action: "runs.delete", access: exp("delete", "run") },
  "POST /mlflow/runs/restore": { action: "runs.restore", access: exp("delete", "run") },
  "GET /mlflow/runs/get": { action: "runs.get", access: exp("read", "run") },
  "POST /mlflow/runs/search": { action: "runs.search", access: exp("read", "experiment_ids"), audit: false },
  "POST /mlflow/runs/log-metric": { action: "runs.log-metric", access: exp("update", "run") },
  "POST /mlflow/runs/log-parameter": { action: "runs.log-parameter", access: exp("update", "run") },
  "POST /mlflow/runs/set-tag": { action: "runs.set-tag", access: exp("update", "run") },
  "POST /mlflow/runs/delete-tag": { action: "runs.delete-tag", access: exp("update", "run") },
  "POST /mlflow/runs/log-batch": { action: "runs.log-batch", access: exp("update", "run") },
  "POST /mlflow/runs/log-inputs": { action: "runs.log-inputs", access: exp("update", "run") },
  "POST /mlflow/runs/log-model": { action: "runs.log-model", access: exp("update", "run") },
  "GET /mlflow/metrics/get-history": { action: "metrics.get-history", access: exp("read", "run") },
  "GET /mlflow/metrics/get-history-bulk-interval": {
    action: "metrics.get-history-bulk-interval",
    access: exp("read", "run_ids"),
  },
  "GET /mlflow/artifacts/list": { action: "artifacts.list", access: exp("read", "run") },
  "GET /mlflow/get-artifact": { action: "artifacts.get", access: exp("read", "run") },
  // ------------------------------------------------------------------ MLflow tracing (v3 under /api/3.0, v2 under /api/2.0)
  // traces follow their experiment: reads need READ, starting, tagging and deleting traces EDIT
  // traces are request telemetry, written by servers once per request (slipway llm serve --trace-experiment):
  // auditing them would add an audit row per LLM request; the permission check still applies
  "POST /mlflow/traces": { action: "traces.start", access: exp("update", "trace_location"), audit: false },
  "GET /mlflow/traces/:trace_id": { action: "traces.get-info", access: exp("read", "trace") },
  "GET /mlflow/traces/get": { action: "traces.get", access: exp("read", "trace") },
  "GET /mlflow/traces/batchGet": { action: "traces.batch-get", access: exp("read", "trace_ids") },
  "POST /mlflow/traces/search": { action: "traces.search", access: exp("read", "trace_locations"), audit: false },
  "GET /mlflow/traces": { action: "traces.search", access: exp("read", "experiment_ids") },
  "PATCH /mlflow/traces/:trace_id/tags": { action: "traces.set-tag", access: exp("update", "trace") },
  "DELETE /mlflow/traces/:trace_id/tags": { action: "traces.delete-tag", access: exp("update", "trace") },
  "POST /mlflow/traces/delete-traces": { action: "traces.delete", access: exp("update") },
  // ------------------------------------------------------------------ MLflow registry
  "POST /mlflow/registered-models/create": {
    action: "registered-models.create",
    access: AUTHENTICATED,
    after: "grant_model_creator",
  },
  "GET /mlflow/registered-models/get": { action: "registered-models.get", access: model("read") },
  "POST /mlflow/registered-models/rename": {
    action: "registered-models.rename",
    access: model("update"),
    after: "rename_model",
  },
  "PATCH /mlflow/registered-models/update": { action: "registered-models.update", access: model("update") },
  "DELETE /mlflow/registered-models/delete": {
    action: "registered-models.delete",
    access: model("delete"),
    after: "delete_model",
  },
  "GET /mlflow/registered-models/search": { action: "registered-models.search", access: filtered("registered_models") },
  "GET /mlflow/registered-models/get-latest-versions": {
    action: "registered-models.get-latest-versions",
    access: model("read"),
  },
  "POST /mlflow/registered-models/get-latest-versions": {
    action: "registered-models.get-latest-versions",
    access: model("read"),
    audit: false,
  },
  "POST /mlflow/registered-models/set-tag": { action: "registered-models.set-tag", access: model("update") },
  "DELETE /mlflow/registered-models/delete-tag": { action: "registered-models.delete-tag", access: model("update") },
  "POST /mlflow/registered-models/alias": { action: "registered-models.set-alias", access: model("update") },
  // MLflow: removing an alias or a version's tag needs can_delete, removing a model's tag can_update
  "DELETE /mlflow/registered-models/alias": { action: "registered-models.delete-alias", access: model("delete") },
  "GET /mlflow/registered-models/alias": { action: "registered-models.get-alias", access: model("read") },
  "POST /mlflow/model-versions/create": {
    action: "model-versions.create",
    access: {
      kind: "resource",
      checks: [
        { on: "registered_model", need: "update", from: "name" },
        // registering a run's model must not reveal a run the caller cannot read
        { on: "experiment", need: "read", from: "source_run" },
        { on: "experiment", need: "read", from: "source_uri" },
      ],
    },
  },
  "GET /mlflow/model-versions/get": { action: "model-versions.get", access: model("read") },
  "PATCH /mlflow/model-versions/update": { action: "model-versions.update", access: model("update") },
  "DELETE /mlflow/model-versions/delete": { action: "model-versions.delete", access: model("delete") },
  "GET /mlflow/model-versions/search": { action: "model-versions.search", access: filtered("model_versions") },
  "POST /mlflow/model-versions/set-tag": { action: "model-versions.set-tag", access: model("update") },
  "DELETE /mlflow/model-versions/delete-tag": { action: "model-versions.delete-tag", access: model("delete") },
  "POST /mlflow/model-versions/transition-stage": {
    action: "model-versions.transition-stage",
    access: model("update"),
  },
  "GET /mlflow/model-versions/get-download-uri": { action: "model-versions.get-download-uri", access: model("read") },
  "GET /mlflow/model-versions/get-artifact": { action: "model-versions.get-artifact", access: model("read") },
  // ------------------------------------------------------------------ MLflow webhooks: every model's events, secrets
  "POST /mlflow/webhooks": { action: "webhooks.create", access: ADMIN },
  "GET /mlflow/webhooks": { action: "webhooks.list", access: ADMIN },
  "GET /mlflow/webhooks/:webhook_id": { action: "webhooks.get", access: ADMIN },
  "PATCH /mlflow/webhooks/:webhook_id": { action: "webhooks.update", access: ADMIN },
  "DELETE /mlflow/webhooks/:webhook_id": { action: "webhooks.delete", access: ADMIN },
  "POST /mlflow/webhooks/:webhook_id/test": { action: "webhooks.test", access: ADMIN },
  // ------------------------------------------------------------------ MLflow artifact proxy (mlflow-artifacts)
  "GET /mlflow-artifacts/artifacts": { action: "artifacts.proxy-list", access: exp("read", "artifact_path") },
  "GET /mlflow-artifacts/artifacts/*": { action: "artifacts.proxy-get", access: exp("read", "artifact_path") },
  "PUT /mlflow-artifacts/artifacts/*": { action: "artifacts.proxy-put", access: exp("update", "artifact_path") },
  "DELETE /mlflow-artifacts/artifacts/*": {
    action: "artifacts.proxy-delete",
    access: exp("delete", "artifact_path"),
  },
  "POST /mlflow-artifacts/mpu/create/*": { action: "artifacts.mpu-create", access: exp("update", "artifact_path") },
  "POST /mlflow-artifacts/mpu/complete/*": {
    action: "artifacts.mpu-complete",
    access: exp("update", "artifact_path"),
  },
  "POST /mlflow-artifacts/mpu/abort/*": { action: "artifacts.mpu-abort", access: exp("update", "artifact_path") },
  // ------------------------------------------------------------------ MLflow auth API (the auth module enforces more)
  "POST /mlflow/users/create": { action: "users.create", access: ADMIN, audit: false },
  "GET /mlflow/users/get": {
    action: "users.get",
    access: { kind: "delegated", why: "a user may read themselves; the handler checks" },
    audit: false,
  },
  "PATCH /mlflow/users/update-password": {
    action: "users.update-password",
    access: { kind: "delegated", why: "a user may change their own password; the handler checks" },
    audit: false,
  },
  "PATCH /mlflow/users/update-admin": { action: "users.update-admin", access: ADMIN, audit: false },
  "DELETE /mlflow/users/delete": { action: "users.delete", access: ADMIN, audit: false },
  "POST /mlflow/experiments/permissions/create": {
    action: "permissions.experiment.create",
    access: exp("manage"),
    audit: false,
  },
  "GET /mlflow/experiments/permissions/get": { action: "permissions.experiment.get", access: exp("manage") },
  "PATCH /mlflow/experiments/permissions/update": {
    action: "permissions.experiment.update",
    access: exp("manage"),
    audit: false,
  },
  "DELETE /mlflow/experiments/permissions/delete": {
    action: "permissions.experiment.delete",
    access: exp("manage"),
    audit: false,
  },
  "POST /mlflow/registered-models/permissions/create": {
    action: "permissions.registered-model.create",
    access: model("manage"),
    audit: false,
  },
  "GET /mlflow/registered-models/permissions/get": {
    action: "permissions.registered-model.get",
    access: model("manage"),
  },
  "PATCH /mlflow/registered-models/permissions/update": {
    action: "permissions.registered-model.update",
    access: model("manage"),
    audit: false,
  },
  "DELETE /mlflow/registered-models/permissions/delete": {
    action: "permissions.registered-model.delete",
    access: model("manage"),
    audit: false,
  },
  // ------------------------------------------------------------------ Slipway auth API (its handlers check owners)
  "GET /slipway/auth/whoami": { action: "auth.whoami", access: AUTHENTICATED },
  "POST /slipway/tokens/create": {
    action: "tokens.create",
    access: { kind: "delegated", why: "own tokens; only admins issue tokens for others (the handler checks)" },
    audit: false,
  },
  "GET /slipway/tokens/list": {
    action: "tokens.list",
    access: { kind: "delegated", why: "own tokens; only admins list others' (the handler checks)" },
  },
  "POST /slipway/tokens/revoke": {
    action: "tokens.revoke",
    access: { kind: "delegated", why: "own tokens; admins revoke any (the handler checks)" },
    audit: false,
  },
  "POST /slipway/service-accounts/create": { action: "service-accounts.create", access: ADMIN, audit: false },
  "GET /slipway/users/list": { action: "users.list", access: ADMIN },
  "GET /slipway/audit/search": { action: "audit.search", access: ADMIN },
  // signing in and out needs no credentials (the auth module audits logins itself)
  "POST /slipway/auth/login": { action: "auth.login", access: PUBLIC, audit: false },
  "POST /slipway/auth/logout": { action: "auth.logout", access: PUBLIC, audit: false },
  "GET /slipway/auth/session": { action: "auth.session", access: AUTHENTICATED },
  "GET /slipway/auth/oidc/config": { action: "auth.oidc-config", access: PUBLIC },
  "GET /slipway/auth/oidc/login": { action: "auth.oidc-login", access: PUBLIC },
  "GET /slipway/auth/oidc/callback": { action: "auth.oidc-callback", access: PUBLIC },
  // ------------------------------------------------------------------ Slipway registry
  "GET /slipway/registered-models/alias-history": { action: "registered-models.alias-history", access: model("read") },
  "GET /slipway/events": { action: "registry-events.stream", access: model("read", "events_model") },
  // ------------------------------------------------------------------ Slipway inference log and feedback
  "POST /slipway/inference-log": { action: "inference-log.append", access: model("update", "records") },
  "GET /slipway/inference-log/search": { action: "inference-log.search", access: model("read", "model_name") },
  "GET /slipway/inference-log/stats": { action: "inference-log.stats", access: model("read", "model_name") },
  "POST /slipway/feedback": { action: "inference-log.feedback", access: { kind: "feedback" } },
  // ------------------------------------------------------------------ Slipway monitors
  "POST /slipway/monitors": { action: "monitors.create", access: model("update", "model_name") },
  "GET /slipway/monitors": { action: "monitors.list", access: filtered("monitors") },
  "GET /slipway/monitors/:name": { action: "monitors.get", access: model("read", "monitor") },
  "PATCH /slipway/monitors/:name": {
    action: "monitors.update",
    access: {
      kind: "resource",
      checks: [
        { on: "registered_model", need: "update", from: "monitor" },
        { on: "registered_model", need: "update", from: "new_model_name" },
      ],
    },
  },
  "DELETE /slipway/monitors/:name": { action: "monitors.delete", access: model("delete", "monitor") },
  "POST /slipway/monitors/:name/run": { action: "monitors.run", access: model("update", "monitor") },
  "GET /slipway/monitors/:name/windows": { action: "monitors.windows", access: model("read", "monitor") },
  "GET /slipway/monitors/:name/windows/:window_id": { action: "monitors.window", access: model("read", "monitor") },
  "GET /slipway/monitors/:name/windows/:window_id/report": {
    action: "monitors.report",
    access: model("read", "monitor"),
  },
  "GET /slipway/monitors/:name/alerts": { action: "monitors.alerts", access: model("read", "monitor") },
  "GET /slipway/alerts": { action: "alerts.list", access: filtered("alerts") },
  // ------------------------------------------------------------------ Slipway deployments
  "POST /slipway/deployments": {
    action: "deployments.create",
    access: {
      kind: "resource",
      checks: [
        { on: "registered_model", need: "update", from: "model_uri" },
        // a shadow only receives copies of the traffic: serving it is reading it
        { on: "registered_model", need: "read", from: "shadow_model_uri" },
      ],
    },
  },
  "GET /slipway/deployments": { action: "deployments.list", access: filtered("deployments") },
  "GET /slipway/deployments/:name": { action: "deployments.get", access: model("read", "deployment") },
  "PATCH /slipway/deployments/:name": {
    action: "deployments.update",
    access: {
      kind: "resource",
      checks: [
        { on: "registered_model", need: "update", from: "deployment" },
        { on: "registered_model", need: "read", from: "shadow_model_uri" },
      ],
    },
  },
  "DELETE /slipway/deployments/:name": { action: "deployments.delete", access: model("delete", "deployment") },
  "POST /slipway/deployments/:name/promote": { action: "deployments.promote", access: model("update", "deployment") },
  "POST /slipway/deployments/:name/rollback": {
    action: "deployments.rollback",
    access: model("update", "deployment"),
  },
  // a model server reporting its traffic statistics writes to the model's deployment
  "POST /slipway/deployments/:name/stats": { action: "deployments.stats", access: model("update", "deployment") },
  "GET /slipway/deployments/:name/events": { action: "deployments.events", access: model("read", "deployment") },
  // the API's own description: no data in it
  "GET /slipway/openapi.json": { action: "openapi", access: PUBLIC },
};

/** Policies of routes outside the API prefixes, keyed `METHOD full-path`. */
const ROOT: Record<string, RoutePolicy> = {
  "GET /health": { action: "health", access: PUBLIC },
  // public in the auth module too (probes, Prometheus' scrape): it authenticates no one there
  "GET /version": { action: "version", access: PUBLIC },
  "GET /metrics": { action: "metrics", access: PUBLIC },
  // MLflow's UI artifact download (`/get-artifact?run_uuid=&path=`) and model-version artifact download
  "GET /get-artifact": { action: "artifacts.get", access: exp("read", "run") },
  "GET /model-versions/get-artifact": { action: "model-versions.get-artifact", access: model("read") },
  // the UI's static files and client-side routes (API paths under it answer 404)
  "GET /*": { action: "ui", access: PUBLIC },
};

/** The prefixes MLflow's REST API is mounted under (platform/http/route-table.ts; MLflow 3's traces under 3.0). */
const PREFIXES = ["/api/2.0", "/ajax-api/2.0", "/api/3.0", "/ajax-api/3.0"] as const;

/** `path` without its API prefix, or null when it has none. */
function unprefixed(path: string): string | null {
  for (const prefix of PREFIXES) {
    if (path.startsWith(`${prefix}/`)) return path.slice(prefix.length);
  }
  return null;
}

/** A table a module adds (e.g. the auth module's own routes, written by its author): same keys as {@link ROOT}. */
export type PolicyTable = Readonly<Record<string, RoutePolicy>>;

/**
 * The policy of a registered route (its pattern, e.g. `/api/2.0/slipway/monitors/:name`), or null when it has none.
 * HEAD follows GET. `extra` entries (full paths) win over the built-in table.
 */
export function policyFor(method: string, url: string, extra: PolicyTable = {}): RoutePolicy | null {
  const verb = method === "HEAD" ? "GET" : method;
  const direct = extra[`${verb} ${url}`] ?? ROOT[`${verb} ${url}`];
  if (direct) return direct;
  const rest = unprefixed(url);
  if (rest === null) return null;
  return extra[`${verb} ${rest}`] ?? API[`${verb} ${rest}`] ?? null;
}

/** Every entry of the built-in table, as `METHOD path` keys (API entries without their prefix). */
export function policyKeys(): string[] {
  return [...Object.keys(API), ...Object.keys(ROOT)];
}

/** Whether a call to this route goes to the audit log once it reached its handler. */
export function isAudited(policy: RoutePolicy, method: string): boolean {
  if (policy.audit !== undefined) return policy.audit;
  if (policy.access.kind === "public") return false;
  return method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
}
