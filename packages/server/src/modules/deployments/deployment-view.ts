/**
 * Deployments as the API shows them: stored rows turned into protocol's `Deployment` and `DeploymentEvent`, and the
 * paging helpers of the list routes.
 */
import {
  DEPLOYMENT_LIMITS,
  invalidParameter,
  type Canary,
  type Deployment,
  type DeploymentEvent,
  type DeploymentServer,
  type ServedVersionState,
  type Shadow,
  type VersionStatsSummary,
} from "@slipway/protocol";
import type { DeploymentDefinition, DeploymentRow, EventRow, ServerRow } from "./deployment-store.js";

const NO_CANARY_REPORT_MS = 2000;

export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export function decodeToken<T>(token: unknown, check: (v: unknown) => v is T): T | undefined {
  if (token === undefined || token === "") return undefined;
  if (typeof token !== "string") throw invalidParameter("Invalid page_token: expected a string.");
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (check(value)) return value;
  } catch {
    // falls through to the error
  }
  throw invalidParameter(`Invalid page_token '${token}'.`);
}

export function maxResults(value: unknown): number {
  if (value === undefined) return DEPLOYMENT_LIMITS.defaultMaxResults;
  if (
    typeof value !== "number" ||
    !Number.isSafeInteger(value) ||
    value < 1 ||
    value > DEPLOYMENT_LIMITS.maxMaxResults
  ) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(value)} for parameter 'max_results': expected an integer from 1 to ${DEPLOYMENT_LIMITS.maxMaxResults}.`,
    );
  }
  return value;
}

export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function definitionOf(row: DeploymentRow): DeploymentDefinition {
  return parseJson<DeploymentDefinition>(row.definition, {});
}

function reportInterval(row: DeploymentRow, def: DeploymentDefinition): number {
  if (row.canary_state !== "running" && row.canary_state !== "promoting") return NO_CANARY_REPORT_MS;
  const interval = def.canary?.interval_ms ?? DEPLOYMENT_LIMITS.defaultIntervalMs;
  return Math.min(
    DEPLOYMENT_LIMITS.maxReportIntervalMs,
    Math.max(DEPLOYMENT_LIMITS.minReportIntervalMs, Math.round(interval / 4)),
  );
}

export function toEvent(row: EventRow, deployment: string): DeploymentEvent {
  return {
    event_id: Number(row.event_id),
    deployment,
    kind: row.kind as DeploymentEvent["kind"],
    ...(row.from_weight === null ? {} : { from_weight: row.from_weight }),
    ...(row.to_weight === null ? {} : { to_weight: row.to_weight }),
    ...(row.version === null ? {} : { version: row.version }),
    reason: row.reason,
    ...(row.stats === null ? {} : { stats: parseJson<VersionStatsSummary[]>(row.stats, []) }),
    created_at: Number(row.created_at),
  };
}

/** A stored deployment as the API shows it; `primaryVersion` is where its alias points now. */
export function deploymentView(row: DeploymentRow, primaryVersion: string | undefined): Deployment {
  const def = definitionOf(row);
  const canary: Canary | undefined =
    row.canary_state !== null && row.canary_version !== null && def.canary
      ? {
          model_uri: def.canary.model_uri,
          version: row.canary_version,
          weight: row.canary_weight,
          initial_weight: def.canary.initial_weight,
          step: def.canary.step,
          interval_ms: def.canary.interval_ms,
          max_error_rate: def.canary.max_error_rate,
          ...(def.canary.max_latency_p99_ms === undefined ? {} : { max_latency_p99_ms: def.canary.max_latency_p99_ms }),
          min_requests: def.canary.min_requests,
          state: row.canary_state,
          ...(row.canary_base_version === null ? {} : { base_version: row.canary_base_version }),
          started_at: Number(row.canary_started_at ?? row.creation_timestamp),
          step_started_at: Number(row.step_started_at),
          ...(row.canary_ended_at === null ? {} : { ended_at: Number(row.canary_ended_at) }),
          ...(row.canary_reason === null ? {} : { reason: row.canary_reason }),
        }
      : undefined;
  const shadow: Shadow | undefined =
    row.shadow_state !== null && row.shadow_version !== null && def.shadow
      ? {
          model_uri: def.shadow.model_uri,
          version: row.shadow_version,
          max_queue: def.shadow.max_queue,
          state: row.shadow_state,
          started_at: Number(row.shadow_started_at ?? row.creation_timestamp),
          ...(row.shadow_error === null ? {} : { error: row.shadow_error }),
        }
      : undefined;
  const out: Deployment = {
    deployment_id: row.deployment_id,
    name: row.name,
    model_uri: row.model_uri,
    model_name: row.model_name,
    ...(row.model_alias === null ? {} : { model_alias: row.model_alias }),
    ...(row.model_version === null ? {} : { model_version: row.model_version }),
    ...(primaryVersion === undefined ? {} : { primary_version: primaryVersion }),
    strategy: canary ? "canary" : shadow ? "shadow" : "rolling",
    ...(canary ? { canary } : {}),
    ...(shadow ? { shadow } : {}),
    revision: Number(row.revision),
    report_interval_ms: reportInterval(row, def),
    creation_timestamp: Number(row.creation_timestamp),
    last_updated_timestamp: Number(row.last_updated_timestamp),
  };
  return out;
}

export function serverView(s: ServerRow): DeploymentServer {
  return {
    server: s.server,
    last_report_at: Number(s.last_report_at),
    revision: Number(s.revision),
    models: parseJson<ServedVersionState[]>(s.models, []),
  };
}
