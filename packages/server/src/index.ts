export { startServer, openStore, redact, type RunningServer } from "./main-server.js";
export {
  loadServerConfig,
  ConfigError,
  defaultStoreUri,
  type ServerConfig,
  type ServerFlags,
} from "./platform/config.js";
export { openDb, parseStoreUri } from "./platform/db/open-db.js";
export { schemaStatus, upgrade, type Migration } from "./platform/db/migrate.js";
export type { SqlDb } from "./platform/db/sql-db.js";
export { TrackingService } from "./modules/tracking/tracking-service.js";
export { openArtifactRepository } from "./artifacts/registry.js";
export type { ArtifactRepository } from "./artifacts/artifact-repository.js";
export { parseCron, CronError, type CronSchedule } from "./modules/monitoring/cron.js";
export type { MonitorService, AlertTransition, AlertListener } from "./modules/monitoring/monitor-service.js";
export { AuthService, type AuthServiceOptions } from "./modules/auth/auth-service.js";
export { isLoopbackHost } from "./platform/config.js";
export { serverSettingsFromFile } from "./platform/config-file.js";
export { SERVER_SETTINGS, type ServerSetting, type SettingKind } from "./platform/server-settings.js";
