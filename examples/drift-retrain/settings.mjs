// settings.mjs — the names and numbers the example's script (run.mjs) and its retraining pipeline
// (pipeline.mjs, loaded by `slipway pipeline scheduler` in another process) must agree on.

/** The registered model: the spam example registers its champion under this name. */
export const MODEL = "spam-classifier";
/** The deployment the model server follows. */
export const DEPLOYMENT = "spam";
/** The monitor (declared in slipway.yaml) and the alert rule whose firing starts the retraining. */
export const MONITOR = "spam-drift";
export const TRIGGER_RULE = "accuracy-drop";
/** The pipeline started by the alert. */
export const PIPELINE = "retrain-on-drift";

/** The champion's train/test split of the SpamAssassin corpus, as examples/spam-classifier/train.mjs makes it. */
export const CORPUS_SPLIT = { testSize: 0.2, seed: 42 };
/** The spam example's hyperparameters (its defaults), so that champion and challenger differ only in their data. */
export const HYPERPARAMETERS = { C: 30, maxIter: 300, minDf: 2, maxFeatures: 50_000 };

/**
 * The canary the pipeline starts: 10% of requests, +30 points every 2 s while the challenger does as well as the
 * champion (10 → 40 → 70 → 100 = promoted). Production would step every few minutes, over more requests.
 */
export const CANARY = { weight: 10, step: 30, interval_ms: 2000, max_error_rate: 0.01, min_requests: 20 };
