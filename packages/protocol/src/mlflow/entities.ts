/** MLflow tracking entities as they travel on the wire (proto field names, int64 as JSON numbers). */
import { Type, type Static } from "@sinclair/typebox";

const Int64 = Type.Integer();
const KeyValue = (title: string) => Type.Object({ key: Type.String(), value: Type.String() }, { $id: title, title });

export const ViewType = Type.Union([Type.Literal("ACTIVE_ONLY"), Type.Literal("DELETED_ONLY"), Type.Literal("ALL")]);
export type ViewType = Static<typeof ViewType>;

export const RunStatus = Type.Union([
  Type.Literal("RUNNING"),
  Type.Literal("SCHEDULED"),
  Type.Literal("FINISHED"),
  Type.Literal("FAILED"),
  Type.Literal("KILLED"),
]);
export type RunStatus = Static<typeof RunStatus>;
export const RUN_STATUSES: readonly RunStatus[] = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];

export const ExperimentTag = KeyValue("ExperimentTag");
export type ExperimentTag = Static<typeof ExperimentTag>;
export const RunTag = KeyValue("RunTag");
export type RunTag = Static<typeof RunTag>;
export const Param = KeyValue("Param");
export type Param = Static<typeof Param>;

export const Experiment = Type.Object({
  experiment_id: Type.String(),
  name: Type.String(),
  artifact_location: Type.String(),
  lifecycle_stage: Type.String(),
  last_update_time: Type.Optional(Int64),
  creation_time: Type.Optional(Int64),
  tags: Type.Optional(Type.Array(ExperimentTag)),
});
export type Experiment = Static<typeof Experiment>;

export const Metric = Type.Object({
  key: Type.String(),
  value: Type.Number(),
  timestamp: Int64,
  step: Type.Optional(Int64),
  dataset_name: Type.Optional(Type.String()),
  dataset_digest: Type.Optional(Type.String()),
  model_id: Type.Optional(Type.String()),
  run_id: Type.Optional(Type.String()),
});
export type Metric = Static<typeof Metric>;

export const MetricWithRunId = Type.Object({
  key: Type.String(),
  value: Type.Number(),
  timestamp: Int64,
  step: Type.Optional(Int64),
  run_id: Type.String(),
});
export type MetricWithRunId = Static<typeof MetricWithRunId>;

export const RunInfo = Type.Object({
  run_id: Type.String(),
  run_uuid: Type.String(),
  run_name: Type.String(),
  experiment_id: Type.String(),
  user_id: Type.String(),
  status: RunStatus,
  start_time: Int64,
  end_time: Type.Optional(Int64),
  artifact_uri: Type.String(),
  lifecycle_stage: Type.String(),
});
export type RunInfo = Static<typeof RunInfo>;

export const InputTag = Type.Object({ key: Type.String(), value: Type.String() });
export type InputTag = Static<typeof InputTag>;

export const Dataset = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  source_type: Type.String(),
  source: Type.String(),
  schema: Type.Optional(Type.String()),
  profile: Type.Optional(Type.String()),
});
export type Dataset = Static<typeof Dataset>;

export const DatasetInput = Type.Object({
  tags: Type.Optional(Type.Array(InputTag)),
  dataset: Dataset,
});
export type DatasetInput = Static<typeof DatasetInput>;

export const ModelInput = Type.Object({ model_id: Type.String() });
export type ModelInput = Static<typeof ModelInput>;

export const RunData = Type.Object({
  metrics: Type.Optional(Type.Array(Metric)),
  params: Type.Optional(Type.Array(Param)),
  tags: Type.Optional(Type.Array(RunTag)),
});
export type RunData = Static<typeof RunData>;

export const RunInputs = Type.Object({
  dataset_inputs: Type.Optional(Type.Array(DatasetInput)),
  model_inputs: Type.Optional(Type.Array(ModelInput)),
});
export type RunInputs = Static<typeof RunInputs>;

export const Run = Type.Object({
  info: RunInfo,
  data: RunData,
  inputs: Type.Optional(RunInputs),
});
export type Run = Static<typeof Run>;

export const FileInfo = Type.Object({
  path: Type.String(),
  is_dir: Type.Boolean(),
  file_size: Type.Optional(Int64),
});
export type FileInfo = Static<typeof FileInfo>;
