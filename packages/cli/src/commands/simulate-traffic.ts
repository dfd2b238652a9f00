/**
 * `slipway simulate-traffic`: realistic traffic for a served model, with artificial drift, and the true
 * labels sent to the control plane's feedback endpoint (by the request ids the server answered with),
 * so that monitors have something to watch. Rows come from the model package's `reference_data.jsonl`
 * (or `--data FILE`); the drift kinds change them the way each kind of drift changes real data:
 *
 * - `none`: rows drawn uniformly from the reference;
 * - `covariate`: the inputs' distribution moves while P(label | inputs) stays: rows are drawn only from
 *   the top 30% of the reference by the first numeric input (by text length for text inputs): a
 *   selection on the inputs, the textbook covariate shift;
 * - `label` (prior shift): the label distribution moves: 80% of rows come from the reference's rarest label;
 * - `concept`: the inputs stay, P(label | inputs) changes: 30% of the rows of the most frequent label are
 *   sent with their labels replaced by another class, so accuracy falls while input drift stays nil.
 */
import type { Command } from "commander";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadModelPackage, readTable, resolveTrackingUri, type Table } from "@slipway/sdk";
import { clientFor, TRACKING_URI_HELP } from "../client.js";
import { UsageError } from "../errors.js";
import { stdoutOutput } from "../output.js";

export const DRIFT_KINDS = ["none", "covariate", "label", "concept"] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

const REFERENCE_FILE = "reference_data.jsonl";

interface SimulateFlags {
  model?: string;
  data?: string;
  url: string;
  trackingUri?: string;
  drift: string;
  rate: string;
  requests?: string;
  duration?: string;
  batch: string;
  labelColumn: string;
  labels?: boolean;
  servedName?: string;
  seed: string;
  json?: boolean;
}

type Row = Record<string, unknown>;

/** A seeded generator (mulberry32): the same flags give the same traffic. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rowsOf(table: Table): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < table.rowCount; i++) {
    const row: Row = {};
    for (const name of table.columnNames) row[name] = table.columns.get(name)![i];
    rows.push(row);
  }
  return rows;
}

/** A sampler of (inputs, label) rows for a drift kind; see the file comment. */
export function driftSampler(
  rows: readonly Row[],
  options: { drift: DriftKind; labelColumn: string; random: () => number },
): () => { inputs: Row; label: unknown } {
  const { labelColumn, random } = options;
  const inputsOf = (row: Row): Row => {
    const { [labelColumn]: _label, prediction: _prediction, ...inputs } = row;
    return inputs;
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const labelled = rows.filter((r) => r[labelColumn] !== undefined && r[labelColumn] !== null);
  const counts = new Map<unknown, number>();
  for (const r of labelled) counts.set(r[labelColumn], (counts.get(r[labelColumn]) ?? 0) + 1);
  const byFrequency = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([label]) => label);
  const needLabels = (kind: string): void => {
    if (byFrequency.length < 2) {
      throw new UsageError(`--drift ${kind} needs reference rows with at least two values of '${labelColumn}'`);
    }
  };
  switch (options.drift) {
    case "none":
      return () => {
        const row = pick(rows);
        return { inputs: inputsOf(row), label: row[labelColumn] };
      };
    case "covariate": {
      const sample = inputsOf(rows[0]!);
      const numeric = Object.keys(sample).find((k) => typeof sample[k] === "number");
      const text = Object.keys(sample).find((k) => typeof sample[k] === "string");
      if (numeric === undefined && text === undefined) {
        throw new UsageError("--drift covariate needs a numeric or text input column in the reference data");
      }
      const key = (r: Row): number => {
        const v = r[numeric ?? text!];
        return typeof v === "number" ? v : typeof v === "string" ? v.length : 0;
      };
      const sorted = [...rows].sort((a, b) => key(a) - key(b));
      const top = sorted.slice(Math.floor(sorted.length * 0.7));
      return () => {
        const row = pick(top);
        return { inputs: inputsOf(row), label: row[labelColumn] };
      };
    }
    case "label": {
      needLabels("label");
      const rare = byFrequency[byFrequency.length - 1];
      const rareRows = labelled.filter((r) => r[labelColumn] === rare);
      const others = labelled.filter((r) => r[labelColumn] !== rare);
      return () => {
        const row = random() < 0.8 ? pick(rareRows) : pick(others);
        return { inputs: inputsOf(row), label: row[labelColumn] };
      };
    }
    case "concept": {
      needLabels("concept");
      const [common, other] = byFrequency;
      return () => {
        const row = pick(labelled);
        const label = row[labelColumn];
        return { inputs: inputsOf(row), label: label === common && random() < 0.3 ? other : label };
      };
    }
  }
}

function positive(text: string | undefined, flag: string, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !(n > 0) || !Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) {
    throw new UsageError(`${flag}: '${text}' is not a ${integer ? "positive integer" : "number > 0"}`);
  }
  return n;
}

async function referenceRows(flags: SimulateFlags): Promise<{ rows: Row[]; source: string }> {
  if (flags.data !== undefined) {
    try {
      return { rows: rowsOf(await readTable(flags.data)), source: flags.data };
    } catch (error) {
      throw new UsageError(`--data: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (flags.model === undefined) throw new UsageError("give --model URI (its reference_data.jsonl) or --data FILE");
  const loaded = await loadModelPackage(clientFor(flags), flags.model);
  let text: string;
  try {
    text = await readFile(join(loaded.dir, REFERENCE_FILE), "utf8");
  } catch {
    throw new UsageError(`${flags.model} has no ${REFERENCE_FILE}: give the rows to send with --data FILE`);
  }
  const rows = text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Row);
  return { rows, source: `${flags.model} (${REFERENCE_FILE})` };
}

interface Summary {
  drift: DriftKind;
  source: string;
  requests: number;
  rows: number;
  ok: number;
  failed: number;
  labels_sent: number;
  labels_failed: number;
  latency_ms_p50: number | null;
  latency_ms_p99: number | null;
  seconds: number;
}

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function simulateAction(flags: SimulateFlags): Promise<void> {
  const drift = flags.drift as DriftKind;
  if (!DRIFT_KINDS.includes(drift))
    throw new UsageError(`--drift: '${flags.drift}' is not one of ${DRIFT_KINDS.join(", ")}`);
  const rate = positive(flags.rate, "--rate", false)!;
  const batch = positive(flags.batch, "--batch", true)!;
  const maxRequests = positive(flags.requests, "--requests", true);
  const duration = positive(flags.duration, "--duration", false);
  const seed = Number(flags.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed: '${flags.seed}' is not an integer`);
  let url: URL;
  try {
    url = new URL("/invocations", flags.url);
    if (flags.servedName !== undefined) url.searchParams.set("model", flags.servedName);
  } catch {
    throw new UsageError(`--url: '${flags.url}' is not a URL`);
  }
  const requests = maxRequests ?? (duration === undefined ? 100 : Math.max(1, Math.round(duration * rate)));
  const { rows, source } = await referenceRows(flags);
  if (rows.length === 0) throw new UsageError(`${source} has no rows`);
  const sample = driftSampler(rows, { drift, labelColumn: flags.labelColumn, random: generator(seed) });
  const feedback =
    flags.labels === false
      ? undefined
      : new URL("/api/2.0/slipway/feedback", flags.trackingUri ?? resolveTrackingUri());

  const summary: Summary = {
    drift,
    source,
    requests,
    rows: 0,
    ok: 0,
    failed: 0,
    labels_sent: 0,
    labels_failed: 0,
    latency_ms_p50: null,
    latency_ms_p99: null,
    seconds: 0,
  };
  const latencies: number[] = [];
  const pendingLabels: { request_id: string; row_index: number; label: unknown }[] = [];
  const sendLabels = async (): Promise<void> => {
    if (feedback === undefined || pendingLabels.length === 0) return;
    const labels = pendingLabels.splice(0, pendingLabels.length);
    try {
      const response = await fetch(feedback, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ labels }),
      });
      if (response.ok) summary.labels_sent += labels.length;
      else {
        summary.labels_failed += labels.length;
        process.stderr.write(`feedback: HTTP ${response.status} ${(await response.text()).slice(0, 200)}\n`);
      }
    } catch (error) {
      summary.labels_failed += labels.length;
      process.stderr.write(`feedback: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  };

  const one = async (): Promise<void> => {
    const drawn = Array.from({ length: batch }, sample);
    const started = performance.now();
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ dataframe_records: drawn.map((d) => d.inputs) }),
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      summary.rows += drawn.length;
      if (!response.ok) {
        summary.failed++;
        return;
      }
      summary.ok++;
      const id = response.headers.get("x-request-id");
      if (id === null) return;
      drawn.forEach((d, row_index) => {
        if (d.label !== undefined && d.label !== null)
          pendingLabels.push({ request_id: id, row_index, label: d.label });
      });
    } catch {
      summary.failed++;
    }
  };

  const tty = process.stderr.isTTY === true && flags.json !== true;
  const start = performance.now();
  const inflight = new Set<Promise<void>>();
  let lastLabels = start;
  for (let i = 0; i < requests; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const p = one().finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size > 256) await Promise.race(inflight);
    if (performance.now() - lastLabels > 1000) {
      lastLabels = performance.now();
      await sendLabels();
      if (tty)
        process.stderr.write(`\r\x1b[2Ksimulate-traffic: ${i + 1}/${requests} requests, ${summary.failed} failed`);
    }
  }
  await Promise.all(inflight);
  await sendLabels();
  if (tty) process.stderr.write("\r\x1b[2K");
  summary.seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  summary.latency_ms_p50 = quantile(latencies, 0.5);
  summary.latency_ms_p99 = quantile(latencies, 0.99);
  const out = stdoutOutput(flags.json === true);
  if (out.json) out.write(JSON.stringify(summary));
  else
    out.write(
      [
        `Sent ${summary.requests} requests (${summary.rows} rows, drift: ${drift}) from ${source} to ${url.href} in ${summary.seconds.toFixed(1)} s`,
        `  ok ${summary.ok}, failed ${summary.failed}; latency p50 ${summary.latency_ms_p50?.toFixed(1) ?? "-"} ms, p99 ${summary.latency_ms_p99?.toFixed(1) ?? "-"} ms`,
        feedback === undefined
          ? "  labels not sent (--no-labels)"
          : `  labels sent to ${feedback.href}: ${summary.labels_sent}${summary.labels_failed > 0 ? `, failed ${summary.labels_failed}` : ""}`,
      ].join("\n"),
    );
  if (summary.failed > 0) throw new Error(`${summary.failed} of ${summary.requests} requests failed`);
}

export function registerSimulateTraffic(program: Command): void {
  program
    .command("simulate-traffic")
    .description("Send traffic with artificial drift to a model server, and its labels to the feedback endpoint")
    .option(
      "--model <uri>",
      "the served model: its reference_data.jsonl gives the rows (models:/NAME@ALIAS, runs:/…, a path)",
    )
    .option("--data <file>", "rows to send instead (CSV, JSON Lines, JSON, Parquet), labels in --label-column")
    .option("--url <url>", "the model server", "http://127.0.0.1:8080")
    .option("--served-name <name>", "the model's name on a server that serves several (sent as ?model=)")
    .option("--tracking-uri <uri>", `${TRACKING_URI_HELP}; labels go to its feedback endpoint`)
    .option("--drift <kind>", `${DRIFT_KINDS.join(" | ")}`, "none")
    .option("--rate <n>", "requests per second", "20")
    .option("--requests <n>", "requests to send (default: rate × duration, or 100)")
    .option("--duration <seconds>", "how long to send")
    .option("--batch <n>", "rows per request", "1")
    .option("--label-column <name>", "the label column of the rows", "label")
    .option("--no-labels", "do not send labels to the feedback endpoint")
    .option("--seed <n>", "seed of the row sampler", "1")
    .option("--json", "print the summary as JSON")
    .action(simulateAction);
}
