/**
 * Routes as data: each protocol adapter declares its routes (method, OpenAPI path, documentation,
 * handler) and how it writes errors. The app mounts them, and the OpenAPI document is rendered from the
 * same list, so the document cannot drift from what is served.
 */
import type { FastifyReply, FastifyRequest } from "fastify";

export type Protocol = "mlflow" | "kserve" | "vertex" | "server";

export type JsonSchema = Record<string, unknown>;

export interface RouteResponseDoc {
  description: string;
  /** Content type → schema. */
  content?: Record<string, JsonSchema>;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  /** Content type → schema of the request body. */
  requestBody?: Record<string, JsonSchema>;
  /** Status → response. */
  responses: Record<string, RouteResponseDoc>;
}

export interface ServingRoute {
  method: "GET" | "POST";
  /** OpenAPI path: literal text with `{param}` placeholders (`/v2/models/{name}/infer`). */
  path: string;
  /** The path is literal throughout (braces are not placeholders): routes read from the environment. */
  literal?: boolean;
  operationId: string;
  doc: RouteDoc;
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/** Writes an error in a protocol's format. */
export type ErrorWriter = (reply: FastifyReply, error: unknown) => FastifyReply;

export interface ProtocolRoutes {
  protocol: Protocol;
  routes: ServingRoute[];
  sendError: ErrorWriter;
}

/** An OpenAPI path as a Fastify route URL: `{name}` → `:name`, a literal `:` → `::`. */
export function fastifyPath(path: string, literal = false): string {
  const escaped = path.replaceAll(":", "::");
  return literal ? escaped : escaped.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ":$1");
}

/** Path parameters of a request (Fastify gives them as strings). */
export function pathParams(request: FastifyRequest): Record<string, string | undefined> {
  return request.params as Record<string, string | undefined>;
}
