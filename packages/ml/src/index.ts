export * from "./core/index.js";
export * from "./model-package/index.js";
