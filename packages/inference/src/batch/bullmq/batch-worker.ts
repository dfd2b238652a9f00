/**
 * `slipway worker`: a BullMQ worker that takes chunk jobs off the batch-prediction queue and predicts
 * them on this machine's prediction threads, `concurrency` chunks at a time. Any number of workers, on
 * any number of machines, may serve one queue; each needs the input and output paths of the jobs
 * (a shared file system) and the tracking server to fetch models from.
 *
 * A worker killed mid-chunk loses nothing: the chunk's output was going to a temporary file, and its
 * job's lock (`lockDurationMs`, renewed while the worker lives) expires, after which another worker's
 * stalled-job check puts it back on the queue and someone does it again. A chunk that fails for a reason
 * another try would not fix (bad rows with `--on-error fail`, a bad setting, a model that cannot load) is
 * failed for good at once; other errors are retried (3 attempts).
 *
 * A chunk of a batch the coordinator cancelled (interrupted, or failed) is dropped: looked for when the
 * chunk is taken, every second while it runs and just before its files are renamed into place
 * (`batch-cancellation.ts`); the chunk stops, its temporary files are removed, and its job is failed and
 * then removed from the queue, so nothing of the batch is left behind.
 */
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { MlflowError } from "@slipway/protocol";
import { PredictorLoadError } from "../../predictors/predictor.js";
import { BatchError } from "../batch-error.js";
import { BatchCancelledError, ChunkCancellation, cancelledKey } from "./batch-cancellation.js";
import { CHUNK_JOB_NAME, parseChunkJob, type ChunkJobResult } from "./chunk-job.js";
import { processChunk } from "./chunk-processor.js";
import { ModelPools } from "./model-pools.js";
import { readyWithin, redisSettings, showRedisUrl } from "./redis-connection.js";

export interface BatchWorkerOptions {
  readonly redis: string;
  readonly queue: string;
  /** Chunks processed at once. Default 1. */
  readonly concurrency?: number;
  /** Prediction threads per model. */
  readonly threads: number;
  /** How long a chunk's lock lasts without renewal (a dead worker's chunk is retried after it). Default 30 s. */
  readonly lockDurationMs?: number;
  /** Resolve models with this tracking server instead of the one each job names. */
  readonly trackingUri?: string;
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

/** Whether another attempt could not do better (the job is then failed for good). */
function permanent(error: unknown): boolean {
  if (error instanceof BatchError || error instanceof PredictorLoadError) return true;
  return error instanceof MlflowError && error.status >= 400 && error.status < 500;
}

export class BatchWorker {
  private constructor(
    private readonly worker: Worker,
    private readonly pools: ModelPools,
  ) {}

  static async start(options: BatchWorkerOptions): Promise<BatchWorker> {
    const log = options.log ?? (() => undefined);
    const connection = redisSettings(options.redis);
    const lockDuration = options.lockDurationMs ?? 30_000;
    const pools = new ModelPools({
      threads: options.threads,
      ...(options.trackingUri === undefined ? {} : { trackingUri: options.trackingUri }),
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      log,
    });
    // jobs failed because their batch was cancelled: removed once BullMQ has moved them to failed
    const dropped = new Set<string>();
    const processor = async (job: Job): Promise<ChunkJobResult> => {
      if (job.name !== CHUNK_JOB_NAME) throw new UnrecoverableError(`unknown job '${job.name}' on this queue`);
      let data;
      try {
        data = parseChunkJob(job.data);
      } catch (error) {
        throw new UnrecoverableError(`cannot read chunk job ${job.id}: ${(error as Error).message}`);
      }
      const started = performance.now();
      const name = `chunk ${data.chunk} of ${data.batchId}`;
      // `worker` is created below: the processor runs only once it is
      const cancellation = new ChunkCancellation(
        worker.getBackend().client,
        cancelledKey(worker.toKey, data.batchId),
        data.batchId,
      );
      try {
        if (await cancellation.check()) throw cancellation.signal.reason;
        log(`${name}: started (attempt ${Math.max(job.attemptsStarted, job.attemptsMade + 1)})`);
        const lease = await pools.acquire(data.model.uri, data.model.trackingUri);
        try {
          const result = await processChunk(data, lease.threads, cancellation);
          const seconds = (performance.now() - started) / 1000;
          log(`${name}: done, ${result.written} rows written, ${result.errors} bad, in ${seconds.toFixed(2)} s`);
          return result;
        } finally {
          lease.release();
        }
      } catch (error) {
        if (cancellation.signal.aborted || error instanceof BatchCancelledError) {
          log(`${name}: dropped (the batch was cancelled)`);
          dropped.add(String(job.id));
          throw new UnrecoverableError(`batch ${data.batchId} was cancelled`);
        }
        const message = error instanceof Error ? error.message : String(error);
        log(`${name}: failed: ${message}`);
        if (permanent(error)) throw new UnrecoverableError(message);
        throw error;
      } finally {
        cancellation.stop();
      }
    };
    const worker = new Worker(options.queue, processor, {
      connection,
      concurrency: options.concurrency ?? 1,
      lockDuration,
      stalledInterval: Math.min(lockDuration, 30_000),
      maxStalledCount: 5,
      autorun: false,
    });
    try {
      await readyWithin(worker.waitUntilReady(), 10_000, options.redis, worker);
    } catch (error) {
      await worker.close(true).catch(() => undefined);
      throw error;
    }
    worker.on("error", (error) => log(`worker error: ${error.message}`));
    worker.on("failed", (job) => {
      if (!job?.id || !dropped.delete(job.id)) return;
      // the coordinator may have removed it already
      job.remove().catch(() => undefined);
    });
    // run() resolves only when the worker closes
    worker.run().catch((error: unknown) => log(`worker stopped: ${(error as Error).message}`));
    log(`listening on queue '${options.queue}' at ${showRedisUrl(options.redis)}`);
    return new BatchWorker(worker, pools);
  }

  /** Finishes the chunks in progress (unless `force`), then stops. */
  async close(force = false): Promise<void> {
    await this.worker.close(force);
    await this.pools.close();
  }
}
