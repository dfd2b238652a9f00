CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL,
  deleted_time INTEGER
);
CREATE INDEX experiments_creation ON experiments (creation_time DESC, experiment_id);

CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
);

CREATE TABLE runs (
  run_uuid TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  user_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  artifact_uri TEXT NOT NULL,
  deleted_time INTEGER
);
CREATE INDEX runs_experiment_start ON runs (experiment_id, start_time DESC, run_uuid);

CREATE TABLE tags (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
CREATE INDEX tags_key_value ON tags (key, value);

CREATE TABLE params (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
CREATE INDEX params_key_value ON params (key, value);

-- one row per (run, metric key); the metric's history lives in metric_chunks
CREATE TABLE metric_series (
  series_id INTEGER PRIMARY KEY,
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  points INTEGER NOT NULL DEFAULT 0,
  next_seq INTEGER NOT NULL DEFAULT 0,
  small_tail INTEGER NOT NULL DEFAULT 0,
  sorted INTEGER NOT NULL DEFAULT 1,
  last_timestamp INTEGER,
  last_step INTEGER,
  last_value REAL,
  last_is_nan INTEGER NOT NULL DEFAULT 0,
  UNIQUE (run_uuid, key)
);

-- each log call appends one chunk per key: its points sorted and de-duplicated, packed as
-- little-endian doubles (timestamp, step, value) and pre-rendered as MLflow Metric JSON
CREATE TABLE metric_chunks (
  series_id INTEGER NOT NULL REFERENCES metric_series (series_id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  n INTEGER NOT NULL,
  min_step INTEGER NOT NULL,
  max_step INTEGER NOT NULL,
  points BLOB NOT NULL,
  json BLOB NOT NULL,
  PRIMARY KEY (series_id, seq)
);

-- per (run, key) the value with the greatest (step, timestamp, value): what search compares and sorts
CREATE TABLE latest_metrics (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_uuid, key)
);
CREATE INDEX latest_metrics_key_value ON latest_metrics (key, is_nan, value, run_uuid);

CREATE TABLE datasets (
  dataset_uuid TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  UNIQUE (experiment_id, name, digest)
);

CREATE TABLE run_dataset_inputs (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  dataset_uuid TEXT NOT NULL REFERENCES datasets (dataset_uuid) ON DELETE CASCADE,
  tags TEXT NOT NULL DEFAULT '[]',
  seq INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, dataset_uuid)
);
CREATE INDEX run_dataset_inputs_dataset ON run_dataset_inputs (dataset_uuid);

CREATE TABLE run_model_inputs (
  run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
  model_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, model_id)
);

INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));
