import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { throwsMl } from "../testing/assertions.js";
import { mannWhitneyU, tTestIndependent } from "./location.js";
import { assertClose, num, numericCases } from "./testing/scipy-cases.js";

/** the reference data's suggested tolerance: 1e-9, and 1e-7 for p-values below 1e-100 */
const rtolP = (expected: number): number => (expected !== 0 && Math.abs(expected) < 1e-100 ? 1e-7 : 1e-9);

// Expected values below: SciPy 1.10.1 (Debian bookworm), computed at dev time.
// E1/E2 and F1/F2: numpy default_rng(3) normal samples rounded to 6 decimals.
const E1 = [2.040919, -2.555665, 0.418099, -0.56777, -0.452649, -0.215597];
const E2 = [
  -1.519986, 0.268068, -0.365213, 3.823, 0.725787, 0.147369, 0.218713, -0.168046, -0.555151, 0.109199, 0.981945,
  0.261446, 1.457759, 0.300198, 0.52426, 2.045821, 1.045106, -0.005229, 0.317161, 1.040525, 2.435088, 0.23038, 0.256441,
  1.502314, -0.38646, 0.20828, 1.382539, 1.08035, 0.591517, 1.170104, -2.328162, 1.521307, -0.459645, -1.16862,
  0.776446, 1.200545, 0.055233, -0.576406, 0.526125, 0.447253, 1.905598, 1.247408, 0.693816, 1.611633, 0.294477,
  -0.4259, 1.084058, 1.082538, 0.285171, -0.282809, 0.729154, -1.993894, 1.190125, 0.991368, -1.138857, 0.561354,
  -0.4641, 1.257221, -1.534167, -0.414495, 1.20958, 1.656401, -1.658005, 0.00196, 0.82802, -0.109216, 2.09064,
  -0.691227, 0.854532, -0.548406, 1.905963, 0.478349, 0.127749, -1.218185, 2.181826, 1.252779, 1.253564, 1.637881,
  0.849227, -0.139247, -0.300241, -0.3002, 1.870072, -0.960381, -0.09637, 0.178756, 0.724619, 1.075349, -0.749097,
  -1.230013, 0.495586, 1.713564, 1.257058, 0.715651, 0.182844, 0.793234, 0.256665, 1.317207, -0.294447, 0.63424,
  0.38922, 1.043359, 0.724639, 3.050035, 1.998655, 1.996737, -1.539504, 0.159683, -0.108611, 1.032722, -1.779026,
  1.674499, 1.566983, -0.802071, -0.478549, -0.301172, 0.543296, 1.140971, 2.547886, 0.302555,
];
const F1 = [
  0.767503, 0.155418, 1.759926, 0.742158, 1.36855, -1.077675, -0.192241, -0.813772, 1.504947, 0.65764, -0.305144,
  -0.452468, 0.484665, -0.701496, -0.930589, 0.481274, 2.463132, -0.246134, -0.555866, -1.171157, -1.335011, 0.524983,
  0.850803, 0.009175, 0.332576,
];
const F2 = [
  0.415917, 0.438655, -1.226159, -0.158118, 0.411479, -0.483167, -0.17643, -0.51912, -0.033497, 1.153108, -0.10658,
  0.146129, 1.113718, 0.94477, 1.995208, -1.790485, 1.156859, -0.182284, 0.434692, 1.137719, 1.383253, 1.339351,
  0.455107, 1.909663, 0.017026,
];

describe("tTestIndependent (scipy.stats.ttest_ind, equal variances)", () => {
  it("pools the variances and uses n1 + n2 − 2 degrees of freedom", () => {
    const r = tTestIndependent([1, 2, 3, 4, 5], [2, 4, 6, 8, 10.5]);
    assertClose(r.statistic, -1.8831158916154396, 1e-14, "t");
    assertClose(r.pvalue, 0.09644216162407057, 1e-13, "p");
    assert.equal(r.df, 8);
  });

  it("gives t = 0 / p = 1 for equal samples and ±∞ / p = 0 for different constants", () => {
    assert.deepEqual(tTestIndependent([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), { statistic: 0, pvalue: 1, df: 4 });
    assert.deepEqual(tTestIndependent([1, 1, 1], [2, 2, 2]), { statistic: -Infinity, pvalue: 0, df: 4 });
    const same = tTestIndependent([1, 1], [1, 1]);
    assert.ok(Number.isNaN(same.statistic) && Number.isNaN(same.pvalue));
  });

  it("refuses samples of fewer than 2 values and non-finite values", () => {
    throwsMl(() => tTestIndependent([1], [1, 2]), /x needs at least 2 values, got 1/);
    throwsMl(() => tTestIndependent([1, 2], [1, NaN]), /y: value at index 1 is NaN/);
    throwsMl(() => tTestIndependent([1, Infinity], [1, 2]), /x: value at index 1 is Infinity/);
  });
});

describe("mannWhitneyU (scipy.stats.mannwhitneyu 1.10)", () => {
  const a = [1.1, 2.3, 3.7, 4.0, 5.2];
  const b = [6.1, 7.2, 0.5, 8.8, 9.9, 10.4, 3.9];

  it("uses the exact distribution for small samples without ties", () => {
    const expected = { "two-sided": 0.10606060606060606, less: 0.05303030303030303, greater: 0.9633838383838382 };
    for (const [alternative, p] of Object.entries(expected)) {
      const r = mannWhitneyU(a, b, { alternative: alternative as "two-sided" | "less" | "greater" });
      assert.equal(r.statistic, 7);
      assertClose(r.pvalue, p, 1e-14, `exact ${alternative}`);
    }
  });

  it("uses the normal approximation with continuity correction when asked", () => {
    const expected = { "two-sided": 0.10437668659975609, less: 0.052188343299878044, greater: 0.9629823760725517 };
    for (const [alternative, p] of Object.entries(expected)) {
      const r = mannWhitneyU(a, b, {
        alternative: alternative as "two-sided" | "less" | "greater",
        method: "asymptotic",
      });
      assertClose(r.pvalue, p, 1e-14, `asymptotic ${alternative}`);
    }
  });

  it("switches to the tie-corrected normal approximation when there are ties", () => {
    const c = [1, 2, 2, 3, 3, 3, 4];
    const d = [2, 3, 4, 4, 5, 5, 6, 7];
    const withCc = { "two-sided": 0.025279736885893914, less: 0.012639868442946957, greater: 0.9907347385044912 };
    const withoutCc = { "two-sided": 0.021677475411440248, less: 0.010838737705720124, greater: 0.9891612622942799 };
    for (const alternative of ["two-sided", "less", "greater"] as const) {
      const r = mannWhitneyU(c, d, { alternative });
      assert.equal(r.statistic, 8.5);
      assertClose(r.pvalue, withCc[alternative], 1e-14, `ties ${alternative}`);
      assertClose(
        mannWhitneyU(c, d, { alternative, continuity: false }).pvalue,
        withoutCc[alternative],
        1e-14,
        "no cc",
      );
    }
  });

  it("is exact whenever one sample has at most 8 values, and on request for larger ones", () => {
    const expected = { "two-sided": 0.16448149632759662, less: 0.08224074816379831, greater: 0.9195268706954 };
    for (const alternative of ["two-sided", "less", "greater"] as const) {
      const r = mannWhitneyU(E1, E2, { alternative });
      assert.equal(r.statistic, 237);
      assertClose(r.pvalue, expected[alternative], 1e-13, `6 vs 120, ${alternative}`);
    }
    assertClose(mannWhitneyU(F1, F2, { method: "exact" }).pvalue, 0.3649938154178867, 1e-13, "25 vs 25 exact");
    assertClose(mannWhitneyU(F1, F2).pvalue, 0.361803488317166, 1e-13, "25 vs 25 auto = asymptotic");
    assert.equal(mannWhitneyU([1, 2], [3, 4], { alternative: "two-sided" }).pvalue, 1 / 3);
    assert.equal(mannWhitneyU([1], [1], { method: "exact" }).pvalue, 1); // clipped to 1
  });

  it("ranks infinities and refuses NaN, empty samples and unknown options", () => {
    // SciPy 1.10's rankdata returns NaN for ±∞ (statistic and p NaN); we rank them like ±1e300,
    // for which SciPy gives U = 0, p = 0.1226390584033864
    const inf = mannWhitneyU([-Infinity, 0], [Infinity, 5], { alternative: "less", method: "asymptotic" });
    assert.equal(inf.statistic, 0);
    assertClose(inf.pvalue, 0.1226390584033864, 1e-14, "p with infinities");
    throwsMl(() => mannWhitneyU([1, NaN], [2]), /must not contain NaNs/);
    throwsMl(() => mannWhitneyU([], [2]), /must be of nonzero size/);
    throwsMl(() => mannWhitneyU([1], [2], { alternative: "both" as "less" }), /alternative must be/);
    throwsMl(() => mannWhitneyU([1], [2], { method: "permutation" as "exact" }), /method must be/);
  });
});

describe("location tests against the SciPy reference cases", () => {
  it("matches ttest_ind and mannwhitneyu(alternative='less') on every numeric case", () => {
    for (const c of numericCases()) {
      const tp = num(c.expected, "t_test_pvalue");
      assertClose(tTestIndependent(c.ref, c.cur).pvalue, tp, rtolP(tp), `${c.id} t-test p`);
      const mp = num(c.expected, "mannwhitneyu_less_pvalue");
      const mw = mannWhitneyU(c.ref, c.cur, { alternative: "less" });
      assertClose(mw.pvalue, mp, rtolP(mp), `${c.id} mann-whitney p`);
    }
  });
});
