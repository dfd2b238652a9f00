/**
 * MLflow Tracing (tracing-api.ts in protocol): start, read, search, tag and delete traces. Knows nothing of HTTP:
 * each method takes the request's fields (JSON body or query string) as untrusted values and validates them.
 *
 * A trace lives in an experiment, which must exist. Each trace gets the tag `mlflow.artifactLocation`
 * (`<experiment artifact location>/traces/<trace_id>/artifacts`), as MLflow's server sets it: MLflow's own clients
 * upload the spans there as `traces.json` after starting the trace. Spans sent inline are stored with the trace;
 * `getTrace` answers them, or else reads `traces.json` from the artifact store when the location is proxied.
 */
import {
  invalidParameter,
  invalidValue,
  notFound,
  parseJson,
  TRACE_ARTIFACT_LOCATION_TAG,
  TRACE_DATA_FILE,
  TRACE_LIMITS,
  type Trace,
  type TraceInfoV2,
  type TraceInfoV3,
  type TraceSpan,
  type TracingResponseOf,
} from "@slipway/protocol";
import type { ArtifactRepository } from "../../artifacts/artifact-repository.js";
import type { SqlDb } from "../../platform/db/sql-db.js";
import { decodePageToken, encodePageToken } from "../tracking/validation.js";
import { proxiedPath, type TrackingService } from "../tracking/tracking-service.js";
import { traceFilterSql, traceOrderSql } from "./trace-search.js";
import { SqlTraceStore, type StoredTrace, type TraceStore } from "./trace-store.js";
import {
  fields,
  formatDuration,
  listParam,
  parseExperimentIdField,
  parseKey,
  parseMaxResults,
  parseOptionalInt,
  parseStartTrace,
  parseTraceId,
  parseValue,
} from "./trace-validation.js";

export interface TraceServiceDeps {
  db: SqlDb;
  tracking: TrackingService;
  /** The proxied artifact store, for spans MLflow's clients uploaded as `traces.json`. */
  artifacts?: ArtifactRepository;
  store?: TraceStore;
}

export class TraceService {
  private readonly store: TraceStore;
  private readonly tracking: TrackingService;
  private readonly artifacts: ArtifactRepository | undefined;

  constructor(deps: TraceServiceDeps) {
    this.store = deps.store ?? new SqlTraceStore(deps.db);
    this.tracking = deps.tracking;
    this.artifacts = deps.artifacts;
  }

  /** StartTraceV3: stores the trace (info, tags, metadata and inline spans) in one transaction. */
  async startTraceV3(body: unknown): Promise<TracingResponseOf<"startTraceV3">> {
    const trace = parseStartTrace(body);
    const { experiment } = await this.tracking.getExperiment({ experiment_id: String(trace.experiment_id) });
    trace.tags.set(
      TRACE_ARTIFACT_LOCATION_TAG,
      `${experiment.artifact_location.replace(/\/+$/, "")}/traces/${trace.trace_id}/artifacts`,
    );
    if (!(await this.store.put(trace))) {
      throw invalidParameter(
        `Trace '${trace.trace_id}' already exists in another experiment; a trace cannot move to experiment ${trace.experiment_id}`,
      );
    }
    const [stored] = await this.store.get([trace.trace_id]);
    return { trace: { trace_info: toInfoV3(stored!) } };
  }

  /** GetTraceInfoV3. */
  async getTraceInfoV3(traceId: unknown): Promise<TracingResponseOf<"getTraceInfoV3">> {
    const trace = await this.require(parseTraceId(traceId));
    return { trace: { trace_info: toInfoV3(trace) } };
  }

  /** GetTrace: the info with its spans. */
  async getTrace(query: unknown): Promise<TracingResponseOf<"getTrace">> {
    const id = parseTraceId(fields(query).trace_id);
    const [trace] = await this.store.get([id], { withSpans: true });
    if (!trace) throw notFound(`Trace with ID '${id}' not found.`);
    return { trace: await this.full(trace) };
  }

  /** BatchGetTraces: the traces of these ids that exist, with their spans. */
  async batchGetTraces(query: unknown): Promise<TracingResponseOf<"batchGetTraces">> {
    const raw = listParam(fields(query).trace_ids, "trace_ids");
    if (raw.length === 0) throw invalidParameter("Missing value for required parameter 'trace_ids'.");
    if (raw.length > TRACE_LIMITS.maxBatch) {
      throw invalidParameter(`'trace_ids' holds ${raw.length} ids; at most ${TRACE_LIMITS.maxBatch} per call`);
    }
    const ids = raw.map((id, i) => parseTraceId(id, `trace_ids[${i}]`));
    const traces = await this.store.get(ids, { withSpans: true });
    return { traces: await Promise.all(traces.map((t) => this.full(t))) };
  }

  /** SearchTracesV3 over `locations` (MLflow experiments). */
  async searchTracesV3(body: unknown): Promise<TracingResponseOf<"searchTracesV3">> {
    const request = fields(body);
    const locations = listParam(request.locations, "locations");
    if (locations.length === 0) throw invalidParameter("Missing value for required parameter 'locations'.");
    const experimentIds = locations.map((location, i) => {
      const name = `locations[${i}]`;
      const l = fields(location, name);
      if (l.type !== undefined && l.type !== "MLFLOW_EXPERIMENT") {
        throw invalidValue(`${name}.type`, l.type, "MLFLOW_EXPERIMENT");
      }
      return parseExperimentIdField(
        fields(l.mlflow_experiment, `${name}.mlflow_experiment`).experiment_id,
        `${name}.mlflow_experiment.experiment_id`,
      );
    });
    const { traces, next_page_token } = await this.searchPage(experimentIds, request);
    return {
      ...(traces.length > 0 ? { traces: traces.map(toInfoV3) } : {}),
      ...(next_page_token === undefined ? {} : { next_page_token }),
    };
  }

  /** MLflow 2's search (GET /api/2.0/mlflow/traces), answering MLflow 2's TraceInfo. */
  async searchTraces(query: unknown): Promise<TracingResponseOf<"searchTraces">> {
    const request = fields(query);
    const raw = listParam(request.experiment_ids, "experiment_ids");
    if (raw.length === 0) throw invalidParameter("Missing value for required parameter 'experiment_ids'.");
    const experimentIds = raw.map((id, i) => parseExperimentIdField(id, `experiment_ids[${i}]`));
    const { traces, next_page_token } = await this.searchPage(experimentIds, request);
    return {
      ...(traces.length > 0 ? { traces: traces.map(toInfoV2) } : {}),
      ...(next_page_token === undefined ? {} : { next_page_token }),
    };
  }

  /** SetTraceTagV3. */
  async setTraceTag(traceId: unknown, body: unknown): Promise<Record<string, never>> {
    const id = parseTraceId(traceId);
    const request = fields(body);
    const key = parseKey(request.key, "key");
    const value = parseValue(request.value, "value");
    if (!(await this.store.setTag(id, key, value))) throw notFound(`Trace with ID '${id}' not found.`);
    return {};
  }

  /** DeleteTraceTagV3: the key may come in the body or the query string. */
  async deleteTraceTag(traceId: unknown, request: unknown): Promise<Record<string, never>> {
    const id = parseTraceId(traceId);
    const key = parseKey(fields(request).key, "key");
    await this.require(id);
    if (!(await this.store.deleteTag(id, key))) {
      throw notFound(`No trace tag with key '${key}' for trace with ID '${id}'`);
    }
    return {};
  }

  /** DeleteTraces (v2 and v3): by id (`request_ids`), or the oldest up to `max_timestamp_millis` (`max_traces` of them). */
  async deleteTraces(body: unknown): Promise<TracingResponseOf<"deleteTraces">> {
    const request = fields(body);
    const experimentId = parseExperimentIdField(request.experiment_id, "experiment_id");
    const maxTimestampMs = parseOptionalInt(request.max_timestamp_millis, "max_timestamp_millis", 0);
    const maxTraces = parseOptionalInt(request.max_traces, "max_traces", 1);
    const ids = request.request_ids === undefined ? undefined : listParam(request.request_ids, "request_ids");
    if ((maxTimestampMs === undefined) === (ids === undefined)) {
      throw invalidParameter("Exactly one of 'max_timestamp_millis' and 'request_ids' must be specified.");
    }
    if (ids !== undefined && maxTraces !== undefined) {
      throw invalidParameter("'max_traces' cannot be specified with 'request_ids'.");
    }
    if (ids !== undefined && ids.length > TRACE_LIMITS.maxBatch) {
      throw invalidParameter(`'request_ids' holds ${ids.length} ids; at most ${TRACE_LIMITS.maxBatch} per call`);
    }
    const traces_deleted = await this.store.delete({
      experimentId,
      ...(ids === undefined ? {} : { traceIds: ids.map((id, i) => parseTraceId(id, `request_ids[${i}]`)) }),
      ...(maxTimestampMs === undefined ? {} : { maxTimestampMs }),
      ...(maxTraces === undefined ? {} : { maxTraces }),
    });
    return { traces_deleted };
  }

  /** The experiment a trace belongs to (for authorization), or undefined when there is no such trace. */
  async experimentOf(traceId: string): Promise<string | undefined> {
    const id = await this.store.experimentOf(traceId);
    return id === undefined ? undefined : String(id);
  }

  private async require(id: string): Promise<StoredTrace> {
    const [trace] = await this.store.get([id]);
    if (!trace) throw notFound(`Trace with ID '${id}' not found.`);
    return trace;
  }

  private async searchPage(
    experimentIds: number[],
    request: Record<string, unknown>,
  ): Promise<{ traces: StoredTrace[]; next_page_token?: string }> {
    if (request.filter !== undefined && typeof request.filter !== "string") {
      throw invalidValue("filter", request.filter, "a string");
    }
    if (request.page_token !== undefined && typeof request.page_token !== "string") {
      throw invalidValue("page_token", request.page_token, "a string");
    }
    const limit = parseMaxResults(request.max_results);
    const offset = decodePageToken(request.page_token);
    const rows = await this.store.search({
      experimentIds: [...new Set(experimentIds)],
      where: traceFilterSql(request.filter),
      orderBy: traceOrderSql(listParam(request.order_by, "order_by")),
      limit: limit + 1,
      offset,
    });
    const traces = rows.slice(0, limit);
    return rows.length > limit ? { traces, next_page_token: encodePageToken(offset + limit) } : { traces };
  }

  private async full(trace: StoredTrace): Promise<Trace> {
    const spans = trace.spans !== null ? (parseJson(trace.spans) as TraceSpan[]) : await this.uploadedSpans(trace);
    return { trace_info: toInfoV3(trace), data: { spans } };
  }

  /** Spans an MLflow client uploaded as `traces.json` under the trace's proxied artifact location; none if absent. */
  private async uploadedSpans(trace: StoredTrace): Promise<TraceSpan[]> {
    const location = trace.tags.get(TRACE_ARTIFACT_LOCATION_TAG);
    if (!this.artifacts || location === undefined) return [];
    let dir: string | null;
    try {
      dir = proxiedPath(location);
    } catch {
      return [];
    }
    if (dir === null) return [];
    try {
      const { body, size } = await this.artifacts.get(`${dir}/${TRACE_DATA_FILE}`);
      if (size > TRACE_LIMITS.maxSpansBytes) {
        (body as { destroy?: () => void }).destroy?.();
        return [];
      }
      const parts: Buffer[] = [];
      for await (const chunk of body) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      const data = parseJson(Buffer.concat(parts).toString("utf8")) as { spans?: unknown };
      return Array.isArray(data.spans) ? (data.spans as TraceSpan[]) : [];
    } catch {
      return [];
    }
  }
}

function record(map: Map<string, string>): Record<string, string> {
  return Object.fromEntries(map);
}

export function toInfoV3(t: StoredTrace): TraceInfoV3 {
  return {
    trace_id: t.trace_id,
    ...(t.client_request_id === null ? {} : { client_request_id: t.client_request_id }),
    trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: String(t.experiment_id) } },
    ...(t.request_preview === null ? {} : { request_preview: t.request_preview }),
    ...(t.response_preview === null ? {} : { response_preview: t.response_preview }),
    request_time: new Date(t.request_time).toISOString(),
    ...(t.execution_time_ms === null ? {} : { execution_duration: formatDuration(t.execution_time_ms) }),
    state: t.state,
    trace_metadata: record(t.metadata),
    tags: record(t.tags),
  };
}

export function toInfoV2(t: StoredTrace): TraceInfoV2 {
  const pairs = (map: Map<string, string>) => [...map].map(([key, value]) => ({ key, value }));
  return {
    request_id: t.trace_id,
    experiment_id: String(t.experiment_id),
    timestamp_ms: t.request_time,
    ...(t.execution_time_ms === null ? {} : { execution_time_ms: t.execution_time_ms }),
    status: t.state === "STATE_UNSPECIFIED" ? "TRACE_STATUS_UNSPECIFIED" : t.state,
    request_metadata: pairs(t.metadata),
    tags: pairs(t.tags),
  };
}
