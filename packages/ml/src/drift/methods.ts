/**
 * Drift methods by name: Evidently's stattest names and semantics (score, default threshold and the
 * comparison that decides drift, §1.6 of docs/drift.md), plus `chi2`, Slipway's calibrated test for
 * categories. A method scores one column pair; `decide` turns the score into a verdict.
 */
import { MlError } from "../core/errors.js";
import {
  andersonKSampleFromSorted,
  chiSquareContingency,
  chiSquareGoodnessOfFit,
  cramerVonMises2FromSorted,
  energyDistanceFromSorted,
  eppsSingleton,
  fisherExact2x2,
  gTest,
  hellingerEvidently,
  jensenShannonEvidently,
  klEvidently,
  ksFromSorted,
  mannWhitneyU,
  populationStd,
  psiEvidently,
  tTestIndependent,
  twoProportionZTest,
  wassersteinFromSorted,
} from "../stats/index.js";
import type { CategoricalPair, NumericPair } from "./column-samples.js";
import { breakTies } from "./tie-breaking.js";

/** drift when `score <op> threshold` */
export type DriftComparison = "<" | "<=" | ">" | ">=";

export interface DriftMethod {
  readonly name: string;
  /** what the score is: a test's p-value or a distance (effect size) */
  readonly score: "p_value" | "distance";
  readonly defaultThreshold: number;
  readonly drift: DriftComparison;
  /** column kinds it accepts: numeric columns scored as numbers and/or categorical columns */
  readonly numeric?: (pair: NumericPair) => number;
  readonly categorical?: (pair: CategoricalPair) => number;
  readonly description: string;
}

export function decide(score: number, threshold: number, comparison: DriftComparison): boolean {
  switch (comparison) {
    case "<":
      return score < threshold;
    case "<=":
      return score <= threshold;
    case ">":
      return score > threshold;
    case ">=":
      return score >= threshold;
  }
}

/** Evidently's binned distances take "num" (histogram when the reference has > 20 values) or "cat". */
const binnedNum =
  (f: (ref: ArrayLike<number>, cur: ArrayLike<number>, kind: "num" | "cat") => number) =>
  (p: NumericPair): number =>
    f(p.reference.sorted, p.current.sorted, "num");
const binnedCat =
  (f: (ref: ArrayLike<number>, cur: ArrayLike<number>, kind: "num" | "cat") => number) =>
  (p: CategoricalPair): number =>
    f(p.reference.codes, p.current.codes, "cat");

/** Evidently's chi-square: goodness of fit of current counts to reference proportions. */
function chisquareEvidently(p: CategoricalPair): number {
  const nRef = p.reference.codes.length;
  const nCur = p.current.codes.length;
  const expected = Array.from(p.reference.counts, (c) => (c * nCur) / nRef);
  return chiSquareGoodnessOfFit(Array.from(p.current.counts), expected).pvalue;
}

/** Binary columns only (Evidently's Z-test and Fisher's exact test). */
function requireBinary(p: CategoricalPair, method: string): void {
  if (p.levels.length > 2) {
    throw new MlError(`${method} needs a binary column, this one has ${p.levels.length} values`);
  }
}

/**
 * Slipway's test for categories: Pearson's chi-square on the 2×k contingency table of reference and
 * current counts (a two-sample test: unlike goodness of fit, it accounts for the reference's own sampling
 * error, which is why Evidently's small-sample chi-square raises false alarms 31–35% of the time).
 * Levels whose expected count is below 5 in either row are pooled into one "other" cell so the chi-square
 * approximation holds; no continuity correction (Yates' makes the 2×2 test conservative: about 2.5%
 * false alarms at a nominal 5%).
 */
export function pooledChiSquare(p: CategoricalPair): { statistic: number; pvalue: number; dof: number } {
  const r = p.reference.counts;
  const c = p.current.counts;
  const nRef = p.reference.codes.length;
  const nCur = p.current.codes.length;
  const n = nRef + nCur;
  if (nRef === 0 || nCur === 0) return { statistic: 0, pvalue: 1, dof: 0 };
  const refRow: number[] = [];
  const curRow: number[] = [];
  let otherRef = 0;
  let otherCur = 0;
  for (let k = 0; k < r.length; k++) {
    const total = r[k]! + c[k]!;
    if (total === 0) continue;
    if ((total * Math.min(nRef, nCur)) / n < 5) {
      otherRef += r[k]!;
      otherCur += c[k]!;
    } else {
      refRow.push(r[k]!);
      curRow.push(c[k]!);
    }
  }
  if (otherRef + otherCur > 0) {
    refRow.push(otherRef);
    curRow.push(otherCur);
  }
  if (refRow.length < 2) return { statistic: 0, pvalue: 1, dof: 0 };
  const result = chiSquareContingency([refRow, curRow], { correction: false });
  return { statistic: result.statistic, pvalue: result.pvalue, dof: result.dof };
}

const METHODS: readonly DriftMethod[] = [
  {
    name: "ks",
    score: "p_value",
    defaultThreshold: 0.05,
    drift: "<=",
    numeric: (p) => ksFromSorted(p.reference.sorted, p.current.sorted).pvalue,
    description: "two-sample Kolmogorov–Smirnov test (exact p-value up to 10,000 rows a side, else asymptotic)",
  },
  {
    name: "ks_ties",
    score: "p_value",
    defaultThreshold: 0.05,
    drift: "<=",
    numeric: (p) => ksFromSorted(...breakTies(p.reference.sorted, p.current.sorted)).pvalue,
    description: "two-sample KS with ties broken at random (seeded): calibrated on tied data such as integers",
  },
  {
    name: "chi2",
    score: "p_value",
    defaultThreshold: 0.05,
    drift: "<=",
    categorical: (p) => pooledChiSquare(p).pvalue,
    description: "chi-square test of the reference × current contingency table, rare levels pooled",
  },
  {
    name: "wasserstein",
    score: "distance",
    defaultThreshold: 0.1,
    drift: ">=",
    numeric: (p) =>
      wassersteinFromSorted(p.reference.sorted, p.current.sorted) / Math.max(populationStd(p.reference.sorted), 0.001),
    description: "Wasserstein-1 distance divided by the reference's standard deviation (Evidently's)",
  },
  {
    name: "psi",
    score: "distance",
    defaultThreshold: 0.1,
    drift: ">=",
    numeric: binnedNum(psiEvidently),
    categorical: binnedCat(psiEvidently),
    description: "population stability index on Evidently's bins",
  },
  {
    name: "jensenshannon",
    score: "distance",
    defaultThreshold: 0.1,
    drift: ">=",
    numeric: binnedNum(jensenShannonEvidently),
    categorical: binnedCat(jensenShannonEvidently),
    description: "Jensen–Shannon distance (natural log) on Evidently's bins",
  },
  {
    name: "kl_div",
    score: "distance",
    defaultThreshold: 0.1,
    drift: ">=",
    numeric: binnedNum(klEvidently),
    categorical: binnedCat(klEvidently),
    description: "Kullback–Leibler divergence of reference from current on Evidently's bins",
  },
  {
    name: "hellinger",
    score: "distance",
    defaultThreshold: 0.1,
    drift: ">=",
    numeric: binnedNum(hellingerEvidently),
    categorical: binnedCat(hellingerEvidently),
    description: "Hellinger distance (Evidently's binning)",
  },
  {
    name: "chisquare",
    score: "p_value",
    defaultThreshold: 0.05,
    drift: "<",
    categorical: chisquareEvidently,
    description: "Evidently's chi-square goodness of fit of current counts to reference proportions",
  },
  {
    name: "z",
    score: "p_value",
    defaultThreshold: 0.05,
    drift: "<",
    categorical: (p) => {
      requireBinary(p, "z");
      return twoProportionZTest(p.reference.codes, p.current.codes).pvalue;
    },
    description: "two-proportion Z-test (binary columns)",
  },
  {
    name: "fisher_exact",
    score: "p_value",
    defaultThreshold: 0.1,
    drift: "<",
    categorical: (p) => {
      requireBinary(p, "fisher_exact");
      const [r0 = 0, r1 = 0] = p.reference.counts;
      const [c0 = 0, c1 = 0] = p.current.counts;
      return fisherExact2x2([
        [c1, c0],
        [r1, r0],
      ]).pvalue;
    },
    description: "Fisher's exact test (binary columns)",
  },
  {
    name: "g_test",
    score: "p_value",
    defaultThreshold: 0.1,
    drift: "<",
    categorical: (p) => gTest(Array.from(p.current.counts), Array.from(p.reference.counts)).pvalue,
    description: "G-test (log-likelihood ratio) of current counts against reference counts (needs equal sizes)",
  },
  {
    name: "ed",
    score: "distance",
    defaultThreshold: 0.1,
    drift: ">",
    numeric: (p) => energyDistanceFromSorted(p.reference.sorted, p.current.sorted),
    description: "energy distance (raw, scale-dependent)",
  },
  {
    name: "anderson",
    score: "p_value",
    defaultThreshold: 0.1,
    drift: "<",
    numeric: (p) => andersonKSampleFromSorted([p.reference.sorted, p.current.sorted]).pvalue,
    description: "Anderson–Darling k-sample test (p-value capped to [0.001, 0.25])",
  },
  {
    name: "cramer_von_mises",
    score: "p_value",
    defaultThreshold: 0.1,
    drift: "<=",
    numeric: (p) => cramerVonMises2FromSorted(p.reference.sorted, p.current.sorted).pvalue,
    description: "two-sample Cramér–von Mises test",
  },
  {
    name: "es",
    score: "p_value",
    defaultThreshold: 0.05,
    drift: "<",
    numeric: (p) => eppsSingleton(p.reference.sorted, p.current.sorted).pvalue,
    description: "Epps–Singleton test",
  },
  {
    name: "mannw",
    score: "p_value",
    defaultThreshold: 0.05,
    drift: "<",
    numeric: (p) => mannWhitneyU(p.reference.sorted, p.current.sorted, { alternative: "less" }).pvalue,
    description: "Mann–Whitney U test, one-sided as Evidently runs it (detects current stochastically larger)",
  },
  {
    name: "t_test",
    score: "p_value",
    defaultThreshold: 0.05,
    drift: "<",
    numeric: (p) => tTestIndependent(p.reference.sorted, p.current.sorted).pvalue,
    description: "Student's t-test (equal variances)",
  },
];

const BY_NAME = new Map(METHODS.map((m) => [m.name, m]));

export const DRIFT_METHOD_NAMES: readonly string[] = METHODS.map((m) => m.name);

export function driftMethod(name: string): DriftMethod {
  const method = BY_NAME.get(name);
  if (method === undefined) {
    throw new MlError(`unknown drift method '${name}' (known: ${DRIFT_METHOD_NAMES.join(", ")})`);
  }
  return method;
}

export function listDriftMethods(): readonly DriftMethod[] {
  return METHODS;
}
