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
 * The caller gets the summary (see `load-report.ts`) and, while it runs, progress callbacks.
 */
import { LoadSamples, type LoadTestSummary } from "./load-report.js";
import { newLoadAgent, runRequest, syntheticPrompt, type RequestPlan } from "./load-request.js";

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
  /** `Authorization: Bearer …`. */
  apiKey?: string;
  /** Stops the run early (Ctrl-C): requests in flight are cancelled, the summary covers what finished. */
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  progressIntervalMs?: number;
}

export interface LoadProgress {
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
  if (options.protocol === "mlflow") {
    const body = options.body ?? "{}";
    return {
      protocol: "mlflow",
      url: new URL(base.endsWith("/invocations") ? base : `${base}/invocations`),
      endpoint: "invocations",
      stream: false,
      headers,
      timeoutMs,
      body: () => body,
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
  return {
    protocol: "openai",
    url: new URL(`${base}/${endpoint === "chat" ? "chat/completions" : "completions"}`),
    endpoint,
    stream,
    headers,
    timeoutMs,
    body: (index) => {
      const prompt = syntheticPrompt(index, promptTokens);
      return JSON.stringify(
        endpoint === "chat" ? { ...common, messages: [{ role: "user", content: prompt }] } : { ...common, prompt },
      );
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
  const samples = new LoadSamples();
  const started = performance.now();
  let sent = 0;
  let finished = started;
  const elapsed = () => performance.now() - started;
  const more = () => !stop.aborted && (planned !== undefined ? sent < planned : elapsed() < (options.durationMs ?? 0));
  const progress = () =>
    options.onProgress?.({
      done: samples.done,
      errors: samples.errorCount,
      elapsedMs: elapsed(),
      fraction: Math.min(
        1,
        planned !== undefined ? samples.done / planned : elapsed() / Math.max(1, options.durationMs ?? 1),
      ),
    });
  const ticker = options.onProgress ? setInterval(progress, options.progressIntervalMs ?? 200) : undefined;
  const record = (sample: Awaited<ReturnType<typeof runRequest>>) => {
    // requests cut off by Ctrl-C are not the server's errors
    if (sample.errorKind !== "cancelled") samples.add(sample);
    finished = performance.now();
  };
  try {
    if (options.rate === undefined) {
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (more()) record(await runRequest(plan, sent++, agent, stop));
        }),
      );
    } else {
      // open loop: send on the schedule; past `concurrency` in flight, wait for a slot (and count the lag)
      const inFlight = new Set<Promise<void>>();
      const schedule = arrivalTimes(options.rate, options.arrivals ?? "poisson", options.seed);
      for (;;) {
        const due = started + schedule.next().value;
        if (planned === undefined && due - started >= (options.durationMs ?? 0)) break;
        if (!more()) break;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait, stop);
        while (inFlight.size >= options.concurrency && !stop.aborted) await Promise.race(inFlight);
        if (stop.aborted) break;
        samples.addLag(performance.now() - due);
        const request: Promise<void> = runRequest(plan, sent++, agent, stop).then((sample) => {
          inFlight.delete(request);
          record(sample);
        });
        inFlight.add(request);
      }
      await Promise.all(inFlight);
    }
  } finally {
    clearInterval(ticker);
    agent.destroy();
  }
  progress();
  return samples.summary(
    {
      url: options.url,
      model: options.model,
      protocol: plan.protocol,
      endpoint: plan.endpoint,
      stream: plan.stream,
    },
    {
      concurrency: options.concurrency,
      ...(options.rate === undefined ? {} : { rate: options.rate, arrivals: options.arrivals ?? "poisson" }),
      requests: planned,
      durationMs: options.durationMs,
      promptTokens: plan.protocol === "openai" ? (options.promptTokens ?? DEFAULT_PROMPT_TOKENS) : undefined,
      maxTokens: plan.protocol === "openai" ? (options.maxTokens ?? DEFAULT_MAX_TOKENS) : undefined,
    },
    finished - started,
  );
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
