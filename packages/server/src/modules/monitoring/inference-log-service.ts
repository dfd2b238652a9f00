/**
 * The inference log and its feedback (monitoring's data source), with no knowledge of HTTP: the routes, a monitor
 * scheduler and tests all call this.
 *
 * Every method validates its argument at run time (callers include raw JSON), and throws INVALID_PARAMETER_VALUE
 * naming the field before anything is written, so an append with one bad record stores nothing.
 */
import {
  INFERENCE_LOG_LIMITS,
  parseJson,
  type AddFeedbackRequest,
  type AddFeedbackResponse,
  type InferenceLogRecord,
  type InferenceLogStatsRequest,
  type InferenceLogStatsResponse,
  type LogInferencesRequest,
  type LogInferencesResponse,
  type SearchInferenceLogRequest,
  type SearchInferenceLogResponse,
} from "@slipway/protocol";
import type { SqlDb } from "../../platform/db/sql-db.js";
import {
  SqlInferenceLogStore,
  type DeletedCounts,
  type InferenceLogStore,
  type StoredRow,
} from "./inference-log-store.js";
import {
  encodePageToken,
  parseCutoff,
  parseFeedback,
  parseFilter,
  parseMaxResults,
  parseRecords,
  parseSearch,
  type ValidSearch,
} from "./inference-log-validation.js";

/** A request as it may arrive: the wire type's fields, not yet checked. */
export type Unchecked<T> = { readonly [K in keyof T]?: unknown };

/** The rows of one model (optionally one version) with `start_ms <= timestamp_ms < end_ms`. */
export interface WindowQuery {
  model_name: string;
  model_version?: string;
  start_ms: number;
  end_ms: number;
  /** Only rows that have a label. */
  labelled_only?: boolean;
  /** Rows per page (default 1000, at most 10 000). */
  page_size?: number;
}

export interface InferenceLogServiceDeps {
  db: SqlDb;
  /** Another store than the SQL one over `db` (tests, future backends). */
  store?: InferenceLogStore;
  /** The clock for labels sent without a timestamp. */
  now?: () => number;
}

/** Rows deleted per retention transaction. */
const RETENTION_BATCH = 1000;

function toRecord(row: StoredRow): InferenceLogRecord {
  // the schema's field order; absent optional columns left out
  const record: InferenceLogRecord = {
    request_id: row.request_id,
    row_index: Number(row.row_index),
    model_name: row.model_name,
    model_version: row.model_version,
    timestamp_ms: Number(row.timestamp_ms),
    inputs: parseJson(row.inputs) as Record<string, unknown>,
    outputs: parseJson(row.outputs),
    status: Number(row.status),
  };
  if (row.latency_ms !== null) record.latency_ms = Number(row.latency_ms);
  if (row.server !== null) record.server = row.server;
  if (row.label !== null) {
    record.label = parseJson(row.label);
    record.label_timestamp_ms = Number(row.label_timestamp_ms);
  }
  return record;
}

export class InferenceLogService {
  private readonly store: InferenceLogStore;
  private readonly now: () => number;

  constructor(deps: InferenceLogServiceDeps) {
    this.store = deps.store ?? new SqlInferenceLogStore(deps.db);
    this.now = deps.now ?? Date.now;
  }

  /**
   * Stores 1..5000 records atomically. A record whose (request_id, row_index) is already logged, or repeated
   * earlier in the same call, is left out and counted in `duplicates`: retries are safe.
   */
  async append(request: Unchecked<LogInferencesRequest>): Promise<LogInferencesResponse> {
    const records = parseRecords(request.records);
    const inserted = await this.store.insert(records);
    return { inserted, duplicates: records.length - inserted };
  }

  /**
   * Stores one label (`request_id`, `row_index` (default 0), `label`, `timestamp_ms` (default now)) or a batch
   * (`labels`, 1..5000). Its row may be logged before or after. A later label for the same key replaces the earlier
   * one: last write wins, in the order the server receives them (not by `timestamp_ms`).
   */
  async addFeedback(request: Unchecked<AddFeedbackRequest>): Promise<AddFeedbackResponse> {
    const labels = parseFeedback(request, this.now());
    await this.store.upsertLabels(labels);
    return { accepted: labels.length };
  }

  /** One page of a model's rows with their labels, in (timestamp_ms, request_id, row_index) order. */
  async search(request: Unchecked<SearchInferenceLogRequest>): Promise<SearchInferenceLogResponse> {
    return this.searchPage(parseSearch(request));
  }

  /** Counts of a model's rows and labelled rows, and their time span (absent when none match). */
  async stats(request: Unchecked<InferenceLogStatsRequest>): Promise<InferenceLogStatsResponse> {
    const stats = await this.store.stats(parseFilter(request));
    return {
      records: stats.records,
      labelled: stats.labelled,
      ...(stats.first_timestamp_ms === null ? {} : { first_timestamp_ms: stats.first_timestamp_ms }),
      ...(stats.last_timestamp_ms === null ? {} : { last_timestamp_ms: stats.last_timestamp_ms }),
    };
  }

  /**
   * Every row of a window, one page at a time (each page is one query, so memory stays bounded by the page size).
   * Rows logged into the window while it is read appear if they sort after the current page.
   */
  async *window(query: WindowQuery): AsyncGenerator<InferenceLogRecord[], void, undefined> {
    const search: ValidSearch = {
      filter: parseFilter(query, true),
      labelled_only: query.labelled_only === true,
      limit: parseMaxResults(
        query.page_size,
        "page_size",
        INFERENCE_LOG_LIMITS.defaultMaxResults,
        INFERENCE_LOG_LIMITS.maxMaxResults,
      ),
    };
    for (;;) {
      const rows = await this.store.page(search);
      if (rows.length > 0) yield rows.map(toRecord);
      if (rows.length < search.limit) return;
      const last = rows[rows.length - 1]!;
      search.after = {
        timestamp_ms: Number(last.timestamp_ms),
        request_id: last.request_id,
        row_index: Number(last.row_index),
      };
    }
  }

  /**
   * Retention: deletes every row with `timestamp_ms` before `cutoff` together with its label, and labels received
   * before `cutoff` that match no row (labels for rows that never came). Runs in batches of 1000 rows, each its own
   * transaction, so it can run beside live traffic; a run that stops half way is finished by the next one.
   */
  async deleteBefore(cutoff: number): Promise<DeletedCounts> {
    return this.store.deleteBefore(parseCutoff(cutoff), RETENTION_BATCH);
  }

  private async searchPage(search: ValidSearch): Promise<SearchInferenceLogResponse> {
    // one row more than asked says whether there is a next page
    const rows = await this.store.page({ ...search, limit: search.limit + 1 });
    const page = rows.slice(0, search.limit);
    const out: SearchInferenceLogResponse = { records: page.map(toRecord) };
    if (rows.length > search.limit) {
      const last = page[page.length - 1]!;
      out.next_page_token = encodePageToken({
        timestamp_ms: Number(last.timestamp_ms),
        request_id: last.request_id,
        row_index: Number(last.row_index),
      });
    }
    return out;
  }
}
