/**
 * Calibration of Slipway's default drift tests, by seeded simulation (deterministic: the same numbers
 * on every run). Under no drift, the share of columns flagged at α = 0.05 must stay between 3% and 7%
 * at n = 50, 500, 5,000 and 100,000 rows a side; under drift, Slipway's defaults must flag at least as
 * often as Evidently's defaults do on the same samples (docs/drift.md quotes the measured rates).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Random } from "../core/random.js";
import { columnDrift, type DriftDefaults } from "./column-drift.js";

type Sampler = (random: Random, n: number, side: "reference" | "current") => unknown[] | Float64Array;

const normal =
  (shift = 0, scale = 1): Sampler =>
  (random, n, side) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = side === "current" ? shift + scale * random.normal() : random.normal();
    return out;
  };

function pick(random: Random, probabilities: readonly number[]): number {
  let u = random.next();
  for (let k = 0; k < probabilities.length - 1; k++) {
    u -= probabilities[k]!;
    if (u < 0) return k;
  }
  return probabilities.length - 1;
}

const LEVELS = ["a", "b", "c", "d", "e"];
const categorical =
  (reference: readonly number[], current: readonly number[] = reference): Sampler =>
  (random, n, side) =>
    Array.from({ length: n }, () => LEVELS[pick(random, side === "current" ? current : reference)]!);

const poisson =
  (lambda: number): Sampler =>
  (random, n) => {
    const out = new Float64Array(n);
    const l = Math.exp(-lambda);
    for (let i = 0; i < n; i++) {
      let k = 0;
      let p = random.next();
      while (p > l) {
        k++;
        p *= random.next();
      }
      out[i] = k;
    }
    return out;
  };

const roundedNormal =
  (sd: number): Sampler =>
  (random, n) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.round(50 + sd * random.normal());
    return out;
  };

function alarmRate(
  sampler: Sampler,
  type: "numeric" | "categorical",
  n: number,
  options: { reps: number; seed: number; defaults?: DriftDefaults },
): number {
  const random = new Random(options.seed);
  let alarms = 0;
  for (let r = 0; r < options.reps; r++) {
    const ref = sampler(random, n, "reference");
    const cur = sampler(random, n, "current");
    const result = columnDrift("x", type, ref, cur, {
      defaults: options.defaults ?? "slipway",
      statistics: false,
      distribution: false,
    });
    if (result.drift === true) alarms++;
  }
  return alarms / options.reps;
}

/** Repetitions per size: standard error of a 5% rate 0.5% (n ≤ 500), 0.7% (5,000), 1.1% (100,000). */
function reps(n: number): number {
  return n <= 500 ? 2000 : n <= 5000 ? 1000 : 400;
}

const NULL_CASES: { name: string; sampler: Sampler; type: "numeric" | "categorical" }[] = [
  { name: "normal numbers (KS)", sampler: normal(), type: "numeric" },
  { name: "5-level categories (chi2)", sampler: categorical([0.4, 0.25, 0.15, 0.12, 0.08]), type: "categorical" },
  { name: "binary 30/70 (chi2)", sampler: categorical([0.3, 0.7]), type: "categorical" },
  { name: "Poisson(3) counts (chi2)", sampler: poisson(3), type: "numeric" },
  { name: "rounded normal, ~60 distinct integers (ks_ties)", sampler: roundedNormal(10), type: "numeric" },
];

const measured: string[] = [];
after(() => console.log(`measured (rate, repetitions):\n${measured.join("\n")}`));

describe("false alarms of the default tests under no drift stay within 3–7% at α = 0.05", () => {
  for (const c of NULL_CASES) {
    // Poisson counts go through the same chi2 test as categories: checked up to 5,000 rows
    for (const n of c.name.startsWith("Poisson") ? [50, 500, 5000] : [50, 500, 5000, 100000]) {
      it(`${c.name}, n = ${n}`, () => {
        const rate = alarmRate(c.sampler, c.type, n, { reps: reps(n), seed: 1000 + n });
        measured.push(`  no drift, ${c.name}, n = ${n}: ${(rate * 100).toFixed(1)}% (${reps(n)})`);
        assert.ok(rate >= 0.03 && rate <= 0.07, `false-alarm rate ${(rate * 100).toFixed(1)}%`);
      });
    }
  }

  it("Evidently's small-sample chi-square, for contrast, raises far more false alarms", () => {
    const sampler = categorical([0.4, 0.25, 0.15, 0.12, 0.08]);
    const rate = alarmRate(sampler, "categorical", 500, { reps: 1000, seed: 7, defaults: "evidently" });
    measured.push(`  no drift, Evidently's chisquare, 5 levels, n = 500: ${(rate * 100).toFixed(1)}% (1000)`);
    assert.ok(rate > 0.2, `Evidently's false-alarm rate ${(rate * 100).toFixed(1)}%`);
  });
});

const SHIFTED: { name: string; sampler: Sampler; type: "numeric" | "categorical"; n: number }[] = [
  { name: "mean +0.05σ, n = 10,000", sampler: normal(0.05), type: "numeric", n: 10000 },
  { name: "mean +0.10σ, n = 10,000", sampler: normal(0.1), type: "numeric", n: 10000 },
  { name: "mean +0.3σ, n = 200", sampler: normal(0.3), type: "numeric", n: 200 },
  { name: "scale ×1.1, n = 5,000", sampler: normal(0, 1.1), type: "numeric", n: 5000 },
  {
    name: "top category 0.40 → 0.32, n = 2,000",
    sampler: categorical([0.4, 0.25, 0.15, 0.12, 0.08], [0.32, 0.27, 0.18, 0.14, 0.09]),
    type: "categorical",
    n: 2000,
  },
  {
    name: "binary 30% → 36%, n = 3,000",
    sampler: categorical([0.3, 0.7], [0.36, 0.64]),
    type: "categorical",
    n: 3000,
  },
];

describe("power: the defaults flag drift at least as often as Evidently's defaults", () => {
  for (const c of SHIFTED) {
    it(c.name, () => {
      const options = { reps: 200, seed: 99 };
      const ours = alarmRate(c.sampler, c.type, c.n, options);
      const theirs = alarmRate(c.sampler, c.type, c.n, { ...options, defaults: "evidently" });
      measured.push(
        `  drift, ${c.name}: Slipway ${(ours * 100).toFixed(1)}%, Evidently ${(theirs * 100).toFixed(1)}% (200)`,
      );
      assert.ok(ours >= theirs, `Slipway ${(ours * 100).toFixed(1)}% < Evidently ${(theirs * 100).toFixed(1)}%`);
      assert.ok(ours >= 0.5, `power ${(ours * 100).toFixed(1)}%`);
    });
  }
});
