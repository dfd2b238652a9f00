/**
 * Auth on the model server: an `onRequest` hook that authenticates every request except the public ones
 * (health, readiness, version, metrics, the OpenAPI document) before its body is read, and for a prediction
 * or model route requires access to the model the request goes to — with several models served, the one
 * it routes to (`/v2/models/{name}/…`, `/invocations?model=` or `X-Slipway-Model`, Vertex AI's default).
 *
 * For control-plane users that is at least READ on the registered model the served model came from
 * (`models:/NAME@alias` → NAME; a model loaded from a run or a path is checked under its served name). A
 * refusal is thrown as an `InferenceError`, so each protocol writes it in its own format:
 * `UNAUTHENTICATED` 401 (with `WWW-Authenticate`), `PERMISSION_DENIED` 403, `TEMPORARILY_UNAVAILABLE` 503
 * when the control plane cannot be asked.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { InferenceError } from "../errors.js";
import { pathParams } from "../http/route.js";
import { invocationModelLabel } from "../protocols/mlflow.js";
import type { ModelSet } from "../serving/model-set.js";
import type { ServedModel } from "../serving/served-model.js";
import { authChallenge, DataPlaneAuthError } from "./auth-errors.js";
import type { AuthResource, DataPlaneAuth } from "./data-plane-auth.js";

/** Operations anyone may call: probes, the version, metrics and the API document. */
export const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set([
  "mlflowPing",
  "mlflowHealth",
  "mlflowVersion",
  "kserveLive",
  "kserveReady",
  "vertexHealth",
  "metrics",
  "openApi",
]);

/** Seconds a client is asked to wait when the control plane cannot be reached. */
const UNAVAILABLE_RETRY_AFTER_S = 5;

/** The registered model whose permissions apply to a served model. */
export function registeredModelOf(model: ServedModel): string {
  const match = model.source === undefined ? null : /^models:\/([^/@]+)/.exec(model.source);
  return match?.[1] ?? model.name;
}

function routedModel(models: ModelSet, request: FastifyRequest, protocol: string): ServedModel | undefined {
  const name = pathParams(request).name;
  if (name !== undefined) return models.get(name);
  if (request.method !== "POST" || models.size === 0) return undefined;
  if (protocol === "mlflow") {
    const label = invocationModelLabel(models, request);
    return label === "" ? undefined : models.get(label);
  }
  return protocol === "vertex" ? models.default() : undefined;
}

/** A refusal as the model server's error (each protocol's error writer formats it). */
export function toInferenceError(error: DataPlaneAuthError): InferenceError {
  switch (error.reason) {
    case "unauthenticated":
      return new InferenceError("UNAUTHENTICATED", error.message);
    case "forbidden":
      return new InferenceError("PERMISSION_DENIED", error.message);
    case "unavailable":
      return new InferenceError("TEMPORARILY_UNAVAILABLE", error.message, {
        retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_S,
        cause: error,
      });
  }
}

export function modelServerAuthHook(
  auth: DataPlaneAuth,
  models: ModelSet,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    const config = request.routeOptions.config as { protocol?: string; operationId?: string } | undefined;
    // unknown paths (404) and public operations need no credentials
    if (config?.operationId === undefined || PUBLIC_OPERATIONS.has(config.operationId)) return;
    const model = routedModel(models, request, config.protocol ?? "");
    const resource: AuthResource | undefined = model && {
      model: model.name,
      registeredModel: registeredModelOf(model),
    };
    try {
      await auth.authenticate(request.headers.authorization, resource);
    } catch (error) {
      if (!(error instanceof DataPlaneAuthError)) throw error;
      if (error.reason === "unauthenticated") reply.header("www-authenticate", authChallenge(auth.schemes));
      else if (error.reason === "unavailable") request.log.warn({ err: error }, "control plane unavailable");
      throw toInferenceError(error);
    }
  };
}
