/**
 * An independent reference solver for tests: Newton's method with the exact Hessian for L2-penalised
 * logistic regression on small dense problems, minimising C · Σᵢ sᵢ · logloss + ½‖W‖² (intercepts unpenalised).
 *
 * It shares no code with the estimator (plain number arrays, its own probabilities, a Cholesky solve). For the
 * multinomial model, whose intercepts are fixed only up to a common shift, the last class's intercept is held at
 * 0 during the solve (making the problem strictly convex) and the intercepts are centred afterwards.
 */

export interface NewtonProblem {
  /** Rows of features. */
  X: readonly (readonly number[])[];
  /** Class index of each row, 0 .. nClasses − 1. */
  y: readonly number[];
  nClasses: number;
  /** Per-row weights (sample weight × class weight); ones when absent. */
  weights?: readonly number[];
  C: number;
  fitIntercept: boolean;
}

export interface NewtonSolution {
  /** nOutputs rows of weights (1 row for 2 classes). */
  coef: number[][];
  intercept: number[];
  iterations: number;
}

interface Layout {
  nOut: number;
  nF: number;
  /** Parameters per output: nF weights and, for outputs whose intercept is free, one intercept. */
  index: (k: number, j: number) => number;
  size: number;
}

function layout(p: NewtonProblem): Layout {
  const nF = p.X[0]?.length ?? 0;
  const nOut = p.nClasses === 2 ? 1 : p.nClasses;
  // weights first (k·nF + j), then the free intercepts
  const freeIntercepts = p.fitIntercept ? (nOut === 1 ? 1 : nOut - 1) : 0;
  return {
    nOut,
    nF,
    index: (k, j) => (j < nF ? k * nF + j : k < freeIntercepts ? nOut * nF + k : -1),
    size: nOut * nF + freeIntercepts,
  };
}

/** Class probabilities of row x under parameters theta. */
function probabilities(p: NewtonProblem, L: Layout, theta: number[], x: readonly number[]): number[] {
  const scores: number[] = [];
  for (let k = 0; k < L.nOut; k++) {
    let z = 0;
    for (let j = 0; j < L.nF; j++) z += (theta[L.index(k, j)] ?? 0) * (x[j] ?? 0);
    const bi = L.index(k, L.nF);
    if (bi >= 0) z += theta[bi] ?? 0;
    scores.push(z);
  }
  if (L.nOut === 1) {
    const p1 = 1 / (1 + Math.exp(-(scores[0] ?? 0)));
    return [p1];
  }
  const max = Math.max(...scores);
  const e = scores.map((z) => Math.exp(z - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Objective value, gradient and Hessian at theta. */
function derivatives(p: NewtonProblem, L: Layout, theta: number[]): { f: number; g: number[]; H: number[][] } {
  const n = L.size;
  const g = new Array<number>(n).fill(0);
  const H = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let f = 0;
  p.X.forEach((x, i) => {
    const s = p.C * (p.weights?.[i] ?? 1);
    const probs = probabilities(p, L, theta, x);
    const yi = p.y[i] ?? 0;
    const xt = [...x, 1];
    if (L.nOut === 1) {
      const p1 = probs[0] ?? 0;
      f -= s * Math.log(yi === 1 ? p1 : 1 - p1);
    } else {
      f -= s * Math.log(probs[yi] ?? 0);
    }
    for (let k = 0; k < L.nOut; k++) {
      const pk = probs[k] ?? 0;
      const target = L.nOut === 1 ? yi : yi === k ? 1 : 0;
      for (let a = 0; a <= L.nF; a++) {
        const ia = L.index(k, a);
        if (ia < 0) continue;
        g[ia] = (g[ia] ?? 0) + s * (pk - target) * (xt[a] ?? 0);
        for (let l = 0; l < L.nOut; l++) {
          const pl = probs[l] ?? 0;
          const h = L.nOut === 1 ? pk * (1 - pk) : (k === l ? pk : 0) - pk * pl;
          for (let b = 0; b <= L.nF; b++) {
            const ib = L.index(l, b);
            if (ib < 0) continue;
            const row = H[ia] as number[];
            row[ib] = (row[ib] ?? 0) + s * h * (xt[a] ?? 0) * (xt[b] ?? 0);
          }
        }
      }
    }
  });
  for (let k = 0; k < L.nOut; k++) {
    for (let j = 0; j < L.nF; j++) {
      const ij = L.index(k, j);
      const w = theta[ij] ?? 0;
      f += 0.5 * w * w;
      g[ij] = (g[ij] ?? 0) + w;
      (H[ij] as number[])[ij] = ((H[ij] as number[])[ij] ?? 0) + 1;
    }
  }
  return { f, g, H };
}

/** Solves A·x = b for symmetric positive definite A (Cholesky). */
function choleskySolve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const Lm = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = (A[i] as number[])[j] ?? 0;
      for (let k = 0; k < j; k++) sum -= ((Lm[i] as number[])[k] ?? 0) * ((Lm[j] as number[])[k] ?? 0);
      if (i === j) {
        if (!(sum > 0)) throw new Error("Hessian is not positive definite");
        (Lm[i] as number[])[i] = Math.sqrt(sum);
      } else {
        (Lm[i] as number[])[j] = sum / ((Lm[j] as number[])[j] ?? 1);
      }
    }
  }
  const z = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i] ?? 0;
    for (let k = 0; k < i; k++) sum -= ((Lm[i] as number[])[k] ?? 0) * (z[k] ?? 0);
    z[i] = sum / ((Lm[i] as number[])[i] ?? 1);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i] ?? 0;
    for (let k = i + 1; k < n; k++) sum -= ((Lm[k] as number[])[i] ?? 0) * (x[k] ?? 0);
    x[i] = sum / ((Lm[i] as number[])[i] ?? 1);
  }
  return x;
}

/** Minimises the objective by damped Newton steps until the step is below 1e-13 (relative). */
export function newtonLogistic(p: NewtonProblem): NewtonSolution {
  const L = layout(p);
  let theta = new Array<number>(L.size).fill(0);
  let iterations = 0;
  for (; iterations < 100; iterations++) {
    const { f, g, H } = derivatives(p, L, theta);
    const step = choleskySolve(H, g);
    let t = 1;
    let next = theta.map((v, i) => v - t * (step[i] ?? 0));
    const decrease = g.reduce((acc, gi, i) => acc + gi * (step[i] ?? 0), 0);
    while (derivatives(p, L, next).f > f - 1e-4 * t * decrease && t > 1e-10) {
      t /= 2;
      next = theta.map((v, i) => v - t * (step[i] ?? 0));
    }
    theta = next;
    const size = Math.max(1, ...theta.map(Math.abs));
    if (Math.max(...step.map((s) => Math.abs(t * s))) <= 1e-13 * size) break;
  }
  const coef: number[][] = [];
  const intercept: number[] = [];
  for (let k = 0; k < L.nOut; k++) {
    coef.push(Array.from({ length: L.nF }, (_, j) => theta[L.index(k, j)] ?? 0));
    const bi = L.index(k, L.nF);
    intercept.push(bi >= 0 ? (theta[bi] ?? 0) : 0);
  }
  if (p.fitIntercept && L.nOut > 1) {
    const mean = intercept.reduce((a, b) => a + b, 0) / L.nOut;
    for (let k = 0; k < L.nOut; k++) intercept[k] = (intercept[k] ?? 0) - mean;
  }
  return { coef, intercept, iterations };
}

/**
 * The gradient of C · Σ sᵢ · logloss + ½‖W‖² at (coef, intercept) over all parameters (weights row by row,
 * then every intercept), computed independently of the estimator.
 */
export function logisticGradient(
  p: NewtonProblem,
  coef: readonly (readonly number[])[],
  intercept: readonly number[],
): number[] {
  const nOut = coef.length;
  const nF = p.X[0]?.length ?? 0;
  const g = new Array<number>(nOut * nF + nOut).fill(0);
  p.X.forEach((x, i) => {
    const s = p.C * (p.weights?.[i] ?? 1);
    const scores = coef.map((w, k) => w.reduce((acc, wj, j) => acc + wj * (x[j] ?? 0), intercept[k] ?? 0));
    let probs: number[];
    if (nOut === 1) probs = [1 / (1 + Math.exp(-(scores[0] ?? 0)))];
    else {
      const max = Math.max(...scores);
      const e = scores.map((z) => Math.exp(z - max));
      const sum = e.reduce((a, b) => a + b, 0);
      probs = e.map((v) => v / sum);
    }
    const yi = p.y[i] ?? 0;
    for (let k = 0; k < nOut; k++) {
      const r = s * ((probs[k] ?? 0) - (nOut === 1 ? yi : yi === k ? 1 : 0));
      for (let j = 0; j < nF; j++) g[k * nF + j] = (g[k * nF + j] ?? 0) + r * (x[j] ?? 0);
      if (p.fitIntercept) g[nOut * nF + k] = (g[nOut * nF + k] ?? 0) + r;
    }
  });
  coef.forEach((w, k) => w.forEach((wj, j) => (g[k * nF + j] = (g[k * nF + j] ?? 0) + wj)));
  return g;
}
