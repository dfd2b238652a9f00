/**
 * The MLflow model-registry REST API (`ModelRegistryService`) as data: every route's method, path,
 * request and response schema, in the same shape as the tracking route table. DELETE requests carry a
 * JSON body, as MLflow's clients send them; GET requests are read from the query string.
 */
import { Type, type Static, type TObject } from "@sinclair/typebox";
import type { RouteSpec } from "./tracking-api.js";
import { ModelVersion, ModelVersionTag, RegisteredModel, RegisteredModelTag } from "./registry-entities.js";

export * from "./registry-entities.js";

const Str = Type.String();
const OptStr = Type.Optional(Type.String());
const OptInt = Type.Optional(Type.Integer());
const Empty = Type.Object({});

function route<Req extends TObject, Res extends TObject>(spec: RouteSpec<Req, Res>): RouteSpec<Req, Res> {
  return spec;
}

const ModelVersionKey = { name: Str, version: Str };

export const registryRoutes = {
  createRegisteredModel: route({
    name: "createRegisteredModel",
    method: "POST",
    path: "/mlflow/registered-models/create",
    request: Type.Object({
      name: Str,
      tags: Type.Optional(Type.Array(RegisteredModelTag)),
      description: OptStr,
      deployment_job_id: OptStr,
    }),
    response: Type.Object({ registered_model: RegisteredModel }),
  }),
  getRegisteredModel: route({
    name: "getRegisteredModel",
    method: "GET",
    path: "/mlflow/registered-models/get",
    request: Type.Object({ name: Str }),
    response: Type.Object({ registered_model: RegisteredModel }),
  }),
  renameRegisteredModel: route({
    name: "renameRegisteredModel",
    method: "POST",
    path: "/mlflow/registered-models/rename",
    request: Type.Object({ name: Str, new_name: Str }),
    response: Type.Object({ registered_model: RegisteredModel }),
  }),
  updateRegisteredModel: route({
    name: "updateRegisteredModel",
    method: "PATCH",
    path: "/mlflow/registered-models/update",
    request: Type.Object({ name: Str, description: OptStr, deployment_job_id: OptStr }),
    response: Type.Object({ registered_model: RegisteredModel }),
  }),
  deleteRegisteredModel: route({
    name: "deleteRegisteredModel",
    method: "DELETE",
    path: "/mlflow/registered-models/delete",
    request: Type.Object({ name: Str }),
    response: Empty,
  }),
  searchRegisteredModels: route({
    name: "searchRegisteredModels",
    method: "GET",
    path: "/mlflow/registered-models/search",
    request: Type.Object({
      filter: OptStr,
      max_results: OptInt,
      order_by: Type.Optional(Type.Array(Str)),
      page_token: OptStr,
    }),
    response: Type.Object({
      registered_models: Type.Optional(Type.Array(RegisteredModel)),
      next_page_token: OptStr,
    }),
  }),
  getLatestVersions: route({
    name: "getLatestVersions",
    method: "POST",
    alsoMethods: ["GET"],
    path: "/mlflow/registered-models/get-latest-versions",
    request: Type.Object({ name: Str, stages: Type.Optional(Type.Array(Str)) }),
    response: Type.Object({ model_versions: Type.Optional(Type.Array(ModelVersion)) }),
  }),
  setRegisteredModelTag: route({
    name: "setRegisteredModelTag",
    method: "POST",
    path: "/mlflow/registered-models/set-tag",
    request: Type.Object({ name: Str, key: Str, value: Str }),
    response: Empty,
  }),
  deleteRegisteredModelTag: route({
    name: "deleteRegisteredModelTag",
    method: "DELETE",
    path: "/mlflow/registered-models/delete-tag",
    request: Type.Object({ name: Str, key: Str }),
    response: Empty,
  }),
  setRegisteredModelAlias: route({
    name: "setRegisteredModelAlias",
    method: "POST",
    path: "/mlflow/registered-models/alias",
    request: Type.Object({ name: Str, alias: Str, version: Str }),
    response: Empty,
  }),
  deleteRegisteredModelAlias: route({
    name: "deleteRegisteredModelAlias",
    method: "DELETE",
    path: "/mlflow/registered-models/alias",
    request: Type.Object({ name: Str, alias: Str }),
    response: Empty,
  }),
  getModelVersionByAlias: route({
    name: "getModelVersionByAlias",
    method: "GET",
    path: "/mlflow/registered-models/alias",
    request: Type.Object({ name: Str, alias: Str }),
    response: Type.Object({ model_version: ModelVersion }),
  }),
  createModelVersion: route({
    name: "createModelVersion",
    method: "POST",
    path: "/mlflow/model-versions/create",
    request: Type.Object({
      name: Str,
      source: Str,
      run_id: OptStr,
      tags: Type.Optional(Type.Array(ModelVersionTag)),
      run_link: OptStr,
      description: OptStr,
      model_id: OptStr,
    }),
    response: Type.Object({ model_version: ModelVersion }),
  }),
  getModelVersion: route({
    name: "getModelVersion",
    method: "GET",
    path: "/mlflow/model-versions/get",
    request: Type.Object(ModelVersionKey),
    response: Type.Object({ model_version: ModelVersion }),
  }),
  updateModelVersion: route({
    name: "updateModelVersion",
    method: "PATCH",
    path: "/mlflow/model-versions/update",
    request: Type.Object({ ...ModelVersionKey, description: OptStr }),
    response: Type.Object({ model_version: ModelVersion }),
  }),
  deleteModelVersion: route({
    name: "deleteModelVersion",
    method: "DELETE",
    path: "/mlflow/model-versions/delete",
    request: Type.Object(ModelVersionKey),
    response: Empty,
  }),
  searchModelVersions: route({
    name: "searchModelVersions",
    method: "GET",
    path: "/mlflow/model-versions/search",
    request: Type.Object({
      filter: OptStr,
      max_results: OptInt,
      order_by: Type.Optional(Type.Array(Str)),
      page_token: OptStr,
    }),
    response: Type.Object({
      model_versions: Type.Optional(Type.Array(ModelVersion)),
      next_page_token: OptStr,
    }),
  }),
  setModelVersionTag: route({
    name: "setModelVersionTag",
    method: "POST",
    path: "/mlflow/model-versions/set-tag",
    request: Type.Object({ ...ModelVersionKey, key: Str, value: Str }),
    response: Empty,
  }),
  deleteModelVersionTag: route({
    name: "deleteModelVersionTag",
    method: "DELETE",
    path: "/mlflow/model-versions/delete-tag",
    request: Type.Object({ ...ModelVersionKey, key: Str }),
    response: Empty,
  }),
  transitionModelVersionStage: route({
    name: "transitionModelVersionStage",
    method: "POST",
    path: "/mlflow/model-versions/transition-stage",
    request: Type.Object({
      ...ModelVersionKey,
      stage: Str,
      /** Required by the proto; MLflow's handler (and Slipway) read an absent value as false. */
      archive_existing_versions: Type.Optional(Type.Boolean()),
    }),
    response: Type.Object({ model_version: ModelVersion }),
  }),
  getModelVersionDownloadUri: route({
    name: "getModelVersionDownloadUri",
    method: "GET",
    path: "/mlflow/model-versions/get-download-uri",
    request: Type.Object(ModelVersionKey),
    response: Type.Object({ artifact_uri: Str }),
  }),
} as const;

export type RegistryRoutes = typeof registryRoutes;
export type RegistryMethod = keyof RegistryRoutes;
export type RegistryRequestOf<M extends RegistryMethod> = Static<RegistryRoutes[M]["request"]>;
export type RegistryResponseOf<M extends RegistryMethod> = Static<RegistryRoutes[M]["response"]>;

/** Every registry operation as a typed async method: the server's service and the SDK's client both have this shape. */
export type RegistryApi = {
  [M in RegistryMethod]: (request: RegistryRequestOf<M>) => Promise<RegistryResponseOf<M>>;
};
