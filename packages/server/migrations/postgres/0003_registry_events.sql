-- The registry event log behind `GET /api/2.0/slipway/events`: one row per version created, alias set or
-- deleted and version stage change, written in the same transaction as the change. event_id is the stream's
-- resume cursor: identity values are never reused, and writers take a transaction-level advisory lock before
-- inserting (registry-events.ts), so ids commit in order and a reader polling `event_id > last` skips none.
-- `alias` is the alias (alias.*) or the version's new stage (model_version.stage_changed); `payload` is a
-- JSON object of the kind's extra fields. Rows are never deleted with their model.
CREATE TABLE registry_events (
  event_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind TEXT NOT NULL CHECK (
    kind IN ('model_version.created', 'alias.set', 'alias.deleted', 'model_version.stage_changed')
  ),
  model_name TEXT NOT NULL,
  version BIGINT,
  alias TEXT,
  from_version BIGINT,
  to_version BIGINT,
  reason TEXT,
  created_at BIGINT NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX registry_events_model ON registry_events (model_name, event_id);
