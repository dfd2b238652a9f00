/** Reads runs and experiments out of the SQL store and shapes them as MLflow's wire entities. */
import {
  notFound,
  type DatasetInput,
  type Experiment,
  type InputTag,
  type Metric,
  type Run,
  type RunInfo,
  type RunStatus,
} from "@slipway/protocol";
import { placeholders, type Dialect, type SqlExecutor, type SqlValue } from "../../platform/db/sql-db.js";

export interface RunRow {
  run_uuid: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: string;
  artifact_uri: string;
}

export interface ExperimentRow {
  experiment_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}

export interface MetricRow {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  is_nan: number;
}

export const RUN_COLUMNS =
  "run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri";
export const EXPERIMENT_COLUMNS =
  "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";

export function metricValue(row: MetricRow): number {
  return row.is_nan ? NaN : row.value;
}

export function toMetric(row: MetricRow): Metric {
  return { key: row.key, value: metricValue(row), timestamp: row.timestamp, step: row.step };
}

export function toRunInfo(row: RunRow): RunInfo {
  const info: RunInfo = {
    run_id: row.run_uuid,
    run_uuid: row.run_uuid,
    run_name: row.name,
    experiment_id: String(row.experiment_id),
    user_id: row.user_id,
    status: row.status as RunStatus,
    start_time: row.start_time,
    artifact_uri: row.artifact_uri,
    lifecycle_stage: row.lifecycle_stage,
  };
  if (row.end_time !== null) info.end_time = row.end_time;
  return info;
}

export async function getRunRow(db: SqlExecutor, runId: string): Promise<RunRow> {
  const row = await db.get<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_uuid = ?`, [runId]);
  if (!row) throw notFound(`Run with id=${runId} not found`);
  return row;
}

export async function getExperimentRow(db: SqlExecutor, id: number, label = String(id)): Promise<ExperimentRow> {
  const row = await db.get<ExperimentRow>(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE experiment_id = ?`, [
    id,
  ]);
  if (!row) throw notFound(`No Experiment with id=${label} exists`);
  return row;
}

/** Loads experiments with their tags, in the order of `ids`. */
export async function loadExperiments(db: SqlExecutor, ids: readonly number[]): Promise<Experiment[]> {
  if (ids.length === 0) return [];
  const list = placeholders(ids.length);
  const rows = await db.all<ExperimentRow>(
    `SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE experiment_id IN (${list})`,
    ids,
  );
  const tags = await db.all<{ experiment_id: number; key: string; value: string }>(
    `SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN (${list}) ORDER BY key`,
    ids,
  );
  const byId = new Map(rows.map((r) => [r.experiment_id, r]));
  const tagsById = new Map<number, { key: string; value: string }[]>();
  for (const t of tags) {
    let list2 = tagsById.get(t.experiment_id);
    if (!list2) tagsById.set(t.experiment_id, (list2 = []));
    list2.push({ key: t.key, value: t.value });
  }
  const out: Experiment[] = [];
  for (const id of ids) {
    const r = byId.get(id);
    if (!r) continue;
    const e: Experiment = {
      experiment_id: String(r.experiment_id),
      name: r.name,
      artifact_location: r.artifact_location,
      lifecycle_stage: r.lifecycle_stage,
      last_update_time: r.last_update_time,
      creation_time: r.creation_time,
    };
    const t = tagsById.get(id);
    if (t) e.tags = t;
    out.push(e);
  }
  return out;
}

function group<T extends { run_uuid: string }>(rows: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const r of rows) {
    let list = map.get(r.run_uuid);
    if (!list) map.set(r.run_uuid, (list = []));
    list.push(r);
  }
  return map;
}

/** A JSON array of objects with the given columns, aggregated per group by the database itself. */
function jsonArrayOf(dialect: Dialect, cols: readonly string[]): string {
  const pairs = cols.map((c) => `'${c}', ${c}`).join(", ");
  return dialect === "sqlite" ? `json_group_array(json_object(${pairs}))` : `json_agg(json_build_object(${pairs}))`;
}

/**
 * Per-run arrays from `jsonArrayOf`, each sorted by key. Sorting a run's dozen keys here is cheaper than
 * an ORDER BY over the whole page (SQLite's index order usually leaves nothing to do).
 */
function byRunSortedByKey<T extends { key: string }>(
  rows: readonly { run_uuid: string; j: unknown }[],
): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const r of rows) {
    const list = (typeof r.j === "string" ? JSON.parse(r.j) : r.j) as T[];
    let sorted = true;
    for (let i = 1; i < list.length && sorted; i++) if (list[i - 1]!.key > list[i]!.key) sorted = false;
    if (!sorted) list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    map.set(r.run_uuid, list);
  }
  return map;
}

/** Loads full runs (info, latest metrics, params, tags, inputs) in the order of `ids`, in a handful of queries. */
export async function loadRuns(db: SqlExecutor, ids: readonly string[]): Promise<Run[]> {
  if (ids.length === 0) return [];
  const out: Run[] = [];
  // chunk to stay far below the drivers' bound-parameter limits
  for (let i = 0; i < ids.length; i += 500) {
    out.push(...(await loadRunChunk(db, ids.slice(i, i + 500))));
  }
  return out;
}

async function loadRunChunk(db: SqlExecutor, ids: readonly string[]): Promise<Run[]> {
  const list = placeholders(ids.length);
  const params = ids as SqlValue[];
  // params, tags and latest metrics come back as one JSON array per run, built by the database: a
  // hundred rows to read instead of a few thousand
  const perRun = (table: string, cols: readonly string[]) =>
    db.all<{ run_uuid: string; j: unknown }>(
      `SELECT run_uuid, ${jsonArrayOf(db.dialect, cols)} AS j FROM ${table} WHERE run_uuid IN (${list}) GROUP BY run_uuid`,
      params,
    );
  const [runs, metrics, runParams, tags, datasets, models] = await Promise.all([
    db.all<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_uuid IN (${list})`, params),
    perRun("latest_metrics", ["key", "value", "timestamp", "step", "is_nan"]),
    perRun("params", ["key", "value"]),
    perRun("tags", ["key", "value"]),
    db.all<{
      run_uuid: string;
      tags: string;
      name: string;
      digest: string;
      source_type: string;
      source: string;
      schema: string | null;
      profile: string | null;
    }>(
      `SELECT i.run_uuid, i.tags, d.name, d.digest, d.source_type, d.source, d.schema, d.profile
         FROM run_dataset_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid
        WHERE i.run_uuid IN (${list}) ORDER BY i.seq`,
      params,
    ),
    db.all<{ run_uuid: string; model_id: string }>(
      `SELECT run_uuid, model_id FROM run_model_inputs WHERE run_uuid IN (${list}) ORDER BY seq`,
      params,
    ),
  ]);
  const byId = new Map(runs.map((r) => [r.run_uuid, r]));
  const m = byRunSortedByKey<MetricRow>(metrics);
  const p = byRunSortedByKey<{ key: string; value: string }>(runParams);
  const t = byRunSortedByKey<{ key: string; value: string }>(tags);
  const d = group(datasets);
  const mi = group(models);
  const out: Run[] = [];
  for (const id of ids) {
    const row = byId.get(id);
    if (!row) continue;
    const run: Run = {
      info: toRunInfo(row),
      data: {},
      inputs: {},
    };
    const rm = m.get(id);
    if (rm) run.data.metrics = rm.map(toMetric);
    const rp = p.get(id);
    if (rp) run.data.params = rp;
    const rt = t.get(id);
    if (rt) run.data.tags = rt;
    const rd = d.get(id);
    if (rd) {
      run.inputs!.dataset_inputs = rd.map((x): DatasetInput => {
        const input: DatasetInput = {
          dataset: { name: x.name, digest: x.digest, source_type: x.source_type, source: x.source },
        };
        if (x.schema !== null) input.dataset.schema = x.schema;
        if (x.profile !== null) input.dataset.profile = x.profile;
        const inputTags = JSON.parse(x.tags) as InputTag[];
        if (inputTags.length > 0) input.tags = inputTags;
        return input;
      });
    }
    const rmi = mi.get(id);
    if (rmi) run.inputs!.model_inputs = rmi.map((x) => ({ model_id: x.model_id }));
    out.push(run);
  }
  return out;
}
