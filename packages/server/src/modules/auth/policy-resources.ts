/**
 * Finds the experiments and registered models a request touches, from the locators of its policy (policy.ts): a run
 * id becomes its experiment, a proxied artifact path its experiment, a monitor or a deployment its model.
 *
 * When the identifier is missing or malformed, or names nothing (an unknown run id), the request goes on to its
 * handler, which answers the 400 or 404 it would answer without auth: that is what MLflow does (its validators look
 * the run up and fail with RESOURCE_DOES_NOT_EXIST), and a handler cannot act on a resource that does not exist, so
 * nothing is reachable that way. An experiment id or model name is never looked up: its permission is the explicit
 * one or the default, as in MLflow, so an unknown id reveals nothing either.
 */
import type { FastifyRequest } from "fastify";
import { canonicalExperimentId } from "./auth-api.js";
import { MlflowError, invalidParameter, parseDeploymentModelUri } from "@slipway/protocol";
import { validateArtifactPath } from "../../artifacts/artifact-repository.js";
import type { DeploymentService } from "../deployments/deployment-service.js";
import type { MonitorService } from "../monitoring/monitor-service.js";
import type { SqlDb } from "../../platform/db/sql-db.js";
import type { TrackingService } from "../tracking/tracking-service.js";
import type { Check } from "./policy.js";

export type Target = { type: "experiment"; id: string } | { type: "registered_model"; name: string };

export type Resolution =
  /** Every target must grant the check's ability. */
  | { kind: "targets"; targets: Target[] }
  /** An optional locator found nothing to check (e.g. a model version without a source run). */
  | { kind: "none" }
  /** The request names nothing that exists, or names it badly: its handler answers (400 or 404). */
  | { kind: "handler" }
  /** The request touches something no per-resource permission covers; only admins pass. */
  | { kind: "admin_only"; what: string };

export interface ResourceLookups {
  tracking: TrackingService;
  /** For feedback labels, which name a logged request, not a model: the inference log's rows say whose it is. */
  db?: SqlDb;
  monitors?: MonitorService;
  deployments?: DeploymentService;
}

/** Run id → experiment id. A run never moves to another experiment, so entries stay true while the run exists. */
export class RunExperimentCache {
  private readonly entries = new Map<string, string>();
  constructor(private readonly capacity = 10_000) {}

  get(runId: string): string | undefined {
    return this.entries.get(runId);
  }

  set(runId: string, experimentId: string): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(runId, experimentId);
  }
}

/** The request's fields: the query string for GET and HEAD, else the parsed JSON body (streams have none). */
export function requestFields(request: FastifyRequest): Record<string, unknown> {
  const source: unknown = request.method === "GET" || request.method === "HEAD" ? request.query : request.body;
  if (source === null || typeof source !== "object" || Array.isArray(source)) return {};
  // the artifact proxy hands handlers the raw body stream
  if (typeof (source as { pipe?: unknown }).pipe === "function") return {};
  return source as Record<string, unknown>;
}

/** A string identifier (numbers accepted: JSON clients send experiment ids either way). */
function ident(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Errors a lookup throws for a bad or unknown identifier: the handler will answer the same. */
function isClientError(error: unknown): boolean {
  return error instanceof MlflowError && error.status >= 400 && error.status < 500;
}

export class ResourceResolver {
  private readonly runs = new RunExperimentCache();

  constructor(private readonly lookups: ResourceLookups) {}

  async resolve(check: Check, request: FastifyRequest): Promise<Resolution> {
    // a malformed artifact path (traversal, absolute) is refused here, whatever the handler would do with it
    if (check.on === "experiment" && check.from === "artifact_path") return artifactExperiment(request);
    try {
      return check.on === "experiment"
        ? await this.experiment(check.from, request)
        : await this.model(check.from, request);
    } catch (error) {
      if (isClientError(error)) return { kind: "handler" };
      throw error;
    }
  }

  /** The experiment of a run, or undefined when there is no such run. */
  async experimentOfRun(runId: string): Promise<string | undefined> {
    const cached = this.runs.get(runId);
    if (cached !== undefined) return cached;
    try {
      const { run } = await this.lookups.tracking.getRun({ run_id: runId });
      this.runs.set(runId, run.info.experiment_id);
      return run.info.experiment_id;
    } catch (error) {
      if (isClientError(error)) return undefined;
      throw error;
    }
  }

  /**
   * The models whose logged rows the feedback labels of this request name (`request_id`, or `labels[].request_id`),
   * and how many of the named request ids have no row yet (a label may arrive before its row). Null without a
   * database to look in.
   */
  async feedbackModels(request: FastifyRequest): Promise<{ models: string[]; unlogged: number } | null> {
    const db = this.lookups.db;
    if (!db) return null;
    const fields = requestFields(request);
    const ids = new Set<string>();
    const single = ident(fields.request_id);
    if (single !== undefined) ids.add(single);
    if (Array.isArray(fields.labels)) {
      for (const label of fields.labels as unknown[]) {
        const id =
          label !== null && typeof label === "object"
            ? ident((label as Record<string, unknown>).request_id)
            : undefined;
        if (id !== undefined) ids.add(id);
      }
    }
    const models = new Set<string>();
    const found = new Set<string>();
    const all = [...ids];
    for (let i = 0; i < all.length; i += 500) {
      const chunk = all.slice(i, i + 500);
      const rows = await db.all<{ request_id: string; model_name: string }>(
        `SELECT DISTINCT request_id, model_name FROM inference_log WHERE request_id IN (${chunk.map(() => "?").join(", ")})`,
        chunk,
      );
      for (const row of rows) {
        found.add(row.request_id);
        models.add(row.model_name);
      }
    }
    return { models: [...models], unlogged: ids.size - found.size };
  }

  /**
   * Registered models whose versions' artifacts (`storage_location`, else `source`, under the artifact proxy) hold
   * the proxied path this request reads: a model's readers may download its versions (`models:/` resolution reads),
   * even when the run that logged them is in an experiment they cannot read. Empty without a database.
   */
  async modelsServingArtifact(request: FastifyRequest): Promise<string[]> {
    const db = this.lookups.db;
    if (!db) return [];
    const path = artifactPathOf(request);
    if (path === "") return [];
    const uri = `mlflow-artifacts:/${path}`;
    const location = "RTRIM(COALESCE(mv.storage_location, mv.source), '/')";
    const rows = await db.all<{ name: string }>(
      `SELECT DISTINCT rm.name FROM model_versions mv JOIN registered_models rm ON rm.id = mv.registered_model_id
        WHERE ${location} = ? OR SUBSTR(?, 1, LENGTH(${location}) + 1) = ${location} || '/'`,
      [uri, uri],
    );
    return rows.map((r) => r.name);
  }

  private async experiment(from: Check["from"], request: FastifyRequest): Promise<Resolution> {
    const fields = requestFields(request);
    switch (from) {
      case "experiment_id": {
        const id = experimentIdent(fields.experiment_id);
        return id === undefined ? { kind: "handler" } : experiments([id]);
      }
      case "experiment_name": {
        const name = ident(fields.experiment_name);
        if (name === undefined) return { kind: "handler" };
        const { experiment } = await this.lookups.tracking.getExperimentByName({ experiment_name: name });
        return experiments([experiment.experiment_id]);
      }
      case "run":
      case "source_run": {
        const runId = ident(fields.run_id) ?? ident(fields.run_uuid);
        if (runId === undefined) return from === "source_run" ? { kind: "none" } : { kind: "handler" };
        const experimentId = await this.experimentOfRun(runId);
        return experimentId === undefined ? { kind: "handler" } : experiments([experimentId]);
      }
      case "source_uri":
        return this.sourceExperiment(fields.source);
      case "run_ids": {
        const runIds = listOf(fields.run_ids);
        if (runIds.length === 0) return { kind: "handler" };
        const ids = new Set<string>();
        for (const runId of runIds) {
          const experimentId = await this.experimentOfRun(runId);
          if (experimentId === undefined) return { kind: "handler" };
          ids.add(experimentId);
        }
        return experiments([...ids]);
      }
      case "experiment_ids": {
        const ids = listOf(fields.experiment_ids).map((id) => experimentIdent(id) ?? id);
        return ids.length === 0 ? { kind: "handler" } : experiments([...new Set(ids)]);
      }
      case "trace": {
        const params = (request.params ?? {}) as Record<string, unknown>;
        const traceId = ident(params.trace_id) ?? ident(fields.trace_id);
        if (traceId === undefined) return { kind: "handler" };
        const experimentId = await this.experimentOfTrace(traceId);
        if (experimentId === null) return { kind: "admin_only", what: "traces (no database to look them up in)" };
        return experimentId === undefined ? { kind: "handler" } : experiments([experimentId]);
      }
      case "trace_ids": {
        const traceIds = listOf(fields.trace_ids);
        if (traceIds.length === 0) return { kind: "handler" };
        const ids = new Set<string>();
        for (const traceId of traceIds) {
          const experimentId = await this.experimentOfTrace(traceId);
          if (experimentId === null) return { kind: "admin_only", what: "traces (no database to look them up in)" };
          // an unknown trace is left out of the answer by the handler: nothing to check for it
          if (experimentId !== undefined) ids.add(experimentId);
        }
        return ids.size === 0 ? { kind: "handler" } : experiments([...ids]);
      }
      case "trace_location": {
        const trace = objectField(fields.trace);
        const info = objectField(trace?.trace_info);
        const location = objectField(info?.trace_location);
        const id = experimentIdent(objectField(location?.mlflow_experiment)?.experiment_id);
        return id === undefined ? { kind: "handler" } : experiments([id]);
      }
      case "trace_locations": {
        const locations = Array.isArray(fields.locations) ? (fields.locations as unknown[]) : [];
        const ids = new Set<string>();
        for (const location of locations) {
          const id = experimentIdent(objectField(objectField(location)?.mlflow_experiment)?.experiment_id);
          // a malformed location is refused by the handler, naming the field
          if (id === undefined) return { kind: "handler" };
          ids.add(id);
        }
        return ids.size === 0 ? { kind: "handler" } : experiments([...ids]);
      }
      default:
        return { kind: "admin_only", what: `an unknown experiment locator '${String(from)}'` };
    }
  }

  /** The experiment of a trace; undefined when there is no such trace, null without a database to look in. */
  private async experimentOfTrace(traceId: string): Promise<string | undefined | null> {
    const db = this.lookups.db;
    if (!db) return null;
    const row = await db.get<{ experiment_id: number | string }>(
      `SELECT experiment_id FROM trace_info WHERE trace_id = ?`,
      [traceId],
    );
    return row ? String(row.experiment_id) : undefined;
  }

  /** The experiment a model version's source lies in (see the `source_uri` locator). */
  private async sourceExperiment(source: unknown): Promise<Resolution> {
    if (typeof source !== "string") return { kind: "handler" };
    const runs = /^runs:\/([^/]+)/i.exec(source);
    if (runs) {
      const experimentId = await this.experimentOfRun(runs[1]!);
      return experimentId === undefined ? { kind: "handler" } : experiments([experimentId]);
    }
    if (!/^mlflow-artifacts:/i.test(source)) return { kind: "none" };
    // `mlflow-artifacts://host:port/path` or `mlflow-artifacts:/path`
    let rest = source.slice("mlflow-artifacts:".length);
    if (rest.startsWith("//")) rest = rest.slice(2).replace(/^[^/]*/, "");
    const path = validateArtifactPath(rest.replace(/^\/+/, ""));
    const first = path.split("/")[0] ?? "";
    return /^[0-9]+$/.test(first)
      ? experiments([String(Number(first))])
      : { kind: "admin_only", what: `model versions from proxied artifacts outside an experiment ('${path}')` };
  }

  private async model(from: Check["from"], request: FastifyRequest): Promise<Resolution> {
    const fields = requestFields(request);
    const params = (request.params ?? {}) as Record<string, unknown>;
    switch (from) {
      case "name":
      case "model_name": {
        const name = ident(fields[from]);
        return name === undefined ? { kind: "handler" } : models([name]);
      }
      case "new_model_name": {
        const name = ident(fields.model_name);
        return name === undefined ? { kind: "none" } : models([name]);
      }
      case "model_uri": {
        const name = modelOfUri(fields.model_uri);
        return name === undefined ? { kind: "handler" } : models([name]);
      }
      case "shadow_model_uri": {
        const shadow = fields.shadow;
        if (shadow === undefined || shadow === null) return { kind: "none" };
        const name = typeof shadow === "object" ? modelOfUri((shadow as Record<string, unknown>).model_uri) : undefined;
        return name === undefined ? { kind: "handler" } : models([name]);
      }
      case "records": {
        if (!Array.isArray(fields.records)) return { kind: "handler" };
        const names = new Set<string>();
        for (const record of fields.records as unknown[]) {
          const name =
            record !== null && typeof record === "object" ? ident((record as Record<string, unknown>).model_name) : "";
          // a record without a model name is refused by the handler, naming the field
          if (name === undefined || name === "") return { kind: "handler" };
          names.add(name);
        }
        return names.size === 0 ? { kind: "handler" } : models([...names]);
      }
      case "monitor": {
        const name = ident(params.name);
        if (name === undefined || !this.lookups.monitors) return { kind: "handler" };
        const monitor = await this.lookups.monitors.get(name);
        return models([monitor.model_name]);
      }
      case "deployment": {
        const name = ident(params.name);
        if (name === undefined || !this.lookups.deployments) return { kind: "handler" };
        const deployment = await this.lookups.deployments.get(name);
        return models([deployment.model_name]);
      }
      case "events_model": {
        const name = ident(fields.model);
        // the unfiltered stream carries every model's events: it cannot be narrowed once it is streaming
        return name === undefined
          ? { kind: "admin_only", what: "the registry event stream of every model" }
          : models([name]);
      }
      default:
        return { kind: "admin_only", what: `an unknown model locator '${String(from)}'` };
    }
  }
}

function experiments(ids: string[]): Resolution {
  return { kind: "targets", targets: ids.map((id) => ({ type: "experiment", id })) };
}

function models(names: string[]): Resolution {
  return { kind: "targets", targets: names.map((name) => ({ type: "registered_model", name })) };
}

/**
 * The registered model of a deployment's `models:/NAME@ALIAS` or `models:/NAME/VERSION`, read with the deployment
 * service's own parser (so both agree on the name); undefined when the service would refuse the URI.
 */
export function modelOfUri(uri: unknown): string | undefined {
  if (typeof uri !== "string") return undefined;
  const parsed = parseDeploymentModelUri(uri);
  return "problem" in parsed ? undefined : parsed.name;
}

/**
 * An experiment id as the tracking service reads it: `"007"` is experiment 7 there, so it must be here too, or a
 * caller could dodge an explicit permission recorded for `"7"`. Anything else is left for the handler to refuse.
 */
export function experimentIdent(value: unknown): string | undefined {
  const id = ident(value);
  return id === undefined ? undefined : canonicalExperimentId(id);
}

/** `value` when it is a JSON object, else undefined. */
function objectField(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function listOf(value: unknown): string[] {
  const values = Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value];
  const out: string[] = [];
  for (const v of values) {
    const id = ident(v);
    if (id !== undefined) out.push(id);
  }
  return out;
}

/** The proxied artifact path of the request (`*` parameter or `?path=`), validated; throws 400 when malformed. */
function artifactPathOf(request: FastifyRequest): string {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const raw = "*" in params ? params["*"] : query.path;
  if (raw !== undefined && typeof raw !== "string") throw invalidParameter("Invalid path: expected a single string");
  return validateArtifactPath(raw ?? "");
}

/**
 * The experiment a proxied artifact path belongs to. Runs' artifacts live at `<experiment_id>/<run_id>/artifacts/…`
 * under the proxy root (`mlflow-artifacts:/<experiment_id>` is each experiment's default location), so the first
 * segment names the experiment, as MLflow's proxy validators read it. The path is validated first (no `..`, no
 * absolute path, no backslash, also when percent-encoded: Fastify decodes parameters), so `1/../2/x` cannot borrow
 * experiment 1's permission. A path that names no experiment (the root listing, a custom location) is for admins.
 */
function artifactExperiment(request: FastifyRequest): Resolution {
  const clean = artifactPathOf(request);
  const first = clean.split("/")[0] ?? "";
  if (!/^[0-9]+$/.test(first)) {
    return { kind: "admin_only", what: `artifacts outside an experiment's directory ('${clean}')` };
  }
  // "007/…" is not experiment 7's directory, but whoever may touch experiment 7 decides about it too
  return experiments([String(Number(first))]);
}
