-- Authentication and per-resource permissions (MLflow's auth plugin model) plus the audit log. Secrets are never
-- stored: passwords as self-describing scrypt hashes, API tokens and session cookies as SHA-256 hashes of random
-- 32-byte values (a slow hash adds nothing for secrets that random). Timestamps are epoch milliseconds.
CREATE TABLE auth_users (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  -- NULL: no password login (service accounts, SSO-only users)
  password_hash TEXT,
  is_admin SMALLINT NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
  kind TEXT NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'service_account')),
  oidc_issuer TEXT,
  oidc_subject TEXT,
  failed_logins BIGINT NOT NULL DEFAULT 0,
  locked_until BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX auth_users_oidc ON auth_users (oidc_issuer, oidc_subject) WHERE oidc_issuer IS NOT NULL;

CREATE TABLE auth_tokens (
  id TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  -- the first characters of the secret, for telling tokens apart in listings (not enough to guess it)
  prefix TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT,
  last_used_at BIGINT
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

CREATE TABLE auth_sessions (
  id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL UNIQUE,
  user_id BIGINT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
  csrf_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  ip TEXT,
  user_agent TEXT
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
CREATE INDEX auth_sessions_expiry ON auth_sessions (expires_at);

CREATE TABLE auth_experiment_permissions (
  experiment_id TEXT NOT NULL,
  user_id BIGINT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
  permission TEXT NOT NULL CHECK (permission IN ('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')),
  PRIMARY KEY (experiment_id, user_id)
);
CREATE INDEX auth_experiment_permissions_user ON auth_experiment_permissions (user_id);

-- keyed by name, as MLflow's auth store does: a model rename must move these rows (AuthService.renameRegisteredModel)
CREATE TABLE auth_registered_model_permissions (
  name TEXT NOT NULL,
  user_id BIGINT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
  permission TEXT NOT NULL CHECK (permission IN ('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')),
  PRIMARY KEY (name, user_id)
);
CREATE INDEX auth_registered_model_permissions_user ON auth_registered_model_permissions (user_id);

-- No foreign key to auth_users: the log outlives the users it names (username is kept as it was).
CREATE TABLE audit_log (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at BIGINT NOT NULL,
  user_id BIGINT,
  username TEXT,
  action TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  resource_type TEXT,
  resource_id TEXT,
  status BIGINT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  details TEXT
);
CREATE INDEX audit_log_time ON audit_log (occurred_at, id);
CREATE INDEX audit_log_user ON audit_log (username, occurred_at);
CREATE INDEX audit_log_action ON audit_log (action, occurred_at);
