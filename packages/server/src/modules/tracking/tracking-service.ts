/**
 * The tracking service: MLflow's tracking operations over one SQL implementation (SQLite or PostgreSQL).
 * It knows nothing of HTTP; the REST routes, the CLI and the tests call it directly.
 */
import { randomBytes, randomUUID } from "node:crypto";
import {
  MlflowError,
  invalidParameter,
  notFound,
  type DatasetInput,
  type Param,
  type RequestOf,
  type ResponseOf,
  type RunTag,
  type TrackingApi,
} from "@slipway/protocol";
import type { SqlDb, SqlExecutor, SqlValue } from "../../platform/db/sql-db.js";
import { valuesList } from "../../platform/db/sql-db.js";
import type { ArtifactRepository } from "../../artifacts/artifact-repository.js";
import { validateArtifactPath } from "../../artifacts/artifact-repository.js";
import { randomRunName } from "./run-names.js";
import {
  EXPERIMENT_COLUMNS,
  getExperimentRow,
  getRunRow,
  loadExperiments,
  loadRuns,
  toRunInfo,
  type ExperimentRow,
  type RunRow,
} from "./run-reader.js";
import { compileExperimentSearch, compileRunSearch } from "./search-sql.js";
import {
  comparePoints,
  decodePacked,
  sampleInStepOrder,
  decodePoints,
  encodePoints,
  renderPoints,
  sortUnique,
  type Point,
  type SeriesState,
} from "./metric-chunks.js";
import {
  LIMITS,
  decodePageToken,
  encodePageToken,
  parseExperimentId,
  truncate,
  validateExperimentName,
  validateKey,
  validateMaxResults,
  validateRunId,
} from "./validation.js";

const RUN_NAME_TAG = "mlflow.runName";
const USER_TAG = "mlflow.user";
/** Artifact URIs handed to clients when the server proxies artifacts (MLflow's `--serve-artifacts`). */
export const PROXY_SCHEME = "mlflow-artifacts:";

export interface TrackingServiceDeps {
  db: SqlDb;
  /** Root repository behind the `mlflow-artifacts:` proxy. */
  artifacts: ArtifactRepository;
  now?: () => number;
}

type Req<M extends keyof TrackingApi> = RequestOf<M>;
type Res<M extends keyof TrackingApi> = Promise<ResponseOf<M>>;

interface NormalMetric {
  key: string;
  value: number;
  isNan: number;
  timestamp: number;
  step: number;
}

export class TrackingService implements TrackingApi {
  private readonly db: SqlDb;
  private readonly artifacts: ArtifactRepository;
  private readonly now: () => number;

  constructor(deps: TrackingServiceDeps) {
    this.db = deps.db;
    this.artifacts = deps.artifacts;
    this.now = deps.now ?? Date.now;
  }

  // ---------------------------------------------------------------- experiments

  async createExperiment(req: Req<"createExperiment">): Res<"createExperiment"> {
    const name = validateExperimentName(req.name);
    const tags = (req.tags ?? []).map((t) => this.experimentTag(t.key, t.value));
    if (req.artifact_location !== undefined && req.artifact_location !== "") {
      validateArtifactLocation(req.artifact_location);
    }
    const now = this.now();
    try {
      const id = await this.db.transaction(async (tx) => {
        const existing = await tx.get(`SELECT 1 AS x FROM experiments WHERE name = ?`, [name]);
        if (existing) throw new MlflowError("RESOURCE_ALREADY_EXISTS", `Experiment(name=${name}) already exists.`);
        const row = await tx.get<{ experiment_id: number }>(
          `INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)
           VALUES (?, '', 'active', ?, ?) RETURNING experiment_id`,
          [name, now, now],
        );
        const experimentId = row!.experiment_id;
        const location = req.artifact_location || `${PROXY_SCHEME}/${experimentId}`;
        await tx.run(`UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?`, [location, experimentId]);
        for (const t of tags) {
          await tx.run(`INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)`, [
            experimentId,
            t.key,
            t.value,
          ]);
        }
        return experimentId;
      });
      return { experiment_id: String(id) };
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new MlflowError("RESOURCE_ALREADY_EXISTS", `Experiment(name=${name}) already exists.`);
      }
      throw error;
    }
  }

  private experimentTag(key: string, value: string): { key: string; value: string } {
    if (key.length > LIMITS.maxExperimentTagKey) {
      throw invalidParameter(
        `Experiment tag key '${key.slice(0, 50)}...' exceeds the maximum length of ${LIMITS.maxExperimentTagKey}`,
      );
    }
    validateKey("tag", key);
    return { key, value: truncate(value, LIMITS.maxExperimentTagValue) };
  }

  async getExperiment(req: Req<"getExperiment">): Res<"getExperiment"> {
    const id = parseExperimentId(req.experiment_id);
    await getExperimentRow(this.db, id, req.experiment_id);
    const [experiment] = await loadExperiments(this.db, [id]);
    return { experiment: experiment! };
  }

  async getExperimentByName(req: Req<"getExperimentByName">): Res<"getExperimentByName"> {
    const row = await this.db.get<{ experiment_id: number }>(`SELECT experiment_id FROM experiments WHERE name = ?`, [
      req.experiment_name,
    ]);
    if (!row) throw notFound(`Could not find experiment with name '${req.experiment_name}'`);
    const [experiment] = await loadExperiments(this.db, [row.experiment_id]);
    return { experiment: experiment! };
  }

  async searchExperiments(req: Req<"searchExperiments">): Res<"searchExperiments"> {
    const limit = validateMaxResults("max_results", req.max_results, LIMITS.searchExperimentsDefault, LIMITS.searchMax);
    const offset = decodePageToken(req.page_token);
    const q = compileExperimentSearch(
      {
        viewType: req.view_type ?? "ACTIVE_ONLY",
        offset,
        limit: limit + 1,
        ...(req.filter !== undefined ? { filter: req.filter } : {}),
        ...(req.order_by !== undefined ? { orderBy: req.order_by } : {}),
      },
      this.db.dialect,
    );
    const rows = await this.db.all<{ experiment_id: number }>(q.sql, q.params);
    const ids = rows.slice(0, limit).map((r) => r.experiment_id);
    const experiments = await loadExperiments(this.db, ids);
    const out: ResponseOf<"searchExperiments"> = {};
    if (experiments.length > 0) out.experiments = experiments;
    if (rows.length > limit) out.next_page_token = encodePageToken(offset + limit);
    return out;
  }

  async deleteExperiment(req: Req<"deleteExperiment">): Res<"deleteExperiment"> {
    const id = parseExperimentId(req.experiment_id);
    if (id === 0)
      throw invalidParameter("Cannot delete the default experiment '0'. This is an internally reserved experiment.");
    const now = this.now();
    await this.db.transaction(async (tx) => {
      await getExperimentRow(tx, id, req.experiment_id);
      await tx.run(
        `UPDATE experiments SET lifecycle_stage = 'deleted', deleted_time = ?, last_update_time = ? WHERE experiment_id = ?`,
        [now, now, id],
      );
      await tx.run(
        `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = 'active'`,
        [now, id],
      );
    });
    return {};
  }

  async restoreExperiment(req: Req<"restoreExperiment">): Res<"restoreExperiment"> {
    const id = parseExperimentId(req.experiment_id);
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const row = await getExperimentRow(tx, id, req.experiment_id);
      if (row.lifecycle_stage !== "deleted") {
        throw invalidParameter(`Cannot restore an active experiment. Experiment ${id} is in the 'active' state.`);
      }
      const deletedAt = await tx.get<{ deleted_time: number | null }>(
        `SELECT deleted_time FROM experiments WHERE experiment_id = ?`,
        [id],
      );
      await tx.run(
        `UPDATE experiments SET lifecycle_stage = 'active', deleted_time = NULL, last_update_time = ? WHERE experiment_id = ?`,
        [now, id],
      );
      // runs deleted together with the experiment come back with it
      await tx.run(
        `UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ? AND deleted_time = ?`,
        [id, deletedAt?.deleted_time ?? -1],
      );
    });
    return {};
  }

  async updateExperiment(req: Req<"updateExperiment">): Res<"updateExperiment"> {
    const id = parseExperimentId(req.experiment_id);
    if (req.new_name === undefined) return {};
    const name = validateExperimentName(req.new_name);
    try {
      await this.db.transaction(async (tx) => {
        const row = await getExperimentRow(tx, id, req.experiment_id);
        if (row.lifecycle_stage !== "active") {
          throw invalidParameter(
            `Cannot rename a non-active experiment. Experiment ${id} is in the '${row.lifecycle_stage}' state.`,
          );
        }
        const clash = await tx.get(`SELECT 1 AS x FROM experiments WHERE name = ? AND experiment_id <> ?`, [name, id]);
        if (clash) throw new MlflowError("RESOURCE_ALREADY_EXISTS", `Experiment(name=${name}) already exists.`);
        await tx.run(`UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?`, [
          name,
          this.now(),
          id,
        ]);
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new MlflowError("RESOURCE_ALREADY_EXISTS", `Experiment(name=${name}) already exists.`);
      throw error;
    }
    return {};
  }

  async setExperimentTag(req: Req<"setExperimentTag">): Res<"setExperimentTag"> {
    const id = parseExperimentId(req.experiment_id);
    const tag = this.experimentTag(req.key, req.value);
    await this.db.transaction(async (tx) => {
      const row = await getExperimentRow(tx, id, req.experiment_id);
      if (row.lifecycle_stage !== "active") {
        throw invalidParameter(
          `The experiment ${id} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`,
        );
      }
      await tx.run(
        `INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
         ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`,
        [id, tag.key, tag.value],
      );
      await tx.run(`UPDATE experiments SET last_update_time = ? WHERE experiment_id = ?`, [this.now(), id]);
    });
    return {};
  }

  async deleteExperimentTag(req: Req<"deleteExperimentTag">): Res<"deleteExperimentTag"> {
    const id = parseExperimentId(req.experiment_id);
    await this.db.transaction(async (tx) => {
      await getExperimentRow(tx, id, req.experiment_id);
      const { changes } = await tx.run(`DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?`, [
        id,
        req.key,
      ]);
      if (changes === 0) throw notFound(`No tag with name: ${req.key} in experiment with id ${id}`);
    });
    return {};
  }

  // ---------------------------------------------------------------- runs

  async createRun(req: Req<"createRun">): Res<"createRun"> {
    const experimentId = parseExperimentId(req.experiment_id ?? "0");
    const tags = (req.tags ?? []).map((t) => this.runTag(t));
    const nameTag = tags.find((t) => t.key === RUN_NAME_TAG)?.value;
    if (req.run_name && nameTag !== undefined && nameTag !== req.run_name) {
      throw invalidParameter(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${req.run_name}', mlflow.runName='${nameTag}').`,
      );
    }
    const name = req.run_name || nameTag || randomRunName();
    const runId = randomBytes(16).toString("hex");
    const startTime = req.start_time ?? this.now();
    const userId = req.user_id ?? tags.find((t) => t.key === USER_TAG)?.value ?? "";
    const allTags = new Map(tags.map((t) => [t.key, t.value]));
    allTags.set(RUN_NAME_TAG, name);
    await this.db.transaction(async (tx) => {
      const experiment = await getExperimentRow(tx, experimentId, req.experiment_id ?? "0");
      if (experiment.lifecycle_stage !== "active") {
        throw invalidParameter(
          `The experiment ${experimentId} must be in the 'active' state. Current state is ${experiment.lifecycle_stage}.`,
        );
      }
      const artifactUri = `${experiment.artifact_location.replace(/\/+$/, "")}/${runId}/artifacts`;
      await tx.run(
        `INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri)
         VALUES (?, ?, ?, ?, 'RUNNING', ?, NULL, 'active', ?)`,
        [runId, experimentId, name, userId, startTime, artifactUri],
      );
      await this.insertTags(
        tx,
        runId,
        [...allTags].map(([key, value]) => ({ key, value })),
      );
    });
    const [run] = await loadRuns(this.db, [runId]);
    return { run: run! };
  }

  async updateRun(req: Req<"updateRun">): Res<"updateRun"> {
    const runId = this.runIdOf(req);
    if (req.end_time !== undefined && req.end_time < 0)
      throw invalidParameter(`Invalid value ${req.end_time} for parameter 'end_time'`);
    const row = await this.db.transaction(async (tx) => {
      const run = await this.activeRun(tx, runId);
      const status = req.status ?? run.status;
      const endTime = req.end_time ?? run.end_time;
      const name = req.run_name || run.name;
      await tx.run(`UPDATE runs SET status = ?, end_time = ?, name = ? WHERE run_uuid = ?`, [
        status,
        endTime,
        name,
        runId,
      ]);
      if (req.run_name) await this.upsertTag(tx, runId, RUN_NAME_TAG, name);
      return { ...run, status, end_time: endTime, name };
    });
    return { run_info: toRunInfo(row) };
  }

  async deleteRun(req: Req<"deleteRun">): Res<"deleteRun"> {
    const runId = validateRunId(req.run_id);
    await this.db.transaction(async (tx) => {
      await getRunRow(tx, runId);
      await tx.run(`UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?`, [
        this.now(),
        runId,
      ]);
    });
    return {};
  }

  async restoreRun(req: Req<"restoreRun">): Res<"restoreRun"> {
    const runId = validateRunId(req.run_id);
    await this.db.transaction(async (tx) => {
      await getRunRow(tx, runId);
      await tx.run(`UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?`, [runId]);
    });
    return {};
  }

  async getRun(req: Req<"getRun">): Res<"getRun"> {
    const runId = this.runIdOf(req);
    const [run] = await loadRuns(this.db, [runId]);
    if (!run) throw notFound(`Run with id=${runId} not found`);
    return { run };
  }

  async searchRuns(req: Req<"searchRuns">): Res<"searchRuns"> {
    const limit = validateMaxResults("max_results", req.max_results, LIMITS.searchRunsDefault, LIMITS.searchMax);
    const offset = decodePageToken(req.page_token);
    const experimentIds = (req.experiment_ids ?? []).map(parseExperimentId);
    if (experimentIds.length === 0) return {};
    const q = compileRunSearch(
      {
        experimentIds,
        viewType: req.run_view_type ?? "ACTIVE_ONLY",
        offset,
        limit: limit + 1,
        ...(req.filter !== undefined ? { filter: req.filter } : {}),
        ...(req.order_by !== undefined ? { orderBy: req.order_by } : {}),
      },
      this.db.dialect,
    );
    const rows = await this.db.all<{ run_uuid: string }>(q.sql, q.params);
    const runs = await loadRuns(
      this.db,
      rows.slice(0, limit).map((r) => r.run_uuid),
    );
    const out: ResponseOf<"searchRuns"> = {};
    if (runs.length > 0) out.runs = runs;
    if (rows.length > limit) out.next_page_token = encodePageToken(offset + limit);
    return out;
  }

  // ---------------------------------------------------------------- logging

  async logMetric(req: Req<"logMetric">): Res<"logMetric"> {
    const runId = this.runIdOf(req);
    const metric = normaliseMetric(req);
    await this.db.transaction(async (tx) => {
      await this.activeRun(tx, runId);
      await this.insertMetrics(tx, runId, [metric]);
    });
    return {};
  }

  async logParam(req: Req<"logParam">): Res<"logParam"> {
    const runId = this.runIdOf(req);
    const param = normaliseParam(req);
    await this.db.transaction(async (tx) => {
      await this.activeRun(tx, runId);
      await this.insertParams(tx, runId, [param]);
    });
    return {};
  }

  async setTag(req: Req<"setTag">): Res<"setTag"> {
    const runId = this.runIdOf(req);
    const tag = this.runTag(req);
    await this.db.transaction(async (tx) => {
      await this.activeRun(tx, runId);
      await this.insertTags(tx, runId, [tag]);
    });
    return {};
  }

  async deleteTag(req: Req<"deleteTag">): Res<"deleteTag"> {
    const runId = validateRunId(req.run_id);
    await this.db.transaction(async (tx) => {
      await this.activeRun(tx, runId);
      const { changes } = await tx.run(`DELETE FROM tags WHERE run_uuid = ? AND key = ?`, [runId, req.key]);
      if (changes === 0) throw notFound(`No tag with name: ${req.key} in run with id ${runId}`);
    });
    return {};
  }

  async logBatch(req: Req<"logBatch">): Res<"logBatch"> {
    const runId = validateRunId(req.run_id);
    const metrics = req.metrics ?? [];
    const params = req.params ?? [];
    const tags = req.tags ?? [];
    if (metrics.length > LIMITS.maxBatchMetrics) {
      throw invalidParameter(
        `A batch logging request can contain at most ${LIMITS.maxBatchMetrics} metrics. Got ${metrics.length} metrics. Please split up metrics across multiple requests and try again.`,
      );
    }
    if (params.length > LIMITS.maxBatchParams) {
      throw invalidParameter(
        `A batch logging request can contain at most ${LIMITS.maxBatchParams} params. Got ${params.length} params. Please split up params across multiple requests and try again.`,
      );
    }
    if (tags.length > LIMITS.maxBatchTags) {
      throw invalidParameter(
        `A batch logging request can contain at most ${LIMITS.maxBatchTags} tags. Got ${tags.length} tags. Please split up tags across multiple requests and try again.`,
      );
    }
    const total = metrics.length + params.length + tags.length;
    if (total > LIMITS.maxBatchEntities) {
      throw invalidParameter(
        `A batch logging request can contain at most ${LIMITS.maxBatchEntities} total metrics, params, and tags. Got ${total}. Please split up across multiple requests and try again.`,
      );
    }
    const normalMetrics = metrics.map(normaliseMetric);
    const normalParams = params.map(normaliseParam);
    const seen = new Map<string, string>();
    const duplicates = new Set<string>();
    for (const p of normalParams) {
      const prev = seen.get(p.key);
      if (prev !== undefined) duplicates.add(p.key);
      seen.set(p.key, p.value);
    }
    if (duplicates.size > 0) {
      throw invalidParameter(
        `Duplicate parameter keys have been submitted: [${[...duplicates].map((k) => `'${k}'`).join(", ")}]. Please ensure the request contains only one param value per param key.`,
      );
    }
    const normalTags = tags.map((t) => this.runTag(t));
    await this.db.transaction(async (tx) => {
      await this.activeRun(tx, runId);
      await this.insertParams(tx, runId, normalParams);
      await this.insertMetrics(tx, runId, normalMetrics);
      await this.insertTags(tx, runId, normalTags);
    });
    return {};
  }

  async logInputs(req: Req<"logInputs">): Res<"logInputs"> {
    const runId = validateRunId(req.run_id);
    const datasets = req.datasets ?? [];
    if (datasets.length > LIMITS.maxDatasetsPerRequest) {
      throw invalidParameter(`Minibatch dataset size exceeds the limit of ${LIMITS.maxDatasetsPerRequest} datasets.`);
    }
    datasets.forEach(validateDatasetInput);
    const models = req.models ?? [];
    await this.db.transaction(async (tx) => {
      const run = await this.activeRun(tx, runId);
      const seqRow = await tx.get<{ n: number }>(
        `SELECT COALESCE(MAX(seq), 0) AS n FROM run_dataset_inputs WHERE run_uuid = ?`,
        [runId],
      );
      let seq = Number(seqRow?.n ?? 0);
      for (const input of datasets) {
        const d = input.dataset;
        const existing = await tx.get<{ dataset_uuid: string }>(
          `SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?`,
          [run.experiment_id, d.name, d.digest],
        );
        let datasetId = existing?.dataset_uuid;
        if (!datasetId) {
          datasetId = randomUUID().replaceAll("-", "");
          await tx.run(
            `INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source, schema, profile)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
            [
              datasetId,
              run.experiment_id,
              d.name,
              d.digest,
              d.source_type,
              d.source,
              d.schema ?? null,
              d.profile ?? null,
            ],
          );
        }
        await tx.run(
          `INSERT INTO run_dataset_inputs (run_uuid, dataset_uuid, tags, seq) VALUES (?, ?, ?, ?)
           ON CONFLICT (run_uuid, dataset_uuid) DO NOTHING`,
          [runId, datasetId, JSON.stringify(input.tags ?? []), ++seq],
        );
      }
      for (const model of models) {
        if (!model.model_id) throw invalidParameter("Missing value for required parameter 'model_id'.");
        await tx.run(
          `INSERT INTO run_model_inputs (run_uuid, model_id, seq) VALUES (?, ?, ?) ON CONFLICT (run_uuid, model_id) DO NOTHING`,
          [runId, model.model_id, ++seq],
        );
      }
    });
    return {};
  }

  async logModel(req: Req<"logModel">): Res<"logModel"> {
    const runId = validateRunId(req.run_id);
    let model: unknown;
    try {
      model = JSON.parse(req.model_json);
    } catch {
      throw invalidParameter(`Malformed model info. 'model_json' must be valid JSON.`);
    }
    if (typeof model !== "object" || model === null || Array.isArray(model)) {
      throw invalidParameter(`Malformed model info. 'model_json' must be a JSON object.`);
    }
    await this.db.transaction(async (tx) => {
      await this.activeRun(tx, runId);
      const current = await tx.get<{ value: string }>(`SELECT value FROM tags WHERE run_uuid = ? AND key = ?`, [
        runId,
        "mlflow.log-model.history",
      ]);
      const history = current ? (JSON.parse(current.value) as unknown[]) : [];
      history.push(model);
      await this.upsertTag(tx, runId, "mlflow.log-model.history", JSON.stringify(history));
    });
    return {};
  }

  // ---------------------------------------------------------------- metric history

  async getMetricHistory(req: Req<"getMetricHistory">): Res<"getMetricHistory"> {
    const runId = this.runIdOf(req);
    await getRunRow(this.db, runId);
    const series = await this.series(this.db, runId, req.metric_key);
    const whole = req.max_results === undefined && req.page_token === undefined;
    // without max_results: the whole history (the documented behaviour; MLflow 3.4–3.6 return nothing, a known bug)
    const limit = whole
      ? Number.MAX_SAFE_INTEGER
      : validateMaxResults("max_results", req.max_results, 25000, Number.MAX_SAFE_INTEGER);
    const offset = decodePageToken(req.page_token);
    const page = series ? await this.historyPage(series, offset, limit) : { points: [], more: false };
    const out: ResponseOf<"getMetricHistory"> = {};
    if (page.points.length > 0) {
      out.metrics = page.points.map((p) => ({
        key: req.metric_key,
        value: p.value,
        timestamp: p.timestamp,
        step: p.step,
        run_id: runId,
      }));
    }
    if (page.more) out.next_page_token = encodePageToken(offset + limit);
    return out;
  }

  /**
   * The whole history of one metric as the UTF-8 JSON body of get-history, in pieces to be written in
   * order: the chunks' pre-rendered bytes, with no object, string or encoding per point on this path.
   * Unknown runs are reported before the first piece.
   */
  async metricHistoryJson(runId: string, key: string): Promise<AsyncIterable<Uint8Array>> {
    await getRunRow(this.db, validateRunId(runId));
    const series = await this.series(this.db, runId, key);
    if (!series || series.points === 0) return toAsync([Buffer.from("{}")]);
    if (!series.sorted) {
      const points = await this.allPoints(this.db, series);
      return toAsync([Buffer.from(`{"metrics":[${renderPoints(key, points)}]}`)]);
    }
    return this.streamChunks(series.series_id);
  }

  /**
   * The chunks of a sorted series, a few at a time as the response is written, so that memory does not grow
   * with the history. Chunks appended meanwhile are included; a merge of the tail keeps the first merged
   * chunk's sequence number, so reading on from the last number seen never repeats or skips a point.
   */
  private async *streamChunks(seriesId: number): AsyncGenerator<Uint8Array> {
    yield HISTORY_OPEN;
    let last = -1;
    let first = true;
    for (;;) {
      const rows = await this.db.all<{ seq: number; json: Uint8Array }>(
        `SELECT seq, json FROM metric_chunks WHERE series_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
        [seriesId, last, STREAM_CHUNKS],
      );
      for (const r of rows) {
        if (!first) yield COMMA;
        first = false;
        yield r.json;
        last = r.seq;
      }
      if (rows.length < STREAM_CHUNKS) break;
    }
    yield HISTORY_CLOSE;
  }

  private async series(db: SqlExecutor, runId: string, key: string): Promise<SeriesState | undefined> {
    return db.get<SeriesState>(`SELECT ${SERIES_COLUMNS} FROM metric_series WHERE run_uuid = ? AND key = ?`, [
      runId,
      key,
    ]);
  }

  /** Every point of a series, in history order and without duplicates. */
  private async allPoints(db: SqlExecutor, series: SeriesState): Promise<Point[]> {
    const rows = await db.all<{ points: Uint8Array }>(
      `SELECT points FROM metric_chunks WHERE series_id = ? ORDER BY seq`,
      [series.series_id],
    );
    const points: Point[] = [];
    for (const r of rows) decodePoints(r.points, points);
    return series.sorted ? points : sortUnique(points);
  }

  private async historyPage(
    series: SeriesState,
    offset: number,
    limit: number,
  ): Promise<{ points: Point[]; more: boolean }> {
    if (!series.sorted) {
      const all = await this.allPoints(this.db, series);
      return { points: all.slice(offset, offset + limit), more: all.length > offset + limit };
    }
    // sorted chunks concatenate in order: decode only the chunks the page touches
    const chunks = await this.db.all<{ seq: number; n: number }>(
      `SELECT seq, n FROM metric_chunks WHERE series_id = ? ORDER BY seq`,
      [series.series_id],
    );
    const wanted: number[] = [];
    let start = 0;
    let skip = 0;
    for (const c of chunks) {
      const end = start + c.n;
      if (end > offset && start < offset + limit) {
        if (wanted.length === 0) skip = offset - start;
        wanted.push(c.seq);
      }
      start = end;
    }
    const points: Point[] = [];
    for (let i = 0; i < wanted.length; i += 500) {
      const seqs = wanted.slice(i, i + 500);
      const rows = await this.db.all<{ points: Uint8Array }>(
        `SELECT points FROM metric_chunks WHERE series_id = ? AND seq IN (${seqs.map(() => "?").join(", ")}) ORDER BY seq`,
        [series.series_id, ...seqs],
      );
      for (const r of rows) decodePoints(r.points, points);
    }
    return { points: points.slice(skip, skip + limit), more: start > offset + limit };
  }

  async getMetricHistoryBulkInterval(req: Req<"getMetricHistoryBulkInterval">): Res<"getMetricHistoryBulkInterval"> {
    const runIds = [...new Set(req.run_ids)];
    if (runIds.length === 0)
      throw invalidParameter("GetMetricHistoryBulkInterval request must specify at least one run_id.");
    if (runIds.length > LIMITS.bulkIntervalMaxRuns) {
      throw invalidParameter(
        `GetMetricHistoryBulkInterval request cannot specify more than ${LIMITS.bulkIntervalMaxRuns} run_ids. Received ${runIds.length} run_ids.`,
      );
    }
    runIds.forEach(validateRunId);
    const maxResults = validateMaxResults(
      "max_results",
      req.max_results,
      LIMITS.bulkIntervalMaxResults,
      LIMITS.bulkIntervalMaxResults,
    );
    if ((req.start_step === undefined) !== (req.end_step === undefined)) {
      throw invalidParameter("If either start step or end step are specified, both must be specified.");
    }
    if (req.start_step !== undefined && req.end_step !== undefined && req.start_step > req.end_step) {
      throw invalidParameter("end_step must be greater than start_step. ");
    }
    const lo = req.start_step ?? -Infinity;
    const hi = req.end_step ?? Infinity;
    const out: { key: string; value: number; timestamp: number; step: number; run_id: string }[] = [];
    for (const runId of runIds.sort()) {
      await getRunRow(this.db, runId);
      const series = await this.series(this.db, runId, req.metric_key);
      if (!series) continue;
      if (series.sorted) {
        // the common case, a history logged in order: sampled straight from the packed chunks
        const rows = await this.db.all<{ points: Uint8Array }>(
          `SELECT points FROM metric_chunks WHERE series_id = ? ORDER BY seq`,
          [series.series_id],
        );
        const sampled = sampleInStepOrder(decodePacked(rows.map((r) => r.points)), { lo, hi }, (steps) =>
          sampleSteps(steps, maxResults),
        );
        if (sampled) {
          for (const p of sampled)
            out.push({ key: req.metric_key, value: p.value, timestamp: p.timestamp, step: p.step, run_id: runId });
          continue;
        }
      }
      const points = (await this.allPoints(this.db, series)).filter((p) => p.step >= lo && p.step <= hi);
      const byStep = (a: Point, b: Point) => a.step - b.step || comparePoints(a, b);
      // a history logged step by step is already in this order: check in one pass before sorting (1M points)
      let ordered = true;
      for (let i = 1; i < points.length && ordered; i++) ordered = byStep(points[i - 1]!, points[i]!) <= 0;
      if (!ordered) points.sort(byStep);
      const steps: number[] = [];
      for (const p of points) if (steps.length === 0 || steps[steps.length - 1] !== p.step) steps.push(p.step);
      const wanted = new Set(sampleSteps(steps, maxResults));
      for (const p of points) {
        if (wanted.has(p.step))
          out.push({ key: req.metric_key, value: p.value, timestamp: p.timestamp, step: p.step, run_id: runId });
      }
    }
    return out.length > 0 ? { metrics: out } : {};
  }

  // ---------------------------------------------------------------- artifacts

  async listArtifacts(req: Req<"listArtifacts">): Res<"listArtifacts"> {
    const runId = this.runIdOf(req);
    const run = await getRunRow(this.db, runId);
    const root = run.artifact_uri;
    const rel = req.path ? validateArtifactPath(req.path) : "";
    const base = proxiedPath(root);
    if (base === null) {
      // not a proxied location: the client reads it directly, as MLflow does for such roots
      return { root_uri: root };
    }
    const dir = rel ? `${base}/${rel}` : base;
    const files = (await this.artifacts.list(dir)) ?? [];
    const out: ResponseOf<"listArtifacts"> = { root_uri: root };
    if (files.length > 0) {
      out.files = files.map((f) => {
        const path = rel ? `${rel}/${f.path}` : f.path;
        return f.isDir ? { path, is_dir: true } : { path, is_dir: false, file_size: f.size ?? 0 };
      });
    }
    return out;
  }

  // ---------------------------------------------------------------- maintenance

  /** Hard-deletes soft-deleted runs (and experiments) older than `olderThanMs`, and their proxied artifacts. */
  async garbageCollect(
    options: { olderThanMs?: number; runIds?: readonly string[]; experimentIds?: readonly string[] } = {},
  ): Promise<{ runs: string[]; experiments: string[] }> {
    const cutoff = this.now() - (options.olderThanMs ?? 0);
    const explicit = options.runIds !== undefined || options.experimentIds !== undefined;
    const runRows = options.runIds
      ? await Promise.all(options.runIds.map((id) => getRunRow(this.db, validateRunId(id))))
      : explicit
        ? []
        : await this.db.all<RunRow>(
            `SELECT run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri
             FROM runs WHERE lifecycle_stage = 'deleted' AND deleted_time <= ?`,
            [cutoff],
          );
    for (const r of runRows) {
      if (r.lifecycle_stage !== "deleted")
        throw invalidParameter(
          `Run ${r.run_uuid} is not in the 'deleted' state. Only deleted runs can be garbage-collected.`,
        );
    }
    const experiments = options.experimentIds
      ? await Promise.all(options.experimentIds.map((id) => getExperimentRow(this.db, parseExperimentId(id), id)))
      : explicit
        ? []
        : await this.db.all<ExperimentRow>(
            `SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE lifecycle_stage = 'deleted' AND deleted_time <= ?`,
            [cutoff],
          );
    for (const e of experiments) {
      if (e.lifecycle_stage !== "deleted")
        throw invalidParameter(`Experiment ${e.experiment_id} is not in the 'deleted' state.`);
    }
    // artifacts first: a crash between the two steps leaves a deleted run without files, never orphaned files
    for (const r of runRows) {
      const path = proxiedPath(r.artifact_uri);
      if (path !== null) await this.artifacts.delete(path.replace(/\/artifacts$/, ""));
    }
    for (const e of experiments) {
      const path = proxiedPath(e.artifact_location);
      if (path !== null && path !== "") await this.artifacts.delete(path);
    }
    await this.db.transaction(async (tx) => {
      for (const r of runRows) await tx.run(`DELETE FROM runs WHERE run_uuid = ?`, [r.run_uuid]);
      for (const e of experiments) {
        await tx.run(`DELETE FROM runs WHERE experiment_id = ?`, [e.experiment_id]);
        await tx.run(`DELETE FROM experiments WHERE experiment_id = ?`, [e.experiment_id]);
      }
    });
    return { runs: runRows.map((r) => r.run_uuid), experiments: experiments.map((e) => String(e.experiment_id)) };
  }

  // ---------------------------------------------------------------- helpers

  private runIdOf(req: { run_id?: string; run_uuid?: string }): string {
    const id = req.run_id || req.run_uuid;
    if (!id)
      throw invalidParameter(
        "Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.",
      );
    return validateRunId(id);
  }

  private async activeRun(tx: SqlExecutor, runId: string): Promise<RunRow> {
    const run = await getRunRow(tx, runId);
    if (run.lifecycle_stage !== "active") {
      throw invalidParameter(
        `The run ${runId} must be in the 'active' state. Current state is ${run.lifecycle_stage}.`,
      );
    }
    return run;
  }

  private runTag(tag: RunTag): RunTag {
    validateKey("tag", tag.key);
    return { key: tag.key, value: truncate(tag.value, LIMITS.maxTagValue) };
  }

  private async upsertTag(tx: SqlExecutor, runId: string, key: string, value: string): Promise<void> {
    await tx.run(
      `INSERT INTO tags (run_uuid, key, value) VALUES (?, ?, ?) ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value`,
      [runId, key, value],
    );
  }

  private async insertTags(tx: SqlExecutor, runId: string, tags: readonly RunTag[]): Promise<void> {
    // last value wins within a batch, as with sequential set-tag calls
    const latest = new Map<string, string>();
    for (const t of tags) latest.set(t.key, t.value);
    for (const [key, value] of latest) {
      await this.upsertTag(tx, runId, key, value);
      if (key === RUN_NAME_TAG) await tx.run(`UPDATE runs SET name = ? WHERE run_uuid = ?`, [value, runId]);
    }
  }

  private async insertParams(tx: SqlExecutor, runId: string, params: readonly Param[]): Promise<void> {
    if (params.length === 0) return;
    const existing = await tx.all<{ key: string; value: string }>(
      `SELECT key, value FROM params WHERE run_uuid = ? AND key IN (${params.map(() => "?").join(", ")})`,
      [runId, ...params.map((p) => p.key)],
    );
    const known = new Map(existing.map((p) => [p.key, p.value]));
    const fresh: Param[] = [];
    for (const p of params) {
      const old = known.get(p.key);
      if (old === undefined) fresh.push(p);
      else if (old !== p.value) {
        throw invalidParameter(
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${old}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`,
        );
      }
    }
    if (fresh.length === 0) return;
    await tx.run(
      `INSERT INTO params (run_uuid, key, value) VALUES ${valuesList(fresh.length, 3)}`,
      fresh.flatMap((p) => [runId, p.key, p.value]),
    );
  }

  private async insertMetrics(tx: SqlExecutor, runId: string, metrics: readonly NormalMetric[]): Promise<void> {
    if (metrics.length === 0) return;
    const byKey = new Map<string, Point[]>();
    for (const m of metrics) {
      let list = byKey.get(m.key);
      if (!list) byKey.set(m.key, (list = []));
      list.push({ timestamp: m.timestamp, step: m.step, value: m.isNan ? NaN : m.value });
    }
    for (const [key, raw] of byKey) await this.appendChunk(tx, runId, key, sortUnique(raw));

    // latest value per key: the greatest (step, timestamp, value), computed here so that one upsert per key is enough
    const latest = new Map<string, NormalMetric>();
    for (const m of metrics) {
      const cur = latest.get(m.key);
      if (!cur || compareMetric(m, cur) > 0) latest.set(m.key, m);
    }
    const rows = [...latest.values()];
    const CHUNK = 200;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const params: SqlValue[] = [];
      for (const m of chunk) params.push(runId, m.key, m.step, m.timestamp, m.value, m.isNan);
      await tx.run(
        `INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, is_nan) VALUES ${valuesList(chunk.length, 6)}
         ON CONFLICT (run_uuid, key) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp,
           value = excluded.value, is_nan = excluded.is_nan
         WHERE excluded.step > latest_metrics.step
            OR (excluded.step = latest_metrics.step AND excluded.timestamp > latest_metrics.timestamp)
            OR (excluded.step = latest_metrics.step AND excluded.timestamp = latest_metrics.timestamp
                AND excluded.value > latest_metrics.value)`,
        params,
      );
    }
  }

  /**
   * Appends one chunk (sorted, unique points) to a metric's series in one upsert that also keeps the
   * series' `sorted` flag and last point, then merges the series' small tail chunks when there are many.
   */
  private async appendChunk(tx: SqlExecutor, runId: string, key: string, points: Point[]): Promise<void> {
    const first = points[0]!;
    const last = points[points.length - 1]!;
    const nan = (p: Point) => (Number.isNaN(p.value) ? 1 : 0);
    const val = (p: Point) => (Number.isNaN(p.value) ? 0 : p.value);
    const lastTuple = `(metric_series.last_timestamp, metric_series.last_step, metric_series.last_is_nan, metric_series.last_value)`;
    const newer = `(excluded.last_timestamp, excluded.last_step, excluded.last_is_nan, excluded.last_value) > ${lastTuple}`;
    const row = await tx.get<{ series_id: number; seq: number; small_tail: number }>(
      `INSERT INTO metric_series (run_uuid, key, points, next_seq, small_tail, sorted, last_timestamp, last_step, last_value, last_is_nan)
       VALUES (?, ?, ?, 1, ?, 1, ?, ?, ?, ?)
       ON CONFLICT (run_uuid, key) DO UPDATE SET
         points = metric_series.points + excluded.points,
         next_seq = metric_series.next_seq + 1,
         small_tail = CASE WHEN excluded.points < ${SMALL_CHUNK} THEN metric_series.small_tail + 1 ELSE 0 END,
         sorted = CASE WHEN metric_series.sorted = 1 AND (?, ?, ?, ?) > ${lastTuple} THEN 1 ELSE 0 END,
         last_timestamp = CASE WHEN ${newer} THEN excluded.last_timestamp ELSE metric_series.last_timestamp END,
         last_step = CASE WHEN ${newer} THEN excluded.last_step ELSE metric_series.last_step END,
         last_value = CASE WHEN ${newer} THEN excluded.last_value ELSE metric_series.last_value END,
         last_is_nan = CASE WHEN ${newer} THEN excluded.last_is_nan ELSE metric_series.last_is_nan END
       RETURNING series_id, next_seq - 1 AS seq, small_tail`,
      [
        runId,
        key,
        points.length,
        points.length < SMALL_CHUNK ? 1 : 0,
        last.timestamp,
        last.step,
        val(last),
        nan(last),
        first.timestamp,
        first.step,
        nan(first),
        val(first),
      ],
    );
    await this.insertChunk(tx, row!.series_id, row!.seq, key, points);
    if (row!.small_tail >= MERGE_TAIL) await this.mergeSmallTail(tx, row!.series_id, key, row!.small_tail);
  }

  private async insertChunk(
    tx: SqlExecutor,
    seriesId: number,
    seq: number,
    key: string,
    points: Point[],
  ): Promise<void> {
    let minStep = Infinity;
    let maxStep = -Infinity;
    for (const p of points) {
      if (p.step < minStep) minStep = p.step;
      if (p.step > maxStep) maxStep = p.step;
    }
    await tx.run(
      `INSERT INTO metric_chunks (series_id, seq, n, min_step, max_step, points, json) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [seriesId, seq, points.length, minStep, maxStep, encodePoints(points), Buffer.from(renderPoints(key, points))],
    );
  }

  /**
   * Metrics logged a few at a time leave many small chunks; once MERGE_TAIL of them trail the series they
   * are merged into one, so reads stay a few rows and the cost per logged point stays bounded.
   */
  private async mergeSmallTail(tx: SqlExecutor, seriesId: number, key: string, count: number): Promise<void> {
    const small = await tx.all<{ seq: number; n: number; points: Uint8Array }>(
      `SELECT seq, n, points FROM metric_chunks WHERE series_id = ? ORDER BY seq DESC LIMIT ?`,
      [seriesId, count],
    );
    small.reverse();
    const merged: Point[] = [];
    for (const c of small) decodePoints(c.points, merged);
    const first = small[0]!.seq;
    await tx.run(`DELETE FROM metric_chunks WHERE series_id = ? AND seq >= ?`, [seriesId, first]);
    const points = sortUnique(merged);
    await this.insertChunk(tx, seriesId, first, key, points);
    // merging sorts and de-duplicates the tail; the count of stored points drops by the duplicates removed
    await tx.run(`UPDATE metric_series SET points = points - ?, small_tail = ? WHERE series_id = ?`, [
      merged.length - points.length,
      points.length < SMALL_CHUNK ? 1 : 0,
      seriesId,
    ]);
  }
}

/** Chunks with fewer points than this are merged once MERGE_TAIL of them trail a series. */
const SMALL_CHUNK = 1000;
const MERGE_TAIL = 64;
const SERIES_COLUMNS = "series_id, points, sorted";
const HISTORY_OPEN = Buffer.from('{"metrics":[');
/** Chunks read per query while streaming a history (about 1 MB for 1,000-point chunks). */
const STREAM_CHUNKS = 16;
const HISTORY_CLOSE = Buffer.from("]}");
const COMMA = Buffer.from(",");

function toAsync<T>(items: readonly T[]): AsyncIterable<T> {
  return (async function* () {
    for (const item of items) yield await Promise.resolve(item);
  })();
}

function compareMetric(a: NormalMetric, b: NormalMetric): number {
  return a.step - b.step || a.timestamp - b.timestamp || a.value - b.value;
}

function normaliseMetric(m: {
  key: string;
  value: number;
  timestamp: number;
  step?: number | undefined;
}): NormalMetric {
  validateKey("metric", m.key);
  if (typeof m.value !== "number") {
    throw invalidParameter(
      `Got invalid value ${String(m.value)} for metric '${m.key}' (timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`,
    );
  }
  if (!Number.isSafeInteger(m.timestamp) || m.timestamp < 0) {
    throw invalidParameter(
      `Got invalid timestamp ${m.timestamp} for metric '${m.key}' (value=${m.value}). Timestamp must be a nonnegative long (64-bit integer) `,
    );
  }
  const step = m.step ?? 0;
  if (!Number.isSafeInteger(step)) {
    throw invalidParameter(
      `Got invalid step ${step} for metric '${m.key}' (value=${m.value}). Step must be a valid long (64-bit integer).`,
    );
  }
  const isNan = Number.isNaN(m.value);
  // ±Infinity is kept as the largest finite double, as MLflow's SQL store does
  const value = isNan
    ? 0
    : m.value === Infinity
      ? Number.MAX_VALUE
      : m.value === -Infinity
        ? -Number.MAX_VALUE
        : m.value;
  return { key: m.key, value, isNan: isNan ? 1 : 0, timestamp: m.timestamp, step };
}

function normaliseParam(p: { key: string; value: string }): Param {
  validateKey("param", p.key);
  return { key: p.key, value: truncate(p.value, LIMITS.maxParamValue) };
}

function validateDatasetInput(input: DatasetInput): void {
  const d = input.dataset;
  const check = (field: string, value: string | undefined, max: number) => {
    if (value !== undefined && value.length > max) {
      throw invalidParameter(`Dataset ${field} exceeds the maximum length of ${max}`);
    }
  };
  check("name", d.name, LIMITS.maxDatasetName);
  check("digest", d.digest, LIMITS.maxDatasetDigest);
  check("source", d.source, LIMITS.maxDatasetSource);
  check("schema", d.schema, LIMITS.maxDatasetSchema);
  check("profile", d.profile, LIMITS.maxDatasetProfile);
  for (const t of input.tags ?? []) {
    if (t.key.length > LIMITS.maxInputTagKey)
      throw invalidParameter(`Input tag key exceeds the maximum length of ${LIMITS.maxInputTagKey}`);
    if (t.value.length > LIMITS.maxInputTagValue)
      throw invalidParameter(`Input tag value exceeds the maximum length of ${LIMITS.maxInputTagValue}`);
  }
}

function validateArtifactLocation(location: string): void {
  if (location.includes("\0") || location.length > 2000)
    throw invalidParameter(`Invalid artifact location '${location.slice(0, 100)}'`);
}

/** The repository path behind a `mlflow-artifacts:/a/b` URI, or null for other schemes. */
export function proxiedPath(uri: string): string | null {
  if (!uri.startsWith(PROXY_SCHEME)) return null;
  let rest = uri.slice(PROXY_SCHEME.length);
  // mlflow-artifacts://host:port/path carries an authority; only the path matters here
  if (rest.startsWith("//")) rest = rest.slice(2).replace(/^[^/]*/, "");
  return validateArtifactPath(rest.replace(/^\/+/, ""));
}

/** Picks at most `max` steps, evenly spread, always keeping the first and the last. */
export function sampleSteps(steps: readonly number[], max: number): number[] {
  if (steps.length <= max) return [...steps];
  if (max === 1) return [steps[0]!];
  const out: number[] = [];
  for (let i = 0; i < max; i++) out.push(steps[Math.round((i * (steps.length - 1)) / (max - 1))]!);
  return [...new Set(out)];
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return e?.code === "SQLITE_CONSTRAINT_UNIQUE" || e?.code === "23505";
}
