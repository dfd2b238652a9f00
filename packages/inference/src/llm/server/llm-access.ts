/**
 * Who may call the LLM server, how much, and what they used: authentication (`--api-keys`, `--auth
 * control-plane`), per-key model restrictions and rate limits, usage accounting per key and model, and
 * vLLM's request metrics — all at the HTTP edge, around the provider's event stream, so the embedded engine
 * and upstream routes are treated alike.
 *
 * - Authentication runs in an `onRequest` hook for every route but `/health` and `/metrics`; a missing or
 *   wrong key is 401 `invalid_api_key` (OpenAI's answer), the control plane unreachable 503.
 * - A key restricted to some models gets 404 `model_not_found` for the others, the answer OpenAI gives for
 *   a model the caller cannot access, so a key cannot probe which models exist.
 * - Rate limits (`rate-limiter.ts`) are checked once the model is known; a refusal is 429
 *   `rate_limit_exceeded` (type `requests` or `tokens`) with `Retry-After`; every answer to a limited key
 *   carries OpenAI's `x-ratelimit-*` headers.
 * - Control-plane callers are counted as `user:NAME` and have no per-key limits; without auth, everything is
 *   counted under `anonymous`.
 * - With a tracer (`--trace-experiment`), a sampled chat or completion request is also recorded as an MLflow
 *   trace (traces/llm-trace.ts) by the same observation of its stream that accounts its usage.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { authChallenge, DataPlaneAuthError } from "../../auth/auth-errors.js";
import { callerAllowsModel, type DataPlaneAuth, type DataPlaneCaller } from "../../auth/data-plane-auth.js";
import type { GenerationEvent, GenerationStream, TokenUsage } from "../engine/llm-provider.js";
import { LlmError, modelNotFound } from "../errors.js";
import type { RateLimiter, RateLimits } from "../keys/rate-limiter.js";
import type { UsageAccount, UsageLedger } from "../keys/usage-ledger.js";
import type { VllmMetrics, VllmModelMetrics } from "./vllm-metrics.js";
import type { LlmTraceRecorder, LlmTracer, TracedRequest } from "../traces/llm-trace.js";

/** Routes anyone may call. */
export const PUBLIC_LLM_ROUTES: ReadonlySet<string> = new Set(["/health", "/metrics"]);

/** Usage of callers when the server has no auth. */
export const ANONYMOUS = "anonymous";

const UNAVAILABLE_RETRY_AFTER_S = 5;

export interface LlmAccessOptions {
  /** Absent: no authentication (everyone is `anonymous`, unlimited). */
  auth?: DataPlaneAuth;
  limiter: RateLimiter;
  ledger: UsageLedger;
  vllm: VllmMetrics;
  /** Records sampled requests as traces on a tracking server; absent: no tracing. */
  tracer?: LlmTracer;
}

export class LlmAccess {
  readonly auth: DataPlaneAuth | undefined;
  readonly ledger: UsageLedger;
  private readonly limiter: RateLimiter;
  private readonly vllm: VllmMetrics;
  private readonly tracer: LlmTracer | undefined;
  private readonly callers = new WeakMap<FastifyRequest, DataPlaneCaller>();

  constructor(options: LlmAccessOptions) {
    this.auth = options.auth;
    this.tracer = options.tracer;
    this.limiter = options.limiter;
    this.ledger = options.ledger;
    this.vllm = options.vllm;
  }

  /** The `onRequest` hook: authenticates the request (when auth is on) and remembers its caller. */
  readonly authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const auth = this.auth;
    const route = request.routeOptions.url;
    // unknown paths (404) and public routes need no key
    if (auth === undefined || route === undefined || PUBLIC_LLM_ROUTES.has(route)) return;
    try {
      this.callers.set(request, await auth.authenticate(request.headers.authorization));
    } catch (error) {
      if (!(error instanceof DataPlaneAuthError)) throw error;
      if (error.reason === "unavailable") {
        request.log.warn({ err: error }, "control plane unavailable");
        throw new LlmError(error.message, {
          status: 503,
          type: "server_error",
          code: "auth_unavailable",
          retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_S,
        });
      }
      reply.header("www-authenticate", authChallenge(auth.schemes));
      throw new LlmError(
        error.message === "Invalid API key"
          ? "Incorrect API key provided. Check the key, or ask for one (slipway llm keys create)."
          : error.message,
        { status: 401, type: "invalid_request_error", code: "invalid_api_key" },
      );
    }
  };

  /** The authenticated caller; undefined without auth. */
  caller(request: FastifyRequest): DataPlaneCaller | undefined {
    return this.callers.get(request);
  }

  /** Whether the caller may see `model` (listing, `GET /v1/models/{id}`). */
  canUse(request: FastifyRequest, model: string): boolean {
    const caller = this.callers.get(request);
    return caller === undefined || callerAllowsModel(caller, model);
  }

  /**
   * Admits a request for `model` (already resolved): 404 for a model the key may not use, 429 over the key's
   * limits (with `Retry-After` and the `x-ratelimit-*` headers set on `reply`). `started` is when the
   * request arrived (`performance.now()`), for latency metrics.
   */
  admit(request: FastifyRequest, reply: FastifyReply, model: string, started: number): Admission {
    const caller = this.callers.get(request);
    if (caller !== undefined && !callerAllowsModel(caller, model)) throw modelNotFound(model);
    const name = caller?.name ?? ANONYMOUS;
    const limits: RateLimits = caller?.kind === "key" ? { rpm: caller.key.rpm, tpm: caller.key.tpm } : {};
    const decision = this.limiter.admit(name, limits);
    if (!decision.allowed) {
      reply.headers(decision.headers);
      this.ledger.rateLimit(name, decision.kind!);
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      const per = decision.kind === "requests" ? "requests per min (RPM)" : "tokens per min (TPM)";
      throw new LlmError(
        `Rate limit reached for key '${name}' on ${per}: Limit ${decision.limit}, Used ${decision.used}. ` +
          `Please try again in ${(decision.retryAfterMs / 1000).toFixed(3)}s.`,
        { status: 429, type: decision.kind!, code: "rate_limit_exceeded", retryAfterSeconds: seconds },
      );
    }
    const account = this.ledger.account(name, model);
    account.request();
    return new Admission({
      headers: decision.headers,
      account,
      vllm: this.vllm.model(model),
      started,
      ...(limits.tpm === undefined ? {} : { countTokens: (n: number) => this.limiter.addTokens(name, n) }),
      ...(this.tracer === undefined
        ? {}
        : {
            trace: (traced: TracedRequest) =>
              this.tracer!.begin(
                { requestId: request.id, model, started, ...(caller === undefined ? {} : { caller: caller.name }) },
                traced,
              ),
          }),
    });
  }
}

interface AdmissionParts {
  headers: Record<string, string>;
  account: UsageAccount;
  vllm: VllmModelMetrics;
  started: number;
  /** Counts tokens against the key's tpm, when it has one. */
  countTokens?: (tokens: number) => void;
  /** Starts the request's trace (undefined when not sampled); absent without a tracer. */
  trace?: (request: TracedRequest) => LlmTraceRecorder | undefined;
}

/** One admitted request: its rate-limit headers, and the accounting of what it generates. */
export class Admission {
  readonly headers: Record<string, string>;
  private recorder: LlmTraceRecorder | undefined;

  constructor(private readonly parts: AdmissionParts) {
    this.headers = parts.headers;
  }

  /** Records this request as a trace, when the server traces and samples it: call before `observe` or `failed`. */
  traced(request: TracedRequest): void {
    this.recorder ??= this.parts.trace?.(request);
  }

  /** The provider refused the request (bad input, prompt too long, queue full...). */
  failed(error?: unknown): void {
    this.parts.account.error();
    this.recorder?.end({ promptTokens: 0, completionTokens: 0, error: error ?? new Error("the request failed") });
  }

  /** An embeddings request answered: its input tokens. */
  embedded(promptTokens: number): void {
    const { account, vllm, countTokens, started } = this.parts;
    account.tokens(promptTokens, 0);
    vllm.promptTokens(promptTokens);
    vllm.e2eLatency((performance.now() - started) / 1000);
    countTokens?.(promptTokens);
  }

  /**
   * The generation, accounted as it streams: each piece of text counts against the key's tpm at once;
   * when the stream ends (finished, failed, or left by the client) the exact usage replaces the estimate
   * and feeds the usage counters and vLLM's metrics. `signal` is the client's connection: a stream that
   * fails because the client left is an abort, not an error.
   */
  observe(stream: GenerationStream, signal?: AbortSignal): GenerationStream {
    const { account, vllm, countTokens, started } = this.parts;
    const recorder = this.recorder;
    recorder?.acceptedNow();
    const prompt = stream.promptTokens;
    let counted = 0;
    if (countTokens && prompt > 0) {
      countTokens(prompt);
      counted = prompt;
    }
    async function* accounted(): AsyncGenerator<GenerationEvent> {
      let outcome: "done" | "error" | undefined;
      let first: number | undefined;
      let last = 0;
      let pieces = 0;
      let usage: TokenUsage | undefined;
      let failure: unknown;
      const finished = new Set<number>();
      try {
        for await (const event of stream) {
          if (event.type === "text") {
            last = performance.now();
            first ??= last;
            pieces++;
            if (countTokens) {
              countTokens(1);
              counted++;
            }
            recorder?.text(event.choice, event.text);
          } else if (event.type === "finish") {
            finished.add(event.choice);
            vllm.finished(event.reason);
            recorder?.finish(event.reason);
          } else usage = event.usage;
          yield event;
        }
        outcome = "done";
      } catch (error) {
        if (signal?.aborted !== true) outcome = "error";
        failure = signal?.aborted === true ? new Error("cancelled: the client disconnected") : error;
        throw error;
      } finally {
        const promptTokens = usage?.promptTokens ?? stream.promptTokens;
        const completionTokens = usage?.completionTokens ?? pieces;
        countTokens?.(promptTokens + completionTokens - counted);
        account.tokens(promptTokens, completionTokens);
        vllm.promptTokens(promptTokens);
        vllm.generationTokens(completionTokens);
        if (outcome === "error") account.error();
        else {
          // left by the client (the stream ends without the choices' finish events, or is not read to its end)
          for (let choice = 0; choice < stream.choices; choice++) if (!finished.has(choice)) vllm.finished("abort");
          vllm.e2eLatency((performance.now() - started) / 1000);
        }
        if (recorder) {
          const left = failure === undefined && outcome !== "done" ? new Error("cancelled: the client left") : failure;
          recorder.end({ promptTokens, completionTokens, ...(left === undefined ? {} : { error: left }) });
        }
        if (first !== undefined) {
          vllm.timeToFirstToken((first - started) / 1000);
          if (completionTokens > 1 && last > first) {
            vllm.timePerOutputToken((last - first) / 1000 / (completionTokens - 1), completionTokens - 1);
          }
        }
      }
    }
    return {
      choices: stream.choices,
      get promptTokens() {
        return stream.promptTokens;
      },
      [Symbol.asyncIterator]: accounted,
    };
  }
}
