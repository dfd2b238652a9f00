/**
 * `slipway batch-predict MODEL_URI --input IN --output OUT`: predictions for every row of a CSV, JSON
 * Lines or Parquet file, streamed through prediction threads on every core (or, with `--executor
 * bullmq`, through `slipway worker` processes anywhere), written in input order to a file that appears
 * only when complete, and tracked as a run. See docs/batch-prediction.md.
 *
 * SIGINT / SIGTERM interrupt the job cleanly: nothing is written (temporary files removed, threads
 * stopped, a distributed job's chunks taken off the queue), the run ends KILLED, and the command exits
 * 130 (SIGINT) or 143 (SIGTERM) saying "interrupted: nothing written". A second signal exits at once.
 */
import { constants } from "node:os";
import type { Command } from "commander";
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CHUNK_ROWS,
  DEFAULT_EXPERIMENT,
  DEFAULT_QUEUE,
  runBatchPrediction,
  type OnError,
  type ProbabilitiesLayout,
} from "@slipway/inference";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";

interface BatchPredictFlags extends ClientFlags {
  input?: string;
  output?: string;
  inputFormat?: string;
  outputFormat?: string;
  batchSize?: string;
  workers?: string;
  executor?: string;
  redis?: string;
  queue?: string;
  chunkRows?: string;
  keep?: string;
  rowNumber?: boolean;
  probabilities?: string;
  features?: string;
  onError?: string;
  experiment?: string;
  runName?: string;
  track?: boolean;
  progressInterval?: string;
}

/** A whole number flag ≥ 1. */
export function positiveArg(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${flag}: '${text}' is not a whole number ≥ 1`);
  }
  return n;
}

function choiceArg<T extends string>(text: string | undefined, flag: string, choices: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`${flag}: '${text}' is not one of ${choices.join(", ")}`);
  }
  return text as T;
}

function listArg(text: string | undefined, flag: string): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) throw new UsageError(`${flag}: give a comma-separated list of column names`);
  return items;
}

export function registerBatchPredict(program: Command): void {
  program
    .command("batch-predict")
    .description("Predict every row of a CSV, JSON Lines or Parquet file into another, tracked as a run")
    .argument("<model-uri>", "models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/PATH or a local package")
    .requiredOption("--input <path>", "input file: .csv, .jsonl (.ndjson) or .parquet")
    .requiredOption("--output <path>", "output file: .csv, .jsonl or .parquet (written atomically)")
    .option("--input-format <format>", "csv, jsonl or parquet (default: from the extension)")
    .option("--output-format <format>", "csv, jsonl or parquet (default: from the extension)")
    .option("--batch-size <n>", `rows per predictor call (default ${DEFAULT_BATCH_SIZE})`)
    .option("--workers <n>", "prediction threads (default: one per core)")
    .option("--executor <kind>", "local (threads here) or bullmq (chunks on slipway worker processes)", "local")
    .option("--redis <url>", "Redis for --executor bullmq, e.g. redis://127.0.0.1:6379")
    .option("--queue <name>", `BullMQ queue (default ${DEFAULT_QUEUE})`)
    .option("--chunk-rows <n>", `rows per chunk with --executor bullmq (default ${DEFAULT_CHUNK_ROWS})`)
    .option("--keep <columns>", "input columns copied to the output, comma-separated, or '*' (default: id)")
    .option("--row-number", "add a 'row' column with the input row number (default when there is no id)")
    .option("--no-row-number", "no 'row' column")
    .option("--probabilities <layout>", "json (one list per row) or columns (one column per class)", "json")
    .option("--features <columns>", "tensor models: the input columns that make a row, in order")
    .option("--on-error <action>", "fail (stop, write nothing) or skip (bad rows to OUTPUT.errors.jsonl)", "fail")
    .option("--experiment <name>", `experiment of the run (default ${DEFAULT_EXPERIMENT})`)
    .option("--run-name <name>", "name of the run")
    .option("--no-track", "do not record a run")
    .option("--progress-interval <seconds>", "seconds between progress lines when stderr is not a terminal", "10")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .action(async (modelUri: string, flags: BatchPredictFlags) => {
      const executor = choiceArg(flags.executor, "--executor", ["local", "bullmq"] as const);
      if (executor === "bullmq" && flags.redis === undefined) {
        throw new UsageError("--executor bullmq needs --redis URL (e.g. redis://127.0.0.1:6379)");
      }
      if (executor !== "bullmq" && (flags.redis !== undefined || flags.chunkRows !== undefined)) {
        throw new UsageError("--redis and --chunk-rows go with --executor bullmq");
      }
      const interval = Number(flags.progressInterval);
      if (!(interval > 0)) throw new UsageError(`--progress-interval: '${flags.progressInterval}' is not a number > 0`);
      const keep = flags.keep?.trim() === "*" ? ("*" as const) : listArg(flags.keep, "--keep");
      const chunkRows = positiveArg(flags.chunkRows, "--chunk-rows");
      const batchSize = positiveArg(flags.batchSize, "--batch-size");
      const workers = positiveArg(flags.workers, "--workers");
      const probabilities = choiceArg<ProbabilitiesLayout>(flags.probabilities, "--probabilities", ["json", "columns"]);
      const onError = choiceArg<OnError>(flags.onError, "--on-error", ["fail", "skip"]);
      const features = listArg(flags.features, "--features");
      const interruption = new Interruption();
      const result = await interruption.run((signal) =>
        runBatchPrediction({
          client: clientFor(flags),
          modelUri,
          input: flags.input!,
          output: flags.output!,
          ...(flags.inputFormat === undefined ? {} : { inputFormat: flags.inputFormat }),
          ...(flags.outputFormat === undefined ? {} : { outputFormat: flags.outputFormat }),
          ...(batchSize === undefined ? {} : { batchSize }),
          ...(workers === undefined ? {} : { workers }),
          ...(executor === "bullmq"
            ? {
                distributed: {
                  redis: flags.redis!,
                  ...(flags.queue === undefined ? {} : { queue: flags.queue }),
                  ...(chunkRows === undefined ? {} : { chunkRows }),
                },
              }
            : {}),
          ...(keep === undefined ? {} : { keep }),
          ...(flags.rowNumber === undefined ? {} : { rowNumber: flags.rowNumber }),
          ...(probabilities === undefined ? {} : { probabilities }),
          ...(features === undefined ? {} : { features }),
          ...(onError === undefined ? {} : { onError }),
          tracking:
            flags.track === false
              ? false
              : {
                  ...(flags.experiment === undefined ? {} : { experiment: flags.experiment }),
                  ...(flags.runName === undefined ? {} : { runName: flags.runName }),
                },
          handleProcessExit: true,
          progress: process.stderr,
          progressIntervalMs: interval * 1000,
          log: (line) => process.stderr.write(`${line}\n`),
          signal,
        }),
      );
      const lines = [
        `rows:     ${result.rows} read, ${result.written} written to ${result.output}`,
        `errors:   ${result.errors}${result.errorsPath ? ` (in ${result.errorsPath})` : ""}`,
        `model:    ${result.pinnedUri}`,
        `speed:    ${Math.round(result.rowsPerS)} rows/s (${result.durationS.toFixed(2)} s)`,
        ...(result.runId ? [`run:      ${result.runId}`] : []),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

type StopSignal = "SIGINT" | "SIGTERM";

/** 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM, as a shell reports a process it killed. */
function exitCodeOf(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/**
 * SIGINT / SIGTERM while a job runs: the first aborts it (the job cleans up after itself, then the
 * process exits 130 / 143); a second exits at once, leaving whatever the first had not cleaned up yet.
 */
class Interruption {
  private readonly controller = new AbortController();
  private received: StopSignal | undefined;

  async run<T>(job: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const onSignal = (signal: StopSignal) => {
      if (this.received !== undefined) {
        process.stderr.write(`\nslipway: ${signal} again: stopping at once\n`);
        process.exit(exitCodeOf(signal));
      }
      this.received = signal;
      process.stderr.write(`\n${signal}: stopping and removing what was written (${signal} again to stop at once)\n`);
      this.controller.abort(new Error(`interrupted by ${signal}`));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      return await job(this.controller.signal);
    } catch (error) {
      if (this.received === undefined) throw error;
      // the job has cleaned up and ended its run KILLED; main() would make any error exit 1
      process.stderr.write("slipway: interrupted: nothing written\n");
      process.exit(exitCodeOf(this.received));
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
}
