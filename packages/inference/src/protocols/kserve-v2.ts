/**
 * The KServe V2 / Open Inference Protocol (REST): server health and metadata, model metadata and
 * readiness, and inference, for every served model by name (optionally by version).
 *
 * Health answers carry the truth in the status code (200 / 503) and in a JSON body, which satisfies both
 * the original V2 text (status only) and KServe's server (bodies). Errors are `{"error": "message"}` with
 * the error's status: 400 bad input, 404 unknown model or version, 413 body too large, 415 a body that is
 * not JSON, 503 (with Retry-After) when the admission queue is full.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Schema } from "@slipway/ml";
import { parseJson } from "@slipway/protocol";
import { badInput, InferenceError } from "../errors.js";
import { predictRouted, type ServingContext } from "../http/context.js";
import { bodyText, classifyError, parseContentType } from "../http/errors.js";
import { pathParams, type JsonSchema, type ProtocolRoutes, type RouteDoc, type ServingRoute } from "../http/route.js";
import type { ServedModel } from "../serving/served-model.js";
import { kserveDatatype, tensorDtypeOf } from "../predictors/tensors.js";
import { kserveOutput, type KserveOutput } from "./encode-predictions.js";
import { decodeKserveRequest } from "./kserve-decode.js";

const ERROR_SCHEMA: JsonSchema = { type: "object", required: ["error"], properties: { error: { type: "string" } } };
const errorContent = { "application/json": ERROR_SCHEMA };

const TENSOR_META: JsonSchema = {
  type: "object",
  required: ["name", "datatype", "shape"],
  properties: {
    name: { type: "string" },
    datatype: { type: "string" },
    shape: { type: "array", items: { type: "integer" } },
  },
};

const TENSOR_DATA: JsonSchema = {
  type: "object",
  required: ["name", "shape", "datatype", "data"],
  properties: {
    name: { type: "string" },
    shape: { type: "array", items: { type: "integer" } },
    datatype: {
      type: "string",
      enum: ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP32", "FP64", "BYTES"],
    },
    parameters: { type: "object" },
    data: { type: "array" },
  },
};

export function sendKserveError(ctx: ServingContext): (reply: FastifyReply, error: unknown) => FastifyReply {
  return (reply, error) => {
    const { error: e, internal } = classifyError(error, ctx.bodyLimit);
    if (internal) reply.log.error({ err: error }, "error while serving a request");
    if (e.retryAfterSeconds !== undefined) reply.header("retry-after", String(e.retryAfterSeconds));
    return reply
      .code(e.status)
      .type("application/json")
      .send(JSON.stringify({ error: e.message }));
  };
}

interface MetaTensor {
  name: string;
  datatype: string;
  shape: number[];
}

const COLUMN_DATATYPES: Record<string, string> = {
  boolean: "BOOL",
  integer: "INT32",
  long: "INT64",
  float: "FP32",
  double: "FP64",
  string: "BYTES",
  binary: "BYTES",
  datetime: "BYTES",
};

/** A signature schema as KServe metadata tensors (columns are 1-D tensors of one value per row). */
function metaTensors(schema: Schema | undefined): MetaTensor[] {
  if (!schema) return [];
  if (schema.kind === "tensors") {
    return schema.tensors.map((t, i) => {
      const dtype = tensorDtypeOf(t.dtype);
      return {
        name: t.name ?? String(i),
        datatype: dtype ? kserveDatatype(dtype) : t.dtype.toUpperCase(),
        shape: t.shape,
      };
    });
  }
  return schema.columns.map((c, i) => ({
    name: c.name ?? String(i),
    datatype: typeof c.type === "string" ? (COLUMN_DATATYPES[c.type] ?? "BYTES") : "BYTES",
    shape: typeof c.type === "string" ? [-1] : [-1, -1],
  }));
}

function modelMetadata(model: ServedModel): Record<string, unknown> {
  return {
    name: model.name,
    ...(model.version === undefined ? {} : { versions: [model.version] }),
    platform: model.predictor.platform,
    inputs: metaTensors(model.signature.inputs),
    outputs: metaTensors(model.signature.outputs),
  };
}

function lookup(ctx: ServingContext, request: FastifyRequest): ServedModel {
  const { name, version } = pathParams(request);
  return ctx.models.require(name ?? "", version);
}

function decodeBody(request: FastifyRequest): unknown {
  const { mime } = parseContentType(request.headers["content-type"]);
  if (request.headers["inference-header-content-length"] !== undefined) {
    throw badInput("The binary tensor data extension is not supported here; send the tensors as JSON");
  }
  if (mime !== "application/json" && mime !== "") {
    throw new InferenceError("BAD_REQUEST", `Unsupported content type '${mime}'; send application/json`, {
      status: 415,
    });
  }
  try {
    return parseJson(bodyText(request.body));
  } catch (error) {
    if (error instanceof InferenceError) throw error;
    throw badInput(`The request body is not valid JSON: ${(error as Error).message}`);
  }
}

async function infer(ctx: ServingContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const model = lookup(ctx, request);
  const decoded = decodeKserveRequest(decodeBody(request));
  let wanted: string[] | undefined;
  if (decoded.outputs) {
    const known = new Set(model.signature.outputs ? metaTensors(model.signature.outputs).map((t) => t.name) : []);
    for (const name of decoded.outputs) {
      if (known.size > 0 && !known.has(name)) {
        throw badInput(`The model has no output '${name}' (its outputs: ${[...known].join(", ")})`);
      }
    }
    wanted = decoded.outputs;
  }
  const routed = await predictRouted(ctx, request, model, decoded.raw, decoded.params);
  const { model: answered, input, prediction } = routed;
  ctx.recordPrediction?.(request, { model: answered, input, prediction, rowForm: "record", outputNames: wanted });
  const outputs: KserveOutput[] = [];
  for (const [name, t] of prediction.outputs) {
    if (!wanted || wanted.includes(name)) outputs.push(kserveOutput(name, t));
  }
  const response = {
    model_name: answered.name,
    ...(answered.version === undefined ? {} : { model_version: answered.version }),
    ...(decoded.id === undefined ? {} : { id: decoded.id }),
    outputs,
  };
  return reply.type("application/json").send(JSON.stringify(response));
}

function modelRoutes(ctx: ServingContext, prefix: string, versioned: boolean): ServingRoute[] {
  const suffix = versioned ? "Version" : "";
  const notFound = { description: "No such model (or version)", content: errorContent };
  return [
    {
      method: "GET",
      path: prefix,
      operationId: `kserveModelMetadata${suffix}`,
      doc: {
        summary: "Model metadata (KServe V2)",
        responses: {
          "200": {
            description: "Name, versions, platform, inputs and outputs",
            content: {
              "application/json": {
                type: "object",
                properties: {
                  name: { type: "string" },
                  versions: { type: "array", items: { type: "string" } },
                  platform: { type: "string" },
                  inputs: { type: "array", items: TENSOR_META },
                  outputs: { type: "array", items: TENSOR_META },
                },
              },
            },
          },
          "404": notFound,
        },
      },
      handler: async (request, reply) =>
        reply.type("application/json").send(JSON.stringify(modelMetadata(lookup(ctx, request)))),
    },
    {
      method: "GET",
      path: `${prefix}/ready`,
      operationId: `kserveModelReady${suffix}`,
      doc: {
        summary: "Model readiness (KServe V2)",
        responses: {
          "200": { description: "Ready", content: { "application/json": { type: "object" } } },
          "503": { description: "Not ready", content: { "application/json": { type: "object" } } },
          "404": notFound,
        },
      },
      handler: async (request, reply) => {
        const model = lookup(ctx, request);
        return reply
          .code(model.ready ? 200 : 503)
          .type("application/json")
          .send(JSON.stringify({ name: model.name, ready: model.ready }));
      },
    },
    {
      method: "POST",
      path: `${prefix}/infer`,
      operationId: `kserveInfer${suffix}`,
      doc: inferDoc(notFound),
      handler: (request, reply) => infer(ctx, request, reply),
    },
  ];
}

function inferDoc(notFound: RouteDoc["responses"][string]): RouteDoc {
  return {
    summary: "Inference (KServe V2 / Open Inference Protocol)",
    requestBody: {
      "application/json": {
        type: "object",
        required: ["inputs"],
        properties: {
          id: { type: "string" },
          parameters: { type: "object" },
          inputs: { type: "array", items: TENSOR_DATA },
          outputs: { type: "array", items: { type: "object", properties: { name: { type: "string" } } } },
        },
        example: { inputs: [{ name: "text", shape: [2], datatype: "BYTES", data: ["free money", "see you at 5"] }] },
      },
    },
    responses: {
      "200": {
        description: "The outputs",
        content: {
          "application/json": {
            type: "object",
            required: ["model_name", "outputs"],
            properties: {
              model_name: { type: "string" },
              model_version: { type: "string" },
              id: { type: "string" },
              outputs: { type: "array", items: TENSOR_DATA },
            },
          },
        },
      },
      "400": { description: "The request does not fit the protocol or the model", content: errorContent },
      "404": notFound,
      "413": { description: "The body is larger than the limit", content: errorContent },
      "415": { description: "The body is not JSON", content: errorContent },
      "503": { description: "The admission queue is full (see Retry-After)", content: errorContent },
    },
  };
}

export function kserveRoutes(ctx: ServingContext): ProtocolRoutes {
  return {
    protocol: "kserve",
    sendError: sendKserveError(ctx),
    routes: [
      {
        method: "GET",
        path: "/v2/health/live",
        operationId: "kserveLive",
        doc: { summary: "Server liveness (KServe V2)", responses: { "200": { description: '{"live": true}' } } },
        handler: async (_request, reply) => reply.type("application/json").send('{"live":true}'),
      },
      {
        method: "GET",
        path: "/v2/health/ready",
        operationId: "kserveReady",
        doc: {
          summary: "Server readiness: every model ready (KServe V2)",
          responses: { "200": { description: '{"ready": true}' }, "503": { description: '{"ready": false}' } },
        },
        handler: async (_request, reply) => {
          const ready = ctx.models.ready();
          return reply
            .code(ready ? 200 : 503)
            .type("application/json")
            .send(ready ? '{"ready":true}' : '{"ready":false}');
        },
      },
      {
        method: "GET",
        path: "/v2",
        operationId: "kserveServerMetadata",
        doc: {
          summary: "Server metadata (KServe V2)",
          responses: { "200": { description: "Name, version and extensions" } },
        },
        handler: async (_request, reply) =>
          reply
            .type("application/json")
            .send(JSON.stringify({ name: "slipway", version: ctx.version, extensions: [] })),
      },
      ...modelRoutes(ctx, "/v2/models/{name}", false),
      ...modelRoutes(ctx, "/v2/models/{name}/versions/{version}", true),
    ],
  };
}
