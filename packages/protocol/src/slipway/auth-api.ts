/**
 * Authentication and permissions on the wire: MLflow's auth REST API (`mlflow.server.auth`: users, experiment
 * permissions, registered-model permissions, under /api/2.0/mlflow/) with MLflow's methods and shapes, and
 * Slipway's own session login, `whoami`, API tokens, service accounts and audit search (under /api/2.0/slipway/).
 */
import { Type, type Static, type TObject } from "@sinclair/typebox";
import type { RouteSpec } from "../mlflow/tracking-api.js";

const Str = Type.String();
const OptStr = Type.Optional(Type.String());
const OptInt = Type.Optional(Type.Integer());
const Empty = Type.Object({});

function route<Req extends TObject, Res extends TObject>(spec: RouteSpec<Req, Res>): RouteSpec<Req, Res> {
  return spec;
}

/** MLflow's permission names; each includes the ones before it except NO_PERMISSIONS. */
export const AuthPermission = Type.Union([
  Type.Literal("READ"),
  Type.Literal("EDIT"),
  Type.Literal("MANAGE"),
  Type.Literal("NO_PERMISSIONS"),
]);

export const ExperimentPermissionEntity = Type.Object({
  experiment_id: Str,
  user_id: Type.Integer(),
  permission: Str,
});
export const RegisteredModelPermissionEntity = Type.Object({ name: Str, user_id: Type.Integer(), permission: Str });

/** MLflow's `User.to_json()`. */
export const AuthUser = Type.Object({
  id: Type.Integer(),
  username: Str,
  is_admin: Type.Boolean(),
  experiment_permissions: Type.Array(ExperimentPermissionEntity),
  registered_model_permissions: Type.Array(RegisteredModelPermissionEntity),
});

/** Permission strings are checked by the service (not the schema) so a bad one gets MLflow's own message. */
const ExperimentKey = { experiment_id: Str, username: Str };
const ModelKey = { name: Str, username: Str };

export const mlflowAuthRoutes = {
  createUser: route({
    name: "createUser",
    method: "POST",
    path: "/mlflow/users/create",
    request: Type.Object({ username: Str, password: Str }),
    response: Type.Object({ user: AuthUser }),
  }),
  getUser: route({
    name: "getUser",
    method: "GET",
    path: "/mlflow/users/get",
    request: Type.Object({ username: Str }),
    response: Type.Object({ user: AuthUser }),
  }),
  updateUserPassword: route({
    name: "updateUserPassword",
    method: "PATCH",
    path: "/mlflow/users/update-password",
    request: Type.Object({ username: Str, password: Str }),
    response: Empty,
  }),
  updateUserAdmin: route({
    name: "updateUserAdmin",
    method: "PATCH",
    path: "/mlflow/users/update-admin",
    request: Type.Object({ username: Str, is_admin: Type.Boolean() }),
    response: Empty,
  }),
  deleteUser: route({
    name: "deleteUser",
    method: "DELETE",
    path: "/mlflow/users/delete",
    request: Type.Object({ username: Str }),
    response: Empty,
  }),
  createExperimentPermission: route({
    name: "createExperimentPermission",
    method: "POST",
    path: "/mlflow/experiments/permissions/create",
    request: Type.Object({ ...ExperimentKey, permission: Str }),
    response: Type.Object({ experiment_permission: ExperimentPermissionEntity }),
  }),
  getExperimentPermission: route({
    name: "getExperimentPermission",
    method: "GET",
    path: "/mlflow/experiments/permissions/get",
    request: Type.Object(ExperimentKey),
    response: Type.Object({ experiment_permission: ExperimentPermissionEntity }),
  }),
  updateExperimentPermission: route({
    name: "updateExperimentPermission",
    method: "PATCH",
    path: "/mlflow/experiments/permissions/update",
    request: Type.Object({ ...ExperimentKey, permission: Str }),
    response: Empty,
  }),
  deleteExperimentPermission: route({
    name: "deleteExperimentPermission",
    method: "DELETE",
    path: "/mlflow/experiments/permissions/delete",
    request: Type.Object(ExperimentKey),
    response: Empty,
  }),
  createRegisteredModelPermission: route({
    name: "createRegisteredModelPermission",
    method: "POST",
    path: "/mlflow/registered-models/permissions/create",
    request: Type.Object({ ...ModelKey, permission: Str }),
    response: Type.Object({ registered_model_permission: RegisteredModelPermissionEntity }),
  }),
  getRegisteredModelPermission: route({
    name: "getRegisteredModelPermission",
    method: "GET",
    path: "/mlflow/registered-models/permissions/get",
    request: Type.Object(ModelKey),
    response: Type.Object({ registered_model_permission: RegisteredModelPermissionEntity }),
  }),
  updateRegisteredModelPermission: route({
    name: "updateRegisteredModelPermission",
    method: "PATCH",
    path: "/mlflow/registered-models/permissions/update",
    request: Type.Object({ ...ModelKey, permission: Str }),
    response: Empty,
  }),
  deleteRegisteredModelPermission: route({
    name: "deleteRegisteredModelPermission",
    method: "DELETE",
    path: "/mlflow/registered-models/permissions/delete",
    request: Type.Object(ModelKey),
    response: Empty,
  }),
} as const;

export type MlflowAuthMethod = keyof typeof mlflowAuthRoutes;

/** A user as Slipway's own endpoints show it. */
export const SlipwayUser = Type.Object({
  id: Type.Integer(),
  username: Str,
  is_admin: Type.Boolean(),
  kind: Type.Union([Type.Literal("user"), Type.Literal("service_account")]),
});
export type SlipwayUser = Static<typeof SlipwayUser>;

/** An API token's metadata; the secret is only in the answer of `createToken`. */
export const ApiTokenInfo = Type.Object({
  id: Str,
  name: Str,
  /** The first characters of the secret (`slw_` and 8 more), to tell tokens apart. */
  prefix: Str,
  created: Type.Integer(),
  expires_at: OptInt,
  revoked_at: OptInt,
  last_used_at: OptInt,
});
export type ApiTokenInfo = Static<typeof ApiTokenInfo>;

export const AuditEntry = Type.Object({
  id: Type.Integer(),
  timestamp: Type.Integer(),
  user_id: OptInt,
  username: OptStr,
  action: Str,
  method: Str,
  path: Str,
  resource_type: OptStr,
  resource_id: OptStr,
  status: Type.Integer(),
  ip: OptStr,
  user_agent: OptStr,
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

/** Session login: the body of `login`; its answer also sets the `slipway_session` cookie. */
export const LoginRequest = Type.Object({ username: Str, password: Str });
export const SessionResponse = Type.Object({ user: SlipwayUser, csrf_token: Str });
export type SessionResponse = Static<typeof SessionResponse>;

export const slipwayAuthRoutes = {
  whoami: route({
    name: "whoami",
    method: "GET",
    path: "/slipway/auth/whoami",
    request: Type.Object({ registered_model_name: OptStr, experiment_id: OptStr }),
    response: Type.Object({
      user: SlipwayUser,
      /** The caller's effective permission on `registered_model_name` (admin: MANAGE; else recorded, else default). */
      registered_model_permission: Type.Optional(AuthPermission),
      experiment_permission: Type.Optional(AuthPermission),
    }),
  }),
  createToken: route({
    name: "createToken",
    method: "POST",
    path: "/slipway/tokens/create",
    request: Type.Object({
      name: Str,
      expires_in_days: Type.Optional(Type.Number()),
      /** Admins only: a token for another user (typically a service account). */
      username: OptStr,
    }),
    response: Type.Object({
      token: ApiTokenInfo,
      /** Shown once: only its hash is stored. */
      secret: Str,
    }),
  }),
  listTokens: route({
    name: "listTokens",
    method: "GET",
    path: "/slipway/tokens/list",
    request: Type.Object({ username: OptStr }),
    response: Type.Object({ tokens: Type.Array(ApiTokenInfo) }),
  }),
  revokeToken: route({
    name: "revokeToken",
    method: "POST",
    path: "/slipway/tokens/revoke",
    request: Type.Object({ id: Str }),
    response: Empty,
  }),
  createServiceAccount: route({
    name: "createServiceAccount",
    method: "POST",
    path: "/slipway/service-accounts/create",
    request: Type.Object({ username: Str }),
    response: Type.Object({ user: SlipwayUser }),
  }),
  listUsers: route({
    name: "listUsers",
    method: "GET",
    path: "/slipway/users/list",
    request: Type.Object({}),
    response: Type.Object({ users: Type.Array(SlipwayUser) }),
  }),
  searchAudit: route({
    name: "searchAudit",
    method: "GET",
    path: "/slipway/audit/search",
    request: Type.Object({
      username: OptStr,
      /** An action, or a prefix ending in `.` or `*`. */
      action: OptStr,
      /** Epoch milliseconds, inclusive. */
      since: OptInt,
      /** Epoch milliseconds, exclusive. */
      until: OptInt,
      max_results: OptInt,
      page_token: OptStr,
    }),
    response: Type.Object({ entries: Type.Array(AuditEntry), next_page_token: OptStr }),
  }),
} as const;

export type SlipwayAuthMethod = keyof typeof slipwayAuthRoutes;
export type WhoamiResponse = Static<(typeof slipwayAuthRoutes)["whoami"]["response"]>;
export type CreateTokenResponse = Static<(typeof slipwayAuthRoutes)["createToken"]["response"]>;

/** The session cookie's name. */
export const SESSION_COOKIE = "slipway_session";
/** The header carrying the CSRF token on cookie-authenticated writes (lower case, as Node reads it). */
export const CSRF_HEADER = "x-csrf-token";
/** Paths (below /api/2.0 and /ajax-api/2.0) of the session endpoints, which answer with cookies. */
export const AUTH_SESSION_PATHS = {
  login: "/slipway/auth/login",
  logout: "/slipway/auth/logout",
  session: "/slipway/auth/session",
} as const;
