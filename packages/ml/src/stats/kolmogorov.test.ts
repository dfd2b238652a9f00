import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kolmogorovCdf, kolmogorovLimitCdf, kolmogorovLimitSf, kolmogorovSf } from "./kolmogorov.js";
import { logBinomial, smirnovSf } from "./smirnov.js";
import { assertClose } from "./testing/scipy-cases.js";
import { throwsMl } from "../testing/assertions.js";

// [n, d, kstwo.sf(d, n), kstwo.cdf(d, n)] from SciPy 1.17.1, whose `kstwo` (scipy/stats/_ksstats.py) and
// `smirnov`/`kolmogorov` are the algorithms of SciPy 1.10. The rows walk through every branch of the
// Simard–L'Ecuyer selection: Ruben–Gambino ends, Durbin matrix (small n·d², and n ≤ 100000 with
// n·d^1.5 ≤ 1.4), Pomeranz (n ≤ 140), Pelz–Good (n > 140), 2·smirnov (d ≥ ½, n·d² ≥ 2.2 or > 4).
const KSTWO: readonly (readonly [number, number, number, number])[] = [
  [1, 0.7, 0.6000000000000001, 0.3999999999999999],
  [2, 0.75, 0.125, 0.875],
  [5, 0.15, 0.9988, 0.0012000000000000005],
  [10, 0.05, 1.0, 0.0],
  [10, 0.25, 0.4841115325000003, 0.5158884674999997],
  [25, 0.2, 0.23632065644537592, 0.7636793435546241],
  [25, 0.18, 0.35011980345355764, 0.6498801965464424],
  [100, 0.05, 0.9532159710635725, 0.0467840289364275],
  [100, 0.3, 1.7719869892662917e-8, 0.9999999822801301],
  [140, 0.1, 0.11353657290090946, 0.8864634270990905],
  [141, 0.05, 0.854845693009663, 0.14515430699033707],
  [250, 0.062, 0.280026003861503, 0.719973996138497],
  [1000, 0.0005, 1.0, 0.0],
  [1000, 0.06, 0.001428597887952891, 0.998571401884381],
  [50000, 0.00217, 0.9722166095957423, 0.027783390404257695],
  [50000, 0.0005, 1.0, 1.1000179447982019e-41],
  [100000, 0.0002, 1.0, 6.427062080538553e-131],
  [200000, 0.0002, 1.0, 1.0134870190342282e-65],
  [50000, 0.01, 9.018048811843602e-5, 0.9999098195122791],
  [1000, 0.6, 0.0, 1.0],
];

// [z, scipy.special.kolmogorov(z)]
const KSTWOBIGN: readonly (readonly [number, number])[] = [
  [0.05, 1.0],
  [0.3, 0.9999906941986655],
  [0.5, 0.9639452436648751],
  [0.82, 0.5119717052984973],
  [1.0, 0.26999967167735456],
  [1.36, 0.049485876755377876],
  [2.0, 0.0006709252557796953],
  [3.0, 3.045995948942526e-8],
  [6.0, 1.0760372320042276e-31],
];

// [n, d, scipy.special.smirnov(n, d)], including the sampled large-n sum (n ≥ 20000) and n > 10⁶
const SMIRNOV: readonly (readonly [number, number, number])[] = [
  [1, 0.3, 0.7],
  [5, 0.1, 0.85359],
  [5, 0.5, 0.056],
  [10, 0.95, 9.765625000000086e-14],
  [100, 0.1, 0.1265906584562817],
  [1000, 0.05, 0.006506037390545166],
  [30000, 0.01, 0.002462062791036216],
  [200000, 0.005, 4.5246836436369264e-5],
  [2000000, 0.001, 0.018303432023617325],
];

describe("kolmogorovSf / kolmogorovCdf (scipy.stats.kstwo)", () => {
  it("match SciPy on every algorithm branch", () => {
    for (const [n, d, sf, cdf] of KSTWO) {
      // measured worst relative error: 1.6e-12 (Pomeranz, n = 139, over a 1010-point grid)
      assertClose(kolmogorovSf(n, d), sf, 1e-10, `sf(${n}, ${d})`);
      assertClose(kolmogorovCdf(n, d), cdf, 1e-10, `cdf(${n}, ${d})`);
    }
  });

  it("has the closed forms at the ends of the support", () => {
    assert.equal(kolmogorovSf(10, 0), 1);
    assert.equal(kolmogorovSf(10, 0.05), 1); // d ≤ 1/(2n)
    assert.equal(kolmogorovSf(10, 1), 0);
    assert.equal(kolmogorovCdf(10, 1.5), 1);
    // n = 1: P(D₁ > d) = 2(1 − d) for ½ ≤ d ≤ 1
    assertClose(kolmogorovSf(1, 0.8), 0.4, 1e-15, "n = 1");
    // Ruben–Gambino: 1/(2n) ≤ d ≤ 1/n → cdf = n!/nⁿ (2nd − 1)ⁿ; n = 2, d = ½: 2/4 · 1 = ½
    assertClose(kolmogorovCdf(2, 0.5), 0.5, 1e-15, "n = 2");
    assert.ok(Number.isNaN(kolmogorovSf(10, NaN)));
  });

  it("is monotone and complementary", () => {
    let prev = 1;
    for (let d = 0.01; d < 1; d += 0.01) {
      const sf = kolmogorovSf(60, d);
      assert.ok(sf <= prev + 1e-15, `non-increasing at ${d}`);
      assertClose(sf + kolmogorovCdf(60, d), 1, 1e-12, `sf + cdf at ${d}`);
      prev = sf;
    }
  });

  it("rejects a non-integer or non-positive n", () => {
    throwsMl(() => kolmogorovSf(0, 0.1), /positive integer/);
    throwsMl(() => kolmogorovCdf(2.5, 0.1), /positive integer/);
    throwsMl(() => smirnovSf(-1, 0.1), /positive integer/);
  });
});

describe("kolmogorovLimitSf (scipy.stats.kstwobign)", () => {
  it("matches scipy.special.kolmogorov", () => {
    for (const [z, sf] of KSTWOBIGN) {
      assertClose(kolmogorovLimitSf(z), sf, 1e-14, `kolmogorov(${z})`);
      assertClose(kolmogorovLimitCdf(z), 1 - sf, 1e-13, `kolmogc(${z})`, 1e-16);
    }
    assert.equal(kolmogorovLimitSf(0), 1);
    assert.equal(kolmogorovLimitSf(-1), 1);
    assert.equal(kolmogorovLimitSf(40), 0);
  });
});

describe("smirnovSf (scipy.special.smirnov)", () => {
  it("matches SciPy, including the sampled sum for large n", () => {
    // measured worst relative error: 3.0e-13 (n = 23456, p ≈ 9e-259) over 145 points with n ≥ 20000
    for (const [n, d, sf] of SMIRNOV) assertClose(smirnovSf(n, d), sf, 1e-11, `smirnov(${n}, ${d})`);
  });

  it("has the closed forms", () => {
    assert.equal(smirnovSf(7, 0), 1);
    assert.equal(smirnovSf(7, 1), 0);
    // d ≤ 1/n: 1 − d(1 + d)^(n−1)
    assertClose(smirnovSf(4, 0.2), 1 - 0.2 * 1.2 ** 3, 1e-15, "small d");
    // d ≥ 1 − 1/n: (1 − d)ⁿ
    assertClose(smirnovSf(4, 0.8), 0.2 ** 4, 1e-14, "large d");
  });
});

describe("logBinomial", () => {
  it("matches exact binomial coefficients", () => {
    assert.equal(logBinomial(10, 0), 0);
    assertClose(Math.exp(logBinomial(10, 3)), 120, 1e-13, "C(10,3)");
    assertClose(Math.exp(logBinomial(60, 30)), 1.1826458156486142e17, 1e-13, "C(60,30)");
  });
});
