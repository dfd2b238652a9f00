export * from "./core/index.js";
export * from "./model-package/index.js";
export * from "./onnx/index.js";
export * from "./plots/svg-charts.js";
export * from "./data/index.js";
export * from "./features/index.js";
