/**
 * The model server's one error type. It carries an MLflow error code and an HTTP status, so that each
 * protocol adapter can write it in its own format (MLflow `{error_code, message}`, KServe and Vertex
 * `{error}`); anything else thrown on the request path is an internal error (500, logged).
 */
import { MlflowError, type ErrorCode } from "@slipway/protocol";

export interface InferenceErrorOptions {
  /** HTTP status when it differs from the code's usual one (413, 415...). */
  status?: number;
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class InferenceError extends MlflowError {
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: InferenceErrorOptions = {}) {
    super(code, message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.status === undefined ? {} : { status: options.status }),
    });
    this.name = "InferenceError";
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** A request that does not fit the protocol or the model's signature (400). */
export function badInput(message: string): InferenceError {
  return new InferenceError("BAD_REQUEST", message);
}

/** No model of that name (or version) is served here (404). */
export function unknownModel(name: string, version?: string): InferenceError {
  return new InferenceError(
    "RESOURCE_DOES_NOT_EXIST",
    version === undefined
      ? `Model '${name}' is not served here`
      : `Model '${name}' version '${version}' is not served here`,
  );
}

/** The body is larger than the server accepts (413). */
export function bodyTooLarge(limit: number): InferenceError {
  return new InferenceError("BAD_REQUEST", `Request body is larger than the limit of ${limit} bytes`, {
    status: 413,
  });
}

/** The admission queue is full (503 with Retry-After). */
export function overloaded(model: string, capacity: number, retryAfterSeconds = 1): InferenceError {
  return new InferenceError(
    "TEMPORARILY_UNAVAILABLE",
    `Model '${model}' is at capacity (${capacity} requests queued); retry after ${retryAfterSeconds} s`,
    { retryAfterSeconds },
  );
}
