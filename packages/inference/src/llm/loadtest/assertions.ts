/**
 * `--assert "p99_ttft_ms<500,error_rate<0.01,tokens_per_s>100"`: conditions on a load test's summary,
 * checked after the run (a CI step fails when one does not hold). Each is `METRIC OP VALUE` with OP one
 * of `<`, `<=`, `>`, `>=`; values may carry a unit (`200ms`, `1.5s` for `_ms` metrics; `1%` for rates).
 * Short names: `p50` / `p90` / `p99` (end-to-end latency), `errors` (the error rate).
 */
import type { LoadTestSummary } from "./load-report.js";

export class LoadTestUsageError extends Error {
  override readonly name = "LoadTestUsageError";
}

export type AssertionOperator = "<" | "<=" | ">" | ">=";

export interface Assertion {
  /** As written, for messages. */
  readonly text: string;
  readonly metric: string;
  readonly operator: AssertionOperator;
  readonly value: number;
}

export interface AssertionResult {
  readonly assertion: Assertion;
  /** undefined: the run has no such figure (e.g. time to first token without --stream). */
  readonly actual: number | undefined;
  readonly passed: boolean;
}

const PERCENTILES = ["p50", "p90", "p99", "mean", "max"] as const;
const SERIES = ["latency", "ttft", "tpot"] as const;

/** Metric name → how to read it from a summary. */
export const ASSERTABLE_METRICS: ReadonlyMap<string, (s: LoadTestSummary) => number | undefined> = new Map([
  ...SERIES.flatMap((series) =>
    PERCENTILES.map(
      (p) =>
        [`${p}_${series}_ms`, (s: LoadTestSummary) => s[series]?.[p]] as [
          string,
          (s: LoadTestSummary) => number | undefined,
        ],
    ),
  ),
  ["error_rate", (s: LoadTestSummary) => s.errorRate],
  ["errors", (s: LoadTestSummary) => s.errorRate],
  ["requests_per_s", (s: LoadTestSummary) => s.requestsPerSecond],
  ["rps", (s: LoadTestSummary) => s.requestsPerSecond],
  ["tokens_per_s", (s: LoadTestSummary) => s.outputTokensPerSecond],
  ["p50", (s: LoadTestSummary) => s.latency?.p50],
  ["p90", (s: LoadTestSummary) => s.latency?.p90],
  ["p99", (s: LoadTestSummary) => s.latency?.p99],
  // open loop (--rate): did the server keep up with the schedule?
  ["late_sends", (s: LoadTestSummary) => s.lateSends],
  ["p99_send_lag_ms", (s: LoadTestSummary) => s.sendLag?.p99],
]);

export function parseAssertions(text: string): Assertion[] {
  const parts = text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (parts.length === 0) throw new LoadTestUsageError("--assert: no assertion given (example: p99_ttft_ms<500)");
  return parts.map(parseAssertion);
}

function parseAssertion(text: string): Assertion {
  const m = /^([a-z0-9_]+)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(ms|s|%)?$/.exec(text);
  if (!m) {
    throw new LoadTestUsageError(`--assert: cannot read '${text}' (expected METRIC<VALUE, e.g. p99_ttft_ms<500)`);
  }
  const [, metric, operator, number, unit] = m as unknown as [string, string, AssertionOperator, string, string?];
  if (!ASSERTABLE_METRICS.has(metric)) {
    throw new LoadTestUsageError(
      `--assert: unknown metric '${metric}' (known: ${[...ASSERTABLE_METRICS.keys()].join(", ")})`,
    );
  }
  const isTime = metric.endsWith("_ms") || /^p\d\d$/.test(metric);
  const isRate = metric === "error_rate" || metric === "errors";
  let value = Number(number);
  if (unit === "s" || unit === "ms") {
    if (!isTime) throw new LoadTestUsageError(`--assert: '${text}': ${metric} is not a time`);
    if (unit === "s") value *= 1000;
  } else if (unit === "%") {
    if (!isRate) throw new LoadTestUsageError(`--assert: '${text}': ${metric} is not a rate`);
    value /= 100;
  }
  return { text, metric, operator, value };
}

export function checkAssertions(assertions: readonly Assertion[], summary: LoadTestSummary): AssertionResult[] {
  return assertions.map((assertion) => {
    const actual = ASSERTABLE_METRICS.get(assertion.metric)!(summary);
    return { assertion, actual, passed: actual !== undefined && compare(actual, assertion.operator, assertion.value) };
  });
}

function compare(actual: number, operator: AssertionOperator, value: number): boolean {
  switch (operator) {
    case "<":
      return actual < value;
    case "<=":
      return actual <= value;
    case ">":
      return actual > value;
    case ">=":
      return actual >= value;
  }
}
