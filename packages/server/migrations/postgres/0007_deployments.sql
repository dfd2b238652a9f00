-- Deployments: what model servers following `slipway serve --deployment NAME` serve, and how a new version reaches
-- traffic (rolling swap, canary, shadow). The primary is `model_name` with `model_alias` (followed) or
-- `model_version` (pinned). `definition` is the JSON of the canary's and the shadow's settings as given; the canary's
-- and the shadow's versions are resolved once, when they start. `revision` is bumped on every change of routing
-- (weight, canary, shadow): servers tag their statistics with the revision they routed with, and the controller's
-- updates are conditional on it, so two control-plane replicas never both step or promote the same canary.
CREATE TABLE deployments (
  deployment_id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  model_uri TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_alias TEXT,
  model_version TEXT,
  definition TEXT NOT NULL,
  canary_version TEXT,
  canary_state TEXT CHECK (canary_state IN ('running', 'promoting', 'promoted', 'rolled_back')),
  canary_weight DOUBLE PRECISION NOT NULL DEFAULT 0,
  canary_base_version TEXT,
  canary_started_at BIGINT,
  canary_ended_at BIGINT,
  canary_reason TEXT,
  held_intervals BIGINT NOT NULL DEFAULT 0,
  shadow_version TEXT,
  shadow_state TEXT CHECK (shadow_state IN ('running', 'failed')),
  shadow_started_at BIGINT,
  shadow_error TEXT,
  revision BIGINT NOT NULL,
  step_started_at BIGINT NOT NULL,
  creation_timestamp BIGINT NOT NULL,
  last_updated_timestamp BIGINT NOT NULL
);
CREATE INDEX deployments_model ON deployments (model_name, name);
-- Every decision (created, step, hold, promoted, rolled_back, load_failed, ...) with its reason, its time and the
-- statistics it was made on (JSON).
CREATE TABLE deployment_events (
  event_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  deployment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  from_weight DOUBLE PRECISION,
  to_weight DOUBLE PRECISION,
  version TEXT,
  reason TEXT NOT NULL,
  stats TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX deployment_events_deployment ON deployment_events (deployment_id, event_id);
-- Per-version traffic as model servers report it: one row per (report, revision, role, version), counts since the
-- server's previous report. The key makes a retried report count once. `latency` is the JSON array of bucket counts
-- (bounds: DEPLOYMENT_LATENCY_BOUNDS_MS in protocol). Rows of past revisions are deleted when the revision moves on
-- (the decision's event keeps their summary).
CREATE TABLE deployment_stats (
  deployment_id TEXT NOT NULL,
  report_id TEXT NOT NULL,
  revision BIGINT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('primary', 'canary', 'shadow')),
  version TEXT NOT NULL,
  server TEXT NOT NULL,
  requests BIGINT NOT NULL,
  errors BIGINT NOT NULL,
  client_errors BIGINT NOT NULL,
  latency TEXT NOT NULL,
  compared_rows BIGINT NOT NULL DEFAULT 0,
  agreed_rows BIGINT NOT NULL DEFAULT 0,
  dropped BIGINT NOT NULL DEFAULT 0,
  last_error TEXT,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (deployment_id, report_id, revision, role, version)
);
CREATE INDEX deployment_stats_revision ON deployment_stats (deployment_id, revision);
-- The servers following a deployment: their last report and the state of the versions they hold (JSON).
CREATE TABLE deployment_servers (
  deployment_id TEXT NOT NULL,
  server TEXT NOT NULL,
  revision BIGINT NOT NULL,
  models TEXT NOT NULL,
  last_report_at BIGINT NOT NULL,
  PRIMARY KEY (deployment_id, server)
);
