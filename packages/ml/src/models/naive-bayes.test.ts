import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { CsrMatrix } from "../core/matrix.js";
import { dense, denseFromRows, selectRows } from "../core/matrix.js";
import { MultinomialNB } from "./naive-bayes.js";
import { closeAll, throwsMl } from "../testing/assertions.js";

const close = (actual: ArrayLike<number>, expected: readonly number[], tol = 1e-12): void =>
  closeAll(actual, expected, tol);

// MultinomialNB docstring: rng = np.random.RandomState(1); X = rng.randint(5, size=(6, 100)); y = [1..6]
const DOC_X = [
  "3401300144124243424241101111041003210311340134240312041221013431300221342001130042433034344410420241",
  "1024404141023124422012201240121420010131144303031240031100423420331243004242030042104301244333323343",
  "2440330310222021404413141210024100310432344300041412243440324342302132014133120240243430422412111044",
  "2231400324131124030423114402130102243222020410230433303120142344212033200002404121241311241021200341",
  "0403243242400422423004343340314432222202123001133313331304024420324042342413430304303144224212313304",
  "3333023132322040130001244201002430213314440101224240244111143411124323323020100340000101334010321100",
].map((row) => [...row].map(Number));

const X2 = denseFromRows([
  [2, 0, 1, 0, 3],
  [0, 1, 0, 4, 0],
  [1, 1, 1, 1, 1],
  [3, 0, 0, 0, 1],
  [0, 2, 0, 3, 1],
  [0, 0, 5, 0, 0],
  [1, 0, 2, 0, 0],
  [0, 3, 0, 1, 2],
]);
const Y2 = ["b", "a", "c", "b", "a", "c", "c", "a"];
const SW2 = [1, 2, 0.5, 1, 1, 3, 1, 0];
const T2 = denseFromRows([
  [1, 0, 0, 0, 2],
  [0, 0, 1, 1, 0],
  [5, 5, 5, 5, 5],
  [0, 0, 0, 0, 0],
]);

// scikit-learn 1.2.1: MultinomialNB(**params).fit(X2, Y2, sample_weight=SW2); attributes and predict_proba(T2)
const SK_CASES = [
  {
    options: { alpha: 0.5 },
    flp: [
      [-3.6109179126442243, -1.413693335308005, -3.6109179126442243, -0.4754236967150747, -2.512305623976115],
      [-0.8209805520698299, -3.2188758248682006, -2.120263536200091, -3.2188758248682006, -1.0216512475319812],
      [-2.4423470353692043, -3.1354942159291497, -0.24512245803298516, -3.1354942159291497, -3.1354942159291497],
    ],
    clp: [-1.1526795099383853, -1.5581446180465495, -0.7472144018302209],
    proba: [
      [0.004622225778228706, 0.9889634403036701, 0.00641433391810139],
      [0.23649377390245138, 0.045044866291819974, 0.7184613598057288],
      [0.003308106733499945, 0.9962202946997748, 0.00047159856672680285],
      [0.3157894736842105, 0.2105263157894737, 0.47368421052631576],
    ],
    pred: ["b", "c", "b", "c"],
  },
  {
    options: { alpha: 1, fitPrior: false },
    flp: [
      [-3.044522437723423, -1.4350845252893227, -3.044522437723423, -0.5596157879354227, -2.3513752571634776],
      [-0.9162907318741551, -2.70805020110221, -2.0149030205422647, -2.70805020110221, -1.0986122886681098],
      [-2.322387720290225, -2.833213344056216, -0.3209077200801014, -2.833213344056216, -2.833213344056216],
    ],
    clp: [-1.0986122886681096, -1.0986122886681096, -1.0986122886681096],
    proba: [
      [0.009552428942751438, 0.9829449382091227, 0.007502632848125817],
      [0.34542245524846904, 0.11283800204783319, 0.5417395427036977],
      [0.007059640268352505, 0.9927353465572998, 0.00020501317434651296],
      [0.33333333333333337, 0.33333333333333337, 0.33333333333333337],
    ],
    pred: ["b", "c", "b", "a"],
  },
  {
    options: { alpha: 2, classPrior: [0.2, 0.3, 0.5] },
    flp: [
      [-2.5649493574615363, -1.4663370687934267, -2.5649493574615363, -0.693147180559945, -2.159484249353372],
      [-1.0498221244986776, -2.3025850929940455, -1.8971199848858813, -2.3025850929940455, -1.203972804325936],
      [-2.164963715117998, -2.501435951739211, -0.44731221804366506, -2.501435951739211, -2.501435951739211],
    ],
    clp: [-1.6094379124341003, -1.203972804325936, -0.6931471805599453],
    proba: [
      [0.0204002232559512, 0.94120510035982, 0.03839467638422909],
      [0.2003469054317919, 0.11720293967759822, 0.6824501548906097],
      [0.020407671001222375, 0.9777818006324641, 0.0018105283663100667],
      [0.2, 0.30000000000000004, 0.5],
    ],
    pred: ["b", "c", "b", "c"],
  },
];

function toCsr(rows: readonly (readonly number[])[], cols: number): CsrMatrix {
  const indptr = new Int32Array(rows.length + 1);
  const indices: number[] = [];
  const data: number[] = [];
  rows.forEach((row, i) => {
    row.forEach((v, j) => {
      if (v !== 0) {
        indices.push(j);
        data.push(v);
      }
    });
    indptr[i + 1] = indices.length;
  });
  return {
    kind: "csr",
    rows: rows.length,
    cols,
    indptr,
    indices: Int32Array.from(indices),
    data: Float64Array.from(data),
  };
}

describe("MultinomialNB against scikit-learn", () => {
  it("reproduces the docstring example: predict(X[2:3]) is [3]", () => {
    const model = new MultinomialNB().fit(denseFromRows(DOC_X), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(model.predict(denseFromRows([DOC_X[2] as number[]])), [3]);
    assert.deepEqual(model.classes, [1, 2, 3, 4, 5, 6]);
  });

  for (const c of SK_CASES) {
    it(`matches feature_log_prob_, class_log_prior_, predict_proba with ${JSON.stringify(c.options)} and sample weights`, () => {
      const model = new MultinomialNB(c.options).fit(X2, Y2, { sampleWeight: SW2 });
      assert.deepEqual(model.classes, ["a", "b", "c"]);
      close(model.classCount, [3, 2, 4.5]);
      close(model.featureLogProb, c.flp.flat());
      close(model.classLogPrior, c.clp);
      close(model.predictProba(T2), c.proba.flat());
      assert.deepEqual(model.predict(T2), c.pred);
    });
  }

  it("gives the same model on CSR input", () => {
    const rows = [
      [2, 0, 1, 0, 3],
      [0, 1, 0, 4, 0],
      [1, 1, 1, 1, 1],
      [3, 0, 0, 0, 1],
      [0, 2, 0, 3, 1],
      [0, 0, 5, 0, 0],
      [1, 0, 2, 0, 0],
      [0, 3, 0, 1, 2],
    ];
    const a = new MultinomialNB({ alpha: 0.5 }).fit(X2, Y2, { sampleWeight: SW2 });
    const b = new MultinomialNB({ alpha: 0.5 }).fit(toCsr(rows, 5), Y2, { sampleWeight: SW2 });
    assert.deepEqual(b.featureLogProb, a.featureLogProb);
    close(b.predictProba(toCsr([[1, 0, 0, 0, 2]], 5)), Array.from(a.predictProba(selectRows(T2, [0]))));
  });
});

describe("MultinomialNB behaviour", () => {
  it("probabilities are a normalised softmax of the linear params (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 4, maxLength: 4 }), {
          minLength: 6,
          maxLength: 20,
        }),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        (rows, alpha) => {
          const y = rows.map((_, i) => i % 3);
          const X = denseFromRows(rows);
          const model = new MultinomialNB({ alpha }).fit(X, y);
          const params = model.linearParams();
          assert.equal(params.link, "softmax");
          assert.equal(params.nOutputs, 3);
          const proba = model.predictProba(X);
          rows.forEach((row, i) => {
            const scores = [0, 1, 2].map((c) =>
              row.reduce((acc, v, j) => acc + v * (params.weights[c * 4 + j] as number), params.bias[c] as number),
            );
            const max = Math.max(...scores);
            const e = scores.map((s) => Math.exp(s - max));
            const sum = e.reduce((a, b) => a + b, 0);
            e.forEach((v, c) => assert.ok(Math.abs(v / sum - (proba[i * 3 + c] as number)) < 1e-12, `row ${i}`));
          });
        },
      ),
      { numRuns: 50, seed: 5 },
    );
  });

  it("binary problems keep one row per class", () => {
    const model = new MultinomialNB().fit(
      X2,
      Y2.map((c) => (c === "a" ? 1 : 0)),
    );
    const params = model.linearParams();
    assert.equal(params.nOutputs, 2);
    assert.deepEqual(params.classes, [0, 1]);
    assert.equal(model.predictProba(T2).length, 8);
  });

  it("does not overflow on large counts", () => {
    const X = denseFromRows([
      [1e6, 0],
      [0, 1e6],
    ]);
    const model = new MultinomialNB().fit(X, [0, 1]);
    const p = model.predictProba(denseFromRows([[1e7, 1e7 + 1]]));
    for (const v of p) assert.ok(Number.isFinite(v), `probability ${v}`);
    // scores near −1.4e8 carry absolute rounding of ~1e-8, as in scikit-learn
    assert.ok(Math.abs((p[0] as number) + (p[1] as number) - 1) < 1e-6, "sums to 1");
  });

  it("round-trips through JSON to identical predictions", () => {
    const model = new MultinomialNB({ alpha: 2, classPrior: [0.2, 0.3, 0.5] }).fit(X2, Y2, { sampleWeight: SW2 });
    const back = MultinomialNB.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
    assert.deepEqual(back.predictProba(T2), model.predictProba(T2));
    assert.deepEqual(back.predict(T2), model.predict(T2));
    assert.deepEqual(back.classPrior, [0.2, 0.3, 0.5]);
    assert.deepEqual(back.featureCount, model.featureCount);
  });

  it("rejects malformed JSON with MlError", () => {
    const good = new MultinomialNB().fit(X2, Y2).toJSON();
    throwsMl(() => MultinomialNB.fromJSON({ ...good, type: "LogisticRegression" }), /type is "LogisticRegression"/);
    throwsMl(
      () => MultinomialNB.fromJSON({ ...good, featureLogProb: good.featureLogProb.slice(1) }),
      /featureLogProb has 2 rows/,
    );
    throwsMl(() => MultinomialNB.fromJSON({ ...good, classLogPrior: [0, 0] }), /classLogPrior has 2 values/);
    throwsMl(() => MultinomialNB.fromJSON({ ...good, params: { ...good.params, alpha: -1 } }), /alpha must be/);
    throwsMl(
      () => MultinomialNB.fromJSON({ ...good, params: { ...good.params, classPrior: [1] } }),
      /classPrior has 1/,
    );
    throwsMl(() => MultinomialNB.fromJSON({ ...good, classes: ["a", "a", "b"] }), /distinct and sorted/);
  });

  it("names bad input", () => {
    throwsMl(
      () => new MultinomialNB().fit(denseFromRows([[1, -2]]), [0]),
      /Negative values in data passed to MultinomialNB \(X has -2 at row 0, column 1\)/,
    );
    throwsMl(
      () =>
        new MultinomialNB().fit(
          toCsr(
            [
              [1, 0],
              [0, -3],
            ],
            2,
          ),
          [0, 1],
        ),
      /X has -3 at row 1, column 1/,
    );
    throwsMl(() => new MultinomialNB().fit(dense(0, 3), []), /empty training set/);
    throwsMl(
      () =>
        new MultinomialNB().fit(
          X2,
          Y2.map(() => "a"),
        ),
      /at least 2 classes/,
    );
    throwsMl(() => new MultinomialNB().fit(X2, Y2.slice(1)), /X has 8 rows but y has 7 values/);
    throwsMl(() => new MultinomialNB().fit(X2, Y2, { sampleWeight: [1] }), /sampleWeight has 1 values/);
    throwsMl(() => new MultinomialNB().fit(X2, Y2, { sampleWeight: SW2.map((w) => -w) }), /must not be negative/);
    throwsMl(() => new MultinomialNB().fit(dense(2, 1, Float64Array.from([1, Number.NaN])), [0, 1]), /X has NaN/);
    throwsMl(
      () => new MultinomialNB({ classPrior: [0.5, 0.5] }).fit(X2, Y2),
      /classPrior has 2 values but y has 3 classes/,
    );
    throwsMl(() => new MultinomialNB({ alpha: 0 }), /alpha = 0/);
    throwsMl(() => new MultinomialNB().predict(X2), /not fitted yet/);
    throwsMl(
      () => new MultinomialNB().fit(X2, Y2).predict(dense(1, 7)),
      /X has 7 features, but the model was fitted with 5/,
    );
  });

  it("forceAlpha: false raises alpha = 0 to 1e-10 as scikit-learn does", () => {
    const model = new MultinomialNB({ alpha: 0, forceAlpha: false }).fit(X2, Y2);
    for (const v of model.featureLogProb) assert.ok(Number.isFinite(v), `log prob ${v}`);
  });
});
