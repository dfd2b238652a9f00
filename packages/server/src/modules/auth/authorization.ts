/**
 * Enforces the authorization policy (policy.ts) on the control plane's HTTP app, when auth is on.
 *
 * - Fail closed: every route registered on the app is collected (`onRoute`); at `onReady` a route without a policy
 *   entry makes startup throw, naming it.
 * - `preHandler` (after body parsing): finds the route's policy, resolves the experiments and models the request
 *   touches, and answers 403 PERMISSION_DENIED (401 without credentials) unless the caller may; searches are answered
 *   here for non-admins with only what they may read (authorization-search.ts).
 * - `onSend`, after a successful call: the creator of an experiment or registered model gets MANAGE on it; a renamed
 *   model's permissions follow it; a deleted model's permissions go with it (as MLflow's after-request handlers do).
 * - `onResponse`: every write that reached its handler goes to the audit log (the auth module audits its own routes).
 *
 * The principal comes from the auth module's `onRequest` hook (auth-hooks.ts), as `request.principal`.
 *
 * Decisions beyond MLflow's plugin (which has no such routes): webhooks, which see every model's events and hold
 * secrets, are for admins; so are the unfiltered registry event stream (a stream cannot be narrowed once it runs;
 * `?model=` needs READ on that model) and artifact paths outside an experiment's directory. A deployment's shadow
 * model needs READ (it only receives copies of traffic), its primary EDIT. Feedback labels name a request id: the
 * models of the logged rows need EDIT; labels for requests not logged yet (allowed by the API) cannot be tied to a
 * model, so they need EDIT on some model: such a caller could label another model's future rows (residual risk,
 * closed only if labels named their model). A proxied read of files under a model version's location is also allowed
 * to the model's readers (MLflow checks only the run's experiment there, which keeps a model's readers, such as a
 * model server's service account, from loading it).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { collectRoutes } from "../../platform/http/route-catalog.js";
import { MlflowError, stringifyJson } from "@slipway/protocol";
import { abilities, type AuthApi, type Permission, type Principal } from "./auth-api.js";
import { filteredSearch, type Readable, type SearchServices } from "./authorization-search.js";
import { isAudited, policyFor, type Ability, type PolicyTable, type RoutePolicy } from "./policy.js";
import { requestFields, ResourceResolver, type Target } from "./policy-resources.js";

export interface AuthorizationDeps extends SearchServices {
  auth: AuthApi;
  /** Policies for routes registered by other modules, keyed `METHOD full-path` or `METHOD path-after-/api/2.0`. */
  policies?: PolicyTable;
  /** Moves a registered model's recorded permissions to its new name (MLflow does so on rename). */
  renameModelPermissions?: (oldName: string, newName: string) => Promise<unknown>;
  /** Removes a deleted registered model's recorded permissions, so a new model of that name starts clean. */
  deleteModelPermissions?: (name: string) => Promise<unknown>;
}

/** What the preHandler decided, for the later hooks. Set only when the request was let through to its handler. */
interface Decision {
  policy: RoutePolicy;
  principal: Principal | null;
  targets: Target[];
}

export { registeredRoutes, type RegisteredRoute } from "../../platform/http/route-catalog.js";

/** The principal the auth module's onRequest hook put on the request (null: no credentials were sent). */
export function principalOf(request: FastifyRequest): Principal | null {
  return (request as unknown as { principal?: Principal | null }).principal ?? null;
}

const PERMISSION_NEEDED: Record<Ability, Permission> = {
  read: "READ",
  update: "EDIT",
  delete: "MANAGE",
  manage: "MANAGE",
};

function allows(permission: Permission, need: Ability): boolean {
  const a = abilities(permission);
  switch (need) {
    case "read":
      return a.canRead;
    case "update":
      return a.canUpdate;
    case "delete":
      return a.canDelete;
    case "manage":
      return a.canManage;
  }
}

function pathOf(request: FastifyRequest): string {
  return request.url.split("?")[0] ?? request.url;
}

function denied(request: FastifyRequest, why: string): MlflowError {
  return new MlflowError("PERMISSION_DENIED", `Permission denied for ${request.method} ${pathOf(request)}: ${why}`);
}

function describe(target: Target): string {
  return target.type === "experiment" ? `experiment ${target.id}` : `registered model '${target.name}'`;
}

export function registerAuthorization(app: FastifyInstance, deps: AuthorizationDeps): void {
  const routes = collectRoutes(app);
  const resolver = new ResourceResolver(deps);
  const decisions = new WeakMap<FastifyRequest, Decision>();
  const { auth } = deps;

  // eslint-disable-next-line @typescript-eslint/require-await -- an async hook reports its error by rejecting
  app.addHook("onReady", async () => {
    const missing = routes.filter((r) => policyFor(r.method, r.url, deps.policies) === null);
    if (missing.length > 0) {
      throw new Error(
        `Authorization: no policy for ${missing.map((r) => `${r.method} ${r.url}`).join(", ")}. ` +
          "Add each route to packages/server/src/modules/auth/policy.ts before it can be served with auth on.",
      );
    }
  });

  async function permissionOn(principal: Principal, target: Target): Promise<Permission> {
    if (principal.isAdmin) return "MANAGE";
    const explicit =
      target.type === "experiment"
        ? await auth.experimentPermission(principal.userId, target.id)
        : await auth.registeredModelPermission(principal.userId, target.name);
    return explicit ?? auth.defaultPermission;
  }

  async function readable(principal: Principal): Promise<Readable> {
    const [experiments, models] = await Promise.all([
      auth.experimentPermissions(principal.userId),
      auth.registeredModelPermissions(principal.userId),
    ]);
    const fallback = abilities(auth.defaultPermission).canRead;
    const can = (explicit: Permission | undefined) => (explicit === undefined ? fallback : abilities(explicit).canRead);
    return { experiment: (id) => can(experiments.get(id)), model: (name) => can(models.get(name)) };
  }

  /** Whether the caller may EDIT some registered model (explicitly, or everywhere through the default). */
  async function editsSomeModel(principal: Principal): Promise<boolean> {
    if (abilities(auth.defaultPermission).canUpdate) return true;
    const models = await auth.registeredModelPermissions(principal.userId);
    return [...models.values()].some((p) => abilities(p).canUpdate);
  }

  /** Whether the caller may READ a registered model one of whose versions holds the proxied path read. */
  async function readsServedModel(principal: Principal, request: FastifyRequest): Promise<boolean> {
    for (const name of await resolver.modelsServingArtifact(request)) {
      if (allows(await permissionOn(principal, { type: "registered_model", name }), "read")) return true;
    }
    return false;
  }

  app.addHook("preHandler", async (request: FastifyRequest, reply: FastifyReply) => {
    const url = request.routeOptions.url;
    if (url === undefined) return; // no route matched: the not-found handler answers
    const policy = policyFor(request.method, url, deps.policies);
    // unreachable after the onReady check, unless a route was added afterwards
    if (policy === null) throw denied(request, "this route has no authorization policy");
    const principal = principalOf(request);
    const decision: Decision = { policy, principal, targets: [] };
    const access = policy.access;
    if (access.kind === "public") {
      decisions.set(request, decision);
      return;
    }
    if (principal === null) {
      throw new MlflowError("UNAUTHENTICATED", "Authentication required: send HTTP basic credentials or a token.");
    }
    switch (access.kind) {
      case "authenticated":
      case "delegated":
        break;
      case "admin":
        if (!principal.isAdmin) throw denied(request, "only admins may do this");
        break;
      case "feedback": {
        if (principal.isAdmin) break;
        const named = await resolver.feedbackModels(request);
        if (named === null) throw denied(request, "only admins may send feedback on this server");
        for (const name of named.models) {
          const target: Target = { type: "registered_model", name };
          if (!allows(await permissionOn(principal, target), "update")) {
            throw denied(request, `EDIT on ${describe(target)} is required to label its predictions`);
          }
          decision.targets.push(target);
        }
        // labels of requests not logged yet cannot be tied to a model: the caller must EDIT some model
        if (named.unlogged > 0 && !(await editsSomeModel(principal))) {
          throw denied(request, "EDIT on a registered model is required to send feedback");
        }
        break;
      }
      case "filtered":
        if (!principal.isAdmin) {
          const body = await filteredSearch(access.search, request, deps, await readable(principal));
          return reply.type("application/json").send(stringifyJson(body));
        }
        break;
      case "resource":
        for (const check of access.checks) {
          const resolution = await resolver.resolve(check, request);
          // a proxied read of a model version's files: READ on the model suffices (see modelsServingArtifact)
          const modelArtifact = check.from === "artifact_path" && check.need === "read";
          if (resolution.kind === "admin_only") {
            if (principal.isAdmin || (modelArtifact && (await readsServedModel(principal, request)))) continue;
            throw denied(request, `only admins may access ${resolution.what}`);
          }
          if (resolution.kind !== "targets") continue;
          for (const target of resolution.targets) {
            const permission = await permissionOn(principal, target);
            if (!allows(permission, check.need)) {
              if (modelArtifact && (await readsServedModel(principal, request))) continue;
              throw denied(request, `${PERMISSION_NEEDED[check.need]} on ${describe(target)} is required`);
            }
            decision.targets.push(target);
          }
        }
        break;
    }
    decisions.set(request, decision);
  });

  app.addHook("onSend", async (request, reply, payload) => {
    const decision = decisions.get(request);
    const after = decision?.policy.after;
    if (after === undefined || reply.statusCode !== 200 || decision?.principal == null) return payload;
    try {
      const body = parsePayload(payload);
      const fields = requestFields(request);
      switch (after) {
        case "grant_experiment_creator": {
          const id = body?.experiment_id;
          if (typeof id === "string") await auth.grantCreator(decision.principal.userId, { experimentId: id });
          break;
        }
        case "grant_model_creator": {
          const name = (body?.registered_model as { name?: unknown } | undefined)?.name;
          if (typeof name === "string") {
            await auth.grantCreator(decision.principal.userId, { registeredModelName: name });
          }
          break;
        }
        case "rename_model":
          if (typeof fields.name === "string" && typeof fields.new_name === "string") {
            await deps.renameModelPermissions?.(fields.name, fields.new_name);
          }
          break;
        case "delete_model":
          if (typeof fields.name === "string") await deps.deleteModelPermissions?.(fields.name);
          break;
      }
    } catch (error) {
      // the change itself is committed; an admin can grant by hand what this step failed to record
      request.log.error(
        { err: error },
        `authorization: the ${after} step after ${request.method} ${pathOf(request)} failed`,
      );
    }
    return payload;
  });

  app.addHook("onResponse", async (request, reply) => {
    const decision = decisions.get(request);
    if (!decision || !isAudited(decision.policy, request.method)) return;
    const target = decision.targets[0];
    const userAgent = request.headers["user-agent"];
    try {
      await auth.audit({
        principal: decision.principal,
        action: decision.policy.action,
        method: request.method,
        path: pathOf(request),
        ...(target === undefined
          ? {}
          : {
              resourceType: target.type,
              resourceId: target.type === "experiment" ? target.id : target.name,
            }),
        status: reply.statusCode,
        ip: request.ip,
        ...(typeof userAgent === "string" ? { userAgent } : {}),
      });
    } catch (error) {
      request.log.error({ err: error }, "authorization: writing the audit log failed");
    }
  });
}

function parsePayload(payload: unknown): Record<string, unknown> | undefined {
  const text = typeof payload === "string" ? payload : Buffer.isBuffer(payload) ? payload.toString("utf8") : undefined;
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
