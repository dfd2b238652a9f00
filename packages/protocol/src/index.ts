export * from "./errors.js";
export * from "./json.js";
export * from "./validate.js";
export * from "./mlflow/entities.js";
export * from "./mlflow/tracking-api.js";
export * from "./mlflow/registry-api.js";
export * from "./slipway/registry-history-api.js";
export * from "./slipway/registry-events-api.js";
