/** Reads registered models and model versions out of the SQL store and shapes them as MLflow's wire entities. */
import {
  type MlflowError,
  notFound,
  type ModelVersion,
  type ModelVersionStatus,
  type RegisteredModel,
} from "@slipway/protocol";
import { placeholders, type SqlExecutor, type SqlValue } from "../../platform/db/sql-db.js";

export interface ModelRow {
  id: number;
  name: string;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
  user_id: string | null;
  deployment_job_id: string | null;
}

export interface VersionRow {
  registered_model_id: number;
  name: string;
  version: number;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
  user_id: string | null;
  current_stage: string;
  source: string;
  storage_location: string | null;
  run_id: string | null;
  run_link: string | null;
  status: string;
  status_message: string | null;
  logged_model_id: string | null;
}

export const MODEL_COLUMNS =
  "rm.id, rm.name, rm.creation_time, rm.last_updated_time, rm.description, rm.user_id, rm.deployment_job_id";

export const VERSION_COLUMNS =
  "mv.registered_model_id, rm.name, mv.version, mv.creation_time, mv.last_updated_time, mv.description, mv.user_id, " +
  "mv.current_stage, mv.source, mv.storage_location, mv.run_id, mv.run_link, mv.status, mv.status_message, mv.logged_model_id";

/** `FROM` clause every version read uses (versions carry their model's name). */
export const VERSION_FROM = "FROM model_versions mv JOIN registered_models rm ON rm.id = mv.registered_model_id";

/** A text column ordered by code point on both databases (PostgreSQL would otherwise use the database's collation). */
export function byCodePoint(db: { dialect: string }, column: string): string {
  return db.dialect === "postgres" ? `${column} COLLATE "C"` : column;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function modelNotFound(name: string): MlflowError {
  return notFound(`Registered Model with name=${name} not found`);
}

export function versionNotFound(name: string, version: number | string): MlflowError {
  return notFound(`Model Version (name=${name}, version=${version}) not found`);
}

/**
 * The model called `name`, or 404. Inside a write transaction on PostgreSQL, `forUpdate` locks its row so that
 * writes to one model (version numbers, alias moves and their history) are serialised; SQLite transactions
 * are serialised already.
 */
export async function getModelRow(db: SqlExecutor, name: string, forUpdate = false): Promise<ModelRow> {
  const lock = forUpdate && db.dialect === "postgres" ? " FOR UPDATE" : "";
  const row = await db.get<ModelRow>(`SELECT ${MODEL_COLUMNS} FROM registered_models rm WHERE rm.name = ?${lock}`, [
    name,
  ]);
  if (!row) throw modelNotFound(name);
  return row;
}

export async function getVersionRow(db: SqlExecutor, model: ModelRow, version: number): Promise<VersionRow> {
  const row = await db.get<VersionRow>(
    `SELECT ${VERSION_COLUMNS} ${VERSION_FROM} WHERE mv.registered_model_id = ? AND mv.version = ?`,
    [model.id, version],
  );
  if (!row) throw versionNotFound(model.name, version);
  return row;
}

/** The latest version in each stage that has one, keyed by stage, in the order MLflow lists them. */
export async function latestVersionPerStage(db: SqlExecutor, modelId: number): Promise<Map<string, number>> {
  const rows = await db.all<{ current_stage: string; first_version: number; latest_version: number }>(
    `SELECT current_stage, MIN(version) AS first_version, MAX(version) AS latest_version FROM model_versions
      WHERE registered_model_id = ? GROUP BY current_stage ORDER BY MIN(version)`,
    [modelId],
  );
  return new Map(rows.map((r) => [r.current_stage, r.latest_version]));
}

function toModelVersion(row: VersionRow): ModelVersion {
  const mv: ModelVersion = {
    name: row.name,
    version: String(row.version),
    creation_timestamp: row.creation_time,
    last_updated_timestamp: row.last_updated_time,
    current_stage: row.current_stage,
    source: row.source,
    status: row.status as ModelVersionStatus,
  };
  if (row.user_id !== null) mv.user_id = row.user_id;
  if (row.description !== null) mv.description = row.description;
  if (row.run_id !== null) mv.run_id = row.run_id;
  if (row.status_message !== null) mv.status_message = row.status_message;
  if (row.run_link !== null) mv.run_link = row.run_link;
  if (row.logged_model_id !== null) mv.model_id = row.logged_model_id;
  return mv;
}

function versionKey(modelId: number, version: number): string {
  return `${modelId}:${version}`;
}

/** Turns version rows into entities with their tags and aliases, keeping the rows' order. */
export async function hydrateVersions(db: SqlExecutor, rows: readonly VersionRow[]): Promise<ModelVersion[]> {
  if (rows.length === 0) return [];
  const tags = new Map<string, { key: string; value: string }[]>();
  for (const chunk of chunks(rows, 400)) {
    const where = chunk.map(() => "(registered_model_id = ? AND version = ?)").join(" OR ");
    const params: SqlValue[] = chunk.flatMap((r) => [r.registered_model_id, r.version]);
    const found = await db.all<{ registered_model_id: number; version: number; key: string; value: string }>(
      `SELECT registered_model_id, version, key, value FROM model_version_tags WHERE ${where} ORDER BY ${byCodePoint(db, "key")}`,
      params,
    );
    for (const t of found) {
      const k = versionKey(t.registered_model_id, t.version);
      let list = tags.get(k);
      if (!list) tags.set(k, (list = []));
      list.push({ key: t.key, value: t.value });
    }
  }
  const aliases = new Map<string, string[]>();
  const modelIds = [...new Set(rows.map((r) => r.registered_model_id))];
  for (const chunk of chunks(modelIds, 500)) {
    const found = await db.all<{ registered_model_id: number; alias: string; version: number }>(
      `SELECT registered_model_id, alias, version FROM registered_model_aliases
        WHERE registered_model_id IN (${placeholders(chunk.length)}) ORDER BY ${byCodePoint(db, "alias")}`,
      chunk,
    );
    for (const a of found) {
      const k = versionKey(a.registered_model_id, a.version);
      let list = aliases.get(k);
      if (!list) aliases.set(k, (list = []));
      list.push(a.alias);
    }
  }
  return rows.map((row) => {
    const mv = toModelVersion(row);
    const k = versionKey(row.registered_model_id, row.version);
    const t = tags.get(k);
    if (t) mv.tags = t;
    const a = aliases.get(k);
    if (a) mv.aliases = a;
    return mv;
  });
}

export async function loadVersion(db: SqlExecutor, model: ModelRow, version: number): Promise<ModelVersion> {
  const [mv] = await hydrateVersions(db, [await getVersionRow(db, model, version)]);
  return mv!;
}

/**
 * Turns model rows into entities with tags, aliases and latest versions (the greatest version number in each
 * stage, listed in the order MLflow lists them: stages by their lowest version number), keeping the rows' order.
 */
export async function hydrateModels(db: SqlExecutor, rows: readonly ModelRow[]): Promise<RegisteredModel[]> {
  if (rows.length === 0) return [];
  const tags = new Map<number, { key: string; value: string }[]>();
  const aliases = new Map<number, { alias: string; version: string }[]>();
  const latest = new Map<number, VersionRow[]>();
  const latestRows: VersionRow[] = [];
  for (const chunk of chunks(rows, 500)) {
    const ids = chunk.map((r) => r.id);
    const list = placeholders(ids.length);
    // one after the other: inside a transaction they share one PostgreSQL connection
    const tagRows = await db.all<{ registered_model_id: number; key: string; value: string }>(
      `SELECT registered_model_id, key, value FROM registered_model_tags WHERE registered_model_id IN (${list}) ORDER BY ${byCodePoint(db, "key")}`,
      ids,
    );
    const aliasRows = await db.all<{ registered_model_id: number; alias: string; version: number }>(
      `SELECT registered_model_id, alias, version FROM registered_model_aliases
          WHERE registered_model_id IN (${list}) ORDER BY ${byCodePoint(db, "alias")}`,
      ids,
    );
    const versionRows = await db.all<VersionRow & { first_version: number }>(
      `SELECT ${VERSION_COLUMNS}, l.first_version ${VERSION_FROM}
           JOIN (SELECT registered_model_id, current_stage, MIN(version) AS first_version, MAX(version) AS latest_version
                   FROM model_versions WHERE registered_model_id IN (${list})
                  GROUP BY registered_model_id, current_stage) l
             ON l.registered_model_id = mv.registered_model_id AND l.latest_version = mv.version
          ORDER BY mv.registered_model_id, l.first_version`,
      ids,
    );
    for (const t of tagRows) {
      let l = tags.get(t.registered_model_id);
      if (!l) tags.set(t.registered_model_id, (l = []));
      l.push({ key: t.key, value: t.value });
    }
    for (const a of aliasRows) {
      let l = aliases.get(a.registered_model_id);
      if (!l) aliases.set(a.registered_model_id, (l = []));
      l.push({ alias: a.alias, version: String(a.version) });
    }
    for (const v of versionRows) {
      const { first_version: _first, ...row } = v;
      let l = latest.get(row.registered_model_id);
      if (!l) latest.set(row.registered_model_id, (l = []));
      l.push(row);
      latestRows.push(row);
    }
  }
  const hydrated = await hydrateVersions(db, latestRows);
  const byKey = new Map(latestRows.map((r, i) => [versionKey(r.registered_model_id, r.version), hydrated[i]!]));
  return rows.map((row) => {
    const rm: RegisteredModel = {
      name: row.name,
      creation_timestamp: row.creation_time,
      last_updated_timestamp: row.last_updated_time,
    };
    if (row.user_id !== null) rm.user_id = row.user_id;
    if (row.description !== null) rm.description = row.description;
    const lv = latest.get(row.id);
    if (lv) rm.latest_versions = lv.map((v) => byKey.get(versionKey(v.registered_model_id, v.version))!);
    const t = tags.get(row.id);
    if (t) rm.tags = t;
    const a = aliases.get(row.id);
    if (a) rm.aliases = a;
    if (row.deployment_job_id !== null) rm.deployment_job_id = row.deployment_job_id;
    return rm;
  });
}

export async function loadModel(db: SqlExecutor, row: ModelRow): Promise<RegisteredModel> {
  const [rm] = await hydrateModels(db, [row]);
  return rm!;
}
