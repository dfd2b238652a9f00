/**
 * MLflow Tracing's REST API as a route table: MLflow 3's trace endpoints (`/api/3.0/mlflow/traces...`, `apiVersion`
 * "3.0") and the MLflow 2 search and delete that older clients list traces with (`/api/2.0/mlflow/traces...`).
 *
 * Wire format of MLflow 3 (protos/service.proto, mlflow/entities/trace_info.py): a trace's `request_time` is a
 * protobuf Timestamp in JSON (RFC 3339 text, `2026-11-27T14:00:00.123Z`), its `execution_duration` a protobuf
 * Duration in JSON (`"1.5s"`), `state` one of {@link TRACE_STATES}, `trace_metadata` and `tags` string maps.
 *
 * Spans are free JSON (OpenTelemetry-like objects, as MLflow's `Span.to_dict` writes them), which the generic
 * route-table validator does not check: the server validates these requests itself, naming the offending field
 * (`trace.data.spans[3]`), within {@link TRACE_LIMITS}. MLflow's own clients send only `trace_info` and then upload
 * the spans as `traces.json` to the artifact location the server names in the `mlflow.artifactLocation` tag; Slipway
 * also takes them inline (`trace.data.spans`), in the same request, stored atomically with the trace.
 */
import { Type, type Static, type TObject } from "@sinclair/typebox";
import type { RouteSpec } from "./tracking-api.js";

const Str = Type.String();
const OptStr = Type.Optional(Type.String());
const OptInt = Type.Optional(Type.Integer());
const StrMap = Type.Record(Type.String(), Type.String());

function route<Req extends TObject, Res extends TObject>(spec: RouteSpec<Req, Res>): RouteSpec<Req, Res> {
  return spec;
}

export const TRACE_LIMITS = {
  /** Largest request body of the trace routes, in bytes (a trace with its spans). */
  maxBodyBytes: 16 * 1024 * 1024,
  /** Largest serialised `spans` list of one trace, in bytes. */
  maxSpansBytes: 12 * 1024 * 1024,
  /** Most spans in one trace. */
  maxSpans: 10_000,
  /** Characters of a trace id and of a client request id. */
  maxIdLength: 256,
  /** Characters of a tag or metadata key, and of a value. */
  maxKeyLength: 250,
  maxValueLength: 8000,
  /** Tags plus metadata entries of one trace. */
  maxEntries: 1000,
  /** Characters of `request_preview` and `response_preview` (longer ones are cut, as MLflow does). */
  maxPreviewLength: 10_000,
  defaultMaxResults: 100,
  maxMaxResults: 1000,
  /** Trace ids per batchGet and per delete-traces `request_ids`. */
  maxBatch: 1000,
} as const;

/** The tag in which the server tells MLflow's clients where to upload a trace's spans (`traces.json`). */
export const TRACE_ARTIFACT_LOCATION_TAG = "mlflow.artifactLocation";
/** The file MLflow's clients upload a trace's spans to, under its artifact location. */
export const TRACE_DATA_FILE = "traces.json";

export const TRACE_STATES = ["STATE_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS"] as const;
export type TraceState = (typeof TRACE_STATES)[number];

export const TraceLocation = Type.Object({
  type: Type.Union([
    Type.Literal("MLFLOW_EXPERIMENT"),
    Type.Literal("INFERENCE_TABLE"),
    Type.Literal("TRACE_LOCATION_TYPE_UNSPECIFIED"),
  ]),
  mlflow_experiment: Type.Optional(Type.Object({ experiment_id: Str })),
});
export type TraceLocation = Static<typeof TraceLocation>;

/** One span: free JSON (trace_id, span_id, parent_span_id, name, start_time_unix_nano, attributes, status, ...). */
export const TraceSpan = Type.Record(Type.String(), Type.Unknown());
export type TraceSpan = Static<typeof TraceSpan>;

export const TraceInfoV3 = Type.Object({
  trace_id: Str,
  client_request_id: OptStr,
  trace_location: TraceLocation,
  request_preview: OptStr,
  response_preview: OptStr,
  /** RFC 3339 (protobuf Timestamp JSON). */
  request_time: Str,
  /** Seconds with an `s` suffix (protobuf Duration JSON), e.g. `"0.250s"`. */
  execution_duration: OptStr,
  state: Type.Union(TRACE_STATES.map((s) => Type.Literal(s))),
  trace_metadata: Type.Optional(StrMap),
  tags: Type.Optional(StrMap),
});
export type TraceInfoV3 = Static<typeof TraceInfoV3>;

export const Trace = Type.Object({
  trace_info: TraceInfoV3,
  data: Type.Optional(Type.Object({ spans: Type.Array(TraceSpan) })),
});
export type Trace = Static<typeof Trace>;

const KeyValue = Type.Object({ key: Str, value: Str });

/** MLflow 2's trace info (`search traces` v2). */
export const TraceInfoV2 = Type.Object({
  request_id: Str,
  experiment_id: Str,
  timestamp_ms: Type.Integer(),
  execution_time_ms: OptInt,
  status: Type.Union(["TRACE_STATUS_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS"].map((s) => Type.Literal(s))),
  request_metadata: Type.Optional(Type.Array(KeyValue)),
  tags: Type.Optional(Type.Array(KeyValue)),
});
export type TraceInfoV2 = Static<typeof TraceInfoV2>;

const Empty = Type.Object({});
const DeleteTracesRequest = Type.Object({
  experiment_id: Str,
  max_timestamp_millis: OptInt,
  max_traces: OptInt,
  request_ids: Type.Optional(Type.Array(Str)),
});
const DeleteTracesResponse = Type.Object({ traces_deleted: Type.Integer() });
const SearchOptions = {
  filter: OptStr,
  max_results: OptInt,
  order_by: Type.Optional(Type.Array(Str)),
  page_token: OptStr,
};

export const tracingRoutes = {
  startTraceV3: route({
    name: "startTraceV3",
    method: "POST",
    apiVersion: "3.0",
    path: "/mlflow/traces",
    request: Type.Object({
      trace: Type.Object({
        trace_info: TraceInfoV3,
        data: Type.Optional(Type.Object({ spans: Type.Array(TraceSpan) })),
      }),
    }),
    response: Type.Object({ trace: Type.Object({ trace_info: TraceInfoV3 }) }),
  }),
  getTraceInfoV3: route({
    name: "getTraceInfoV3",
    method: "GET",
    apiVersion: "3.0",
    path: "/mlflow/traces/:trace_id",
    request: Type.Object({}),
    response: Type.Object({ trace: Type.Object({ trace_info: TraceInfoV3 }) }),
  }),
  getTrace: route({
    name: "getTrace",
    method: "GET",
    apiVersion: "3.0",
    path: "/mlflow/traces/get",
    request: Type.Object({ trace_id: Str, allow_partial: Type.Optional(Type.Boolean()) }),
    response: Type.Object({ trace: Trace }),
  }),
  batchGetTraces: route({
    name: "batchGetTraces",
    method: "GET",
    apiVersion: "3.0",
    path: "/mlflow/traces/batchGet",
    request: Type.Object({ trace_ids: Type.Array(Str) }),
    response: Type.Object({ traces: Type.Array(Trace) }),
  }),
  searchTracesV3: route({
    name: "searchTracesV3",
    method: "POST",
    apiVersion: "3.0",
    path: "/mlflow/traces/search",
    request: Type.Object({ locations: Type.Optional(Type.Array(TraceLocation)), ...SearchOptions }),
    response: Type.Object({ traces: Type.Optional(Type.Array(TraceInfoV3)), next_page_token: OptStr }),
  }),
  setTraceTagV3: route({
    name: "setTraceTagV3",
    method: "PATCH",
    apiVersion: "3.0",
    path: "/mlflow/traces/:trace_id/tags",
    request: Type.Object({ key: Str, value: Str }),
    response: Empty,
  }),
  deleteTraceTagV3: route({
    name: "deleteTraceTagV3",
    method: "DELETE",
    apiVersion: "3.0",
    path: "/mlflow/traces/:trace_id/tags",
    request: Type.Object({ key: Str }),
    response: Empty,
  }),
  deleteTracesV3: route({
    name: "deleteTracesV3",
    method: "POST",
    apiVersion: "3.0",
    path: "/mlflow/traces/delete-traces",
    request: DeleteTracesRequest,
    response: DeleteTracesResponse,
  }),
  searchTraces: route({
    name: "searchTraces",
    method: "GET",
    path: "/mlflow/traces",
    request: Type.Object({ experiment_ids: Type.Optional(Type.Array(Str)), ...SearchOptions }),
    response: Type.Object({ traces: Type.Optional(Type.Array(TraceInfoV2)), next_page_token: OptStr }),
  }),
  deleteTraces: route({
    name: "deleteTraces",
    method: "POST",
    path: "/mlflow/traces/delete-traces",
    request: DeleteTracesRequest,
    response: DeleteTracesResponse,
  }),
} as const;

export type TracingRoutes = typeof tracingRoutes;
export type TracingMethod = keyof TracingRoutes;
export type TracingRequestOf<M extends TracingMethod> = Static<TracingRoutes[M]["request"]>;
export type TracingResponseOf<M extends TracingMethod> = Static<TracingRoutes[M]["response"]>;

/** The full path of a tracing route below the host (`/api/3.0/mlflow/traces/search`), path parameters still `:x`. */
export function tracingPath(spec: RouteSpec): string {
  return `/api/${spec.apiVersion ?? "2.0"}${spec.path}`;
}
