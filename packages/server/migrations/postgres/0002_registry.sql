-- The model registry (MLflow's ModelRegistryService). Models are keyed by a surrogate id so that a rename
-- touches one row; identity columns never reuse ids of deleted models, because alias_history
-- refers to them after the model is gone.
CREATE TABLE registered_models (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT,
  user_id TEXT,
  deployment_job_id TEXT,
  -- highest version number ever handed out: numbers of deleted versions are never reused
  last_version BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE registered_model_tags (
  registered_model_id BIGINT NOT NULL REFERENCES registered_models (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (registered_model_id, key)
);

CREATE TABLE model_versions (
  registered_model_id BIGINT NOT NULL REFERENCES registered_models (id) ON DELETE CASCADE,
  version BIGINT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_updated_time BIGINT NOT NULL,
  description TEXT,
  user_id TEXT,
  current_stage TEXT NOT NULL DEFAULT 'None',
  source TEXT NOT NULL,
  -- where the artifacts are: `source`, or what a `runs:/` source resolved to when the version was created
  storage_location TEXT,
  -- no foreign key: a version outlives the garbage collection of its run, as in MLflow
  run_id TEXT,
  run_link TEXT,
  status TEXT NOT NULL DEFAULT 'READY',
  status_message TEXT,
  -- MLflow 3's `model_id` (a logged model), kept and returned as given
  logged_model_id TEXT,
  PRIMARY KEY (registered_model_id, version)
);
CREATE INDEX model_versions_run ON model_versions (run_id);
CREATE INDEX model_versions_stage ON model_versions (registered_model_id, current_stage, version);

CREATE TABLE model_version_tags (
  registered_model_id BIGINT NOT NULL,
  version BIGINT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (registered_model_id, version, key),
  FOREIGN KEY (registered_model_id, version) REFERENCES model_versions (registered_model_id, version) ON DELETE CASCADE
);
CREATE INDEX model_version_tags_key_value ON model_version_tags (key, value);

CREATE TABLE registered_model_aliases (
  registered_model_id BIGINT NOT NULL REFERENCES registered_models (id) ON DELETE CASCADE,
  alias TEXT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (registered_model_id, alias),
  FOREIGN KEY (registered_model_id, version) REFERENCES model_versions (registered_model_id, version) ON DELETE CASCADE
);

-- Every alias set / move / delete and every stage transition, written in the same transaction as the change.
-- Rows are never deleted with their model. kind = 'alias': `alias` is the alias, from/to the versions it
-- pointed at before and after (NULL = unset). kind = 'stage': `alias` is a stage, from/to the version that
-- stage resolved to (its latest version, as get-latest-versions and models:/name/Stage do) before and after;
-- `reason` says which version moved where.
CREATE TABLE alias_history (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  registered_model_id BIGINT NOT NULL,
  model_name TEXT NOT NULL,
  alias TEXT NOT NULL,
  from_version BIGINT,
  to_version BIGINT,
  changed_at BIGINT NOT NULL,
  user_id TEXT,
  reason TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('alias', 'stage'))
);
CREATE INDEX alias_history_model ON alias_history (registered_model_id, alias, id);
CREATE INDEX alias_history_name ON alias_history (model_name, alias, id);
