#!/usr/bin/env node
// npm run bench:serving — the model server of issue #5 on the spam model (the spam-classifier example's
// settings), over HTTP with wrk: every server pinned to CPU 0, wrk to CPU 1, 32 connections, one email per
// request and 32 emails per request. Side by side in one run:
//   - bare:    a bare Fastify handler running the same model (the ceiling: no validation, batching, metrics);
//   - slipway: `slipway serve` (MLflow /invocations: signature validation, batching, metrics);
//   - fastapi: FastAPI + scikit-learn, one uvicorn worker (where Debian's python3-fastapi, python3-uvicorn
//              and python3-sklearn are installed).
// Then, in-process, the overhead of the server's predict path over a bare onnxruntime `session.run`.
// Needs wrk and taskset (Debian: wrk, util-linux). BENCH_QUICK=1: 3 s per run instead of 10.
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import {
  LogisticRegression,
  TextClassifier,
  TfidfVectorizer,
  parseMLmodel,
  textClassifierPackage,
  trainTestSplit,
} from "../packages/ml/dist/index.js";
import { saveModelPackage } from "../packages/sdk/dist/index.js";
import { InferenceMetrics, ServedModel, builtinPredictors } from "../packages/inference/dist/index.js";
import { writeOnnxPackage } from "../packages/inference/dist/testing/onnx-package.js";
import { loadCorpus } from "../examples/spam-classifier/corpus.mjs";

const QUICK = process.env.BENCH_QUICK === "1";
const DURATION = QUICK ? 3 : 10;
const CONNECTIONS = 32;
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const CLI = here("../packages/cli/bin/slipway.js");
const PY = "/usr/bin/python3";

for (const tool of ["wrk", "taskset"]) {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
    console.error(`bench:serving needs ${tool} (apt-get install ${tool === "wrk" ? "wrk" : "util-linux"})`);
    process.exit(1);
  }
}

// the model: the example's split and settings
const corpus = loadCorpus();
const split = trainTestSplit(corpus.length, { testSize: 0.2, seed: 42, stratify: corpus.map((r) => r.label) });
const train = Array.from(split.train, (i) => corpus[i]);
const test = Array.from(split.test, (i) => corpus[i]);
const SETTINGS = { C: 30, max_iter: 300, min_df: 2 };
const classifier = new TextClassifier(
  new TfidfVectorizer({ sublinearTf: true, minDf: SETTINGS.min_df }),
  new LogisticRegression({ C: SETTINGS.C, maxIter: SETTINGS.max_iter }),
).fit(
  train.map((r) => r.text),
  train.map((r) => r.label),
);
const scratch = await mkdtemp(join(tmpdir(), "slipway-bench-serving-"));
const pkgDir = join(scratch, "model");
await saveModelPackage(pkgDir, textClassifierPackage(classifier));
const trainFile = join(scratch, "train.json");
await writeFile(
  trainFile,
  JSON.stringify({ texts: train.map((r) => r.text), labels: train.map((r) => r.label), ...SETTINGS }),
);

// request bodies: a median-length test email, and 32 consecutive test emails
const byLength = [...test].sort((a, b) => a.text.length - b.text.length);
const one = [byLength[Math.floor(byLength.length / 2)].text];
const batch = test.slice(100, 132).map((r) => r.text);
const bodies = {
  simple: (texts) => JSON.stringify({ texts }),
  mlflow: (texts) => JSON.stringify({ dataframe_split: { columns: ["text"], data: texts.map((t) => [t]) } }),
};
console.log(
  `model: ${classifier.nFeatures} features; one email ${one[0].length} chars (${Buffer.byteLength(bodies.mlflow(one))} B), ` +
    `32 emails ${Buffer.byteLength(bodies.mlflow(batch))} B; ${CONNECTIONS} connections, ${DURATION} s per run`,
);

let nextPort = 18900;
async function startServer(name, argv, readyPattern) {
  const child = spawn("taskset", ["-c", "0", ...argv], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  await new Promise((resolve, reject) => {
    const onData = (c) => {
      out += c.toString();
      if (readyPattern.test(out)) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error(`${name} did not start in 120 s: ${out}`)), 120_000).unref();
  });
  return {
    async stop() {
      process.kill(-child.pid, "SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
    },
  };
}

function wrk(url, body, seconds) {
  const script = join(scratch, `post-${Math.random().toString(36).slice(2)}.lua`);
  spawnSync("sh", ["-c", `cat > ${script}`], {
    input: `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[${body}]==]\n`,
  });
  const r = spawnSync(
    "taskset",
    ["-c", "1", "wrk", "-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", "-s", script, url],
    {
      encoding: "utf8",
    },
  );
  const out = r.stdout;
  const ms = (label) => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(out);
    if (!m) return NaN;
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const errors =
    Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) +
    Number(/Socket errors: connect (\d+)/.exec(out)?.[1] ?? 0);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN), p50: ms(50), p99: ms(99), errors };
}

async function measure(name, server, url, encode) {
  const results = {};
  for (const [scenario, texts] of [
    ["one", one],
    ["batch", batch],
  ]) {
    const body = encode(texts);
    wrk(url, body, 2); // warm-up
    results[scenario] = wrk(url, body, DURATION);
  }
  await server.stop();
  console.log(`measured ${name}`);
  return results;
}

const rows = [];
{
  const port = nextPort++;
  const server = await startServer(
    "bare",
    [process.execPath, here("./serving-bare.mjs"), join(pkgDir, "pipeline.json"), String(port)],
    /ready/,
  );
  rows.push([
    "bare Fastify handler (ceiling)",
    await measure("bare", server, `http://127.0.0.1:${port}/predict`, bodies.simple),
  ]);
}
{
  const port = nextPort++;
  const server = await startServer(
    "slipway",
    [process.execPath, CLI, "serve", pkgDir, "--port", String(port), "--name", "spam"],
    /listening on/,
  );
  rows.push([
    "slipway serve (/invocations)",
    await measure("slipway", server, `http://127.0.0.1:${port}/invocations`, bodies.mlflow),
  ]);
}
{
  // the same server computing every batch on its event loop (before prediction threads)
  const port = nextPort++;
  const server = await startServer(
    "slipway-inline",
    [process.execPath, CLI, "serve", pkgDir, "--port", String(port), "--name", "spam", "--predict-threads", "0"],
    /listening on/,
  );
  rows.push([
    "slipway serve --predict-threads 0",
    await measure("slipway-inline", server, `http://127.0.0.1:${port}/invocations`, bodies.mlflow),
  ]);
}
if (spawnSync(PY, ["-c", "import fastapi, uvicorn, sklearn"]).status === 0) {
  const port = nextPort++;
  const server = await startServer(
    "fastapi",
    [PY, here("./serving_fastapi.py"), trainFile, String(port)],
    /Uvicorn running|ready/,
  );
  await new Promise((r) => setTimeout(r, 500));
  rows.push([
    "FastAPI + scikit-learn (1 uvicorn worker)",
    await measure("fastapi", server, `http://127.0.0.1:${port}/predict`, bodies.simple),
  ]);
} else {
  console.log(
    "FastAPI baseline skipped: /usr/bin/python3 lacks fastapi, uvicorn or sklearn (apt-get install python3-fastapi python3-uvicorn python3-sklearn)",
  );
}

// in-process: the server's predict path against a bare session.run, one row of an ONNX model
const onnx = await writeOnnxPackage();
const session = await ort.InferenceSession.create(join(onnx.dir, "model.onnx"));
const { readFileSync } = await import("node:fs");
const predictor = await builtinPredictors().load(
  onnx.dir,
  parseMLmodel(readFileSync(join(onnx.dir, "MLmodel"), "utf8")),
);
const model = new ServedModel({
  name: "iris",
  version: "1",
  predictor,
  hooks: new InferenceMetrics({ defaultMetrics: false }).modelHooks(),
});
await model.start();
const row = [1, 0.5, 0.25, 2];
const N = QUICK ? 5000 : 30000;
const bareTimes = [];
const fullTimes = [];
for (let i = 0; i < N; i++) {
  let t = performance.now();
  await session.run({ input: new ort.Tensor("float32", Float32Array.from(row), [1, 4]) });
  bareTimes.push(performance.now() - t);
  t = performance.now();
  await model.predict({ form: "rows", rows: [row] });
  fullTimes.push(performance.now() - t);
}
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * xs.length)];
await model.close();
await session.release();
await onnx.remove();
await rm(scratch, { recursive: true, force: true });

const fastapi = rows.find(([n]) => n.startsWith("FastAPI"))?.[1];
const bare = rows[0][1];
const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "–");
const header = [
  "server",
  "1 email req/s",
  "p50 ms",
  "p99 ms",
  "32 emails req/s",
  "p50 ms",
  "p99 ms",
  "vs bare",
  "vs FastAPI",
  "errors",
];
const cells = rows.map(([name, r]) => [
  name,
  f(r.one.rps),
  f(r.one.p50, 2),
  f(r.one.p99, 2),
  f(r.batch.rps),
  f(r.batch.p50, 1),
  f(r.batch.p99, 1),
  `${f(r.one.rps / bare.one.rps, 2)}× / ${f(r.batch.rps / bare.batch.rps, 2)}×`,
  fastapi ? `${f(r.one.rps / fastapi.one.rps, 1)}× / ${f(r.batch.rps / fastapi.batch.rps, 1)}×` : "",
  String(r.one.errors + r.batch.errors),
]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n${cells.map(line).join("\n")}`);
console.log("(ratios: one email / 32 emails, requests per second)");
const us = (x) => `${(x * 1000).toFixed(1)} µs`;
console.log(
  `\nONNX, 1 row, in-process (${N} calls): session.run p50 ${us(q(bareTimes, 0.5))} p99 ${us(q(bareTimes, 0.99))}; ` +
    `server path p50 ${us(q(fullTimes, 0.5))} p99 ${us(q(fullTimes, 0.99))}; overhead p50 ${us(q(fullTimes, 0.5) - q(bareTimes, 0.5))}`,
);
