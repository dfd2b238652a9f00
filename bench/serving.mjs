#!/usr/bin/env node
// npm run bench:serving — the model server of issue #5 on the spam model (the spam-classifier example's
// settings), over HTTP with wrk: every server pinned to CPU 0, wrk to CPU 1, 32 connections, one email per
// request and 32 emails per request. Side by side in one run, all running at once and measured in
// interleaved rounds (rotating order; medians and the median of per-round ratios):
//   - bare:    a bare Fastify handler running the same model (the ceiling: no validation, batching, metrics);
//   - slipway: `slipway serve` (MLflow /invocations: signature validation, batching, metrics);
//   - fastapi: FastAPI + scikit-learn, one uvicorn worker (where Debian's python3-fastapi, python3-uvicorn
//              and python3-sklearn are installed).
// Then, in-process, the overhead of the server's predict path over a bare onnxruntime `session.run`.
// Needs wrk and taskset (Debian: wrk, util-linux). BENCH_ROUNDS=N (default 5) rounds of 4 s per server
// and scenario; BENCH_QUICK=1: 2 rounds of 2 s.
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
const DURATION = QUICK ? 2 : 4;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 5));
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

const servers = [
  {
    name: "bare Fastify handler (ceiling)",
    path: "/predict",
    encode: bodies.simple,
    argv: (port) => [process.execPath, here("./serving-bare.mjs"), join(pkgDir, "pipeline.json"), String(port)],
    ready: /ready/,
  },
  {
    name: "slipway serve (/invocations)",
    path: "/invocations",
    encode: bodies.mlflow,
    argv: (port) => [process.execPath, CLI, "serve", pkgDir, "--port", String(port), "--name", "spam"],
    ready: /listening on/,
  },
  {
    // the same server computing every batch on its event loop (before prediction threads)
    name: "slipway serve --predict-threads 0",
    path: "/invocations",
    encode: bodies.mlflow,
    argv: (port) => [
      ...[process.execPath, CLI, "serve", pkgDir, "--port", String(port)],
      ...["--name", "spam", "--predict-threads", "0"],
    ],
    ready: /listening on/,
  },
];
if (spawnSync(PY, ["-c", "import fastapi, uvicorn, sklearn"]).status === 0) {
  servers.push({
    name: "FastAPI + scikit-learn (1 uvicorn worker)",
    path: "/predict",
    encode: bodies.simple,
    argv: (port) => [PY, here("./serving_fastapi.py"), trainFile, String(port)],
    ready: /Uvicorn running|ready/,
  });
} else {
  console.log(
    "FastAPI baseline skipped: /usr/bin/python3 lacks fastapi, uvicorn or sklearn (apt-get install python3-fastapi python3-uvicorn python3-sklearn)",
  );
}
// Every server runs for the whole benchmark (all but the one measured idle), and the rounds interleave
// them in a rotating order: this host drifts 10-20% within minutes, so runs minutes apart do not compare.
for (const server of servers) {
  const port = nextPort++;
  server.url = `http://127.0.0.1:${port}${server.path}`;
  server.process = await startServer(server.name, server.argv(port), server.ready);
  server.runs = { one: [], batch: [] };
}
const scenarios = [
  ["one", one],
  ["batch", batch],
];
for (const server of servers) for (const [, texts] of scenarios) wrk(server.url, server.encode(texts), 2); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [scenario, texts] of scenarios) {
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(i + round) % servers.length];
      server.runs[scenario].push(wrk(server.url, server.encode(texts), DURATION));
    }
  }
  console.log(`round ${round + 1} of ${ROUNDS} done`);
}
for (const server of servers) await server.process.stop();
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (runs) => ({
  rps: median(runs.map((r) => r.rps)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  errors: runs.reduce((n, r) => n + r.errors, 0),
});
const rows = servers.map((server) => [
  server.name,
  { one: summary(server.runs.one), batch: summary(server.runs.batch) },
]);

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

const fastapiServer = servers.find((x) => x.name.startsWith("FastAPI"));
const bareServer = servers[0];
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
const ratio = (server, against, scenario) => {
  const xs = server.runs[scenario].map((r, i) => r.rps / against.runs[scenario][i].rps);
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
};
const vs = (server, against, digits) =>
  `${f(ratio(server, against, "one").median, digits)}× / ${f(ratio(server, against, "batch").median, digits)}×`;
const cells = rows.map(([name, r], i) => [
  name,
  f(r.one.rps),
  f(r.one.p50, 2),
  f(r.one.p99, 2),
  f(r.batch.rps),
  f(r.batch.p50, 1),
  f(r.batch.p99, 1),
  vs(servers[i], bareServer, 2),
  fastapiServer ? vs(servers[i], fastapiServer, 1) : "",
  String(r.one.errors + r.batch.errors),
]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n${cells.map(line).join("\n")}`);
console.log(
  `(medians of ${ROUNDS} interleaved rounds of ${DURATION} s; ratios: one email / 32 emails, requests per second, ` +
    "each the median of the per-round ratios)",
);
for (const server of servers.slice(1)) {
  const r = ratio(server, bareServer, "one");
  console.log(`${server.name} vs bare, one email, per round: ${f(r.min, 2)}–${f(r.max, 2)}×`);
}
const us = (x) => `${(x * 1000).toFixed(1)} µs`;
console.log(
  `\nONNX, 1 row, in-process (${N} calls): session.run p50 ${us(q(bareTimes, 0.5))} p99 ${us(q(bareTimes, 0.99))}; ` +
    `server path p50 ${us(q(fullTimes, 0.5))} p99 ${us(q(fullTimes, 0.99))}; overhead p50 ${us(q(fullTimes, 0.5) - q(bareTimes, 0.5))}`,
);
