/**
 * The LLM server's one error type, carrying exactly what OpenAI's error body carries
 * (`{"error": {"message", "type", "param", "code"}}`) plus the HTTP status and, for overload, the
 * seconds to put in `Retry-After`. Request parsing, providers and the HTTP edge all throw it; anything
 * else that escapes is an internal error (500, logged, no detail shown).
 */

/** `requests` / `tokens`: the limit a 429 hit, as OpenAI names it in rate-limit errors. */
export type LlmErrorType =
  "invalid_request_error" | "not_found_error" | "rate_limit_error" | "server_error" | "requests" | "tokens";

export interface LlmErrorOptions {
  status: number;
  type: LlmErrorType;
  /** The request field at fault (`messages[2].role`, `max_tokens`...), or null. */
  param?: string | null;
  /** A machine-readable code (`model_not_found`, `context_length_exceeded`...), or null. */
  code?: string | null;
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class LlmError extends Error {
  override readonly name = "LlmError";
  readonly status: number;
  readonly type: LlmErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, options: LlmErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.type = options.type;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The body OpenAI's clients parse. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A request that does not fit the API (400). */
export function invalidRequest(message: string, param: string | null = null, code: string | null = null): LlmError {
  return new LlmError(message, { status: 400, type: "invalid_request_error", param, code });
}

/** No model of that name is served here (404, as OpenAI answers it). */
export function modelNotFound(model: string): LlmError {
  return new LlmError(`The model '${model}' does not exist or you do not have access to it.`, {
    status: 404,
    type: "invalid_request_error",
    param: "model",
    code: "model_not_found",
  });
}

/** The prompt (with the completion asked for) does not fit the model's context (400; never truncated). */
export function contextLengthExceeded(options: {
  contextLength: number;
  promptTokens: number;
  maxTokens: number | undefined;
  param: string;
}): LlmError {
  const { contextLength, promptTokens, maxTokens } = options;
  const message =
    maxTokens === undefined
      ? `This model's maximum context length is ${contextLength} tokens. However, your prompt has ${promptTokens} tokens, ` +
        `which leaves no room for a completion. Please shorten the prompt.`
      : `This model's maximum context length is ${contextLength} tokens. However, you requested ` +
        `${promptTokens + maxTokens} tokens (${promptTokens} in the prompt, ${maxTokens} for the completion). ` +
        `Please reduce the length of the prompt or of the completion.`;
  return invalidRequest(message, options.param, "context_length_exceeded");
}

/** Every slot and the queue are full (503 with Retry-After; 429 is kept for per-key rate limits). */
export function overloaded(model: string, retryAfterSeconds = 1): LlmError {
  return new LlmError(
    `Model '${model}' is at capacity: every sequence is busy and the queue is full. Retry after ${retryAfterSeconds} s.`,
    { status: 503, type: "server_error", code: "overloaded", retryAfterSeconds },
  );
}

/** The server is shutting down (503). */
export function shuttingDown(): LlmError {
  return new LlmError("The server is shutting down; retry on another replica.", {
    status: 503,
    type: "server_error",
    code: "shutting_down",
    retryAfterSeconds: 1,
  });
}

/** Anything unexpected, as clients see it (the cause is logged, not shown). */
export function internalError(cause: unknown): LlmError {
  return new LlmError("The server had an error while processing your request; see the server log.", {
    status: 500,
    type: "server_error",
    cause,
  });
}

export function toLlmError(error: unknown): { error: LlmError; internal: boolean } {
  if (error instanceof LlmError) return { error, internal: error.status >= 500 && error.status !== 503 };
  return { error: internalError(error), internal: true };
}
