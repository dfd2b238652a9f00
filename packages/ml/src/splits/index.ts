/**
 * Splitters of `@slipway/ml`, as scikit-learn's: train/test split (optionally stratified), k-fold and
 * stratified k-fold, returning row indices; seeded and the same on every platform.
 */
export type { Split } from "./split.js";
export { approximateMode, splitSizes, trainTestSplit } from "./train-test-split.js";
export type { TrainTestSplitOptions } from "./train-test-split.js";
export { kFold } from "./k-fold.js";
export type { KFoldOptions } from "./k-fold.js";
export { stratifiedKFold } from "./stratified-k-fold.js";
export type { StratifiedKFoldOptions } from "./stratified-k-fold.js";
