/**
 * A batch job once its input has been inspected, its model downloaded and its output planned: what both
 * executors (local threads, BullMQ workers) start from.
 */
import type { MLmodel } from "@slipway/ml";
import type { OnError } from "./block.js";
import type { DataFormat } from "./data-format.js";
import type { InputInfo } from "./input-info.js";
import type { JobPlan } from "./job-plan.js";

export interface PreparedJob {
  readonly info: InputInfo;
  readonly plan: JobPlan;
  /** The package in the local model cache. */
  readonly model: { readonly dir: string; readonly mlmodel: MLmodel };
  /** A URI that names exactly this model version wherever it is resolved (`models:/spam/3`). */
  readonly pinnedUri: string;
  readonly outputPath: string;
  readonly outputFormat: DataFormat;
  readonly errorsPath: string;
  readonly batchSize: number;
  readonly onError: OnError;
}

export interface JobCounts {
  /** Input rows read. */
  rows: number;
  /** Output rows written. */
  written: number;
  /** Bad rows skipped (always 0 with `--on-error fail`, which stops at the first). */
  errors: number;
}
