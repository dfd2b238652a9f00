/**
 * Failed upstream attempts, and the one error a client sees when a model's targets could not serve it:
 * OpenAI's format, a status that says what happened (502 unreachable or bad answer, 503 overloaded or
 * every target down, 504 timeout), and a message naming the model, each attempt and how it failed.
 * A 4xx from an upstream is the client's own mistake: it goes back as the upstream worded it, unretried.
 */
import { LlmError } from "../errors.js";
import type { UpstreamFailureKind } from "./routing-config.js";
import type { AttemptErrorKind } from "./upstream-metrics.js";
import type { WireErrorBody } from "./upstream-wire.js";

export interface AttemptFailure {
  /** The target's URL (no credentials), or "" when no attempt was made. */
  readonly target: string;
  readonly kind: AttemptErrorKind;
  /** For people: `503 Service Unavailable: model is loading`, `connection refused`, `no answer within 500 ms`. */
  readonly detail: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly body?: WireErrorBody;
}

/** A model's upstream targets could not serve a request: the kind decides whether a fallback is tried. */
export class UpstreamRouteError extends LlmError {
  readonly kind: UpstreamFailureKind;
  readonly model: string;

  constructor(
    message: string,
    options: { model: string; kind: UpstreamFailureKind; status: number; code: string; retryAfterSeconds?: number },
  ) {
    super(message, {
      status: options.status,
      type: "server_error",
      code: options.code,
      ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
    });
    this.kind = options.kind;
    this.model = options.model;
  }
}

/** The reason an attempt's timer aborts it with (told apart from the client leaving). */
export class AttemptTimeout extends Error {
  override readonly name = "AttemptTimeout";
}

/** The client left (its connection closed): nothing is retried, nothing is reported to it. */
export class ClientGone extends LlmError {
  constructor() {
    super("The client closed the connection.", { status: 499, type: "invalid_request_error", code: "client_closed" });
  }
}

const SUMMARY: Record<UpstreamFailureKind, string> = {
  connect: "could not reach its upstream",
  timeout: "its upstream did not answer in time",
  rate_limited: "its upstream is rate limiting",
  server_error: "its upstream failed",
  protocol: "its upstream's answer could not be read",
  unavailable: "every upstream target is marked down by health checks",
};

function routeKind(kind: AttemptErrorKind): UpstreamFailureKind {
  return kind === "client_error" || kind === "stream" ? "server_error" : kind;
}

export interface RouteFailure {
  model: string;
  failures: readonly AttemptFailure[];
  elapsedMs: number;
  /** Why it stopped: `after 3 attempts`, `retry budget of 30 s spent`… */
  stoppedBecause: string;
  /** Seconds to suggest in Retry-After when every target is down or cooling down. */
  retryAfterSeconds?: number;
}

/** The error for a request none of a model's targets served. */
export function routeError(failure: RouteFailure): LlmError {
  const last = failure.failures.at(-1);
  if (last?.kind === "client_error" && last.status !== undefined) {
    return new LlmError(last.body?.message ?? last.detail, {
      status: last.status,
      type: asErrorType(last.body?.type),
      param: last.body?.param ?? null,
      code: last.body?.code ?? null,
    });
  }
  const kind: UpstreamFailureKind = last ? routeKind(last.kind) : "unavailable";
  const attempts = failure.failures.filter((f) => f.target !== "");
  const tried =
    attempts.length === 0
      ? ""
      : ` Tried ${attempts.length} attempt${attempts.length === 1 ? "" : "s"} in ${(failure.elapsedMs / 1000).toFixed(1)} s ` +
        `(${failure.stoppedBecause}): ${attempts.map((f) => `${f.target}: ${f.detail}`).join("; ")}.`;
  const lastDetail = attempts.length === 0 && last ? ` ${last.detail}.` : "";
  const message = `Model '${failure.model}': ${SUMMARY[kind]}.${tried}${lastDetail}`;
  const overloaded = kind === "rate_limited" || (kind === "server_error" && last?.status === 503);
  const retryAfter =
    last?.retryAfterMs !== undefined ? Math.max(1, Math.ceil(last.retryAfterMs / 1000)) : failure.retryAfterSeconds;
  const { status, code } =
    kind === "connect"
      ? { status: 502, code: "upstream_unreachable" }
      : kind === "timeout"
        ? { status: 504, code: "upstream_timeout" }
        : kind === "protocol"
          ? { status: 502, code: "upstream_bad_response" }
          : kind === "unavailable"
            ? { status: 503, code: "upstream_unavailable" }
            : overloaded
              ? { status: 503, code: "upstream_overloaded" }
              : { status: 502, code: "upstream_error" };
  return new UpstreamRouteError(message, {
    model: failure.model,
    kind,
    status,
    code,
    ...(status === 503 && retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
  });
}

/** Every target of a model is marked down: 503 at once, no attempt made. */
export function unavailableError(options: { model: string; targets: readonly string[]; intervalMs: number }): LlmError {
  const { model, targets, intervalMs } = options;
  const every = intervalMs > 0 ? `; they are checked every ${intervalMs / 1000} s` : "";
  return new UpstreamRouteError(
    `Model '${model}': ${SUMMARY.unavailable} (${targets.join(", ")})${every}. Retry later.`,
    {
      model,
      kind: "unavailable",
      status: 503,
      code: "upstream_unavailable",
      retryAfterSeconds: Math.max(1, Math.ceil(intervalMs / 1000)),
    },
  );
}

function asErrorType(type: string | null | undefined): LlmError["type"] {
  return type === "not_found_error" || type === "rate_limit_error" || type === "server_error"
    ? type
    : "invalid_request_error";
}

/** What kind of failure an error from any provider is, for `fallbackOn`; undefined: the client's fault (no fallback). */
export function failureKindOf(error: unknown): UpstreamFailureKind | undefined {
  if (error instanceof ClientGone) return undefined;
  if (error instanceof UpstreamRouteError) return error.kind;
  if (error instanceof LlmError) {
    if (error.status === 429) return "rate_limited";
    if (error.status === 503) return "unavailable";
    if (error.status >= 500) return "server_error";
    return undefined;
  }
  return "server_error";
}
