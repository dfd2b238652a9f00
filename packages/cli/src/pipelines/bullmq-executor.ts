/**
 * The BullMQ executor (`slipway pipeline run NAME --executor bullmq --redis URL`): each step becomes a job
 * on the pipeline queue (job id `step-<step run id>`, so adding it again is a no-op) and any
 * `slipway worker --pipelines FILE` process runs it. Retries and timeouts happen inside the worker
 * (`executeStep`, as in the local executor); BullMQ's own attempts stay at 1, and its stalled-job check is
 * what recovers from a worker that dies mid-step: the job's lock expires and another worker runs the step
 * again on the same step run.
 *
 * Cancelling removes a job no worker has taken yet; a running step is stopped by its worker, which watches
 * the pipeline run's cancel tag. A job that fails in the worker without running the step (unknown pipeline,
 * other code) fails the step with the worker's reason.
 */
import { Queue, QueueEvents } from "bullmq";
import type { PipelineExecutor, StepExecution, StepTask, TrackingClient } from "@slipway/sdk";
import { PIPELINE_TAGS } from "@slipway/sdk";
import { redisReady, showRedisUrl } from "./redis-url.js";
import { parseStepResult, STEP_JOB_NAME, stepJobId, type StepJobData } from "./step-job.js";

export interface BullmqExecutorOptions {
  readonly redis: string;
  readonly queue: string;
  /** Marks step runs a worker never ended (a job removed on cancel, a job the worker refused). */
  readonly client: TrackingClient;
  readonly log: (line: string) => void;
  /** How often to say that no worker listens while steps wait. Default 30 s. */
  readonly idleNoticeMs?: number;
  /** After a cancel, how long to wait for the worker to stop a running step. Default 60 s. */
  readonly cancelWaitMs?: number;
}

export class BullmqExecutor implements PipelineExecutor {
  readonly kind = "bullmq";
  private pending = 0;
  private readonly idle: NodeJS.Timeout;
  private lastProgress = performance.now();

  private constructor(
    private readonly queue: Queue<StepJobData>,
    private readonly events: QueueEvents,
    private readonly options: BullmqExecutorOptions,
  ) {
    const period = options.idleNoticeMs ?? 30_000;
    this.idle = setInterval(() => this.checkWorkers(period), Math.min(period, 5000));
    this.idle.unref();
  }

  static async open(options: BullmqExecutorOptions): Promise<BullmqExecutor> {
    const connection = { url: options.redis, maxRetriesPerRequest: null };
    const queue = new Queue<StepJobData>(options.queue, { connection });
    queue.on("error", () => undefined);
    try {
      await redisReady(queue.waitUntilReady(), options.redis, queue);
    } catch (error) {
      await queue.close().catch(() => undefined);
      throw error;
    }
    const events = new QueueEvents(options.queue, { connection });
    events.on("error", () => undefined);
    try {
      await redisReady(events.waitUntilReady(), options.redis, events);
    } catch (error) {
      await Promise.allSettled([events.close(), queue.close()]);
      throw error;
    }
    return new BullmqExecutor(queue, events, options);
  }

  private checkWorkers(period: number): void {
    if (this.pending === 0 || performance.now() - this.lastProgress < period) return;
    this.lastProgress = performance.now();
    this.queue.getWorkersCount().then(
      (workers) => {
        if (workers === 0) {
          this.options.log(
            `no worker listens on queue '${this.options.queue}': start some with ` +
              `'slipway worker --redis ${showRedisUrl(this.options.redis)} --pipelines FILE'`,
          );
        }
      },
      () => undefined,
    );
  }

  async runStep(task: StepTask, signal: AbortSignal): Promise<StepExecution> {
    const data: StepJobData = {
      version: 1,
      pipeline: task.pipeline.name,
      step: task.step,
      runId: task.runId,
      pipelineRunId: task.pipelineRunId,
      experimentId: task.experimentId,
      trackingUri: task.trackingUri,
      params: task.params,
      inputs: task.inputs,
      trigger: task.trigger,
      codeDigest: task.codeDigest,
    };
    const id = stepJobId(task.runId);
    const job = await this.queue.add(STEP_JOB_NAME, data, {
      jobId: id,
      attempts: 1,
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    this.pending++;
    let settled = false;
    let onAbort: (() => void) | undefined;
    try {
      const finished = job.waitUntilFinished(this.events).then(
        (value: unknown) => parseStepResult(value),
        async (error: unknown): Promise<StepExecution> => {
          // the worker refused or could not run the job: the step run is left as it was, end it
          const why = error instanceof Error ? error.message : String(error);
          await this.endRun(task.runId, "FAILED", why);
          return { status: "FAILED", attempts: 0, error: `worker: ${why}` };
        },
      );
      const cancelled = new Promise<StepExecution>((resolve) => {
        onAbort = () => {
          void this.cancel(id, task.runId, () => settled).then((result) => {
            if (result) resolve(result);
          });
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      });
      return await Promise.race([finished, cancelled]);
    } finally {
      settled = true;
      if (onAbort) signal.removeEventListener("abort", onAbort);
      this.pending--;
      this.lastProgress = performance.now();
    }
  }

  /**
   * A job no worker has taken is removed (its step never started): KILLED at once. A running one is left to
   * its worker, which stops it; if the job has not ended within `cancelWaitMs`, the step run is ended KILLED
   * here. Undefined: the job ended by itself meanwhile (its own answer counts).
   */
  private async cancel(id: string, runId: string, settled: () => boolean): Promise<StepExecution | undefined> {
    const state = await this.queue.getJobState(id).catch(() => "unknown");
    if (["waiting", "delayed", "prioritized", "waiting-children"].includes(state)) {
      const removed = await this.queue.remove(id).catch(() => 0);
      if (removed === 1) {
        await this.endRun(runId, "KILLED", "cancelled before a worker took it");
        return { status: "KILLED", attempts: 0, error: "cancelled before a worker took it" };
      }
    }
    await new Promise((r) => setTimeout(r, this.options.cancelWaitMs ?? 60_000).unref());
    if (settled()) return undefined;
    await this.endRun(runId, "KILLED", "cancelled; its worker did not answer");
    return { status: "KILLED", attempts: 0, error: "cancelled; its worker did not answer" };
  }

  private async endRun(runId: string, status: "FAILED" | "KILLED", why: string): Promise<void> {
    const { client } = this.options;
    await client
      .setTag({ run_id: runId, key: PIPELINE_TAGS.error, value: why.slice(0, 1000) })
      .then(() => client.updateRun({ run_id: runId, status, end_time: Date.now() }))
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.idle);
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}
