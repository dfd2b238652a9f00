import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { throwsMl } from "../testing/assertions.js";
import { alignedValueCounts } from "./categorical.js";
import {
  hellingerCategorical,
  hellingerEvidently,
  hellingerNumeric,
  jensenShannon,
  jensenShannonEvidently,
  klDivergence,
  klEvidently,
  nannymlJensenShannon,
  psi,
  psiEvidently,
  totalVariation,
} from "./divergences.js";
import { assertClose, categoricalCases, num, numericCases } from "./testing/scipy-cases.js";

const RTOL = 1e-9;

describe("divergences of two share vectors", () => {
  it("computes PSI without renormalising", () => {
    assertClose(psi([0.5, 0.5], [0.25, 0.75]), 0.25 * Math.log(3), 1e-15, "psi");
    assert.equal(psi([0.3, 0.7], [0.3, 0.7]), 0);
    assert.equal(psi([0.2, 0, 0.8], [0.2, 0, 0.8]), 0); // an empty bin on both sides adds nothing
    assert.equal(psi([0.5, 0.5], [1, 0]), Infinity);
  });

  it("computes KL like scipy.stats.entropy, renormalising both vectors (SciPy 1.10.1 values)", () => {
    assertClose(klDivergence([0.2, 0.3, 0.5], [0.1, 0.6, 0.3]), 0.18609809382700082, 1e-15, "kl");
    assertClose(klDivergence([2, 3, 5], [1, 6, 3]), 0.18609809382700082, 1e-15, "kl of counts");
    assertClose(klDivergence([1, 0], [0.5, 0.5]), Math.log(2), 1e-15, "kl with a zero in p");
    assert.equal(klDivergence([0.5, 0.5], [1, 0]), Infinity);
  });

  it("computes the Jensen–Shannon distance like scipy.spatial.distance.jensenshannon", () => {
    assertClose(jensenShannon([0.2, 0.3, 0.5], [0.1, 0.6, 0.3]), 0.21590133005580303, 1e-15, "js");
    assertClose(jensenShannon([2, 3, 5], [1, 6, 3]), 0.21590133005580303, 1e-15, "js of counts");
    assertClose(jensenShannon([0.2, 0.3, 0.5], [0.1, 0.6, 0.3], 2), 0.2593239256168245, 1e-15, "js base 2");
    assertClose(jensenShannon([1, 0], [0, 1]), Math.sqrt(Math.log(2)), 1e-15, "disjoint, natural log");
    assert.equal(jensenShannon([1, 0], [0, 1], 2), 1);
    assert.equal(jensenShannon([0.25, 0.75], [0.25, 0.75]), 0);
  });

  it("computes Hellinger (categorical) and total variation", () => {
    assert.equal(hellingerCategorical([1, 0], [0, 1]), 1);
    assert.equal(hellingerCategorical([0.25, 0.75], [0.25, 0.75]), 0);
    assertClose(hellingerCategorical([0.5, 0.5], [1, 0]), Math.sqrt(1 - Math.SQRT1_2), 1e-15, "hellinger");
    assert.equal(totalVariation([1, 0], [0, 1]), 1);
    assertClose(totalVariation([3, 1], [1, 1]), 0.25, 1e-15, "tvd of counts");
  });

  it("refuses mismatched, empty, negative, non-finite or all-zero weights", () => {
    throwsMl(() => psi([0.5, 0.5], [1]), /2 and 1 bins/);
    throwsMl(() => klDivergence([], []), /no bins/);
    throwsMl(() => jensenShannon([0.5, -0.5], [0.5, 0.5]), /p\[1\] = -0.5 is not a finite non-negative weight/);
    throwsMl(() => totalVariation([0.5, 0.5], [NaN, 1]), /q\[0\] = NaN/);
    throwsMl(() => klDivergence([0, 0], [1, 1]), /p: the weights sum to 0/);
    throwsMl(() => jensenShannon([1, 0], [0, 1], 1), /base 1/);
    throwsMl(() => hellingerCategorical([1, Infinity], [1, 1]), /p\[1\] = Infinity/);
  });
});

describe("Evidently's numeric Hellinger distance", () => {
  it("bins the distinct values of ref∪cur and compares density histograms", () => {
    // identical samples: BC rounds to just below 1, so the distance is ≈ 1e-8, not 0; Evidently's
    // code (NumPy 1.24.2) gives the same 1.0536712127723509e-08. A constant sample gives BC = 1.
    assert.equal(hellingerNumeric([1, 2, 3], [1, 2, 3]), 1.0536712127723509e-8);
    assert.equal(hellingerNumeric([5, 5], [5]), 0);
    assert.ok(Math.abs(hellingerNumeric([0, 0, 0, 0], [10, 10]) - 1) < 1e-15);
    throwsMl(() => hellingerNumeric([], [1]), /empty sample/);
    throwsMl(() => hellingerNumeric([1], [NaN]), /current\[0\] is NaN/);
  });
});

describe("Evidently and NannyML drift scores against the SciPy reference cases", () => {
  it("matches every numeric case: PSI, JS, KL, Hellinger and NannyML's base-2 JS", () => {
    for (const c of numericCases()) {
      const e = c.expected;
      assertClose(psiEvidently(c.ref, c.cur, "num"), num(e, "psi_evidently"), RTOL, `${c.id} psi`);
      const js = jensenShannonEvidently(c.ref, c.cur, "num");
      assertClose(js, num(e, "jensenshannon_evidently"), RTOL, `${c.id} js`);
      assertClose(klEvidently(c.ref, c.cur, "num"), num(e, "kl_div_evidently"), RTOL, `${c.id} kl`);
      const h = hellingerEvidently(c.ref, c.cur, "num");
      assertClose(h, num(e, "hellinger_evidently"), RTOL, `${c.id} hellinger`);
      const nml = nannymlJensenShannon(c.ref, c.cur, "num");
      assertClose(nml, num(e, "nannyml_js_continuous_base2"), RTOL, `${c.id} nannyml js`);
    }
  });

  it("matches every categorical case: PSI, JS, KL, Hellinger, TVD and NannyML's base-2 JS", () => {
    for (const c of categoricalCases()) {
      const e = c.expected;
      assertClose(psiEvidently(c.ref, c.cur, "cat"), num(e, "psi_evidently"), RTOL, `${c.id} psi`);
      const js = jensenShannonEvidently(c.ref, c.cur, "cat");
      assertClose(js, num(e, "jensenshannon_evidently"), RTOL, `${c.id} js`);
      assertClose(klEvidently(c.ref, c.cur, "cat"), num(e, "kl_div_evidently"), RTOL, `${c.id} kl`);
      const h = hellingerEvidently(c.ref, c.cur, "cat");
      assertClose(h, num(e, "hellinger_evidently"), RTOL, `${c.id} hellinger`);
      const counts = alignedValueCounts(c.ref, c.cur);
      assertClose(totalVariation(counts.refCounts, counts.curCounts), num(e, "tvd_observed"), RTOL, `${c.id} tvd`);
      const nml = nannymlJensenShannon(c.ref, c.cur, "cat");
      assertClose(nml, num(e, "nannyml_js_categorical_base2"), RTOL, `${c.id} nannyml js`);
    }
  });
});
