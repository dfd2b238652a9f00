/**
 * A monitor's reference data and baseline: where they are (the served version's `reference_data.jsonl`, a
 * `runs:/` or `models:/` URI), reading them (JSON Lines, JSON, CSV or Parquet, through the SDK's `readTable`), and a
 * small cache so that a monitor evaluated every few minutes does not re-read the same file.
 *
 * Every failure is a `ReferenceError` whose message says what was looked for and where; the evaluation stores it
 * as the window's error.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { MlflowError, type MonitorMetric } from "@slipway/protocol";
import { tableFromColumns, type Table } from "@slipway/ml";
import { readTable, tableFormatOf } from "@slipway/sdk";
import type { ArtifactRepository } from "../../artifacts/artifact-repository.js";
import { openArtifactRepository } from "../../artifacts/registry.js";
import type { RegistryService } from "../registry/registry-service.js";
import { proxiedPath, type TrackingService } from "../tracking/tracking-service.js";
import { DEFAULT_REFERENCE_FILE, parseReferenceUri, type MonitorDefinition } from "./monitor-definition.js";
import { PREDICTION_COLUMN, baselineFromRunMetrics, predictionColumns } from "./monitor-performance.js";

/** The reference could not be found or read; the message is the window's error. */
export class ReferenceError extends Error {
  override readonly name = "ReferenceError";
}

export interface LoadedReference {
  /** What was read, for people: `models:/spam/3/reference_data.jsonl (mlflow-artifacts:/…)`. */
  uri: string;
  table: Table;
}

export interface ReferenceLoaderDeps {
  registry: RegistryService;
  tracking: TrackingService;
  /** The repository behind `mlflow-artifacts:` URIs. */
  artifacts: ArtifactRepository;
  /** Opens other artifact locations (file:, s3:); default `openArtifactRepository` without S3 settings. */
  openRepository?: (uri: string) => Promise<ArtifactRepository>;
  /** Tables kept (default 8) and for how long, ms (default 10 minutes). */
  cacheSize?: number;
  cacheTtlMs?: number;
}

const MAX_REFERENCE_BYTES = 512 * 1024 * 1024;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readStream(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_REFERENCE_BYTES) throw new ReferenceError(`larger than ${MAX_REFERENCE_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Expands a `prediction` column of objects into `prediction.<key>` columns, as model outputs are. */
export function expandPredictions(table: Table): Table {
  const values = table.columns.get(PREDICTION_COLUMN);
  if (values === undefined || ArrayBuffer.isView(values)) return table;
  const list = values;
  if (!list.some((v) => typeof v === "object" && v !== null && !Array.isArray(v))) return table;
  const rows = list.map((v) => predictionColumns(v));
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const columns: [string, unknown[]][] = [];
  for (const name of table.columnNames) {
    if (name === PREDICTION_COLUMN) {
      for (const key of keys) columns.push([key, rows.map((r) => r[key])]);
    } else {
      columns.push([name, [...(table.columns.get(name) as readonly unknown[])]]);
    }
  }
  return tableFromColumns(columns);
}

export class ReferenceLoader {
  private readonly deps: ReferenceLoaderDeps;
  private readonly cache = new Map<string, { table: Table; at: number }>();
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;

  constructor(deps: ReferenceLoaderDeps) {
    this.deps = deps;
    this.cacheSize = deps.cacheSize ?? 8;
    this.cacheTtlMs = deps.cacheTtlMs ?? 600_000;
  }

  /** The reference table of a monitor whose followed model resolved to `version`. */
  async load(def: MonitorDefinition, version: string): Promise<LoadedReference> {
    if (def.reference.source === "model") {
      const root = await this.versionLocation(def.model_name, version);
      const uri = `models:/${def.model_name}/${version}/${DEFAULT_REFERENCE_FILE}`;
      return {
        uri,
        table: await this.read(
          `${root}/${DEFAULT_REFERENCE_FILE}`,
          `${uri}: no file ${DEFAULT_REFERENCE_FILE} in the artifacts of model '${def.model_name}' version ${version} (${root}); log it beside the model files (rows of the model's inputs, with optional label and prediction), or set reference.source to 'artifact' with a URI`,
        ),
      };
    }
    const uri = def.reference.uri!;
    const parsed = parseReferenceUri(uri);
    if (parsed === undefined) throw new ReferenceError(`${uri}: not a runs:/ or models:/ URI`);
    let root: string;
    if (parsed.kind === "run") {
      try {
        root = (await this.deps.tracking.getRun({ run_id: parsed.runId })).run.info.artifact_uri ?? "";
      } catch (error) {
        throw new ReferenceError(`${uri}: run '${parsed.runId}' not found (${describe(error)})`);
      }
    } else {
      let refVersion = parsed.version;
      if (refVersion === undefined) {
        try {
          refVersion = (await this.deps.registry.getModelVersionByAlias({ name: parsed.name, alias: parsed.alias! }))
            .model_version.version;
        } catch (error) {
          throw new ReferenceError(`${uri}: alias '${parsed.alias}' of model '${parsed.name}': ${describe(error)}`);
        }
      }
      root = await this.versionLocation(parsed.name, refVersion);
    }
    return { uri, table: await this.read(`${root}/${parsed.path}`, `${uri}: no such file (${root}/${parsed.path})`) };
  }

  /** The baseline metrics of a version: its run's accuracy / f1 / roc_auc (or test_…); `{}` without a run. */
  async baseline(modelName: string, version: string): Promise<Partial<Record<MonitorMetric, number>>> {
    try {
      const { model_version } = await this.deps.registry.getModelVersion({ name: modelName, version });
      if (model_version.run_id === undefined || model_version.run_id === "") return {};
      const { run } = await this.deps.tracking.getRun({ run_id: model_version.run_id });
      return baselineFromRunMetrics(run.data.metrics ?? []);
    } catch {
      return {};
    }
  }

  private async versionLocation(name: string, version: string): Promise<string> {
    try {
      const { artifact_uri } = await this.deps.registry.getModelVersionDownloadUri({ name, version });
      return artifact_uri.replace(/\/+$/, "");
    } catch (error) {
      throw new ReferenceError(`model '${name}' version ${version}: ${describe(error)}`);
    }
  }

  private async read(location: string, missing: string): Promise<Table> {
    const cached = this.cache.get(location);
    if (cached !== undefined && Date.now() - cached.at < this.cacheTtlMs) {
      this.cache.delete(location);
      this.cache.set(location, cached);
      return cached.table;
    }
    const name = basename(location);
    if (tableFormatOf(name) === undefined) {
      throw new ReferenceError(
        `${location}: cannot tell the format from the name (use .jsonl, .json, .csv or .parquet)`,
      );
    }
    let bytes: Buffer;
    try {
      bytes = await this.fetchBytes(location);
    } catch (error) {
      if (error instanceof ReferenceError) throw error;
      if (error instanceof MlflowError && error.code === "RESOURCE_DOES_NOT_EXIST") throw new ReferenceError(missing);
      throw new ReferenceError(`${location}: ${describe(error)}`);
    }
    const dir = await mkdtemp(join(tmpdir(), "slipway-reference-"));
    let table: Table;
    try {
      const path = join(dir, name);
      await writeFile(path, bytes);
      table = expandPredictions(await readTable(path));
    } catch (error) {
      throw new ReferenceError(
        `${location}: unreadable reference data: ${describe(error).replace(join(dir, name), name)}`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (table.rowCount === 0) throw new ReferenceError(`${location}: the reference data has no rows`);
    this.cache.set(location, { table, at: Date.now() });
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return table;
  }

  private async fetchBytes(location: string): Promise<Buffer> {
    const proxied = proxiedPath(location);
    if (proxied !== null) {
      const { body } = await this.deps.artifacts.get(proxied);
      return readStream(body);
    }
    const slash = location.lastIndexOf("/");
    const dir = slash <= 0 ? "." : location.slice(0, slash);
    const open = this.deps.openRepository ?? ((uri: string) => openArtifactRepository(uri));
    const repo = await open(dir);
    const { body } = await repo.get(location.slice(slash + 1));
    return readStream(body);
  }
}
