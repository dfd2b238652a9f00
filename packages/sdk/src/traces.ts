/**
 * MLflow Tracing for a `TrackingClient` (MLflow 3's `/api/3.0/mlflow/traces...`, see `tracingRoutes` in protocol):
 * start a trace with its spans in one call, read it back, search, tag and delete traces.
 *
 * ```ts
 * const info = await startTrace(client, { trace_info: { trace_id, trace_location: experimentLocation("1"), ... },
 *   data: { spans } });
 * const { traces } = await searchTraces(client, { experimentIds: ["1"], filter: "trace.status = 'ERROR'" });
 * ```
 */
import {
  tracingPath,
  tracingRoutes,
  type Trace,
  type TraceInfoV3,
  type TraceLocation,
  type TracingMethod,
  type TracingRequestOf,
  type TracingResponseOf,
} from "@slipway/protocol";
import { requestJson, type CallOptions, type TrackingClientBase } from "./client.js";

/** The location of traces kept in an MLflow experiment. */
export function experimentLocation(experimentId: string): TraceLocation {
  return { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } };
}

/**
 * Calls one tracing route by name. GET routes send a query string, the rest JSON; `traceId` fills the path's
 * `:trace_id` (GetTraceInfoV3, the tag routes).
 */
export async function callTracing<M extends TracingMethod>(
  client: TrackingClientBase,
  method: M,
  request: TracingRequestOf<M>,
  options: CallOptions & { traceId?: string } = {},
): Promise<TracingResponseOf<M>> {
  const route = tracingRoutes[method];
  let path = tracingPath(route);
  if (path.includes(":trace_id")) {
    if (options.traceId === undefined) throw new TypeError(`${method} needs options.traceId`);
    path = path.replace(":trace_id", encodeURIComponent(options.traceId));
  }
  return requestJson<TracingResponseOf<M>>(client, route.method, path, request, options);
}

/** Starts (records) a trace, with its spans when `trace.data` holds them; answers the stored info. */
export async function startTrace(
  client: TrackingClientBase,
  trace: Trace,
  options: CallOptions = {},
): Promise<TraceInfoV3> {
  return (await callTracing(client, "startTraceV3", { trace }, options)).trace.trace_info;
}

/** A trace with its spans. */
export async function getTrace(client: TrackingClientBase, traceId: string, options: CallOptions = {}): Promise<Trace> {
  return (await callTracing(client, "getTrace", { trace_id: traceId }, options)).trace;
}

/** A trace's info, without its spans. */
export async function getTraceInfo(
  client: TrackingClientBase,
  traceId: string,
  options: CallOptions = {},
): Promise<TraceInfoV3> {
  return (await callTracing(client, "getTraceInfoV3", {}, { ...options, traceId })).trace.trace_info;
}

export interface SearchTracesQuery {
  experimentIds: readonly string[];
  /** MLflow's trace filter, e.g. `trace.status = 'OK' AND tag.model = 'tiny'`. */
  filter?: string;
  maxResults?: number;
  orderBy?: readonly string[];
  pageToken?: string;
}

/** One page of traces of these experiments (newest first unless `orderBy` says otherwise). */
export async function searchTraces(
  client: TrackingClientBase,
  query: SearchTracesQuery,
  options: CallOptions = {},
): Promise<{ traces: TraceInfoV3[]; next_page_token?: string }> {
  const response = await callTracing(
    client,
    "searchTracesV3",
    {
      locations: query.experimentIds.map(experimentLocation),
      ...(query.filter === undefined ? {} : { filter: query.filter }),
      ...(query.maxResults === undefined ? {} : { max_results: query.maxResults }),
      ...(query.orderBy === undefined ? {} : { order_by: [...query.orderBy] }),
      ...(query.pageToken === undefined ? {} : { page_token: query.pageToken }),
    },
    options,
  );
  return {
    traces: response.traces ?? [],
    ...(response.next_page_token === undefined ? {} : { next_page_token: response.next_page_token }),
  };
}

export async function setTraceTag(
  client: TrackingClientBase,
  traceId: string,
  tag: { key: string; value: string },
  options: CallOptions = {},
): Promise<void> {
  await callTracing(client, "setTraceTagV3", tag, { ...options, traceId });
}

export async function deleteTraceTag(
  client: TrackingClientBase,
  traceId: string,
  key: string,
  options: CallOptions = {},
): Promise<void> {
  await callTracing(client, "deleteTraceTagV3", { key }, { ...options, traceId });
}
