/**
 * Registry events: the `registry_events` log behind `GET /api/2.0/slipway/events`.
 *
 * - `recordEvent(tx, event)` writes one event inside the registry change's own transaction, so an event is
 *   stored exactly when its change commits.
 * - `RegistryEvents` is the in-process commit signal: the service (through `signallingCommits`) fires it after
 *   a transaction that recorded events has committed, and open streams wake on it to read the new rows.
 * - `eventsAfter(db, lastId, limit)` is the stream's query: rows with an id strictly greater than `lastId`, in
 *   id order. Ids commit in order (SQLite serialises writers; on PostgreSQL writers take an advisory lock before
 *   inserting), so a reader that resumes after the last id it saw misses nothing.
 */
import { invalidParameter, REGISTRY_EVENT_KINDS, type RegistryEvent, type RegistryEventKind } from "@slipway/protocol";
import type { SqlDb, SqlExecutor, SqlValue } from "../../platform/db/sql-db.js";

export { REGISTRY_EVENT_KINDS, type RegistryEventKind };

/** An event as the service records it. */
export interface NewRegistryEvent {
  kind: RegistryEventKind;
  name: string;
  version?: number | null;
  /** The alias (alias.*) or the version's new stage (model_version.stage_changed). */
  alias?: string | null;
  from_version?: number | null;
  to_version?: number | null;
  reason?: string | null;
  created_at: number;
  /** Extra fields of the kind, stored as JSON. */
  payload?: Record<string, unknown>;
}

/** An event as the stream sends it (the `data:` line): protocol's wire type. */
export type RegistryEventData = RegistryEvent;

export interface StoredRegistryEvent {
  id: number;
  kind: RegistryEventKind;
  data: RegistryEventData;
}

export interface EventFilter {
  model?: string | undefined;
  kinds?: readonly RegistryEventKind[] | undefined;
}

/** Advisory lock key that orders event inserts on PostgreSQL ("slipway:registry_events"). */
const PG_EVENT_LOCK = 0x5e_1e_7e_01;

/** Transactions that recorded at least one event and have not yet been signalled. */
const recorded = new WeakSet<object>();

export async function recordEvent(tx: SqlExecutor, event: NewRegistryEvent): Promise<void> {
  // Ordering ids by commit: a later id may not commit before an earlier one, or a reader would skip it.
  if (tx.dialect === "postgres") await tx.get(`SELECT pg_advisory_xact_lock(${PG_EVENT_LOCK}) AS locked`);
  await tx.run(
    `INSERT INTO registry_events (kind, model_name, version, alias, from_version, to_version, reason, created_at, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      event.kind,
      event.name,
      event.version ?? null,
      event.alias ?? null,
      event.from_version ?? null,
      event.to_version ?? null,
      event.reason ?? null,
      event.created_at,
      JSON.stringify(event.payload ?? {}),
    ],
  );
  recorded.add(tx);
}

type Listener = () => void;

/** The in-process "new events were committed" signal. */
export class RegistryEvents {
  private readonly listeners = new Set<Listener>();

  /** Calls `listener` after every commit that recorded events; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

/** `db` whose transactions fire `events` after they commit, when they recorded an event. */
export function signallingCommits(db: SqlDb, events: RegistryEvents): SqlDb {
  return {
    get dialect() {
      return db.dialect;
    },
    get timings() {
      return db.timings;
    },
    all: (sql, params) => db.all(sql, params),
    get: (sql, params) => db.get(sql, params),
    run: (sql, params) => db.run(sql, params),
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      let wrote = false;
      try {
        return await db.transaction(async (tx) => {
          recorded.delete(tx);
          const result = await fn(tx);
          wrote = recorded.delete(tx);
          return result;
        });
      } finally {
        // after COMMIT (or a rollback, where readers simply find nothing new)
        if (wrote) events.notify();
      }
    },
  };
}

interface EventRow {
  event_id: number | string;
  kind: RegistryEventKind;
  model_name: string;
  version: number | null;
  alias: string | null;
  from_version: number | null;
  to_version: number | null;
  reason: string | null;
  created_at: number | string;
  payload: string;
}

/** The stored events with ids strictly greater than `lastId`, oldest first, at most `limit`. */
export async function eventsAfter(
  db: SqlExecutor,
  lastId: number,
  limit: number,
  filter: EventFilter = {},
): Promise<StoredRegistryEvent[]> {
  const where = ["event_id > ?"];
  const params: SqlValue[] = [lastId];
  if (filter.model !== undefined) {
    where.push("model_name = ?");
    params.push(filter.model);
  }
  if (filter.kinds !== undefined && filter.kinds.length > 0) {
    where.push(`kind IN (${filter.kinds.map(() => "?").join(", ")})`);
    params.push(...filter.kinds);
  }
  params.push(limit);
  const rows = await db.all<EventRow>(
    `SELECT event_id, kind, model_name, version, alias, from_version, to_version, reason, created_at, payload
       FROM registry_events WHERE ${where.join(" AND ")} ORDER BY event_id LIMIT ?`,
    params,
  );
  return rows.map(toStored);
}

function toStored(row: EventRow): StoredRegistryEvent {
  const id = Number(row.event_id);
  const data: RegistryEventData = {
    event_id: String(id),
    kind: row.kind,
    name: row.model_name,
    created_at: Number(row.created_at),
  };
  if (row.version !== null) data.version = String(row.version);
  if (row.alias !== null) {
    if (row.kind === "model_version.stage_changed") data.stage = row.alias;
    else data.alias = row.alias;
  }
  if (row.from_version !== null) data.from_version = String(row.from_version);
  if (row.to_version !== null) data.to_version = String(row.to_version);
  if (row.reason !== null) data.reason = row.reason;
  let payload: unknown = {};
  try {
    payload = JSON.parse(row.payload);
  } catch {
    // a payload that is not JSON is left out rather than breaking the stream
  }
  if (payload !== null && typeof payload === "object" && !Array.isArray(payload)) {
    for (const [key, value] of Object.entries(payload)) if (!(key in data)) data[key] = value;
  }
  return { id, kind: row.kind, data };
}

/** Parses an event id cursor (`Last-Event-ID` or `?after=`): a non-negative integer. */
export function parseEventId(value: string, what: string): number {
  const text = value.trim();
  if (!/^\d{1,15}$/.test(text)) {
    throw invalidParameter(`Invalid value '${value}' for ${what}: expected a non-negative integer event id.`);
  }
  return Number(text);
}

/** Parses `?kinds=a,b`. */
export function parseKinds(value: string): RegistryEventKind[] {
  const kinds = value
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  for (const kind of kinds) {
    if (!(REGISTRY_EVENT_KINDS as readonly string[]).includes(kind)) {
      throw invalidParameter(
        `Invalid value '${kind}' for parameter 'kinds': expected one of ${REGISTRY_EVENT_KINDS.join(", ")}.`,
      );
    }
  }
  return kinds as RegistryEventKind[];
}
