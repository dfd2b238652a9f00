/**
 * L-BFGS: limited-memory BFGS for smooth unconstrained minimisation, with a line search that satisfies the
 * strong Wolfe conditions (Nocedal & Wright, "Numerical Optimization", 2nd ed., algorithms 3.5, 3.6 and 7.4).
 *
 * It plays the part SciPy's L-BFGS-B plays for scikit-learn's `lbfgs` solver, with the same stopping rules
 * and defaults scikit-learn passes to it:
 * - `pgtol`: stop when the largest absolute gradient component is ≤ pgtol (SciPy's projected gradient, which
 *   equals the gradient here as there are no bounds; scikit-learn passes its `tol`);
 * - `ftol`: stop when the relative reduction (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol (scikit-learn
 *   passes 64 · machine epsilon);
 * - `maxIter` iterations, `memory` correction pairs (SciPy's `maxcor`, 10), `maxLineSearch` function
 *   evaluations per line search (scikit-learn passes `maxls=50`).
 * The iterates are not SciPy's (a different line search), but on a strictly convex objective both converge
 * to the one minimiser. Deterministic: no randomness at all.
 *
 * When a line search fails with correction pairs in memory the memory is dropped and the search retried
 * along steepest descent, as L-BFGS-B does; a second failure ends the run (`status: "line-search"`).
 */

/** Writes the gradient at x into `gradient` and returns the objective value at x. */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface IterationInfo {
  /** 1-based iteration number. */
  iteration: number;
  /** Objective value after the iteration. */
  loss: number;
  /** Largest absolute gradient component after the iteration (SciPy's projected gradient norm). */
  gradientNorm: number;
}

export interface LbfgsOptions {
  /** Maximum number of iterations (default 100). */
  maxIter?: number;
  /** Stop when ‖gradient‖∞ ≤ pgtol (default 1e-5, SciPy's default; scikit-learn passes its `tol`). */
  pgtol?: number;
  /** Stop when the relative reduction of f is ≤ ftol (default 64 · 2⁻⁵², as scikit-learn passes). 0 disables. */
  ftol?: number;
  /** Number of correction pairs kept (default 10). */
  memory?: number;
  /** Maximum function evaluations in one line search (default 50). */
  maxLineSearch?: number;
  /** Called after every iteration. */
  onIteration?: (info: IterationInfo) => void;
}

export type LbfgsStatus = "gradient" | "relative-reduction" | "max-iter" | "line-search";

export interface LbfgsResult {
  x: Float64Array;
  /** Objective value at x. */
  loss: number;
  /** Gradient at x. */
  gradient: Float64Array;
  /** ‖gradient‖∞ at x. */
  gradientNorm: number;
  /** Iterations completed. */
  nIter: number;
  /** Objective evaluations made. */
  nEval: number;
  /** True when a tolerance was met (`gradient` or `relative-reduction`), as SciPy's status 0. */
  converged: boolean;
  status: LbfgsStatus;
  message: string;
  /** lossHistory[0] is the loss at x0, lossHistory[k] the loss after iteration k. */
  lossHistory: number[];
}

const EPSILON = 2 ** -52;
const C1 = 1e-4;
const C2 = 0.9;
const NOISE = 1e-12;

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i] as number);
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
}

/** Minimiser of a cubic through (a, fa, da) and (b, fb, db), or NaN when it has none. */
function cubicMinimiser(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return Number.NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}

/**
 * Hager & Zhang's approximate Wolfe conditions (SIAM J. Optim. 16(1), 2005), for the last iterations where
 * differences of f drown in rounding: the step changes f by no more than rounding could (NOISE · |f0|) and
 * σ·φ'(0) ≤ φ'(α) ≤ (2δ − 1)·φ'(0) with δ = 0.1, σ = C2 (the derivative, still exact, says the step went down).
 */
function approximateWolfe(p: LinePoint, f0: number, d0: number): boolean {
  return Number.isFinite(p.f) && p.f <= f0 + NOISE * Math.abs(f0) && p.d >= C2 * d0 && p.d <= (2 * 0.1 - 1) * d0;
}

interface LinePoint {
  alpha: number;
  f: number;
  d: number;
}

/** Line search state: the current point, the direction and the trial buffers. */
class LineSearch {
  evaluations = 0;
  constructor(
    private readonly objective: Objective,
    private readonly x: Float64Array,
    private readonly direction: Float64Array,
    readonly trialX: Float64Array,
    readonly trialGradient: Float64Array,
    private readonly maxEvaluations: number,
  ) {}

  private evaluate(alpha: number): LinePoint {
    const { x, direction, trialX, trialGradient } = this;
    for (let i = 0; i < x.length; i++) trialX[i] = (x[i] as number) + alpha * (direction[i] as number);
    this.evaluations++;
    const f = this.objective(trialX, trialGradient);
    return { alpha, f, d: dot(trialGradient, direction) };
  }

  /**
   * Finds a step satisfying the strong Wolfe conditions from (f0, d0) at alpha 0; leaves the accepted point in
   * trialX / trialGradient and returns its value, or undefined when no step decreasing f was found.
   */
  search(f0: number, d0: number, alpha0: number): LinePoint | undefined {
    const armijo = (p: LinePoint): boolean => p.f <= f0 + C1 * p.alpha * d0;
    const curvature = (p: LinePoint): boolean => Math.abs(p.d) <= -C2 * d0;
    let previous: LinePoint = { alpha: 0, f: f0, d: d0 };
    let alpha = alpha0;
    let best: LinePoint | undefined;
    while (this.evaluations < this.maxEvaluations) {
      const current = this.evaluate(alpha);
      if (!Number.isFinite(current.f) || !Number.isFinite(current.d)) {
        // overflow far along the direction: step back towards the last good point
        alpha = previous.alpha + 0.1 * (alpha - previous.alpha);
        continue;
      }
      if (approximateWolfe(current, f0, d0)) return current;
      if (!armijo(current) || (previous.alpha > 0 && current.f >= previous.f)) {
        return this.zoom(previous, current, f0, d0);
      }
      if (curvature(current)) return current;
      best = current;
      if (current.d >= 0) return this.zoom(current, previous, f0, d0);
      const extrapolated = cubicMinimiser(previous.alpha, previous.f, previous.d, current.alpha, current.f, current.d);
      const lo = current.alpha + 1.1 * (current.alpha - previous.alpha);
      const hi = current.alpha + 4 * (current.alpha - previous.alpha);
      previous = current;
      alpha = Number.isFinite(extrapolated) ? Math.min(Math.max(extrapolated, lo), hi) : hi;
    }
    return this.accept(best);
  }

  /** Zoom between lo (alpha 0, or a step with sufficient decrease and the lowest f so far) and hi. */
  private zoom(lo: LinePoint, hi: LinePoint, f0: number, d0: number): LinePoint | undefined {
    let low = lo;
    let high = hi;
    while (this.evaluations < this.maxEvaluations) {
      const width = Math.abs(high.alpha - low.alpha);
      if (width <= EPSILON * Math.max(Math.abs(low.alpha), Math.abs(high.alpha))) break;
      const left = Math.min(low.alpha, high.alpha);
      const right = Math.max(low.alpha, high.alpha);
      let alpha = cubicMinimiser(low.alpha, low.f, low.d, high.alpha, high.f, high.d);
      const margin = 0.1 * width;
      if (!Number.isFinite(alpha) || alpha < left + margin || alpha > right - margin) alpha = 0.5 * (left + right);
      const current = this.evaluate(alpha);
      if (approximateWolfe(current, f0, d0)) return current;
      if (!Number.isFinite(current.f) || current.f > f0 + C1 * alpha * d0 || current.f >= low.f) {
        high = current;
        continue;
      }
      if (Math.abs(current.d) <= -C2 * d0) return current;
      if (current.d * (high.alpha - low.alpha) >= 0) high = low;
      low = current;
    }
    return this.accept(low);
  }

  /** Falls back to a point with sufficient decrease (not strong Wolfe): re-evaluates it into the buffers. */
  private accept(point: LinePoint | undefined): LinePoint | undefined {
    if (point === undefined || point.alpha <= 0) return undefined;
    this.evaluations--; // the re-evaluation is bookkeeping, not a new trial
    return this.evaluate(point.alpha);
  }
}

/** Minimises `objective` from x0 (not modified) with L-BFGS. */
export function minimizeLbfgs(objective: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const maxIter = options.maxIter ?? 100;
  const pgtol = options.pgtol ?? 1e-5;
  const ftol = options.ftol ?? 64 * EPSILON;
  const memory = Math.max(1, Math.floor(options.memory ?? 10));
  const maxLineSearch = Math.max(1, Math.floor(options.maxLineSearch ?? 50));
  const n = x0.length;

  const x = Float64Array.from(x0);
  const gradient = new Float64Array(n);
  const direction = new Float64Array(n);
  const trialX = new Float64Array(n);
  const trialGradient = new Float64Array(n);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  const alphas = new Float64Array(memory);
  let start = 0; // ring buffer: oldest pair at `start`, `count` pairs
  let count = 0;

  let f = objective(x, gradient);
  let nEval = 1;
  const lossHistory = [f];
  let gradientNorm = maxAbs(gradient);
  const finish = (nIter: number, status: LbfgsStatus, message: string): LbfgsResult => ({
    x,
    loss: f,
    gradient,
    gradientNorm,
    nIter,
    nEval,
    converged: status === "gradient" || status === "relative-reduction",
    status,
    message,
    lossHistory,
  });
  if (!Number.isFinite(f) || !Number.isFinite(gradientNorm)) {
    return finish(0, "line-search", "the objective is not finite at the starting point");
  }
  if (gradientNorm <= pgtol) return finish(0, "gradient", "the gradient is below pgtol at the starting point");

  for (let iteration = 1; iteration <= maxIter; iteration++) {
    let accepted: LinePoint | undefined;
    let lineSearch: LineSearch | undefined;
    for (let attempt = 0; attempt < 2 && accepted === undefined; attempt++) {
      if (attempt === 1) {
        if (count === 0) break;
        count = 0; // drop the memory and retry along steepest descent
      }
      computeDirection(gradient, direction, sHistory, yHistory, rhoHistory, alphas, start, count);
      let d0 = dot(gradient, direction);
      if (!(d0 < 0)) {
        count = 0;
        for (let i = 0; i < n; i++) direction[i] = -(gradient[i] as number);
        d0 = dot(gradient, direction);
      }
      const alpha0 = count === 0 ? Math.min(1, 1 / Math.sqrt(-d0)) : 1;
      lineSearch = new LineSearch(objective, x, direction, trialX, trialGradient, maxLineSearch);
      accepted = lineSearch.search(f, d0, alpha0);
      nEval += lineSearch.evaluations;
    }
    if (accepted === undefined || lineSearch === undefined) {
      return finish(iteration - 1, "line-search", "the line search found no step decreasing the objective");
    }

    // correction pair s = x_new − x, y = g_new − g, stored when the curvature condition sᵀy > ε·yᵀy holds
    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      const si = (trialX[i] as number) - (x[i] as number);
      const yi = (trialGradient[i] as number) - (gradient[i] as number);
      sy += si * yi;
      yy += yi * yi;
    }
    if (sy > EPSILON * yy) {
      const slot = (start + count) % memory;
      while (sHistory.length <= slot) {
        sHistory.push(new Float64Array(n));
        yHistory.push(new Float64Array(n));
        rhoHistory.push(0);
      }
      const s = sHistory[slot] as Float64Array;
      const y = yHistory[slot] as Float64Array;
      for (let i = 0; i < n; i++) {
        s[i] = (trialX[i] as number) - (x[i] as number);
        y[i] = (trialGradient[i] as number) - (gradient[i] as number);
      }
      rhoHistory[slot] = 1 / sy;
      if (count < memory) count++;
      else start = (start + 1) % memory;
    }

    const previousF = f;
    x.set(trialX);
    gradient.set(trialGradient);
    f = accepted.f;
    gradientNorm = maxAbs(gradient);
    lossHistory.push(f);
    options.onIteration?.({ iteration, loss: f, gradientNorm });

    if (gradientNorm <= pgtol) return finish(iteration, "gradient", "the gradient is below pgtol");
    const reduction = (previousF - f) / Math.max(Math.abs(previousF), Math.abs(f), 1);
    if (ftol > 0 && reduction >= 0 && reduction <= ftol) {
      return finish(iteration, "relative-reduction", "the relative reduction of the objective is below ftol");
    }
  }
  return finish(maxIter, "max-iter", `the iteration limit (${maxIter}) was reached`);
}

/** The two-loop recursion: direction = −H·gradient with the stored pairs, H₀ = (sᵀy / yᵀy)·I. */
function computeDirection(
  gradient: Float64Array,
  direction: Float64Array,
  sHistory: readonly Float64Array[],
  yHistory: readonly Float64Array[],
  rhoHistory: readonly number[],
  alphas: Float64Array,
  start: number,
  count: number,
): void {
  const n = gradient.length;
  const memory = alphas.length;
  for (let i = 0; i < n; i++) direction[i] = -(gradient[i] as number);
  for (let k = count - 1; k >= 0; k--) {
    const slot = (start + k) % memory;
    const s = sHistory[slot] as Float64Array;
    const y = yHistory[slot] as Float64Array;
    const a = (rhoHistory[slot] as number) * dot(s, direction);
    alphas[k] = a;
    for (let i = 0; i < n; i++) direction[i] = (direction[i] as number) - a * (y[i] as number);
  }
  if (count > 0) {
    const newest = (start + count - 1) % memory;
    const y = yHistory[newest] as Float64Array;
    const gamma = 1 / ((rhoHistory[newest] as number) * dot(y, y));
    for (let i = 0; i < n; i++) direction[i] = (direction[i] as number) * gamma;
  }
  for (let k = 0; k < count; k++) {
    const slot = (start + k) % memory;
    const s = sHistory[slot] as Float64Array;
    const y = yHistory[slot] as Float64Array;
    const b = (rhoHistory[slot] as number) * dot(y, direction);
    const a = alphas[k] as number;
    for (let i = 0; i < n; i++) direction[i] = (direction[i] as number) + (a - b) * (s[i] as number);
  }
}

export interface LineSearchResult {
  /** The accepted step length along the direction. */
  alpha: number;
  /** f and gradient at x + alpha · direction. */
  f: number;
  gradient: Float64Array;
  evaluations: number;
}

/**
 * One line search from x along a descent direction: a step satisfying the strong Wolfe conditions
 * (c1 = 1e-4, c2 = 0.9), or Hager–Zhang's approximate Wolfe conditions once f no longer resolves the decrease;
 * undefined when none was found within `maxEvaluations`. Exposed for tests and other solvers.
 */
export function wolfeLineSearch(
  objective: Objective,
  x: Float64Array,
  direction: Float64Array,
  options: { alpha0?: number; maxEvaluations?: number } = {},
): LineSearchResult | undefined {
  const gradient = new Float64Array(x.length);
  const f0 = objective(x, gradient);
  const d0 = dot(gradient, direction);
  if (!(d0 < 0)) return undefined;
  const trialX = new Float64Array(x.length);
  const trialGradient = new Float64Array(x.length);
  const search = new LineSearch(objective, x, direction, trialX, trialGradient, options.maxEvaluations ?? 50);
  const point = search.search(f0, d0, options.alpha0 ?? 1);
  if (point === undefined) return undefined;
  return { alpha: point.alpha, f: point.f, gradient: trialGradient, evaluations: search.evaluations };
}
