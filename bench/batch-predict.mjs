#!/usr/bin/env node
// npm run bench:batch — `slipway batch-predict` throughput and memory (issue #5): the native text
// classifier (TF-IDF + logistic regression, trained on the SpamAssassin corpus with the example's
// settings) over a generated JSON Lines file of 200,000 emails (the corpus repeated), local executor
// with 1 and 2 prediction threads, CSV output. Each run is its own process, so its peak RSS (main thread
// and prediction threads together) is its own; a 50,000-row run beside the 200,000-row one shows whether
// memory grows with the file. BENCH_ROWS=N changes the large file's size.
import { spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === "--child") {
  // one measured run: node bench/batch-predict.mjs --child MODEL INPUT OUTPUT WORKERS
  const [, , , model, input, output, workers] = process.argv;
  const { runBatchPrediction } = await import("../packages/inference/dist/index.js");
  const { TrackingClient } = await import("../packages/sdk/dist/index.js");
  const result = await runBatchPrediction({
    client: new TrackingClient({ trackingUri: "http://127.0.0.1:9" }),
    modelUri: model,
    input,
    output,
    workers: Number(workers),
    tracking: false,
  });
  const { maxRSS } = process.resourceUsage();
  process.stdout.write(JSON.stringify({ ...result, maxRssMiB: maxRSS / 1024 }));
  process.exit(0);
}

const { LogisticRegression, TextClassifier, TfidfVectorizer, textClassifierPackage } =
  await import("../packages/ml/dist/index.js");
const { saveModelPackage } = await import("../packages/sdk/dist/index.js");
const { loadCorpus } = await import("../examples/spam-classifier/corpus.mjs");

const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const SMALL = Math.round(ROWS / 4);
const dir = await mkdtemp(join(tmpdir(), "slipway-bench-batch-"));
try {
  const corpus = loadCorpus();
  let t = performance.now();
  const classifier = new TextClassifier(
    new TfidfVectorizer({ sublinearTf: true, minDf: 2 }),
    new LogisticRegression({ C: 30, maxIter: 300 }),
  ).fit(
    corpus.map((r) => r.text),
    corpus.map((r) => r.label),
  );
  const model = join(dir, "model");
  await saveModelPackage(model, textClassifierPackage(classifier));
  console.log(
    `trained the spam classifier on ${corpus.length} emails in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  async function writeInput(path, rows) {
    const out = createWriteStream(path);
    for (let i = 0; i < rows; i++) {
      const line = `${JSON.stringify({ id: i, text: corpus[i % corpus.length].text })}\n`;
      if (!out.write(line)) await new Promise((r) => out.once("drain", r));
    }
    await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
    return (await stat(path)).size;
  }
  t = performance.now();
  const large = join(dir, "emails.jsonl");
  const small = join(dir, "emails-small.jsonl");
  const largeBytes = await writeInput(large, ROWS);
  const smallBytes = await writeInput(small, SMALL);
  console.log(
    `wrote ${ROWS} rows (${(largeBytes / 2 ** 20).toFixed(0)} MiB) and ${SMALL} rows ` +
      `(${(smallBytes / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s; ` +
      `${availableParallelism()} cores`,
  );

  const runs = [
    { input: large, rows: ROWS, mib: largeBytes / 2 ** 20, workers: 1 },
    { input: large, rows: ROWS, mib: largeBytes / 2 ** 20, workers: 2 },
    { input: small, rows: SMALL, mib: smallBytes / 2 ** 20, workers: 2 },
  ];
  const table = [];
  for (const run of runs) {
    const output = join(dir, `out-${run.workers}-${run.rows}.csv`);
    const child = spawnSync(process.execPath, [SELF, "--child", model, run.input, output, String(run.workers)], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
    if (child.status !== 0) throw new Error(`run failed: ${child.stderr}`);
    const result = JSON.parse(child.stdout);
    if (result.written !== run.rows) throw new Error(`wrote ${result.written} rows of ${run.rows}`);
    table.push({ ...run, ...result });
    await rm(output, { force: true });
  }
  const header = ["input rows", "input MiB", "threads", "seconds", "rows/s", "peak RSS MiB"];
  const rows = table.map((r) => [
    String(r.rows),
    r.mib.toFixed(0),
    String(r.workers),
    r.durationS.toFixed(1),
    String(Math.round(r.rowsPerS)),
    r.maxRssMiB.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padStart(widths[i])).join(" | ")} |`;
  console.log(`\nslipway batch-predict, native text classifier, JSON Lines in, CSV out\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
} finally {
  await rm(dir, { recursive: true, force: true });
}
