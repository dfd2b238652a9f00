/**
 * Slipway's inference log and feedback API (monitoring's data source), as a route table in the same shape as the
 * MLflow tables. Paths are below `/api/2.0` and `/ajax-api/2.0`, in the `slipway/` namespace.
 *
 * Model servers send sampled request/prediction rows (`logInferences`); ground-truth labels arrive later, keyed by
 * the same `(request_id, row_index)` (`addFeedback`), before or after the row they label. Reads join the two.
 *
 * `inputs`, `outputs` and `label` are free JSON, which the generic route-table validator does not check; the server
 * validates these requests itself, naming the offending field (`records[3].inputs`), with the limits below.
 */
import { Type, type Static, type TObject } from "@sinclair/typebox";
import type { RouteSpec } from "../mlflow/tracking-api.js";

const Str = Type.String();
const OptStr = Type.Optional(Type.String());
const OptInt = Type.Optional(Type.Integer());

function route<Req extends TObject, Res extends TObject>(spec: RouteSpec<Req, Res>): RouteSpec<Req, Res> {
  return spec;
}

export const INFERENCE_LOG_LIMITS = {
  /** Records per `logInferences` call, and labels per `addFeedback` call. */
  maxBatch: 5000,
  defaultMaxResults: 1000,
  maxMaxResults: 10_000,
  /** Characters of `request_id`, `model_name`, `model_version` and `server`. */
  maxIdLength: 512,
  /** `row_index` is a 32-bit signed integer column. */
  maxRowIndex: 2_147_483_647,
  /** `status` is an HTTP status code. */
  minStatus: 100,
  maxStatus: 599,
  defaultStatus: 200,
} as const;

/** An HTTP status code. */
const Status = Type.Integer({ minimum: INFERENCE_LOG_LIMITS.minStatus, maximum: INFERENCE_LOG_LIMITS.maxStatus });

/** One logged row, as a model server sends it. */
export const InferenceLogRecordInput = Type.Object({
  /** The request's id; with `row_index`, the row's key. A key already logged is ignored (idempotent retries). */
  request_id: Str,
  /** The row's position in its request's batch (default 0). */
  row_index: Type.Optional(Type.Integer({ minimum: 0 })),
  model_name: Str,
  model_version: Str,
  /** When the prediction was made, epoch milliseconds. */
  timestamp_ms: Type.Integer({ minimum: 0 }),
  /** The row's features: a JSON object, feature name → value. */
  inputs: Type.Record(Type.String(), Type.Unknown()),
  /** The row's prediction: any JSON value (null included). */
  outputs: Type.Unknown(),
  /**
   * The HTTP status the request was answered with (default 200). A failed request (4xx, 5xx) is logged as one record,
   * `row_index` 0, `inputs` `{}` and `outputs` null; monitors leave rows other than 200 out of drift and performance
   * and count them in the error rates.
   */
  status: Type.Optional(Status),
  latency_ms: Type.Optional(Type.Number({ minimum: 0 })),
  /** Which model server (replica) answered. */
  server: OptStr,
});
export type InferenceLogRecordInput = Static<typeof InferenceLogRecordInput>;

/** One logged row as reads return it, with its label when one arrived. */
export const InferenceLogRecord = Type.Object({
  request_id: Str,
  row_index: Type.Integer({ minimum: 0 }),
  model_name: Str,
  model_version: Str,
  timestamp_ms: Type.Integer({ minimum: 0 }),
  inputs: Type.Record(Type.String(), Type.Unknown()),
  outputs: Type.Unknown(),
  /** The HTTP status the request was answered with (200 for a prediction). */
  status: Status,
  latency_ms: Type.Optional(Type.Number()),
  server: OptStr,
  /** The ground truth (the last one received for this key), when any arrived. */
  label: Type.Optional(Type.Unknown()),
  /** The label's timestamp: the one the client sent, else when the server received it. */
  label_timestamp_ms: OptInt,
});
export type InferenceLogRecord = Static<typeof InferenceLogRecord>;

/** One ground-truth label. A second label for the same key replaces the first (last write wins). */
export const FeedbackLabel = Type.Object({
  request_id: Str,
  /** Default 0. */
  row_index: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Any JSON value but null. */
  label: Type.Unknown(),
  /** When the label was observed, epoch milliseconds (default: when the server receives it). */
  timestamp_ms: OptInt,
});
export type FeedbackLabel = Static<typeof FeedbackLabel>;

const SearchFilter = {
  model_name: Str,
  model_version: OptStr,
  /** Inclusive lower bound on `timestamp_ms`. */
  start_ms: OptInt,
  /** Exclusive upper bound on `timestamp_ms`. */
  end_ms: OptInt,
};

export const inferenceLogRoutes = {
  logInferences: route({
    name: "logInferences",
    method: "POST",
    path: "/slipway/inference-log",
    request: Type.Object({ records: Type.Array(InferenceLogRecordInput) }),
    response: Type.Object({
      /** Records stored by this call. */
      inserted: Type.Integer(),
      /** Records whose key was already logged (or repeated within the call), left as they were. */
      duplicates: Type.Integer(),
    }),
  }),
  addFeedback: route({
    name: "addFeedback",
    method: "POST",
    path: "/slipway/feedback",
    /** Either one label (`request_id`, `row_index`, `label`, `timestamp_ms`) or a batch of them (`labels`). */
    request: Type.Object({
      request_id: OptStr,
      row_index: Type.Optional(Type.Integer({ minimum: 0 })),
      label: Type.Optional(Type.Unknown()),
      timestamp_ms: OptInt,
      labels: Type.Optional(Type.Array(FeedbackLabel)),
    }),
    response: Type.Object({ accepted: Type.Integer() }),
  }),
  searchInferenceLog: route({
    name: "searchInferenceLog",
    method: "GET",
    path: "/slipway/inference-log/search",
    request: Type.Object({
      ...SearchFilter,
      /** Only rows that have a label. */
      labelled_only: Type.Optional(Type.Boolean()),
      max_results: OptInt,
      page_token: OptStr,
    }),
    response: Type.Object({
      /** Ordered by (timestamp_ms, request_id, row_index). */
      records: Type.Array(InferenceLogRecord),
      next_page_token: OptStr,
    }),
  }),
  getInferenceLogStats: route({
    name: "getInferenceLogStats",
    method: "GET",
    path: "/slipway/inference-log/stats",
    request: Type.Object(SearchFilter),
    response: Type.Object({
      records: Type.Integer(),
      labelled: Type.Integer(),
      /** Absent when no record matches. */
      first_timestamp_ms: OptInt,
      last_timestamp_ms: OptInt,
    }),
  }),
} as const;

export type InferenceLogRoutes = typeof inferenceLogRoutes;
export type InferenceLogMethod = keyof InferenceLogRoutes;
export type LogInferencesRequest = Static<InferenceLogRoutes["logInferences"]["request"]>;
export type LogInferencesResponse = Static<InferenceLogRoutes["logInferences"]["response"]>;
export type AddFeedbackRequest = Static<InferenceLogRoutes["addFeedback"]["request"]>;
export type AddFeedbackResponse = Static<InferenceLogRoutes["addFeedback"]["response"]>;
export type SearchInferenceLogRequest = Static<InferenceLogRoutes["searchInferenceLog"]["request"]>;
export type SearchInferenceLogResponse = Static<InferenceLogRoutes["searchInferenceLog"]["response"]>;
export type InferenceLogStatsRequest = Static<InferenceLogRoutes["getInferenceLogStats"]["request"]>;
export type InferenceLogStatsResponse = Static<InferenceLogRoutes["getInferenceLogStats"]["response"]>;
