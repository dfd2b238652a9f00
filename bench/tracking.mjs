#!/usr/bin/env node
// npm run bench:tracking — the tracking server under the workloads of issue #2, against fresh servers
// started here in child processes (one process group), with the load generated from this process.
// Prints a table with MLflow 3.6's figures measured on this machine kind (SQLite, one worker) beside ours.
// BENCH_QUICK=1 shortens every workload (for a smoke run; the figures are then not comparable).
import http from "node:http";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer } from "./server-process.mjs";
import autocannon from "autocannon";
import Database from "better-sqlite3";
import { openDb, upgrade } from "../packages/server/dist/index.js";

const QUICK = process.env.BENCH_QUICK === "1";

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function startServer(dir) {
  const { child, url } = await spawnServer(dir);
  let peakRss = 0;
  const sample = async () => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peakRss = Math.max(peakRss, kb * 1024);
    } catch {
      // process gone
    }
  };
  const timer = setInterval(() => void sample(), 100);
  return {
    url,
    peakRss: () => peakRss,
    /** Prints the server's memory now: RSS, V8 heap and external (Buffer) memory from its /metrics. */
    async memory(label) {
      await sample();
      const text = await (await fetch(`${url}/metrics`)).text();
      const gauge = (name) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? NaN) / 2 ** 20;
      process.stderr.write(
        `bench:   after ${label}: peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB, heap total ${gauge("slipway_process_nodejs_heap_size_total_bytes").toFixed(0)} MB, heap used ${gauge("slipway_process_nodejs_heap_size_used_bytes").toFixed(0)} MB, external ${gauge("slipway_process_nodejs_external_memory_bytes").toFixed(0)} MB\n`,
      );
    },
    async stop() {
      clearInterval(timer);
      await sample();
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
    },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** A lean keep-alive POST (node:http), so that the client costs as little as possible next to the server. */
async function post(url, path, body) {
  const { status, body: raw } = await postRaw(url, path, body);
  if (status !== 200) throw new Error(`${path}: ${status} ${raw}`);
}

async function api(url, path, body) {
  const res = await fetch(`${url}/api/2.0/mlflow/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function createRun(url, experimentId) {
  return (await api(url, "runs/create", { experiment_id: experimentId })).run.info.run_id;
}

// ---- workload 1: log-batch, 50 runs x 1000 metrics, one client
async function logBatch(url) {
  const { experiment_id } = await api(url, "experiments/create", { name: `batch-${Date.now()}` });
  const rounds = QUICK ? 2 : 7;
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const runs = [];
    for (let i = 0; i < 50; i++) runs.push(await createRun(url, experiment_id));
    const bodies = runs.map((run_id) =>
      JSON.stringify({
        run_id,
        metrics: Array.from({ length: 1000 }, (_, i) => ({
          key: `m${i % 20}`,
          value: Math.random(),
          timestamp: 1_700_000_000_000 + i,
          step: i,
        })),
      }),
    );
    const t0 = performance.now();
    for (const body of bodies) await post(url, "/api/2.0/mlflow/runs/log-batch", body);
    const seconds = (performance.now() - t0) / 1000;
    if (r > 0 || rounds === 1) rates.push(50_000 / seconds); // first round warms up
  }
  return median(rates);
}

// ---- workload 2: single log-metric requests, 4 concurrent clients
async function logMetricRate(url) {
  const runId = await createRun(url, "0");
  let n = 0;
  const result = await autocannon({
    url: `${url}/api/2.0/mlflow/runs/log-metric`,
    connections: 4,
    pipelining: 1,
    duration: QUICK ? 3 : 20,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({
            run_id: runId,
            key: "loss",
            value: Math.random(),
            timestamp: 1_700_000_000_000 + n,
            step: n++,
          }),
        }),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`log-metric: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

// ---- workload 3: search-runs
const FILTER = "metrics.acc > 0.5 and params.lr = '0.01'";
/** POSTs with a keep-alive agent and returns the status and raw body; a caller's clock stops at the last byte. */
function postRaw(url, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function searchLatency(url, experimentId, count) {
  const body = JSON.stringify({
    experiment_ids: [experimentId],
    filter: FILTER,
    order_by: ["metrics.acc DESC"],
    max_results: 100,
  });
  for (let i = 0; i < 5; i++) await postRaw(url, "/api/2.0/mlflow/runs/search", body); // warm
  const times = [];
  let returned = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const { body: raw } = await postRaw(url, "/api/2.0/mlflow/runs/search", body);
    times.push(performance.now() - t0);
    returned = JSON.parse(raw.toString("utf8")).runs?.length ?? 0;
  }
  return { p50: median(times), p99: pct(times, 99), returned };
}

async function seedSearchRunsHttp(url, n) {
  const { experiment_id } = await api(url, "experiments/create", { name: `search-${n}-${Date.now()}` });
  for (let i = 0; i < n; i++) {
    const run_id = await createRun(url, experiment_id);
    await api(url, "runs/log-batch", {
      run_id,
      params: Array.from({ length: 10 }, (_, k) => ({
        key: k === 0 ? "lr" : `p${k}`,
        value: k === 0 ? ["0.01", "0.1", "0.001"][i % 3] : String(i % (k + 2)),
      })),
      metrics: Array.from({ length: 10 }, (_, k) => ({
        key: k === 0 ? "acc" : `m${k}`,
        value: ((i * 7919) % 1000) / 1000,
        timestamp: 1_700_000_000_000 + i,
        step: 0,
      })),
    });
  }
  return experiment_id;
}

/** 100,000 runs are seeded straight into the SQLite file before the server starts (HTTP seeding would take minutes). */
async function seedSearchRunsDirect(dir, n) {
  const path = join(dir, "slipway.db");
  const handle = await openDb(`sqlite:///${path}`);
  await upgrade(handle);
  await handle.close();
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  const now = Date.now();
  db.prepare(
    `INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (1, 'search-100k', 'mlflow-artifacts:/1', 'active', ?, ?)`,
  ).run(now, now);
  const run = db.prepare(
    `INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, lifecycle_stage, artifact_uri) VALUES (?, 1, ?, 'bench', 'FINISHED', ?, 'active', ?)`,
  );
  const param = db.prepare(`INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)`);
  const tag = db.prepare(`INSERT INTO tags (run_uuid, key, value) VALUES (?, 'mlflow.runName', ?)`);
  const latest = db.prepare(
    `INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, is_nan) VALUES (?, ?, 0, ?, ?, 0)`,
  );
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = i.toString(16).padStart(32, "0");
      run.run(id, `run-${i}`, now + i, `mlflow-artifacts:/1/${id}/artifacts`);
      tag.run(id, `run-${i}`);
      for (let k = 0; k < 10; k++)
        param.run(id, k === 0 ? "lr" : `p${k}`, k === 0 ? ["0.01", "0.1", "0.001"][i % 3] : String(i % (k + 2)));
      for (let k = 0; k < 10; k++) {
        const v = ((i * 7919 + k) % 1000) / 1000;
        latest.run(id, k === 0 ? "acc" : `m${k}`, now + i, v);
      }
    }
  })();
  // no ANALYZE: the server never runs it, and with sqlite_stat1 present SQLite's planner prefers the params index here
  db.close();
  return "1";
}

// ---- workload 4: get-metric-history of one metric with 100,000 points
async function metricHistory(url) {
  const runId = await createRun(url, "0");
  for (let b = 0; b < 100; b++) {
    await api(url, "runs/log-batch", {
      run_id: runId,
      metrics: Array.from({ length: 1000 }, (_, i) => ({
        key: "loss",
        value: Math.random(),
        timestamp: 1_700_000_000_000 + b * 1000 + i,
        step: b * 1000 + i,
      })),
    });
  }
  // time to the last byte with a plain http client, as curl would see it; parsing happens after the clock stops
  const times = [];
  let points = 0;
  for (let i = 0; i < (QUICK ? 3 : 15); i++) {
    const t0 = performance.now();
    const body = await new Promise((resolve, reject) => {
      http
        .get(`${url}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss`, (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve(Buffer.concat(chunks)));
        })
        .on("error", reject);
    });
    times.push(performance.now() - t0);
    points = JSON.parse(body.toString("utf8")).metrics.length;
  }
  return { p50: median(times), points };
}

const fmt = (x, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

async function main() {
  const dirA = await mkdtemp(join(tmpdir(), "slipway-bench-a-"));
  const dirB = await mkdtemp(join(tmpdir(), "slipway-bench-b-"));
  const rows = [];
  try {
    process.stderr.write("bench: server A (fresh SQLite store)\n");
    const a = await startServer(dirA);
    let rssA;
    try {
      process.stderr.write("bench: log-batch 50 runs x 1000 metrics...\n");
      const batch = await logBatch(a.url);
      await a.memory("log-batch");
      rows.push([
        "log-batch, 50 runs x 1000 metrics, 1 client",
        `${fmt(batch)} metrics/s`,
        "8,300-10,400 metrics/s",
        ">= 300,000 metrics/s",
        `${fmt(batch / 9350, 1)}x`,
      ]);
      process.stderr.write("bench: log-metric, 4 concurrent clients...\n");
      const single = await logMetricRate(a.url);
      await a.memory("log-metric");
      rows.push([
        "log-metric, 4 concurrent clients",
        `${fmt(single.rps)} req/s (p50 ${single.p50} ms, p99 ${single.p99} ms)`,
        "92-103 req/s",
        ">= 5,000 req/s",
        `${fmt(single.rps / 97.5, 1)}x`,
      ]);
      process.stderr.write("bench: search over 2,000 runs (seeding through HTTP)...\n");
      const exp2k = await seedSearchRunsHttp(a.url, QUICK ? 300 : 2000);
      const s2k = await searchLatency(a.url, exp2k, QUICK ? 20 : 200);
      await a.memory("search");
      rows.push([
        `search-runs, ${QUICK ? 300 : "2,000"} runs, filter+order, 100 results`,
        `p50 ${fmt(s2k.p50, 2)} ms, p99 ${fmt(s2k.p99, 2)} ms (${s2k.returned} runs)`,
        "p50 141-151 ms",
        "<= 5 ms",
        `${fmt(146 / s2k.p50, 1)}x`,
      ]);
      process.stderr.write("bench: metric history of 100,000 points...\n");
      const hist = await metricHistory(a.url);
      await a.memory("metric history");
      rows.push([
        `get-metric-history, ${fmt(hist.points)} points`,
        `p50 ${fmt(hist.p50, 1)} ms`,
        "5.1-6.1 s",
        "<= 100 ms",
        `${fmt(5600 / hist.p50, 1)}x`,
      ]);
    } finally {
      await a.stop();
      rssA = a.peakRss();
    }
    const n = QUICK ? 10_000 : 100_000;
    process.stderr.write(`bench: seeding ${fmt(n)} runs directly into SQLite for server B...\n`);
    const exp100k = await seedSearchRunsDirect(dirB, n);
    const b = await startServer(dirB);
    let rssB;
    try {
      const s100k = await searchLatency(b.url, exp100k, QUICK ? 20 : 100);
      rows.push([
        `search-runs, ${fmt(n)} runs, filter+order, 100 results`,
        `p50 ${fmt(s100k.p50, 2)} ms, p99 ${fmt(s100k.p99, 2)} ms (${s100k.returned} runs)`,
        "(not measured)",
        "<= 50 ms",
        "",
      ]);
    } finally {
      await b.stop();
      rssB = b.peakRss();
    }
    rows.push([
      "server peak RSS",
      `${fmt(Math.max(rssA, rssB) / 2 ** 20)} MB (A ${fmt(rssA / 2 ** 20)}, B ${fmt(rssB / 2 ** 20)})`,
      "",
      "<= 150 MB",
      "",
    ]);
  } finally {
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  }
  const header = ["workload", "Slipway", "MLflow 3.6 (reference)", "target", "vs MLflow"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(
    `\nnpm run bench:tracking — ${new Date().toISOString()}, node ${process.version}${QUICK ? " (BENCH_QUICK: shortened, not comparable)" : ""}`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
  console.log(
    "MLflow figures: MLflow 3.6, SQLite, one worker, measured on this machine kind (issue #2); 'vs MLflow' uses the middle of their range.",
  );
}

await main();
