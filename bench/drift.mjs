#!/usr/bin/env node
// npm run bench:drift — issue #6's drift workload: a full drift report on 20 numeric columns × 1,000,000
// rows (reference and current each), against SciPy computing the same statistics on the same columns in
// the same run (where python3-scipy is installed); then a 100,000,000-row stream profiled chunk by chunk
// (mergeable sketches) in a child process whose peak memory is measured on its own.
// BENCH_QUICK=1: 100,000 rows, 10M-row stream, one repeat (a smoke run; figures not comparable).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Random,
  datasetDrift,
  ksFromSorted,
  sortFloat64,
  mergeProfiles,
  profileTable,
  tableFromColumns,
  wassersteinFromSorted,
} from "../packages/ml/dist/index.js";

const QUICK = process.env.BENCH_QUICK === "1";
const COLUMNS = 20;
const ROWS = QUICK ? 100_000 : 1_000_000;
const STREAM_ROWS = QUICK ? 10_000_000 : 100_000_000;
const CHUNK = Number(process.env.BENCH_CHUNK ?? 100_000);
const REPEATS = QUICK ? 1 : 3;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

if (process.argv[2] === "--stream") {
  // child: profile STREAM_ROWS rows of two columns in chunks, keeping only the merged profile
  const random = new Random(7);
  const x = new Float64Array(CHUNK);
  const y = new Float64Array(CHUNK);
  let profile;
  const start = performance.now();
  for (let done = 0; done < STREAM_ROWS; done += CHUNK) {
    for (let i = 0; i < CHUNK; i++) {
      x[i] = random.normal();
      y[i] = Math.floor(random.next() * 50);
    }
    const chunk = profileTable(tableFromColumns({ x, y }));
    profile = profile === undefined ? chunk : mergeProfiles(profile, chunk);
  }
  const seconds = (performance.now() - start) / 1000;
  // the peak of this process's own memory map (VmHWM): getrusage's maxRSS would also count the parent's pages
  // this child was forked with (Linux carries them over exec)
  const status = readFileSync("/proc/self/status", "utf8");
  const rssMb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  globalThis.gc?.();
  const liveMb = process.memoryUsage().heapUsed / 2 ** 20;
  const profileKb = JSON.stringify(profile).length / 1024;
  process.stdout.write(
    JSON.stringify({ rows: profile.rowCount, seconds, rssMb, liveMb, profileKb, p50: profile.columns.x.quantiles.p50 }),
  );
  process.exit(0);
}

// --- data: 20 columns, every 4th shifted, one rescaled, one heavy-tailed
const random = new Random(42);
const reference = {};
const current = {};
for (let c = 0; c < COLUMNS; c++) {
  const ref = new Float64Array(ROWS);
  const cur = new Float64Array(ROWS);
  const shift = c % 4 === 0 ? 0.1 : 0;
  const scale = c === 5 ? 1.2 : 1;
  for (let i = 0; i < ROWS; i++) {
    ref[i] = c === 7 ? Math.exp(random.normal()) : random.normal();
    cur[i] = c === 7 ? Math.exp(random.normal()) : shift + scale * random.normal();
  }
  reference[`x${c}`] = ref;
  current[`x${c}`] = cur;
}
const refTable = tableFromColumns(reference);
const curTable = tableFromColumns(current);
console.log(`drift report: ${COLUMNS} numeric columns × ${ROWS.toLocaleString()} rows a side; repeats ${REPEATS}`);

// --- Slipway
const reportTimes = [];
let report;
for (let r = 0; r < REPEATS; r++) {
  const start = performance.now();
  report = datasetDrift(refTable, curTable);
  reportTimes.push((performance.now() - start) / 1000);
}
const rssMb = process.resourceUsage().maxRSS / 1024;
const sortTimes = [];
const ksTimes = [];
const wTimes = [];
for (let r = 0; r < REPEATS; r++) {
  let sort = 0;
  let ks = 0;
  let w = 0;
  for (let c = 0; c < COLUMNS; c++) {
    let t = performance.now();
    const a = sortFloat64(Float64Array.from(reference[`x${c}`]));
    const b = sortFloat64(Float64Array.from(current[`x${c}`]));
    sort += performance.now() - t;
    t = performance.now();
    ksFromSorted(a, b);
    ks += performance.now() - t;
    t = performance.now();
    wassersteinFromSorted(a, b);
    w += performance.now() - t;
  }
  sortTimes.push(sort / 1000);
  ksTimes.push(ks / 1000);
  wTimes.push(w / 1000);
}
const slipway = {
  report: median(reportTimes),
  sort: median(sortTimes),
  ks: median(ksTimes),
  wasserstein: median(wTimes),
};

// --- SciPy on the same columns
let scipy;
const python = "/usr/bin/python3";
const probe = spawnSync(python, ["-c", "import scipy, numpy"], { encoding: "utf8" });
if (probe.status === 0) {
  const dir = mkdtempSync(join(tmpdir(), "slipway-bench-drift-"));
  try {
    for (let c = 0; c < COLUMNS; c++) {
      const ref = reference[`x${c}`];
      const cur = current[`x${c}`];
      writeFileSync(join(dir, `ref${c}.f64`), new Uint8Array(ref.buffer, ref.byteOffset, ref.byteLength));
      writeFileSync(join(dir, `cur${c}.f64`), new Uint8Array(cur.buffer, cur.byteOffset, cur.byteLength));
    }
    const script = fileURLToPath(new URL("./drift_scipy.py", import.meta.url));
    const out = spawnSync(python, [script, dir, String(COLUMNS), String(ROWS)], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
      env: { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1" },
    });
    if (out.status !== 0) throw new Error(`SciPy baseline failed: ${out.stderr}`);
    scipy = JSON.parse(out.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  console.log("python3-scipy not installed: no SciPy baseline (apt-get install python3-scipy)");
}

const fmt = (s) => (s === undefined ? "-" : s.toFixed(3));
const ratio = (a, b) => (a === undefined || b === undefined ? "-" : `${(b / a).toFixed(1)}×`);
const rows = [
  ["KS (sort + one merge pass) vs ks_2samp", slipway.sort + slipway.ks, scipy?.ks],
  ["Wasserstein (sort + merge) vs wasserstein_distance", slipway.sort + slipway.wasserstein, scipy?.wasserstein],
  [
    "whole report vs the same statistics in SciPy",
    slipway.report,
    scipy === undefined
      ? undefined
      : scipy.ks + scipy.wasserstein + scipy.energy + scipy.t_test + scipy.binned + scipy.moments,
  ],
];
console.log("");
console.log("| work (20 columns) | Slipway s | SciPy CPU s | Slipway faster by |");
console.log("|---|---:|---:|---:|");
for (const [name, ours, theirs] of rows)
  console.log(`| ${name} | ${fmt(ours)} | ${fmt(theirs)} | ${ratio(ours, theirs)} |`);
console.log("");
console.log(
  `report: median of ${REPEATS}, ${report.drifted_columns} of ${report.tested_columns} columns drifted; peak RSS ${rssMb.toFixed(0)} MB (input columns alone: ${((COLUMNS * 2 * ROWS * 8) / 2 ** 20).toFixed(0)} MB)`,
);
if (scipy) console.log(`SciPy CPU seconds per statistic: ${JSON.stringify(scipy)}`);

// --- stream profile in a child process
const child = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--stream"], {
  encoding: "utf8",
});
if (child.status !== 0) throw new Error(`stream profile failed: ${child.stderr}`);
const stream = JSON.parse(child.stdout);
console.log(
  `stream profile: ${stream.rows.toLocaleString()} rows × 2 columns in ${stream.seconds.toFixed(1)} s (${(stream.rows / stream.seconds / 1e6).toFixed(2)} M rows/s) : peak RSS ${stream.rssMb.toFixed(0)} MB, live heap at the end ${stream.liveMb.toFixed(0)} MB, profile ${stream.profileKb.toFixed(0)} KB as JSON`,
);
