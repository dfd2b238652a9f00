/**
 * An `LlmProvider` for one model name served by OpenAI-compatible upstream servers (vLLM, TGI, Ollama,
 * llama.cpp's server, another Slipway): weighted balancing over the targets that are up, retries with
 * exponential backoff that honour `Retry-After`, within an attempt and a time budget, and timeouts.
 *
 * **Commit point.** `chat` / `complete` resolve only once an attempt has produced its first event (a
 * stream's first token, or a whole non-streaming answer): every failure before it — refused
 * connections, 5xx, 429, timeouts, unreadable answers — is retried on the same or another target and,
 * when all fail, rejected as one `LlmError`, so the edge still answers with a real status (and the
 * fallback chain can step in). After it, nothing is retried: a failure is a mid-stream error.
 *
 * **Cancellation.** Every call carries a signal that combines the client's connection, the attempt's
 * timer and the provider's shutdown; aborting it destroys the socket at once, so the upstream sees the
 * connection close and stops generating. Leaving the event stream early does the same.
 *
 * The client's choice of streaming is kept upstream (`raw.stream`): a streaming request streams from
 * the upstream (SSE parsed into typed events here, serialised again once at our edge); a whole answer
 * is asked for as a whole answer.
 */
import type { IncomingMessage } from "node:http";
import { LlmError, shuttingDown } from "../errors.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbeddingRequest,
  EmbeddingResult,
  GenerationEvent,
  GenerationStream,
  JsonObject,
  LlmModelCard,
  LlmProvider,
  ProviderLoad,
} from "../engine/llm-provider.js";
import type { ModelRouteConfig } from "./routing-config.js";
import {
  AttemptTimeout,
  ClientGone,
  routeError,
  unavailableError,
  UpstreamRouteError,
  type AttemptFailure,
} from "./upstream-errors.js";
import { readBody, retryAfterMs, sendUpstream } from "./upstream-http.js";
import type { AttemptErrorKind, UpstreamMetrics } from "./upstream-metrics.js";
import { describeError, UpstreamTarget, type HealthChange } from "./upstream-target.js";
import {
  ChunkDecoder,
  ENDPOINT_PATHS,
  UpstreamProtocolError,
  UpstreamStreamError,
  chatBody,
  completionBody,
  embeddingBody,
  errorBody,
  eventsOfResponse,
  parseJson,
  vectorsOfEmbeddings,
  type UpstreamEndpoint,
  type WireErrorBody,
} from "./upstream-wire.js";
import { WeightedPicker } from "./weighted-picker.js";
import { SseReader, bufferedStream } from "./upstream-streams.js";

/** Largest whole answer read from an upstream (n long choices, many embeddings). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;

/** One request's path through the targets, for the log. */
export interface RouteRecord {
  model: string;
  endpoint: UpstreamEndpoint;
  outcome: "ok" | "failed" | "client_gone";
  ms: number;
  attempts: { target: string; ms: number; result: string }[];
}

export type RouteLog = (level: "debug" | "warn", message: string, record: object) => void;

export interface UpstreamProviderOptions {
  route: ModelRouteConfig;
  metrics: UpstreamMetrics;
  log?: RouteLog;
  /** Jitter source (tests pin it). */
  random?: () => number;
}

/** A non-2xx answer. */
class UpstreamHttpError extends Error {
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly body: WireErrorBody,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`${status} ${statusText}`);
  }
}

interface Attempt {
  readonly target: UpstreamTarget;
  readonly endpoint: UpstreamEndpoint;
  /** Aborted by the client leaving, the attempt's timer, or `close`. */
  readonly signal: AbortSignal;
  readonly sentAt: number;
  /** Ends the first-answer timer and starts the idle timer (streams). */
  commit(): void;
  /** Rearms the idle timer (every chunk of a stream). */
  activity(): void;
  /** Ends the attempt (once): in-flight count, duration, and for a failure its kind. */
  finish(error?: AttemptErrorKind): void;
}

export class UpstreamProvider implements LlmProvider {
  readonly kind = "upstream";
  readonly name: string;
  private readonly targets: UpstreamTarget[];
  private readonly picker = new WeightedPicker<UpstreamTarget>();
  /** Each attempt's controller, aborted at `close` (no long-lived signal that every attempt would hang on). */
  private readonly active = new Set<AbortController>();
  /** Waits between attempts, woken at `close`. */
  private readonly sleepers = new Set<() => void>();
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly options: UpstreamProviderOptions) {
    const { route } = options;
    this.name = route.name;
    this.random = options.random ?? Math.random;
    this.targets = route.targets.map(
      (target) =>
        new UpstreamTarget(target, {
          model: route.name,
          health: route.health,
          metrics: options.metrics,
          onHealthChange: (change: HealthChange) =>
            options.log?.(
              "warn",
              `upstream ${change.target} of '${route.name}' is ${change.healthy ? "up" : "down"}: ${change.reason}`,
              { model: route.name, ...change },
            ),
        }),
    );
  }

  /** Starts the health checks. */
  open(): void {
    for (const target of this.targets) target.open();
  }

  /** Each target's state, for `/health` and tests. */
  targetStates(): { url: string; weight: number; healthy: boolean; inFlight: number; model: string }[] {
    return this.targets.map((t) => ({
      url: t.label,
      weight: t.weight,
      healthy: t.healthy,
      inFlight: t.inFlight,
      model: t.upstreamModel,
    }));
  }

  /** Runs one active health check of every target now (tests; the schedule runs them anyway). */
  async probeAll(): Promise<boolean[]> {
    return Promise.all(this.targets.map((t) => t.probe()));
  }

  models(): readonly LlmModelCard[] {
    return [{ id: this.name, created: this.created, ownedBy: "upstream" }];
  }

  load(): ProviderLoad {
    return { running: this.targets.reduce((sum, t) => sum + t.inFlight, 0), waiting: 0 };
  }

  chat(request: ChatRequest, signal: AbortSignal): Promise<GenerationStream> {
    const streaming = wantsStream(request.raw);
    return this.generate("chat", request.n, signal, streaming, (model) => chatBody(request, model, streaming));
  }

  complete(request: CompletionRequest, signal: AbortSignal): Promise<GenerationStream> {
    const streaming = wantsStream(request.raw);
    const choices = request.prompts.length * request.n;
    return this.generate("completion", choices, signal, streaming, (model) =>
      completionBody(request, model, streaming),
    );
  }

  embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
    return this.route("embedding", signal, async (attempt) => {
      const res = await this.post(attempt, embeddingBody(request, attempt.target.upstreamModel));
      const text = await readBody(res, MAX_ANSWER_BYTES);
      return { value: vectorsOfEmbeddings(parseJson(text, "the answer"), request.inputs.length), live: false };
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const controller of this.active) controller.abort(shuttingDown());
    for (const wake of this.sleepers) wake();
    for (const target of this.targets) target.close();
    return Promise.resolve();
  }

  private generate(
    endpoint: "chat" | "completion",
    choices: number,
    signal: AbortSignal,
    streaming: boolean,
    body: (model: string) => string,
  ): Promise<GenerationStream> {
    return this.route(endpoint, signal, async (attempt) => {
      const res = await this.post(attempt, body(attempt.target.upstreamModel));
      const type = String(res.headers["content-type"] ?? "");
      if (!streaming || !type.includes("text/event-stream")) {
        const text = await readBody(res, MAX_ANSWER_BYTES);
        const { events, usage } = eventsOfResponse(endpoint, parseJson(text, "the answer"), choices);
        return { value: bufferedStream(events, choices, usage.promptTokens, signal), live: false };
      }
      const reader = new SseReader(res, new ChunkDecoder(endpoint, choices), () => attempt.activity());
      const first = await reader.next();
      if (first === undefined) throw new UpstreamProtocolError("the stream ended before any event");
      attempt.commit();
      return { value: this.liveStream(attempt, reader, first, signal), live: true };
    });
  }

  private async post(attempt: Attempt, body: string): Promise<IncomingMessage> {
    const { target } = attempt;
    const res = await sendUpstream({
      url: target.endpoint(ENDPOINT_PATHS[attempt.endpoint]),
      method: "POST",
      headers: { ...target.headers(), accept: "application/json, text/event-stream" },
      body,
      agent: target.agent,
      signal: attempt.signal,
    });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    let text = "";
    try {
      text = await readBody(res, MAX_ERROR_BYTES);
    } catch {
      // the status says enough
    }
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      // not JSON: the text itself is the message
    }
    const fallback = text.trim() === "" ? (res.statusMessage ?? "") : text.trim().slice(0, 200);
    throw new UpstreamHttpError(
      status,
      res.statusMessage ?? "",
      errorBody(parsed, fallback),
      retryAfterMs(res.headers["retry-after"]),
    );
  }

  /** The retry loop: picks targets, runs attempts until one commits or the policy says stop. */
  private async route<T>(
    endpoint: UpstreamEndpoint,
    signal: AbortSignal,
    run: (attempt: Attempt) => Promise<{ value: T; live: boolean }>,
  ): Promise<T> {
    if (this.closed) throw shuttingDown();
    const { retries } = this.options.route;
    const started = performance.now();
    const failures: AttemptFailure[] = [];
    const trail: RouteRecord["attempts"] = [];
    const tried = new Set<UpstreamTarget>();
    const fail = (stoppedBecause: string, retryAfterSeconds?: number): LlmError => {
      const error = routeError({
        model: this.name,
        failures,
        elapsedMs: performance.now() - started,
        stoppedBecause,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      });
      if (error instanceof UpstreamRouteError) this.options.metrics.routeFailure(this.name, error.kind);
      this.record(endpoint, "failed", started, trail);
      return error;
    };
    for (let n = 1; ; n++) {
      if (this.closed) throw shuttingDown();
      if (signal.aborted) throw this.clientGone(endpoint, started, trail);
      const target = this.choose(tried);
      if (!target) {
        const retryAfter = Math.max(1, Math.ceil(this.options.route.health.intervalMs / 1000));
        if (failures.length > 0) throw fail("no target left up", retryAfter);
        this.options.metrics.routeFailure(this.name, "unavailable");
        this.record(endpoint, "failed", started, trail);
        throw unavailableError({
          model: this.name,
          targets: this.targets.map((t) => t.label),
          intervalMs: this.options.route.health.intervalMs,
        });
      }
      const cooling = target.coolingFor(Date.now());
      if (cooling > 0) {
        if (performance.now() - started + cooling > retries.budgetMs) {
          throw fail(`the upstream asked to wait ${(cooling / 1000).toFixed(1)} s, past the retry budget`);
        }
        await this.sleep(cooling, signal, endpoint, started, trail);
      }
      tried.add(target);
      const attempt = this.startAttempt(target, endpoint, signal);
      try {
        const { value, live } = await run(attempt);
        const ms = performance.now() - attempt.sentAt;
        target.metrics.firstResponse(endpoint, ms / 1000);
        target.succeeded("request");
        if (!live) attempt.finish();
        trail.push({ target: target.label, ms: Math.round(ms), result: "ok" });
        this.record(endpoint, "ok", started, trail);
        return value;
      } catch (error) {
        const ms = Math.round(performance.now() - attempt.sentAt);
        if (signal.aborted || this.closed) {
          // the client left or we are shutting down: not the target's failure
          attempt.finish();
          trail.push({ target: target.label, ms, result: "cancelled" });
          if (this.closed) throw shuttingDown();
          throw this.clientGone(endpoint, started, trail);
        }
        const failure = this.classify(error, attempt);
        attempt.finish(failure.kind);
        trail.push({ target: target.label, ms, result: failure.detail });
        failures.push(failure);
        this.noteHealth(target, failure);
        if (failure.kind === "client_error") throw fail("the upstream refused the request");
        if (n >= retries.attempts) throw fail(`${n} attempt${n === 1 ? "" : "s"}, the most allowed`);
        const delay = this.backoff(n);
        if (performance.now() - started + delay > retries.budgetMs) {
          throw fail(`retry budget of ${retries.budgetMs / 1000} s spent`);
        }
        target.metrics.retry();
        await this.sleep(delay, signal, endpoint, started, trail);
      }
    }
  }

  /** Prefers targets that are up, not cooling down, and not yet tried by this request. */
  private choose(tried: ReadonlySet<UpstreamTarget>): UpstreamTarget | undefined {
    const now = Date.now();
    const up = this.targets.filter((t) => t.healthy);
    if (up.length === 0) return undefined;
    const fresh = up.filter((t) => !tried.has(t) && t.coolingFor(now) === 0);
    if (fresh.length > 0) return this.picker.pick(fresh);
    const ready = up.filter((t) => t.coolingFor(now) === 0);
    if (ready.length > 0) return this.picker.pick(ready);
    return up.reduce((a, b) => (a.coolingFor(now) <= b.coolingFor(now) ? a : b));
  }

  private startAttempt(target: UpstreamTarget, endpoint: UpstreamEndpoint, client: AbortSignal): Attempt {
    const { timeoutMs, idleTimeoutMs } = this.options.route;
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(client.reason);
    if (client.aborted) onClientAbort();
    else client.addEventListener("abort", onClientAbort, { once: true });
    this.active.add(controller);
    let timeout = setTimeout(
      () => controller.abort(new AttemptTimeout(`no answer within ${formatMs(timeoutMs)}`)),
      timeoutMs,
    );
    let done = false;
    target.started();
    target.metrics.request(endpoint);
    const sentAt = performance.now();
    const active = this.active;
    return {
      target,
      endpoint,
      signal: controller.signal,
      sentAt,
      commit() {
        clearTimeout(timeout);
        timeout = setTimeout(
          () => controller.abort(new AttemptTimeout(`the stream went silent for ${formatMs(idleTimeoutMs)}`)),
          idleTimeoutMs,
        );
      },
      activity() {
        timeout.refresh();
      },
      finish(error) {
        if (done) return;
        done = true;
        clearTimeout(timeout);
        client.removeEventListener("abort", onClientAbort);
        active.delete(controller);
        target.ended();
        target.metrics.duration(endpoint, (performance.now() - sentAt) / 1000);
        if (error) target.metrics.error(error);
      },
    };
  }

  private classify(error: unknown, attempt: Attempt): AttemptFailure {
    const target = attempt.target.label;
    const reason: unknown = attempt.signal.aborted ? attempt.signal.reason : undefined;
    if (reason instanceof AttemptTimeout) return { target, kind: "timeout", detail: reason.message };
    if (error instanceof UpstreamHttpError) {
      const kind: AttemptErrorKind =
        error.status === 429 ? "rate_limited" : error.status >= 500 ? "server_error" : "client_error";
      const said =
        error.body.message !== error.statusText && error.body.message !== "" ? `: ${clip(error.body.message)}` : "";
      return {
        target,
        kind,
        detail: `${error.status} ${error.statusText}${said}`.trim(),
        status: error.status,
        body: error.body,
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      };
    }
    if (error instanceof UpstreamStreamError) {
      return { target, kind: "server_error", detail: `error event: ${clip(error.message)}`, body: error.body };
    }
    if (error instanceof UpstreamProtocolError) return { target, kind: "protocol", detail: clip(error.message) };
    return { target, kind: "connect", detail: describeError(error) };
  }

  /** Passive health: failures that say the target is unwell count toward marking it down. */
  private noteHealth(target: UpstreamTarget, failure: AttemptFailure): void {
    if (failure.retryAfterMs !== undefined) target.coolDown(Date.now() + failure.retryAfterMs);
    const overloaded = failure.status === 429 || (failure.status === 503 && failure.retryAfterMs !== undefined);
    if (failure.kind !== "client_error" && !overloaded) target.failed(failure.detail);
  }

  private backoff(retry: number): number {
    const { backoffMs, maxBackoffMs } = this.options.route.retries;
    return Math.min(maxBackoffMs, backoffMs * 2 ** (retry - 1)) * (0.5 + 0.5 * this.random());
  }

  private async sleep(
    ms: number,
    signal: AbortSignal,
    endpoint: UpstreamEndpoint,
    started: number,
    trail: RouteRecord["attempts"],
  ): Promise<void> {
    if (ms <= 0) return;
    const sleepers = this.sleepers;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        sleepers.delete(done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
      sleepers.add(done);
    });
    if (this.closed) throw shuttingDown();
    if (signal.aborted) throw this.clientGone(endpoint, started, trail);
  }

  private clientGone(endpoint: UpstreamEndpoint, started: number, trail: RouteRecord["attempts"]): ClientGone {
    this.record(endpoint, "client_gone", started, trail);
    return new ClientGone();
  }

  private record(
    endpoint: UpstreamEndpoint,
    outcome: RouteRecord["outcome"],
    started: number,
    attempts: RouteRecord["attempts"],
  ): void {
    const log = this.options.log;
    if (!log) return;
    const record: RouteRecord = {
      model: this.name,
      endpoint,
      outcome,
      ms: Math.round(performance.now() - started),
      attempts,
    };
    const clean = outcome === "ok" && attempts.length === 1;
    log(
      clean ? "debug" : "warn",
      `upstream route of '${this.name}': ${outcome} after ${attempts.length} attempt(s)`,
      record,
    );
  }

  /** The rest of a committed stream: the first event, then the upstream's, with a mid-stream error if it breaks. */
  private liveStream(
    attempt: Attempt,
    reader: SseReader,
    first: GenerationEvent,
    client: AbortSignal,
  ): GenerationStream {
    const name = this.name;
    const classify = (error: unknown) => this.classify(error, attempt);
    const closed = () => this.closed;
    async function* events(): AsyncGenerator<GenerationEvent> {
      let failure: AttemptErrorKind | undefined;
      try {
        yield first;
        for (;;) {
          const event = await reader.next();
          if (event === undefined) return;
          yield event;
        }
      } catch (error) {
        if (client.aborted) throw new ClientGone();
        if (closed()) throw shuttingDown();
        const f = classify(error);
        failure = "stream";
        if (f.kind !== "client_error") attempt.target.failed(`stream broke: ${f.detail}`);
        throw new LlmError(`Model '${name}': the upstream ${attempt.target.label} broke off the stream: ${f.detail}.`, {
          status: 502,
          type: "server_error",
          code: "upstream_stream_error",
          cause: error,
        });
      } finally {
        reader.close();
        attempt.finish(failure);
      }
    }
    const iterable = events();
    return {
      choices: reader.choices,
      get promptTokens() {
        return reader.promptTokens;
      },
      [Symbol.asyncIterator]: () => iterable,
    };
  }
}

function wantsStream(raw: JsonObject): boolean {
  return raw.stream === true;
}

function clip(text: string): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}

function formatMs(ms: number): string {
  return ms < 1000 || ms % 1000 !== 0 ? `${ms} ms` : `${ms / 1000} s`;
}
