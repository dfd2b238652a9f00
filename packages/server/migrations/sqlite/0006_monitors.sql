-- Monitors: each compares windows of a model's inference log with its reference data on a cron schedule.
-- `definition` is the JSON of the rest of the definition (reference, drift, metrics, alerts). The webhook secret is
-- kept here and never returned by the API. `alerts_window_end` is the end of the newest window whose alert checks
-- were applied: an older window evaluated later (a manual re-run) never moves alert state backwards.
CREATE TABLE monitors (
  monitor_id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  model_name TEXT NOT NULL,
  model_alias TEXT,
  model_version TEXT,
  window_ms INTEGER NOT NULL,
  schedule TEXT NOT NULL,
  definition TEXT NOT NULL,
  webhook_url TEXT,
  webhook_secret TEXT,
  enabled INTEGER NOT NULL,
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL,
  alerts_window_end INTEGER
);
-- One row per evaluated window [window_start, window_end). The unique key is the scheduler's claim: a replica
-- inserts the row (status 'running') before evaluating, and the replica whose INSERT loses skips the window, so no
-- (monitor, window_end) is evaluated twice. A claim older than the stale limit may be taken over (crashed replica).
-- `summary` is the result as JSON (no chart data); `report_html` the self-contained HTML report.
CREATE TABLE monitor_windows (
  window_id INTEGER PRIMARY KEY AUTOINCREMENT,
  monitor_id TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  window_end INTEGER NOT NULL,
  triggered_by TEXT NOT NULL CHECK (triggered_by IN ('schedule', 'manual')),
  status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'empty', 'error')),
  claimed_at INTEGER NOT NULL,
  completed_at INTEGER,
  versions TEXT NOT NULL DEFAULT '[]',
  row_count INTEGER NOT NULL DEFAULT 0,
  labelled INTEGER NOT NULL DEFAULT 0,
  dataset_drift INTEGER,
  share REAL,
  metrics TEXT NOT NULL DEFAULT '{}',
  error TEXT,
  summary TEXT,
  report_html TEXT,
  UNIQUE (monitor_id, window_end)
);
-- Alert incidents: a row is inserted when a rule starts firing and closed (state 'resolved') when it stops. At most
-- one firing row per (monitor, rule): the partial unique index makes the ok→firing transition happen once even when
-- two evaluations race. Times are the ends of the windows that started and resolved the incident.
CREATE TABLE monitor_alerts (
  alert_id INTEGER PRIMARY KEY AUTOINCREMENT,
  monitor_id TEXT NOT NULL,
  rule_name TEXT NOT NULL,
  rule_when TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
  started_at INTEGER NOT NULL,
  resolved_at INTEGER,
  start_window_id INTEGER NOT NULL,
  last_window_id INTEGER NOT NULL,
  last_value REAL,
  message TEXT NOT NULL
);
CREATE UNIQUE INDEX monitor_alerts_open ON monitor_alerts (monitor_id, rule_name) WHERE state = 'firing';
CREATE INDEX monitor_alerts_monitor ON monitor_alerts (monitor_id, alert_id);
CREATE INDEX monitor_alerts_state ON monitor_alerts (state, alert_id);
-- The alert webhook outbox: one row per transition of a monitor that has a webhook, written in the transition's
-- transaction and delivered in order per monitor, with retries. A replica leases a row (lease_until) while posting it.
CREATE TABLE monitor_alert_events (
  event_id INTEGER PRIMARY KEY AUTOINCREMENT,
  monitor_id TEXT NOT NULL,
  alert_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER,
  delivered_at INTEGER,
  failed_at INTEGER,
  last_status INTEGER,
  last_error TEXT
);
CREATE INDEX monitor_alert_events_monitor ON monitor_alert_events (monitor_id, event_id);
