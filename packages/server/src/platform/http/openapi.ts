/**
 * The control plane's OpenAPI 3.1 document (`GET /api/2.0/slipway/openapi.json`), rendered from what the server
 * actually registered (the route catalog), the protocol's route tables (request and response JSON schemas, where a
 * route has one) and the authorization policy (who may call it). Every `/api/2.0` route is also served under
 * `/ajax-api/2.0` (MLflow's UI prefix); the document lists each once.
 */
import {
  deploymentRoutes,
  inferenceLogRoutes,
  mlflowAuthRoutes,
  monitorRoutes,
  registryHistoryRoutes,
  registryRoutes,
  slipwayAuthRoutes,
  trackingRoutes,
  tracingRoutes,
  type RouteSpec,
} from "@slipway/protocol";
import { policyFor, type Access, type Check, type PolicyTable } from "../../modules/auth/policy.js";
import type { RegisteredRoute } from "./route-catalog.js";

const TABLES: readonly Readonly<Record<string, RouteSpec>>[] = [
  trackingRoutes,
  registryRoutes,
  registryHistoryRoutes,
  mlflowAuthRoutes,
  slipwayAuthRoutes,
  monitorRoutes,
  deploymentRoutes,
  inferenceLogRoutes,
  tracingRoutes,
];

const NEED: Record<Check["need"], string> = { read: "READ", update: "EDIT", delete: "MANAGE", manage: "MANAGE" };

/** Who may call a route, in words (also the `x-slipway-access` of each operation). */
export function describeAccess(access: Access): string {
  switch (access.kind) {
    case "public":
      return "anyone (no credentials)";
    case "authenticated":
      return "any signed-in user";
    case "admin":
      return "admins";
    case "delegated":
      return `signed-in users; ${access.why}`;
    case "filtered":
      return "signed-in users; results hold only what the caller may read";
    case "feedback":
      return "EDIT on the registered model of each labelled request";
    case "resource":
      return access.checks
        .map((c) => `${NEED[c.need]} on the ${c.on === "experiment" ? "experiment" : "registered model"} (${c.from})`)
        .join(" and ");
  }
}

/** Group of a path, for the document's tags and the reference's sections. */
export function tagOf(path: string): string {
  if (path.startsWith("/api/2.0/mlflow-artifacts/") || path.includes("get-artifact")) return "Artifacts";
  if (/^\/api\/2\.0\/mlflow\/(users|experiments\/permissions|registered-models\/permissions)/.test(path)) {
    return "MLflow auth";
  }
  if (/^\/api\/2\.0\/mlflow\/(registered-models|model-versions)/.test(path)) return "MLflow model registry";
  if (/^\/api\/[23]\.0\/mlflow\/traces(\/|$)/.test(path)) return "MLflow tracing";
  if (path.startsWith("/api/2.0/mlflow/")) return "MLflow tracking";
  const slipway = /^\/api\/2\.0\/slipway\/([a-z.-]+)/.exec(path);
  if (slipway) {
    const area = slipway[1]!;
    if (area === "openapi.json") return "Server";
    if (["auth", "tokens", "service-accounts", "audit", "users"].includes(area)) return "Slipway auth";
    if (["inference-log", "feedback"].includes(area)) return "Slipway inference log";
    if (["registered-models", "model-versions", "events", "webhooks"].includes(area)) return "Slipway registry";
    return `Slipway ${area.replace(/-/g, " ")}`;
  }
  return "Server";
}

/** `/mlflow/runs/:run_id` → `/mlflow/runs/{run_id}`; a trailing `*` → `{path}`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}").replace(/\*$/, "{path}");
}

function specIndex(): Map<string, RouteSpec> {
  const index = new Map<string, RouteSpec>();
  for (const table of TABLES) {
    for (const spec of Object.values(table)) {
      for (const method of [spec.method, ...(spec.alsoMethods ?? [])])
        index.set(`${method} /api/${spec.apiVersion ?? "2.0"}${spec.path}`, spec);
    }
  }
  return index;
}

const ERROR_RESPONSE = {
  description: "MLflow's error format, with the HTTP status of its error code",
  content: {
    "application/json": {
      schema: {
        type: "object",
        required: ["error_code", "message"],
        properties: { error_code: { type: "string" }, message: { type: "string" } },
      },
    },
  },
};

/** Plain JSON of a TypeBox schema (drops its symbol-keyed metadata). */
function plain(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

export function controlPlaneOpenApi(
  routes: readonly RegisteredRoute[],
  options: { version: string; policies?: PolicyTable },
): Record<string, unknown> {
  const specs = specIndex();
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const route of routes) {
    if (route.method === "HEAD" || route.url.startsWith("/ajax-api/") || route.url === "/*") continue;
    const method = route.method.toLowerCase();
    const path = openApiPath(route.url);
    const spec = specs.get(`${route.method} ${route.url}`);
    const policy = policyFor(route.method, route.url, options.policies);
    const tag = tagOf(route.url);
    tags.add(tag);
    const params = [...path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => ({
      name: m[1]!,
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const operation: Record<string, unknown> = {
      operationId: `${spec?.name ?? policy?.action ?? path}${route.method === spec?.method || !spec ? "" : `_${method}`}`,
      summary: policy?.action ?? route.url,
      tags: [tag],
      "x-slipway-access": policy ? describeAccess(policy.access) : "not served with --auth (no policy)",
      responses: {
        "200": spec
          ? { description: "OK", content: { "application/json": { schema: plain(spec.response) } } }
          : { description: "OK" },
        default: ERROR_RESPONSE,
      },
    };
    if (spec && route.method === "GET") {
      const schema = plain(spec.request);
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      const required = new Set((schema.required ?? []) as string[]);
      params.push(
        ...Object.entries(properties).map(([name, property]) => ({
          name,
          in: "query",
          required: required.has(name),
          schema: property as { type: string },
        })),
      );
    } else if (spec) {
      operation.requestBody = { required: true, content: { "application/json": { schema: plain(spec.request) } } };
    }
    if (params.length > 0) operation.parameters = params;
    (paths[path] ??= {})[method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Slipway control plane",
      version: options.version,
      description:
        "MLflow's REST API (tracking, model registry, artifacts proxy, auth) and Slipway's own endpoints. Every " +
        "/api/2.0 route is also served under /ajax-api/2.0. With `slipway server --auth`, requests authenticate " +
        "with HTTP basic, a bearer token or the UI's session cookie; `x-slipway-access` says who may call each route.",
    },
    tags: [...tags].sort().map((name) => ({ name })),
    components: {
      securitySchemes: {
        basic: { type: "http", scheme: "basic" },
        bearer: { type: "http", scheme: "bearer", description: "an API token (slw_…) from tokens/create" },
        session: { type: "apiKey", in: "cookie", name: "slipway_session" },
      },
    },
    paths,
  };
}
