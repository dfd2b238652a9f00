/**
 * Google Vertex AI's custom-container contract: a health route and a predict route, both read from the
 * environment Vertex sets (`AIP_HEALTH_ROUTE`, `AIP_PREDICT_ROUTE`; defaults built from
 * `AIP_ENDPOINT_ID` and `AIP_DEPLOYED_MODEL_ID` as Vertex builds them), serving the default model.
 *
 * - `GET $AIP_HEALTH_ROUTE`: 200 `{}` when every model is ready, else 503;
 * - `POST $AIP_PREDICT_ROUTE`: `{"instances": [...], "parameters": {...}}` → `{"predictions": [...]}`, one
 *   prediction per instance in order (the output's value, or an object of outputs for several).
 *
 * Errors are `{"error": "message"}` (TensorFlow Serving's shape, which Vertex's prebuilt containers
 * answer) with the error's status.
 */
import { isPlainObject, kindOf } from "@slipway/ml";
import { parseJson, stringifyJson } from "@slipway/protocol";
import { badInput, InferenceError } from "../errors.js";
import { predictRouted, type ServingContext } from "../http/context.js";
import { bodyText, parseContentType } from "../http/errors.js";
import type { ProtocolRoutes } from "../http/route.js";
import { rowForm, vertexPredictions } from "./encode-predictions.js";
import { sendKserveError } from "./kserve-v2.js";
import { decodeInstances } from "./mlflow-decode.js";

export interface VertexSettings {
  healthRoute: string;
  predictRoute: string;
}

/** The routes from Vertex's environment variables, with Vertex's own defaults. */
export function vertexSettings(env: Readonly<Record<string, string | undefined>>, modelName: string): VertexSettings {
  const endpoint = env.AIP_ENDPOINT_ID || "default";
  const deployed = env.AIP_DEPLOYED_MODEL_ID || modelName;
  const base = `/v1/endpoints/${endpoint}/deployedModels/${deployed}`;
  const healthRoute = env.AIP_HEALTH_ROUTE || base;
  const predictRoute = env.AIP_PREDICT_ROUTE || `${base}:predict`;
  for (const [name, route] of [
    ["AIP_HEALTH_ROUTE", healthRoute],
    ["AIP_PREDICT_ROUTE", predictRoute],
  ] as const) {
    if (!route.startsWith("/")) throw new Error(`${name}: '${route}' is not a path (it must start with '/')`);
  }
  if (healthRoute === predictRoute) throw new Error("AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE must differ");
  return { healthRoute, predictRoute };
}

export function vertexRoutes(ctx: ServingContext, settings: VertexSettings): ProtocolRoutes {
  const errorContent = {
    "application/json": { type: "object", properties: { error: { type: "string" } } },
  };
  return {
    protocol: "vertex",
    sendError: sendKserveError(ctx),
    routes: [
      {
        method: "GET",
        // a literal path from the environment: braces are not placeholders
        path: settings.healthRoute,
        literal: true,
        operationId: "vertexHealth",
        doc: {
          summary: "Health check (Vertex AI, AIP_HEALTH_ROUTE)",
          responses: {
            "200": { description: "Ready: {}" },
            "503": { description: "Not ready", content: errorContent },
          },
        },
        handler: async (_request, reply) => {
          if (!ctx.models.ready()) throw new InferenceError("TEMPORARILY_UNAVAILABLE", "The model is not ready");
          return reply.type("application/json").send("{}");
        },
      },
      {
        method: "POST",
        path: settings.predictRoute,
        literal: true,
        operationId: "vertexPredict",
        doc: {
          summary: "Predict with the default model (Vertex AI, AIP_PREDICT_ROUTE)",
          requestBody: {
            "application/json": {
              type: "object",
              required: ["instances"],
              properties: { instances: { type: "array" }, parameters: { type: "object" } },
              example: { instances: ["free money", "see you at 5"] },
            },
          },
          responses: {
            "200": {
              description: "One prediction per instance",
              content: {
                "application/json": { type: "object", properties: { predictions: { type: "array" } } },
              },
            },
            "400": { description: "The request does not fit the model", content: errorContent },
            "413": { description: "The body is larger than the limit", content: errorContent },
            "415": { description: "The body is not JSON", content: errorContent },
            "503": { description: "The admission queue is full (see Retry-After)", content: errorContent },
          },
        },
        handler: async (request, reply) => {
          const { mime } = parseContentType(request.headers["content-type"]);
          if (mime !== "application/json") {
            throw new InferenceError("BAD_REQUEST", `Unsupported content type '${mime}'; send application/json`, {
              status: 415,
            });
          }
          let body: unknown;
          try {
            body = parseJson(bodyText(request.body));
          } catch (error) {
            if (error instanceof InferenceError) throw error;
            throw badInput(`The request body is not valid JSON: ${(error as Error).message}`);
          }
          if (!isPlainObject(body)) throw badInput(`The request must be a JSON object, got ${kindOf(body)}`);
          if (body.instances === undefined) throw badInput("The request has no 'instances'");
          const raw = decodeInstances(body.instances, "instances");
          const routed = await predictRouted(ctx, request, ctx.models.default(), raw, body.parameters);
          const { model, input, prediction } = routed;
          ctx.recordPrediction?.(request, { model, input, prediction, rowForm: rowForm(prediction, "columns") });
          return reply.type("application/json").send(stringifyJson({ predictions: vertexPredictions(prediction) }));
        },
      },
    ],
  };
}
