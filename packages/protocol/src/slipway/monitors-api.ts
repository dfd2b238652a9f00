/**
 * Slipway's monitors API: monitor definitions (CRUD), the stored result of each evaluated window (JSON and an HTML
 * report), evaluation on demand, and alerts. Paths are below `/api/2.0` and `/ajax-api/2.0`, in the `slipway/`
 * namespace; `{name}` and `{window_id}` are path parameters.
 *
 * Bodies are checked against the schemas below with `checkRequest`, which names the offending field in MLflow's
 * error format (`alerts[1].when`); unknown fields are refused, so a typo is an error rather than a silent default.
 */
import { Type, type Static, type TLiteral, type TObject, type TSchema, type TUnion } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { invalidParameter } from "../errors.js";
import type { RouteSpec } from "../mlflow/tracking-api.js";

const Str = Type.String();
const OptStr = Type.Optional(Type.String());
const OptInt = Type.Optional(Type.Integer());
const OptNum = Type.Optional(Type.Number());
const Id = Type.String({ minLength: 1, maxLength: 256 });

function route<Req extends TObject, Res extends TObject>(spec: RouteSpec<Req, Res>): RouteSpec<Req, Res> {
  return spec;
}

function literals<const T extends readonly string[]>(values: T): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)));
}

export const MONITOR_LIMITS = {
  /** Shortest window, ms (one minute: the schedule's resolution). */
  minWindowMs: 60_000,
  /** Longest window, ms (366 days). */
  maxWindowMs: 366 * 86_400_000,
  maxAlerts: 50,
  defaultMaxResults: 100,
  maxMaxResults: 1000,
} as const;

/** What an alert rule watches. */
export const ALERT_CONDITIONS = [
  "dataset_drift",
  "drift_share",
  "feature_drift",
  "metric_drop",
  "latency_p99_ms",
  "min_rows",
  "error_rate",
] as const;
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];

export const ALERT_OPS = [">", ">=", "<", "<="] as const;
export type AlertOp = (typeof ALERT_OPS)[number];

/** Performance metrics computed on labelled rows, compared with the baseline. */
export const MONITOR_METRICS = ["accuracy", "f1", "roc_auc"] as const;
export type MonitorMetric = (typeof MONITOR_METRICS)[number];

export const WINDOW_STATUSES = ["running", "ok", "empty", "error"] as const;
export type WindowStatus = (typeof WINDOW_STATUSES)[number];

export const ALERT_STATES = ["firing", "resolved"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** Where the reference data comes from. */
export const MonitorReference = Type.Object(
  {
    /**
     * `model` (default): the file `reference_data.jsonl` in the artifacts of the served model version; `artifact`:
     * the file at `uri`.
     */
    source: Type.Optional(literals(["model", "artifact"] as const)),
    /** `runs:/RUN_ID/path.jsonl` or `models:/NAME/VERSION/path` (JSON Lines, JSON, CSV or Parquet). */
    uri: OptStr,
  },
  { additionalProperties: false },
);
export type MonitorReference = Static<typeof MonitorReference>;

export const MonitorDriftOptions = Type.Object(
  {
    /** A drift method for every column (see `slipway drift --help`); default: Slipway's calibrated choice. */
    method: OptStr,
    /** The rule set choosing a method when none is named. */
    defaults: Type.Optional(literals(["slipway", "evidently"] as const)),
    /** The threshold of the method's score, for every column. */
    threshold: OptNum,
    /** Thresholds per column name. */
    thresholds: Type.Optional(Type.Record(Type.String(), Type.Number())),
    /** Dataset drift when at least this share of tested columns drifted (default 0.5). */
    drift_share: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** Input columns compared (default: every input column of the reference). */
    columns: Type.Optional(Type.Array(Str)),
    /** Input columns left out. */
    exclude: Type.Optional(Type.Array(Str)),
  },
  { additionalProperties: false },
);
export type MonitorDriftOptions = Static<typeof MonitorDriftOptions>;

export const MonitorBaseline = Type.Object(
  { accuracy: OptNum, f1: OptNum, roc_auc: OptNum },
  { additionalProperties: false },
);
export type MonitorBaseline = Static<typeof MonitorBaseline>;

export const MonitorMetricOptions = Type.Object(
  {
    /** Baseline values; default: the served version's run metrics `accuracy`, `f1`, `roc_auc` (or `test_…`). */
    baseline: Type.Optional(MonitorBaseline),
    /** Degradation when a metric is more than this below its baseline (default 0.05). */
    max_drop: Type.Optional(Type.Number({ minimum: 0 })),
    /** The positive class for F1 and ROC AUC (default: 1, true, or the greater of two labels). */
    positive_label: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    /** The field of an object prediction holding the predicted class (default: label, prediction, class). */
    prediction_key: OptStr,
    /** The field of an object prediction holding the positive class's score (default: probability, score, p). */
    score_key: OptStr,
    /** Fewer labelled rows than this: metrics are reported but not compared (default 20). */
    min_labels: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type MonitorMetricOptions = Static<typeof MonitorMetricOptions>;

export const AlertRule = Type.Object(
  {
    /** Unique within the monitor. */
    name: Id,
    when: literals(ALERT_CONDITIONS),
    /** `feature_drift`: only this input column (default: any). */
    feature: OptStr,
    /** `metric_drop`: accuracy, f1 or roc_auc. */
    metric: Type.Optional(literals(MONITOR_METRICS)),
    op: Type.Optional(literals(ALERT_OPS)),
    threshold: OptNum,
  },
  { additionalProperties: false },
);
export type AlertRule = Static<typeof AlertRule>;

export const MonitorWebhookInput = Type.Object(
  {
    url: Type.String({ minLength: 1 }),
    /** HMAC-SHA256 key of the `X-Slipway-Signature` header; never returned. */
    secret: OptStr,
  },
  { additionalProperties: false },
);
export type MonitorWebhookInput = Static<typeof MonitorWebhookInput>;

const DefinitionFields = {
  model_name: Id,
  /** Follow the version this alias points to (`champion`). One of model_alias and model_version. */
  model_alias: Type.Optional(Id),
  /** Follow one fixed version. */
  model_version: Type.Optional(Id),
  /** Each evaluation reads the window `[end - window_ms, end)`. */
  window_ms: Type.Integer({ minimum: MONITOR_LIMITS.minWindowMs, maximum: MONITOR_LIMITS.maxWindowMs }),
  /** Five-field cron expression, UTC (`*\/5 * * * *`). */
  schedule: Type.String({ minLength: 1, maxLength: 256 }),
  reference: Type.Optional(MonitorReference),
  drift: Type.Optional(MonitorDriftOptions),
  metrics: Type.Optional(MonitorMetricOptions),
  alerts: Type.Optional(Type.Array(AlertRule, { maxItems: MONITOR_LIMITS.maxAlerts })),
  webhook: Type.Optional(MonitorWebhookInput),
  /** Scheduled evaluations run only while enabled (default true); `run` works either way. */
  enabled: Type.Optional(Type.Boolean()),
};

/** The body of `createMonitor`. */
export const MonitorInput = Type.Object({ name: Id, ...DefinitionFields }, { additionalProperties: false });
export type MonitorInput = Static<typeof MonitorInput>;

/** The body of `updateMonitor`: any definition field; `webhook: null` removes the webhook. */
export const MonitorUpdate = Type.Object(
  {
    model_name: Type.Optional(Id),
    model_alias: Type.Optional(Type.Union([Id, Type.Null()])),
    model_version: Type.Optional(Type.Union([Id, Type.Null()])),
    window_ms: Type.Optional(DefinitionFields.window_ms),
    schedule: Type.Optional(DefinitionFields.schedule),
    reference: Type.Optional(MonitorReference),
    drift: Type.Optional(MonitorDriftOptions),
    metrics: Type.Optional(MonitorMetricOptions),
    alerts: Type.Optional(Type.Array(AlertRule, { maxItems: MONITOR_LIMITS.maxAlerts })),
    webhook: Type.Optional(Type.Union([MonitorWebhookInput, Type.Null()])),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type MonitorUpdate = Static<typeof MonitorUpdate>;

/** A monitor as the API returns it (never with the webhook's secret). */
export const Monitor = Type.Object({
  monitor_id: Str,
  name: Str,
  model_name: Str,
  model_alias: OptStr,
  model_version: OptStr,
  window_ms: Type.Integer(),
  schedule: Str,
  reference: MonitorReference,
  drift: MonitorDriftOptions,
  metrics: MonitorMetricOptions,
  alerts: Type.Array(AlertRule),
  webhook: Type.Optional(Type.Object({ url: Str, has_secret: Type.Boolean() })),
  enabled: Type.Boolean(),
  creation_timestamp: Type.Integer(),
  last_updated_timestamp: Type.Integer(),
  /** The next scheduled evaluation (absent while disabled). */
  next_run_ms: OptInt,
});
export type Monitor = Static<typeof Monitor>;

/** A finding: something about the data or the evaluation worth a person's attention. */
export const MonitorFinding = Type.Object({
  /** The column concerned, when there is one. */
  column: OptStr,
  /** e.g. empty_window, column_missing_in_current, constant_column, no_labels, reference_without_predictions. */
  kind: Str,
  message: Str,
});
export type MonitorFinding = Static<typeof MonitorFinding>;

export const ColumnDriftSummary = Type.Object({
  column: Str,
  type: Str,
  /** The deciding method, or absent when the column could not be tested. */
  test: OptStr,
  score: Type.Union([Type.Number(), Type.Null()]),
  threshold: Type.Union([Type.Number(), Type.Null()]),
  /** Drift when `score <comparison> threshold` (`<` for p-values, `>` for distances). */
  comparison: OptStr,
  drift: Type.Union([Type.Boolean(), Type.Null()]),
  statistics: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])),
  findings: Type.Array(MonitorFinding),
});
export type ColumnDriftSummary = Static<typeof ColumnDriftSummary>;

export const DriftSummary = Type.Object({
  dataset_drift: Type.Boolean(),
  share: Type.Number(),
  drift_share: Type.Number(),
  tested_columns: Type.Integer(),
  drifted_columns: Type.Integer(),
  reference_rows: Type.Integer(),
  current_rows: Type.Integer(),
  columns: Type.Array(ColumnDriftSummary),
});
export type DriftSummary = Static<typeof DriftSummary>;

export const MetricSummary = Type.Object({
  value: Type.Union([Type.Number(), Type.Null()]),
  baseline: Type.Union([Type.Number(), Type.Null()]),
  /** baseline − value, when both are known. */
  drop: Type.Union([Type.Number(), Type.Null()]),
  /** drop > max_drop; null when not decided (no baseline, too few labels). */
  degraded: Type.Union([Type.Boolean(), Type.Null()]),
});
export type MetricSummary = Static<typeof MetricSummary>;

export const PerformanceSummary = Type.Object({
  labelled: Type.Integer(),
  positive_label: Type.Optional(Type.Unknown()),
  max_drop: Type.Number(),
  metrics: Type.Record(Type.String(), MetricSummary),
  /** Any metric degraded (null when none could be decided). */
  degraded: Type.Union([Type.Boolean(), Type.Null()]),
});
export type PerformanceSummary = Static<typeof PerformanceSummary>;

export const LatencySummary = Type.Object({ rows: Type.Integer(), p50_ms: Type.Number(), p99_ms: Type.Number() });
export type LatencySummary = Static<typeof LatencySummary>;

/** The window's logged requests by outcome (a request is counted by its row 0). */
export const ErrorSummary = Type.Object({
  /** Logged requests: answered (200) and failed. */
  requests: Type.Integer(),
  /** Requests answered with a 5xx status. */
  server_errors: Type.Integer(),
  /** Requests answered with a 4xx status. */
  client_errors: Type.Integer(),
  /** server_errors / requests. */
  error_rate: Type.Number(),
  /** client_errors / requests. */
  client_error_rate: Type.Number(),
});
export type ErrorSummary = Static<typeof ErrorSummary>;

/** One alert rule's value at this window. */
export const AlertCheck = Type.Object({
  rule: Str,
  /** The watched value (null when it could not be computed: the alert's state is then left as it was). */
  value: Type.Union([Type.Number(), Type.Null()]),
  /** Whether the condition held (null: unknown). */
  active: Type.Union([Type.Boolean(), Type.Null()]),
  message: Str,
});
export type AlertCheck = Static<typeof AlertCheck>;

/** Everything an evaluation found, without chart data (that is in the HTML report). */
export const WindowSummary = Type.Object({
  /** `models:/NAME@ALIAS` or `models:/NAME/VERSION`. */
  model_uri: Str,
  /** The version the monitor followed at the window's end; its reference and baseline were used. */
  reference_version: OptStr,
  reference: Type.Optional(Type.Object({ uri: Str, rows: Type.Integer(), columns: Type.Array(Str) })),
  feature_drift: Type.Optional(DriftSummary),
  prediction_drift: Type.Optional(DriftSummary),
  performance: Type.Optional(PerformanceSummary),
  latency: Type.Optional(LatencySummary),
  /** Requests and error rates (absent when no request was logged). */
  errors: Type.Optional(ErrorSummary),
  findings: Type.Array(MonitorFinding),
  alerts: Type.Array(AlertCheck),
  /** Answered rows (status 200) were sampled down to this many for the statistics. */
  sampled_rows: OptInt,
  duration_ms: Type.Number(),
});
export type WindowSummary = Static<typeof WindowSummary>;

/** A stored window result, as lists return it. */
export const MonitorWindowInfo = Type.Object({
  window_id: Type.Integer(),
  monitor: Str,
  start_ms: Type.Integer(),
  end_ms: Type.Integer(),
  /** `running` while being evaluated (a claim), then ok, empty or error. */
  status: literals(WINDOW_STATUSES),
  /** `schedule` or `manual`. */
  trigger: Str,
  /** The model versions whose rows the window held. */
  versions: Type.Array(Str),
  /** Every logged row of the window, failed requests included. */
  rows: Type.Integer(),
  /** Rows of answered requests (status 200) whose label arrived. */
  labelled: Type.Integer(),
  dataset_drift: Type.Optional(Type.Boolean()),
  share: OptNum,
  /** accuracy, f1, roc_auc, latency_p50_ms, latency_p99_ms, error_rate, client_error_rate: those computed. */
  metrics: Type.Record(Type.String(), Type.Number()),
  /** status error: what went wrong. */
  error: OptStr,
  claimed_at: Type.Integer(),
  completed_at: OptInt,
});
export type MonitorWindowInfo = Static<typeof MonitorWindowInfo>;

export const MonitorWindow = Type.Object({
  ...MonitorWindowInfo.properties,
  summary: Type.Optional(WindowSummary),
});
export type MonitorWindow = Static<typeof MonitorWindow>;

/** One alert incident: from ok→firing to firing→ok. */
export const MonitorAlert = Type.Object({
  alert_id: Type.Integer(),
  monitor: Str,
  rule: Str,
  when: Str,
  state: literals(ALERT_STATES),
  started_at: Type.Integer(),
  resolved_at: OptInt,
  /** The window that started it and the last one evaluated while it fired. */
  start_window_id: Type.Integer(),
  last_window_id: Type.Integer(),
  last_value: Type.Union([Type.Number(), Type.Null()]),
  message: Str,
});
export type MonitorAlert = Static<typeof MonitorAlert>;

const NameParam = { name: Id };
const Paging = { max_results: OptInt, page_token: OptStr };

export const monitorRoutes = {
  createMonitor: route({
    name: "createMonitor",
    method: "POST",
    path: "/slipway/monitors",
    request: MonitorInput,
    response: Type.Object({ monitor: Monitor }),
  }),
  listMonitors: route({
    name: "listMonitors",
    method: "GET",
    path: "/slipway/monitors",
    request: Type.Object({ model_name: OptStr, ...Paging }),
    response: Type.Object({ monitors: Type.Array(Monitor), next_page_token: OptStr }),
  }),
  getMonitor: route({
    name: "getMonitor",
    method: "GET",
    path: "/slipway/monitors/{name}",
    request: Type.Object(NameParam),
    response: Type.Object({ monitor: Monitor }),
  }),
  updateMonitor: route({
    name: "updateMonitor",
    method: "PATCH",
    path: "/slipway/monitors/{name}",
    request: MonitorUpdate,
    response: Type.Object({ monitor: Monitor }),
  }),
  deleteMonitor: route({
    name: "deleteMonitor",
    method: "DELETE",
    path: "/slipway/monitors/{name}",
    request: Type.Object(NameParam),
    response: Type.Object({}),
  }),
  runMonitor: route({
    name: "runMonitor",
    method: "POST",
    path: "/slipway/monitors/{name}/run",
    /** `end_ms`: the window's end (default now). */
    request: Type.Object({ end_ms: OptInt }, { additionalProperties: false }),
    response: Type.Object({ window: MonitorWindow }),
  }),
  listMonitorWindows: route({
    name: "listMonitorWindows",
    method: "GET",
    path: "/slipway/monitors/{name}/windows",
    request: Type.Object(Paging),
    /** Newest window first. */
    response: Type.Object({ windows: Type.Array(MonitorWindowInfo), next_page_token: OptStr }),
  }),
  getMonitorWindow: route({
    name: "getMonitorWindow",
    method: "GET",
    path: "/slipway/monitors/{name}/windows/{window_id}",
    /** `window_id` may be `latest`: the newest completed window. */
    request: Type.Object({}),
    response: Type.Object({ window: MonitorWindow }),
  }),
  getMonitorWindowReport: route({
    name: "getMonitorWindowReport",
    method: "GET",
    path: "/slipway/monitors/{name}/windows/{window_id}/report",
    /** The answer is `text/html`, not JSON. */
    request: Type.Object({}),
    response: Type.Object({}),
  }),
  listMonitorAlerts: route({
    name: "listMonitorAlerts",
    method: "GET",
    path: "/slipway/monitors/{name}/alerts",
    request: Type.Object({ state: Type.Optional(literals(ALERT_STATES)), ...Paging }),
    /** Newest incident first. */
    response: Type.Object({ alerts: Type.Array(MonitorAlert), next_page_token: OptStr }),
  }),
  listAlerts: route({
    name: "listAlerts",
    method: "GET",
    path: "/slipway/alerts",
    request: Type.Object({ state: Type.Optional(literals(ALERT_STATES)), ...Paging }),
    response: Type.Object({ alerts: Type.Array(MonitorAlert), next_page_token: OptStr }),
  }),
} as const;

export type MonitorRoutes = typeof monitorRoutes;

/** The payload of an alert webhook delivery (`X-Slipway-Event: monitor.alert.firing` or `.resolved`). */
export interface AlertWebhookPayload {
  event_id: string;
  kind: "monitor.alert.firing" | "monitor.alert.resolved";
  monitor: string;
  model_name: string;
  model_uri: string;
  alert: MonitorAlert & { rule_definition: AlertRule };
  window: { window_id: number; start_ms: number; end_ms: number; versions: string[] };
  delivered_at: number;
}

// ---------------------------------------------------------------------------------------------
// Checking a request against a schema, with the field named

/** `/alerts/1/when` → `alerts[1].when`. */
function fieldName(path: string, root: string): string {
  const parts = path.split("/").slice(1);
  let out = "";
  for (const raw of parts) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out === "" ? root : out;
}

function show(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 120 ? `${text.slice(0, 120)}...` : text;
  } catch {
    return String(value);
  }
}

function expected(schema: TSchema): string {
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.anyOf)) {
    const options = s.anyOf as Record<string, unknown>[];
    if (options.every((o) => typeof o.const === "string")) return `one of ${options.map((o) => o.const).join(", ")}`;
    return options.map((o) => expected(o as TSchema)).join(" or ");
  }
  switch (s.type) {
    case "string":
      return "a string";
    case "integer":
    case "number": {
      const what = s.type === "integer" ? "an integer" : "a number";
      if (typeof s.minimum === "number" && typeof s.maximum === "number") {
        return `${what} from ${s.minimum} to ${s.maximum}`;
      }
      if (typeof s.minimum === "number") return `${what} ≥ ${s.minimum}`;
      return what;
    }
    case "boolean":
      return "true or false";
    case "array":
      return typeof s.maxItems === "number" ? `a list of at most ${s.maxItems} items` : "a list";
    case "object":
      return "a JSON object";
    case "null":
      return "null";
    default:
      return "another value";
  }
}

/**
 * Checks `value` against `schema` and returns it typed, or throws INVALID_PARAMETER_VALUE naming the first bad
 * field: `Missing value for required parameter 'alerts[0].name'`, `Unknown parameter 'windw_ms'`, or
 * `Invalid value 5 for parameter 'window_ms': expected an integer from 60000 to 31622400000`.
 */
export function checkRequest<T extends TSchema>(schema: T, value: unknown, root = "request"): Static<T> {
  const first = Value.Errors(schema, value).First();
  if (first === undefined) return value;
  const field = fieldName(first.path, root);
  if (first.message === "Expected required property") {
    throw invalidParameter(`Missing value for required parameter '${field}'.`);
  }
  if (first.message === "Unexpected property") throw invalidParameter(`Unknown parameter '${field}'.`);
  if (typeof first.value === "string" && (first.schema as { type?: unknown }).type === "string") {
    throw invalidParameter(`Invalid value ${show(first.value)} for parameter '${field}': ${first.message}.`);
  }
  throw invalidParameter(
    `Invalid value ${show(first.value)} for parameter '${field}': expected ${expected(first.schema)}.`,
  );
}
