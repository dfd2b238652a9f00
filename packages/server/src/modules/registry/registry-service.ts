/**
 * The model registry service: MLflow's ModelRegistryService over one SQL implementation (SQLite or
 * PostgreSQL). It knows nothing of HTTP; the REST routes, the CLI and the tests call it directly.
 *
 * Every write is one transaction that first locks the model's row (PostgreSQL; SQLite serialises write
 * transactions), so version numbers, alias moves and their history rows cannot interleave. Alias moves and
 * stage transitions are recorded in `alias_history` inside the same transaction.
 */
import { posix } from "node:path";
import {
  MlflowError,
  MODEL_VERSION_STAGES,
  invalidParameter,
  notFound,
  type AliasHistoryRequest,
  type AliasHistoryResponse,
  type RegistryApi,
  type RegistryRequestOf,
  type RegistryResponseOf,
} from "@slipway/protocol";
import type { SqlDb, SqlExecutor } from "../../platform/db/sql-db.js";
import { decodePageToken, encodePageToken } from "../tracking/validation.js";
import { queryAliasHistory } from "./alias-history.js";
import {
  VERSION_COLUMNS,
  VERSION_FROM,
  byCodePoint,
  getModelRow,
  getVersionRow,
  hydrateModels,
  hydrateVersions,
  latestVersionPerStage,
  loadModel,
  loadVersion,
  type ModelRow,
  type VersionRow,
} from "./registry-reader.js";
import { compileModelSearch, compileVersionSearch } from "./registry-search.js";
// Slipway: registry events
import {
  RegistryEvents,
  eventsAfter,
  recordEvent,
  signallingCommits,
  type EventFilter,
  type StoredRegistryEvent,
} from "./registry-events.js";
import {
  ACTIVE_STAGES,
  IS_PROMPT_TAG,
  REGISTRY_LIMITS,
  canonicalStage,
  hasRelativeReferences,
  isLocalUri,
  isWithin,
  localPath,
  parseRunsUri,
  parseVersion,
  requireValue,
  validateAlias,
  validateModelName,
  validateSearchMaxResults,
  validateTag,
  validateTagKey,
  validateTags,
} from "./registry-validation.js";

export interface RegistryServiceDeps {
  db: SqlDb;
  now?: () => number;
  /** Slipway: the commit signal of the event stream (one is made when absent). */
  events?: RegistryEvents;
}

type Req<M extends keyof RegistryApi> = RegistryRequestOf<M>;
type Res<M extends keyof RegistryApi> = Promise<RegistryResponseOf<M>>;

/** One alias_history row: `alias` is an alias (kind 'alias') or a stage (kind 'stage'). */
interface HistoryEntry {
  kind: "alias" | "stage";
  alias: string;
  from: number | null;
  to: number | null;
  reason: string | null;
}

/** Why an alias or stage changed (Slipway's `X-Slipway-Reason` header), recorded in alias_history. */
export interface ChangeContext {
  reason?: string | undefined;
}

interface RunRef {
  run_uuid: string;
  artifact_uri: string;
}

function alreadyExists(name: string): MlflowError {
  return new MlflowError("RESOURCE_ALREADY_EXISTS", `Registered Model (name=${name}) already exists.`);
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}

export class RegistryService implements RegistryApi {
  private readonly db: SqlDb;
  private readonly now: () => number;
  /** Slipway: fired after every commit that recorded registry events. */
  readonly events: RegistryEvents;

  constructor(deps: RegistryServiceDeps) {
    // Slipway: registry events — transactions that record events fire `events` after COMMIT
    this.events = deps.events ?? new RegistryEvents();
    this.db = signallingCommits(deps.db, this.events);
    this.now = deps.now ?? Date.now;
  }

  // ---------------------------------------------------------------- registered models

  async createRegisteredModel(req: Req<"createRegisteredModel">): Res<"createRegisteredModel"> {
    const name = validateModelName(req.name);
    const tags = validateTags(req.tags);
    const now = this.now();
    return this.claimingName(name, async (tx) => {
      if (await tx.get(`SELECT 1 AS x FROM registered_models WHERE name = ?`, [name])) throw alreadyExists(name);
      const row = await tx.get<{ id: number }>(
        `INSERT INTO registered_models (name, creation_time, last_updated_time, description, deployment_job_id)
         VALUES (?, ?, ?, ?, ?) RETURNING id`,
        [name, now, now, req.description ?? null, req.deployment_job_id || null],
      );
      for (const [key, value] of tags) {
        await tx.run(`INSERT INTO registered_model_tags (registered_model_id, key, value) VALUES (?, ?, ?)`, [
          row!.id,
          key,
          value,
        ]);
      }
      return { registered_model: await loadModel(tx, await getModelRow(tx, name)) };
    });
  }

  async getRegisteredModel(req: Req<"getRegisteredModel">): Res<"getRegisteredModel"> {
    const model = await getModelRow(this.db, validateModelName(req.name));
    return { registered_model: await loadModel(this.db, model) };
  }

  async renameRegisteredModel(req: Req<"renameRegisteredModel">): Res<"renameRegisteredModel"> {
    const name = validateModelName(req.name);
    const newName = requireValue(req.new_name, "new_name");
    const now = this.now();
    return this.claimingName(newName, async (tx) => {
      const model = await getModelRow(tx, name, true);
      const clash = await tx.get(`SELECT 1 AS x FROM registered_models WHERE name = ? AND id <> ?`, [
        newName,
        model.id,
      ]);
      if (clash) throw alreadyExists(newName);
      // versions, tags and aliases refer to the model's id, so they follow the new name
      await tx.run(`UPDATE registered_models SET name = ?, last_updated_time = ? WHERE id = ?`, [
        newName,
        now,
        model.id,
      ]);
      await tx.run(`UPDATE model_versions SET last_updated_time = ? WHERE registered_model_id = ?`, [now, model.id]);
      return { registered_model: await loadModel(tx, await getModelRow(tx, newName)) };
    });
  }

  async updateRegisteredModel(req: Req<"updateRegisteredModel">): Res<"updateRegisteredModel"> {
    const name = validateModelName(req.name);
    const now = this.now();
    return this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      await tx.run(
        `UPDATE registered_models SET description = ?, deployment_job_id = ?, last_updated_time = ? WHERE id = ?`,
        [
          req.description ?? model.description,
          req.deployment_job_id === undefined ? model.deployment_job_id : req.deployment_job_id || null,
          now,
          model.id,
        ],
      );
      return { registered_model: await loadModel(tx, await getModelRow(tx, name)) };
    });
  }

  async deleteRegisteredModel(req: Req<"deleteRegisteredModel">): Res<"deleteRegisteredModel"> {
    const name = validateModelName(req.name);
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      // the history outlives the model: record that every alias and stage now points nowhere
      const reason = "registered model deleted";
      const aliases = await tx.all<{ alias: string; version: number }>(
        `SELECT alias, version FROM registered_model_aliases WHERE registered_model_id = ? ORDER BY ${byCodePoint(tx, "alias")}`,
        [model.id],
      );
      const stages = await latestVersionPerStage(tx, model.id);
      await this.recordHistory(tx, model, now, [
        ...aliases.map((a): HistoryEntry => ({ kind: "alias", alias: a.alias, from: a.version, to: null, reason })),
        ...[...stages].map(([stage, v]): HistoryEntry => ({ kind: "stage", alias: stage, from: v, to: null, reason })),
      ]);
      // versions, their tags, model tags and aliases go with it (ON DELETE CASCADE)
      await tx.run(`DELETE FROM registered_models WHERE id = ?`, [model.id]);
    });
    return {};
  }

  async searchRegisteredModels(req: Req<"searchRegisteredModels">): Res<"searchRegisteredModels"> {
    const limit = validateSearchMaxResults(
      req.max_results,
      REGISTRY_LIMITS.searchModelsDefault,
      REGISTRY_LIMITS.searchModelsMax,
    );
    const offset = decodePageToken(req.page_token);
    const q = compileModelSearch(
      { filter: req.filter, orderBy: req.order_by, limit: limit + 1, offset },
      this.db.dialect,
    );
    const ids = await this.db.all<{ id: number }>(q.sql, q.params);
    const page = ids.slice(0, limit).map((r) => r.id);
    const out: RegistryResponseOf<"searchRegisteredModels"> = {};
    if (page.length > 0) {
      const rows = await this.db.all<ModelRow>(
        `SELECT id, name, creation_time, last_updated_time, description, user_id, deployment_job_id
           FROM registered_models WHERE id IN (${page.map(() => "?").join(", ")})`,
        page,
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      // a model deleted between the two reads is left out
      out.registered_models = await hydrateModels(
        this.db,
        page.flatMap((id) => byId.get(id) ?? []),
      );
    }
    if (ids.length > limit) out.next_page_token = encodePageToken(offset + limit);
    return out;
  }

  async getLatestVersions(req: Req<"getLatestVersions">): Res<"getLatestVersions"> {
    const name = validateModelName(req.name);
    const stages = (req.stages ?? []).map(canonicalStage);
    const wanted = new Set<string>(stages.length > 0 ? stages : MODEL_VERSION_STAGES);
    const model = await loadModel(this.db, await getModelRow(this.db, name));
    const versions = (model.latest_versions ?? []).filter((mv) => wanted.has(mv.current_stage));
    return versions.length > 0 ? { model_versions: versions } : {};
  }

  async setRegisteredModelTag(req: Req<"setRegisteredModelTag">): Res<"setRegisteredModelTag"> {
    const name = validateModelName(req.name);
    const tag = validateTag(requireValue(req.key, "key"), req.value);
    await this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      await tx.run(
        `INSERT INTO registered_model_tags (registered_model_id, key, value) VALUES (?, ?, ?)
         ON CONFLICT (registered_model_id, key) DO UPDATE SET value = excluded.value`,
        [model.id, tag.key, tag.value],
      );
    });
    return {};
  }

  async deleteRegisteredModelTag(req: Req<"deleteRegisteredModelTag">): Res<"deleteRegisteredModelTag"> {
    const name = validateModelName(req.name);
    const key = requireValue(req.key, "key");
    validateTagKey(key);
    await this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      // deleting a tag that is not there is not an error, as in MLflow
      await tx.run(`DELETE FROM registered_model_tags WHERE registered_model_id = ? AND key = ?`, [model.id, key]);
    });
    return {};
  }

  // ---------------------------------------------------------------- aliases

  async setRegisteredModelAlias(
    req: Req<"setRegisteredModelAlias">,
    context: ChangeContext = {},
  ): Res<"setRegisteredModelAlias"> {
    const name = validateModelName(req.name);
    const alias = validateAlias(req.alias);
    const version = parseVersion(req.version);
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      await getVersionRow(tx, model, version);
      const old = await this.aliasVersion(tx, model.id, alias);
      await tx.run(
        `INSERT INTO registered_model_aliases (registered_model_id, alias, version) VALUES (?, ?, ?)
         ON CONFLICT (registered_model_id, alias) DO UPDATE SET version = excluded.version`,
        [model.id, alias, version],
      );
      await this.recordHistory(tx, model, now, [
        { kind: "alias", alias, from: old, to: version, reason: context.reason ?? null },
      ]);
    });
    return {};
  }

  async deleteRegisteredModelAlias(
    req: Req<"deleteRegisteredModelAlias">,
    context: ChangeContext = {},
  ): Res<"deleteRegisteredModelAlias"> {
    const name = validateModelName(req.name);
    const alias = validateAlias(req.alias);
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      const old = await this.aliasVersion(tx, model.id, alias);
      // deleting an alias that is not there is not an error, as in MLflow
      if (old === null) return;
      await tx.run(`DELETE FROM registered_model_aliases WHERE registered_model_id = ? AND alias = ?`, [
        model.id,
        alias,
      ]);
      await this.recordHistory(tx, model, now, [
        { kind: "alias", alias, from: old, to: null, reason: context.reason ?? null },
      ]);
    });
    return {};
  }

  async getModelVersionByAlias(req: Req<"getModelVersionByAlias">): Res<"getModelVersionByAlias"> {
    const name = validateModelName(req.name);
    const alias = validateAlias(req.alias);
    const model = await getModelRow(this.db, name);
    const version = await this.aliasVersion(this.db, model.id, alias);
    // MLflow answers INVALID_PARAMETER_VALUE (400) here, not RESOURCE_DOES_NOT_EXIST
    if (version === null) throw invalidParameter(`Registered model alias ${alias} not found.`);
    return { model_version: await loadVersion(this.db, model, version) };
  }

  // ---------------------------------------------------------------- model versions

  async createModelVersion(req: Req<"createModelVersion">): Res<"createModelVersion"> {
    const name = validateModelName(req.name);
    const source = requireValue(req.source, "source");
    const tags = validateTags(req.tags);
    const runId = req.run_id || undefined;
    const now = this.now();
    return this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      const run = runId === undefined ? undefined : await this.runRef(tx, runId);
      const runsUri = parseRunsUri(source);
      let storageLocation: string | null = null;
      if (runsUri) {
        const target = runsUri.runId === run?.run_uuid ? run : await this.runRef(tx, runsUri.runId);
        storageLocation = joinUri(target.artifact_uri, runsUri.path);
      }
      // MLflow does not check the sources of prompts (registry entries tagged as prompts)
      if (!tags.has(IS_PROMPT_TAG)) validateSource(source, run);
      const counter = await tx.get<{ last_version: number }>(
        `UPDATE registered_models SET last_version = last_version + 1, last_updated_time = ? WHERE id = ? RETURNING last_version`,
        [now, model.id],
      );
      const version = counter!.last_version;
      await tx.run(
        `INSERT INTO model_versions (registered_model_id, version, creation_time, last_updated_time, description,
           current_stage, source, storage_location, run_id, run_link, status, logged_model_id)
         VALUES (?, ?, ?, ?, ?, 'None', ?, ?, ?, ?, 'READY', ?)`,
        [
          model.id,
          version,
          now,
          now,
          req.description ?? null,
          source,
          storageLocation,
          runId ?? null,
          req.run_link || null,
          req.model_id || null,
        ],
      );
      for (const [key, value] of tags) {
        await tx.run(`INSERT INTO model_version_tags (registered_model_id, version, key, value) VALUES (?, ?, ?, ?)`, [
          model.id,
          version,
          key,
          value,
        ]);
      }
      // Slipway: registry events
      await recordEvent(tx, {
        kind: "model_version.created",
        name: model.name,
        version,
        created_at: now,
        payload: { source, ...(runId === undefined ? {} : { run_id: runId }) },
      });
      return { model_version: await loadVersion(tx, model, version) };
    });
  }

  async getModelVersion(req: Req<"getModelVersion">): Res<"getModelVersion"> {
    const name = validateModelName(req.name);
    const version = parseVersion(req.version);
    const model = await getModelRow(this.db, name);
    return { model_version: await loadVersion(this.db, model, version) };
  }

  async updateModelVersion(req: Req<"updateModelVersion">): Res<"updateModelVersion"> {
    const name = validateModelName(req.name);
    const version = parseVersion(req.version);
    const now = this.now();
    return this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      const row = await getVersionRow(tx, model, version);
      await tx.run(
        `UPDATE model_versions SET description = ?, last_updated_time = ? WHERE registered_model_id = ? AND version = ?`,
        [req.description ?? row.description, now, model.id, version],
      );
      return { model_version: await loadVersion(tx, model, version) };
    });
  }

  async deleteModelVersion(req: Req<"deleteModelVersion">): Res<"deleteModelVersion"> {
    const name = validateModelName(req.name);
    const version = parseVersion(req.version);
    const now = this.now();
    await this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      await getVersionRow(tx, model, version);
      const reason = `model version ${version} deleted`;
      const aliases = await tx.all<{ alias: string }>(
        `SELECT alias FROM registered_model_aliases WHERE registered_model_id = ? AND version = ? ORDER BY ${byCodePoint(tx, "alias")}`,
        [model.id, version],
      );
      const before = await latestVersionPerStage(tx, model.id);
      // its tags and the aliases pointing at it go with it (ON DELETE CASCADE); its number is never reused
      await tx.run(`DELETE FROM model_versions WHERE registered_model_id = ? AND version = ?`, [model.id, version]);
      await tx.run(`UPDATE registered_models SET last_updated_time = ? WHERE id = ?`, [now, model.id]);
      const after = await latestVersionPerStage(tx, model.id);
      await this.recordHistory(tx, model, now, [
        ...aliases.map((a): HistoryEntry => ({ kind: "alias", alias: a.alias, from: version, to: null, reason })),
        ...stageChanges(before, after, undefined, reason),
      ]);
    });
    return {};
  }

  async searchModelVersions(req: Req<"searchModelVersions">): Res<"searchModelVersions"> {
    const limit = validateSearchMaxResults(
      req.max_results,
      REGISTRY_LIMITS.searchVersionsDefault,
      REGISTRY_LIMITS.searchVersionsMax,
    );
    const offset = decodePageToken(req.page_token);
    const q = compileVersionSearch(
      {
        select: `SELECT ${VERSION_COLUMNS} ${VERSION_FROM}`,
        filter: req.filter,
        orderBy: req.order_by,
        limit: limit + 1,
        offset,
      },
      this.db.dialect,
    );
    const rows = await this.db.all<VersionRow>(q.sql, q.params);
    const out: RegistryResponseOf<"searchModelVersions"> = {};
    const versions = await hydrateVersions(this.db, rows.slice(0, limit));
    if (versions.length > 0) out.model_versions = versions;
    if (rows.length > limit) out.next_page_token = encodePageToken(offset + limit);
    return out;
  }

  async setModelVersionTag(req: Req<"setModelVersionTag">): Res<"setModelVersionTag"> {
    const name = validateModelName(req.name);
    const version = parseVersion(req.version);
    const tag = validateTag(requireValue(req.key, "key"), req.value);
    await this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      await getVersionRow(tx, model, version);
      await tx.run(
        `INSERT INTO model_version_tags (registered_model_id, version, key, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (registered_model_id, version, key) DO UPDATE SET value = excluded.value`,
        [model.id, version, tag.key, tag.value],
      );
    });
    return {};
  }

  async deleteModelVersionTag(req: Req<"deleteModelVersionTag">): Res<"deleteModelVersionTag"> {
    const name = validateModelName(req.name);
    const version = parseVersion(req.version);
    const key = requireValue(req.key, "key");
    validateTagKey(key);
    await this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      await getVersionRow(tx, model, version);
      await tx.run(`DELETE FROM model_version_tags WHERE registered_model_id = ? AND version = ? AND key = ?`, [
        model.id,
        version,
        key,
      ]);
    });
    return {};
  }

  async transitionModelVersionStage(
    req: Req<"transitionModelVersionStage">,
    context: ChangeContext = {},
  ): Res<"transitionModelVersionStage"> {
    const name = validateModelName(req.name);
    const version = parseVersion(req.version);
    const stage = canonicalStage(requireValue(req.stage, "stage"));
    const archive = req.archive_existing_versions ?? false;
    if (archive && !ACTIVE_STAGES.includes(stage)) {
      throw invalidParameter(
        `Model version transition cannot archive existing model versions because '${req.stage}' is not an Active stage. Valid stages are ['Staging', 'Production']`,
      );
    }
    const now = this.now();
    return this.db.transaction(async (tx) => {
      const model = await getModelRow(tx, name, true);
      const row = await getVersionRow(tx, model, version);
      const before = await latestVersionPerStage(tx, model.id);
      let archived: number[] = [];
      if (archive) {
        archived = (
          await tx.all<{ version: number }>(
            `SELECT version FROM model_versions WHERE registered_model_id = ? AND current_stage = ? AND version <> ?
              ORDER BY version`,
            [model.id, stage, version],
          )
        ).map((r) => r.version);
        await tx.run(
          `UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ?
            WHERE registered_model_id = ? AND current_stage = ? AND version <> ?`,
          [now, model.id, stage, version],
        );
      }
      await tx.run(
        `UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE registered_model_id = ? AND version = ?`,
        [stage, now, model.id, version],
      );
      await tx.run(`UPDATE registered_models SET last_updated_time = ? WHERE id = ?`, [now, model.id]);
      const after = await latestVersionPerStage(tx, model.id);
      let reason = `version ${version}: ${row.current_stage} -> ${stage}`;
      if (archived.length > 0) {
        reason += `; archive_existing_versions: version${archived.length > 1 ? "s" : ""} ${archived.join(", ")}: ${stage} -> Archived`;
      }
      // the client's reason first, then which versions moved where
      if (context.reason !== undefined) reason = `${context.reason} (${reason})`;
      await this.recordHistory(tx, model, now, stageChanges(before, after, stage, reason));
      // Slipway: registry events — one per version whose stage changed
      const moves: [number, string, string][] = [[version, row.current_stage, stage]];
      for (const v of archived) moves.push([v, stage, "Archived"]);
      for (const [v, from, to] of moves) {
        const event = { name: model.name, version: v, alias: to, reason: context.reason ?? null, created_at: now };
        await recordEvent(tx, { kind: "model_version.stage_changed", ...event, payload: { from_stage: from } });
      }
      return { model_version: await loadVersion(tx, model, version) };
    });
  }

  async getModelVersionDownloadUri(req: Req<"getModelVersionDownloadUri">): Res<"getModelVersionDownloadUri"> {
    const name = validateModelName(req.name);
    const version = parseVersion(req.version);
    const row = await getVersionRow(this.db, await getModelRow(this.db, name), version);
    return { artifact_uri: row.storage_location ?? row.source };
  }

  // ---------------------------------------------------------------- Slipway: alias and stage history

  async getAliasHistory(req: AliasHistoryRequest): Promise<AliasHistoryResponse> {
    return queryAliasHistory(this.db, req);
  }

  // ---------------------------------------------------------------- Slipway: registry events

  /** Stored events after `lastId`, oldest first (the event stream's query). */
  async eventsAfter(lastId: number, limit: number, filter?: EventFilter): Promise<StoredRegistryEvent[]> {
    return eventsAfter(this.db, lastId, limit, filter);
  }

  // ---------------------------------------------------------------- helpers

  /** Runs a transaction that gives a model the name `name`, mapping a unique-name race to RESOURCE_ALREADY_EXISTS. */
  private async claimingName<T>(name: string, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(fn);
    } catch (error) {
      if (isUniqueViolation(error)) throw alreadyExists(name);
      throw error;
    }
  }

  private async aliasVersion(db: SqlExecutor, modelId: number, alias: string): Promise<number | null> {
    const row = await db.get<{ version: number }>(
      `SELECT version FROM registered_model_aliases WHERE registered_model_id = ? AND alias = ?`,
      [modelId, alias],
    );
    return row?.version ?? null;
  }

  private async runRef(db: SqlExecutor, runId: string): Promise<RunRef> {
    const run = await db.get<RunRef>(`SELECT run_uuid, artifact_uri FROM runs WHERE run_uuid = ?`, [runId]);
    if (!run) throw notFound(`Run with id=${runId} not found`);
    return run;
  }

  private async recordHistory(
    tx: SqlExecutor,
    model: ModelRow,
    now: number,
    entries: readonly HistoryEntry[],
  ): Promise<void> {
    for (const e of entries) {
      await tx.run(
        `INSERT INTO alias_history (registered_model_id, model_name, alias, from_version, to_version, changed_at, user_id, reason, kind)
         VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
        [model.id, model.name, e.alias, e.from, e.to, now, e.reason, e.kind],
      );
      // Slipway: registry events — every alias set, move and delete
      if (e.kind === "alias") {
        const kind = e.to === null ? "alias.deleted" : "alias.set";
        const event = { name: model.name, version: e.to ?? e.from, alias: e.alias, reason: e.reason, created_at: now };
        await recordEvent(tx, { kind, ...event, from_version: e.from, to_version: e.to });
      }
    }
  }
}

/**
 * Stage history rows: for every stage whose latest version changed, what it resolved to before and after;
 * the transition's target stage always gets a row, so that every transition is recorded.
 */
function stageChanges(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  target: string | undefined,
  reason: string,
): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const stage of MODEL_VERSION_STAGES) {
    const from = before.get(stage) ?? null;
    const to = after.get(stage) ?? null;
    if (from !== to || stage === target) out.push({ kind: "stage", alias: stage, from, to, reason });
  }
  return out;
}

function joinUri(base: string, path: string): string {
  const root = base.replace(/\/+$/, "");
  return path === "" ? root : `${root}/${path}`;
}

/**
 * MLflow's source checks: a local path must lie inside the artifact directory of the run given by `run_id`
 * (which must itself be local); any other URI must not carry relative path references.
 */
function validateSource(source: string, run: RunRef | undefined): void {
  if (isLocalUri(source)) {
    const resolved = posix.resolve(localPath(source));
    if (run && isLocalUri(run.artifact_uri) && isWithin(resolved, posix.resolve(localPath(run.artifact_uri)))) return;
    throw invalidParameter(
      `Invalid model version source: '${run ? resolved : source}'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.`,
    );
  }
  if (hasRelativeReferences(source)) {
    throw invalidParameter(
      `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
    );
  }
}
