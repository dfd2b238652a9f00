-- The registry event log behind `GET /api/2.0/slipway/events`: one row per version created, alias set or
-- deleted and version stage change, written in the same transaction as the change. event_id is the stream's
-- resume cursor: AUTOINCREMENT never reuses an id, and SQLite serialises write transactions, so ids commit in
-- order. `alias` is the alias (alias.*) or the version's new stage (model_version.stage_changed); `payload` is a
-- JSON object of the kind's extra fields. Rows are never deleted with their model.
CREATE TABLE registry_events (
  event_id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (
    kind IN ('model_version.created', 'alias.set', 'alias.deleted', 'model_version.stage_changed')
  ),
  model_name TEXT NOT NULL,
  version INTEGER,
  alias TEXT,
  from_version INTEGER,
  to_version INTEGER,
  reason TEXT,
  created_at INTEGER NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX registry_events_model ON registry_events (model_name, event_id);
