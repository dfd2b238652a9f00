// train.mjs — the spam-classifier project: train → track → evaluate → register.
//
//   npm run example:spam                       (a server must be running: `npx slipway server`)
//   node examples/spam-classifier/train.mjs --seed 7 --C 20
//
// Against the tracking server in SLIPWAY_TRACKING_URI or MLFLOW_TRACKING_URI (default http://127.0.0.1:5000):
//  1. splits the SpamAssassin corpus into train and test (seeded, stratified) and logs both datasets with digests;
//  2. trains TF-IDF + logistic regression, logging params, the loss per iteration and the test metrics
//     (accuracy, precision, recall, F1, ROC AUC, PR AUC, log loss), the confusion matrix as JSON and SVG, and
//     ROC / loss charts;
//  3. logs the model package (native pipeline + ONNX head + data profile + input example + signature);
//  4. registers it as `spam-classifier` and moves the `champion` alias only if it beats the current
//     champion's F1 on this test split (the champion is loaded and evaluated on the same texts);
//  5. prints the run URL and the model URI.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  LogisticRegression,
  TextClassifier,
  TfidfVectorizer,
  accuracyScore,
  averagePrecisionScore,
  confusionMatrix,
  confusionMatrixSvg,
  lineChartSvg,
  logLoss,
  precisionRecallFscore,
  profileTable,
  rocAucScore,
  rocCurve,
  tableFromRecords,
  textClassifierPackage,
  trainTestSplit,
} from "@slipway/ml";
import {
  Slipway,
  loadModelPackage,
  logModelPackage,
  registerModel,
  resolveTrackingUri,
  withReason,
} from "@slipway/sdk";
import { SOURCE, SOURCE_VERSION, digestRecords, loadCorpus } from "./corpus.mjs";

const MODEL_NAME = "spam-classifier";
const ALIAS = "champion";

const { values: flags } = parseArgs({
  options: {
    seed: { type: "string", default: "42" },
    "test-size": { type: "string", default: "0.2" },
    C: { type: "string", default: "30" },
    "max-iter": { type: "string", default: "300" },
    "min-df": { type: "string", default: "2" },
    "max-features": { type: "string", default: "50000" },
    experiment: { type: "string", default: "spam-classifier" },
    "min-delta": { type: "string", default: "0" },
  },
});
const number = (name) => {
  const value = Number(flags[name]);
  if (!Number.isFinite(value)) throw new Error(`--${name}: '${flags[name]}' is not a number`);
  return value;
};
const params = {
  seed: number("seed"),
  test_size: number("test-size"),
  C: number("C"),
  max_iter: number("max-iter"),
  min_df: number("min-df"),
  max_features: number("max-features"),
  sublinear_tf: true,
  vectorizer: "tfidf",
  model: "logistic_regression",
};

const trackingUri = resolveTrackingUri();
const slipway = new Slipway({ trackingUri });
const say = (line) => console.log(line);

// 1. data
const corpus = loadCorpus();
const labels = corpus.map((r) => r.label);
const split = trainTestSplit(corpus.length, { testSize: params.test_size, seed: params.seed, stratify: labels });
const train = Array.from(split.train, (i) => corpus[i]);
const test = Array.from(split.test, (i) => corpus[i]);
say(
  `corpus: ${corpus.length} emails (${labels.filter((l) => l === "spam").length} spam); train ${train.length}, test ${test.length}`,
);

const run = await slipway.startRun({ experiment: flags.experiment, params });
const dataset = (name, records) => ({
  name,
  digest: digestRecords(records),
  source_type: "npm",
  source: `${SOURCE}@${SOURCE_VERSION}`,
  schema: JSON.stringify({
    mlflow_colspec: [
      { type: "string", name: "text" },
      { type: "string", name: "label" },
    ],
  }),
  profile: JSON.stringify({
    num_rows: records.length,
    spam: records.filter((r) => r.label === "spam").length,
  }),
});
await run.logInput(dataset("spam-assassin-train", train), "training");
await run.logInput(dataset("spam-assassin-test", test), "test");

// 2. train
const started = performance.now();
const classifier = new TextClassifier(
  new TfidfVectorizer({ sublinearTf: true, minDf: params.min_df, maxFeatures: params.max_features }),
  new LogisticRegression({ C: params.C, maxIter: params.max_iter }),
);
const losses = [];
const lossLogs = [];
classifier.fit(
  train.map((r) => r.text),
  train.map((r) => r.label),
  {
    onIteration: ({ iteration, loss }) => {
      losses.push(loss);
      lossLogs.push(run.logMetric("train_loss", loss, { step: iteration }));
    },
  },
);
const trainSeconds = (performance.now() - started) / 1000;
await Promise.all(lossLogs);
const model = classifier.model;
say(
  `trained in ${trainSeconds.toFixed(1)} s: ${classifier.nFeatures} features, ${model.nIter} L-BFGS iterations` +
    (model.converged ? "" : ` (${model.convergenceWarning})`),
);

// evaluate on the test split
function evaluate(predictor) {
  const texts = test.map((r) => r.text);
  const truth = test.map((r) => r.label);
  const { labels: predicted, probabilities, classes } = predictor.predictAll(texts);
  const spamColumn = classes.indexOf("spam");
  const spamScore = Array.from({ length: texts.length }, (_, i) => probabilities[i * classes.length + spamColumn]);
  const { precision, recall, fScore } = precisionRecallFscore(truth, predicted, { posLabel: "spam" });
  return {
    predicted,
    spamScore,
    metrics: {
      test_accuracy: accuracyScore(truth, predicted),
      test_precision: precision,
      test_recall: recall,
      test_f1: fScore,
      test_roc_auc: rocAucScore(truth, spamScore),
      test_pr_auc: averagePrecisionScore(truth, spamScore, { posLabel: "spam" }),
      test_log_loss: logLoss(truth, probabilities, { labels: classes }),
    },
  };
}
const evaluation = evaluate(classifier);
// the training time under MLflow's `system/` prefix: `slipway runs reproduce` shows it but does not expect it to repeat
const metrics = { ...evaluation.metrics, "system/train_seconds": trainSeconds, n_features: classifier.nFeatures };
await run.logMetrics(metrics);
const truth = test.map((r) => r.label);
const order = ["ham", "spam"];
const { matrix } = confusionMatrix(truth, evaluation.predicted, { labels: order });
await run.logDict({ labels: order, matrix, rows: "true", columns: "predicted" }, "evaluation/confusion_matrix.json");
await run.logText(
  confusionMatrixSvg(matrix, order, { title: `spam-classifier: test set (${test.length} emails)` }),
  "evaluation/confusion_matrix.svg",
);
const roc = rocCurve(truth, evaluation.spamScore, { posLabel: "spam" });
await run.logText(
  lineChartSvg([{ name: "ROC", x: Array.from(roc.fpr), y: Array.from(roc.tpr) }], {
    title: `ROC curve (AUC ${metrics.test_roc_auc.toFixed(4)})`,
    xLabel: "false positive rate",
    yLabel: "true positive rate",
    xRange: [0, 1],
    yRange: [0, 1],
    diagonal: true,
  }),
  "evaluation/roc_curve.svg",
);
await run.logText(
  lineChartSvg([{ name: "loss", x: losses.map((_, i) => i), y: losses }], {
    title: "Training loss (L-BFGS)",
    xLabel: "iteration",
    yLabel: "loss",
    logY: true,
  }),
  "evaluation/loss.svg",
);
say(
  `test: accuracy ${metrics.test_accuracy.toFixed(4)}, F1 ${metrics.test_f1.toFixed(4)}, ` +
    `ROC AUC ${metrics.test_roc_auc.toFixed(4)}, confusion ${JSON.stringify(matrix)}`,
);

// 3. the model package
const profile = profileTable(tableFromRecords(train.map((r) => ({ text: r.text, label: r.label }))));
const pkg = textClassifierPackage(classifier, {
  inputExample: [test[0].text.slice(0, 400), "Congratulations! You have won a FREE prize, click here now"],
  profile,
  metadata: { test_f1: metrics.test_f1, test_accuracy: metrics.test_accuracy },
  // held-out emails, not training ones: predictions on them are what live traffic should look like
  referenceData: { texts: test.map((r) => r.text), labels: test.map((r) => r.label) },
});
const logged = await logModelPackage(run, pkg, "model");

// 4. register, and gate the alias on the same test split
const version = await registerModel(slipway.client, logged.modelUri, MODEL_NAME, {
  tags: { test_f1: String(metrics.test_f1) },
});
let decision;
// the model exists now (registerModel created it); its aliases say who the champion is
const { registered_model: registered } = await slipway.client.getRegisteredModel({ name: MODEL_NAME });
const champion = (registered.aliases ?? []).find((a) => a.alias === ALIAS);
const minDelta = number("min-delta");
if (!champion) {
  decision = { promote: true, reason: `first ${MODEL_NAME} version: test F1 ${metrics.test_f1.toFixed(4)}` };
} else {
  const loaded = await loadModelPackage(slipway.client, `models:/${MODEL_NAME}/${champion.version}`);
  const data = JSON.parse(await readFile(join(loaded.dir, loaded.mlmodel.flavors.slipway.data), "utf8"));
  const championF1 = evaluate(TextClassifier.fromJSON(data)).metrics.test_f1;
  const delta = metrics.test_f1 - championF1;
  decision = {
    promote: delta > minDelta,
    reason:
      `candidate v${version.version} F1 ${metrics.test_f1.toFixed(4)} vs champion v${champion.version} ` +
      `F1 ${championF1.toFixed(4)} on the same ${test.length} test emails: Δ ${delta >= 0 ? "+" : ""}${delta.toFixed(4)}` +
      (delta > minDelta ? ` > ${minDelta}` : ` ≤ ${minDelta}`),
  };
}
if (decision.promote) {
  await slipway.client.setRegisteredModelAlias(
    { name: MODEL_NAME, alias: ALIAS, version: version.version },
    withReason(decision.reason),
  );
}
await run.setTags({ "gate.decision": decision.promote ? "promoted" : "kept champion", "gate.reason": decision.reason });
say(`gate: ${decision.promote ? `promoted v${version.version} to @${ALIAS}` : `@${ALIAS} stays`}: ${decision.reason}`);
await run.end();

// 5. where to look
say(`run:   ${trackingUri.replace(/\/$/, "")}/#/experiments/${run.experimentId}/runs/${run.id}`);
say(`model: models:/${MODEL_NAME}/${version.version}${decision.promote ? `  (models:/${MODEL_NAME}@${ALIAS})` : ""}`);
