/**
 * MLflow's scoring protocol (`mlflow models serve`), which is also SageMaker's container contract:
 *
 * - `GET /ping`, `GET /health`: 200 with body `"\n"` when every model is ready, else 503;
 * - `GET /version`: the server version, as text;
 * - `POST /invocations`: JSON (`dataframe_split`, `dataframe_records`, `instances`, `inputs`, `params`) or
 *   CSV in, `{"predictions": ...}` out, for the default (first) model.
 *
 * Errors are MLflow's: `{"error_code": "BAD_REQUEST", "message": "..."}` with the error's status, except
 * content-type problems, which MLflow answers with a 415 in plain text.
 */
import type { FastifyReply } from "fastify";
import { parseJson, stringifyJson } from "@slipway/protocol";
import { badInput, InferenceError } from "../errors.js";
import { bodyText, classifyError, parseContentType } from "../http/errors.js";
import type { ServingContext } from "../http/context.js";
import type { JsonSchema, ProtocolRoutes, RouteResponseDoc } from "../http/route.js";
import { parseCsv } from "../input/csv.js";
import type { RawInput } from "../input/raw-input.js";
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
          summary: "Predict with the default model (MLflow scoring protocol, SageMaker)",
          description:
            "JSON with one of dataframe_split, dataframe_records, instances, inputs (plus optional params), or CSV with a header row.",
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
            "400": errorDoc("The input does not fit the protocol or the model's signature."),
            "413": errorDoc("The body is larger than the limit."),
            "415": { description: "Unsupported content type", content: { "text/plain": { type: "string" } } },
            "503": {
              ...errorDoc("The admission queue is full; retry after Retry-After seconds."),
              headers: { "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } },
            },
          },
        },
        handler: async (request, reply) => {
          const model = ctx.models.default();
          const { raw, params } = decodeInvocation(request.headers["content-type"], request.body);
          const { input, prediction } = await model.predictWithInput(raw, params);
          const inputKind = model.signature.inputs.kind;
          ctx.recordPrediction?.(request, { model, input, prediction, rowForm: rowForm(prediction, inputKind) });
          const predictions = mlflowPredictions(prediction, inputKind);
          return reply.type("application/json").send(stringifyJson({ predictions }));
        },
      },
    ],
  };
}
