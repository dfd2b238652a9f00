/**
 * One upstream server behind a model name: where it is, its weight, its keep-alive agent, and its
 * health. Health is one counter of consecutive outcomes fed by two sources:
 *
 * - passive: every real request's outcome (connection errors, timeouts, 5xx and unreadable answers
 *   are failures; 429 is not — it sets a cool-down from `Retry-After` instead);
 * - active: a GET of the health path every `intervalMs` (2xx is a success), which is also what brings a
 *   target that is down back up, since a target that is down gets no traffic.
 *
 * `unhealthyAfter` consecutive failures mark it down, `healthyAfter` consecutive successes mark it up.
 * Targets start up (a router must not refuse traffic while its first probes run).
 */
import type { Agent } from "node:http";
import type { HealthPolicy, UpstreamTargetConfig } from "./routing-config.js";
import { newAgent, readBody, sendUpstream } from "./upstream-http.js";
import type { TargetMetrics, UpstreamMetrics } from "./upstream-metrics.js";
import { modelIds } from "./upstream-wire.js";

export interface HealthChange {
  target: string;
  healthy: boolean;
  reason: string;
}

export class UpstreamTarget {
  readonly url: string;
  /** The URL without credentials, for labels and messages. */
  readonly label: string;
  readonly weight: number;
  readonly metrics: TargetMetrics;
  readonly agent: Agent;
  private up = true;
  private failures = 0;
  private successes = 0;
  private coolUntil = 0;
  private running = 0;
  private discovered: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probing: AbortController | undefined;
  private closed = false;

  constructor(
    private readonly config: UpstreamTargetConfig,
    private readonly options: {
      /** Our model name (the default upstream model name). */
      model: string;
      health: HealthPolicy;
      metrics: UpstreamMetrics;
      onHealthChange?: (change: HealthChange) => void;
    },
  ) {
    this.url = config.url;
    this.label = displayUrl(config.url);
    this.weight = config.weight;
    this.agent = newAgent(new URL(config.url));
    this.metrics = options.metrics.target(options.model, this.label, this);
  }

  get healthy(): boolean {
    return this.up;
  }

  get inFlight(): number {
    return this.running;
  }

  /** The model name to send: configured, else learnt from the target's `/models`, else ours. */
  get upstreamModel(): string {
    return this.config.model ?? this.discovered ?? this.options.model;
  }

  /** Headers every call carries (the API key, when there is one). */
  headers(): Record<string, string> {
    return this.config.apiKey === undefined ? {} : { authorization: `Bearer ${this.config.apiKey}` };
  }

  endpoint(path: string): URL {
    return new URL(`${this.url}${path}`);
  }

  /** Milliseconds until a `Retry-After` cool-down ends (0: none). */
  coolingFor(now: number): number {
    return Math.max(0, this.coolUntil - now);
  }

  coolDown(until: number): void {
    this.coolUntil = Math.max(this.coolUntil, until);
  }

  started(): void {
    this.running++;
  }

  ended(): void {
    this.running--;
  }

  /** A request or probe succeeded. */
  succeeded(source: "request" | "probe"): void {
    this.failures = 0;
    this.successes++;
    if (!this.up && this.successes >= this.options.health.healthyAfter) {
      this.up = true;
      this.options.onHealthChange?.({
        target: this.label,
        healthy: true,
        reason: `${this.successes} successful ${source === "probe" ? "health checks" : "requests"}`,
      });
    }
  }

  /** A request or probe failed in a way that says the target is unwell. */
  failed(reason: string): void {
    this.successes = 0;
    this.failures++;
    if (this.up && this.failures >= this.options.health.unhealthyAfter) {
      this.up = false;
      this.options.onHealthChange?.({
        target: this.label,
        healthy: false,
        reason: `${this.failures} failures in a row, the last: ${reason}`,
      });
    }
  }

  /** Starts the active checks (the first at once). */
  open(): void {
    if (this.options.health.intervalMs > 0 && !this.closed) this.schedule(0);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.probing?.abort(new Error("closing"));
    this.agent.destroy();
  }

  /** One active check (also run by tests). */
  async probe(): Promise<boolean> {
    const { health } = this.options;
    const controller = new AbortController();
    this.probing = controller;
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${health.timeoutMs} ms`)),
      health.timeoutMs,
    );
    try {
      const res = await sendUpstream({
        url: this.healthUrl(),
        method: "GET",
        headers: this.headers(),
        agent: this.agent,
        signal: controller.signal,
      });
      const body = await readBody(res, 1 << 20);
      const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
      if (ok) {
        this.learnModel(body);
        this.succeeded("probe");
      } else {
        this.failed(`health check answered ${res.statusCode}`);
      }
      if (!this.closed) this.metrics.healthCheck(ok);
      return ok;
    } catch (error) {
      if (this.closed) return false;
      this.failed(`health check: ${describeError(error)}`);
      this.metrics.healthCheck(false);
      return false;
    } finally {
      clearTimeout(timer);
      this.probing = undefined;
    }
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      void this.probe().finally(() => {
        if (!this.closed) this.schedule(this.options.health.intervalMs);
      });
    }, delay);
    this.timer.unref();
  }

  private healthUrl(): URL {
    const path = this.options.health.path;
    return path.startsWith("/") ? new URL(path, this.url) : new URL(`${this.url}/${path}`);
  }

  private learnModel(body: string): void {
    if (this.config.model !== undefined) return;
    let ids: string[];
    try {
      ids = modelIds(JSON.parse(body) as unknown);
    } catch {
      return;
    }
    if (ids.includes(this.options.model)) this.discovered = this.options.model;
    else if (ids.length === 1) this.discovered = ids[0];
  }
}

/** The URL as shown in labels and messages: no credentials. */
export function displayUrl(url: string): string {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.href.replace(/\/+$/, "");
}

export function describeError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : undefined;
  const message = typeof e?.message === "string" ? e.message : String(error);
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET") return "connection reset";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `host not found (${code})`;
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}
