export { runGate, type GateOptions } from "./run-gate.js";
export { GateUsageError } from "./gate-error.js";
export {
  CLASSIFICATION_METRICS,
  GATE_METRICS,
  REGRESSION_METRICS,
  higherIsBetter,
  isGateMetric,
  type GateMetric,
  type GateTask,
} from "./gate-metrics.js";
export {
  DEFAULT_BOOTSTRAP_SEED,
  DEFAULT_RESAMPLES,
  pairedBootstrap,
  type BootstrapOptions,
  type ConfidenceInterval,
} from "./bootstrap.js";
export { DEFAULT_LATENCY_REQUESTS, type LatencyStats } from "./latency.js";
export {
  formatCi as formatGateCi,
  formatDelta as formatGateDelta,
  formatMs as formatGateMs,
  formatValue as formatGateValue,
  type GateCheck,
  type GateCheckKind,
  type GateLatency,
  type GateMetricRow,
  type GateModelInfo,
  type GatePromotion,
  type GateReport,
} from "./gate-report.js";
