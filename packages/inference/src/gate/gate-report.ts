/**
 * What a gate found, and the rules it judged by: the report's types, the checks (each a rule, the value
 * it saw, pass or fail, and a one-line summary), the verdict line, and the reason recorded in the alias
 * history when the gate promotes the candidate.
 */
import type { ConfidenceInterval } from "./bootstrap.js";
import type { GateMetric, GateTask } from "./gate-metrics.js";
import type { LatencyStats } from "./latency.js";

export interface GateModelInfo {
  /** The URI as given (`models:/spam@champion`). */
  readonly uri: string;
  /** The URI of exactly the version evaluated (`models:/spam/6`). */
  readonly pinnedUri: string;
  readonly name?: string;
  readonly version?: string;
  /** The predictor that ran it (`slipway/text-classifier`, `onnx`). */
  readonly predictor: string;
}

export interface GateMetricRow {
  readonly metric: GateMetric;
  readonly higherIsBetter: boolean;
  readonly baseline: number | null;
  readonly candidate: number | null;
  /** candidate − baseline. */
  readonly delta: number | null;
  /** The gated metric's bootstrap interval of `delta`. */
  readonly ci?: ConfidenceInterval | null;
  /** Why a value is missing. */
  readonly note?: string;
}

export type GateCheckKind = "delta" | "significance" | "min_value" | "no_baseline" | "latency_p99";

export interface GateCheck {
  readonly kind: GateCheckKind;
  /** What must hold, e.g. `Δ ≥ +0.005`, `p99 ≤ 20 ms`. */
  readonly rule: string;
  /** The value judged. */
  readonly actual: number | null;
  readonly pass: boolean;
  /** One line for people: `f1 Δ +0.0112 ≥ +0.005`. */
  readonly summary: string;
}

export interface GateLatency {
  readonly requests: number;
  readonly maxP99Ms?: number;
  readonly candidate: LatencyStats;
  readonly baseline?: LatencyStats;
}

export interface GatePromotion {
  readonly model: string;
  readonly alias: string;
  readonly version: string;
  /** The version the alias pointed at before, if any. */
  readonly previous?: string;
  readonly reason: string;
}

export interface GateReport {
  readonly passed: boolean;
  /** `PASS: …` or `FAIL: …`, one line. */
  readonly verdict: string;
  readonly candidate: GateModelInfo;
  /** Null when the baseline does not exist yet (its alias or stage is unset). */
  readonly baseline: GateModelInfo | null;
  /** The baseline as given, also when it does not exist. */
  readonly baselineUri?: string;
  readonly data: {
    /** `test.jsonl`, or `reference_data.jsonl of models:/spam/7`. */
    readonly source: string;
    /** True when the rows are the candidate package's reference data. */
    readonly fromCandidatePackage: boolean;
    readonly rows: number;
    readonly labelColumn: string;
  };
  readonly task: GateTask;
  readonly metric: GateMetric;
  /** How precision, recall and f1 average: `binary, positive label "spam"` or `macro over 2 labels`. */
  readonly average?: string;
  readonly minDelta: number;
  readonly minValue?: number;
  readonly requireSignificant: boolean;
  readonly metrics: readonly GateMetricRow[];
  readonly latency?: GateLatency;
  readonly checks: readonly GateCheck[];
  readonly notes: readonly string[];
  readonly promotion?: GatePromotion;
}

/** A metric value: 4 decimals (integers as they are). */
export function formatValue(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "-";
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1e6 ? x.toExponential(3) : x.toFixed(4);
}

/** A signed difference: `+0.0112`, `-0.0500`. */
export function formatDelta(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "-";
  const a = Math.abs(x);
  return `${x < 0 ? "-" : "+"}${a >= 1e6 ? a.toExponential(3) : a.toFixed(4)}`;
}

/** A signed threshold as given: `+0.005`. */
function signed(x: number): string {
  return `${x < 0 ? "-" : "+"}${Math.abs(x)}`;
}

export function formatCi(ci: ConfidenceInterval): string {
  return `${Math.round(ci.level * 100)}% CI [${formatDelta(ci.low)}, ${formatDelta(ci.high)}]`;
}

export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

export interface CheckInputs {
  readonly metric: GateMetric;
  readonly higherIsBetter: boolean;
  readonly candidate: number;
  /** Absent without a baseline. */
  readonly baseline?: { readonly value: number; readonly ci: ConfidenceInterval | null };
  readonly baselineUri?: string;
  readonly minDelta: number;
  readonly minValue?: number;
  readonly requireSignificant: boolean;
  readonly latency?: { readonly p99Ms: number; readonly maxP99Ms?: number };
}

/**
 * The gate's checks. With a baseline: the improvement (candidate − baseline for higher-is-better metrics,
 * baseline − candidate for lower-is-better ones) is at least `minDelta`, and with `requireSignificant`
 * so is the whole confidence interval (its bound nearest to failing lies beyond `minDelta`). Without
 * one: `minValue` if given, else a pass noting that there is no baseline. `minValue` also applies with
 * a baseline, and the latency rule whenever a limit is given.
 */
export function gateChecks(input: CheckInputs): GateCheck[] {
  const { metric, higherIsBetter: up, minDelta } = input;
  const checks: GateCheck[] = [];
  const bound = up ? minDelta : -minDelta;
  const deltaRule = `Δ ${up ? "≥" : "≤"} ${signed(bound)}`;
  if (input.baseline) {
    const delta = input.candidate - input.baseline.value;
    const pass = up ? delta >= bound : delta <= bound;
    const ci = input.baseline.ci;
    checks.push({
      kind: "delta",
      rule: deltaRule,
      actual: delta,
      pass,
      summary: `${metric} Δ ${formatDelta(delta)}${ci ? ` (${formatCi(ci)})` : ""} ${pass ? (up ? "≥" : "≤") : up ? "<" : ">"} ${signed(bound)}`,
    });
    if (input.requireSignificant) {
      const edge = ci === null ? null : up ? ci.low : ci.high;
      const significant = edge !== null && (up ? edge > bound : edge < bound);
      const which = up ? "lower" : "upper";
      checks.push({
        kind: "significance",
        rule: `CI ${which} bound ${up ? ">" : "<"} ${signed(bound)}`,
        actual: edge,
        pass: significant,
        summary:
          edge === null
            ? `the confidence interval could not be computed (${metric} is undefined on most resamples)`
            : `CI ${which} bound ${formatDelta(edge)} ${significant ? (up ? ">" : "<") : up ? "≤" : "≥"} ${signed(bound)}${significant ? "" : " (not significant)"}`,
      });
    }
  }
  if (input.minValue !== undefined) {
    const pass = up ? input.candidate >= input.minValue : input.candidate <= input.minValue;
    checks.push({
      kind: "min_value",
      rule: `${up ? "≥" : "≤"} ${input.minValue}`,
      actual: input.candidate,
      pass,
      summary: `${metric} ${formatValue(input.candidate)} ${pass ? (up ? "≥" : "≤") : up ? "<" : ">"} ${input.minValue}`,
    });
  }
  if (!input.baseline && input.minValue === undefined) {
    checks.push({
      kind: "no_baseline",
      rule: "no baseline",
      actual: input.candidate,
      pass: true,
      summary: `${input.baselineUri === undefined ? "no baseline given" : `no baseline (${input.baselineUri} does not exist yet)`}: ${metric} ${formatValue(input.candidate)}`,
    });
  }
  if (input.latency?.maxP99Ms !== undefined) {
    const { p99Ms, maxP99Ms } = input.latency;
    const pass = p99Ms <= maxP99Ms;
    checks.push({
      kind: "latency_p99",
      rule: `p99 ≤ ${maxP99Ms} ms`,
      actual: p99Ms,
      pass,
      summary: `p99 ${formatMs(p99Ms)} ms ${pass ? "≤" : ">"} ${maxP99Ms} ms`,
    });
  }
  return checks;
}

/** `PASS on 200 rows: f1 Δ +0.0112 (95% CI …) ≥ +0.005`, or `FAIL on 200 rows: …` naming the failed checks. */
export function verdictLine(checks: readonly GateCheck[], rows: number): string {
  const passed = checks.every((c) => c.pass);
  const shown = passed ? checks : checks.filter((c) => !c.pass);
  return `${passed ? "PASS" : "FAIL"} on ${rows} rows: ${shown.map((c) => c.summary).join("; ")}`;
}

/** The reason recorded in the alias history: `gate: f1 +0.0112 (95% CI […]) on 200 rows vs v6 …`. */
export function promotionReason(report: Omit<GateReport, "promotion" | "verdict" | "passed">): string {
  const row = report.metrics.find((m) => m.metric === report.metric);
  const where = report.data.fromCandidatePackage ? "the candidate's reference data" : report.data.source;
  if (!row || report.baseline === null || row.delta === null) {
    const why = report.baselineUri === undefined ? "none given" : `${report.baselineUri} does not exist yet`;
    return `gate: no baseline (${why}); ${report.metric} ${formatValue(row?.candidate)} on ${report.data.rows} rows of ${where}`;
  }
  const ci = row.ci ? ` (${formatCi(row.ci)})` : "";
  const base = report.baseline.version === undefined ? report.baseline.pinnedUri : `v${report.baseline.version}`;
  return `gate: ${report.metric} ${formatDelta(row.delta)}${ci} on ${report.data.rows} rows of ${where}, vs ${base} (${report.baseline.uri})`;
}
