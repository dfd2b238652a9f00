/**
 * End to end: a text classifier package with reference data, registered and served by `slipway serve`
 * (inference logging on); `slipway simulate-traffic` sends label-shifted traffic and its labels; the
 * control plane's inference log then holds every request with its true label joined.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LogisticRegression, TextClassifier, TfidfVectorizer, textClassifierPackage } from "@slipway/ml";
import { Slipway, TrackingClient, logModelPackage, registerModel, setAlias } from "@slipway/sdk";
import { BIN, runSlipway, startServerProcess, type ServerProcess } from "./testing/harness.js";
import { driftSampler } from "./commands/simulate-traffic.js";

const SPAM = ["cheap pills buy now", "win a free prize today", "limited offer click here", "free money claim now"];
const HAM = ["meeting moved to tuesday", "see the attached report", "lunch at noon tomorrow", "notes from the review"];

function corpus(n: number): { texts: string[]; labels: string[] } {
  const texts: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const spam = i % 10 < 3; // 30% spam
    const pool = spam ? SPAM : HAM;
    texts.push(`${pool[i % 4]!} ${pool[(i * 7 + 1) % 4]!} #${i}`);
    labels.push(spam ? "spam" : "ham");
  }
  return { texts, labels };
}

let tracking: ServerProcess;
let serve: ChildProcess;
let url: string;

function startServe(args: readonly string[], env: Record<string, string>): Promise<string> {
  serve = spawn(process.execPath, [BIN, "serve", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  return new Promise((resolve, reject) => {
    serve.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    serve.once("exit", (code) => reject(new Error(`slipway serve exited with ${code}: ${stdout}`)));
  });
}

before(async () => {
  tracking = await startServerProcess("slipway-simulate-");
  const client = new TrackingClient({ trackingUri: tracking.url, maxRetries: 0 });
  const slipway = new Slipway({ client, handleProcessExit: false });
  const run = await slipway.startRun({ experiment: "simulate", captureEnvironment: false });
  const { texts, labels } = corpus(400);
  const classifier = new TextClassifier(new TfidfVectorizer(), new LogisticRegression({ C: 10 }));
  classifier.fit(texts, labels);
  const pkg = textClassifierPackage(classifier, { onnxHead: false, referenceData: { texts, labels } });
  const logged = await logModelPackage(run, pkg, "model");
  await registerModel(client, logged.modelUri, "spam");
  await setAlias(client, "spam", "champion", 1);
  await run.end();
  url = await startServe(["models:/spam@champion", "--port", "0", "--tracking-uri", tracking.url], {
    SLIPWAY_MODEL_CACHE: join(tracking.dir, "cache"),
  });
});

after(async () => {
  if (serve && serve.exitCode === null && serve.signalCode === null) {
    serve.kill("SIGTERM");
    await new Promise((r) => serve.once("exit", r));
  }
  await tracking.stop();
});

interface Summary {
  reference: { rows: number };
  prediction_drift: { columns: { column: string; test: string; drift: boolean }[] };
}

interface Logged {
  records: { request_id: string; inputs: { text: string }; outputs: { label: string }; label?: string }[];
  next_page_token?: string;
}

async function loggedRecords(expected: number): Promise<Logged["records"]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(
      `${tracking.url}/api/2.0/slipway/inference-log/search?model_name=spam&max_results=10000`,
    );
    const body = (await response.json()) as Logged;
    const labelled = body.records.filter((r) => r.label !== undefined);
    if (labelled.length >= expected || Date.now() > deadline) return body.records;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("slipway simulate-traffic", () => {
  it("sends label-shifted traffic to the model server and the labels to the feedback endpoint", async () => {
    const result = await runSlipway(
      [
        "simulate-traffic",
        "--model",
        "models:/spam@champion",
        "--url",
        url,
        "--tracking-uri",
        tracking.url,
        "--drift",
        "label",
        "--requests",
        "120",
        "--rate",
        "400",
        "--json",
      ],
      { SLIPWAY_MODEL_CACHE: join(tracking.dir, "cache-sim") },
    );
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { ok: number; failed: number; labels_sent: number };
    assert.deepEqual([summary.ok, summary.failed, summary.labels_sent], [120, 0, 120]);
    const records = await loggedRecords(120);
    assert.equal(records.length, 120);
    assert.ok(records.every((r) => r.label === "spam" || r.label === "ham"));
    // prior shift: 80% of the rows come from the reference's rarest label (spam, 30% of the reference)
    const spamShare = records.filter((r) => r.label === "spam").length / records.length;
    assert.ok(spamShare > 0.65 && spamShare < 0.95, `spam share ${spamShare}`);
    // the model is right on these easy texts: its logged predictions agree with the labels
    const correct = records.filter((r) => r.outputs.label === r.label).length;
    assert.ok(correct / records.length > 0.95, `accuracy ${correct / records.length}`);
  });

  it("a monitor on the served alias sees the label shift in the predictions, and the accuracy", async () => {
    const env = { SLIPWAY_TRACKING_URI: tracking.url };
    const created = await runSlipway(
      [
        "monitor",
        "create",
        "--name",
        "spam-live",
        "--model",
        "models:/spam@champion",
        "--window",
        "1h",
        "--schedule",
        "0 * * * *",
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const ran = await runSlipway(["monitor", "run", "spam-live", "--json"], env);
    assert.equal(ran.code, 0, ran.stderr);
    const window = JSON.parse(ran.stdout) as {
      status: string;
      rows: number;
      labelled: number;
      metrics: { accuracy?: number };
    };
    assert.equal(window.status, "ok");
    assert.equal(window.rows, 120);
    assert.equal(window.labelled, 120);
    assert.ok(window.metrics.accuracy! > 0.95, `accuracy ${window.metrics.accuracy}`);
    const detail = await fetch(`${tracking.url}/api/2.0/slipway/monitors/spam-live/windows/latest`);
    const summary = ((await detail.json()) as { window: { summary: Summary } }).window.summary;
    const predicted = summary.prediction_drift.columns.find((c) => c.column === "prediction.label")!;
    assert.equal(predicted.test, "chi2");
    assert.equal(predicted.drift, true, "30% spam in the reference, 80% in the traffic");
    assert.equal(summary.reference.rows, 400);
  });

  it("refuses bad flags with precise messages", async () => {
    const cases: [string[], RegExp][] = [
      [["--drift", "sideways"], /--drift: 'sideways' is not one of none, covariate, label, concept/],
      [["--rate", "0"], /--rate: '0' is not a number > 0/],
      [["--batch", "1.5"], /--batch: '1.5' is not a positive integer/],
      [["--url", "::"], /--url: '::' is not a URL/],
      [[], /give --model URI \(its reference_data.jsonl\) or --data FILE/],
    ];
    for (const [flags, message] of cases) {
      const bad = await runSlipway(["simulate-traffic", "--url", url, ...flags]);
      assert.equal(bad.code, 2, `${flags.join(" ")}: ${bad.stderr}`);
      assert.match(bad.stderr, message);
    }
  });
});

describe("driftSampler", () => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({ x: i, label: i % 10 < 3 ? "a" : "b" }));
  const draw = (drift: "none" | "covariate" | "label" | "concept", n = 4000) => {
    let s = 1;
    const random = () => ((s = (s * 16807) % 2147483647) - 1) / 2147483646;
    const sample = driftSampler(rows, { drift, labelColumn: "label", random });
    return Array.from({ length: n }, sample);
  };
  const share = (xs: { label: unknown }[], label: string) => xs.filter((d) => d.label === label).length / xs.length;

  it("none keeps the reference's distribution; covariate selects on the inputs", () => {
    const none = draw("none");
    assert.ok(Math.abs(share(none, "a") - 0.3) < 0.03);
    assert.ok(none.every((d) => !("label" in d.inputs)));
    const covariate = draw("covariate");
    assert.ok(covariate.every((d) => (d.inputs.x as number) >= 700));
    assert.ok(Math.abs(share(covariate, "a") - 0.3) < 0.04, "P(label | x) unchanged");
  });

  it("label shifts the prior to the rarest label; concept relabels 30% of the commonest", () => {
    assert.ok(Math.abs(share(draw("label"), "a") - 0.8) < 0.03);
    const concept = draw("concept");
    // inputs as in the reference; 30% of the b rows (70%) are labelled a: 0.3 + 0.21
    assert.ok(Math.abs(share(concept, "a") - 0.51) < 0.03);
  });
});
