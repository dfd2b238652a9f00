/**
 * `slipway worker --redis URL`: a batch-prediction worker that takes chunks of `slipway batch-predict
 * --executor bullmq` jobs off the queue and predicts them on this machine's cores. Run as many as you
 * like, anywhere that sees the jobs' input and output paths and the tracking server. SIGTERM / SIGINT
 * finish the chunks in progress and stop; a second signal stops at once (those chunks are retried
 * elsewhere once their locks expire).
 *
 * With `--pipelines FILE` it also runs pipeline steps (`slipway pipeline run --executor bullmq`) from the
 * pipeline queue, with that file's pipelines (see pipelines/step-worker.ts).
 */
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { DEFAULT_QUEUE, startBatchWorker } from "@slipway/inference";
import { parseDuration } from "../errors.js";
import { loadPipelines } from "../pipelines/load-pipelines.js";
import { checkRedisUrl } from "../pipelines/redis-url.js";
import { DEFAULT_PIPELINE_QUEUE } from "../pipelines/step-job.js";
import { positiveArg } from "./batch-predict.js";

interface WorkerFlags {
  redis: string;
  queue?: string;
  concurrency?: string;
  threads?: string;
  lockDuration?: string;
  trackingUri?: string;
  pipelines?: string;
  pipelineQueue?: string;
  stepConcurrency?: string;
}

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("Predict chunks of distributed batch-predict jobs from a BullMQ queue on Redis")
    .requiredOption("--redis <url>", "Redis of the queue, e.g. redis://127.0.0.1:6379")
    .option("--queue <name>", `BullMQ queue (default ${DEFAULT_QUEUE})`)
    .option("--concurrency <n>", "chunks processed at once (default 1)")
    .option("--threads <n>", "prediction threads (default: one per core)")
    .option("--lock-duration <duration>", "a chunk's lock; a dead worker's chunk is retried after it (default 30s)")
    .option(
      "--tracking-uri <uri>",
      "tracking server to fetch models from (default: the one the batch-predict job names)",
    )
    .option("--pipelines <file>", "also run pipeline steps, of the pipelines this ES module exports")
    .option("--pipeline-queue <name>", `BullMQ queue of pipeline steps (default ${DEFAULT_PIPELINE_QUEUE})`)
    .option("--step-concurrency <n>", "pipeline steps run at once (default 1)")
    .action(async (flags: WorkerFlags) => {
      const concurrency = positiveArg(flags.concurrency, "--concurrency") ?? 1;
      const threads = positiveArg(flags.threads, "--threads") ?? availableParallelism();
      const lockDurationMs =
        flags.lockDuration === undefined ? undefined : parseDuration(flags.lockDuration, "--lock-duration");
      const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
      const stepConcurrency = positiveArg(flags.stepConcurrency, "--step-concurrency") ?? 1;
      const loaded = flags.pipelines === undefined ? undefined : await loadPipelines(flags.pipelines);
      if (loaded) checkRedisUrl(flags.redis);
      const worker = await startBatchWorker({
        redis: flags.redis,
        queue: flags.queue ?? DEFAULT_QUEUE,
        concurrency,
        threads,
        ...(lockDurationMs === undefined ? {} : { lockDurationMs }),
        ...(flags.trackingUri === undefined ? {} : { trackingUri: flags.trackingUri }),
        log,
      });
      // BullMQ's pipeline side is loaded only when asked for
      const steps = loaded
        ? await (
            await import("../pipelines/step-worker.js")
          ).PipelineStepWorker.start({
            redis: flags.redis,
            queue: flags.pipelineQueue ?? DEFAULT_PIPELINE_QUEUE,
            pipelines: loaded.pipelines,
            concurrency: stepConcurrency,
            ...(lockDurationMs === undefined ? {} : { lockDurationMs }),
            ...(flags.trackingUri === undefined ? {} : { trackingUri: flags.trackingUri }),
            log,
          }).catch(async (error: unknown) => {
            await worker.close(true);
            throw error;
          })
        : undefined;
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals) => {
          const force = stopping;
          stopping = true;
          log(force ? `${signal}: stopping now` : `${signal}: finishing the chunks in progress, then stopping`);
          Promise.all([worker.close(force), steps?.close(force)]).then(
            () => resolve(),
            (error: unknown) => {
              log(`error while stopping: ${String(error)}`);
              resolve();
            },
          );
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
}
