/**
 * Drift of one column: choose a method (Slipway's calibrated defaults, Evidently's rules, or a named
 * method), score the column, decide, and report what else changed (missing values, new or vanished
 * categories, infinities, values of the wrong type) as findings of their own.
 *
 * Slipway's defaults (calibrated: 3–7% false alarms at α = 0.05 for n = 50…100,000, see
 * calibration.test.ts):
 * - numbers with more than 20 distinct values (reference and current together): two-sample KS, with
 *   ties broken at random when more than 5% of the values repeat (`ks_ties`, tie-breaking.ts: plain
 *   KS is conservative on tied data; a few repeats in continuous data change nothing);
 * - numbers with at most 20 distinct values, booleans, categories: `chi2`, the two-sample chi-square
 *   test with rare levels pooled (KS on heavily tied data is conservative and misses shifts);
 * - free text: a domain classifier (text-drift.ts).
 * Evidently's defaults (`defaults: "evidently"`) reproduce its choice exactly, false alarms included
 * (docs/drift.md compares the two).
 */
import { MlError } from "../core/errors.js";
import {
  categoricalPair,
  distinctSorted,
  numericAsCategorical,
  numericSide,
  type CategoricalPair,
  type MissingCounts,
  type NumericPair,
} from "./column-samples.js";
import { manyTies } from "./tie-breaking.js";
import { decide, driftMethod, pooledChiSquare, type DriftComparison } from "./methods.js";
import { columnStatistics } from "./column-statistics.js";
import { textDrift, type TextDriftOptions } from "./text-drift.js";
import type { ColumnValues, TableColumnType } from "../data/table.js";

export type DriftColumnType = "numeric" | "categorical" | "text";

export type DriftDefaults = "slipway" | "evidently";

/** Numbers with at most this many distinct values are tested as categories by Slipway's defaults. */
export const DISCRETE_NUMERIC_LIMIT = 20;

export interface ColumnDriftOptions {
  /** rule set that picks a method when none is named (default "slipway") */
  defaults?: DriftDefaults;
  /** method by name (see methods.ts); overrides the defaults */
  method?: string;
  /** threshold for the method's score; default: the method's own */
  threshold?: number;
  /** significance level of the findings' tests (missing values) (default 0.05) */
  alpha?: number;
  text?: TextDriftOptions;
  /** compute the full statistics set besides the deciding score (default true; simulations turn it off) */
  statistics?: boolean;
  /** keep the distribution shares for the report's charts (default true) */
  distribution?: boolean;
}

export type FindingKind =
  | "column_missing_in_current"
  | "column_missing_in_reference"
  | "no_values_in_reference"
  | "no_values_in_current"
  | "missing_values_changed"
  | "new_categories"
  | "missing_categories"
  | "infinite_values"
  | "invalid_values"
  | "constant_column"
  | "too_few_values"
  | "vocabulary_shift"
  | "multivariate_drift"
  | "multivariate_not_tested";

export interface DriftFinding {
  readonly column: string;
  readonly kind: FindingKind;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Shares of the current and reference values per bin or level, for the report's charts. */
export type ColumnDistribution =
  | { kind: "histogram"; edges: number[]; reference: number[]; current: number[] }
  | { kind: "levels"; levels: string[]; reference: number[]; current: number[] };

export interface ColumnDrift {
  readonly column: string;
  readonly type: DriftColumnType;
  /** the method that decided, or null when the column could not be tested (see findings) */
  readonly test: string | null;
  readonly score: number | null;
  readonly threshold: number | null;
  readonly comparison: DriftComparison | null;
  readonly drift: boolean | null;
  /** every statistic computed for the column (numbers; null for a non-finite value) */
  readonly statistics: Readonly<Record<string, number | null>>;
  readonly findings: readonly DriftFinding[];
  readonly distribution?: ColumnDistribution;
}

export function driftColumnType(type: TableColumnType): DriftColumnType | undefined {
  switch (type) {
    case "number":
      return "numeric";
    case "boolean":
    case "string":
      return "categorical";
    case "text":
      return "text";
    case "missing":
      return undefined;
  }
}

function missingFindings(column: string, ref: MissingCounts, cur: MissingCounts, alpha: number): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const shareRef = ref.rows === 0 ? 0 : ref.missing / ref.rows;
  const shareCur = cur.rows === 0 ? 0 : cur.missing / cur.rows;
  if (ref.rows > 0 && cur.rows > 0 && (ref.missing > 0 || cur.missing > 0)) {
    const p = pooledChiSquare(binaryPair(ref.rows - ref.missing, ref.missing, cur.rows - cur.missing, cur.missing));
    if (p.pvalue <= alpha) {
      findings.push({
        column,
        kind: "missing_values_changed",
        message: `missing values went from ${percent(shareRef)} to ${percent(shareCur)} (p = ${p.pvalue.toPrecision(3)})`,
        details: { reference_share: shareRef, current_share: shareCur, p_value: p.pvalue },
      });
    }
  }
  for (const [side, counts] of [
    ["reference", ref],
    ["current", cur],
  ] as const) {
    if (counts.infinite > 0) {
      findings.push({
        column,
        kind: "infinite_values",
        message: `${counts.infinite} infinite value(s) in ${side} (left out of the statistics)`,
        details: { side, count: counts.infinite },
      });
    }
    if (counts.invalid > 0) {
      findings.push({
        column,
        kind: "invalid_values",
        message: `${counts.invalid} value(s) of another type in ${side} (left out of the statistics)`,
        details: { side, count: counts.invalid },
      });
    }
  }
  return findings;
}

/** A two-level categorical pair from counts (for the missing-values test). */
function binaryPair(ref0: number, ref1: number, cur0: number, cur1: number): CategoricalPair {
  const side = (a: number, b: number): CategoricalPair["reference"] => {
    const codes = new Int32Array(a + b);
    codes.fill(1, a);
    return { rows: a + b, missing: 0, infinite: 0, invalid: 0, codes, counts: Float64Array.of(a, b) };
  };
  return { kind: "categorical", levels: ["0", "1"], reference: side(ref0, ref1), current: side(cur0, cur1) };
}

function percent(x: number): string {
  return `${(100 * x).toFixed(x < 0.001 && x > 0 ? 3 : 1)}%`;
}

function categoryFindings(column: string, pair: CategoricalPair): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const nCur = pair.current.codes.length;
  const nRef = pair.reference.codes.length;
  const fresh: { level: string; count: number }[] = [];
  const gone: { level: string; count: number }[] = [];
  pair.levels.forEach((level, k) => {
    const r = pair.reference.counts[k]!;
    const c = pair.current.counts[k]!;
    if (r === 0 && c > 0) fresh.push({ level, count: c });
    if (c === 0 && r > 0) gone.push({ level, count: r });
  });
  const top = (list: { level: string; count: number }[]): { level: string; count: number }[] =>
    list.sort((a, b) => b.count - a.count).slice(0, 10);
  if (fresh.length > 0 && nCur > 0) {
    const rows = fresh.reduce((s, x) => s + x.count, 0);
    findings.push({
      column,
      kind: "new_categories",
      message: `${fresh.length} value(s) never seen in reference make up ${percent(rows / nCur)} of current: ${top(
        fresh,
      )
        .map((x) => JSON.stringify(x.level))
        .join(", ")}${fresh.length > 10 ? ", …" : ""}`,
      details: { count: fresh.length, current_share: rows / nCur, top: top(fresh) },
    });
  }
  if (gone.length > 0 && nRef > 0 && nCur > 0) {
    const rows = gone.reduce((s, x) => s + x.count, 0);
    findings.push({
      column,
      kind: "missing_categories",
      message: `${gone.length} reference value(s) (${percent(rows / nRef)} of reference) do not appear in current: ${top(
        gone,
      )
        .map((x) => JSON.stringify(x.level))
        .join(", ")}${gone.length > 10 ? ", …" : ""}`,
      details: { count: gone.length, reference_share: rows / nRef, top: top(gone) },
    });
  }
  return findings;
}

function evidentlyNumericMethod(pair: NumericPair): string {
  const nRef = pair.reference.sorted.length;
  const unique = distinctSorted(pair.reference.sorted, pair.current.sorted, 5);
  if (nRef <= 1000) return unique > 5 ? "ks" : unique >= 3 ? "chisquare" : "z";
  return unique > 5 ? "wasserstein" : "jensenshannon";
}

function evidentlyCategoricalMethod(pair: CategoricalPair): string {
  const nRef = pair.reference.codes.length;
  let unique = 0;
  for (let k = 0; k < pair.levels.length; k++) if (pair.reference.counts[k]! + pair.current.counts[k]! > 0) unique++;
  if (nRef <= 1000) return unique > 2 ? "chisquare" : "z";
  return "jensenshannon";
}

/** A column reported without a verdict: why is in its findings. */
export function untestedColumn(
  column: string,
  type: DriftColumnType,
  findings: DriftFinding[],
  statistics: Record<string, number | null> = {},
): ColumnDrift {
  return {
    column,
    type,
    test: null,
    score: null,
    threshold: null,
    comparison: null,
    drift: null,
    statistics,
    findings,
  };
}

function scoreWith(
  name: string,
  pair: NumericPair | CategoricalPair,
): { score: number; comparison: DriftComparison; defaultThreshold: number } {
  const method = driftMethod(name);
  let score: number;
  if (pair.kind === "numeric") {
    if (method.numeric) score = method.numeric(pair);
    else if (method.categorical) score = method.categorical(numericAsCategorical(pair));
    else throw new MlError(`method '${name}' does not apply to numeric columns`);
  } else {
    if (!method.categorical) throw new MlError(`method '${name}' does not apply to categorical columns`);
    score = method.categorical(pair);
  }
  return { score, comparison: method.drift, defaultThreshold: method.defaultThreshold };
}

/** Drift of a numeric or categorical column (text columns: `textColumnDrift`). */
export function columnDrift(
  column: string,
  type: "numeric" | "categorical",
  reference: ColumnValues,
  current: ColumnValues,
  options: ColumnDriftOptions = {},
): ColumnDrift {
  const alpha = options.alpha ?? 0.05;
  const defaults = options.defaults ?? "slipway";
  let pair: NumericPair | CategoricalPair =
    type === "numeric"
      ? { kind: "numeric", reference: numericSide(reference), current: numericSide(current) }
      : categoricalPair(reference, current);
  const findings = missingFindings(column, pair.reference, pair.current, alpha);
  const nRef = pair.kind === "numeric" ? pair.reference.sorted.length : pair.reference.codes.length;
  const nCur = pair.kind === "numeric" ? pair.current.sorted.length : pair.current.codes.length;
  if (nRef === 0 || nCur === 0) {
    const side = nRef === 0 ? "reference" : "current";
    findings.push({
      column,
      kind: nRef === 0 ? "no_values_in_reference" : "no_values_in_current",
      message: `no usable values in ${side} (${pair[side].rows} rows, all missing or invalid): drift not tested`,
    });
    return untestedColumn(column, type, findings);
  }

  let method = options.method;
  if (method === undefined) {
    if (defaults === "evidently") {
      method = pair.kind === "numeric" ? evidentlyNumericMethod(pair) : evidentlyCategoricalMethod(pair);
    } else if (pair.kind === "numeric") {
      const r = pair.reference.sorted;
      const c = pair.current.sorted;
      method =
        distinctSorted(r, c, DISCRETE_NUMERIC_LIMIT) <= DISCRETE_NUMERIC_LIMIT
          ? "chi2"
          : manyTies(r, c)
            ? "ks_ties"
            : "ks";
    } else method = "chi2";
  }
  const statistics = options.statistics === false ? {} : columnStatistics(pair);
  if (pair.kind === "numeric" && method === "chi2") pair = numericAsCategorical(pair);
  if (pair.kind === "categorical") findings.push(...categoryFindings(column, pair));
  if (statistics.distinct === 1) {
    findings.push({ column, kind: "constant_column", message: "one value only, in reference and current alike" });
  }
  const { score, comparison, defaultThreshold } = scoreWith(method, pair);
  const threshold = options.threshold ?? defaultThreshold;
  return {
    column,
    type,
    test: method,
    score,
    threshold,
    comparison,
    drift: decide(score, threshold, comparison),
    statistics,
    findings,
    distribution: options.distribution === false ? undefined : distributionOf(pair),
  };
}

/** Drift of a free-text column by a domain classifier, plus vocabulary statistics. */
export function textColumnDrift(
  column: string,
  reference: ColumnValues,
  current: ColumnValues,
  options: ColumnDriftOptions = {},
): ColumnDrift {
  if (options.method !== undefined && options.method !== "domain_classifier") {
    throw new MlError(`column '${column}': text columns are tested by 'domain_classifier', not '${options.method}'`);
  }
  const texts = (values: ColumnValues): { texts: string[]; counts: MissingCounts } => {
    const out: string[] = [];
    let missing = 0;
    let invalid = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v === "string") out.push(v);
      else if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) missing++;
      else invalid++;
    }
    return { texts: out, counts: { rows: values.length, missing, infinite: 0, invalid } };
  };
  const ref = texts(reference);
  const cur = texts(current);
  const findings = missingFindings(column, ref.counts, cur.counts, options.alpha ?? 0.05);
  if (ref.texts.length === 0 || cur.texts.length === 0) {
    const side = ref.texts.length === 0 ? "reference" : "current";
    findings.push({
      column,
      kind: ref.texts.length === 0 ? "no_values_in_reference" : "no_values_in_current",
      message: `no texts in ${side}: drift not tested`,
    });
    return untestedColumn(column, "text", findings);
  }
  const result = textDrift(ref.texts, cur.texts, { ...options.text, alpha: options.alpha ?? options.text?.alpha });
  const statistics: Record<string, number | null> = {
    roc_auc: result.auc,
    auc_threshold: result.threshold,
    p_value: result.pValue,
    out_of_vocabulary_rate: result.vocabulary?.oovRate ?? null,
    out_of_vocabulary_rate_baseline: result.vocabulary?.oovRateBaseline ?? null,
    vocabulary_jaccard: result.vocabulary?.jaccard ?? null,
    vocabulary_jaccard_baseline: result.vocabulary?.jaccardBaseline ?? null,
    term_jensenshannon: result.vocabulary?.jensenShannon ?? null,
    term_jensenshannon_baseline: result.vocabulary?.jensenShannonBaseline ?? null,
  };
  if (result.reason !== undefined) {
    findings.push({ column, kind: "too_few_values", message: result.reason });
    return untestedColumn(column, "text", findings, statistics);
  }
  return {
    column,
    type: "text",
    test: "domain_classifier",
    score: result.auc,
    threshold: result.threshold,
    comparison: ">",
    drift: result.drift,
    statistics,
    findings: [
      ...findings,
      ...(result.drift
        ? [
            {
              column,
              kind: "vocabulary_shift" as const,
              message: `words typical of current: ${result.currentTerms.slice(0, 10).join(", ")}`,
              details: { current_terms: result.currentTerms, reference_terms: result.referenceTerms },
            },
          ]
        : []),
    ],
  };
}

/** Shares per bin (numbers: 30 equal-width bins over both sides' range) or per level (top 20 + other). */
function distributionOf(pair: NumericPair | CategoricalPair): ColumnDistribution {
  if (pair.kind === "numeric") {
    const r = pair.reference.sorted;
    const c = pair.current.sorted;
    const lo = Math.min(r[0]!, c[0]!);
    const hi = Math.max(r[r.length - 1]!, c[c.length - 1]!);
    const bins = lo === hi ? 1 : 30;
    const width = lo === hi ? 1 : (hi - lo) / bins;
    const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? (lo === hi ? lo + 1 : hi) : lo + i * width));
    const shares = (s: Float64Array): number[] => {
      const counts = new Array<number>(bins).fill(0);
      for (const v of s) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
      return counts.map((x) => x / s.length);
    };
    return { kind: "histogram", edges, reference: shares(r), current: shares(c) };
  }
  const nRef = pair.reference.codes.length;
  const nCur = pair.current.codes.length;
  const weighted = pair.levels.map((level, k) => ({
    level,
    k,
    weight: pair.reference.counts[k]! / nRef + pair.current.counts[k]! / nCur,
  }));
  // numbers tested as categories (at most 20 values) keep their numeric order; categories go by frequency
  const numeric =
    weighted.length <= 20 && weighted.every((x) => x.level.trim() !== "" && Number.isFinite(Number(x.level)));
  const order = numeric
    ? weighted.sort((a, b) => Number(a.level) - Number(b.level))
    : weighted.sort((a, b) => b.weight - a.weight);
  const top = order.slice(0, 20);
  const rest = order.slice(20);
  const levels = top.map((x) => x.level);
  const reference = top.map((x) => pair.reference.counts[x.k]! / nRef);
  const current = top.map((x) => pair.current.counts[x.k]! / nCur);
  if (rest.length > 0) {
    levels.push(`(${rest.length} others)`);
    reference.push(rest.reduce((s, x) => s + pair.reference.counts[x.k]!, 0) / nRef);
    current.push(rest.reduce((s, x) => s + pair.current.counts[x.k]!, 0) / nCur);
  }
  return { kind: "levels", levels, reference, current };
}
