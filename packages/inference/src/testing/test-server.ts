/**
 * Test support: a real model server on a free port, serving model packages from local directories with
 * the real predictors, and small fetch helpers that return status, headers and body.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseMLmodel } from "@slipway/ml";
import type { BatcherOptions } from "../batching/batcher.js";
import { startModelServer, type RunningModelServer } from "../http/model-server.js";
import { builtinPredictors } from "../predictors/builtin.js";
import type { InputBatch, OutputTensor, PredictParams, PredictionBatch, Predictor } from "../predictors/predictor.js";
import type { PredictorRegistry } from "../predictors/predictor-registry.js";
import { vertexSettings } from "../protocols/vertex.js";
import { InferenceMetrics } from "../serving/metrics.js";
import { ModelSet } from "../serving/model-set.js";
import { ServedModel } from "../serving/served-model.js";

export interface TestModel {
  name: string;
  /** A package directory to load with the built-in predictors... */
  dir?: string;
  /** ...or a predictor to serve as it is. */
  predictor?: Predictor;
  version?: string;
  batching?: BatcherOptions;
}

export interface TestServer {
  url: string;
  server: RunningModelServer;
  models: ModelSet;
  metrics: InferenceMetrics;
  close(): Promise<void>;
}

export async function startTestServer(
  list: readonly TestModel[],
  options: { bodyLimit?: number; env?: Record<string, string> } = {},
): Promise<TestServer> {
  const registry = builtinPredictors();
  const models = new ModelSet();
  const metrics = new InferenceMetrics({ defaultMetrics: false });
  for (const m of list) {
    const predictor = m.predictor ?? (await loadDir(registry, m.dir));
    const served = new ServedModel({
      name: m.name,
      ...(m.version === undefined ? {} : { version: m.version }),
      predictor,
      hooks: metrics.modelHooks(),
      ...(m.batching ? { batching: m.batching } : {}),
    });
    await served.start();
    models.add(served);
  }
  const server = await startModelServer({
    models,
    metrics,
    version: "0.0.0-test",
    vertex: vertexSettings(options.env ?? {}, list[0]?.name ?? "model"),
    host: "127.0.0.1",
    port: 0,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
  });
  return { url: server.url, server, models, metrics, close: () => server.close() };
}

async function loadDir(registry: PredictorRegistry, dir: string | undefined): Promise<Predictor> {
  if (dir === undefined) throw new Error("a test model needs a dir or a predictor");
  return registry.load(dir, parseMLmodel(await readFile(join(dir, "MLmodel"), "utf8")));
}

/**
 * A predictor for tests of the request path: one `text` string column in, `label` (the text upper-cased)
 * and `length` out; its calls wait while `hold()` is in effect, so tests can fill the admission queue.
 */
export function echoPredictor(): Predictor & { hold(): void; release(): void; calls: number } {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const predictor = {
    kind: "test/echo",
    platform: "slipway_echo",
    batchable: true,
    labelOutput: "label",
    calls: 0,
    signature: {
      inputs: { kind: "columns", columns: [{ name: "text", type: "string", required: true }] },
      outputs: {
        kind: "columns",
        columns: [
          { name: "label", type: "string", required: true },
          { name: "length", type: "long", required: true },
        ],
      },
      params: [{ name: "suffix", type: "string", default: "", shape: null }],
    },
    hold() {
      gate = new Promise((r) => (open = r));
    },
    release() {
      open?.();
      gate = undefined;
    },
    async predict(batch: InputBatch, params?: PredictParams): Promise<PredictionBatch> {
      predictor.calls++;
      if (gate) await gate;
      if (batch.kind !== "columns") throw new Error("columns expected");
      const texts = batch.columns.get("text")!.values as readonly string[];
      const suffix = typeof params?.suffix === "string" ? params.suffix : "";
      return {
        rows: batch.rows,
        outputs: new Map<string, OutputTensor>([
          ["label", { dtype: "str", shape: [batch.rows], data: texts.map((t) => t.toUpperCase() + suffix) }],
          ["length", { dtype: "int64", shape: [batch.rows], data: BigInt64Array.from(texts, (t) => BigInt(t.length)) }],
        ]),
      };
    },
    async warmup() {},
    async close() {},
  } satisfies Predictor & { hold(): void; release(): void; calls: number };
  return predictor;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

async function result(response: Response): Promise<HttpResult> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POSTs `body` (JSON-encoded unless a string) with a content type (default `application/json`). */
export async function post(
  url: string,
  body: unknown,
  contentType: string | null = "application/json",
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (contentType !== null) headers["content-type"] = contentType;
  return result(
    await fetch(url, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) }),
  );
}

export async function get(url: string): Promise<HttpResult> {
  return result(await fetch(url));
}
