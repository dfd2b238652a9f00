// pipeline.mjs — the retraining pipeline of the drift-retrain example: collect → train → gate → canary.
//
// Started by `slipway pipeline scheduler --pipelines examples/drift-retrain/pipeline.mjs` when the monitor
// `spam-drift` raises its `accuracy-drop` alert (run.mjs starts that scheduler; it can also be run by hand with
// `slipway pipeline run retrain-on-drift --pipelines examples/drift-retrain/pipeline.mjs`).
//
// - collect: the labelled rows of the model's inference log over the last `window_s` seconds (predictions whose
//   label came back through the feedback endpoint), one per distinct text, split (seeded, stratified) into a
//   training part and a held-out part, both logged as artifacts of the step's run with dataset digests.
// - train: the spam example's TF-IDF + logistic regression, on the champion's own training corpus plus the recent
//   training part (old spam stays spam; the new kind is learned); the held-out part is its test set and its
//   reference data (what the monitor compares traffic with once it is champion). Registered as a new version.
// - gate: `runGate` (what `slipway gate` runs) on the held-out recent rows, candidate against
//   models:/spam-classifier@champion, F1 of the spam class, +0.02 at least; passing moves the alias `challenger`.
//   A failing gate fails the pipeline: no canary.
// - canary: the deployment's canary on models:/spam-classifier@challenger; the control plane steps it up and, at
//   100%, moves `champion` (the alias history says why); the model servers swap without dropping a request.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LogisticRegression,
  TextClassifier,
  TfidfVectorizer,
  accuracyScore,
  precisionRecallFscore,
  tableFromRecords,
  textClassifierPackage,
  trainTestSplit,
} from "@slipway/ml";
import { DeploymentsClient, runGate } from "@slipway/inference";
import { NonRetryableError, definePipeline, logModelPackage, registerModel, step } from "@slipway/sdk";
import { SOURCE, SOURCE_VERSION, digestRecords, loadCorpus } from "../spam-classifier/corpus.mjs";
import {
  CANARY,
  CORPUS_SPLIT,
  DEPLOYMENT,
  HYPERPARAMETERS,
  MODEL,
  MONITOR,
  PIPELINE,
  TRIGGER_RULE,
} from "./settings.mjs";

const pick = (values, indices) => Array.from(indices, (i) => values[i]);
const jsonl = (rows) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

/** Every labelled row of `model` logged in [start_ms, end_ms), page by page. */
async function labelledRows(trackingUri, { model, start_ms, end_ms, signal }) {
  const rows = [];
  let token;
  do {
    const query = new URLSearchParams({
      model_name: model,
      start_ms: String(start_ms),
      end_ms: String(end_ms),
      labelled_only: "true",
      max_results: "10000",
    });
    if (token) query.set("page_token", token);
    const response = await fetch(`${trackingUri.replace(/\/+$/, "")}/api/2.0/slipway/inference-log/search?${query}`, {
      signal,
    });
    const body = await response.json();
    if (!response.ok) throw new Error(`inference-log search answered ${response.status}: ${body.message}`);
    rows.push(...body.records);
    token = body.next_page_token;
  } while (token);
  return rows;
}

/** A text artifact of another step's run (its outputs name the run; data travels as artifacts). */
async function readRunArtifact(client, runId, path) {
  const { run } = await client.getRun({ run_id: runId });
  const dir = await mkdtemp(join(tmpdir(), "drift-retrain-"));
  try {
    const local = join(dir, "file");
    await client.artifacts.repository(run.info.artifact_uri).getFile(path, local);
    return await readFile(local, "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const readJsonl = (text) =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));

function scores(truth, predicted) {
  const { fScore, recall } = precisionRecallFscore(truth, predicted, { posLabel: "spam" });
  return { test_accuracy: accuracyScore(truth, predicted), test_f1: fScore, test_recall: recall };
}

export const retrainOnDrift = definePipeline({
  name: PIPELINE,
  description: "Retrain the spam classifier on recent labelled traffic, gate it, roll it out as a canary",
  params: {
    model: MODEL,
    deployment: DEPLOYMENT,
    window_s: 120,
    holdout: 0.3,
    seed: 7,
    min_rows: 60,
    min_delta: 0.02,
  },
  on: { alert: { monitor: MONITOR, rule: TRIGGER_RULE } },
  steps: {
    collect: step({
      run: async (ctx) => {
        const end_ms = Date.now();
        const start_ms = end_ms - Number(ctx.params.window_s) * 1000;
        const logged = await labelledRows(ctx.run.client.trackingUri, {
          model: String(ctx.params.model),
          start_ms,
          end_ms,
          signal: ctx.signal,
        });
        // the same email sent twice is one example: keep each text once (its latest label), so that no text is
        // both trained on and held out
        const byText = new Map();
        for (const row of logged) {
          const text = row.inputs?.text;
          if (typeof text === "string" && (row.label === "spam" || row.label === "ham")) byText.set(text, row.label);
        }
        const records = [...byText].map(([text, label], i) => ({ id: `recent/${i}`, text, label }));
        const labels = records.map((r) => r.label);
        const spam = labels.filter((l) => l === "spam").length;
        if (records.length < Number(ctx.params.min_rows) || spam === 0 || spam === records.length) {
          throw new NonRetryableError(
            `${records.length} distinct labelled texts (${spam} spam) in the last ${ctx.params.window_s} s: ` +
              `need ${ctx.params.min_rows} of both classes`,
          );
        }
        const split = trainTestSplit(records.length, {
          testSize: Number(ctx.params.holdout),
          seed: Number(ctx.params.seed),
          stratify: labels,
        });
        const train = pick(records, split.train);
        const holdout = pick(records, split.test);
        await ctx.run.logText(jsonl(train), "recent/train.jsonl");
        await ctx.run.logText(jsonl(holdout), "recent/holdout.jsonl");
        const dataset = (name, rows) => ({
          name,
          digest: digestRecords(rows),
          source_type: "slipway-inference-log",
          source: `${ctx.run.client.trackingUri}#model=${ctx.params.model}&start_ms=${start_ms}&end_ms=${end_ms}`,
          profile: JSON.stringify({ num_rows: rows.length, spam: rows.filter((r) => r.label === "spam").length }),
        });
        await ctx.run.logInput(dataset("recent-train", train), "training");
        await ctx.run.logInput(dataset("recent-holdout", holdout), "test");
        await ctx.run.logMetrics({
          logged_rows: logged.length,
          distinct_rows: records.length,
          spam_rows: spam,
          train_rows: train.length,
          holdout_rows: holdout.length,
        });
        ctx.log(`${logged.length} labelled rows, ${records.length} distinct texts (${spam} spam)`);
        return {
          runId: ctx.run.id,
          start_ms,
          end_ms,
          rows: records.length,
          train: train.length,
          holdout: holdout.length,
        };
      },
    }),

    train: step({
      needs: ["collect"],
      retries: 1,
      timeoutMs: 180_000,
      run: async (ctx, { collect }) => {
        const client = ctx.run.client;
        const recent = readJsonl(await readRunArtifact(client, collect.runId, "recent/train.jsonl"));
        const holdout = readJsonl(await readRunArtifact(client, collect.runId, "recent/holdout.jsonl"));
        // the champion's training part of the corpus (the spam example's split), plus the recent examples
        const corpus = loadCorpus();
        const labels = corpus.map((r) => r.label);
        const split = trainTestSplit(corpus.length, { ...CORPUS_SPLIT, stratify: labels });
        const train = [...pick(corpus, split.train), ...recent];
        await ctx.run.logParams({
          ...HYPERPARAMETERS,
          base_corpus: `${SOURCE}@${SOURCE_VERSION} (train split, seed ${CORPUS_SPLIT.seed})`,
          base_rows: split.train.length,
          recent_rows: recent.length,
        });
        const classifier = new TextClassifier(
          new TfidfVectorizer({
            sublinearTf: true,
            minDf: HYPERPARAMETERS.minDf,
            maxFeatures: HYPERPARAMETERS.maxFeatures,
          }),
          new LogisticRegression({ C: HYPERPARAMETERS.C, maxIter: HYPERPARAMETERS.maxIter }),
        );
        const started = performance.now();
        classifier.fit(
          train.map((r) => r.text),
          train.map((r) => r.label),
        );
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const trainSeconds = (performance.now() - started) / 1000;
        const metrics = scores(
          holdout.map((r) => r.label),
          classifier.predict(holdout.map((r) => r.text)),
        );
        await ctx.run.logMetrics({ ...metrics, "system/train_seconds": trainSeconds });
        const pkg = textClassifierPackage(classifier, {
          inputExample: [holdout[0].text.slice(0, 400)],
          metadata: { test_f1: metrics.test_f1, test_accuracy: metrics.test_accuracy },
          // what the traffic looks like now: the monitor's reference once this version is champion
          referenceData: { texts: holdout.map((r) => r.text), labels: holdout.map((r) => r.label) },
        });
        const logged = await logModelPackage(ctx.run, pkg, "model");
        const version = await registerModel(client, logged.modelUri, String(ctx.params.model), {
          tags: { test_f1: String(metrics.test_f1), trigger: ctx.trigger.kind },
        });
        ctx.log(
          `trained on ${split.train.length} corpus + ${recent.length} recent emails in ${trainSeconds.toFixed(1)} s; ` +
            `held-out F1 ${metrics.test_f1.toFixed(4)}; registered version ${version.version}`,
        );
        return {
          runId: ctx.run.id,
          version: version.version,
          modelUri: logged.modelUri,
          rows: train.length,
          recent: recent.length,
          ...metrics,
        };
      },
    }),

    gate: step({
      needs: ["collect", "train"],
      run: async (ctx, { collect, train }) => {
        const client = ctx.run.client;
        const holdout = readJsonl(await readRunArtifact(client, collect.runId, "recent/holdout.jsonl"));
        const name = String(ctx.params.model);
        const report = await runGate({
          client,
          candidate: `models:/${name}/${train.version}`,
          baseline: `models:/${name}@champion`,
          metric: "f1",
          positiveLabel: "spam",
          minDelta: Number(ctx.params.min_delta),
          data: {
            table: tableFromRecords(holdout.map((r) => ({ text: r.text, label: r.label }))),
            source: `${holdout.length} recent labelled emails held out from training (run ${collect.runId})`,
          },
          promote: "challenger",
          onProgress: (line) => ctx.log(line),
        });
        const f1 = report.metrics.find((m) => m.metric === "f1");
        const accuracy = report.metrics.find((m) => m.metric === "accuracy");
        const measured = {
          candidate_f1: f1?.candidate,
          baseline_f1: f1?.baseline,
          candidate_accuracy: accuracy?.candidate,
          baseline_accuracy: accuracy?.baseline,
        };
        await ctx.run.logMetrics(Object.fromEntries(Object.entries(measured).filter(([, v]) => typeof v === "number")));
        await ctx.run.setTags({ "gate.passed": String(report.passed), "gate.verdict": report.verdict });
        ctx.log(report.verdict);
        if (!report.passed) throw new NonRetryableError(`gate failed: ${report.verdict}`);
        return {
          passed: true,
          verdict: report.verdict,
          rows: holdout.length,
          baseline_version: report.baseline?.version ?? null,
          candidate_f1: f1?.candidate ?? null,
          baseline_f1: f1?.baseline ?? null,
        };
      },
    }),

    canary: step({
      needs: ["train", "gate"],
      run: async (ctx, { train }) => {
        const deployments = new DeploymentsClient(ctx.run.client);
        const deployment = await deployments.update(String(ctx.params.deployment), {
          canary: { model_uri: `models:/${ctx.params.model}@challenger`, ...CANARY },
        });
        ctx.log(`canary of version ${train.version} on deployment ${deployment.name} at ${CANARY.weight}%`);
        return { deployment: deployment.name, version: train.version, weight: CANARY.weight };
      },
    }),
  },
});
