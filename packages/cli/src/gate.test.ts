/**
 * End to end: `slipway gate` as a child process against a real `slipway server`, with two text
 * classifiers of different quality trained by `@slipway/ml` and registered as `spam` v1 (weak: a few
 * rows, noisy labels) and v2 (strong), each package holding held-out reference data. A gate that passes,
 * one that fails (exit 1), no baseline, `--promote` (the alias moves, the reason is in the alias
 * history), the latency rule, significance, and every usage error (exit 2).
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  LogisticRegression,
  Random,
  TextClassifier,
  TfidfVectorizer,
  exportLinearModelToOnnx,
  onnxFlavors,
  onnxSignature,
  textClassifierPackage,
  writeMLmodel,
  type LinearModelParams,
} from "@slipway/ml";
import {
  Slipway,
  TrackingClient,
  aliasHistory,
  logModel,
  logModelPackage,
  saveModelPackage,
  setAlias,
  type ActiveRun,
} from "@slipway/sdk";
import { runSlipway, startServerProcess, type Result, type ServerProcess } from "./testing/harness.js";

const SPAM = ["free", "prize", "win", "money", "click", "offer", "cash", "winner", "urgent", "bonus", "credit", "deal"];
const HAM = [
  "meeting",
  "report",
  "monday",
  "lunch",
  "project",
  "review",
  "team",
  "notes",
  "budget",
  "agenda",
  "invoice",
];
const COMMON = ["the", "a", "please", "today", "now", "you", "we", "this", "for", "our"];

interface Email {
  text: string;
  label: "spam" | "ham";
}

/** Emails of 8 words: half from their class's words, a fifth from the other class's (so no model is perfect). */
function emails(n: number, random: Random): Email[] {
  const pick = (words: readonly string[]) => words[random.int(words.length)]!;
  return Array.from({ length: n }, () => {
    const label = random.next() < 0.4 ? "spam" : "ham";
    const own = label === "spam" ? SPAM : HAM;
    const other = label === "spam" ? HAM : SPAM;
    const words = Array.from({ length: 8 }, () => {
      const u = random.next();
      return pick(u < 0.45 ? own : u < 0.75 ? COMMON : other);
    });
    return { text: words.join(" "), label };
  });
}

function train(rows: readonly Email[]): TextClassifier {
  return new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 })).fit(
    rows.map((r) => r.text),
    rows.map((r) => r.label),
  );
}

/** An ONNX linear regressor y = w · x (MLflow's `onnx` flavor, a float32 [-1, 2] tensor in). */
async function writeRegressor(dir: string, weights: [number, number]): Promise<void> {
  const params: LinearModelParams = {
    link: "identity",
    nFeatures: 2,
    nOutputs: 1,
    weights: Float64Array.from(weights),
    bias: Float64Array.from([0]),
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "model.onnx"), exportLinearModelToOnnx(params));
  await writeFile(
    join(dir, "MLmodel"),
    writeMLmodel({ flavors: onnxFlavors({ onnxVersion: "1.16.1" }), signature: onnxSignature(params) }),
  );
}

let server: ServerProcess;
let client: TrackingClient;
let run: ActiveRun;
let env: Record<string, string>;
const work = (name: string) => join(server.dir, "work", name);

function gate(args: readonly string[]): Promise<Result> {
  return runSlipway(["gate", ...args], env);
}

before(async () => {
  server = await startServerProcess("slipway-gate-");
  client = new TrackingClient({ trackingUri: server.url, maxRetries: 0 });
  env = { SLIPWAY_TRACKING_URI: server.url, SLIPWAY_MODEL_CACHE: join(server.dir, "cache") };
  await mkdir(join(server.dir, "work"));
  const random = new Random(7);
  const test = emails(240, random);
  // v1: 14 rows with a third of the labels flipped; v2: 400 clean rows
  const weak = emails(14, random).map((e, i) =>
    i % 3 === 0 ? { ...e, label: e.label === "spam" ? ("ham" as const) : ("spam" as const) } : e,
  );
  const strong = emails(400, random);
  const referenceData = { texts: test.map((e) => e.text), labels: test.map((e) => e.label) };
  run = await new Slipway({ client, handleProcessExit: false }).startRun({
    experiment: "gate",
    captureEnvironment: false,
  });
  await logModelPackage(run, textClassifierPackage(train(weak), { referenceData }), "weak", {
    registeredModelName: "spam",
  });
  await logModelPackage(run, textClassifierPackage(train(strong), { referenceData }), "strong", {
    registeredModelName: "spam",
  });
  // the same model reading a `body` column: a different signature
  await logModelPackage(run, textClassifierPackage(train(strong), { inputColumn: "body" }), "body", {
    registeredModelName: "spam-body",
  });
  // a package on the local disk (not registered) without reference data
  await saveModelPackage(work("local-model"), textClassifierPackage(train(strong)));
  // price v1 is y = x1 + x2, v2 is y = 2·x1 + 3·x2, the truth (with noise)
  await writeRegressor(work("price-v1"), [1, 1]);
  await writeRegressor(work("price-v2"), [2, 3]);
  await logModel(run, work("price-v1"), "price-v1", { registeredModelName: "price" });
  await logModel(run, work("price-v2"), "price-v2", { registeredModelName: "price" });
  await run.end();
  await setAlias(client, "spam", "champion", 1);
  await setAlias(client, "spam", "prod", 1);
  const csv = ["text,label", ...test.map((e) => `${e.text},${e.label}`)];
  await writeFile(work("test.csv"), `${csv.join("\n")}\n`);
  await writeFile(work("notes.txt"), "not data\n");
  await writeFile(work("numbers.csv"), "text,label\n1,spam\n2,ham\n");
  await writeFile(work("unlabelled.csv"), "text,label\nfree prize,spam\nmeeting monday,\n");
  const prices = Array.from({ length: 100 }, () => {
    const [x1, x2] = [random.next() * 10, random.next() * 10];
    return `${x1},${x2},${2 * x1 + 3 * x2 + random.normal() * 0.5}`;
  });
  await writeFile(work("prices.csv"), `x1,x2,y\n${prices.join("\n")}\n`);
});

after(async () => {
  await run?.end().catch(() => undefined);
  await server?.stop();
});

describe("slipway gate", () => {
  it("passes a better candidate: every metric, the delta's interval and the verdict", async () => {
    const r = await gate([
      "--candidate",
      "models:/spam/2",
      "--baseline",
      "models:/spam@champion",
      "--metric",
      "f1",
      "--min-delta",
      "0.005",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /candidate: models:\/spam\/2 \(slipway\/text-classifier\)/);
    assert.match(r.stdout, /baseline: +models:\/spam@champion → models:\/spam\/1/);
    assert.match(r.stdout, /data: +reference_data\.jsonl of models:\/spam\/2: 240 rows/);
    assert.match(r.stdout, /metric: +f1 \(macro over 2 labels; higher is better\)/);
    for (const metric of ["accuracy", "precision", "recall", "f1 \\*", "roc_auc", "log_loss"]) {
      assert.match(r.stdout, new RegExp(`^${metric} +\\d\\.\\d{4} +\\d\\.\\d{4} +[+-]\\d`, "m"), metric);
    }
    assert.match(r.stdout, /^f1 \* .*\+0\.\d{4} \(95% CI \[\+0\.\d{4}, \+0\.\d{4}\]\) +Δ ≥ \+0\.005 +pass$/m);
    assert.match(r.stdout, /paired bootstrap of the delta \(1000 of 1000 resamples, seed 42\)/);
    assert.match(r.stdout, /note: the rows are the candidate's own held-out reference data/);
    assert.match(r.stdout, /✓ PASS on 240 rows: f1 Δ \+0\.\d+ \(95% CI .*\) ≥ \+0\.005$/m);
    assert.match(r.stderr, /loading models:\/spam\/2 as 'candidate'/);
  });

  it("fails a worse candidate with exit 1, as a JSON document too", async () => {
    const args = ["--candidate", "models:/spam/1", "--baseline", "models:/spam/2", "--metric", "f1"];
    const text = await gate(args);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /^f1 \* .* +Δ ≥ \+0 +FAIL$/m);
    assert.match(text.stdout, /✗ FAIL on 240 rows: f1 Δ -0\.\d{4} \(95% CI \[-0\.\d+, -0\.\d+\]\) < \+0$/m);
    assert.match(text.stdout, /^not promoted$/m);
    assert.match(text.stderr, /slipway: gate failed: f1 Δ -0\./);

    const json = await gate([...args, "--json", "--seed", "3"]);
    assert.equal(json.code, 1, json.stderr);
    const doc = JSON.parse(json.stdout) as {
      passed: boolean;
      candidate: { pinned_uri: string; version: string };
      baseline: { version: string };
      data: { rows: number; from_candidate_package: boolean };
      metrics: { metric: string; gated: boolean; delta: number; ci?: { low: number; high: number; seed: number } }[];
      checks: { kind: string; pass: boolean }[];
      promotion: unknown;
    };
    assert.equal(doc.passed, false);
    assert.equal(doc.candidate.pinned_uri, "models:/spam/1");
    assert.equal(doc.baseline.version, "2");
    assert.deepEqual(doc.data, { ...doc.data, rows: 240, from_candidate_package: true });
    const f1 = doc.metrics.find((m) => m.gated)!;
    assert.equal(f1.metric, "f1");
    assert.ok(f1.delta < 0 && f1.ci!.low <= f1.delta && f1.delta <= f1.ci!.high, JSON.stringify(f1));
    assert.equal(f1.ci!.seed, 3);
    assert.deepEqual(
      doc.checks.map((c) => [c.kind, c.pass]),
      [["delta", false]],
    );
    assert.equal(doc.promotion, null);
  });

  it("gates on a data file with a positive label, and requires significance when asked", async () => {
    const significant = await gate([
      "--candidate",
      "models:/spam/2",
      "--baseline",
      "models:/spam/1",
      "--metric",
      "recall",
      "--positive-label",
      "spam",
      "--data",
      work("test.csv"),
      "--require-significant",
    ]);
    assert.equal(significant.code, 0, significant.stdout + significant.stderr);
    assert.match(significant.stdout, /data: +.*test\.csv: 240 rows/);
    assert.match(significant.stdout, /metric: +recall \(binary, positive label "spam"; higher is better\)/);
    assert.match(significant.stdout, /Δ ≥ \+0, CI lower bound > \+0 +pass/);
    assert.doesNotMatch(significant.stdout, /reference data/);

    // the same model twice: Δ 0, an interval of [0, 0], which does not clear 0
    const same = await gate([
      "--candidate",
      "models:/spam/2",
      "--baseline",
      "models:/spam/2",
      "--metric",
      "accuracy",
      "--require-significant",
    ]);
    assert.equal(same.code, 1, same.stdout + same.stderr);
    assert.match(same.stdout, /note: the candidate and the baseline are the same model \(models:\/spam\/2\)/);
    assert.match(same.stdout, /FAIL on 240 rows: CI lower bound \+0\.0000 ≤ \+0 \(not significant\)$/m);
  });

  it("passes without a baseline, or on --min-value alone, and can promote the first one", async () => {
    const none = await gate([
      "--candidate",
      "models:/spam/1",
      "--baseline",
      "models:/spam@challenger",
      "--metric",
      "f1",
    ]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /baseline: +models:\/spam@challenger \(does not exist yet\)/);
    assert.match(none.stdout, /^f1 \* +- +\d\.\d{4} +- +no baseline +pass$/m);
    assert.match(
      none.stdout,
      /PASS on 240 rows: no baseline \(models:\/spam@challenger does not exist yet\): f1 0\.\d{4}$/m,
    );

    const floor = await gate([
      "--candidate",
      "models:/spam/1",
      "--baseline",
      "models:/spam@challenger",
      "--metric",
      "f1",
      "--min-value",
      "0.99",
    ]);
    assert.equal(floor.code, 1, floor.stderr);
    assert.match(floor.stdout, /FAIL on 240 rows: f1 0\.\d{4} < 0\.99$/m);

    // the first challenger: promoted with no baseline to beat
    const first = await gate([
      "--candidate",
      "models:/spam/1",
      "--baseline",
      "models:/spam@challenger",
      "--metric",
      "f1",
      "--promote",
      "challenger",
    ]);
    assert.equal(first.code, 0, first.stderr);
    const { history } = await aliasHistory(client, { name: "spam", alias: "challenger" });
    assert.equal(history[0]?.to_version, "1");
    assert.match(
      history[0]?.reason ?? "",
      /^gate: no baseline \(models:\/spam@challenger does not exist yet\); f1 0\.\d{4} on 240 rows of the candidate's reference data$/,
    );
  });

  it("--promote moves the alias to a passing candidate, with the reason in the alias history", async () => {
    // a failing candidate leaves the alias where it is
    const kept = await gate([
      "--candidate",
      "models:/spam/1",
      "--baseline",
      "models:/spam/2",
      "--metric",
      "f1",
      "--promote",
      "prod",
    ]);
    assert.equal(kept.code, 1, kept.stderr);
    let model = (await client.getRegisteredModel({ name: "spam" })).registered_model;
    assert.equal(model.aliases?.find((a) => a.alias === "prod")?.version, "1");

    const promoted = await gate([
      "--candidate",
      "models:/spam/2",
      "--baseline",
      "models:/spam@prod",
      "--metric",
      "f1",
      "--min-delta",
      "0.005",
      "--promote",
      "prod",
    ]);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, /promoted: models:\/spam@prod → v2 \(was v1\); reason: gate: f1 \+0\.\d{4}/);
    model = (await client.getRegisteredModel({ name: "spam" })).registered_model;
    assert.equal(model.aliases?.find((a) => a.alias === "prod")?.version, "2");
    const { history } = await aliasHistory(client, { name: "spam", alias: "prod" });
    const move = history[0]!;
    assert.equal(move.from_version, "1");
    assert.equal(move.to_version, "2");
    assert.match(
      move.reason ?? "",
      /^gate: f1 \+0\.\d{4} \(95% CI \[\+0\.\d{4}, \+0\.\d{4}\]\) on 240 rows of the candidate's reference data, vs v1 \(models:\/spam@prod\)$/,
    );
  });

  it("measures single-row latency of both models and fails above --max-latency-p99", async () => {
    const base = ["--candidate", "models:/spam/2", "--baseline", "models:/spam/1", "--metric", "f1"];
    const fast = await gate([...base, "--max-latency-p99", "10s", "--latency-requests", "100"]);
    assert.equal(fast.code, 0, fast.stderr);
    assert.match(fast.stdout, /latency: +100 single-row requests per model/);
    assert.match(fast.stdout, /^latency p50 \(ms\) +\d+\.\d+ +\d+\.\d+ +[+-]\d+\.\d+ *$/m);
    assert.match(fast.stdout, /^latency p99 \(ms\) +\d+\.\d+ +\d+\.\d+ +[+-]\d+\.\d+ +p99 ≤ 10000 ms +pass$/m);

    const slow = await gate([...base, "--max-latency-p99", "0.0001ms", "--latency-requests", "50", "--json"]);
    assert.equal(slow.code, 1, slow.stderr);
    const doc = JSON.parse(slow.stdout) as {
      latency: { requests: number; max_p99_ms: number; candidate: { p99_ms: number }; baseline: { p50_ms: number } };
      checks: { kind: string; pass: boolean }[];
    };
    assert.equal(doc.latency.requests, 50);
    assert.equal(doc.latency.max_p99_ms, 0.0001);
    assert.ok(doc.latency.candidate.p99_ms > 0.0001 && doc.latency.baseline.p50_ms > 0);
    assert.deepEqual(
      doc.checks.map((c) => [c.kind, c.pass]),
      [
        ["delta", true],
        ["latency_p99", false],
      ],
    );
    assert.match(slow.stderr, /gate failed: p99 \d+\.\d+ ms > 0\.0001 ms/);
  });

  it("gates regressors on a lower-is-better metric", async () => {
    const price = ["--candidate", "models:/price/2", "--baseline", "models:/price/1", "--data", work("prices.csv")];
    const r = await gate([...price, "--metric", "rmse", "--min-delta", "0.1", "--label-column", "y"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /candidate: models:\/price\/2 \(onnx\)/);
    assert.match(r.stdout, /metric: +rmse \(lower is better\)/);
    assert.match(
      r.stdout,
      /^rmse \* +\d+\.\d{4} +0\.\d{4} +-\d+\.\d{4} \(95% CI \[-\d+\.\d{4}, -\d+\.\d{4}\]\) +Δ ≤ -0\.1 +pass$/m,
    );
    assert.match(r.stdout, /^mae +\d+\.\d{4} +0\.\d{4} +-/m);
    assert.match(r.stdout, /^r2 +-?\d\.\d{4} +0\.9\d{3} +\+/m);
    assert.match(r.stdout, /PASS on 100 rows: rmse Δ -\d+\.\d{4} .* ≤ -0\.1$/m);

    const f1 = await gate([...price, "--metric", "f1", "--label-column", "y"]);
    assert.equal(f1.code, 2, f1.stdout + f1.stderr);
    assert.match(f1.stderr, /--metric f1 does not apply: the models are regressors \(metrics: rmse, mae, r2\)/);
  });

  it("refuses bad usage with exit 2 and a precise message", async () => {
    const good = ["--candidate", "models:/spam/2", "--baseline", "models:/spam@champion"];
    const cases: [string[], RegExp][] = [
      [
        ["--candidate", "models:/spam", "--metric", "f1"],
        /--candidate: Invalid model URI 'models:\/spam': it names a model but no version/,
      ],
      [
        ["--candidate", "models:/spam/99", "--metric", "f1"],
        /--candidate: Cannot resolve model URI 'models:\/spam\/99'/,
      ],
      [
        ["--candidate", "models:/spam/2", "--baseline", "models:/nope@champion", "--metric", "f1"],
        /--baseline models:\/nope@champion: there is no registered model 'nope'/,
      ],
      [["--candidate", "models:/spam/2", "--baseline", "spam@champion", "--metric", "f1"], /--baseline: /],
      [
        [...good, "--metric", "f1", "--label-column", "truth"],
        /has no label column 'truth' \(its columns: text, label, prediction\); name it with --label-column/,
      ],
      [
        [...good, "--metric", "rmse"],
        /--metric rmse does not apply: the models are classifiers \(metrics: accuracy, precision, recall, f1, roc_auc, log_loss\)/,
      ],
      [
        [...good, "--metric", "auc"],
        /--metric: 'auc' is not one of accuracy, precision, recall, f1, roc_auc, log_loss, rmse, mae, r2/,
      ],
      [[...good, "--metric", "f1", "--data", work("missing.csv")], /missing\.csv: no such file/],
      [
        [...good, "--metric", "f1", "--data", work("notes.txt")],
        /notes\.txt: cannot tell the format from the extension '\.txt'/,
      ],
      [
        [...good, "--metric", "f1", "--data", work("numbers.csv")],
        /rows 0–1 of .*numbers\.csv do not fit models:\/spam\/2: .*'text'/,
      ],
      [
        [...good, "--metric", "f1", "--data", work("unlabelled.csv")],
        /unlabelled\.csv: row 1 has no value in the label column 'label': every row needs its true label/,
      ],
      [
        [...good, "--metric", "f1", "--positive-label", "eggs"],
        /--positive-label: 'eggs' is not a label of the data or the models \(labels: ham, spam\)/,
      ],
      [[...good, "--metric", "f1", "--min-delta", "lots"], /--min-delta: 'lots' is not a number/],
      [[...good, "--metric", "f1", "--max-latency-p99", "fast"], /--max-latency-p99: 'fast' is not a duration/],
      [[...good, "--metric", "f1", "--latency-requests", "0"], /--latency-requests: '0' is not a whole number ≥ 1/],
      [[...good, "--metric", "f1", "--promote", "v3"], /--promote: 'v3' is not an alias name/],
      [
        ["--candidate", "models:/spam/2", "--metric", "f1", "--require-significant"],
        /--require-significant compares with a baseline/,
      ],
      [
        ["--candidate", work("local-model"), "--metric", "f1"],
        /has no reference data \(reference_data\.jsonl\) to evaluate on: give the rows with --data FILE/,
      ],
      [
        ["--candidate", work("local-model"), "--metric", "f1", "--data", work("test.csv"), "--promote", "champion"],
        /--promote needs a registered candidate/,
      ],
      [
        [
          "--candidate",
          "models:/spam-body/1",
          "--baseline",
          "models:/spam/2",
          "--metric",
          "f1",
          "--data",
          work("test.csv"),
        ],
        /different input signatures: models:\/spam-body\/1 takes body \(string\), models:\/spam\/2 takes text \(string\)/,
      ],
      [
        ["--candidate", "models:/spam/2", "--metric", "f1", "--format", "csv"],
        /--format and --types describe the --data file/,
      ],
      [["--baseline", "models:/spam/2", "--metric", "f1"], /required option '--candidate <uri>' not specified/],
    ];
    const results = await Promise.all(cases.map(([args]) => gate(args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.equal(r.stdout, "", args.join(" "));
    });
  });
});
