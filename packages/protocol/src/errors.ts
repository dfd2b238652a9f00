/** MLflow error codes (databricks.proto `ErrorCode`) and the HTTP status each maps to. */
export const ERROR_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  MALFORMED_REQUEST: 400,
  INVALID_STATE_TRANSITION: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  NOT_FOUND: 404,
  ENDPOINT_NOT_FOUND: 404,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  CUSTOMER_UNAUTHORIZED: 401,
  ABORTED: 409,
  RESOURCE_CONFLICT: 409,
  ALREADY_EXISTS: 409,
  REQUEST_LIMIT_EXCEEDED: 429,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL_ERROR: 500,
  INVALID_STATE: 500,
  DATA_LOSS: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** The JSON body of every MLflow API error. */
export interface ErrorBody {
  error_code: string;
  message: string;
}

export function statusForCode(code: string): number {
  return (ERROR_STATUS as Record<string, number>)[code] ?? 500;
}

/**
 * An error that carries its MLflow error code; its HTTP status follows from the code.
 * The server turns it into `{"error_code", "message"}`; the SDK throws it for error answers.
 */
export class MlflowError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: ErrorCode | (string & {}), message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MlflowError";
    this.code = code;
    this.status = options?.status ?? statusForCode(code);
  }

  toJSON(): ErrorBody {
    return { error_code: this.code, message: this.message };
  }
}

export function invalidParameter(message: string): MlflowError {
  return new MlflowError("INVALID_PARAMETER_VALUE", message);
}

export function notFound(message: string): MlflowError {
  return new MlflowError("RESOURCE_DOES_NOT_EXIST", message);
}
