/**
 * `slipway loadtest`: a load generator for OpenAI-compatible servers (ours, vLLM, TGI, Ollama, llama.cpp's
 * server) and for the model server's MLflow `/invocations`, until `requests` have been sent or `durationMs` has
 * passed (requests in flight then finish and count). Two shapes of load:
 *
 * - closed loop (default): `concurrency` workers each send a request, wait for its last byte, and send the next.
 *   The server sets the pace: a slow server receives fewer requests, which hides how slow it would be under a
 *   fixed demand (coordinated omission).
 * - open loop (`rate`): requests are sent on a schedule of `rate` per second — Poisson arrivals by default, as
 *   vLLM's serving benchmark draws them, or evenly spaced — whatever the server does; `concurrency` caps the
 *   requests in flight. A request sent later than its scheduled time (the cap was reached, or the client could
 *   not keep up) is counted, and its lag reported, so an overloaded server cannot pass for a fast one.
 *
 * What is sent: an OpenAI chat or text completion with a synthetic prompt, an MLflow `/invocations` body, or
 * the weighted request templates of a scenario file (`scenario.ts`). An optional warm-up (a number of requests
 * or a duration, in the same shape of load) runs first; its requests are left out of every figure.
 *
 * The caller gets the summary (see `load-report.ts`) and, while it runs, progress callbacks.
 */
import { LoadSamples, type LoadTestSummary, type WarmupSummary } from "./load-report.js";
import { newLoadAgent, runRequest, syntheticPrompt, type RequestPlan } from "./load-request.js";
import { pickTemplate, templateBody, type Scenario } from "./scenario.js";

export interface LoadTestOptions {
  /** OpenAI: the API's base URL (`http://127.0.0.1:8000/v1`); MLflow: the server's URL (or its `/invocations`). */
  url: string;
  protocol: "openai" | "mlflow";
  /** OpenAI endpoint (default chat). */
  endpoint?: "chat" | "completions";
  /** OpenAI: the model name. */
  model?: string;
  /** Closed loop: the number of clients; open loop: the most requests in flight at once. */
  concurrency: number;
  /** Open loop: requests per second to send, whatever the server's pace. */
  rate?: number;
  /** Open loop: `poisson` (exponential gaps, the default) or `uniform` (1 / rate apart). */
  arrivals?: "poisson" | "uniform";
  /** Open loop: seed of the Poisson schedule (default 1: the same run twice sends at the same times). */
  seed?: number;
  /** Requests to send; or */
  requests?: number;
  /** how long to keep sending. */
  durationMs?: number;
  /** OpenAI: prompt length (≈ tokens; default 128) and `max_tokens` (default 64). */
  promptTokens?: number;
  maxTokens?: number;
  stream?: boolean;
  /** OpenAI: send `ignore_eos` so every request generates `max_tokens` (default true; vLLM, llama.cpp and Slipway honour it). */
  ignoreEos?: boolean;
  /** Per request (default 60 s). */
  timeoutMs?: number;
  /** MLflow: the request body (JSON text). */
  body?: string;
  /** Send these request templates instead (`protocol` and `endpoint` are then ignored); `scenarioName` names it. */
  scenario?: Scenario;
  scenarioName?: string;
  /** Warm up first with this many requests, or for this long; left out of the figures. */
  warmupRequests?: number;
  warmupMs?: number;
  /** `Authorization: Bearer …`. */
  apiKey?: string;
  /** Stops the run early (Ctrl-C): requests in flight are cancelled, the summary covers what finished. */
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  progressIntervalMs?: number;
}

export interface LoadProgress {
  /** `warmup` while warming up (figures of the warm-up), then `run`. */
  phase: "warmup" | "run";
  done: number;
  errors: number;
  elapsedMs: number;
  /** 0…1 of the planned requests or duration. */
  fraction: number;
}

export const DEFAULT_PROMPT_TOKENS = 128;
export const DEFAULT_MAX_TOKENS = 64;
export const DEFAULT_LOAD_REQUESTS = 200;

export function requestPlan(options: LoadTestOptions): RequestPlan {
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const timeoutMs = options.timeoutMs ?? 60_000;
  const base = options.url.replace(/\/+$/, "");
  if (options.scenario !== undefined) {
    const templates = options.scenario.templates;
    const promptTokens = options.promptTokens ?? DEFAULT_PROMPT_TOKENS;
    return {
      protocol: templates.some((t) => t.kind === "openai") ? "openai" : "mlflow",
      url: new URL(base),
      endpoint: "scenario",
      stream: templates.some((t) => t.stream),
      timeoutMs,
      request: (index) => {
        const t = pickTemplate(templates, index);
        return {
          url: new URL(`${base}${t.path}`),
          method: t.method,
          body: templateBody(t, index, { prompt: () => syntheticPrompt(index, promptTokens), model: options.model }),
          stream: t.stream,
          kind: t.kind,
          headers: { ...headers, ...t.headers },
          template: t.name,
        };
      },
    };
  }
  if (options.protocol === "mlflow") {
    const body = options.body ?? "{}";
    const url = new URL(base.endsWith("/invocations") ? base : `${base}/invocations`);
    return {
      protocol: "mlflow",
      url,
      endpoint: "invocations",
      stream: false,
      timeoutMs,
      request: () => ({ url, method: "POST", body, stream: false, kind: "plain", headers }),
    };
  }
  const endpoint = options.endpoint ?? "chat";
  const stream = options.stream ?? false;
  const promptTokens = options.promptTokens ?? DEFAULT_PROMPT_TOKENS;
  const common = {
    model: options.model,
    max_tokens: options.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(options.ignoreEos === false ? {} : { ignore_eos: true }),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
  const url = new URL(`${base}/${endpoint === "chat" ? "chat/completions" : "completions"}`);
  return {
    protocol: "openai",
    url,
    endpoint,
    stream,
    timeoutMs,
    request: (index) => {
      const prompt = syntheticPrompt(index, promptTokens);
      const body = JSON.stringify(
        endpoint === "chat" ? { ...common, messages: [{ role: "user", content: prompt }] } : { ...common, prompt },
      );
      return { url, method: "POST", body, stream, kind: "openai", headers };
    },
  };
}

/** Send times of an open-loop run, in ms from its start: Poisson arrivals (seeded) or evenly spaced. */
export function* arrivalTimes(rate: number, arrivals: "poisson" | "uniform", seed = 1): Generator<number, never> {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
  const gapMs = 1000 / rate;
  let state = seed >>> 0 || 1;
  // mulberry32: small, seeded, uniform on [0, 1)
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let at = 0;
  for (;;) {
    yield at;
    at += arrivals === "uniform" ? gapMs : -Math.log(1 - uniform()) * gapMs;
  }
}

export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestSummary> {
  const plan = requestPlan(options);
  const planned = options.durationMs === undefined ? (options.requests ?? DEFAULT_LOAD_REQUESTS) : undefined;
  const agent = newLoadAgent(plan.url, options.concurrency);
  const stop = options.signal ?? new AbortController().signal;
  let warmup: WarmupSummary | undefined;
  let next = 0;
  let phase: Phase | undefined;
  const ticker = options.onProgress
    ? setInterval(() => phase && options.onProgress!(phase.progress()), options.progressIntervalMs ?? 200)
    : undefined;
  let samples: LoadSamples;
  let elapsedMs: number;
  try {
    if (options.warmupRequests !== undefined || options.warmupMs !== undefined) {
      phase = new Phase("warmup", options.warmupRequests, options.warmupMs);
      const result = await runPhase(plan, options, agent, stop, phase, next);
      next = result.next;
      warmup = { requests: phase.samples.done, failed: phase.samples.errorCount, elapsedMs: result.elapsedMs };
    }
    phase = new Phase("run", planned, options.durationMs);
    const result = await runPhase(plan, options, agent, stop, phase, next);
    samples = phase.samples;
    elapsedMs = result.elapsedMs;
  } finally {
    clearInterval(ticker);
    agent.destroy();
  }
  options.onProgress?.(phase.progress());
  return samples.summary(
    {
      url: options.url,
      model: options.model,
      protocol: plan.protocol,
      endpoint: plan.endpoint,
      stream: plan.stream,
      ...(options.scenario === undefined
        ? {}
        : {
            scenario: options.scenarioName ?? "scenario",
            templates: options.scenario.templates.map((t) => ({ name: t.name, weight: t.weight })),
          }),
    },
    {
      concurrency: options.concurrency,
      ...(options.rate === undefined ? {} : { rate: options.rate, arrivals: options.arrivals ?? "poisson" }),
      requests: planned,
      durationMs: options.durationMs,
      promptTokens: plan.protocol === "openai" ? (options.promptTokens ?? DEFAULT_PROMPT_TOKENS) : undefined,
      maxTokens:
        plan.protocol === "openai" && options.scenario === undefined
          ? (options.maxTokens ?? DEFAULT_MAX_TOKENS)
          : undefined,
      ...(options.warmupRequests === undefined ? {} : { warmupRequests: options.warmupRequests }),
      ...(options.warmupMs === undefined ? {} : { warmupMs: options.warmupMs }),
    },
    elapsedMs,
    warmup,
  );
}

/** One phase of a run (warm-up or the measured run): its plan, clock and samples. */
class Phase {
  readonly samples = new LoadSamples();
  readonly started = performance.now();

  constructor(
    readonly name: "warmup" | "run",
    readonly planned: number | undefined,
    readonly durationMs: number | undefined,
  ) {}

  elapsed(): number {
    return performance.now() - this.started;
  }

  progress(): LoadProgress {
    const fraction =
      this.planned !== undefined
        ? this.samples.done / this.planned
        : this.elapsed() / Math.max(1, this.durationMs ?? 1);
    return {
      phase: this.name,
      done: this.samples.done,
      errors: this.samples.errorCount,
      elapsedMs: this.elapsed(),
      fraction: Math.min(1, fraction),
    };
  }
}

/** Sends a phase's requests (numbered from `first`); resolves when the last has finished. */
async function runPhase(
  plan: RequestPlan,
  options: LoadTestOptions,
  agent: ReturnType<typeof newLoadAgent>,
  stop: AbortSignal,
  phase: Phase,
  first: number,
): Promise<{ next: number; elapsedMs: number }> {
  const { samples, started, planned } = phase;
  let sent = 0;
  let finished = started;
  const more = () =>
    !stop.aborted && (planned !== undefined ? sent < planned : phase.elapsed() < (phase.durationMs ?? 0));
  const record = (sample: Awaited<ReturnType<typeof runRequest>>) => {
    finished = performance.now();
    // requests cut off by Ctrl-C are not the server's errors
    if (sample.errorKind !== "cancelled") samples.add(sample, finished - started);
  };
  if (options.rate === undefined) {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (more()) record(await runRequest(plan, first + sent++, agent, stop));
      }),
    );
  } else {
    // open loop: send on the schedule; past `concurrency` in flight, wait for a slot (and count the lag)
    const inFlight = new Set<Promise<void>>();
    const schedule = arrivalTimes(options.rate, options.arrivals ?? "poisson", options.seed);
    for (;;) {
      const due = started + schedule.next().value;
      if (planned === undefined && due - started >= (phase.durationMs ?? 0)) break;
      if (!more()) break;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait, stop);
      while (inFlight.size >= options.concurrency && !stop.aborted) await Promise.race(inFlight);
      if (stop.aborted) break;
      samples.addLag(performance.now() - due);
      const request: Promise<void> = runRequest(plan, first + sent++, agent, stop).then((sample) => {
        inFlight.delete(request);
        record(sample);
      });
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  }
  return { next: first + sent, elapsedMs: finished - started };
}

/** Resolves after `ms`, or at once when `stop` aborts. */
function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener("abort", done);
      resolve();
    }
    stop.addEventListener("abort", done, { once: true });
  });
}
