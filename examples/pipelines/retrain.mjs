// retrain.mjs — a retraining pipeline: prepare → train → gate → promote, as one tracked run with a child run
// per step.
//
//   npx slipway server                                      (in another terminal)
//   npx slipway pipeline list --pipelines examples/pipelines/retrain.mjs
//   npx slipway pipeline run retrain --pipelines examples/pipelines/retrain.mjs
//   npx slipway pipeline run retrain --pipelines examples/pipelines/retrain.mjs --param C=3
//   npx slipway pipeline scheduler --pipelines examples/pipelines/retrain.mjs   (nightly, and on drift alerts)
//
// - prepare (cached): a labelled set of short messages, generated from `seed`, split into train and test.
// - train (cached, 1 retry, 2 min timeout): TF-IDF + logistic regression; logs the test metrics and the model
//   package on its own run. Its outputs name the model (`runs:/<id>/model`), not the model itself: outputs
//   travel as JSON between steps, data and models stay in artifacts.
// - gate: compares the candidate's F1 with the champion's (the metric recorded on the champion's run).
// - promote (never cached: it changes the registry): registers the candidate and moves the alias when the
//   gate says so. Running the pipeline again with the same parameters reuses prepare and train, and promote
//   sees that the champion already is this model.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LogisticRegression,
  TextClassifier,
  TfidfVectorizer,
  accuracyScore,
  f1Score,
  textClassifierPackage,
  trainTestSplit,
} from "@slipway/ml";
import {
  NonRetryableError,
  definePipeline,
  logModel,
  registerModel,
  saveModelPackage,
  setAlias,
  step,
} from "@slipway/sdk";

const SPAM = ["win", "free", "prize", "money", "click", "offer", "cash", "urgent", "winner", "claim", "bonus"];
const HAM = ["meeting", "report", "monday", "lunch", "project", "review", "team", "notes", "schedule", "draft"];
const FILLER = ["the", "a", "for", "now", "today", "please", "your", "our", "this", "with"];

/** A small deterministic random generator (mulberry32). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function message(rand, words) {
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const n = 4 + Math.floor(rand() * 5);
  // a few words of the other class make it less than trivial
  return Array.from({ length: n }, () =>
    rand() < 0.55 ? pick(words) : rand() < 0.8 ? pick(FILLER) : pick(words === SPAM ? HAM : SPAM),
  ).join(" ");
}

const pick = (values, indices) => Array.from(indices, (i) => values[i]);

export const retrain = definePipeline({
  name: "retrain",
  description: "Retrain the spam classifier, gate it against the champion, promote it",
  params: { model: "spam-pipeline", alias: "champion", seed: 7, rows: 400, C: 10, min_delta: 0 },
  schedule: "0 3 * * *",
  on: { alert: { monitor: "spam-pipeline-drift" } },
  steps: {
    prepare: step({
      cache: { params: ["seed", "rows"] },
      run: (ctx) => {
        const rand = random(Number(ctx.params.seed));
        const rows = Number(ctx.params.rows);
        const labels = Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? "spam" : "ham"));
        const texts = labels.map((label) => message(rand, label === "spam" ? SPAM : HAM));
        const split = trainTestSplit(rows, { testSize: 0.25, seed: Number(ctx.params.seed), stratify: labels });
        ctx.log(`${split.train.length} training and ${split.test.length} test messages`);
        return {
          train: { texts: pick(texts, split.train), labels: pick(labels, split.train) },
          test: { texts: pick(texts, split.test), labels: pick(labels, split.test) },
        };
      },
    }),

    train: step({
      needs: ["prepare"],
      cache: true,
      retries: 1,
      timeoutMs: 120_000,
      run: async (ctx, { prepare }) => {
        const classifier = new TextClassifier(
          new TfidfVectorizer(),
          new LogisticRegression({ C: Number(ctx.params.C) }),
        );
        classifier.fit(prepare.train.texts, prepare.train.labels);
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const predicted = classifier.predict(prepare.test.texts);
        const metrics = {
          test_f1: f1Score(prepare.test.labels, predicted, { posLabel: "spam" }),
          test_accuracy: accuracyScore(prepare.test.labels, predicted),
        };
        await ctx.run.logMetrics(metrics);
        const dir = await mkdtemp(join(tmpdir(), "retrain-"));
        try {
          await saveModelPackage(join(dir, "model"), textClassifierPackage(classifier, { onnxHead: false }));
          const logged = await logModel(ctx.run, join(dir, "model"), "model");
          ctx.log(`F1 ${metrics.test_f1.toFixed(4)}, model ${logged.modelUri}`);
          return { modelUri: logged.modelUri, runId: ctx.run.id, ...metrics };
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    }),

    gate: step({
      needs: ["train"],
      run: async (ctx, { train }) => {
        const client = ctx.run.client;
        const name = String(ctx.params.model);
        let champion;
        try {
          champion = await client.getModelVersionByAlias({ name, alias: String(ctx.params.alias) });
        } catch (error) {
          if (error?.code !== "RESOURCE_DOES_NOT_EXIST" && error?.code !== "INVALID_PARAMETER_VALUE") throw error;
        }
        if (!champion?.model_version) return { promote: true, reason: "no champion yet", champion: null };
        const version = champion.model_version;
        if (version.run_id === train.runId) {
          return {
            promote: false,
            reason: `the champion already is this model (version ${version.version})`,
            champion: version.version,
          };
        }
        const { run } = await client.getRun({ run_id: version.run_id });
        const championF1 = run.data.metrics?.find((m) => m.key === "test_f1")?.value;
        if (championF1 === undefined)
          throw new NonRetryableError(`the champion (version ${version.version}) has no test_f1`);
        await ctx.run.logMetrics({ candidate_f1: train.test_f1, champion_f1: championF1 });
        const promote = train.test_f1 >= championF1 + Number(ctx.params.min_delta);
        const reason = `candidate F1 ${train.test_f1.toFixed(4)} vs champion ${championF1.toFixed(4)}`;
        ctx.log(promote ? `promote: ${reason}` : `keep the champion: ${reason}`);
        return { promote, reason, champion: version.version };
      },
    }),

    promote: step({
      needs: ["train", "gate"],
      run: async (ctx, { train, gate }) => {
        if (!gate.promote) return { promoted: false, reason: gate.reason };
        const client = ctx.run.client;
        const name = String(ctx.params.model);
        const version = await registerModel(client, train.modelUri, name);
        await setAlias(client, name, String(ctx.params.alias), version.version);
        ctx.log(`models:/${name}@${ctx.params.alias} → version ${version.version}`);
        return { promoted: true, version: version.version, reason: gate.reason };
      },
    }),
  },
});
