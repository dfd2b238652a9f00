/**
 * The BullMQ executor (`--executor bullmq`): the coordinator of a distributed batch job. It cuts the
 * input into chunks of `chunkRows` rows (`chunk-planner.ts`), enqueues one job per chunk (job id
 * `<batchId>-<chunk>`, so enqueueing is idempotent), and appends the chunk files to the output in chunk
 * order as they complete (`chunk-assembler.ts`) while `slipway worker` processes, anywhere, predict them.
 *
 * The first chunk that fails for good fails the job, and `signal` interrupts it; either way the batch
 * is cancelled (`batch-cancellation.ts`): its jobs are removed from the queue (those workers hold, once
 * the workers have dropped them), the temporary output and the chunk directory are deleted. A failure's
 * error names the chunk and its reason (for bad rows, their row numbers); an interruption rejects with
 * the signal's reason. While nothing progresses and no worker listens on the queue, a line says so every
 * 30 s.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { Queue, QueueEvents } from "bullmq";
import { abortable } from "../abort.js";
import { BatchError } from "../batch-error.js";
import type { JobCounts, PreparedJob } from "../prepared-job.js";
import type { Progress } from "../progress.js";
import { cancelBatch } from "./batch-cancellation.js";
import { ChunkAssembler } from "./chunk-assembler.js";
import {
  CHUNK_JOB_NAME,
  chunkDirFor,
  chunkJobId,
  parseChunkResult,
  type ChunkJobData,
  type ChunkJobResult,
} from "./chunk-job.js";
import { planChunks } from "./chunk-planner.js";
import { readyWithin, redisSettings, showRedisUrl } from "./redis-connection.js";

export interface DistributedExecutorOptions {
  readonly redis: string;
  readonly queue: string;
  readonly chunkRows: number;
  /** The tracking server workers resolve the model with (unless they are given their own). */
  readonly trackingUri: string;
  readonly log: (line: string) => void;
  readonly progress?: Progress;
  /** How often to say that no worker listens while nothing progresses. Default 30 s. */
  readonly idleNoticeMs?: number;
  /** Interrupts the job (the batch is cancelled). */
  readonly signal?: AbortSignal;
  /** Longest wait, when the batch is cancelled, for workers to drop the chunks they hold. Default 10 s. */
  readonly cancelWaitMs?: number;
}

interface PlannedJob {
  readonly id: string;
  readonly result: Promise<ChunkJobResult>;
  readonly units: number;
}

export async function executeDistributed(job: PreparedJob, options: DistributedExecutorOptions): Promise<JobCounts> {
  const { signal } = options;
  signal?.throwIfAborted();
  const connection = redisSettings(options.redis);
  const queue = new Queue<ChunkJobData, ChunkJobResult>(options.queue, { connection });
  // the default error listener would print ioredis' reconnection errors; readiness is checked below
  queue.on("error", () => undefined);
  // each chunk's waitUntilFinished listens for the queue closing: one listener per chunk is expected
  queue.setMaxListeners(0);
  try {
    await abortable(readyWithin(queue.waitUntilReady(), 10_000, options.redis, queue), signal);
  } catch (error) {
    await queue.close();
    throw error;
  }
  // created once Redis answers: a QueueEvents that never connected does not close
  const events = new QueueEvents(options.queue, { connection });
  events.on("error", () => undefined);
  const dir = chunkDirFor(resolve(job.outputPath));
  try {
    await abortable(readyWithin(events.waitUntilReady(), 10_000, options.redis, events), signal);
    signal?.throwIfAborted();
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const batchId = randomUUID();
    const jobs: PlannedJob[] = [];
    let assembler: ChunkAssembler | undefined;
    try {
      let failed!: (error: Error) => void;
      const failure = new Promise<never>((_, reject) => (failed = reject));
      failure.catch(() => undefined);
      const { info, plan } = job;
      for await (const planned of planChunks(info, options.chunkRows)) {
        signal?.throwIfAborted();
        const chunk = jobs.length;
        const data: ChunkJobData = {
          version: 1,
          batchId,
          chunk,
          model: { uri: job.pinnedUri, trackingUri: options.trackingUri },
          input: {
            path: resolve(info.path),
            format: info.format,
            size: info.size,
            columns: info.columns,
            ...(plan.input.features ? { features: plan.input.features } : {}),
            range: planned.range,
          },
          output: { dir, plan: plan.output },
          batchSize: job.batchSize,
          onError: job.onError,
        };
        const id = chunkJobId(batchId, chunk);
        const added = await queue.add(CHUNK_JOB_NAME, data, {
          jobId: id,
          attempts: 3,
          backoff: { type: "exponential", delay: 1000 },
          removeOnComplete: { age: 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        });
        const result = added.waitUntilFinished(events).then(
          (value: unknown) => parseChunkResult(value, chunk),
          (error: unknown) => {
            const reason = error instanceof Error ? error.message : String(error);
            throw new BatchError(`chunk ${chunk} (${describeRange(planned.range)}) failed: ${reason}`);
          },
        );
        result.catch((error: Error) => failed(error));
        jobs.push({ id, result, units: planned.units });
      }
      options.log(
        `batch ${batchId}: ${jobs.length} chunk${jobs.length === 1 ? "" : "s"} of up to ${options.chunkRows} rows ` +
          `on queue '${options.queue}' at ${showRedisUrl(options.redis)}`,
      );
      const counts: JobCounts = { rows: 0, written: 0, errors: 0 };
      assembler = await ChunkAssembler.open(job, dir);
      const idle = watchForWorkers(queue, options);
      try {
        for (let chunk = 0; chunk < jobs.length; chunk++) {
          const planned = jobs[chunk]!;
          const result = await abortable(Promise.race([planned.result, failure]), signal);
          idle.progressed();
          await assembler.append(chunk, result);
          counts.rows += result.rows;
          counts.written += result.written;
          counts.errors += result.errors;
          options.progress?.advance(result.written, planned.units);
        }
        // the last moment to give up: from here on the output is renamed into place
        signal?.throwIfAborted();
        await assembler.commit();
        return counts;
      } finally {
        idle.stop();
      }
    } catch (error) {
      await assembler?.abort();
      // before the directory goes: workers holding a chunk drop it (and its temporary files) first
      await cancelBatch(queue, {
        batchId,
        jobIds: jobs.map((j) => j.id),
        waitMs: options.cancelWaitMs ?? 10_000,
        log: options.log,
      });
      throw error;
    }
  } finally {
    // a worker may still be finishing a chunk of a failed batch: retry while the directory is not empty
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }).catch(() => undefined);
    await Promise.allSettled([events.close(), queue.close()]);
  }
}

function describeRange(range: ChunkJobData["input"]["range"]): string {
  return range.kind === "rows" ? `rows ${range.start}..${range.end - 1}` : `from row ${range.firstRow}`;
}

function watchForWorkers(queue: Queue, options: DistributedExecutorOptions) {
  let last = performance.now();
  const period = options.idleNoticeMs ?? 30_000;
  const timer = setInterval(
    () => {
      if (performance.now() - last < period) return;
      queue.getWorkersCount().then(
        (workers) => {
          if (workers === 0) {
            options.log(
              `no worker listens on queue '${options.queue}': start some with ` +
                `'slipway worker --redis ${showRedisUrl(options.redis)} --queue ${options.queue}'`,
            );
          }
        },
        () => undefined,
      );
      last = performance.now();
    },
    Math.min(period, 5000),
  );
  timer.unref();
  return {
    progressed: () => (last = performance.now()),
    stop: () => clearInterval(timer),
  };
}
