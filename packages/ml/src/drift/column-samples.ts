/**
 * One column of reference and current data, cleaned for drift statistics: missing values counted and
 * removed, numbers sorted once (every numeric statistic here reads the sorted sample: KS and Wasserstein
 * in one merge pass, ranks for Mann–Whitney, Anderson–Darling and Cramér–von Mises), categories coded
 * over the union of both sides' levels in code-point order (so binary tests see the same "first" level as
 * Evidently's sorted keys).
 */
import { valueKind, type ColumnValues } from "../data/table.js";
import { sortFloat64 } from "../stats/sorted.js";

/** Missing values: null, undefined, NaN (and for numbers ±Infinity, counted apart). */
export interface MissingCounts {
  /** rows in the column, missing included */
  readonly rows: number;
  /** null, undefined or NaN */
  readonly missing: number;
  /** ±Infinity (numeric columns; removed like missing values, and reported) */
  readonly infinite: number;
  /** values of another kind than the column's (a string in a numeric column...) */
  readonly invalid: number;
}

export interface NumericSide extends MissingCounts {
  /** the finite values, ascending */
  readonly sorted: Float64Array;
}

/** A numeric column of both sides. */
export interface NumericPair {
  readonly kind: "numeric";
  readonly reference: NumericSide;
  readonly current: NumericSide;
}

export interface CategoricalSide extends MissingCounts {
  /** the values as codes into the pair's `levels` */
  readonly codes: Int32Array;
  /** counts per level (length = levels.length) */
  readonly counts: Float64Array;
}

/** A categorical column of both sides, coded over the union of their levels. */
export interface CategoricalPair {
  readonly kind: "categorical";
  /** level names in code-point order */
  readonly levels: readonly string[];
  readonly reference: CategoricalSide;
  readonly current: CategoricalSide;
}

/** The finite numbers of a column, sorted; missing, infinite and non-numeric values counted. */
export function numericSide(values: ColumnValues): NumericSide {
  const n = values.length;
  const out = new Float64Array(n);
  let k = 0;
  let missing = 0;
  let infinite = 0;
  let invalid = 0;
  if (ArrayBuffer.isView(values)) {
    for (let i = 0; i < n; i++) {
      const v = values[i] as number;
      if (v === v) {
        if (v === Infinity || v === -Infinity) infinite++;
        else out[k++] = v;
      } else missing++;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v === "number") {
        if (Number.isNaN(v)) missing++;
        else if (v === Infinity || v === -Infinity) infinite++;
        else out[k++] = v;
      } else if (v === null || v === undefined) missing++;
      else invalid++;
    }
  }
  const sorted = sortFloat64(out.subarray(0, k));
  return { rows: n, missing, infinite, invalid, sorted: k === n ? sorted : sorted.slice() };
}

/** A categorical value's level name: strings as they are, booleans and numbers as text. */
function levelOf(value: unknown): string | undefined {
  switch (valueKind(value)) {
    case "string":
      return value as string;
    case "number":
    case "boolean":
      return String(value);
    default:
      return undefined;
  }
}

/** Both sides of a categorical column, coded over the sorted union of their levels. */
export function categoricalPair(reference: ColumnValues, current: ColumnValues): CategoricalPair {
  const index = new Map<string, number>();
  const scan = (values: ColumnValues): { raw: Int32Array; missing: number; invalid: number } => {
    const raw = new Int32Array(values.length);
    let missing = 0;
    let invalid = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) {
        raw[i] = -1;
        missing++;
        continue;
      }
      const level = levelOf(v);
      if (level === undefined) {
        raw[i] = -1;
        invalid++;
        continue;
      }
      let code = index.get(level);
      if (code === undefined) index.set(level, (code = index.size));
      raw[i] = code;
    }
    return { raw, missing, invalid };
  };
  const ref = scan(reference);
  const cur = scan(current);
  const levels = [...index.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const remap = new Int32Array(levels.length);
  levels.forEach((level, i) => (remap[index.get(level)!] = i));
  const side = (s: { raw: Int32Array; missing: number; invalid: number }): CategoricalSide => {
    const counts = new Float64Array(levels.length);
    const codes = new Int32Array(s.raw.length - s.missing - s.invalid);
    let k = 0;
    for (const c of s.raw) {
      if (c < 0) continue;
      const code = remap[c]!;
      codes[k++] = code;
      counts[code]!++;
    }
    return { rows: s.raw.length, missing: s.missing, infinite: 0, invalid: s.invalid, codes, counts };
  };
  return { kind: "categorical", levels, reference: side(ref), current: side(cur) };
}

/** The distinct values of two sorted samples together, counting at most `limit + 1`. */
export function distinctSorted(a: Float64Array, b: Float64Array, limit: number): number {
  let i = 0;
  let j = 0;
  let count = 0;
  let last = NaN;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (v !== last) {
      if (++count > limit) return count;
      last = v;
    }
  }
  return count;
}

/** Numbers with few distinct values recoded as categories (level = the number as text), both sides. */
export function numericAsCategorical(pair: NumericPair): CategoricalPair {
  const values = new Set<number>();
  for (const v of pair.reference.sorted) values.add(v);
  for (const v of pair.current.sorted) values.add(v);
  const sortedValues = [...values].sort((a, b) => a - b);
  const code = new Map(sortedValues.map((v, i) => [v, i]));
  const side = (s: NumericSide): CategoricalSide => {
    const codes = new Int32Array(s.sorted.length);
    const counts = new Float64Array(sortedValues.length);
    for (let i = 0; i < s.sorted.length; i++) {
      const c = code.get(s.sorted[i]!)!;
      codes[i] = c;
      counts[c]!++;
    }
    return { rows: s.rows, missing: s.missing, infinite: s.infinite, invalid: s.invalid, codes, counts };
  };
  return {
    kind: "categorical",
    levels: sortedValues.map(String),
    reference: side(pair.reference),
    current: side(pair.current),
  };
}
