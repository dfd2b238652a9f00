/** MLflow model-registry entities as they travel on the wire (proto field names, int64 as JSON numbers). */
import { Type, type Static } from "@sinclair/typebox";

const Int64 = Type.Integer();
const KeyValue = (title: string) => Type.Object({ key: Type.String(), value: Type.String() }, { $id: title, title });

/** The stages of the (deprecated but still served) stage workflow, in MLflow's canonical spelling and order. */
export const MODEL_VERSION_STAGES = ["None", "Staging", "Production", "Archived"] as const;
export type ModelVersionStage = (typeof MODEL_VERSION_STAGES)[number];

export const ModelVersionStatus = Type.Union([
  Type.Literal("PENDING_REGISTRATION"),
  Type.Literal("FAILED_REGISTRATION"),
  Type.Literal("READY"),
]);
export type ModelVersionStatus = Static<typeof ModelVersionStatus>;

export const RegisteredModelTag = KeyValue("RegisteredModelTag");
export type RegisteredModelTag = Static<typeof RegisteredModelTag>;
export const ModelVersionTag = KeyValue("ModelVersionTag");
export type ModelVersionTag = Static<typeof ModelVersionTag>;

export const RegisteredModelAlias = Type.Object({ alias: Type.String(), version: Type.String() });
export type RegisteredModelAlias = Static<typeof RegisteredModelAlias>;

export const ModelVersion = Type.Object({
  name: Type.String(),
  /** Per-model increasing integer, as a string. */
  version: Type.String(),
  creation_timestamp: Int64,
  last_updated_timestamp: Int64,
  user_id: Type.Optional(Type.String()),
  /** `None`, `Staging`, `Production` or `Archived`. */
  current_stage: Type.String(),
  description: Type.Optional(Type.String()),
  source: Type.String(),
  run_id: Type.Optional(Type.String()),
  status: ModelVersionStatus,
  status_message: Type.Optional(Type.String()),
  tags: Type.Optional(Type.Array(ModelVersionTag)),
  run_link: Type.Optional(Type.String()),
  /** Names of the aliases pointing at this version. */
  aliases: Type.Optional(Type.Array(Type.String())),
  /** The MLflow 3 logged model this version was registered from, when one was given. */
  model_id: Type.Optional(Type.String()),
});
export type ModelVersion = Static<typeof ModelVersion>;

export const RegisteredModel = Type.Object({
  name: Type.String(),
  creation_timestamp: Int64,
  last_updated_timestamp: Int64,
  user_id: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  /** The latest version in each stage that has one. */
  latest_versions: Type.Optional(Type.Array(ModelVersion)),
  tags: Type.Optional(Type.Array(RegisteredModelTag)),
  aliases: Type.Optional(Type.Array(RegisteredModelAlias)),
  deployment_job_id: Type.Optional(Type.String()),
});
export type RegisteredModel = Static<typeof RegisteredModel>;
