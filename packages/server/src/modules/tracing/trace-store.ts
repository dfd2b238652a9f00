/**
 * Where traces are kept: `TraceStore`, and its one implementation over SQL (SQLite and PostgreSQL; tables
 * `trace_info`, `trace_tags`, `trace_metadata`, migration 0010). It takes values the service has already validated;
 * it never sees a request.
 *
 * - A trace is written in one transaction (its row, tags, metadata and spans): all of it or none of it. Writing a
 *   trace id again replaces its info, tags and metadata (a client's retry, or MLflow's start-then-end), and its
 *   spans when new ones come; a trace never moves to another experiment.
 * - Searches read a list of experiments through the (experiment_id, request_time, trace_id) index, pages by offset
 *   (as the tracking searches do), ties broken by trace_id.
 */
import type { SqlDb, SqlExecutor, SqlValue } from "../../platform/db/sql-db.js";
import { placeholders, valuesList } from "../../platform/db/sql-db.js";
import type { TraceState } from "@slipway/protocol";
import type { SqlPart } from "./trace-search.js";
import type { ValidTrace } from "./trace-validation.js";

/** A stored trace: its row with its tags and metadata (`spans` only when asked for: else null). */
export type StoredTrace = ValidTrace;

export interface TraceSearch {
  experimentIds: readonly number[];
  where: readonly SqlPart[];
  /** `ORDER BY` text over alias `ti` (trace-search.ts). */
  orderBy: string;
  limit: number;
  offset: number;
}

export interface TraceDeletion {
  experimentId: number;
  /** Delete these traces (of this experiment only)... */
  traceIds?: readonly string[];
  /** ...or the oldest ones with request_time <= this, at most `maxTraces` of them. */
  maxTimestampMs?: number;
  maxTraces?: number;
}

export interface TraceStore {
  /** Writes a trace (see the file comment); false when the id exists in another experiment (nothing written). */
  put(trace: ValidTrace): Promise<boolean>;
  /** The traces with these ids that exist, in the order asked. */
  get(traceIds: readonly string[], options?: { withSpans?: boolean }): Promise<StoredTrace[]>;
  experimentOf(traceId: string): Promise<number | undefined>;
  search(query: TraceSearch): Promise<StoredTrace[]>;
  /** False when there is no such trace. */
  setTag(traceId: string, key: string, value: string): Promise<boolean>;
  /** Whether a tag was removed; throws nothing for a missing trace (the service checks first). */
  deleteTag(traceId: string, key: string): Promise<boolean>;
  /** How many traces were deleted (with their tags, metadata and spans). */
  delete(deletion: TraceDeletion): Promise<number>;
}

interface InfoRow {
  trace_id: string;
  experiment_id: number | string;
  client_request_id: string | null;
  request_time: number | string;
  execution_time_ms: number | string | null;
  state: string;
  request_preview: string | null;
  response_preview: string | null;
  spans?: string | null;
}

const INFO_COLUMNS =
  "ti.trace_id, ti.experiment_id, ti.client_request_id, ti.request_time, ti.execution_time_ms, ti.state, " +
  "ti.request_preview, ti.response_preview";
/** Ids per `IN (...)` list: well under both drivers' parameter limits. */
const CHUNK = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function insertEntries(tx: SqlExecutor, table: string, traceId: string, entries: Map<string, string>) {
  const all = [...entries];
  for (const chunk of chunks(all, CHUNK)) {
    await tx.run(
      `INSERT INTO ${table} (trace_id, key, value) VALUES ${valuesList(chunk.length, 3)}`,
      chunk.flatMap(([k, v]) => [traceId, k, v]),
    );
  }
}

export class SqlTraceStore implements TraceStore {
  constructor(private readonly db: SqlDb) {}

  async put(trace: ValidTrace): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const existing = await tx.get<{ experiment_id: number | string }>(
        `SELECT experiment_id FROM trace_info WHERE trace_id = ?`,
        [trace.trace_id],
      );
      if (existing && Number(existing.experiment_id) !== trace.experiment_id) return false;
      const values: SqlValue[] = [
        trace.trace_id,
        trace.experiment_id,
        trace.client_request_id,
        trace.request_time,
        trace.execution_time_ms,
        trace.state,
        trace.request_preview,
        trace.response_preview,
        trace.spans,
      ];
      await tx.run(
        `INSERT INTO trace_info (trace_id, experiment_id, client_request_id, request_time, execution_time_ms, state,
           request_preview, response_preview, spans) VALUES (${placeholders(values.length)})
         ON CONFLICT (trace_id) DO UPDATE SET client_request_id = excluded.client_request_id,
           request_time = excluded.request_time, execution_time_ms = excluded.execution_time_ms,
           state = excluded.state, request_preview = excluded.request_preview,
           response_preview = excluded.response_preview, spans = COALESCE(excluded.spans, trace_info.spans)`,
        values,
      );
      if (existing) {
        await tx.run(`DELETE FROM trace_tags WHERE trace_id = ?`, [trace.trace_id]);
        await tx.run(`DELETE FROM trace_metadata WHERE trace_id = ?`, [trace.trace_id]);
      }
      await insertEntries(tx, "trace_tags", trace.trace_id, trace.tags);
      await insertEntries(tx, "trace_metadata", trace.trace_id, trace.metadata);
      return true;
    });
  }

  async get(traceIds: readonly string[], options: { withSpans?: boolean } = {}): Promise<StoredTrace[]> {
    const unique = [...new Set(traceIds)];
    const rows: InfoRow[] = [];
    for (const chunk of chunks(unique, CHUNK)) {
      rows.push(
        ...(await this.db.all<InfoRow>(
          `SELECT ${INFO_COLUMNS}${options.withSpans ? ", ti.spans" : ""} FROM trace_info ti
            WHERE ti.trace_id IN (${placeholders(chunk.length)})`,
          chunk,
        )),
      );
    }
    const byId = new Map((await this.withEntries(rows)).map((t) => [t.trace_id, t]));
    return traceIds.flatMap((id) => {
      const t = byId.get(id);
      return t ? [t] : [];
    });
  }

  async experimentOf(traceId: string): Promise<number | undefined> {
    const row = await this.db.get<{ experiment_id: number | string }>(
      `SELECT experiment_id FROM trace_info WHERE trace_id = ?`,
      [traceId],
    );
    return row ? Number(row.experiment_id) : undefined;
  }

  async search(query: TraceSearch): Promise<StoredTrace[]> {
    if (query.experimentIds.length === 0) return [];
    const terms = [
      `ti.experiment_id IN (${placeholders(query.experimentIds.length)})`,
      ...query.where.map((w) => w.sql),
    ];
    const params: SqlValue[] = [
      ...query.experimentIds,
      ...query.where.flatMap((w) => w.params),
      query.limit,
      query.offset,
    ];
    const rows = await this.db.all<InfoRow>(
      `SELECT ${INFO_COLUMNS} FROM trace_info ti WHERE ${terms.join(" AND ")}
        ORDER BY ${query.orderBy} LIMIT ? OFFSET ?`,
      params,
    );
    return this.withEntries(rows);
  }

  async setTag(traceId: string, key: string, value: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const exists = await tx.get(`SELECT 1 AS x FROM trace_info WHERE trace_id = ?`, [traceId]);
      if (!exists) return false;
      await tx.run(
        `INSERT INTO trace_tags (trace_id, key, value) VALUES (?, ?, ?)
         ON CONFLICT (trace_id, key) DO UPDATE SET value = excluded.value`,
        [traceId, key, value],
      );
      return true;
    });
  }

  async deleteTag(traceId: string, key: string): Promise<boolean> {
    const { changes } = await this.db.run(`DELETE FROM trace_tags WHERE trace_id = ? AND key = ?`, [traceId, key]);
    return changes > 0;
  }

  async delete(deletion: TraceDeletion): Promise<number> {
    return this.db.transaction(async (tx) => {
      let ids: string[];
      if (deletion.traceIds !== undefined) {
        ids = [];
        for (const chunk of chunks([...new Set(deletion.traceIds)], CHUNK)) {
          const rows = await tx.all<{ trace_id: string }>(
            `SELECT trace_id FROM trace_info WHERE experiment_id = ? AND trace_id IN (${placeholders(chunk.length)})`,
            [deletion.experimentId, ...chunk],
          );
          ids.push(...rows.map((r) => r.trace_id));
        }
      } else {
        const limit = deletion.maxTraces === undefined ? "" : " LIMIT ?";
        const rows = await tx.all<{ trace_id: string }>(
          `SELECT trace_id FROM trace_info WHERE experiment_id = ? AND request_time <= ?
            ORDER BY request_time ASC, trace_id ASC${limit}`,
          [
            deletion.experimentId,
            deletion.maxTimestampMs ?? Number.MAX_SAFE_INTEGER,
            ...(deletion.maxTraces === undefined ? [] : [deletion.maxTraces]),
          ],
        );
        ids = rows.map((r) => r.trace_id);
      }
      for (const chunk of chunks(ids, CHUNK)) {
        const list = placeholders(chunk.length);
        // tags and metadata go first: no reliance on the dialect's cascade
        await tx.run(`DELETE FROM trace_tags WHERE trace_id IN (${list})`, chunk);
        await tx.run(`DELETE FROM trace_metadata WHERE trace_id IN (${list})`, chunk);
        await tx.run(`DELETE FROM trace_info WHERE trace_id IN (${list})`, chunk);
      }
      return ids.length;
    });
  }

  private async withEntries(rows: readonly InfoRow[]): Promise<StoredTrace[]> {
    const traces: StoredTrace[] = rows.map((r) => ({
      trace_id: r.trace_id,
      experiment_id: Number(r.experiment_id),
      client_request_id: r.client_request_id,
      request_time: Number(r.request_time),
      execution_time_ms: r.execution_time_ms === null ? null : Number(r.execution_time_ms),
      state: r.state as TraceState,
      request_preview: r.request_preview,
      response_preview: r.response_preview,
      tags: new Map(),
      metadata: new Map(),
      spans: r.spans ?? null,
    }));
    const byId = new Map(traces.map((t) => [t.trace_id, t]));
    for (const chunk of chunks([...byId.keys()], CHUNK)) {
      const list = placeholders(chunk.length);
      for (const [table, slot] of [
        ["trace_tags", "tags"],
        ["trace_metadata", "metadata"],
      ] as const) {
        const entries = await this.db.all<{ trace_id: string; key: string; value: string }>(
          `SELECT trace_id, key, value FROM ${table} WHERE trace_id IN (${list}) ORDER BY trace_id, key`,
          chunk,
        );
        for (const e of entries) byId.get(e.trace_id)?.[slot].set(e.key, e.value);
      }
    }
    return traces;
  }
}
