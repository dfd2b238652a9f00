/**
 * Where deployments, their decisions and the traffic statistics model servers report are kept (migration 0007,
 * SQLite and PostgreSQL): SQL only, on values the service has checked. Routing changes are conditional on the
 * deployment's revision (`WHERE revision = ?`): of two control-plane replicas deciding at once, one wins and the other
 * changes nothing.
 */
import type { VersionStatsEntry, ServedVersionState } from "@slipway/protocol";
import type { SqlDb, SqlExecutor, SqlValue } from "../../platform/db/sql-db.js";

/** The canary's and the shadow's settings as given (the `definition` column). */
export interface CanarySettings {
  model_uri: string;
  initial_weight: number;
  step: number;
  interval_ms: number;
  max_error_rate: number;
  max_latency_p99_ms?: number;
  min_requests: number;
}

export interface ShadowSettings {
  model_uri: string;
  max_queue: number;
}

export interface DeploymentDefinition {
  canary?: CanarySettings;
  shadow?: ShadowSettings;
}

export type CanaryStateValue = "running" | "promoting" | "promoted" | "rolled_back";

export interface DeploymentRow {
  deployment_id: string;
  name: string;
  model_uri: string;
  model_name: string;
  model_alias: string | null;
  model_version: string | null;
  definition: string;
  canary_version: string | null;
  canary_state: CanaryStateValue | null;
  canary_weight: number;
  canary_base_version: string | null;
  canary_started_at: number | null;
  canary_ended_at: number | null;
  canary_reason: string | null;
  held_intervals: number;
  shadow_version: string | null;
  shadow_state: "running" | "failed" | null;
  shadow_started_at: number | null;
  shadow_error: string | null;
  revision: number;
  step_started_at: number;
  creation_timestamp: number;
  last_updated_timestamp: number;
}

export interface StatsRow {
  role: "primary" | "canary" | "shadow";
  version: string;
  requests: number;
  errors: number;
  client_errors: number;
  latency: string;
  compared_rows: number;
  agreed_rows: number;
  dropped: number;
  last_error: string | null;
  received_at: number;
}

export interface EventRow {
  event_id: number;
  kind: string;
  from_weight: number | null;
  to_weight: number | null;
  version: string | null;
  reason: string;
  stats: string | null;
  created_at: number;
}

export interface ServerRow {
  server: string;
  revision: number;
  models: string;
  last_report_at: number;
}

/** A decision to record with a change. */
export interface NewEvent {
  kind: string;
  reason: string;
  fromWeight?: number | undefined;
  toWeight?: number | undefined;
  version?: string | undefined;
  /** JSON of the statistics the decision was made on. */
  stats?: string | undefined;
}

/** Columns a routing change sets (besides revision, step_started_at and last_updated_timestamp). */
export type RoutingChange = Partial<
  Pick<
    DeploymentRow,
    | "definition"
    | "canary_version"
    | "canary_state"
    | "canary_weight"
    | "canary_base_version"
    | "canary_started_at"
    | "canary_ended_at"
    | "canary_reason"
    | "held_intervals"
    | "shadow_version"
    | "shadow_state"
    | "shadow_started_at"
    | "shadow_error"
  >
>;

const ROUTING_COLUMNS = new Set<keyof RoutingChange>([
  "definition",
  "canary_version",
  "canary_state",
  "canary_weight",
  "canary_base_version",
  "canary_started_at",
  "canary_ended_at",
  "canary_reason",
  "held_intervals",
  "shadow_version",
  "shadow_state",
  "shadow_started_at",
  "shadow_error",
]);

export class DeploymentStore {
  constructor(private readonly db: SqlDb) {}

  /** Inserts a deployment and its `created` event; false when the name is taken. */
  async insert(row: DeploymentRow, event: NewEvent): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const columns = Object.keys(row) as (keyof DeploymentRow)[];
      const { changes } = await tx.run(
        `INSERT INTO deployments (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})
         ON CONFLICT (name) DO NOTHING`,
        columns.map((c) => row[c]),
      );
      if (changes === 0) return false;
      await this.insertEvent(tx, row.deployment_id, event, row.creation_timestamp);
      return true;
    });
  }

  async byName(name: string, db: SqlExecutor = this.db): Promise<DeploymentRow | undefined> {
    return db.get<DeploymentRow>(`SELECT * FROM deployments WHERE name = ?`, [name]);
  }

  async byId(id: string, db: SqlExecutor = this.db): Promise<DeploymentRow | undefined> {
    return db.get<DeploymentRow>(`SELECT * FROM deployments WHERE deployment_id = ?`, [id]);
  }

  async list(options: { modelName?: string; after?: string; limit: number }): Promise<DeploymentRow[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (options.modelName !== undefined) {
      where.push("model_name = ?");
      params.push(options.modelName);
    }
    if (options.after !== undefined) {
      where.push("name > ?");
      params.push(options.after);
    }
    return this.db.all<DeploymentRow>(
      `SELECT * FROM deployments ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY name LIMIT ?`,
      [...params, options.limit],
    );
  }

  async all(): Promise<DeploymentRow[]> {
    return this.db.all<DeploymentRow>(`SELECT * FROM deployments ORDER BY name`);
  }

  /**
   * Replaces the statistics rows received before `before` by one row per (revision, role, version) with their sums
   * (`report_id` `compacted:…`), when there are more rows than that. Returns the rows removed.
   */
  async compact(id: string, before: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      // two replicas compacting at once: the second waits, then finds the rows already folded
      if (tx.dialect === "postgres") {
        await tx.run(`SELECT 1 FROM deployments WHERE deployment_id = ? FOR UPDATE`, [id]);
      }
      const rows = await tx.all<StatsRow & { revision: number; report_id: string }>(
        `SELECT revision, report_id, role, version, requests, errors, client_errors, latency, compared_rows, agreed_rows,
           dropped, last_error, received_at FROM deployment_stats WHERE deployment_id = ? AND received_at < ?
         ORDER BY received_at`,
        [id, before],
      );
      const groups = new Map<string, (typeof rows)[number][]>();
      for (const r of rows) {
        const key = `${r.revision}\u0000${r.role}\u0000${r.version}`;
        const list = groups.get(key) ?? [];
        list.push(r);
        groups.set(key, list);
      }
      if (rows.length <= groups.size) return 0;
      await tx.run(`DELETE FROM deployment_stats WHERE deployment_id = ? AND received_at < ?`, [id, before]);
      for (const list of groups.values()) {
        const first = list[0]!;
        const latency: number[] = [];
        let lastError: string | null = null;
        const sum = { requests: 0, errors: 0, client_errors: 0, compared_rows: 0, agreed_rows: 0, dropped: 0 };
        let received = 0;
        for (const r of list) {
          for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += Number(r[k]);
          const counts = JSON.parse(r.latency) as number[];
          counts.forEach((c, i) => (latency[i] = (latency[i] ?? 0) + c));
          if (r.last_error !== null) lastError = r.last_error;
          received = Math.max(received, Number(r.received_at));
        }
        await tx.run(
          `INSERT INTO deployment_stats (deployment_id, report_id, revision, role, version, server, requests, errors,
             client_errors, latency, compared_rows, agreed_rows, dropped, last_error, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            id,
            `compacted:${before}`,
            first.revision,
            first.role,
            first.version,
            "*",
            sum.requests,
            sum.errors,
            sum.client_errors,
            JSON.stringify(latency),
            sum.compared_rows,
            sum.agreed_rows,
            sum.dropped,
            lastError,
            received,
          ],
        );
      }
      return rows.length - groups.size;
    });
  }

  /** Deployments whose canary the controller must look at. */
  async activeCanaries(): Promise<DeploymentRow[]> {
    return this.db.all<DeploymentRow>(
      `SELECT * FROM deployments WHERE canary_state IN ('running', 'promoting') ORDER BY name`,
    );
  }

  /** Another deployment running a canary on the same alias, if any. */
  async canaryOnAlias(modelName: string, alias: string, exceptId?: string): Promise<DeploymentRow | undefined> {
    return this.db.get<DeploymentRow>(
      `SELECT * FROM deployments WHERE model_name = ? AND model_alias = ? AND canary_state IN ('running', 'promoting')
       AND deployment_id <> ?`,
      [modelName, alias, exceptId ?? ""],
    );
  }

  /**
   * Applies a change when the deployment is still at `revision` (and, when given, its canary in `canaryState`),
   * records the event in the same transaction and, when `bump`, moves to the next revision (dropping the statistics
   * of older ones). Returns false, changing nothing, when another decision came first.
   */
  async change(options: {
    id: string;
    revision: number;
    canaryState?: CanaryStateValue;
    set: RoutingChange;
    bump: boolean;
    now: number;
    event?: NewEvent;
  }): Promise<boolean> {
    const { id, revision, set, bump, now } = options;
    const assignments: string[] = [];
    const params: SqlValue[] = [];
    for (const [column, value] of Object.entries(set) as [keyof RoutingChange, SqlValue | undefined][]) {
      if (!ROUTING_COLUMNS.has(column)) throw new Error(`not a routing column: ${column}`);
      assignments.push(`${column} = ?`);
      params.push(value ?? null);
    }
    if (bump) {
      assignments.push("revision = revision + 1", "step_started_at = ?");
      params.push(now);
    }
    assignments.push("last_updated_timestamp = ?");
    params.push(now);
    return this.db.transaction(async (tx) => {
      const { changes } = await tx.run(
        `UPDATE deployments SET ${assignments.join(", ")} WHERE deployment_id = ? AND revision = ?${
          options.canaryState === undefined ? "" : " AND canary_state = ?"
        }`,
        [...params, id, revision, ...(options.canaryState === undefined ? [] : [options.canaryState])],
      );
      if (changes === 0) return false;
      if (options.event) await this.insertEvent(tx, id, options.event, now);
      if (bump) await tx.run(`DELETE FROM deployment_stats WHERE deployment_id = ? AND revision <= ?`, [id, revision]);
      return true;
    });
  }

  async recordEvent(id: string, event: NewEvent, now: number): Promise<void> {
    await this.insertEvent(this.db, id, event, now);
  }

  /** Whether an event of this kind and version was recorded at or after `since`. */
  async hasEvent(id: string, kind: string, version: string, since: number): Promise<boolean> {
    const row = await this.db.get(
      `SELECT 1 AS x FROM deployment_events WHERE deployment_id = ? AND kind = ? AND version = ? AND created_at >= ?`,
      [id, kind, version, since],
    );
    return row !== undefined;
  }

  private async insertEvent(db: SqlExecutor, id: string, event: NewEvent, now: number): Promise<void> {
    await db.run(
      `INSERT INTO deployment_events (deployment_id, kind, from_weight, to_weight, version, reason, stats, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        event.kind,
        event.fromWeight ?? null,
        event.toWeight ?? null,
        event.version ?? null,
        event.reason,
        event.stats ?? null,
        now,
      ],
    );
  }

  async events(id: string, options: { before?: number; limit: number }): Promise<EventRow[]> {
    return this.db.all<EventRow>(
      `SELECT event_id, kind, from_weight, to_weight, version, reason, stats, created_at FROM deployment_events
       WHERE deployment_id = ?${options.before === undefined ? "" : " AND event_id < ?"} ORDER BY event_id DESC LIMIT ?`,
      [id, ...(options.before === undefined ? [] : [options.before]), options.limit],
    );
  }

  /**
   * Stores a report: the entries of the current revision (older ones are stale: their revision's decision is made),
   * once per report id, and the server's state.
   */
  async recordReport(options: {
    id: string;
    revision: number;
    server: string;
    reportId: string;
    entries: readonly VersionStatsEntry[];
    models: readonly ServedVersionState[];
    serverRevision: number;
    now: number;
  }): Promise<void> {
    const { id, server, reportId, now } = options;
    await this.db.transaction(async (tx) => {
      for (const e of options.entries) {
        if (e.revision !== options.revision) continue;
        if (e.requests === 0 && (e.dropped ?? 0) === 0) continue;
        await tx.run(
          `INSERT INTO deployment_stats (deployment_id, report_id, revision, role, version, server, requests, errors,
             client_errors, latency, compared_rows, agreed_rows, dropped, last_error, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (deployment_id, report_id, revision, role, version) DO NOTHING`,
          [
            id,
            reportId,
            e.revision,
            e.role,
            e.version,
            server,
            e.requests,
            e.errors,
            e.client_errors,
            JSON.stringify(e.latency_ms),
            e.compared_rows ?? 0,
            e.agreed_rows ?? 0,
            e.dropped ?? 0,
            e.last_error ?? null,
            now,
          ],
        );
      }
      await tx.run(
        `INSERT INTO deployment_servers (deployment_id, server, revision, models, last_report_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (deployment_id, server) DO UPDATE SET revision = excluded.revision, models = excluded.models,
           last_report_at = excluded.last_report_at`,
        [id, server, options.serverRevision, JSON.stringify(options.models), now],
      );
    });
  }

  async stats(id: string, revision: number): Promise<StatsRow[]> {
    return this.db.all<StatsRow>(
      `SELECT role, version, requests, errors, client_errors, latency, compared_rows, agreed_rows, dropped, last_error,
         received_at FROM deployment_stats WHERE deployment_id = ? AND revision = ? ORDER BY received_at`,
      [id, revision],
    );
  }

  async servers(id: string, since: number): Promise<ServerRow[]> {
    return this.db.all<ServerRow>(
      `SELECT server, revision, models, last_report_at FROM deployment_servers
       WHERE deployment_id = ? AND last_report_at >= ? ORDER BY server`,
      [id, since],
    );
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const table of ["deployment_stats", "deployment_servers", "deployment_events", "deployments"]) {
        await tx.run(`DELETE FROM ${table} WHERE deployment_id = ?`, [id]);
      }
    });
  }
}
