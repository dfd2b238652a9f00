/**
 * Usage accounting per API key and model: requests admitted, prompt and completion tokens (as the
 * responses' `usage` reports them), and errors (admitted requests that failed, before or during
 * generation). The same numbers back `GET /v1/usage` and these Prometheus counters:
 *
 * - `slipway_llm_key_requests_total{key, model}`
 * - `slipway_llm_key_prompt_tokens_total{key, model}`
 * - `slipway_llm_key_completion_tokens_total{key, model}`
 * - `slipway_llm_key_errors_total{key, model}`
 * - `slipway_llm_key_rate_limited_total{key, limit}` (`requests` or `tokens`: refused with 429)
 *
 * Key names come from the keys file (`user:NAME` for control-plane callers, `anonymous` without auth) and
 * models from the served names only, so the label sets stay bounded.
 */
import type { Registry } from "prom-client";
import { SeriesCounter, type CounterSeries } from "../../serving/series-metrics.js";
import type { LimitKind } from "./rate-limiter.js";

export interface UsageTotals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  errors: number;
}

export interface KeyUsage {
  object: "usage";
  key: string;
  totals: UsageTotals;
  /** Model name → its totals. */
  models: Record<string, UsageTotals>;
}

/** One key's counters on one model. */
export interface UsageAccount {
  request(): void;
  tokens(prompt: number, completion: number): void;
  error(): void;
}

function emptyTotals(): UsageTotals {
  return { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, errors: 0 };
}

export class UsageLedger {
  private readonly requests = new SeriesCounter({
    name: "slipway_llm_key_requests_total",
    help: "Requests admitted per API key and model.",
    labelNames: ["key", "model"],
  });
  private readonly promptTokens = new SeriesCounter({
    name: "slipway_llm_key_prompt_tokens_total",
    help: "Prompt tokens per API key and model.",
    labelNames: ["key", "model"],
  });
  private readonly completionTokens = new SeriesCounter({
    name: "slipway_llm_key_completion_tokens_total",
    help: "Completion tokens per API key and model.",
    labelNames: ["key", "model"],
  });
  private readonly errors = new SeriesCounter({
    name: "slipway_llm_key_errors_total",
    help: "Admitted requests that failed, per API key and model.",
    labelNames: ["key", "model"],
  });
  private readonly rateLimited = new SeriesCounter({
    name: "slipway_llm_key_rate_limited_total",
    help: "Requests refused with 429 per API key and limit (requests, tokens).",
    labelNames: ["key", "limit"],
  });
  private readonly accounts = new Map<string, Map<string, { totals: UsageTotals; account: UsageAccount }>>();
  private readonly limited = new Map<string, CounterSeries>();

  constructor(registry: Registry) {
    for (const metric of [this.requests, this.promptTokens, this.completionTokens, this.errors, this.rateLimited]) {
      registry.registerMetric(metric);
    }
  }

  /** The counters of `key` on `model` (created on first use, then reused). */
  account(key: string, model: string): UsageAccount {
    let models = this.accounts.get(key);
    if (models === undefined) {
      models = new Map();
      this.accounts.set(key, models);
    }
    let entry = models.get(model);
    if (entry === undefined) {
      const totals = emptyTotals();
      const labels = { key, model };
      const series = {
        requests: this.requests.series(labels),
        prompt: this.promptTokens.series(labels),
        completion: this.completionTokens.series(labels),
        errors: this.errors.series(labels),
      };
      const account: UsageAccount = {
        request: () => {
          totals.requests++;
          series.requests.inc();
        },
        tokens: (prompt, completion) => {
          totals.prompt_tokens += prompt;
          totals.completion_tokens += completion;
          totals.total_tokens += prompt + completion;
          if (prompt > 0) series.prompt.inc(prompt);
          if (completion > 0) series.completion.inc(completion);
        },
        error: () => {
          totals.errors++;
          series.errors.inc();
        },
      };
      entry = { totals, account };
      models.set(model, entry);
    }
    return entry.account;
  }

  rateLimit(key: string, kind: LimitKind): void {
    const id = `${key}\u0000${kind}`;
    let series = this.limited.get(id);
    if (series === undefined) {
      series = this.rateLimited.series({ key, limit: kind });
      this.limited.set(id, series);
    }
    series.inc();
  }

  /** Every key that has used the server. */
  keys(): string[] {
    return [...this.accounts.keys()];
  }

  usage(key: string): KeyUsage {
    const totals = emptyTotals();
    const models: Record<string, UsageTotals> = {};
    for (const [model, entry] of this.accounts.get(key) ?? []) {
      models[model] = { ...entry.totals };
      for (const field of Object.keys(totals) as (keyof UsageTotals)[]) totals[field] += entry.totals[field];
    }
    return { object: "usage", key, totals, models };
  }
}
