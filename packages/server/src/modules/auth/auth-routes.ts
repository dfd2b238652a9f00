/**
 * The auth endpoints: MLflow's auth REST API (users and per-resource permissions) and Slipway's own (session
 * login for the UI, whoami for the data planes, API tokens, service accounts, audit search). Handlers parse,
 * check who may call them (admin-only user management; a user may read themselves and change their own password;
 * permission changes need MANAGE on the resource), call AuthService, audit what changed, and answer.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  AUTH_SESSION_PATHS,
  LoginRequest,
  MlflowError,
  compileValidator,
  invalidParameter,
  mlflowAuthRoutes,
  slipwayAuthRoutes,
  type MlflowAuthMethod,
  type SlipwayAuthMethod,
} from "@slipway/protocol";
import { API_PREFIXES, mountRouteTable } from "../../platform/http/route-table.js";
import type { AuditEvent, Principal } from "./auth-api.js";
import { requireAdmin, requirePrincipal, sessionCookieOf } from "./auth-hooks.js";
import type { AuthService } from "./auth-service.js";
import { csrfTokenFor } from "./tokens.js";
import type { PermissionResource, UserRow } from "./auth-store.js";
import { RateLimitedError } from "./login-limits.js";
import { sessionCookieHeader } from "./session-cookie.js";

/** A validated request: the schemas only hold strings, numbers and booleans. */
type Body = Record<string, string | number | boolean | undefined>;

/** Longest lifetime a token may be given, in days (ten years). */
export const MAX_TOKEN_DAYS = 3650;

function userOf(principal: Principal) {
  return { id: principal.userId, username: principal.username, is_admin: principal.isAdmin, kind: principal.kind };
}

function slipwayUser(user: UserRow) {
  return { id: Number(user.id), username: user.username, is_admin: Number(user.is_admin) === 1, kind: user.kind };
}

function auditEvent(
  request: FastifyRequest,
  action: string,
  resource: { type: string; id: string },
  details?: Record<string, unknown>,
): AuditEvent {
  const userAgent = request.headers["user-agent"];
  return {
    principal: request.principal ?? null,
    action,
    method: request.method,
    path: request.url.split("?")[0]!,
    resourceType: resource.type,
    resourceId: resource.id,
    status: 200,
    ip: request.ip,
    ...(typeof userAgent === "string" ? { userAgent } : {}),
    ...(details ? { details } : {}),
  };
}

/** Admins, and users holding MANAGE on the resource (MLflow: "can manage"), may change its permissions. */
async function requireManage(auth: AuthService, request: FastifyRequest, resource: PermissionResource, key: string) {
  const principal = requirePrincipal(request);
  if ((await auth.effectivePermission(principal, resource, key)) !== "MANAGE") {
    throw new MlflowError(
      "PERMISSION_DENIED",
      `Permission denied: '${principal.username}' cannot manage permissions of ${resource === "experiment" ? "experiment" : "registered model"} '${key}'.`,
    );
  }
}

function requireSelfOrAdmin(request: FastifyRequest, username: string): Principal {
  const principal = requirePrincipal(request);
  if (!principal.isAdmin && principal.username !== username) {
    throw new MlflowError(
      "PERMISSION_DENIED",
      `Permission denied: only admins may act on other users ('${username}').`,
    );
  }
  return principal;
}

export function registerAuthRoutes(app: FastifyInstance, auth: AuthService): void {
  const audit = (
    request: FastifyRequest,
    ...args: Parameters<typeof auditEvent> extends [unknown, ...infer R] ? R : never
  ) => auth.audit(auditEvent(request, ...args));

  const permissionRoute = async (
    request: FastifyRequest,
    resource: PermissionResource,
    op: "create" | "get" | "update" | "delete",
    req: Body,
  ): Promise<unknown> => {
    const key = String(resource === "experiment" ? req.experiment_id : req.name);
    const username = String(req.username);
    if (key === "")
      throw invalidParameter(
        `Missing value for required parameter '${resource === "experiment" ? "experiment_id" : "name"}'.`,
      );
    await requireManage(auth, request, resource, key);
    const field = resource === "experiment" ? "experiment_permission" : "registered_model_permission";
    const entity = (user: UserRow, permission: string) =>
      resource === "experiment"
        ? { experiment_id: key, user_id: Number(user.id), permission }
        : { name: key, user_id: Number(user.id), permission };
    const target = { type: resource, id: key };
    switch (op) {
      case "get": {
        const { user, permission } = await auth.getPermission(resource, key, username);
        return { [field]: entity(user, permission) };
      }
      case "create": {
        const { user, permission } = await auth.createPermission(resource, key, username, req.permission);
        await audit(request, `permissions.${resource}.create`, target, { username, permission });
        return { [field]: entity(user, permission) };
      }
      case "update": {
        const { permission } = await auth.updatePermission(resource, key, username, req.permission);
        await audit(request, `permissions.${resource}.update`, target, { username, permission });
        return {};
      }
      case "delete":
        await auth.deletePermission(resource, key, username);
        await audit(request, `permissions.${resource}.delete`, target, { username });
        return {};
    }
  };

  mountRouteTable<MlflowAuthMethod>(app, mlflowAuthRoutes, async (name, raw, request) => {
    const req = raw as Body;
    const username = String(req.username ?? "");
    switch (name) {
      case "createUser": {
        requireAdmin(request);
        const user = await auth.createUser({ username, password: String(req.password) });
        await audit(request, "users.create", { type: "user", id: user.username });
        return { user: await auth.mlflowUser(user) };
      }
      case "getUser":
        requireSelfOrAdmin(request, username);
        return { user: await auth.mlflowUser(await auth.requireUser(username)) };
      case "updateUserPassword":
        requireSelfOrAdmin(request, username);
        await auth.updatePassword(username, String(req.password));
        await audit(request, "users.update_password", { type: "user", id: username });
        return {};
      case "updateUserAdmin":
        requireAdmin(request);
        await auth.setAdmin(username, req.is_admin === true);
        await audit(request, "users.update_admin", { type: "user", id: username }, { is_admin: req.is_admin === true });
        return {};
      case "deleteUser":
        requireAdmin(request);
        await auth.deleteUser(username);
        await audit(request, "users.delete", { type: "user", id: username });
        return {};
      case "createExperimentPermission":
        return permissionRoute(request, "experiment", "create", req);
      case "getExperimentPermission":
        return permissionRoute(request, "experiment", "get", req);
      case "updateExperimentPermission":
        return permissionRoute(request, "experiment", "update", req);
      case "deleteExperimentPermission":
        return permissionRoute(request, "experiment", "delete", req);
      case "createRegisteredModelPermission":
        return permissionRoute(request, "registered_model", "create", req);
      case "getRegisteredModelPermission":
        return permissionRoute(request, "registered_model", "get", req);
      case "updateRegisteredModelPermission":
        return permissionRoute(request, "registered_model", "update", req);
      case "deleteRegisteredModelPermission":
        return permissionRoute(request, "registered_model", "delete", req);
    }
  });

  mountRouteTable<SlipwayAuthMethod>(app, slipwayAuthRoutes, async (name, raw, request) => {
    const req = raw as Body;
    switch (name) {
      case "whoami": {
        const principal = requirePrincipal(request);
        const answer: Record<string, unknown> = { user: userOf(principal) };
        if (typeof req.registered_model_name === "string" && req.registered_model_name !== "") {
          answer.registered_model_permission = await auth.effectivePermission(
            principal,
            "registered_model",
            req.registered_model_name,
          );
        }
        if (typeof req.experiment_id === "string" && req.experiment_id !== "") {
          answer.experiment_permission = await auth.effectivePermission(principal, "experiment", req.experiment_id);
        }
        return answer;
      }
      case "createToken": {
        const principal = requirePrincipal(request);
        let owner = principal.userId;
        let ownerName = principal.username;
        if (typeof req.username === "string" && req.username !== principal.username) {
          requireAdmin(request);
          const user = await auth.requireUser(req.username);
          owner = Number(user.id);
          ownerName = user.username;
        }
        let expiresAt: number | null = null;
        if (req.expires_in_days !== undefined) {
          const days = req.expires_in_days as number;
          if (!Number.isFinite(days) || days <= 0 || days > MAX_TOKEN_DAYS) {
            throw invalidParameter(
              `expires_in_days must be a number of days between 0 and ${MAX_TOKEN_DAYS}, got ${days}.`,
            );
          }
          expiresAt = Date.now() + Math.round(days * 86_400_000);
        }
        const issued = await auth.createToken(owner, { name: String(req.name), expiresAt });
        await audit(
          request,
          "tokens.create",
          { type: "token", id: issued.tokenId },
          { owner: ownerName, name: issued.name },
        );
        const info = await auth.tokenInfo(issued.tokenId);
        return { token: info, secret: issued.token };
      }
      case "listTokens": {
        const principal = requirePrincipal(request);
        let owner = principal.userId;
        if (typeof req.username === "string" && req.username !== principal.username) {
          requireAdmin(request);
          owner = Number((await auth.requireUser(req.username)).id);
        }
        return { tokens: await auth.listTokens(owner) };
      }
      case "revokeToken": {
        const principal = requirePrincipal(request);
        await auth.revokeToken(String(req.id), principal);
        await audit(request, "tokens.revoke", { type: "token", id: String(req.id) });
        return {};
      }
      case "createServiceAccount": {
        requireAdmin(request);
        const user = await auth.createUser({ username: String(req.username), kind: "service_account" });
        await audit(request, "service_accounts.create", { type: "user", id: user.username });
        return { user: slipwayUser(user) };
      }
      case "listUsers":
        requireAdmin(request);
        return { users: (await auth.listUsers()).map(slipwayUser) };
      case "searchAudit": {
        requireAdmin(request);
        return auth.searchAudit({
          ...(req.username === undefined ? {} : { username: req.username as string }),
          ...(req.action === undefined ? {} : { action: req.action as string }),
          ...(req.since === undefined ? {} : { since: req.since as number }),
          ...(req.until === undefined ? {} : { until: req.until as number }),
          ...(req.max_results === undefined ? {} : { maxResults: req.max_results as number }),
          ...(req.page_token === undefined ? {} : { pageToken: req.page_token as string }),
        });
      }
    }
  });

  registerSessionRoutes(app, auth);
}

/** Login, logout and the current session: these answer with cookies, so they are routes of their own. */
function registerSessionRoutes(app: FastifyInstance, auth: AuthService): void {
  const validateLogin = compileValidator(LoginRequest);
  for (const prefix of API_PREFIXES) {
    app.post(`${prefix}${AUTH_SESSION_PATHS.login}`, async (request, reply) => {
      const { username, password } = validateLogin(request.body);
      const userAgent = typeof request.headers["user-agent"] === "string" ? request.headers["user-agent"] : undefined;
      let principal: Principal;
      try {
        principal = await auth.login(username, password, {
          ip: request.ip,
          via: "session",
          ...(userAgent === undefined ? {} : { userAgent }),
        });
      } catch (error) {
        if (error instanceof RateLimitedError) reply.header("retry-after", String(error.retryAfterSeconds));
        throw error;
      }
      const session = await auth.createSession(principal.userId, {
        ip: request.ip,
        ...(userAgent === undefined ? {} : { userAgent }),
      });
      request.principal = { ...principal, sessionId: session.sessionId };
      await auth.audit(auditEvent(request, "login.ok", { type: "session", id: session.sessionId }, { via: "session" }));
      reply.header("set-cookie", sessionCookieHeader(request, session.sessionCookie, auth.sessionTtlMs / 1000));
      reply.header("cache-control", "no-store");
      return reply
        .type("application/json")
        .send(JSON.stringify({ user: userOf(principal), csrf_token: session.csrfToken }));
    });

    app.post(`${prefix}${AUTH_SESSION_PATHS.logout}`, async (request, reply) => {
      const { sessionCookie } = sessionCookieOf(request);
      if (sessionCookie !== undefined) await auth.endSession(sessionCookie);
      reply.header("set-cookie", sessionCookieHeader(request, "", 0));
      return reply.type("application/json").send("{}");
    });

    app.get(`${prefix}${AUTH_SESSION_PATHS.session}`, async (request, reply) => {
      const principal = requirePrincipal(request);
      const { sessionCookie } = sessionCookieOf(request);
      if (principal.via !== "session" || sessionCookie === undefined) {
        throw new MlflowError("UNAUTHENTICATED", "No UI session: sign in at /api/2.0/slipway/auth/login.");
      }
      reply.header("cache-control", "no-store");
      return reply
        .type("application/json")
        .send(JSON.stringify({ user: userOf(principal), csrf_token: csrfTokenFor(sessionCookie) }));
    });
  }
}
