/**
 * Tests on counts of categories, with SciPy 1.10.1's semantics: chi-square goodness of fit and the
 * G-test (`scipy.stats.power_divergence`), the chi-square test of a contingency table
 * (`chi2_contingency`), Fisher's exact test of a 2×2 table, and Evidently's two-proportion z-test.
 * Categorical samples are numeric codes; `valueCounts` and `alignedValueCounts` turn them into counts.
 */
import { MlError } from "../core/errors.js";
import { chi2Sf, hypergeometricPmf, normalCdf, numpySum } from "./special.js";

/** Distinct values in ascending order and how often each occurs. */
export interface ValueCounts {
  readonly keys: Float64Array;
  readonly counts: Float64Array;
}

/** Counts of both samples over the union of their values (ascending); 0 where a side lacks a key. */
export interface AlignedValueCounts {
  readonly keys: Float64Array;
  readonly refCounts: Float64Array;
  readonly curCounts: Float64Array;
}

export interface ChiSquareResult {
  readonly statistic: number;
  readonly pvalue: number;
  readonly dof: number;
}

export interface ContingencyResult extends ChiSquareResult {
  /** Expected frequencies rowsum·colsum/total, in the shape of the input table. */
  readonly expected: number[][];
}

export interface ZTestResult {
  readonly z: number;
  readonly pvalue: number;
}

export interface FisherResult {
  readonly oddsRatio: number;
  readonly pvalue: number;
}

/** Codes below this (and below 4·n) are counted in an array instead of a Map. */
const DENSE_CODE_LIMIT = 1 << 16;

function checkNoNaN(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) throw new MlError(`${what} contains NaN at index ${i}`);
  }
}

/** Distinct values of `values` (ascending) with their counts. NaN is rejected. */
export function valueCounts(values: ArrayLike<number>): ValueCounts {
  const n = values.length;
  let dense = true;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) throw new MlError(`valueCounts: value at index ${i} is NaN`);
    if (dense && Number.isInteger(v) && v >= 0) {
      if (v > max) max = v;
    } else {
      dense = false;
    }
  }
  if (dense && max < Math.max(DENSE_CODE_LIMIT, 4 * n)) {
    const tally = new Float64Array(max + 1);
    for (let i = 0; i < n; i++) tally[values[i]!]!++;
    let distinct = 0;
    for (let k = 0; k <= max; k++) if (tally[k]! > 0) distinct++;
    const keys = new Float64Array(distinct);
    const counts = new Float64Array(distinct);
    let j = 0;
    for (let k = 0; k <= max; k++) {
      if (tally[k]! > 0) {
        keys[j] = k;
        counts[j++] = tally[k]!;
      }
    }
    return { keys, counts };
  }
  const map = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    map.set(v, (map.get(v) ?? 0) + 1);
  }
  const keys = Float64Array.from(map.keys()).sort();
  const counts = new Float64Array(keys.length);
  for (let j = 0; j < keys.length; j++) counts[j] = map.get(keys[j]!)!;
  return { keys, counts };
}

/** Counts of `ref` and `cur` over the union of their distinct values (ascending). */
export function alignedValueCounts(ref: ArrayLike<number>, cur: ArrayLike<number>): AlignedValueCounts {
  const a = valueCounts(ref);
  const b = valueCounts(cur);
  let i = 0;
  let j = 0;
  let k = 0;
  const keys = new Float64Array(a.keys.length + b.keys.length);
  const refCounts = new Float64Array(keys.length);
  const curCounts = new Float64Array(keys.length);
  while (i < a.keys.length || j < b.keys.length) {
    const ka = i < a.keys.length ? a.keys[i]! : Infinity;
    const kb = j < b.keys.length ? b.keys[j]! : Infinity;
    if (i < a.keys.length && (j >= b.keys.length || ka <= kb)) {
      keys[k] = ka;
      refCounts[k] = a.counts[i++]!;
      if (j < b.keys.length && kb === ka) curCounts[k] = b.counts[j++]!;
    } else {
      keys[k] = kb;
      curCounts[k] = b.counts[j++]!;
    }
    k++;
  }
  return { keys: keys.slice(0, k), refCounts: refCounts.slice(0, k), curCounts: curCounts.slice(0, k) };
}

/**
 * SciPy ≥ 1.9 refuses observed and expected frequencies whose totals differ by more than
 * 1e-8 relative (to the smaller total); this is that check, with SciPy's message.
 */
function checkSums(observed: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const so = numpySum(observed);
  const se = numpySum(expected);
  const relativeDiff = Math.abs(so - se) / Math.min(so, se);
  if (relativeDiff > 1e-8) {
    throw new MlError(
      `${what}: For each axis slice, the sum of the observed frequencies must agree with the sum ` +
        `of the expected frequencies to a relative tolerance of 1e-08, but the percent differences ` +
        `are:\n${relativeDiff}`,
    );
  }
}

function checkFrequencies(observed: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  if (observed.length !== expected.length) {
    throw new MlError(`${what}: observed has ${observed.length} categories but expected has ${expected.length}`);
  }
  if (observed.length === 0) throw new MlError(`${what}: no categories`);
  for (const [name, arr] of [
    ["observed", observed],
    ["expected", expected],
  ] as const) {
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      if (!(v >= 0) || v === Infinity) {
        throw new MlError(`${what}: ${name}[${i}] = ${v} is not a finite non-negative frequency`);
      }
    }
  }
}

/**
 * Pearson's chi-square goodness of fit, `scipy.stats.chisquare(observed, expected)`:
 * Σ(o−e)²/e, p = chi2.sf(stat, k−1). Totals must agree (SciPy ≥ 1.9, else MlError). A category
 * with e = 0 and o > 0 gives statistic ∞ and p = 0; e = o = 0 gives NaN, as in SciPy.
 */
export function chiSquareGoodnessOfFit(observed: ArrayLike<number>, expected: ArrayLike<number>): ChiSquareResult {
  checkFrequencies(observed, expected, "chiSquareGoodnessOfFit");
  checkSums(observed, expected, "chiSquareGoodnessOfFit");
  const terms = new Float64Array(observed.length);
  for (let i = 0; i < terms.length; i++) {
    const d = observed[i]! - expected[i]!;
    terms[i] = (d * d) / expected[i]!;
  }
  const statistic = numpySum(terms);
  const dof = terms.length - 1;
  return { statistic, pvalue: dof > 0 ? chi2Sf(statistic, dof) : NaN, dof };
}

/**
 * G-test (log-likelihood ratio), `scipy.stats.power_divergence(observed, expected,
 * lambda_="log-likelihood")`: 2·Σ o·ln(o/e), p = chi2.sf(G, k−1). Totals must agree (MlError with
 * SciPy's message otherwise; Evidently's `g_test` hits this whenever n_ref ≠ n_cur).
 */
export function gTest(observed: ArrayLike<number>, expected: ArrayLike<number>): ChiSquareResult {
  checkFrequencies(observed, expected, "gTest");
  checkSums(observed, expected, "gTest");
  const terms = new Float64Array(observed.length);
  for (let i = 0; i < terms.length; i++) {
    const o = observed[i]!;
    const ratio = o / expected[i]!;
    // xlogy(o, o/e): 0 when o = 0 unless o/e is NaN
    terms[i] = 2 * (o === 0 && !Number.isNaN(ratio) ? 0 : o * Math.log(ratio));
  }
  const statistic = numpySum(terms);
  const dof = terms.length - 1;
  return { statistic, pvalue: dof > 0 ? chi2Sf(statistic, dof) : NaN, dof };
}

/**
 * Chi-square test of independence of a contingency table, `scipy.stats.chi2_contingency(table)`
 * after dropping all-zero rows and columns (as NannyML's value-count tables never have them):
 * E = rowsum·colsum/total, dof = (r−1)(c−1) of the remaining table, Yates' correction when dof = 1,
 * statistic 0 and p = 1 when dof = 0. `expected` keeps the input's shape (0 on dropped lines).
 * `correction: false` leaves Yates' correction out (SciPy's `correction=False`).
 */
export function chiSquareContingency(
  table: readonly (readonly number[])[],
  options: { correction?: boolean } = {},
): ContingencyResult {
  const rows = table.length;
  if (rows === 0) throw new MlError("chiSquareContingency: the table has no rows");
  const cols = table[0]!.length;
  if (cols === 0) throw new MlError("chiSquareContingency: the table has no columns");
  const rowSums = new Float64Array(rows);
  const colSums = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const row = table[r]!;
    if (row.length !== cols) {
      throw new MlError(`chiSquareContingency: row ${r} has ${row.length} cells, row 0 has ${cols}`);
    }
    for (let c = 0; c < cols; c++) {
      const v = row[c]!;
      if (!(v >= 0) || v === Infinity) {
        throw new MlError(`chiSquareContingency: cell [${r}][${c}] = ${v} is not a finite non-negative count`);
      }
    }
    rowSums[r] = numpySum(row);
  }
  for (let c = 0; c < cols; c++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += table[r]![c]!;
    colSums[c] = s;
  }
  const keptRows: number[] = [];
  const keptCols: number[] = [];
  for (let r = 0; r < rows; r++) if (rowSums[r]! > 0) keptRows.push(r);
  for (let c = 0; c < cols; c++) if (colSums[c]! > 0) keptCols.push(c);
  if (keptRows.length === 0) throw new MlError("chiSquareContingency: the table is all zeros");
  let total = 0;
  for (const r of keptRows) total += rowSums[r]!;
  const expected = table.map((_, r) => Array.from({ length: cols }, (__, c) => (rowSums[r]! * colSums[c]!) / total));
  const dof = (keptRows.length - 1) * (keptCols.length - 1);
  if (dof === 0) return { statistic: 0, pvalue: 1, dof, expected };
  const terms = new Float64Array(keptRows.length * keptCols.length);
  let t = 0;
  for (const r of keptRows) {
    for (const c of keptCols) {
      const e = expected[r]![c]!;
      let o = table[r]![c]!;
      if (dof === 1 && options.correction !== false) {
        // Yates: move o towards e by min(0.5, |e−o|)
        const diff = e - o;
        o += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      const d = o - e;
      terms[t++] = (d * d) / e;
    }
  }
  const statistic = numpySum(terms);
  return { statistic, pvalue: chi2Sf(statistic, dof), dof, expected };
}

/**
 * Evidently's two-proportion z-test (`z` stattest): keys = sorted union of values; a value equal to
 * keys[0] counts as 0, any other as 1; p1, p2 the shares of 1s; P = (p1·n1 + p2·n2)/(n1+n2);
 * z = (p1−p2)/√(P(1−P)(1/n1+1/n2)); p = 2·(1 − Φ(|z|)) (Evidently's form, so p is 0 once
 * Φ(|z|) rounds to 1). Both samples constant and equal → p = 1 (and z = 0).
 */
export function twoProportionZTest(refCodes: ArrayLike<number>, curCodes: ArrayLike<number>): ZTestResult {
  const n1 = refCodes.length;
  const n2 = curCodes.length;
  if (n1 === 0 || n2 === 0) throw new MlError("twoProportionZTest: reference and current must not be empty");
  checkNoNaN(refCodes, "twoProportionZTest: reference");
  checkNoNaN(curCodes, "twoProportionZTest: current");
  let first = Infinity;
  for (let i = 0; i < n1; i++) if (refCodes[i]! < first) first = refCodes[i]!;
  for (let i = 0; i < n2; i++) if (curCodes[i]! < first) first = curCodes[i]!;
  let ones1 = 0;
  let ones2 = 0;
  for (let i = 0; i < n1; i++) if (refCodes[i] !== first) ones1++;
  for (let i = 0; i < n2; i++) if (curCodes[i] !== first) ones2++;
  const refConstant = isConstant(refCodes);
  const curConstant = isConstant(curCodes);
  if (refConstant && curConstant && refCodes[0] === curCodes[0]) return { z: 0, pvalue: 1 };
  const p1 = ones1 / n1;
  const p2 = ones2 / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
  return { z, pvalue: 2 * (1 - normalCdf(Math.abs(z))) };
}

function isConstant(values: ArrayLike<number>): boolean {
  const v0 = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] !== v0) return false;
  return true;
}

/** Σ pmf(x) for x = from, from+step, … within [lo, hi], by the ratio recurrence from pmf(from). */
function hypergeometricTail(
  from: number,
  step: 1 | -1,
  support: { readonly lo: number; readonly hi: number },
  params: { readonly total: number; readonly successes: number; readonly draws: number },
): number {
  const { total, successes, draws } = params;
  const failures = total - successes;
  if (from < support.lo || from > support.hi) {
    if ((step === 1 && from > support.hi) || (step === -1 && from < support.lo)) return 0;
    from = step === 1 ? support.lo : support.hi;
  }
  let term = hypergeometricPmf(from, total, successes, draws);
  let sum = term;
  for (let x = from; term > 0;) {
    if (step === 1) {
      if (x >= support.hi) break;
      term *= ((successes - x) * (draws - x)) / ((x + 1) * (failures - draws + x + 1));
      x++;
    } else {
      if (x <= support.lo) break;
      term *= (x * (failures - draws + x)) / ((successes - x + 1) * (draws - x + 1));
      x--;
    }
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/**
 * Fisher's exact test of a 2×2 table [[a, b], [c, d]], two-sided, as `scipy.stats.fisher_exact`
 * (1.10.1): p = Σ of the hypergeometric probabilities (rows fixed, first column drawn) that are
 * ≤ P(observed)·(1 + 1e-14); p = 1 when the observed cell sits at the mode. Odds ratio ad/(bc)
 * (∞ when b or c is 0); a zero row or column sum gives odds ratio NaN and p = 1.
 */
export function fisherExact2x2(table: readonly (readonly number[])[]): FisherResult {
  if (table.length !== 2 || table[0]!.length !== 2 || table[1]!.length !== 2) {
    throw new MlError("fisherExact2x2: the table must be of shape (2, 2)");
  }
  const a = table[0]![0]!;
  const b = table[0]![1]!;
  const c = table[1]![0]!;
  const d = table[1]![1]!;
  for (const v of [a, b, c, d]) {
    if (!Number.isInteger(v) || v < 0) {
      throw new MlError(`fisherExact2x2: cell ${v} is not a non-negative integer count`);
    }
  }
  if (a + b === 0 || c + d === 0 || a + c === 0 || b + d === 0) return { oddsRatio: NaN, pvalue: 1 };
  const oddsRatio = c > 0 && b > 0 ? (a * d) / (c * b) : Infinity;
  const n1 = a + b;
  const n2 = c + d;
  const n = a + c;
  const total = n1 + n2;
  const params = { total, successes: n1, draws: n };
  const support = { lo: Math.max(0, n - n2), hi: Math.min(n, n1) };
  const pmf = (x: number): number => hypergeometricPmf(x, total, n1, n);
  const mode = Math.trunc(((n + 1) * (n1 + 1)) / (n1 + n2 + 2));
  const pexact = pmf(a);
  const pmode = pmf(mode);
  const epsilon = 1e-14;
  const gamma = 1 + epsilon;
  if (Math.abs(pexact - pmode) / Math.max(pexact, pmode) <= epsilon) return { oddsRatio, pvalue: 1 };
  let pvalue: number;
  if (a < mode) {
    const plower = hypergeometricTail(a, -1, support, params);
    if (pmf(n) > pexact * gamma) return { oddsRatio, pvalue: plower };
    const guess = binarySearch((x) => -pmf(x), -pexact * gamma, mode, n);
    pvalue = plower + hypergeometricTail(guess + 1, 1, support, params);
  } else {
    const pupper = hypergeometricTail(a, 1, support, params);
    if (pmf(0) > pexact * gamma) return { oddsRatio, pvalue: pupper };
    const guess = binarySearch(pmf, pexact * gamma, 0, mode);
    pvalue = pupper + hypergeometricTail(guess, -1, support, params);
  }
  return { oddsRatio, pvalue: Math.min(pvalue, 1) };
}

/** SciPy's `_binary_search_for_binom_tst`: i in [lo, hi] with f(i) ≤ target < f(i+1), f ascending. */
function binarySearch(f: (x: number) => number, target: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const v = f(mid);
    if (v < target) lo = mid + 1;
    else if (v > target) hi = mid - 1;
    else return mid;
  }
  return f(lo) <= target ? lo : lo - 1;
}
