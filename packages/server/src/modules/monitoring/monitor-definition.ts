/**
 * A monitor's definition: parsing create and update bodies (protocol's TypeBox schemas, then the rules a schema
 * cannot say), with MLflow errors that name the field. Nothing here touches the database.
 */
import {
  MonitorInput,
  MonitorUpdate,
  checkRequest,
  invalidParameter,
  type AlertRule,
  type MonitorDriftOptions,
  type MonitorMetricOptions,
} from "@slipway/protocol";
import { DRIFT_METHOD_NAMES } from "@slipway/ml";
import { CronError, parseCron } from "./cron.js";

/** A checked definition, with defaults filled in where they are fixed (`reference.source`, `enabled`). */
export interface MonitorDefinition {
  name: string;
  model_name: string;
  model_alias?: string;
  model_version?: string;
  window_ms: number;
  schedule: string;
  reference: { source: "model" | "artifact"; uri?: string };
  drift: MonitorDriftOptions;
  metrics: MonitorMetricOptions;
  alerts: AlertRule[];
  webhook?: { url: string; secret?: string };
  enabled: boolean;
}

/** Where a `runs:/` or `models:/` reference URI points. */
export type ReferenceUri =
  | { kind: "run"; runId: string; path: string }
  | { kind: "model"; name: string; version?: string; alias?: string; path: string };

/** The reference file a model version carries by default, beside its model files. */
export const DEFAULT_REFERENCE_FILE = "reference_data.jsonl";

/** Parses `runs:/RUN_ID/path` and `models:/NAME/VERSION/path` (or `models:/NAME@ALIAS/path`); undefined otherwise. */
export function parseReferenceUri(uri: string): ReferenceUri | undefined {
  const run = /^runs:\/([^/]+)\/(.+)$/.exec(uri);
  if (run) return { kind: "run", runId: run[1]!, path: run[2]! };
  const version = /^models:\/([^/@]+)\/(\d+)\/(.+)$/.exec(uri);
  if (version) return { kind: "model", name: version[1]!, version: version[2]!, path: version[3]! };
  const alias = /^models:\/([^/@]+)@([^/]+)\/(.+)$/.exec(uri);
  if (alias) return { kind: "model", name: alias[1]!, alias: alias[2]!, path: alias[3]! };
  return undefined;
}

/** Rules whose threshold has no sensible default. */
const NEEDS_THRESHOLD: ReadonlySet<AlertRule["when"]> = new Set([
  "drift_share",
  "latency_p99_ms",
  "min_rows",
  "error_rate",
]);

function checkAlerts(alerts: readonly AlertRule[]): void {
  const names = new Set<string>();
  alerts.forEach((rule, i) => {
    const at = `alerts[${i}]`;
    if (names.has(rule.name))
      throw invalidParameter(`Invalid value for parameter '${at}.name': '${rule.name}' is used twice.`);
    names.add(rule.name);
    if (rule.when === "metric_drop" && rule.metric === undefined) {
      throw invalidParameter(
        `Missing value for required parameter '${at}.metric': a metric_drop rule names accuracy, f1 or roc_auc.`,
      );
    }
    if (rule.when !== "metric_drop" && rule.metric !== undefined) {
      throw invalidParameter(`Invalid parameter '${at}.metric': only metric_drop rules name a metric.`);
    }
    if (rule.when !== "feature_drift" && rule.feature !== undefined) {
      throw invalidParameter(`Invalid parameter '${at}.feature': only feature_drift rules name a feature.`);
    }
    if (NEEDS_THRESHOLD.has(rule.when) && rule.threshold === undefined) {
      throw invalidParameter(`Missing value for required parameter '${at}.threshold': a ${rule.when} rule needs one.`);
    }
    if (rule.threshold !== undefined && !Number.isFinite(rule.threshold)) {
      throw invalidParameter(
        `Invalid value ${rule.threshold} for parameter '${at}.threshold': expected a finite number.`,
      );
    }
  });
}

function checkDrift(drift: MonitorDriftOptions): void {
  if (
    drift.method !== undefined &&
    drift.method !== "domain_classifier" &&
    !DRIFT_METHOD_NAMES.includes(drift.method)
  ) {
    throw invalidParameter(
      `Invalid value '${drift.method}' for parameter 'drift.method': expected one of ${DRIFT_METHOD_NAMES.join(", ")}.`,
    );
  }
  if (drift.threshold !== undefined && !Number.isFinite(drift.threshold)) {
    throw invalidParameter(
      `Invalid value ${drift.threshold} for parameter 'drift.threshold': expected a finite number.`,
    );
  }
  for (const [column, value] of Object.entries(drift.thresholds ?? {})) {
    if (!Number.isFinite(value)) {
      throw invalidParameter(
        `Invalid value ${value} for parameter 'drift.thresholds.${column}': expected a finite number.`,
      );
    }
  }
}

function checkMetrics(metrics: MonitorMetricOptions): void {
  for (const [name, value] of Object.entries(metrics.baseline ?? {})) {
    if (value !== undefined && !Number.isFinite(value)) {
      throw invalidParameter(
        `Invalid value ${value} for parameter 'metrics.baseline.${name}': expected a finite number.`,
      );
    }
  }
  if (metrics.max_drop !== undefined && !Number.isFinite(metrics.max_drop)) {
    throw invalidParameter(
      `Invalid value ${metrics.max_drop} for parameter 'metrics.max_drop': expected a finite number.`,
    );
  }
}

function checkUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidParameter(`Invalid value '${value}' for parameter 'webhook.url': not a URL.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalidParameter(
      `Invalid value '${value}' for parameter 'webhook.url': only http and https URLs are supported.`,
    );
  }
}

/** The rules across fields; throws INVALID_PARAMETER_VALUE naming the field. */
function checkDefinition(def: MonitorDefinition): MonitorDefinition {
  if (def.name.trim() === "" || /[/\\?#%]/.test(def.name) || def.name !== def.name.trim()) {
    throw invalidParameter(
      `Invalid value '${def.name}' for parameter 'name': a monitor name may not contain /, \\, ?, # or % nor start or end with spaces.`,
    );
  }
  if ((def.model_alias === undefined) === (def.model_version === undefined)) {
    throw invalidParameter(
      "Exactly one of the parameters 'model_alias' and 'model_version' is required: what the monitor follows.",
    );
  }
  if (def.model_version !== undefined && !/^\d+$/.test(def.model_version)) {
    throw invalidParameter(
      `Invalid value '${def.model_version}' for parameter 'model_version': expected a version number.`,
    );
  }
  try {
    parseCron(def.schedule);
  } catch (error) {
    if (error instanceof CronError) {
      throw invalidParameter(`Invalid value '${def.schedule}' for parameter 'schedule': ${error.message}.`);
    }
    throw error;
  }
  if (def.reference.source === "artifact") {
    if (def.reference.uri === undefined) {
      throw invalidParameter(
        "Missing value for required parameter 'reference.uri': the source 'artifact' needs a URI.",
      );
    }
    if (parseReferenceUri(def.reference.uri) === undefined) {
      throw invalidParameter(
        `Invalid value '${def.reference.uri}' for parameter 'reference.uri': expected runs:/RUN_ID/path or models:/NAME/VERSION/path.`,
      );
    }
  } else if (def.reference.uri !== undefined) {
    throw invalidParameter(
      "Invalid parameter 'reference.uri': the source 'model' reads the served version's reference_data.jsonl; set source to 'artifact' to give a URI.",
    );
  }
  checkDrift(def.drift);
  checkMetrics(def.metrics);
  checkAlerts(def.alerts);
  if (def.webhook !== undefined) checkUrl(def.webhook.url);
  return def;
}

function fields(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== "object" || Array.isArray(body)) {
    throw invalidParameter("The request body must be a JSON object.");
  }
  return body as Record<string, unknown>;
}

function reference(given: MonitorInput["reference"]): MonitorDefinition["reference"] {
  const source = given?.source ?? (given?.uri !== undefined ? "artifact" : "model");
  return given?.uri === undefined ? { source } : { source, uri: given.uri };
}

/** A create body as a checked definition. */
export function parseMonitorInput(body: unknown): MonitorDefinition {
  const input = checkRequest(MonitorInput, fields(body));
  const def: MonitorDefinition = {
    name: input.name,
    model_name: input.model_name,
    ...(input.model_alias === undefined ? {} : { model_alias: input.model_alias }),
    ...(input.model_version === undefined ? {} : { model_version: input.model_version }),
    window_ms: input.window_ms,
    schedule: input.schedule.trim(),
    reference: reference(input.reference),
    drift: input.drift ?? {},
    metrics: input.metrics ?? {},
    alerts: input.alerts ?? [],
    ...(input.webhook === undefined ? {} : { webhook: input.webhook }),
    enabled: input.enabled ?? true,
  };
  return checkDefinition(def);
}

/**
 * An update body applied to a definition: each field given replaces the stored one (`reference`, `drift`, `metrics`
 * and `alerts` as a whole); `model_alias` replaces `model_version` and the reverse; `webhook: null` removes it.
 */
export function applyMonitorUpdate(current: MonitorDefinition, body: unknown): MonitorDefinition {
  const update = checkRequest(MonitorUpdate, fields(body));
  const next: MonitorDefinition = { ...current };
  if (update.model_name !== undefined) next.model_name = update.model_name;
  if (update.model_alias !== undefined || update.model_version !== undefined) {
    delete next.model_alias;
    delete next.model_version;
    if (update.model_alias !== undefined && update.model_alias !== null) next.model_alias = update.model_alias;
    if (update.model_version !== undefined && update.model_version !== null) next.model_version = update.model_version;
  }
  if (update.window_ms !== undefined) next.window_ms = update.window_ms;
  if (update.schedule !== undefined) next.schedule = update.schedule.trim();
  if (update.reference !== undefined) next.reference = reference(update.reference);
  if (update.drift !== undefined) next.drift = update.drift;
  if (update.metrics !== undefined) next.metrics = update.metrics;
  if (update.alerts !== undefined) next.alerts = update.alerts;
  if (update.webhook === null) delete next.webhook;
  else if (update.webhook !== undefined) {
    // a new URL without a secret keeps the stored secret only when the URL is the same
    const secret =
      update.webhook.secret ?? (update.webhook.url === current.webhook?.url ? current.webhook.secret : undefined);
    next.webhook = secret === undefined ? { url: update.webhook.url } : { url: update.webhook.url, secret };
  }
  if (update.enabled !== undefined) next.enabled = update.enabled;
  return checkDefinition(next);
}

/** `models:/NAME@ALIAS` or `models:/NAME/VERSION`: what the monitor follows. */
export function followedUri(def: Pick<MonitorDefinition, "model_name" | "model_alias" | "model_version">): string {
  return def.model_alias !== undefined
    ? `models:/${def.model_name}@${def.model_alias}`
    : `models:/${def.model_name}/${def.model_version ?? ""}`;
}
