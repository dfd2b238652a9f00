/**
 * MLflow's scoring protocol (`mlflow models serve`), which is also SageMaker's container contract:
 *
 * - `GET /ping`, `GET /health`: 200 with body `"\n"` when every model is ready, else 503;
 * - `GET /version`: the server version, as text;
 * - `POST /invocations`: JSON (`dataframe_split`, `dataframe_records`, `instances`, `inputs`, `params`) or
 *   CSV in, `{"predictions": ...}` out.
 *
 * MLflow's protocol names no model (`mlflow models serve` serves one), so when this server serves several,
 * the request names one: header `X-Slipway-Model: NAME` or query `?model=NAME` (the served name, as in the
 * KServe routes). With one model served, a request without a selector gets it, as MLflow's server does;
 * with several, it is a 400 that lists them; an unknown name is a 404 that lists them. SageMaker's
 * `/invocations` is this route (its contract has one model), under the same rule.
 *
 * Errors are MLflow's: `{"error_code": "BAD_REQUEST", "message": "..."}` with the error's status, except
 * content-type problems, which MLflow answers with a 415 in plain text.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { parseJson, stringifyJson } from "@slipway/protocol";
import { badInput, InferenceError } from "../errors.js";
import { bodyText, classifyError, parseContentType } from "../http/errors.js";
import { predictRouted, type ServingContext } from "../http/context.js";
import type { JsonSchema, ProtocolRoutes, RouteResponseDoc } from "../http/route.js";
import { parseCsv } from "../input/csv.js";
import type { RawInput } from "../input/raw-input.js";
import type { ModelSet } from "../serving/model-set.js";
import type { ServedModel } from "../serving/served-model.js";
import { decodeMlflowJson } from "./mlflow-decode.js";
import { mlflowPredictions, rowForm } from "./encode-predictions.js";

const CONTENT_TYPES = "['text/csv', 'application/json']";

/** A content-type problem: MLflow answers these in plain text. */
class UnsupportedMediaType extends InferenceError {
  constructor(message: string) {
    super("BAD_REQUEST", message, { status: 415 });
  }
}

const ERROR_SCHEMA: JsonSchema = {
  type: "object",
  required: ["error_code", "message"],
  properties: { error_code: { type: "string" }, message: { type: "string" } },
};

function errorDoc(description: string): RouteResponseDoc {
  return { description, content: { "application/json": ERROR_SCHEMA } };
}

const INVOCATIONS_BODY: JsonSchema = {
  type: "object",
  description: "Exactly one of dataframe_split, dataframe_records, instances, inputs; optional params.",
  properties: {
    dataframe_split: {
      type: "object",
      properties: { columns: { type: "array", items: { type: "string" } }, data: { type: "array" } },
    },
    dataframe_records: { type: "array", items: { type: "object" } },
    instances: { type: "array" },
    inputs: { oneOf: [{ type: "array" }, { type: "object" }] },
    params: { type: "object" },
  },
  example: { dataframe_split: { columns: ["text"], data: [["free money"], ["see you at 5"]] } },
};

/** The header that names the model an `/invocations` request is for (Node gives header names lower-cased). */
const MODEL_HEADER = "X-Slipway-Model";
/** ...or the query parameter. */
const MODEL_QUERY = "model";

/** The model an `/invocations` request names (header or query), if it names one; a 400 if it is unclear. */
function requestedModel(request: FastifyRequest): string | undefined {
  const header = request.headers[MODEL_HEADER.toLowerCase()];
  const query = (request.query as Record<string, unknown> | undefined)?.[MODEL_QUERY];
  if (Array.isArray(header) || Array.isArray(query)) {
    throw badInput(`Name one model: ${MODEL_HEADER} or ?${MODEL_QUERY}= was given more than once`);
  }
  if (header !== undefined && typeof header !== "string") throw badInput(`${MODEL_HEADER} must be a model name`);
  if (query !== undefined && typeof query !== "string") throw badInput(`?${MODEL_QUERY}= must be a model name`);
  if (header !== undefined && query !== undefined && header !== query) {
    throw badInput(`The ${MODEL_HEADER} header ('${header}') and ?${MODEL_QUERY}= ('${query}') name different models`);
  }
  const name = header ?? query;
  if (name === "") throw badInput(`${MODEL_HEADER} or ?${MODEL_QUERY}= is empty: give a model name`);
  return name;
}

function servedNames(models: ModelSet): string {
  return models
    .list()
    .map((m) => m.name)
    .join(", ");
}

/**
 * The model an `/invocations` request is for: the one it names (404 when that one is not served), else
 * the only one served (400 when there are several: the request must say which).
 */
function invocationModel(models: ModelSet, request: FastifyRequest): ServedModel {
  const name = requestedModel(request);
  if (name !== undefined) {
    const model = models.get(name);
    if (!model) {
      throw new InferenceError(
        "RESOURCE_DOES_NOT_EXIST",
        `Model '${name}' is not served here; this server serves ${servedNames(models)}`,
      );
    }
    return model;
  }
  if (models.size > 1) {
    throw badInput(
      `this server serves ${models.size} models (${servedNames(models)}): ` +
        `say which with the ${MODEL_HEADER} header or ?${MODEL_QUERY}=`,
    );
  }
  return models.default();
}

/** The metric label of an `/invocations` request: the model it got, `unknown` for a name not served. */
export function invocationModelLabel(models: ModelSet, request: FastifyRequest): string {
  try {
    return invocationModel(models, request).name;
  } catch {
    try {
      return requestedModel(request) === undefined ? "" : "unknown";
    } catch {
      return "";
    }
  }
}

export function sendMlflowError(ctx: ServingContext): (reply: FastifyReply, error: unknown) => FastifyReply {
  return (reply, error) => {
    const { error: e, internal } = classifyError(error, ctx.bodyLimit);
    if (internal) reply.log.error({ err: error }, "error while serving a request");
    if (e instanceof UnsupportedMediaType) return reply.code(415).type("text/plain; charset=utf-8").send(e.message);
    if (e.retryAfterSeconds !== undefined) reply.header("retry-after", String(e.retryAfterSeconds));
    return reply
      .code(e.status)
      .type("application/json")
      .send(JSON.stringify({ error_code: e.code, message: e.message }));
  };
}

/** Decodes an `/invocations` body by its content type (MLflow's rules). */
export function decodeInvocation(contentType: string | undefined, body: unknown): { raw: RawInput; params: unknown } {
  const { mime, params } = parseContentType(contentType);
  const charset = (params.charset ?? "utf-8").toLowerCase();
  if (charset !== "utf-8" && charset !== "utf8")
    throw new UnsupportedMediaType("The scoring server only supports UTF-8");
  const unexpected = Object.keys(params).filter((k) => k !== "charset");
  if (unexpected.length > 0) {
    throw new UnsupportedMediaType(`Unrecognized content type parameters: ${unexpected.join(", ")}.`);
  }
  if (mime === "application/json") {
    const text = bodyText(body);
    let parsed: unknown;
    try {
      parsed = parseJson(text);
    } catch (error) {
      throw badInput(
        `Invalid input. Ensure that input is a valid JSON formatted string. Error: '${(error as Error).message}'`,
      );
    }
    return decodeMlflowJson(parsed);
  }
  if (mime === "text/csv") return { raw: parseCsv(bodyText(body)), params: undefined };
  throw new UnsupportedMediaType(
    `This predictor only supports the following content types: Types: ${CONTENT_TYPES}. Got '${contentType ?? ""}'.`,
  );
}

export function mlflowRoutes(ctx: ServingContext): ProtocolRoutes {
  const ping = async (_request: unknown, reply: FastifyReply) => {
    if (!ctx.models.ready()) {
      throw new InferenceError("TEMPORARILY_UNAVAILABLE", "The model is not ready");
    }
    return reply.type("application/json").send("\n");
  };
  const pingDoc = {
    summary: "Health check (MLflow, SageMaker)",
    responses: {
      "200": { description: "Every model is loaded and warm; the body is a newline." },
      "503": errorDoc("A model is not ready (loading or shutting down)."),
    },
  };
  return {
    protocol: "mlflow",
    sendError: sendMlflowError(ctx),
    routes: [
      { method: "GET", path: "/ping", operationId: "mlflowPing", doc: pingDoc, handler: ping },
      { method: "GET", path: "/health", operationId: "mlflowHealth", doc: pingDoc, handler: ping },
      {
        method: "GET",
        path: "/version",
        operationId: "mlflowVersion",
        doc: {
          summary: "Server version (MLflow)",
          responses: { "200": { description: "The version", content: { "text/plain": { type: "string" } } } },
        },
        handler: async (_request, reply) => reply.type("text/plain; charset=utf-8").send(ctx.version),
      },
      {
        method: "POST",
        path: "/invocations",
        operationId: "mlflowInvocations",
        doc: {
          summary: "Predict (MLflow scoring protocol, SageMaker)",
          description:
            "JSON with one of dataframe_split, dataframe_records, instances, inputs (plus optional params), or CSV with a header row. " +
            `When the server serves more than one model, name the model with the ${MODEL_HEADER} header or the ` +
            `?${MODEL_QUERY}= query parameter (its served name, as in /v2/models/{name}); with one model, it is used.`,
          requestBody: {
            "application/json": INVOCATIONS_BODY,
            "text/csv": { type: "string", example: "text\nfree money\nsee you at 5\n" },
          },
          responses: {
            "200": {
              description: "The predictions",
              content: {
                "application/json": { type: "object", required: ["predictions"], properties: { predictions: {} } },
              },
            },
            "400": errorDoc(
              `The input does not fit the protocol or the model's signature, or several models are served and the request names none (${MODEL_HEADER}, ?${MODEL_QUERY}=).`,
            ),
            "404": errorDoc("The model the request names is not served here (the message lists those that are)."),
            "413": errorDoc("The body is larger than the limit."),
            "415": { description: "Unsupported content type", content: { "text/plain": { type: "string" } } },
            "503": {
              ...errorDoc("The admission queue is full; retry after Retry-After seconds."),
              headers: { "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } },
            },
          },
        },
        handler: async (request, reply) => {
          const requested = invocationModel(ctx.models, request);
          const { raw, params } = decodeInvocation(request.headers["content-type"], request.body);
          const { model, input, prediction } = await predictRouted(ctx, request, requested, raw, params);
          const inputKind = model.signature.inputs.kind;
          ctx.recordPrediction?.(request, { model, input, prediction, rowForm: rowForm(prediction, inputKind) });
          const predictions = mlflowPredictions(prediction, inputKind);
          return reply.type("application/json").send(stringifyJson({ predictions }));
        },
      },
    ],
  };
}
