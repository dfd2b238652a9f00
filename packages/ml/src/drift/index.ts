export * from "./column-drift.js";
export * from "./dataset-drift.js";
export * from "./drift-report-html.js";
export {
  DRIFT_METHOD_NAMES,
  driftMethod,
  listDriftMethods,
  pooledChiSquare,
  type DriftMethod,
  type DriftComparison,
} from "./methods.js";
export * from "./text-drift.js";
export * from "./multivariate-drift.js";
export * from "./pca.js";
export { datasetDriftInWorker, type WorkerDriftOptions } from "./drift-worker.js";
