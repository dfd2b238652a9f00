export * from "./deployments-client.js";
export * from "./deployment-follower.js";
export * from "./deployment-metrics.js";
export * from "./router.js";
export * from "./shadow.js";
export * from "./version-stats.js";
export type { PredictionRouter, RoutedPrediction } from "../http/context.js";
export * from "./served-deployment.js";
