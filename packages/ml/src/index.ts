export * from "./model-package/index.js";
