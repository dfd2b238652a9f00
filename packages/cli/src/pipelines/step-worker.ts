/**
 * The pipeline side of `slipway worker --pipelines FILE`: a BullMQ worker that takes step jobs off the
 * pipeline queue and runs them with `executeStep`, on the step run the runner created, with the pipeline's
 * cancel tag watched. Each job's step must have the code digest the runner saw (the same file, the same
 * version); otherwise the job is refused for good.
 *
 * A worker killed mid-step loses nothing that matters: its job's lock (`lockDurationMs`, renewed while the
 * worker lives) expires, another worker's stalled-job check puts the job back, and that worker runs the
 * step again from its first attempt on the same step run (its log says so).
 */
import { hostname } from "node:os";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import {
  codeDigest,
  executeStep,
  Slipway,
  TrackingClient,
  watchPipelineCancel,
  type Pipeline,
  type StepExecution,
} from "@slipway/sdk";
import { redisReady, showRedisUrl } from "./redis-url.js";
import { parseStepJob, STEP_JOB_NAME, type StepJobData } from "./step-job.js";

export interface PipelineStepWorkerOptions {
  readonly redis: string;
  readonly queue: string;
  readonly pipelines: ReadonlyMap<string, Pipeline>;
  /** Steps run at once. Default 1. */
  readonly concurrency?: number;
  /** A step job's lock; a dead worker's step is run again after it. Default 30 s. */
  readonly lockDurationMs?: number;
  /** Use this tracking server instead of the one each job names. */
  readonly trackingUri?: string;
  /** How often a running step's pipeline run is checked for a cancel request. Default 1000 ms. */
  readonly cancelPollMs?: number;
  readonly log: (line: string) => void;
}

export class PipelineStepWorker {
  private constructor(private readonly worker: Worker) {}

  static async start(options: PipelineStepWorkerOptions): Promise<PipelineStepWorker> {
    const { log } = options;
    const slipways = new Map<string, Slipway>();
    const slipwayFor = (uri: string): Slipway => {
      let slipway = slipways.get(uri);
      if (!slipway) {
        slipway = new Slipway({
          client: new TrackingClient({ trackingUri: uri, maxRetries: 3 }),
          handleProcessExit: false,
        });
        slipways.set(uri, slipway);
      }
      return slipway;
    };
    const processor = async (job: Job): Promise<StepExecution> => {
      if (job.name !== STEP_JOB_NAME) throw new UnrecoverableError(`unknown job '${job.name}' on this queue`);
      let data: StepJobData;
      try {
        data = parseStepJob(job.data);
      } catch (error) {
        throw new UnrecoverableError(`cannot read step job ${job.id}: ${(error as Error).message}`);
      }
      const pipeline = options.pipelines.get(data.pipeline);
      if (!pipeline) {
        throw new UnrecoverableError(
          `this worker's pipelines file has no pipeline '${data.pipeline}' (it has ${[...options.pipelines.keys()].join(", ")})`,
        );
      }
      const step = pipeline.steps[data.step];
      if (!step) throw new UnrecoverableError(`this worker's pipeline '${data.pipeline}' has no step '${data.step}'`);
      if (codeDigest(step) !== data.codeDigest) {
        throw new UnrecoverableError(
          `this worker's step '${data.step}' of pipeline '${data.pipeline}' is other code than the runner's ` +
            `(load the same pipelines file on both)`,
        );
      }
      const name = `${data.pipeline}/${data.step} (step run ${data.runId})`;
      const again = job.attemptsStarted > 1 || job.stalledCounter > 0;
      log(`${name}: started${again ? " again (the worker that had it stopped)" : ""}`);
      const slipway = slipwayFor(options.trackingUri ?? data.trackingUri);
      const watch = watchPipelineCancel(slipway.client, data.pipelineRunId, {
        ...(options.cancelPollMs === undefined ? {} : { intervalMs: options.cancelPollMs }),
      });
      try {
        const result = await executeStep({
          slipway,
          pipeline,
          step: data.step,
          runId: data.runId,
          pipelineRunId: data.pipelineRunId,
          params: data.params,
          inputs: data.inputs,
          trigger: data.trigger,
          signal: watch.signal,
          echo: (line) => log(`${data.pipeline} ${line}`),
          ...(again
            ? { note: `run again on ${hostname()}:${process.pid}: the worker that had this step stopped` }
            : {}),
        });
        log(`${name}: ${result.status} after ${result.attempts} attempt${result.attempts === 1 ? "" : "s"}`);
        return result;
      } finally {
        watch.stop();
      }
    };
    const lockDuration = options.lockDurationMs ?? 30_000;
    const worker = new Worker(options.queue, processor, {
      connection: { url: options.redis, maxRetriesPerRequest: null },
      concurrency: options.concurrency ?? 1,
      lockDuration,
      stalledInterval: Math.min(lockDuration, 30_000),
      maxStalledCount: 3,
      autorun: false,
    });
    try {
      await redisReady(worker.waitUntilReady(), options.redis, worker);
    } catch (error) {
      await worker.close(true).catch(() => undefined);
      throw error;
    }
    worker.on("error", (error) => log(`pipeline worker error: ${error.message}`));
    worker.run().catch((error: unknown) => log(`pipeline worker stopped: ${(error as Error).message}`));
    log(
      `running steps of ${[...options.pipelines.keys()].join(", ")} from queue '${options.queue}' at ${showRedisUrl(options.redis)}`,
    );
    return new PipelineStepWorker(worker);
  }

  /** Finishes the steps in progress (unless `force`), then stops. */
  async close(force = false): Promise<void> {
    await this.worker.close(force);
  }
}
