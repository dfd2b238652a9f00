-- The inference log (monitoring's data source): sampled request/prediction rows sent by model servers, one row per
-- (request_id, row_index). `inputs` is the row's features as a JSON object, `outputs` its prediction as any JSON
-- value (both JSON text). A key that is logged again is ignored (INSERT ... ON CONFLICT DO NOTHING), so a server
-- may retry a batch. The index serves every read: one model (and version), a time range, in keyset order.
-- request_id sorts by code point (COLLATE "C"), as in SQLite, so both dialects page in the same order.
-- latency_ms is DOUBLE PRECISION, not REAL: PostgreSQL's REAL is 4 bytes and would read 12.3 back as 12.300000190734863.
CREATE TABLE inference_log (
  request_id TEXT COLLATE "C" NOT NULL,
  row_index INTEGER NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  timestamp_ms BIGINT NOT NULL,
  inputs TEXT NOT NULL,
  outputs TEXT NOT NULL,
  latency_ms DOUBLE PRECISION,
  server TEXT,
  PRIMARY KEY (request_id, row_index)
);
CREATE INDEX inference_log_model_time ON inference_log (model_name, model_version, timestamp_ms, request_id, row_index);
-- Ground-truth labels, keyed like the log rows. A label may arrive before or after its row (they are joined when
-- read), and a second label for a key replaces the first (last write wins). `label` is JSON text; `timestamp_ms` is
-- the client's label time, or when the server received it.
CREATE TABLE inference_feedback (
  request_id TEXT COLLATE "C" NOT NULL,
  row_index INTEGER NOT NULL,
  label TEXT NOT NULL,
  timestamp_ms BIGINT NOT NULL,
  PRIMARY KEY (request_id, row_index)
);
