/**
 * Slipway's deployments API: a deployment names what model servers serve (`models:/spam@champion`) and how a new
 * version reaches traffic — rolling swap (the default: the servers follow the alias), canary (a share of requests goes
 * to another version, stepped up while it does as well as the primary, promoted by moving the alias, rolled back when
 * it breaks its limits) and shadow (a copy of traffic goes to another version; its answers are compared, never
 * returned). Model servers started with `slipway serve --deployment NAME` follow it and report per-version statistics
 * (`reportDeploymentStats`); the control plane's controller decides, and records every decision with its reason.
 *
 * Paths are below `/api/2.0` and `/ajax-api/2.0`, in the `slipway/` namespace; `{name}` is the deployment's name.
 * Bodies are checked with `checkRequest` (the offending field is named); unknown fields are refused.
 */
import { Type, type Static, type TLiteral, type TObject, type TUnion } from "@sinclair/typebox";
import type { RouteSpec } from "../mlflow/tracking-api.js";

const Str = Type.String();
const OptStr = Type.Optional(Type.String());
const OptInt = Type.Optional(Type.Integer());
const OptNum = Type.Optional(Type.Number());

function route<Req extends TObject, Res extends TObject>(spec: RouteSpec<Req, Res>): RouteSpec<Req, Res> {
  return spec;
}

function literals<const T extends readonly string[]>(values: T): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)));
}

export const DEPLOYMENT_LIMITS = {
  maxNameLength: 128,
  defaultStep: 10,
  defaultIntervalMs: 60_000,
  minIntervalMs: 1000,
  maxIntervalMs: 86_400_000,
  defaultMaxErrorRate: 0.01,
  defaultMinRequests: 100,
  defaultShadowQueue: 1000,
  maxShadowQueue: 100_000,
  defaultMaxResults: 100,
  maxMaxResults: 1000,
  /** Model servers report at most this often and at least this rarely (ms). */
  minReportIntervalMs: 250,
  maxReportIntervalMs: 5000,
  /** Most entries (revision × role × version) in one stats report. */
  maxReportEntries: 100,
  /** A canary that does worse than the primary (within its limits) for this many intervals is rolled back. */
  maxHeldIntervals: 3,
} as const;

/**
 * How much worse than the primary a canary may look and still "match" it: measurements over a few hundred requests
 * are noisy, so a canary is held (not stepped up) only when it is clearly worse. Error rate: at most the primary's
 * plus `errorRate` (absolute); p99: at most the primary's × `p99Ratio` + `p99Ms`, compared only when both have at
 * least `p99Requests` requests (below that a p99 is one slow request: a pause, a cold cache).
 */
export const CANARY_MATCH_TOLERANCE = { errorRate: 0.005, p99Ratio: 1.25, p99Ms: 5, p99Requests: 100 } as const;

/** The upper bounds (ms) of the latency histogram model servers report; one more bucket counts what is above. */
export const DEPLOYMENT_LATENCY_BOUNDS_MS = [
  0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500,
  2000, 3000, 5000, 10_000, 30_000,
] as const;

/** The part a model version plays in a deployment. */
export const DEPLOYMENT_ROLES = ["primary", "canary", "shadow"] as const;
export type DeploymentRole = (typeof DEPLOYMENT_ROLES)[number];

/** running: routed and stepped; promoting: the alias is being moved; promoted / rolled_back: over. */
export const CANARY_STATES = ["running", "promoting", "promoted", "rolled_back"] as const;
export type CanaryState = (typeof CANARY_STATES)[number];

export const SHADOW_STATES = ["running", "failed"] as const;
export type ShadowState = (typeof SHADOW_STATES)[number];

export const DEPLOYMENT_STRATEGIES = ["rolling", "canary", "shadow"] as const;
export type DeploymentStrategy = (typeof DEPLOYMENT_STRATEGIES)[number];

export const DEPLOYMENT_EVENT_KINDS = [
  "created",
  "updated",
  "step",
  "hold",
  "promoted",
  "rolled_back",
  "load_failed",
  "shadow_failed",
] as const;
export type DeploymentEventKind = (typeof DEPLOYMENT_EVENT_KINDS)[number];

/** What a model server says about a version it was asked to serve. */
export const SERVED_STATES = ["loading", "ready", "failed"] as const;
export type ServedState = (typeof SERVED_STATES)[number];

// ---------------------------------------------------------------------------------------------
// Requests

export const CanaryInput = Type.Object(
  {
    /** `models:/NAME@ALIAS` or `models:/NAME/VERSION`, of the primary's registered model; pinned at creation. */
    model_uri: Str,
    /** Percent of requests routed to the canary at the start, 0 to 100. */
    weight: Type.Number({ minimum: 0, maximum: 100 }),
    /** Percentage points added every `interval_ms` while the canary does well (default 10; 0: never stepped). */
    step: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    interval_ms: Type.Optional(
      Type.Integer({ minimum: DEPLOYMENT_LIMITS.minIntervalMs, maximum: DEPLOYMENT_LIMITS.maxIntervalMs }),
    ),
    /** Errors / requests above this rolls the canary back (default 0.01). */
    max_error_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** A p99 latency above this (ms) rolls the canary back (no limit by default). */
    max_latency_p99_ms: Type.Optional(Type.Number({ minimum: 0.1, maximum: 600_000 })),
    /** Canary requests needed at a weight before it is stepped up or its p99 judged (default 100). */
    min_requests: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
  },
  { additionalProperties: false },
);
export type CanaryInput = Static<typeof CanaryInput>;

export const ShadowInput = Type.Object(
  {
    /** `models:/NAME@ALIAS` or `models:/NAME/VERSION` (any registered model); pinned at creation. */
    model_uri: Str,
    /** Requests waiting for the shadow on each server; past it copies are dropped and counted (default 1000). */
    max_queue: Type.Optional(Type.Integer({ minimum: 1, maximum: DEPLOYMENT_LIMITS.maxShadowQueue })),
  },
  { additionalProperties: false },
);
export type ShadowInput = Static<typeof ShadowInput>;

export const DeploymentInput = Type.Object(
  {
    /** Letters, digits, `.`, `_`, `-`; at most 128 characters. */
    name: Type.String({ minLength: 1, maxLength: DEPLOYMENT_LIMITS.maxNameLength }),
    /** The primary: `models:/NAME@ALIAS` (followed: a move is a rolling swap) or `models:/NAME/VERSION`. */
    model_uri: Str,
    canary: Type.Optional(CanaryInput),
    shadow: Type.Optional(ShadowInput),
  },
  { additionalProperties: false },
);
export type DeploymentInput = Static<typeof DeploymentInput>;

/** `updateDeployment`: start a new canary (when none runs) or shadow; `null` removes one. */
export const DeploymentUpdate = Type.Object(
  {
    canary: Type.Optional(Type.Union([CanaryInput, Type.Null()])),
    shadow: Type.Optional(Type.Union([ShadowInput, Type.Null()])),
  },
  { additionalProperties: false },
);
export type DeploymentUpdate = Static<typeof DeploymentUpdate>;

/** `promoteDeployment` / `rollbackDeployment`: why (recorded in the event log, and the alias history on a move). */
export const DeploymentDecisionInput = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);
export type DeploymentDecisionInput = Static<typeof DeploymentDecisionInput>;

/** One (revision, role, version)'s traffic on one server since its previous report. */
export const VersionStatsEntry = Type.Object(
  {
    /** The deployment revision the server routed with while it counted these. */
    revision: Type.Integer({ minimum: 0 }),
    role: literals(DEPLOYMENT_ROLES),
    version: Type.String({ minLength: 1, maxLength: 64 }),
    requests: Type.Integer({ minimum: 0 }),
    /**
     * Requests the version failed: a server error, or (canary) an answer other than 2xx to a request the primary
     * then answered. Canary failures are retried on the primary, so clients never see them.
     */
    errors: Type.Integer({ minimum: 0 }),
    /** Requests refused for their input (4xx) by the primary too: the client's fault, not the version's. */
    client_errors: Type.Integer({ minimum: 0 }),
    /** Counts per bucket of `DEPLOYMENT_LATENCY_BOUNDS_MS`, plus one for above the last bound (32 in all). */
    latency_ms: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 64 }),
    last_error: Type.Optional(Type.String({ maxLength: 1000 })),
    /** Shadow: rows compared with the primary's answer, and those that agreed. */
    compared_rows: Type.Optional(Type.Integer({ minimum: 0 })),
    agreed_rows: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Shadow: copies dropped because the shadow's queue was full. */
    dropped: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type VersionStatsEntry = Static<typeof VersionStatsEntry>;

export const ServedVersionState = Type.Object(
  {
    role: literals(DEPLOYMENT_ROLES),
    version: Type.String({ minLength: 1, maxLength: 64 }),
    state: literals(SERVED_STATES),
    error: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ServedVersionState = Static<typeof ServedVersionState>;

export const DeploymentStatsReport = Type.Object(
  {
    /** The reporting server (`host:port`). */
    server: Type.String({ minLength: 1, maxLength: 256 }),
    /** Unique per report: a retried report is counted once. */
    report_id: Type.String({ minLength: 1, maxLength: 256 }),
    /** The deployment revision the server routes with now. */
    revision: Type.Optional(Type.Integer({ minimum: 0 })),
    entries: Type.Array(VersionStatsEntry, { maxItems: DEPLOYMENT_LIMITS.maxReportEntries }),
    /** The versions the server holds for this deployment and their state. */
    models: Type.Array(ServedVersionState, { maxItems: 20 }),
  },
  { additionalProperties: false },
);
export type DeploymentStatsReport = Static<typeof DeploymentStatsReport>;

// ---------------------------------------------------------------------------------------------
// Answers

export const Canary = Type.Object({
  model_uri: Str,
  /** The version routed to, resolved when the canary started. */
  version: Str,
  /** The share of requests routed to it now, percent. */
  weight: Type.Number(),
  initial_weight: Type.Number(),
  step: Type.Number(),
  interval_ms: Type.Integer(),
  max_error_rate: Type.Number(),
  max_latency_p99_ms: OptNum,
  min_requests: Type.Integer(),
  state: literals(CANARY_STATES),
  /** The primary's version when the canary started (where a rollback after promotion returns the alias). */
  base_version: OptStr,
  started_at: Type.Integer(),
  /** When the current weight was set. */
  step_started_at: Type.Integer(),
  ended_at: OptInt,
  /** The last decision's reason. */
  reason: OptStr,
});
export type Canary = Static<typeof Canary>;

export const Shadow = Type.Object({
  model_uri: Str,
  version: Str,
  max_queue: Type.Integer(),
  state: literals(SHADOW_STATES),
  started_at: Type.Integer(),
  error: OptStr,
});
export type Shadow = Static<typeof Shadow>;

/** One version's traffic over the deployment's current revision, summed over servers. */
export const VersionStatsSummary = Type.Object({
  role: literals(DEPLOYMENT_ROLES),
  version: Str,
  requests: Type.Integer(),
  errors: Type.Integer(),
  client_errors: Type.Integer(),
  error_rate: Type.Number(),
  p50_ms: OptNum,
  p99_ms: OptNum,
  compared_rows: OptInt,
  agreed_rows: OptInt,
  /** agreed_rows / compared_rows. */
  agreement: OptNum,
  dropped: OptInt,
  last_error: OptStr,
});
export type VersionStatsSummary = Static<typeof VersionStatsSummary>;

export const DeploymentServer = Type.Object({
  server: Str,
  last_report_at: Type.Integer(),
  /** The revision it routed with at its last report. */
  revision: Type.Integer(),
  models: Type.Array(ServedVersionState),
});
export type DeploymentServer = Static<typeof DeploymentServer>;

export const Deployment = Type.Object({
  deployment_id: Str,
  name: Str,
  /** The primary, as given. */
  model_uri: Str,
  model_name: Str,
  model_alias: OptStr,
  model_version: OptStr,
  /** Where the primary's alias points now (or its pinned version). */
  primary_version: OptStr,
  strategy: literals(DEPLOYMENT_STRATEGIES),
  canary: Type.Optional(Canary),
  shadow: Type.Optional(Shadow),
  /** Bumped on every change of routing (weight, canary or shadow); servers tag their statistics with it. */
  revision: Type.Integer(),
  /** How often model servers report (ms). */
  report_interval_ms: Type.Integer(),
  creation_timestamp: Type.Integer(),
  last_updated_timestamp: Type.Integer(),
  /** `getDeployment` only: traffic over the current revision, per role and version. */
  stats: Type.Optional(Type.Array(VersionStatsSummary)),
  /** `getDeployment` only: servers that reported in the last minute. */
  servers: Type.Optional(Type.Array(DeploymentServer)),
});
export type Deployment = Static<typeof Deployment>;

export const DeploymentEvent = Type.Object({
  event_id: Type.Integer(),
  deployment: Str,
  kind: literals(DEPLOYMENT_EVENT_KINDS),
  /** Canary weight before and after (percent). */
  from_weight: OptNum,
  to_weight: OptNum,
  /** The version concerned (the canary's, the shadow's, or the one that failed). */
  version: OptStr,
  reason: Str,
  /** The statistics the decision was made on. */
  stats: Type.Optional(Type.Array(VersionStatsSummary)),
  created_at: Type.Integer(),
});
export type DeploymentEvent = Static<typeof DeploymentEvent>;

const NameParam = { name: Type.String({ minLength: 1 }) };
const Paging = { max_results: OptInt, page_token: OptStr };

export const deploymentRoutes = {
  createDeployment: route({
    name: "createDeployment",
    method: "POST",
    path: "/slipway/deployments",
    request: DeploymentInput,
    response: Type.Object({ deployment: Deployment }),
  }),
  listDeployments: route({
    name: "listDeployments",
    method: "GET",
    path: "/slipway/deployments",
    request: Type.Object({ model_name: OptStr, ...Paging }),
    response: Type.Object({ deployments: Type.Array(Deployment), next_page_token: OptStr }),
  }),
  getDeployment: route({
    name: "getDeployment",
    method: "GET",
    path: "/slipway/deployments/{name}",
    request: Type.Object(NameParam),
    response: Type.Object({ deployment: Deployment }),
  }),
  updateDeployment: route({
    name: "updateDeployment",
    method: "PATCH",
    path: "/slipway/deployments/{name}",
    request: DeploymentUpdate,
    response: Type.Object({ deployment: Deployment }),
  }),
  deleteDeployment: route({
    name: "deleteDeployment",
    method: "DELETE",
    path: "/slipway/deployments/{name}",
    request: Type.Object(NameParam),
    response: Type.Object({}),
  }),
  promoteDeployment: route({
    name: "promoteDeployment",
    method: "POST",
    path: "/slipway/deployments/{name}/promote",
    request: DeploymentDecisionInput,
    response: Type.Object({ deployment: Deployment }),
  }),
  rollbackDeployment: route({
    name: "rollbackDeployment",
    method: "POST",
    path: "/slipway/deployments/{name}/rollback",
    request: DeploymentDecisionInput,
    response: Type.Object({ deployment: Deployment }),
  }),
  reportDeploymentStats: route({
    name: "reportDeploymentStats",
    method: "POST",
    path: "/slipway/deployments/{name}/stats",
    request: DeploymentStatsReport,
    /** The deployment as it is now: the server applies it (weight, canary, shadow). */
    response: Type.Object({ deployment: Deployment }),
  }),
  listDeploymentEvents: route({
    name: "listDeploymentEvents",
    method: "GET",
    path: "/slipway/deployments/{name}/events",
    request: Type.Object(Paging),
    /** Newest first. */
    response: Type.Object({ events: Type.Array(DeploymentEvent), next_page_token: OptStr }),
  }),
} as const;

export type DeploymentRoutes = typeof deploymentRoutes;

// ---------------------------------------------------------------------------------------------
// Shared helpers (pure)

/** A deployment's model reference: a registered model's alias or version. */
export type DeploymentModelRef = { name: string; alias: string } | { name: string; version: string };

/**
 * Parses `models:/NAME@ALIAS` or `models:/NAME/VERSION`; returns the problem as text when it is neither (the
 * caller names the field).
 */
export function parseDeploymentModelUri(uri: string): DeploymentModelRef | { problem: string } {
  const forms = "models:/NAME@ALIAS or models:/NAME/VERSION (e.g. models:/spam@champion, models:/spam/3)";
  if (!uri.startsWith("models:/")) return { problem: `'${uri}' is not ${forms}` };
  const rest = uri.slice("models:/".length);
  const version = /^([^@]+)\/([1-9]\d{0,15})$/.exec(rest);
  if (version) return { name: version[1]!, version: version[2]! };
  const alias = /^([^@]+)@([A-Za-z0-9_-]+)$/.exec(rest);
  if (alias) return { name: alias[1]!, alias: alias[2]! };
  return { problem: `'${uri}' is not ${forms}` };
}

/** An empty latency histogram. */
export function emptyLatencyBuckets(): number[] {
  return new Array<number>(DEPLOYMENT_LATENCY_BOUNDS_MS.length + 1).fill(0);
}

/** Adds `from` into `into` (same length). */
export function addLatencyBuckets(into: number[], from: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i]! += from[i] ?? 0;
}

/** The bucket index of a latency in ms. */
export function latencyBucket(ms: number): number {
  const bounds: readonly number[] = DEPLOYMENT_LATENCY_BOUNDS_MS;
  let lo = 0;
  let hi: number = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= bounds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The `q` quantile (0–1) of a latency histogram, in ms, interpolated linearly inside its bucket (as Prometheus'
 * `histogram_quantile`); undefined when it is empty. Above the last bound, the last bound.
 */
export function latencyQuantile(buckets: readonly number[], q: number): number | undefined {
  let total = 0;
  for (const c of buckets) total += c;
  if (total === 0) return undefined;
  const rank = q * total;
  const bounds: readonly number[] = DEPLOYMENT_LATENCY_BOUNDS_MS;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i]!;
    if (count > 0 && seen + count >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + ((upper - lower) * (rank - seen)) / count;
    }
    seen += count;
  }
  return bounds[bounds.length - 1]!;
}
