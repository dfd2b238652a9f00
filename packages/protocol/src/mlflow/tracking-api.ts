/**
 * The MLflow tracking REST API as data: every route's method, path, request and response schema.
 * The server mounts it, the SDK derives its typed client from it, and the OpenAPI document is built from it.
 */
import { Type, type Static, type TObject } from "@sinclair/typebox";
import {
  DatasetInput,
  Experiment,
  ExperimentTag,
  FileInfo,
  Metric,
  MetricWithRunId,
  ModelInput,
  Param,
  Run,
  RunInfo,
  RunStatus,
  RunTag,
  ViewType,
} from "./entities.js";

const Str = Type.String();
const OptStr = Type.Optional(Type.String());
const OptInt = Type.Optional(Type.Integer());
const Empty = Type.Object({});

export interface RouteSpec<Req extends TObject = TObject, Res extends TObject = TObject> {
  /** Method name on the SDK client, as in MLflow's proto service. */
  readonly name: string;
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Path below `/api/<apiVersion>` and `/ajax-api/<apiVersion>`. */
  readonly path: string;
  /** The API version of the path's prefix (MLflow 3's trace routes are under `/api/3.0`); default "2.0". */
  readonly apiVersion?: "2.0" | "3.0";
  readonly request: Req;
  readonly response: Res;
  /** Extra methods the same handler answers (MLflow mounts some RPCs on GET and POST). */
  readonly alsoMethods?: readonly ("GET" | "POST")[];
}

function route<Req extends TObject, Res extends TObject>(spec: RouteSpec<Req, Res>): RouteSpec<Req, Res> {
  return spec;
}

export const trackingRoutes = {
  createExperiment: route({
    name: "createExperiment",
    method: "POST",
    path: "/mlflow/experiments/create",
    request: Type.Object({ name: Str, artifact_location: OptStr, tags: Type.Optional(Type.Array(ExperimentTag)) }),
    response: Type.Object({ experiment_id: Str }),
  }),
  searchExperiments: route({
    name: "searchExperiments",
    method: "POST",
    alsoMethods: ["GET"],
    path: "/mlflow/experiments/search",
    request: Type.Object({
      max_results: OptInt,
      page_token: OptStr,
      filter: OptStr,
      order_by: Type.Optional(Type.Array(Str)),
      view_type: Type.Optional(ViewType),
    }),
    response: Type.Object({ experiments: Type.Optional(Type.Array(Experiment)), next_page_token: OptStr }),
  }),
  getExperiment: route({
    name: "getExperiment",
    method: "GET",
    path: "/mlflow/experiments/get",
    request: Type.Object({ experiment_id: Str }),
    response: Type.Object({ experiment: Experiment }),
  }),
  getExperimentByName: route({
    name: "getExperimentByName",
    method: "GET",
    path: "/mlflow/experiments/get-by-name",
    request: Type.Object({ experiment_name: Str }),
    response: Type.Object({ experiment: Experiment }),
  }),
  deleteExperiment: route({
    name: "deleteExperiment",
    method: "POST",
    path: "/mlflow/experiments/delete",
    request: Type.Object({ experiment_id: Str }),
    response: Empty,
  }),
  restoreExperiment: route({
    name: "restoreExperiment",
    method: "POST",
    path: "/mlflow/experiments/restore",
    request: Type.Object({ experiment_id: Str }),
    response: Empty,
  }),
  updateExperiment: route({
    name: "updateExperiment",
    method: "POST",
    path: "/mlflow/experiments/update",
    request: Type.Object({ experiment_id: Str, new_name: OptStr }),
    response: Empty,
  }),
  setExperimentTag: route({
    name: "setExperimentTag",
    method: "POST",
    path: "/mlflow/experiments/set-experiment-tag",
    request: Type.Object({ experiment_id: Str, key: Str, value: Str }),
    response: Empty,
  }),
  deleteExperimentTag: route({
    name: "deleteExperimentTag",
    method: "POST",
    path: "/mlflow/experiments/delete-experiment-tag",
    request: Type.Object({ experiment_id: Str, key: Str }),
    response: Empty,
  }),
  createRun: route({
    name: "createRun",
    method: "POST",
    path: "/mlflow/runs/create",
    request: Type.Object({
      experiment_id: OptStr,
      user_id: OptStr,
      run_name: OptStr,
      start_time: OptInt,
      tags: Type.Optional(Type.Array(RunTag)),
    }),
    response: Type.Object({ run: Run }),
  }),
  updateRun: route({
    name: "updateRun",
    method: "POST",
    path: "/mlflow/runs/update",
    request: Type.Object({
      run_id: OptStr,
      run_uuid: OptStr,
      status: Type.Optional(RunStatus),
      end_time: OptInt,
      run_name: OptStr,
    }),
    response: Type.Object({ run_info: RunInfo }),
  }),
  deleteRun: route({
    name: "deleteRun",
    method: "POST",
    path: "/mlflow/runs/delete",
    request: Type.Object({ run_id: Str }),
    response: Empty,
  }),
  restoreRun: route({
    name: "restoreRun",
    method: "POST",
    path: "/mlflow/runs/restore",
    request: Type.Object({ run_id: Str }),
    response: Empty,
  }),
  getRun: route({
    name: "getRun",
    method: "GET",
    path: "/mlflow/runs/get",
    request: Type.Object({ run_id: OptStr, run_uuid: OptStr }),
    response: Type.Object({ run: Run }),
  }),
  searchRuns: route({
    name: "searchRuns",
    method: "POST",
    path: "/mlflow/runs/search",
    request: Type.Object({
      experiment_ids: Type.Optional(Type.Array(Str)),
      filter: OptStr,
      run_view_type: Type.Optional(ViewType),
      max_results: OptInt,
      order_by: Type.Optional(Type.Array(Str)),
      page_token: OptStr,
    }),
    response: Type.Object({ runs: Type.Optional(Type.Array(Run)), next_page_token: OptStr }),
  }),
  logMetric: route({
    name: "logMetric",
    method: "POST",
    path: "/mlflow/runs/log-metric",
    request: Type.Object({
      run_id: OptStr,
      run_uuid: OptStr,
      key: Str,
      value: Type.Number(),
      timestamp: Type.Integer(),
      step: OptInt,
      model_id: OptStr,
      dataset_name: OptStr,
      dataset_digest: OptStr,
    }),
    response: Empty,
  }),
  logParam: route({
    name: "logParam",
    method: "POST",
    path: "/mlflow/runs/log-parameter",
    request: Type.Object({ run_id: OptStr, run_uuid: OptStr, key: Str, value: Str }),
    response: Empty,
  }),
  setTag: route({
    name: "setTag",
    method: "POST",
    path: "/mlflow/runs/set-tag",
    request: Type.Object({ run_id: OptStr, run_uuid: OptStr, key: Str, value: Str }),
    response: Empty,
  }),
  deleteTag: route({
    name: "deleteTag",
    method: "POST",
    path: "/mlflow/runs/delete-tag",
    request: Type.Object({ run_id: Str, key: Str }),
    response: Empty,
  }),
  logBatch: route({
    name: "logBatch",
    method: "POST",
    path: "/mlflow/runs/log-batch",
    request: Type.Object({
      run_id: Str,
      metrics: Type.Optional(Type.Array(Metric)),
      params: Type.Optional(Type.Array(Param)),
      tags: Type.Optional(Type.Array(RunTag)),
    }),
    response: Empty,
  }),
  logInputs: route({
    name: "logInputs",
    method: "POST",
    path: "/mlflow/runs/log-inputs",
    request: Type.Object({
      run_id: Str,
      datasets: Type.Optional(Type.Array(DatasetInput)),
      models: Type.Optional(Type.Array(ModelInput)),
    }),
    response: Empty,
  }),
  logModel: route({
    name: "logModel",
    method: "POST",
    path: "/mlflow/runs/log-model",
    request: Type.Object({ run_id: Str, model_json: Str }),
    response: Empty,
  }),
  getMetricHistory: route({
    name: "getMetricHistory",
    method: "GET",
    path: "/mlflow/metrics/get-history",
    request: Type.Object({
      run_id: OptStr,
      run_uuid: OptStr,
      metric_key: Str,
      page_token: OptStr,
      max_results: OptInt,
    }),
    response: Type.Object({ metrics: Type.Optional(Type.Array(Metric)), next_page_token: OptStr }),
  }),
  getMetricHistoryBulkInterval: route({
    name: "getMetricHistoryBulkInterval",
    method: "GET",
    path: "/mlflow/metrics/get-history-bulk-interval",
    request: Type.Object({
      run_ids: Type.Array(Str),
      metric_key: Str,
      start_step: OptInt,
      end_step: OptInt,
      max_results: OptInt,
    }),
    response: Type.Object({ metrics: Type.Optional(Type.Array(MetricWithRunId)) }),
  }),
  listArtifacts: route({
    name: "listArtifacts",
    method: "GET",
    path: "/mlflow/artifacts/list",
    request: Type.Object({ run_id: OptStr, run_uuid: OptStr, path: OptStr, page_token: OptStr }),
    response: Type.Object({
      root_uri: OptStr,
      files: Type.Optional(Type.Array(FileInfo)),
      next_page_token: OptStr,
    }),
  }),
} as const;

export type TrackingRoutes = typeof trackingRoutes;
export type TrackingMethod = keyof TrackingRoutes;
export type RequestOf<M extends TrackingMethod> = Static<TrackingRoutes[M]["request"]>;
export type ResponseOf<M extends TrackingMethod> = Static<TrackingRoutes[M]["response"]>;

/** Every tracking operation as a typed async method: the server's service and the SDK's client both have this shape. */
export type TrackingApi = { [M in TrackingMethod]: (request: RequestOf<M>) => Promise<ResponseOf<M>> };
