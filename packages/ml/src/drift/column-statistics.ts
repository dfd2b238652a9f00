/**
 * The statistics reported for every tested column, whatever method decides: a person comparing tools
 * sees KS, Wasserstein, PSI, Jensen–Shannon… side by side. All of them are linear in the column's size
 * once the column is sorted (numbers) or counted (categories); the binned ones share one binning.
 */
import {
  energyDistanceFromSorted,
  evidentlyBinning,
  jensenShannon,
  klDivergence,
  ksFromSorted,
  populationStd,
  psi,
  totalVariation,
  tTestIndependent,
  wassersteinFromSorted,
} from "../stats/index.js";
import { distinctSorted, type CategoricalPair, type NumericPair } from "./column-samples.js";
import { pooledChiSquare } from "./methods.js";

export type ColumnStatistics = Record<string, number | null>;

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function mean(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

function binned(ref: ArrayLike<number>, cur: ArrayLike<number>, kind: "num" | "cat"): ColumnStatistics {
  const b = evidentlyBinning(ref, cur, kind);
  return {
    psi: finite(psi(b.refPctFilled, b.curPctFilled)),
    jensenshannon: finite(jensenShannon(b.refPct, b.curPct)),
    kl_div: finite(klDivergence(b.refPctFilled, b.curPctFilled)),
  };
}

export function columnStatistics(pair: NumericPair | CategoricalPair): ColumnStatistics {
  const ref = pair.reference;
  const cur = pair.current;
  const common: ColumnStatistics = {
    reference_rows: ref.rows,
    current_rows: cur.rows,
    reference_missing_share: ref.rows === 0 ? null : ref.missing / ref.rows,
    current_missing_share: cur.rows === 0 ? null : cur.missing / cur.rows,
  };
  if (pair.kind === "numeric") {
    const r = pair.reference.sorted;
    const c = pair.current.sorted;
    const ks = ksFromSorted(r, c);
    const w = wassersteinFromSorted(r, c);
    const stdRef = populationStd(r);
    return {
      ...common,
      distinct: distinctSorted(r, c, Number.MAX_SAFE_INTEGER),
      reference_mean: mean(r),
      current_mean: mean(c),
      reference_std: stdRef,
      current_std: populationStd(c),
      reference_min: r[0]!,
      reference_max: r[r.length - 1]!,
      current_min: c[0]!,
      current_max: c[c.length - 1]!,
      ks_statistic: ks.statistic,
      ks_p_value: ks.pvalue,
      wasserstein: w,
      wasserstein_norm: w / Math.max(stdRef, 0.001),
      energy_distance: energyDistanceFromSorted(r, c),
      t_test_p_value: r.length > 1 && c.length > 1 ? finite(tTestIndependent(r, c).pvalue) : null,
      ...binned(r, c, "num"),
    };
  }
  const n = pair.levels.length;
  const rc = pair.reference.counts;
  const cc = pair.current.counts;
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  let distinct = 0;
  let fresh = 0;
  for (let k = 0; k < n; k++) {
    p[k] = rc[k]! / pair.reference.codes.length;
    q[k] = cc[k]! / pair.current.codes.length;
    if (rc[k]! + cc[k]! > 0) distinct++;
    if (rc[k] === 0 && cc[k]! > 0) fresh++;
  }
  const chi2 = pooledChiSquare(pair);
  return {
    ...common,
    distinct,
    new_levels: fresh,
    chi2_statistic: chi2.statistic,
    chi2_p_value: chi2.pvalue,
    chi2_dof: chi2.dof,
    tvd: totalVariation(p, q),
    ...binned(pair.reference.codes, pair.current.codes, "cat"),
  };
}
