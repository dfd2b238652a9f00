/**
 * The server's OpenAPI 3 document (`GET /openapi.json`), rendered from the same route list the app
 * mounts: one operation per route, tagged with its protocol, with path parameters, request bodies and
 * responses (including each protocol's error bodies). Built once at startup.
 */
import type { ProtocolRoutes } from "./route.js";

export interface OpenApiInfo {
  version: string;
  /** Names of the served models (listed in the description and as the `name` parameter's enum). */
  models: readonly string[];
  /** With auth on: the schemes callers may use, and the operations that need none. */
  security?: { schemes: readonly ("bearer" | "basic")[]; publicOperations: ReadonlySet<string> };
}

const PROTOCOL_TAGS: Record<string, string> = {
  mlflow: "MLflow scoring protocol (also SageMaker's /ping and /invocations)",
  kserve: "KServe V2 / Open Inference Protocol",
  vertex: "Vertex AI custom container routes (AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE)",
  server: "Server: metrics and this document",
};

/** Every response carries it (see `app.ts`). */
const REQUEST_ID_HEADER = {
  description: "The request's id: the client's own x-request-id when sane (≤ 128 printable characters), else a UUID",
  schema: { type: "string" },
};

export function openApiDocument(groups: readonly ProtocolRoutes[], info: OpenApiInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const group of groups) {
    for (const route of group.routes) {
      const params = route.literal ? [] : [...route.path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
      const operation: Record<string, unknown> = {
        operationId: route.operationId,
        summary: route.doc.summary,
        tags: [group.protocol],
        responses: Object.fromEntries(
          Object.entries(route.doc.responses).map(([status, r]) => [
            status,
            {
              description: r.description,
              headers: { "X-Request-Id": REQUEST_ID_HEADER, ...r.headers },
              ...(r.content
                ? { content: Object.fromEntries(Object.entries(r.content).map(([type, schema]) => [type, { schema }])) }
                : {}),
            },
          ]),
        ),
      };
      if (route.doc.description) operation.description = route.doc.description;
      if (info.security?.publicOperations.has(route.operationId)) operation.security = [];
      if (params.length > 0) {
        operation.parameters = params.map((name) => ({
          name,
          in: "path",
          required: true,
          schema:
            name === "name" && info.models.length > 0 ? { type: "string", enum: [...info.models] } : { type: "string" },
        }));
      }
      if (route.doc.requestBody) {
        operation.requestBody = {
          required: true,
          content: Object.fromEntries(
            Object.entries(route.doc.requestBody).map(([type, schema]) => [type, { schema }]),
          ),
        };
      }
      (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
    }
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "Slipway model server",
      version: info.version,
      description: `Serves ${info.models.map((m) => `'${m}'`).join(", ") || "no model"} over MLflow's scoring protocol, KServe V2, SageMaker and Vertex AI. \`/invocations\` serves the model named by \`?model=\` or the \`X-Slipway-Model\` header (needed when several are served); Vertex AI's route serves the first one.`,
    },
    tags: groups.map((g) => ({ name: g.protocol, description: PROTOCOL_TAGS[g.protocol] ?? g.protocol })),
    paths,
    ...(info.security ? securityParts(info.security.schemes) : {}),
  };
}

/**
 * Auth's part of the document: the schemes (a bearer API key or control-plane token; HTTP basic with the
 * control plane), required by every operation that does not override it with `security: []`.
 */
function securityParts(schemes: readonly ("bearer" | "basic")[]): Record<string, unknown> {
  const all: Record<string, Record<string, unknown>> = {
    bearer: {
      type: "http",
      scheme: "bearer",
      description: "An API key of the server's keys file (sk-slw-…) or a control-plane API token (slw_…)",
    },
    basic: { type: "http", scheme: "basic", description: "A control-plane user's name and password" },
  };
  return {
    components: { securitySchemes: Object.fromEntries(schemes.map((s) => [s, all[s]])) },
    security: schemes.map((s) => ({ [s]: [] })),
  };
}
