/**
 * The one place the SDK touches the network: fetch with a per-attempt timeout, retries with
 * exponential backoff and jitter on network errors, 429 and 5xx (honouring `Retry-After`), and
 * error answers turned into `MlflowError`s. 4xx answers are never retried.
 */
import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { MlflowError } from "@slipway/protocol";
import { authenticationHint } from "./credentials.js";
import { errorFromResponse } from "./http-errors.js";
import { isNodeReadable, nodeHttpFetch } from "./node-http-fetch.js";
import { SDK_VERSION } from "./version.js";

export interface RetryPolicy {
  /** Retries after the first attempt (0 = no retries). */
  maxRetries: number;
  /** Backoff before retry n (0-based) is about `baseDelayMs * 2^n`, capped at `maxDelayMs`, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the error is thrown instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxRetries: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/** MLflow's Python client waits 120 s per request (`MLFLOW_HTTP_REQUEST_TIMEOUT`). */
export const DEFAULT_TIMEOUT_MS = 120_000;

export interface HttpTransportOptions {
  /** Server root, e.g. `http://127.0.0.1:5000` or `https://host/prefix` (no trailing slash needed). */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Sent with every request (after the SDK's own, so they can override `user-agent`). */
  headers?: Record<string, string>;
  /** Per attempt, covering the whole exchange (request, answer and reading the body). 0 = none. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * The Authorization header to send when `headers` and the URL carry none, looked up on the first request (it
   * may read a file): see credentials.ts.
   */
  credentials?: () => Promise<string | undefined>;
  /** @internal Test hook: how to wait between attempts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @internal Test hook: the jitter source, in [0, 1). */
  random?: () => number;
}

/**
 * What fetch accepts as a request body (the DOM's `BodyInit`, which Node's typings do not name), or a Node stream:
 * streamed uploads (files) go over `node:http`, which streams them with backpressure (see node-http-fetch.ts).
 */
export type RequestBody = NonNullable<RequestInit["body"]> | Readable;

export interface HttpRequest<T> {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Appended to the base URL: already encoded, may carry a query string. */
  path: string;
  headers?: Record<string, string>;
  /** Called once per attempt, so a streamed body can be reopened for a retry. */
  body?: () => RequestBody | Promise<RequestBody>;
  /** Overrides the transport's timeout for this request. 0 = none. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Reads a successful (2xx) answer; runs inside the attempt's timeout. */
  read: (response: Response) => Promise<T>;
}

class AttemptTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no complete answer within ${ms} ms`);
    this.name = "AttemptTimeout";
  }
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}

/** Parses `Retry-After` (delta-seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Statuses worth another attempt: rate limiting and server-side trouble (but not 501 Not Implemented). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** Strips `user:pass@` from a URL (fetch refuses such URLs) and returns it as a Basic auth header. */
export function splitCredentials(url: string): { url: string; authorization?: string } {
  const parsed = new URL(url);
  if (parsed.username === "" && parsed.password === "") return { url };
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  const authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  return { url: parsed.toString(), authorization };
}

export class HttpTransport {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly options: HttpTransportOptions;
  private lazyAuthorization: Promise<string | undefined> | undefined;

  constructor(options: HttpTransportOptions) {
    this.options = options;
    const { url, authorization } = splitCredentials(options.baseUrl);
    this.baseUrl = url.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.headers = {
      "user-agent": `slipway-sdk/${SDK_VERSION} node/${process.version}`,
      ...(authorization ? { authorization } : {}),
      ...lowerCaseKeys(options.headers),
    };
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  /** The same settings (headers, timeout, retries) against another server root. */
  withBaseUrl(baseUrl: string): HttpTransport {
    // saved or environment credentials belong to the tracking server: never hand them to another origin
    const sameOrigin = new URL(splitCredentials(baseUrl).url).origin === new URL(this.baseUrl).origin;
    const { credentials, ...rest } = this.options;
    return new HttpTransport({ ...rest, ...(sameOrigin && credentials ? { credentials } : {}), baseUrl });
  }

  /** The backoff before retry number `retry` (0-based): half fixed, half random ("equal jitter"). */
  backoffMs(retry: number): number {
    const ceiling = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** retry);
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** The credentials provider's header, looked up once, unless an explicit Authorization header is set. */
  private authorization(): Promise<string | undefined> {
    if (this.headers.authorization !== undefined || !this.options.credentials) return Promise.resolve(undefined);
    this.lazyAuthorization ??= this.options.credentials();
    return this.lazyAuthorization;
  }

  async request<T>(req: HttpRequest<T>): Promise<T> {
    const url = this.baseUrl + req.path;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(req, url, attempt);
      if (outcome.done) return outcome.value;
      if (attempt >= this.policy.maxRetries) throw outcome.error;
      await this.sleep(outcome.retryAfterMs ?? this.backoffMs(attempt), req.signal);
    }
  }

  /** One attempt: its value, or a retryable error (anything else is thrown). */
  private async attempt<T>(
    req: HttpRequest<T>,
    url: string,
    attempt: number,
  ): Promise<{ done: true; value: T } | { done: false; error: MlflowError; retryAfterMs?: number }> {
    if (req.signal?.aborted) throw req.signal.reason;
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const body = req.body ? await req.body() : undefined;
    const authorization = await this.authorization();
    const controller = new AbortController();
    const onUserAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener("abort", onUserAbort, { once: true });
    const timer =
      timeoutMs > 0 ? setTimeout(() => controller.abort(new AttemptTimeout(timeoutMs)), timeoutMs) : undefined;
    try {
      let response: Response;
      try {
        const headers = {
          ...(authorization === undefined ? {} : { authorization }),
          ...this.headers,
          ...lowerCaseKeys(req.headers),
        };
        response = isNodeReadable(body)
          ? await nodeHttpFetch(url, { method: req.method, headers, body, signal: controller.signal })
          : await this.fetchImpl(url, {
              method: req.method,
              headers,
              body,
              signal: controller.signal,
              ...(isStream(body) ? { duplex: "half" as const } : {}),
            });
      } catch (error) {
        if (req.signal?.aborted) throw req.signal.reason;
        return {
          done: false,
          error: networkError(req.method, url, error, controller.signal.reason, attempt + 1),
        };
      }
      if (response.ok) {
        try {
          return { done: true, value: await req.read(response) };
        } catch (error) {
          if (req.signal?.aborted) throw req.signal.reason;
          if (controller.signal.reason instanceof AttemptTimeout) {
            throw networkError(req.method, url, error, controller.signal.reason, attempt + 1);
          }
          throw error;
        }
      }
      const text = await response.text().catch(() => "");
      const error = errorFromResponse({
        status: response.status,
        statusText: response.statusText,
        body: text,
        method: req.method,
        url,
      });
      if (response.status === 401) {
        throw new MlflowError(error.code, `${error.message} (${authenticationHint(this.baseUrl)})`, {
          status: 401,
          cause: error,
        });
      }
      if (!isRetryableStatus(response.status)) throw error;
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
      if (retryAfterMs !== undefined && retryAfterMs > this.policy.maxRetryAfterMs) throw error;
      return retryAfterMs === undefined ? { done: false, error } : { done: false, error, retryAfterMs };
    } finally {
      if (timer) clearTimeout(timer);
      req.signal?.removeEventListener("abort", onUserAbort);
      if (isNodeReadable(body)) body.destroy();
      else if (isStream(body)) (body as ReadableStream).cancel().catch(() => undefined);
    }
  }
}

/** Header names are case-insensitive: lower-case them so an override replaces rather than joins. */
function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function isStream(body: unknown): boolean {
  return typeof body === "object" && body !== null && typeof (body as ReadableStream).getReader === "function";
}

function networkError(method: string, url: string, error: unknown, reason: unknown, attempts: number): MlflowError {
  const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
  if (reason instanceof AttemptTimeout) {
    return new MlflowError("DEADLINE_EXCEEDED", `${method} ${url}: ${reason.message} (${tries})`, {
      cause: error,
    });
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const detail = typeof cause?.code === "string" ? cause.code : error instanceof Error ? error.message : String(error);
  return new MlflowError("TEMPORARILY_UNAVAILABLE", `${method} ${url} failed: ${detail} (${tries})`, { cause: error });
}
