-- MLflow Tracing: one row per trace (MLflow 3's TraceInfoV3), its tags and metadata as key/value rows, and its spans
-- as one JSON text (NULL when the client uploads them as `traces.json` to the trace's artifact location instead).
-- Times are epoch milliseconds; `state` is OK, ERROR, IN_PROGRESS or STATE_UNSPECIFIED. Searches read one or more
-- experiments in request_time order (newest first by default): the (experiment_id, request_time, trace_id) index
-- serves them; tag and metadata filters are EXISTS look-ups by primary key. Deleting an experiment's row (never done
-- by the API, which only marks experiments deleted) takes its traces with it.
-- trace_id sorts by code point (COLLATE "C"), as in SQLite, so both dialects page in the same order.
CREATE TABLE trace_info (
  trace_id TEXT COLLATE "C" PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
  client_request_id TEXT,
  request_time BIGINT NOT NULL,
  execution_time_ms BIGINT,
  state TEXT NOT NULL,
  request_preview TEXT,
  response_preview TEXT,
  spans TEXT
);
CREATE INDEX trace_info_experiment_time ON trace_info (experiment_id, request_time, trace_id);
CREATE INDEX trace_info_client_request ON trace_info (client_request_id);
CREATE TABLE trace_tags (
  trace_id TEXT COLLATE "C" NOT NULL REFERENCES trace_info (trace_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (trace_id, key)
);
CREATE TABLE trace_metadata (
  trace_id TEXT COLLATE "C" NOT NULL REFERENCES trace_info (trace_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (trace_id, key)
);
