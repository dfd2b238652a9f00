import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { MlflowError, type ErrorBody } from "@slipway/protocol";

/** Maps any error to MLflow's JSON error body and status. Unknown errors are logged and become 500. */
export function toErrorResponse(error: unknown, request: FastifyRequest): { status: number; body: ErrorBody } {
  if (error instanceof MlflowError) return { status: error.status, body: error.toJSON() };
  const fe = error as Partial<FastifyError> & { type?: string };
  switch (fe.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return {
        status: 400,
        body: { error_code: "INVALID_PARAMETER_VALUE", message: "Content-Type must be one of ['application/json']" },
      };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        status: 413,
        body: {
          error_code: "RESOURCE_EXHAUSTED",
          message: `Request body is larger than the limit of ${request.routeOptions.bodyLimit ?? 0} bytes`,
        },
      };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return {
        status: 400,
        body: {
          error_code: "MALFORMED_REQUEST",
          message: "Body cannot be empty when content-type is set to 'application/json'",
        },
      };
    case "FST_ERR_BAD_URL":
    case "FST_ERR_ASYNC_CONSTRAINT":
      return { status: 400, body: { error_code: "BAD_REQUEST", message: "Malformed request URL" } };
    default:
      break;
  }
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error_code: "BAD_REQUEST", message: fe.message ?? "Bad request" } };
  }
  request.log.error({ err: error }, "unhandled error");
  return {
    status: 500,
    body: { error_code: "INTERNAL_ERROR", message: "Internal server error; the server log has the details." },
  };
}

export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  const { status, body } = toErrorResponse(error, reply.request);
  return reply.code(status).type("application/json").send(JSON.stringify(body));
}
