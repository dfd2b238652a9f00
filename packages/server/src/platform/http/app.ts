/** Builds the control plane's HTTP app from its dependencies. No I/O happens here beyond Fastify's own setup. */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { collectRoutes } from "./route-catalog.js";
import { controlPlaneOpenApi } from "./openapi.js";
import { MlflowError, parseJson } from "@slipway/protocol";
import type { ArtifactRepository } from "../../artifacts/artifact-repository.js";
import { registerArtifactProxyRoutes } from "../../modules/artifacts-proxy/routes.js";
import { registerAuthentication, type AuthenticationOptions } from "../../modules/auth/auth-hooks.js";
import { registerAuthRoutes } from "../../modules/auth/auth-routes.js";
import { registerAuthorization } from "../../modules/auth/authorization.js";
import type { SqlDb } from "../db/sql-db.js";
import type { AuthService } from "../../modules/auth/auth-service.js";
import type { OidcRelyingParty } from "../../modules/auth/oidc-relying-party.js";
import { registerOidcRoutes } from "../../modules/auth/oidc-routes.js";
import type { DeploymentService } from "../../modules/deployments/deployment-service.js";
import { registerDeploymentRoutes } from "../../modules/deployments/routes.js";
import type { InferenceLogService } from "../../modules/monitoring/inference-log-service.js";
import { registerInferenceLogRoutes } from "../../modules/monitoring/inference-log-routes.js";
import type { MonitorService } from "../../modules/monitoring/monitor-service.js";
import { registerMonitorRoutes } from "../../modules/monitoring/monitor-routes.js";
import { registerRegistryRoutes } from "../../modules/registry/routes.js";
import type { RegistryService } from "../../modules/registry/registry-service.js";
import type { WebhookService } from "../../modules/registry/webhooks.js";
import { registerWebhookRoutes } from "../../modules/registry/webhooks-routes.js";
import { registerTraceRoutes } from "../../modules/tracing/trace-routes.js";
import type { TraceService } from "../../modules/tracing/trace-service.js";
import { registerTrackingRoutes } from "../../modules/tracking/routes.js";
import type { TrackingService } from "../../modules/tracking/tracking-service.js";
import { sendError } from "./errors.js";
import type { HttpMetrics } from "./metrics.js";
import { registerUiStatic } from "./ui-static.js";

export interface AppDeps {
  tracking: TrackingService;
  /** The model registry; its routes are mounted when present. */
  registry?: RegistryService;
  /** Registry webhooks (MLflow's webhook API); mounted when present. */
  webhooks?: WebhookService;
  /** The inference log and feedback API (monitoring's data source); mounted when present. */
  inferenceLog?: InferenceLogService;
  /** Monitors (definitions, window results, reports, alerts); mounted when present. */
  monitors?: MonitorService;
  /** Deployments (canary, shadow, rolling) and the statistics model servers report; mounted when present. */
  deployments?: DeploymentService;
  /** MLflow Tracing (traces v3, and v2's search and delete); mounted when present. */
  traces?: TraceService;
  artifacts: ArtifactRepository;
  metrics: HttpMetrics;
  version: string;
  logger?: FastifyServerOptions["logger"];
  /** Largest JSON request body accepted, in bytes. */
  bodyLimit?: number;
  /** The web UI bundle served at `/` (default: the installed `@slipway/ui`). */
  uiDir?: string;
  /** Authentication (`--auth`): every request outside the public paths needs credentials; auth routes mounted. */
  auth?: AuthService;
  /** The database, for the authorization layer's look-ups that no service offers (feedback labels' models). */
  db?: SqlDb;
  authOptions?: AuthenticationOptions;
  /** Single sign-on (`--oidc-*`, with `auth`): its login and callback routes are mounted when present. */
  oidc?: OidcRelyingParty;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: deps.bodyLimit ?? 32 * 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 10_000 },
  });

  // JSON as MLflow's server reads it: NaN/Infinity tokens allowed; a body that is a JSON string is decoded again.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === "") {
      done(null, {});
      return;
    }
    try {
      let value = parseJson(text);
      if (typeof value === "string") value = parseJson(value);
      done(null, value);
    } catch {
      done(new MlflowError("MALFORMED_REQUEST", "Malformed JSON in request body"), undefined);
    }
  });
  app.removeContentTypeParser("text/plain");

  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split("?")[0]!;
    const known = (["GET", "POST", "PUT", "PATCH", "DELETE"] as const).some((method) => app.hasRoute({ url, method }));
    const error = known
      ? new MlflowError("BAD_REQUEST", `Method ${request.method} is not allowed for ${url}`, { status: 405 })
      : new MlflowError("ENDPOINT_NOT_FOUND", `No API endpoint at ${request.method} ${url}`);
    return sendError(reply, error);
  });

  // every route from here on, for the authorization policy and the OpenAPI document
  const routes = collectRoutes(app);
  // before any route, so that no route is reachable without it
  if (deps.auth) registerAuthentication(app, deps.auth, deps.authOptions);
  // what each caller may do; also before any route, to see every route registered (it refuses unlisted ones)
  if (deps.auth) {
    const auth = deps.auth;
    registerAuthorization(app, {
      auth,
      tracking: deps.tracking,
      ...(deps.registry ? { registry: deps.registry } : {}),
      ...(deps.monitors ? { monitors: deps.monitors } : {}),
      ...(deps.deployments ? { deployments: deps.deployments } : {}),
      ...(deps.db ? { db: deps.db } : {}),
      renameModelPermissions: (from, to) => auth.renameRegisteredModel(from, to),
      deleteModelPermissions: (name) => auth.deleteResourcePermissions("registered_model", name),
    });
  }

  const { requests, duration } = deps.metrics;
  app.addHook("onResponse", (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });

  app.get("/health", (_request, reply) => reply.type("text/plain").send("OK"));
  let openApi: string | undefined;
  app.get("/api/2.0/slipway/openapi.json", (_request, reply) => {
    // every route is registered by the time a request arrives
    openApi ??= JSON.stringify(controlPlaneOpenApi(routes, { version: deps.version }));
    return reply.type("application/json").send(openApi);
  });
  app.get("/version", (_request, reply) => reply.type("text/plain").send(deps.version));
  app.get("/metrics", async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });

  if (deps.auth) registerAuthRoutes(app, deps.auth);
  registerOidcRoutes(app, { ...(deps.oidc ? { oidc: deps.oidc } : {}), ...(deps.auth ? { auth: deps.auth } : {}) });
  registerTrackingRoutes(app, deps.tracking);
  if (deps.registry) registerRegistryRoutes(app, deps.registry);
  if (deps.webhooks) registerWebhookRoutes(app, deps.webhooks);
  if (deps.inferenceLog) registerInferenceLogRoutes(app, deps.inferenceLog);
  if (deps.monitors) registerMonitorRoutes(app, deps.monitors);
  if (deps.deployments) registerDeploymentRoutes(app, deps.deployments);
  if (deps.traces) registerTraceRoutes(app, deps.traces);
  await registerArtifactProxyRoutes(app, deps.artifacts);
  registerUiStatic(app, { dir: deps.uiDir });
  return app;
}
