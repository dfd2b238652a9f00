/**
 * Where monitors, their windows and their alerts are kept (migration 0006, SQLite and PostgreSQL): SQL only, on
 * values the service has checked. See the migration for what each table and key is for.
 */
import type { SqlDb, SqlExecutor, SqlValue } from "../../platform/db/sql-db.js";
import type { MonitorDefinition } from "./monitor-definition.js";

export interface StoredMonitor {
  id: string;
  def: MonitorDefinition;
  created: number;
  updated: number;
  alertsWindowEnd: number | null;
}

interface MonitorRow {
  monitor_id: string;
  name: string;
  model_name: string;
  model_alias: string | null;
  model_version: string | null;
  window_ms: number | string;
  schedule: string;
  definition: string;
  webhook_url: string | null;
  webhook_secret: string | null;
  enabled: number | string;
  creation_timestamp: number | string;
  last_updated_timestamp: number | string;
  alerts_window_end: number | string | null;
}

export interface WindowRow {
  window_id: number;
  monitor_id: string;
  window_start: number;
  window_end: number;
  triggered_by: "schedule" | "manual";
  status: "running" | "ok" | "empty" | "error";
  claimed_at: number;
  completed_at: number | null;
  versions: string;
  row_count: number;
  labelled: number;
  dataset_drift: number | null;
  share: number | null;
  metrics: string;
  error: string | null;
  summary: string | null;
}

export interface AlertRow {
  alert_id: number;
  monitor_id: string;
  monitor_name: string;
  rule_name: string;
  rule_when: string;
  state: "firing" | "resolved";
  started_at: number;
  resolved_at: number | null;
  start_window_id: number;
  last_window_id: number;
  last_value: number | null;
  message: string;
}

export interface AlertEventRow {
  event_id: number;
  monitor_id: string;
  alert_id: number;
  kind: string;
  payload: string;
  attempts: number;
  next_attempt_at: number;
}

/** The newest finished window of a monitor, for the gauges. */
export interface GaugeRow extends WindowRow {
  name: string;
  model_name: string;
}

export interface WindowCompletion {
  status: "ok" | "empty" | "error";
  completedAt: number;
  versions: readonly string[];
  rows: number;
  labelled: number;
  datasetDrift: boolean | null;
  share: number | null;
  metrics: Record<string, number>;
  error: string | null;
  summary: string;
  reportHtml: string;
}

const MONITOR_COLUMNS =
  "monitor_id, name, model_name, model_alias, model_version, window_ms, schedule, definition, webhook_url, webhook_secret, enabled, creation_timestamp, last_updated_timestamp, alerts_window_end";
const WINDOW_COLUMNS =
  "window_id, monitor_id, window_start, window_end, triggered_by, status, claimed_at, completed_at, versions, row_count, labelled, dataset_drift, share, metrics, error, summary";
const ALERT_COLUMNS =
  "a.alert_id, a.monitor_id, m.name AS monitor_name, a.rule_name, a.rule_when, a.state, a.started_at, a.resolved_at, a.start_window_id, a.last_window_id, a.last_value, a.message";

function num(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function toStored(row: MonitorRow): StoredMonitor {
  const rest = JSON.parse(row.definition) as Pick<MonitorDefinition, "reference" | "drift" | "metrics" | "alerts">;
  const def: MonitorDefinition = {
    name: row.name,
    model_name: row.model_name,
    ...(row.model_alias === null ? {} : { model_alias: row.model_alias }),
    ...(row.model_version === null ? {} : { model_version: row.model_version }),
    window_ms: Number(row.window_ms),
    schedule: row.schedule,
    reference: rest.reference,
    drift: rest.drift,
    metrics: rest.metrics,
    alerts: rest.alerts,
    ...(row.webhook_url === null
      ? {}
      : {
          webhook:
            row.webhook_secret === null
              ? { url: row.webhook_url }
              : { url: row.webhook_url, secret: row.webhook_secret },
        }),
    enabled: Number(row.enabled) === 1,
  };
  return {
    id: row.monitor_id,
    def,
    created: Number(row.creation_timestamp),
    updated: Number(row.last_updated_timestamp),
    alertsWindowEnd: num(row.alerts_window_end),
  };
}

function normalizeWindow<T extends WindowRow>(row: T): T {
  return {
    ...row,
    window_id: Number(row.window_id),
    window_start: Number(row.window_start),
    window_end: Number(row.window_end),
    claimed_at: Number(row.claimed_at),
    completed_at: num(row.completed_at),
    row_count: Number(row.row_count),
    labelled: Number(row.labelled),
    dataset_drift: num(row.dataset_drift),
    share: num(row.share),
  };
}

function normalizeAlert(row: AlertRow): AlertRow {
  return {
    ...row,
    alert_id: Number(row.alert_id),
    started_at: Number(row.started_at),
    resolved_at: num(row.resolved_at),
    start_window_id: Number(row.start_window_id),
    last_window_id: Number(row.last_window_id),
    last_value: num(row.last_value),
  };
}

function definitionParams(def: MonitorDefinition): SqlValue[] {
  return [
    def.model_name,
    def.model_alias ?? null,
    def.model_version ?? null,
    def.window_ms,
    def.schedule,
    JSON.stringify({ reference: def.reference, drift: def.drift, metrics: def.metrics, alerts: def.alerts }),
    def.webhook?.url ?? null,
    def.webhook?.secret ?? null,
    def.enabled ? 1 : 0,
  ];
}

export class MonitorStore {
  constructor(readonly db: SqlDb) {}

  /** Inserts a monitor; false when the name is taken. */
  async insert(id: string, def: MonitorDefinition, now: number): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO monitors (${MONITOR_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
       ON CONFLICT (name) DO NOTHING`,
      [id, def.name, ...definitionParams(def), now, now],
    );
    return changes === 1;
  }

  async byName(name: string): Promise<StoredMonitor | undefined> {
    const row = await this.db.get<MonitorRow>(`SELECT ${MONITOR_COLUMNS} FROM monitors WHERE name = ?`, [name]);
    return row === undefined ? undefined : toStored(row);
  }

  async byId(id: string): Promise<StoredMonitor | undefined> {
    const row = await this.db.get<MonitorRow>(`SELECT ${MONITOR_COLUMNS} FROM monitors WHERE monitor_id = ?`, [id]);
    return row === undefined ? undefined : toStored(row);
  }

  /** Monitors by name (code point order), after `after`, at most `limit`. */
  async list(query: { modelName?: string; after?: string; limit: number }): Promise<StoredMonitor[]> {
    const terms: string[] = [];
    const params: SqlValue[] = [];
    if (query.modelName !== undefined) {
      terms.push("model_name = ?");
      params.push(query.modelName);
    }
    if (query.after !== undefined) {
      terms.push(this.db.dialect === "postgres" ? `name COLLATE "C" > ?` : "name > ?");
      params.push(query.after);
    }
    const where = terms.length === 0 ? "" : `WHERE ${terms.join(" AND ")}`;
    const order = this.db.dialect === "postgres" ? `name COLLATE "C"` : "name";
    const rows = await this.db.all<MonitorRow>(
      `SELECT ${MONITOR_COLUMNS} FROM monitors ${where} ORDER BY ${order} LIMIT ?`,
      [...params, query.limit],
    );
    return rows.map(toStored);
  }

  async enabled(): Promise<StoredMonitor[]> {
    const rows = await this.db.all<MonitorRow>(`SELECT ${MONITOR_COLUMNS} FROM monitors WHERE enabled = 1`);
    return rows.map(toStored);
  }

  async update(id: string, def: MonitorDefinition, now: number): Promise<void> {
    await this.db.run(
      `UPDATE monitors SET model_name = ?, model_alias = ?, model_version = ?, window_ms = ?, schedule = ?,
              definition = ?, webhook_url = ?, webhook_secret = ?, enabled = ?, last_updated_timestamp = ?
        WHERE monitor_id = ?`,
      [...definitionParams(def), now, id],
    );
  }

  /** Deletes a monitor with its windows, alerts and undelivered alert events. */
  async delete(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { changes } = await tx.run("DELETE FROM monitors WHERE monitor_id = ?", [id]);
      await tx.run("DELETE FROM monitor_windows WHERE monitor_id = ?", [id]);
      await tx.run("DELETE FROM monitor_alerts WHERE monitor_id = ?", [id]);
      await tx.run("DELETE FROM monitor_alert_events WHERE monitor_id = ?", [id]);
      return changes === 1;
    });
  }

  // ---------------------------------------------------------------- windows

  /**
   * Claims `(monitor, end)` for evaluation: inserts the window row (status running). A row already there is taken
   * over only when it is a claim older than `staleBefore` (its replica died), or, with `rerun`, when it is finished.
   * Returns the window id, or undefined when someone else has it.
   */
  async claim(claim: {
    monitorId: string;
    start: number;
    end: number;
    trigger: "schedule" | "manual";
    now: number;
    staleBefore: number;
    rerun?: boolean;
  }): Promise<number | undefined> {
    const inserted = await this.db.get<{ window_id: number }>(
      `INSERT INTO monitor_windows (monitor_id, window_start, window_end, triggered_by, status, claimed_at)
       VALUES (?, ?, ?, ?, 'running', ?)
       ON CONFLICT (monitor_id, window_end) DO NOTHING RETURNING window_id`,
      [claim.monitorId, claim.start, claim.end, claim.trigger, claim.now],
    );
    if (inserted !== undefined) return Number(inserted.window_id);
    const takeover =
      claim.rerun === true ? "(status <> 'running' OR claimed_at < ?)" : "(status = 'running' AND claimed_at < ?)";
    const taken = await this.db.get<{ window_id: number }>(
      `UPDATE monitor_windows SET status = 'running', claimed_at = ?, window_start = ?, triggered_by = ?
        WHERE monitor_id = ? AND window_end = ? AND ${takeover} RETURNING window_id`,
      [claim.now, claim.start, claim.trigger, claim.monitorId, claim.end, claim.staleBefore],
    );
    return taken === undefined ? undefined : Number(taken.window_id);
  }

  async complete(tx: SqlExecutor, windowId: number, done: WindowCompletion): Promise<void> {
    await tx.run(
      `UPDATE monitor_windows SET status = ?, completed_at = ?, versions = ?, row_count = ?, labelled = ?,
              dataset_drift = ?, share = ?, metrics = ?, error = ?, summary = ?, report_html = ?
        WHERE window_id = ?`,
      [
        done.status,
        done.completedAt,
        JSON.stringify(done.versions),
        done.rows,
        done.labelled,
        done.datasetDrift === null ? null : done.datasetDrift ? 1 : 0,
        done.share,
        JSON.stringify(done.metrics),
        done.error,
        done.summary,
        done.reportHtml,
        windowId,
      ],
    );
  }

  /** A monitor's windows, newest (by end) first, ending before `beforeEnd`. */
  async windows(monitorId: string, beforeEnd: number | undefined, limit: number): Promise<WindowRow[]> {
    const rows = await this.db.all<WindowRow>(
      `SELECT ${WINDOW_COLUMNS} FROM monitor_windows
        WHERE monitor_id = ? ${beforeEnd === undefined ? "" : "AND window_end < ?"}
        ORDER BY window_end DESC LIMIT ?`,
      beforeEnd === undefined ? [monitorId, limit] : [monitorId, beforeEnd, limit],
    );
    return rows.map(normalizeWindow);
  }

  /** One window of a monitor, or its newest finished one (`latest`). */
  async window(monitorId: string, id: number | "latest"): Promise<WindowRow | undefined> {
    const row =
      id === "latest"
        ? await this.db.get<WindowRow>(
            `SELECT ${WINDOW_COLUMNS} FROM monitor_windows WHERE monitor_id = ? AND status <> 'running'
              ORDER BY window_end DESC LIMIT 1`,
            [monitorId],
          )
        : await this.db.get<WindowRow>(
            `SELECT ${WINDOW_COLUMNS} FROM monitor_windows WHERE monitor_id = ? AND window_id = ?`,
            [monitorId, id],
          );
    return row === undefined ? undefined : normalizeWindow(row);
  }

  async report(windowId: number): Promise<string | null> {
    const row = await this.db.get<{ report_html: string | null }>(
      "SELECT report_html FROM monitor_windows WHERE window_id = ?",
      [windowId],
    );
    return row?.report_html ?? null;
  }

  /** The finished windows of a monitor ending at or before `end`, oldest first, at most `limit` (the trend). */
  async trend(monitorId: string, end: number, limit: number): Promise<WindowRow[]> {
    const rows = await this.db.all<WindowRow>(
      `SELECT ${WINDOW_COLUMNS} FROM monitor_windows
        WHERE monitor_id = ? AND window_end <= ? AND status IN ('ok', 'empty')
        ORDER BY window_end DESC LIMIT ?`,
      [monitorId, end, limit],
    );
    return rows.map(normalizeWindow).reverse();
  }

  /** Each monitor's newest window with status ok or empty. */
  async gaugeRows(): Promise<GaugeRow[]> {
    const rows = await this.db.all<GaugeRow>(
      `SELECT m.name, m.model_name, ${WINDOW_COLUMNS.split(", ")
        .map((c) => `w.${c}`)
        .join(", ")}
         FROM monitors m JOIN monitor_windows w ON w.monitor_id = m.monitor_id
        WHERE w.window_id = (SELECT w2.window_id FROM monitor_windows w2
                              WHERE w2.monitor_id = m.monitor_id AND w2.status IN ('ok', 'empty')
                              ORDER BY w2.window_end DESC LIMIT 1)`,
    );
    return rows.map(normalizeWindow);
  }

  // ---------------------------------------------------------------- alerts

  /** Moves the monitor's alert clock to `end`; false when a newer window already set the alert state. */
  async advanceAlerts(tx: SqlExecutor, monitorId: string, end: number): Promise<boolean> {
    const { changes } = await tx.run(
      `UPDATE monitors SET alerts_window_end = ?
        WHERE monitor_id = ? AND (alerts_window_end IS NULL OR alerts_window_end <= ?)`,
      [end, monitorId, end],
    );
    return changes === 1;
  }

  async openAlerts(tx: SqlExecutor, monitorId: string): Promise<AlertRow[]> {
    const rows = await tx.all<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM monitor_alerts a JOIN monitors m ON m.monitor_id = a.monitor_id
        WHERE a.monitor_id = ? AND a.state = 'firing'`,
      [monitorId],
    );
    return rows.map(normalizeAlert);
  }

  /** Opens an incident; undefined when one is already firing for the rule. */
  async fire(
    tx: SqlExecutor,
    alert: {
      monitorId: string;
      rule: string;
      when: string;
      at: number;
      windowId: number;
      value: number | null;
      message: string;
    },
  ): Promise<number | undefined> {
    const row = await tx.get<{ alert_id: number }>(
      `INSERT INTO monitor_alerts (monitor_id, rule_name, rule_when, state, started_at, start_window_id, last_window_id, last_value, message)
       VALUES (?, ?, ?, 'firing', ?, ?, ?, ?, ?)
       ON CONFLICT (monitor_id, rule_name) WHERE state = 'firing' DO NOTHING RETURNING alert_id`,
      [alert.monitorId, alert.rule, alert.when, alert.at, alert.windowId, alert.windowId, alert.value, alert.message],
    );
    return row === undefined ? undefined : Number(row.alert_id);
  }

  async touch(
    tx: SqlExecutor,
    alertId: number,
    windowId: number,
    value: number | null,
    message: string,
  ): Promise<void> {
    await tx.run(
      "UPDATE monitor_alerts SET last_window_id = ?, last_value = ?, message = ? WHERE alert_id = ? AND state = 'firing'",
      [windowId, value, message, alertId],
    );
  }

  /** Closes an incident; false when it was not firing any more. */
  async resolve(
    tx: SqlExecutor,
    alertId: number,
    done: { at: number; windowId: number; value: number | null; message: string },
  ): Promise<boolean> {
    const { changes } = await tx.run(
      `UPDATE monitor_alerts SET state = 'resolved', resolved_at = ?, last_window_id = ?, last_value = ?, message = ?
        WHERE alert_id = ? AND state = 'firing'`,
      [done.at, done.windowId, done.value, done.message, alertId],
    );
    return changes === 1;
  }

  async alert(tx: SqlExecutor, alertId: number): Promise<AlertRow> {
    const row = await tx.get<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM monitor_alerts a JOIN monitors m ON m.monitor_id = a.monitor_id WHERE a.alert_id = ?`,
      [alertId],
    );
    return normalizeAlert(row!);
  }

  /** Incidents, newest first (by id), optionally of one monitor and one state, with ids below `beforeId`. */
  async alerts(query: { monitorId?: string; state?: string; beforeId?: number; limit: number }): Promise<AlertRow[]> {
    const terms: string[] = [];
    const params: SqlValue[] = [];
    if (query.monitorId !== undefined) {
      terms.push("a.monitor_id = ?");
      params.push(query.monitorId);
    }
    if (query.state !== undefined) {
      terms.push("a.state = ?");
      params.push(query.state);
    }
    if (query.beforeId !== undefined) {
      terms.push("a.alert_id < ?");
      params.push(query.beforeId);
    }
    const rows = await this.db.all<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM monitor_alerts a JOIN monitors m ON m.monitor_id = a.monitor_id
        ${terms.length === 0 ? "" : `WHERE ${terms.join(" AND ")}`}
        ORDER BY a.alert_id DESC LIMIT ?`,
      [...params, query.limit],
    );
    return rows.map(normalizeAlert);
  }

  // ---------------------------------------------------------------- the alert webhook outbox

  async addEvent(
    tx: SqlExecutor,
    event: { monitorId: string; alertId: number; kind: string; payload: string; now: number },
  ): Promise<void> {
    await tx.run(
      `INSERT INTO monitor_alert_events (monitor_id, alert_id, kind, payload, created_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [event.monitorId, event.alertId, event.kind, event.payload, event.now, event.now],
    );
  }

  /** Monitors with events waiting for delivery. */
  async pendingMonitors(): Promise<string[]> {
    const rows = await this.db.all<{ monitor_id: string }>(
      "SELECT DISTINCT monitor_id FROM monitor_alert_events WHERE delivered_at IS NULL AND failed_at IS NULL",
    );
    return rows.map((r) => r.monitor_id);
  }

  /** The oldest undelivered event of a monitor (events are delivered in order). */
  async headEvent(monitorId: string): Promise<AlertEventRow | undefined> {
    const row = await this.db.get<AlertEventRow>(
      `SELECT event_id, monitor_id, alert_id, kind, payload, attempts, next_attempt_at FROM monitor_alert_events
        WHERE monitor_id = ? AND delivered_at IS NULL AND failed_at IS NULL ORDER BY event_id LIMIT 1`,
      [monitorId],
    );
    return row === undefined
      ? undefined
      : {
          ...row,
          event_id: Number(row.event_id),
          alert_id: Number(row.alert_id),
          attempts: Number(row.attempts),
          next_attempt_at: Number(row.next_attempt_at),
        };
  }

  /** Leases an event to this replica until `until`; false when another replica holds it. */
  async leaseEvent(eventId: number, now: number, until: number): Promise<boolean> {
    const { changes } = await this.db.run(
      `UPDATE monitor_alert_events SET lease_until = ?
        WHERE event_id = ? AND delivered_at IS NULL AND failed_at IS NULL AND (lease_until IS NULL OR lease_until < ?)`,
      [until, eventId, now],
    );
    return changes === 1;
  }

  async eventAttempted(
    eventId: number,
    result: {
      now: number;
      status: number | null;
      error: string | null;
      delivered: boolean;
      nextAttemptAt: number;
      failed: boolean;
    },
  ): Promise<void> {
    await this.db.run(
      `UPDATE monitor_alert_events SET attempts = attempts + 1, last_status = ?, last_error = ?, lease_until = NULL,
              delivered_at = ?, failed_at = ?, next_attempt_at = ?
        WHERE event_id = ?`,
      [
        result.status,
        result.error,
        result.delivered ? result.now : null,
        result.failed ? result.now : null,
        result.nextAttemptAt,
        eventId,
      ],
    );
  }
}
