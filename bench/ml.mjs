#!/usr/bin/env node
// npm run bench:ml — @slipway/ml on the spam-classifier workload (issue #4): vectorize + train on the
// SpamAssassin corpus (80% train split, the example's settings), then predict throughput of the native
// pipeline and of its ONNX head (onnxruntime-node), batched and one text at a time. Where Debian's
// python3-sklearn is installed, scikit-learn runs the same split and settings in the same run as the baseline.
// BENCH_QUICK=1 runs each step once (a smoke run; the figures are then not comparable).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import {
  LogisticRegression,
  TextClassifier,
  TfidfVectorizer,
  accuracyScore,
  exportLinearModelToOnnx,
  f1Score,
  trainTestSplit,
} from "../packages/ml/dist/index.js";
import { loadCorpus } from "../examples/spam-classifier/corpus.mjs";

const QUICK = process.env.BENCH_QUICK === "1";
const REPEATS = QUICK ? 1 : 5;
const SINGLE = QUICK ? 100 : 500;
const SETTINGS = { C: 30, max_iter: 300, min_df: 2 };
const ONNX_BATCH = 64;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function timed(fn, repeats = REPEATS) {
  const times = [];
  let result;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    result = fn();
    times.push((performance.now() - start) / 1000);
  }
  return { s: median(times), result };
}
async function timedAsync(fn, repeats = REPEATS) {
  const times = [];
  let result;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    result = await fn();
    times.push((performance.now() - start) / 1000);
  }
  return { s: median(times), result };
}

const corpus = loadCorpus();
const split = trainTestSplit(corpus.length, { testSize: 0.2, seed: 42, stratify: corpus.map((r) => r.label) });
const train = Array.from(split.train, (i) => corpus[i]);
const test = Array.from(split.test, (i) => corpus[i]);
const trainTexts = train.map((r) => r.text);
const trainLabels = train.map((r) => r.label);
const testTexts = test.map((r) => r.text);
const testLabels = test.map((r) => r.label);
console.log(`corpus ${corpus.length} emails: train ${train.length}, test ${test.length}; repeats ${REPEATS}`);

// vectorize + train
const makeVectorizer = () => new TfidfVectorizer({ sublinearTf: true, minDf: SETTINGS.min_df });
const vectorize = timed(() => {
  const v = makeVectorizer();
  return { v, X: v.fitTransform(trainTexts) };
});
const { v: vectorizer, X } = vectorize.result;
const fit = timed(() => new LogisticRegression({ C: SETTINGS.C, maxIter: SETTINGS.max_iter }).fit(X, trainLabels));
const classifier = new TextClassifier(vectorizer, fit.result);

// native predict
const batch = timed(() => classifier.predictAll(testTexts));
const single = timed(() => {
  for (const text of testTexts.slice(0, SINGLE)) classifier.predictProba([text]);
}, 1);

// ONNX head: the vectorizer natively, the linear head on onnxruntime (dense float32 input)
const session = await ort.InferenceSession.create(exportLinearModelToOnnx(classifier.linearParams()), {
  intraOpNumThreads: 1,
});
const F = classifier.nFeatures;
async function onnxPredict(texts) {
  const probabilities = new Float32Array(texts.length * 2);
  for (let start = 0; start < texts.length; start += ONNX_BATCH) {
    const chunk = texts.slice(start, start + ONNX_BATCH);
    const m = classifier.transform(chunk);
    const dense = new Float32Array(chunk.length * F);
    for (let i = 0; i < chunk.length; i++) {
      for (let k = m.indptr[i]; k < m.indptr[i + 1]; k++) dense[i * F + m.indices[k]] = m.data[k];
    }
    const out = await session.run({ input: new ort.Tensor("float32", dense, [chunk.length, F]) });
    probabilities.set(out.probabilities.data, start * 2);
  }
  return probabilities;
}
const onnxBatch = await timedAsync(() => onnxPredict(testTexts));
const onnxSingle = await timedAsync(async () => {
  for (const text of testTexts.slice(0, SINGLE)) await onnxPredict([text]);
}, 1);
let maxDiff = 0;
onnxBatch.result.forEach((p, k) => (maxDiff = Math.max(maxDiff, Math.abs(p - batch.result.probabilities[k]))));
await session.release();

// scikit-learn, same split and settings
let sk;
const python = "/usr/bin/python3";
if (spawnSync(python, ["-c", "import sklearn"]).status === 0) {
  const r = spawnSync(python, [fileURLToPath(new URL("./sklearn_spam.py", import.meta.url))], {
    input: JSON.stringify({
      train: trainTexts,
      train_labels: trainLabels,
      test: testTexts,
      ...SETTINGS,
      repeats: REPEATS,
      single: SINGLE,
    }),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status === 0) sk = JSON.parse(r.stdout);
  else console.log(`scikit-learn baseline failed: ${r.stderr.trim().split("\n").at(-1)}`);
} else {
  console.log(
    "scikit-learn baseline skipped: /usr/bin/python3 cannot import sklearn (apt-get install python3-sklearn)",
  );
}

const rows = (n, s) => Math.round(n / s);
const fmtS = (s) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);
const table = [
  [
    "vectorize (fit, train split)",
    fmtS(vectorize.s),
    sk ? fmtS(sk.vectorize_s) : "",
    sk ? sk.vectorize_s / vectorize.s : 0,
  ],
  [
    `train LR (C=${SETTINGS.C}; ${fit.result.nIter} / ${sk?.n_iter ?? "?"} iterations)`,
    fmtS(fit.s),
    sk ? fmtS(sk.train_s) : "",
    sk ? sk.train_s / fit.s : 0,
  ],
  [
    `predict native, batch of ${test.length} (rows/s)`,
    rows(test.length, batch.s),
    sk ? rows(test.length, sk.batch_s) : "",
    sk ? sk.batch_s / batch.s : 0,
  ],
  [
    `predict native, 1 text per call (rows/s)`,
    rows(SINGLE, single.s),
    sk ? rows(SINGLE, sk.single_s) : "",
    sk ? sk.single_s / single.s : 0,
  ],
  [`predict ONNX head, batches of ${ONNX_BATCH} (rows/s)`, rows(test.length, onnxBatch.s), "", 0],
  [`predict ONNX head, 1 text per call (rows/s)`, rows(SINGLE, onnxSingle.s), "", 0],
];
const header = ["step (medians)", "slipway", sk ? `scikit-learn ${sk.version}` : "scikit-learn", "× faster"];
const cells = table.map(([a, b, c, d]) => [a, String(b), String(c), d ? `${d.toFixed(2)}×` : ""]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n${cells.map(line).join("\n")}`);
const accuracy = accuracyScore(testLabels, batch.result.labels);
const f1 = f1Score(testLabels, batch.result.labels, { posLabel: "spam" });
console.log(
  `\nslipway: ${F} features, test accuracy ${accuracy.toFixed(4)}, F1 ${f1.toFixed(4)}; ONNX vs native max abs difference ${maxDiff.toExponential(1)}`,
);
if (sk) {
  console.log(
    `scikit-learn: test accuracy ${accuracyScore(testLabels, sk.predicted).toFixed(4)}, F1 ${f1Score(testLabels, sk.predicted, { posLabel: "spam" }).toFixed(4)}`,
  );
}
