/**
 * Every setting of `slipway server`, in one table: its key in a project file's `server:` section, its SLIPWAY_*
 * environment variable, its flag, type, default and meaning. The project file's reader (config-file.ts) takes its
 * keys, types and secrets from here, and the guide's configuration reference (docs/guide/reference/configuration.md)
 * is rendered from it, so a setting cannot be added to one without the other. config.ts applies them in the order
 * flags, then environment, then file, then defaults; a test checks that the variables it reads are the ones listed.
 */

/** A value's type: text, a port number, true/false, a list of names, or one of a few choices. */
export type SettingKind = "string" | "port" | "boolean" | "list" | readonly string[];

export interface ServerSetting {
  /** The key under `server:` in slipway.yaml (`oidc.issuer` is `issuer` under `server.oidc:`). */
  key: string;
  /** The environment variable; the file's value is passed on under this name. */
  env: string;
  /** Older or foreign names also read, after `env`. */
  aliases?: readonly string[];
  /** The `slipway server` flag, if there is one. */
  flag?: string;
  kind: SettingKind;
  /** The default, as text; none when unset means off or absent. */
  default?: string;
  description: string;
  /** Never read from the project file: set it in the environment (or a secret store). */
  secret?: boolean;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const PERMISSION_NAMES = ["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"] as const;

export const SERVER_SETTINGS: readonly ServerSetting[] = [
  {
    key: "host",
    env: "SLIPWAY_HOST",
    flag: "--host",
    kind: "string",
    default: "127.0.0.1",
    description: "The address to bind. A non-loopback address needs `auth` (or `insecure_no_auth`).",
  },
  { key: "port", env: "SLIPWAY_PORT", flag: "--port", kind: "port", default: "5000", description: "The port." },
  {
    key: "backend_store_uri",
    env: "SLIPWAY_BACKEND_STORE_URI",
    flag: "--backend-store-uri",
    kind: "string",
    default: "sqlite:///./slipway-data/slipway.db",
    description:
      "The database: `sqlite:///path/to/slipway.db` or `postgresql://user@host:5432/db`. " +
      "Also read by `slipway db upgrade`, `slipway gc` and `slipway users create-admin`.",
  },
  {
    key: "artifacts_destination",
    env: "SLIPWAY_ARTIFACTS_DESTINATION",
    flag: "--artifacts-destination",
    kind: "string",
    default: "./slipway-data/artifacts",
    description:
      "Where the artifacts the server proxies are stored: a local path, `file:///path` or `s3://bucket/prefix`. " +
      "Also read by `slipway gc`.",
  },
  {
    key: "s3_endpoint_url",
    env: "SLIPWAY_S3_ENDPOINT_URL",
    aliases: ["MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL"],
    flag: "--s3-endpoint-url",
    kind: "string",
    description: "The endpoint of an S3-compatible store (MinIO, Ceph, …); path-style addressing is used with it.",
  },
  {
    key: "log_level",
    env: "SLIPWAY_LOG_LEVEL",
    flag: "--log-level",
    kind: LOG_LEVELS,
    default: "warn",
    description: "How much the server logs.",
  },
  {
    key: "ui_dir",
    env: "SLIPWAY_UI_DIR",
    flag: "--ui-dir",
    kind: "string",
    description: "Serve this web UI bundle at `/` instead of the installed one.",
  },
  {
    key: "monitor_scheduler",
    env: "SLIPWAY_MONITOR_SCHEDULER",
    flag: "--no-monitor-scheduler",
    kind: "boolean",
    default: "true",
    description: "Run monitors on their schedules in this process; turn off on replicas that only serve the API.",
  },
  {
    key: "auth",
    env: "SLIPWAY_AUTH",
    flag: "--auth",
    kind: "boolean",
    default: "false",
    description: "Authenticate every request (see [auth.md](../../auth.md)).",
  },
  {
    key: "default_permission",
    env: "SLIPWAY_DEFAULT_PERMISSION",
    flag: "--default-permission",
    kind: PERMISSION_NAMES,
    default: "READ",
    description: "With `auth`: the permission users have on a resource where none is recorded.",
  },
  {
    key: "insecure_no_auth",
    env: "SLIPWAY_INSECURE_NO_AUTH",
    flag: "--insecure-no-auth",
    kind: "boolean",
    default: "false",
    description: "Allow a non-loopback `host` without `auth`, knowingly (something in front authenticates).",
  },
  {
    key: "public_url",
    env: "SLIPWAY_PUBLIC_URL",
    flag: "--public-url",
    kind: "string",
    description: "The URL people open the server at; single sign-on's redirect URL is derived from it.",
  },
  {
    key: "admin_username",
    env: "SLIPWAY_ADMIN_USERNAME",
    kind: "string",
    description: "With `admin_password`: this admin is created at startup unless a user of that name exists (no flag).",
  },
  {
    key: "admin_password",
    env: "SLIPWAY_ADMIN_PASSWORD",
    kind: "string",
    secret: true,
    description: "The bootstrap admin's password (no flag).",
  },
  {
    key: "oidc.issuer",
    env: "SLIPWAY_OIDC_ISSUER",
    flag: "--oidc-issuer",
    kind: "string",
    description: "Single sign-on: the OpenID Connect provider's issuer URL; needs `auth`.",
  },
  {
    key: "oidc.client_id",
    env: "SLIPWAY_OIDC_CLIENT_ID",
    flag: "--oidc-client-id",
    kind: "string",
    description: "Single sign-on: the client id registered at the provider.",
  },
  {
    key: "oidc.client_secret",
    env: "SLIPWAY_OIDC_CLIENT_SECRET",
    flag: "--oidc-client-secret",
    kind: "string",
    secret: true,
    description: "Single sign-on: the client secret (prefer the variable: flags show in process lists).",
  },
  {
    key: "oidc.redirect_url",
    env: "SLIPWAY_OIDC_REDIRECT_URL",
    flag: "--oidc-redirect-url",
    kind: "string",
    default: "<public_url>/api/2.0/slipway/auth/oidc/callback",
    description: "Single sign-on: the redirect URI registered at the provider.",
  },
  {
    key: "oidc.scopes",
    env: "SLIPWAY_OIDC_SCOPES",
    flag: "--oidc-scopes",
    kind: "list",
    default: "openid profile email, plus groups when offered",
    description: "Single sign-on: the scopes to request (separated by spaces or commas).",
  },
  {
    key: "oidc.groups_claim",
    env: "SLIPWAY_OIDC_GROUPS_CLAIM",
    flag: "--oidc-groups-claim",
    kind: "string",
    default: "groups",
    description: "Single sign-on: the claim that lists a user's groups.",
  },
  {
    key: "oidc.admin_groups",
    env: "SLIPWAY_OIDC_ADMIN_GROUPS",
    flag: "--oidc-admin-groups",
    kind: "list",
    description: "Single sign-on: members of these groups are admins.",
  },
  {
    key: "oidc.allowed_groups",
    env: "SLIPWAY_OIDC_ALLOWED_GROUPS",
    flag: "--oidc-allowed-groups",
    kind: "list",
    description: "Single sign-on: only members of these groups (or of the admin groups) may sign in.",
  },
];
