/**
 * Distances between the empirical distributions of two samples, as SciPy 1.10's
 * `scipy.stats.wasserstein_distance` and `energy_distance` (unweighted): integrals of |F_u − F_v|^p over
 * the pooled values, with right-continuous ECDFs (docs "drift-methods" §3.2). Both `…FromSorted`
 * variants merge two sorted samples in one pass instead of sorting the pooled sample.
 */
import { MlError } from "../core/errors.js";
import { populationStd, sortedNoNaN } from "./sorted.js";

/**
 * First Wasserstein (earth mover's) distance W1 = ∫ |F_u(z) − F_v(z)| dz between the samples
 * (`scipy.stats.wasserstein_distance(u, v)`). NaN is rejected; an infinite value gives Infinity or NaN as
 * in SciPy.
 */
export function wassersteinDistance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  checkNonEmpty(u.length, v.length, "wassersteinDistance");
  return wassersteinFromSorted(sortedNoNaN(u, "wassersteinDistance: u"), sortedNoNaN(v, "wassersteinDistance: v"));
}

/** {@link wassersteinDistance} of two samples already sorted ascending (one merge pass, no copies). */
export function wassersteinFromSorted(su: Float64Array, sv: Float64Array): number {
  checkNonEmpty(su.length, sv.length, "wassersteinFromSorted");
  return cdfIntegral(su, sv, 1, "wassersteinFromSorted");
}

/**
 * Energy distance √2·‖F_u − F_v‖₂ = √(2 ∫ (F_u − F_v)² dz) (`scipy.stats.energy_distance(u, v)`,
 * Székely's D(u, v) = √(2E|X−Y| − E|X−X'| − E|Y−Y'|)). Not normalised: it has the units of the data.
 */
export function energyDistance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  checkNonEmpty(u.length, v.length, "energyDistance");
  return energyDistanceFromSorted(sortedNoNaN(u, "energyDistance: u"), sortedNoNaN(v, "energyDistance: v"));
}

/** {@link energyDistance} of two samples already sorted ascending. */
export function energyDistanceFromSorted(su: Float64Array, sv: Float64Array): number {
  checkNonEmpty(su.length, sv.length, "energyDistanceFromSorted");
  return Math.SQRT2 * Math.sqrt(cdfIntegral(su, sv, 2, "energyDistanceFromSorted"));
}

/**
 * Evidently's `wasserstein` drift score: W1(ref, cur) / max(std(ref), 0.001) with the population
 * (ddof = 0) standard deviation of the reference. Drift when ≥ 0.1 by default.
 */
export function normalizedWasserstein(ref: ArrayLike<number>, cur: ArrayLike<number>): number {
  checkNonEmpty(ref.length, cur.length, "normalizedWasserstein");
  const sref = sortedNoNaN(ref, "normalizedWasserstein: ref");
  return normalizedWassersteinFromSorted(sref, sortedNoNaN(cur, "normalizedWasserstein: cur"));
}

/** {@link normalizedWasserstein} of two samples already sorted ascending. */
export function normalizedWassersteinFromSorted(sref: Float64Array, scur: Float64Array): number {
  checkNonEmpty(sref.length, scur.length, "normalizedWassersteinFromSorted");
  return wassersteinFromSorted(sref, scur) / Math.max(populationStd(sref), 0.001);
}

function checkNonEmpty(n1: number, n2: number, fn: string): void {
  if (n1 === 0 || n2 === 0) throw new MlError(`${fn}: both samples must be non-empty (sizes ${n1} and ${n2})`);
}

/**
 * Σ over consecutive distinct pooled values z < z' of |F_u(z) − F_v(z)|^p·(z' − z), with F the
 * right-continuous ECDFs (counts ≤ z over the sample size, divided as NumPy does). Summed in blocks of
 * 256 terms (error ~ (256 + n/256)·ε, like NumPy's pairwise sum). Checks order and NaN while merging.
 */
function cdfIntegral(u: Float64Array, v: Float64Array, p: 1 | 2, fn: string): number {
  const nu = u.length;
  const nv = v.length;
  let i = 0;
  let j = 0;
  let total = 0;
  let block = 0;
  let count = 0;
  for (;;) {
    const a = i < nu ? (u[i] as number) : Infinity;
    const b = j < nv ? (v[j] as number) : Infinity;
    const z = a <= b ? a : b;
    if (Number.isNaN(z) || Number.isNaN(a) || Number.isNaN(b)) throw new MlError(`${fn}: the samples contain NaN`);
    const i0 = i;
    const j0 = j;
    while (i < nu && u[i] === z) i++;
    while (j < nv && v[j] === z) j++;
    if (i === nu && j === nv) {
      // ±Infinity repeated: SciPy's consecutive difference ∞ − ∞ is NaN
      if (!Number.isFinite(z) && i - i0 + (j - j0) > 1) return NaN;
      break;
    }
    const na = i < nu ? (u[i] as number) : Infinity;
    const nb = j < nv ? (v[j] as number) : Infinity;
    const next = na <= nb ? na : nb;
    if (!(next > z)) {
      throw new MlError(
        Number.isNaN(na) || Number.isNaN(nb)
          ? `${fn}: the samples contain NaN`
          : `${fn}: the samples are not sorted ascending`,
      );
    }
    if (!Number.isFinite(z) && i - i0 + (j - j0) > 1) return NaN;
    const diff = Math.abs(i / nu - j / nv);
    block += (p === 1 ? diff : diff * diff) * (next - z);
    if (++count === 256) {
      total += block;
      block = 0;
      count = 0;
    }
  }
  return total + block;
}
