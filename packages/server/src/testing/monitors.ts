/**
 * Test support for monitors: a server without the automatic scheduler, a registered model whose version carries
 * `reference_data.jsonl` and run metrics, synthetic traffic (clean, drifted, concept-drifted, broken) logged into
 * the inference log with labels for part of it, failed requests, and a webhook receiver that records what it got.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Random, accuracyScore } from "@slipway/ml";
import { TrackingClient } from "@slipway/sdk";
import { startServer, type RunningServer } from "../main-server.js";
import { loadServerConfig } from "../platform/config.js";

export interface MonitorTestServer extends RunningServer {
  dir: string;
  client: TrackingClient;
  stop(): Promise<void>;
}

/** A server on a fresh SQLite store (or the given one) with the scheduler off and fast alert retries. */
export async function startMonitorServer(options: { backendStoreUri?: string } = {}): Promise<MonitorTestServer> {
  const dir = await mkdtemp(join(tmpdir(), "slipway-monitors-"));
  const config = loadServerConfig(
    {
      host: "127.0.0.1",
      port: 0,
      backendStoreUri: options.backendStoreUri ?? `sqlite:///${join(dir, "slipway.db")}`,
      artifactsDestination: join(dir, "artifacts"),
      logLevel: "silent",
      monitorScheduler: false,
    },
    {},
  );
  const server = await startServer(config, {
    monitors: { alerts: { retryBaseMs: 50, retryMaxMs: 200, timeoutMs: 1000, pollMs: 100 } },
  });
  return {
    ...server,
    dir,
    client: new TrackingClient({ trackingUri: server.url }),
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  type: string;
  text: string;
  json: Record<string, unknown>;
}

export async function call(base: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          headers: { "content-type": "application/json" },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // HTML or NaN tokens: tests that care read `text`
  }
  return { status: res.status, type: res.headers.get("content-type") ?? "", text, json };
}

// ---------------------------------------------------------------------------------------------
// Synthetic data: x ~ N(mean, 1), color ∈ {red, green, blue}, channel always "web" (a constant column); the model
// predicts 1 when x > 0, the truth is x + noise > 0.

export type Traffic = "clean" | "drifted" | "concept";

const COLORS = ["red", "green", "blue"];

function gaussian(random: Random): number {
  const u = Math.max(random.nextUint32() / 2 ** 32, 1e-12);
  const v = random.nextUint32() / 2 ** 32;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function uniform(random: Random): number {
  return random.nextUint32() / 2 ** 32;
}

export interface SyntheticRow {
  inputs: Record<string, unknown>;
  output: { label: number; p: number };
  truth: number;
}

/** Rows of one kind of traffic: drifted moves x and the colours; concept keeps inputs but flips a third of labels. */
export function syntheticRows(n: number, kind: Traffic, seed: number): SyntheticRow[] {
  const random = new Random(seed);
  const rows: SyntheticRow[] = [];
  for (let i = 0; i < n; i++) {
    const x = gaussian(random) + (kind === "drifted" ? 1.5 : 0);
    const u = uniform(random);
    const color =
      kind === "drifted"
        ? u < 0.1
          ? COLORS[0]!
          : u < 0.3
            ? COLORS[1]!
            : COLORS[2]!
        : u < 0.5
          ? COLORS[0]!
          : u < 0.8
            ? COLORS[1]!
            : COLORS[2]!;
    const p = 1 / (1 + Math.exp(-2 * x));
    const label = p > 0.5 ? 1 : 0;
    let truth = x + 0.4 * gaussian(random) > 0 ? 1 : 0;
    if (kind === "concept" && uniform(random) < 0.35) truth = 1 - truth;
    rows.push({ inputs: { x, color, channel: "web" }, output: { label, p: Math.round(p * 1e6) / 1e6 }, truth });
  }
  return rows;
}

export interface SeededModel {
  name: string;
  runId: string;
  version: string;
  baselineAccuracy: number;
}

/**
 * Registers `name` version 1 (alias `champion`) from a run that logged `model/reference_data.jsonl` (1000 clean
 * rows with label and prediction) and its accuracy / f1 / roc_auc; also logs `ref/reference.csv` (inputs only).
 */
export async function seedModel(
  client: TrackingClient,
  name: string,
  options: { reference?: boolean } = {},
): Promise<SeededModel> {
  const { run } = await client.createRun({ experiment_id: "0", run_name: `train-${name}` });
  const runId = run.info.run_id;
  const rows = syntheticRows(1000, "clean", 7);
  const accuracy = accuracyScore(
    rows.map((r) => r.truth),
    rows.map((r) => r.output.label),
  );
  await client.logBatch({
    run_id: runId,
    metrics: [
      { key: "accuracy", value: accuracy, timestamp: Date.now(), step: 0 },
      { key: "test_f1", value: 0.85, timestamp: Date.now(), step: 0 },
    ],
  });
  const artifactUri = run.info.artifact_uri;
  await client.artifacts.logText(artifactUri, '{"flavor": "test"}\n', "model/MLmodel");
  if (options.reference !== false) {
    const jsonl = rows.map((r) => JSON.stringify({ ...r.inputs, label: r.truth, prediction: r.output })).join("\n");
    await client.artifacts.logText(artifactUri, `${jsonl}\n`, "model/reference_data.jsonl");
  }
  const csv = ["x,color", ...rows.map((r) => `${r.inputs.x as number},${r.inputs.color as string}`)].join("\n");
  await client.artifacts.logText(artifactUri, `${csv}\n`, "ref/reference.csv");
  await client.createRegisteredModel({ name });
  const { model_version } = await client.createModelVersion({ name, source: `runs:/${runId}/model`, run_id: runId });
  await client.setRegisteredModelAlias({ name, alias: "champion", version: model_version.version });
  return { name, runId, version: model_version.version, baselineAccuracy: accuracy };
}

let requestCounter = 0;

/**
 * Logs `rows` into the inference log between `start` and `end` (evenly spaced), with latency, and labels for the
 * first `labelShare` of them. Returns the number of labelled rows.
 */
export async function logTraffic(
  base: string,
  model: { name: string; version: string },
  rows: readonly { inputs: Record<string, unknown>; output: unknown; truth?: number }[],
  window: { start: number; end: number; labelShare?: number; latencyMs?: number },
): Promise<number> {
  const step = (window.end - window.start) / rows.length;
  const ids = rows.map(() => `req-${process.pid}-${++requestCounter}`);
  const records = rows.map((row, i) => ({
    request_id: ids[i],
    model_name: model.name,
    model_version: model.version,
    timestamp_ms: Math.floor(window.start + i * step),
    inputs: row.inputs,
    outputs: row.output,
    latency_ms: (window.latencyMs ?? 5) + (i % 10),
  }));
  for (let i = 0; i < records.length; i += 2000) {
    const answer = await call(base, "POST", "/api/2.0/slipway/inference-log", { records: records.slice(i, i + 2000) });
    if (answer.status !== 200) throw new Error(`inference-log: ${answer.text}`);
  }
  const labelled = Math.floor(rows.length * (window.labelShare ?? 0));
  const labels = rows.slice(0, labelled).map((row, i) => ({ request_id: ids[i], label: row.truth }));
  if (labels.length > 0) {
    const answer = await call(base, "POST", "/api/2.0/slipway/feedback", { labels });
    if (answer.status !== 200) throw new Error(`feedback: ${answer.text}`);
  }
  return labelled;
}

/**
 * Logs one failed request per status in `statuses` between `start` and `end` (evenly spaced), as a model server does:
 * one record each, row 0, no inputs, outputs null, with the status. Returns their request ids.
 */
export async function logFailures(
  base: string,
  model: { name: string; version: string },
  statuses: readonly number[],
  window: { start: number; end: number; latencyMs?: number },
): Promise<string[]> {
  const step = (window.end - window.start) / statuses.length;
  const ids = statuses.map(() => `failed-${process.pid}-${++requestCounter}`);
  const records = statuses.map((status, i) => ({
    request_id: ids[i],
    row_index: 0,
    model_name: model.name,
    model_version: model.version,
    timestamp_ms: Math.floor(window.start + i * step),
    inputs: {},
    outputs: null,
    status,
    latency_ms: window.latencyMs ?? 1,
  }));
  const answer = await call(base, "POST", "/api/2.0/slipway/inference-log", { records });
  if (answer.status !== 200) throw new Error(`inference-log: ${answer.text}`);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// A webhook receiver

export interface Delivery {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
}

export interface Receiver {
  url: string;
  received: Delivery[];
  /** Requests answered with an error status. */
  refused: number;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A node:http receiver; `fail(n)` true makes it answer its n-th request (0-based) with 500. */
export async function startReceiver(fail: (n: number) => boolean = () => false): Promise<Receiver> {
  let requests = 0;
  const receiver: Receiver = {
    url: "",
    received: [],
    refused: 0,
    async waitFor(count, timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs;
      while (receiver.received.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${receiver.received.length} of ${count} deliveries`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      if (fail(requests++)) {
        receiver.refused++;
        res.writeHead(500).end("no");
        return;
      }
      receiver.received.push({ headers: req.headers, raw, body: JSON.parse(raw) as Record<string, unknown> });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}
