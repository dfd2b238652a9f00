-- Registry webhooks: each is delivered the `registry_events` rows after its `cursor` (the last event_id it
-- acknowledged with a 2xx), in order. `events` is a JSON array of event kinds. A new webhook's cursor is the
-- newest event_id at creation, so it only gets later events. `webhook_deliveries` records every attempt.
CREATE TABLE webhooks (
  webhook_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret TEXT,
  status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED')),
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL,
  cursor INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE webhook_deliveries (
  delivery_id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  delivered_at INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, event_id);
