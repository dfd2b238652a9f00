/**
 * Summing the statistics model servers report (per role and version, over a revision) and putting them in words for
 * the reasons the controller records: `canary: 0.2% errors, p99 12 ms over 1,200 requests at 50%`.
 */
import {
  DEPLOYMENT_ROLES,
  addLatencyBuckets,
  emptyLatencyBuckets,
  latencyQuantile,
  type VersionStatsSummary,
} from "@slipway/protocol";
import type { StatsRow } from "./deployment-store.js";

function parseBuckets(text: string): number[] {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every((v) => typeof v === "number")) return value;
  } catch {
    // an unreadable row counts as empty
  }
  return [];
}

/** One summary per (role, version), primary first, then canary, then shadow. */
export function summarize(rows: readonly StatsRow[]): VersionStatsSummary[] {
  const groups = new Map<string, { row: StatsRow; totals: Omit<StatsRow, "latency">; latency: number[] }>();
  for (const row of rows) {
    const key = `${row.role}\u0000${row.version}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        row,
        totals: { ...row, requests: 0, errors: 0, client_errors: 0, compared_rows: 0, agreed_rows: 0, dropped: 0 },
        latency: emptyLatencyBuckets(),
      };
      groups.set(key, g);
    }
    const t = g.totals;
    t.requests += Number(row.requests);
    t.errors += Number(row.errors);
    t.client_errors += Number(row.client_errors);
    t.compared_rows += Number(row.compared_rows);
    t.agreed_rows += Number(row.agreed_rows);
    t.dropped += Number(row.dropped);
    if (row.last_error !== null) t.last_error = row.last_error;
    addLatencyBuckets(g.latency, parseBuckets(row.latency));
  }
  const out: VersionStatsSummary[] = [];
  for (const { totals: t, latency } of groups.values()) {
    const p50 = latencyQuantile(latency, 0.5);
    const p99 = latencyQuantile(latency, 0.99);
    out.push({
      role: t.role,
      version: t.version,
      requests: t.requests,
      errors: t.errors,
      client_errors: t.client_errors,
      error_rate: t.requests === 0 ? 0 : t.errors / t.requests,
      ...(p50 === undefined ? {} : { p50_ms: round(p50) }),
      ...(p99 === undefined ? {} : { p99_ms: round(p99) }),
      ...(t.role === "shadow"
        ? {
            compared_rows: t.compared_rows,
            agreed_rows: t.agreed_rows,
            ...(t.compared_rows === 0 ? {} : { agreement: t.agreed_rows / t.compared_rows }),
            dropped: t.dropped,
          }
        : {}),
      ...(t.last_error === null ? {} : { last_error: t.last_error }),
    });
  }
  const order = (s: VersionStatsSummary) => DEPLOYMENT_ROLES.indexOf(s.role);
  return out.sort((a, b) => order(a) - order(b) || Number(a.version) - Number(b.version));
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** The traffic of one role, all its versions together (a swap can put two primary versions in one revision). */
export function roleTotals(stats: readonly VersionStatsSummary[], role: string, version?: string): RoleTotals {
  const mine = stats.filter((s) => s.role === role && (version === undefined || s.version === version));
  const requests = mine.reduce((n, s) => n + s.requests, 0);
  const errors = mine.reduce((n, s) => n + s.errors, 0);
  // the p99 of the busiest version: good enough to compare (they differ only around a swap)
  const busiest = [...mine].sort((a, b) => b.requests - a.requests)[0];
  const last = mine.find((s) => s.last_error !== undefined)?.last_error;
  return {
    requests,
    errors,
    errorRate: requests === 0 ? 0 : errors / requests,
    ...(busiest?.p99_ms === undefined ? {} : { p99: busiest.p99_ms }),
    ...(last === undefined ? {} : { lastError: last }),
  };
}

export interface RoleTotals {
  requests: number;
  errors: number;
  errorRate: number;
  p99?: number;
  lastError?: string;
}

/** `0.2%`, `0%`, `12.5%`, `100%`. */
export function percent(rate: number): string {
  const p = rate * 100;
  if (p === 0 || p === 100) return `${p}%`;
  return `${p < 0.1 ? p.toPrecision(1) : p.toFixed(1).replace(/\.0$/, "")}%`;
}

/** `12 ms`, `3.4 ms`, `0.42 ms`. */
export function millis(ms: number): string {
  if (ms >= 10) return `${Math.round(ms)} ms`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** `1,200`. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** `0.2% errors, p99 12 ms over 1,200 requests` */
export function describeTraffic(t: RoleTotals): string {
  return `${percent(t.errorRate)} errors${t.p99 === undefined ? "" : `, p99 ${millis(t.p99)}`} over ${count(t.requests)} request${t.requests === 1 ? "" : "s"}`;
}

/** `10%`, `2.5%`. */
export function weightText(weight: number): string {
  return `${Math.round(weight * 100) / 100}%`;
}
