export * from "./api-keys.js";
export * from "./auth-config.js";
export * from "./auth-errors.js";
export * from "./control-plane-auth.js";
export * from "./data-plane-auth.js";
export * from "./lru-cache.js";
