/**
 * Where the inference log and its labels are kept: `InferenceLogStore`, and its one implementation over SQL
 * (SQLite and PostgreSQL, tables `inference_log` and `inference_feedback`, migrations 0005 and 0008). It takes values
 * the service has already validated and serialised; it never sees a request.
 *
 * - Appends are one transaction: every record is stored or none is. A key already present is left as it is
 *   (`ON CONFLICT DO NOTHING`), so a model server may retry a batch.
 * - Labels are upserts: the last one written for a key wins. They join their rows when read, so either may come first.
 * - Reads are keyset pages in (timestamp_ms, request_id, row_index) order. request_id compares by code point in
 *   both dialects (PostgreSQL's column is `COLLATE "C"`), so the order is the same on both.
 */
import type { SqlDb, SqlExecutor, SqlValue } from "../../platform/db/sql-db.js";
import { valuesList } from "../../platform/db/sql-db.js";
import type { LogCursor, LogFilter, ValidLabel, ValidRecord } from "./inference-log-validation.js";

/** A stored row, joined with its label (null when none arrived). JSON columns are still text. */
export interface StoredRow extends ValidRecord {
  label: string | null;
  label_timestamp_ms: number | null;
}

export interface PageQuery {
  filter: LogFilter;
  labelled_only: boolean;
  limit: number;
  after?: LogCursor;
}

export interface LogStats {
  records: number;
  labelled: number;
  first_timestamp_ms: number | null;
  last_timestamp_ms: number | null;
}

export interface DeletedCounts {
  records: number;
  labels: number;
}

export interface InferenceLogStore {
  /** Stores the records that are new, all in one transaction; returns how many were new. */
  insert(records: readonly ValidRecord[]): Promise<number>;
  /** Stores the labels, each replacing an earlier one for its key (a later one in the list wins). */
  upsertLabels(labels: readonly ValidLabel[]): Promise<void>;
  /** Up to `limit` rows after `after`, in (timestamp_ms, request_id, row_index) order. */
  page(query: PageQuery): Promise<StoredRow[]>;
  stats(filter: LogFilter): Promise<LogStats>;
  /** Deletes rows older than `cutoff` with their labels, and labels older than `cutoff` that match no row. */
  deleteBefore(cutoff: number, batchSize: number): Promise<DeletedCounts>;
}

const RECORD_COLUMNS =
  "request_id, row_index, model_name, model_version, timestamp_ms, inputs, outputs, status, latency_ms, server";
const RECORD_PARAMS = 10;
/** Rows per INSERT statement: 10 parameters each stays well under both drivers' parameter limits. */
const INSERT_CHUNK = 500;
/** Keys per DELETE statement of a retention batch. */
const DELETE_CHUNK = 250;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function where(filter: LogFilter): { sql: string; params: SqlValue[] } {
  const terms = ["l.model_name = ?"];
  const params: SqlValue[] = [filter.model_name];
  if (filter.model_version !== undefined) {
    terms.push("l.model_version = ?");
    params.push(filter.model_version);
  }
  if (filter.start_ms !== undefined) {
    terms.push("l.timestamp_ms >= ?");
    params.push(filter.start_ms);
  }
  if (filter.end_ms !== undefined) {
    terms.push("l.timestamp_ms < ?");
    params.push(filter.end_ms);
  }
  return { sql: terms.join(" AND "), params };
}

const JOIN_ON = "f.request_id = l.request_id AND f.row_index = l.row_index";

/** `(request_id = ? AND row_index = ?) OR ...` for a list of keys. */
function keyMatch(keys: readonly { request_id: string; row_index: number }[]): { sql: string; params: SqlValue[] } {
  return {
    sql: keys.map(() => "(request_id = ? AND row_index = ?)").join(" OR "),
    params: keys.flatMap((k) => [k.request_id, k.row_index]),
  };
}

export class SqlInferenceLogStore implements InferenceLogStore {
  constructor(private readonly db: SqlDb) {}

  async insert(records: readonly ValidRecord[]): Promise<number> {
    return this.db.transaction(async (tx) => {
      let inserted = 0;
      for (const chunk of chunks(records, INSERT_CHUNK)) {
        const params = chunk.flatMap((r) => [
          r.request_id,
          r.row_index,
          r.model_name,
          r.model_version,
          r.timestamp_ms,
          r.inputs,
          r.outputs,
          r.status,
          r.latency_ms,
          r.server,
        ]);
        const { changes } = await tx.run(
          `INSERT INTO inference_log (${RECORD_COLUMNS}) VALUES ${valuesList(chunk.length, RECORD_PARAMS)}
           ON CONFLICT (request_id, row_index) DO NOTHING`,
          params,
        );
        inserted += changes;
      }
      return inserted;
    });
  }

  async upsertLabels(labels: readonly ValidLabel[]): Promise<void> {
    // one statement may not update a row twice (PostgreSQL refuses): keep each key's last label
    const last = new Map<string, ValidLabel>();
    for (const label of labels) last.set(JSON.stringify([label.request_id, label.row_index]), label);
    await this.db.transaction(async (tx) => {
      for (const chunk of chunks([...last.values()], INSERT_CHUNK)) {
        await tx.run(
          `INSERT INTO inference_feedback (request_id, row_index, label, timestamp_ms) VALUES ${valuesList(chunk.length, 4)}
           ON CONFLICT (request_id, row_index) DO UPDATE SET label = excluded.label, timestamp_ms = excluded.timestamp_ms`,
          chunk.flatMap((l) => [l.request_id, l.row_index, l.label, l.timestamp_ms]),
        );
      }
    });
  }

  async page(query: PageQuery): Promise<StoredRow[]> {
    const w = where(query.filter);
    let sql = w.sql;
    const params = [...w.params];
    if (query.after !== undefined) {
      sql += " AND (l.timestamp_ms, l.request_id, l.row_index) > (?, ?, ?)";
      params.push(query.after.timestamp_ms, query.after.request_id, query.after.row_index);
    }
    return this.db.all<StoredRow>(
      `SELECT l.request_id, l.row_index, l.model_name, l.model_version, l.timestamp_ms, l.inputs, l.outputs,
              l.status, l.latency_ms, l.server, f.label, f.timestamp_ms AS label_timestamp_ms
         FROM inference_log l ${query.labelled_only ? "JOIN" : "LEFT JOIN"} inference_feedback f ON ${JOIN_ON}
        WHERE ${sql}
        ORDER BY l.timestamp_ms, l.request_id, l.row_index
        LIMIT ?`,
      [...params, query.limit],
    );
  }

  async stats(filter: LogFilter): Promise<LogStats> {
    const w = where(filter);
    const row = await this.db.get<{
      records: number;
      labelled: number;
      first_ms: number | null;
      last_ms: number | null;
    }>(
      `SELECT COUNT(*) AS records, COUNT(f.request_id) AS labelled,
              MIN(l.timestamp_ms) AS first_ms, MAX(l.timestamp_ms) AS last_ms
         FROM inference_log l LEFT JOIN inference_feedback f ON ${JOIN_ON}
        WHERE ${w.sql}`,
      w.params,
    );
    return {
      records: Number(row?.records ?? 0),
      labelled: Number(row?.labelled ?? 0),
      first_timestamp_ms: row?.first_ms === null || row?.first_ms === undefined ? null : Number(row.first_ms),
      last_timestamp_ms: row?.last_ms === null || row?.last_ms === undefined ? null : Number(row.last_ms),
    };
  }

  /**
   * In batches of `batchSize` rows, each its own transaction (a row and its label go together), so a long
   * retention run never holds the write lock for long. The batch's keys are read first, inside its transaction,
   * and deleted by key: the labels deleted are exactly those of the rows deleted. No ORDER BY: a scan finds the
   * old rows first, since rows are mostly written in time order.
   */
  async deleteBefore(cutoff: number, batchSize: number): Promise<DeletedCounts> {
    const deleted: DeletedCounts = { records: 0, labels: 0 };
    for (;;) {
      const done = await this.db.transaction(async (tx) => {
        const keys = await tx.all<{ request_id: string; row_index: number }>(
          "SELECT request_id, row_index FROM inference_log WHERE timestamp_ms < ? LIMIT ?",
          [cutoff, batchSize],
        );
        await this.deleteKeys(tx, keys, deleted);
        return keys.length < batchSize;
      });
      if (done) break;
    }
    // labels older than the cutoff that never matched a row
    for (;;) {
      const { changes } = await this.db.run(
        `DELETE FROM inference_feedback WHERE (request_id, row_index) IN (
           SELECT f.request_id, f.row_index FROM inference_feedback f
            WHERE f.timestamp_ms < ?
              AND NOT EXISTS (SELECT 1 FROM inference_log l WHERE ${JOIN_ON})
            LIMIT ?)`,
        [cutoff, batchSize],
      );
      deleted.labels += changes;
      if (changes < batchSize) break;
    }
    return deleted;
  }

  private async deleteKeys(
    tx: SqlExecutor,
    keys: readonly { request_id: string; row_index: number }[],
    deleted: DeletedCounts,
  ): Promise<void> {
    for (const chunk of chunks(keys, DELETE_CHUNK)) {
      const match = keyMatch(chunk);
      deleted.labels += (await tx.run(`DELETE FROM inference_feedback WHERE ${match.sql}`, match.params)).changes;
      deleted.records += (await tx.run(`DELETE FROM inference_log WHERE ${match.sql}`, match.params)).changes;
    }
  }
}
