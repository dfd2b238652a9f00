#!/usr/bin/env node
// npm run bench:ui — the web UI at scale, in Debian's Chromium (playwright-core, headless): a fresh store seeded with
// 100,000 runs (create-run + log-batch each, through the tracking service in this process, 1,000 at a time so
// SQLite's group commit packs them into few transactions), then a server (a child process) on it, and through its
// API one run with a 1,000,000-point metric (log-batch, 1,000 points each); then
//  - time to the first rendered row of the runs table (navigation start → the row is in the DOM), fresh browser
//    context each time so nothing is cached;
//  - scrolling: after every page of the 100,000 runs is loaded, frame times while jumping through the table;
//  - time to the first drawn 1,000,000-point metric chart (the server samples it to 2,500 points).
// Targets (issue #9): ≤ 1 s for each first render. BENCH_RUNS / BENCH_POINTS shrink the data for a smoke run.
/* global document, requestAnimationFrame */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer } from "./server-process.mjs";
import { openArtifactRepository, openDb, TrackingService, upgrade } from "../packages/server/dist/index.js";
import { launchChromium, CHROMIUM } from "../packages/ui/dist/testing/browser.js";
import { seedLongMetric } from "../packages/ui/dist/testing/seed.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 100_000);
const POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const REPEAT = 5;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const log = (message) => process.stderr.write(`bench: ${message}\n`);

/** 100,000 runs straight into the store (no HTTP): each with 3 params, 3 metrics and 2 tags. */
async function seedRuns(dir, count) {
  const db = await openDb(`sqlite:///${join(dir, "slipway.db")}`);
  await upgrade(db);
  const tracking = new TrackingService({ db, artifacts: await openArtifactRepository(join(dir, "artifacts")) });
  const { experiment_id } = await tracking.createExperiment({ name: `bench-${count}-runs` });
  const t0 = Date.UTC(2026, 0, 1);
  for (let from = 0; from < count; from += 1000) {
    const ids = Array.from({ length: Math.min(1000, count - from) }, (_, k) => from + k);
    const runs = await Promise.all(
      ids.map((i) =>
        tracking.createRun({
          experiment_id,
          run_name: `run-${i}`,
          start_time: t0 + i * 1000,
          tags: [{ key: "batch", value: String(i % 100) }],
        }),
      ),
    );
    await Promise.all(
      runs.map(({ run }, k) => {
        const i = ids[k];
        const ts = t0 + i * 1000;
        return tracking.logBatch({
          run_id: run.info.run_id,
          params: [
            { key: "lr", value: String([0.1, 0.01, 0.001][i % 3]) },
            { key: "depth", value: String(2 + (i % 8)) },
            { key: "seed", value: String(i) },
          ],
          metrics: [
            { key: "accuracy", value: ((i * 7919) % 1000) / 1000, timestamp: ts, step: 0 },
            { key: "loss", value: ((i * 104729) % 1000) / 500, timestamp: ts, step: 0 },
            { key: "f1", value: ((i * 1299709) % 1000) / 1000, timestamp: ts, step: 0 },
          ],
          tags: [{ key: "team", value: i % 2 ? "a" : "b" }],
        });
      }),
    );
    if ((from + 1000) % 10_000 === 0) log(`${(from + 1000).toLocaleString()} runs`);
  }
  await db.close();
  return experiment_id;
}

async function startServer(dir) {
  const { child, url } = await spawnServer(dir, ["--no-monitor-scheduler"]);
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
    },
  };
}

/** Opens `path` in a fresh context and answers the page and when `mark` was set (ms after navigation start). */
async function timeTo(browser, url, mark, ready) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  await page.goto(url);
  await page.locator(ready).first().waitFor();
  await page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, mark);
  const ms = await page.evaluate((name) => performance.getEntriesByName(name)[0].startTime, mark);
  return { ms, page, context };
}

if (!existsSync(CHROMIUM)) {
  console.error(`bench:ui needs Debian's Chromium at ${CHROMIUM} (apt-get install chromium)`);
  process.exit(1);
}
const dir = await mkdtemp(join(tmpdir(), "slipway-bench-ui-"));
let t = performance.now();
const experimentId = await seedRuns(dir, RUNS);
const seedRunsS = (performance.now() - t) / 1000;
log(`seeded ${RUNS.toLocaleString()} runs in ${seedRunsS.toFixed(1)} s`);
const server = await startServer(dir);
const browser = await launchChromium();
try {
  t = performance.now();
  const runId = await seedLongMetric(server.url, { points: POINTS, key: "loss" });
  const seedPointsS = (performance.now() - t) / 1000;
  log(`seeded a ${POINTS.toLocaleString()}-point metric in ${seedPointsS.toFixed(1)} s`);

  // the API calls behind the two views, timed from here
  const apiTimes = { search: [], bulk: [] };
  for (let i = 0; i < REPEAT; i++) {
    let s = performance.now();
    const r = await fetch(`${server.url}/ajax-api/2.0/mlflow/runs/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ experiment_ids: [experimentId], max_results: 100 }),
    });
    await r.json();
    apiTimes.search.push(performance.now() - s);
    s = performance.now();
    const b = await fetch(
      `${server.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${runId}&metric_key=loss`,
    );
    const points = (await b.json()).metrics.length;
    apiTimes.bulk.push(performance.now() - s);
    if (i === 0) log(`bulk-interval answered ${points} points`);
  }

  const firstRow = [];
  for (let i = 0; i < REPEAT; i++) {
    const { ms, context } = await timeTo(
      browser,
      `${server.url}/experiments/${experimentId}`,
      "slipway:runs-first-row",
      "[data-row-index='0']",
    );
    firstRow.push(ms);
    await context.close();
  }
  log(`runs table first row: ${firstRow.map((x) => x.toFixed(0)).join(", ")} ms`);

  // load every page, then measure frames while jumping through the whole table
  const { page, context } = await timeTo(
    browser,
    `${server.url}/experiments/${experimentId}`,
    "slipway:runs-first-row",
    "[data-row-index='0']",
  );
  t = performance.now();
  for (;;) {
    const count = await page.getByTestId("runs-count").innerText();
    if (!count.includes("+")) break;
    await page.evaluate(() => {
      const grid = document.querySelector("[data-testid='runs-table']");
      grid.scrollTop = grid.scrollHeight;
    });
    await page.waitForTimeout(50);
  }
  const loadAllS = (performance.now() - t) / 1000;
  const loaded = await page.getByTestId("runs-count").innerText();
  log(`all pages loaded (${loaded}) in ${loadAllS.toFixed(1)} s`);
  const frames = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const grid = document.querySelector("[data-testid='runs-table']");
        const times = [];
        let last = performance.now();
        let i = 0;
        const step = () => {
          const now = performance.now();
          if (i > 0) times.push(now - last);
          last = now;
          if (i++ >= 240) return resolve(times);
          // alternate long jumps and short scrolls, across the whole table
          grid.scrollTop = i % 2 ? ((i * 7919) % 240) * (grid.scrollHeight / 240) : grid.scrollTop + 300;
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      }),
  );
  const idle = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const times = [];
        let last = performance.now();
        const step = () => {
          const now = performance.now();
          times.push(now - last);
          last = now;
          if (times.length >= 60) return resolve(times.slice(1));
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      }),
  );
  const rowsInDom = await page.locator(".vt-row").count();
  await context.close();

  const chart = [];
  for (let i = 0; i < REPEAT; i++) {
    const { ms, context: c } = await timeTo(
      browser,
      `${server.url}/runs/${runId}?tab=metrics&metric=loss`,
      "slipway:chart-drawn:loss",
      "[data-testid='metric-chart-loss'] canvas",
    );
    chart.push(ms);
    await c.close();
  }
  log(`chart drawn: ${chart.map((x) => x.toFixed(0)).join(", ")} ms`);

  const rows = [
    ["seed: runs (create + log-batch each, in process)", `${RUNS.toLocaleString()} in ${seedRunsS.toFixed(1)} s`, ""],
    ["seed: metric points (log-batch × 1000)", `${POINTS.toLocaleString()} in ${seedPointsS.toFixed(1)} s`, ""],
    ["API: runs/search, first page (100 runs)", `${median(apiTimes.search).toFixed(0)} ms`, ""],
    [
      `API: get-history-bulk-interval (${POINTS.toLocaleString()} points → 2,500)`,
      `${median(apiTimes.bulk).toFixed(0)} ms`,
      "",
    ],
    [
      `UI: runs table, first row (${RUNS.toLocaleString()} runs), median of ${REPEAT}`,
      `${median(firstRow).toFixed(0)} ms`,
      "≤ 1000 ms",
    ],
    [`UI: load every page of the table (${loaded})`, `${loadAllS.toFixed(1)} s`, ""],
    [
      "UI: frame time jumping through all rows, median / p95 / max",
      `${median(frames).toFixed(1)} / ${pct(frames, 95).toFixed(1)} / ${Math.max(...frames).toFixed(1)} ms`,
      "≤ 16.7 ms",
    ],
    ["UI: frame time without scrolling (this headless browser's floor), median", `${median(idle).toFixed(1)} ms`, ""],
    ["UI: table rows in the DOM while scrolling", String(rowsInDom), ""],
    [
      `UI: ${POINTS.toLocaleString()}-point chart, first draw, median of ${REPEAT}`,
      `${median(chart).toFixed(0)} ms`,
      "≤ 1000 ms",
    ],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\n| ${"measurement".padEnd(w0)} | ${"result".padEnd(w1)} | target    |`);
  console.log(`| ${"-".repeat(w0)} | ${"-".repeat(w1)} | --------- |`);
  for (const [a, b, c] of rows) console.log(`| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c.padEnd(9)} |`);
} finally {
  await browser.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
