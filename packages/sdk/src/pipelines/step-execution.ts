/**
 * Running one step on its tracked run: what both executors do, in this process or on a `slipway worker`.
 * The step's run was created by the runner; this resumes it, makes up to `retries + 1` attempts with
 * exponential backoff between them, gives each attempt an `AbortSignal` that fires on its timeout or on
 * cancellation, and abandons an attempt that does not stop within `graceMs` of that. The outputs must be
 * plain JSON; they are written as `outputs.json`. The log goes to `step.log`, the attempts and any error to
 * tags, and the run ends FINISHED, FAILED, or KILLED (cancelled).
 */
import { hostname } from "node:os";
import type { Slipway } from "../slipway.js";
import type { ActiveRun } from "../run.js";
import type { Pipeline, PipelineParams, PipelineStep, StepContext } from "./definition.js";
import { errorText, NonRetryableError, PipelineCancelledError, StepTimeoutError } from "./errors.js";
import { findNonJson, type JsonValue } from "./json-value.js";
import { StepLog } from "./step-log.js";
import { OUTPUTS_ARTIFACT, PIPELINE_TAGS, tagValue } from "./tags.js";
import type { PipelineTrigger } from "./trigger.js";

export type StepStatus = "FINISHED" | "FAILED" | "KILLED";

/** How a step ended. */
export interface StepExecution {
  readonly status: StepStatus;
  /** The outputs (status FINISHED). */
  readonly outputs?: JsonValue;
  readonly attempts: number;
  /** Why it failed or was killed. */
  readonly error?: string;
}

export interface ExecuteStepOptions {
  /** Resumes the step's run; its exit handling (mark runs KILLED on SIGINT) is the caller's choice. */
  readonly slipway: Slipway;
  readonly pipeline: Pipeline;
  readonly step: string;
  /** The step's run, created by the runner. */
  readonly runId: string;
  readonly pipelineRunId: string;
  readonly params: PipelineParams;
  readonly inputs: Readonly<Record<string, JsonValue>>;
  readonly trigger: PipelineTrigger;
  /** Cancellation of the pipeline run. */
  readonly signal?: AbortSignal;
  /** Log lines also go here (prefixed with the step's name). */
  readonly echo?: (line: string) => void;
  /** How often `step.log` is uploaded while it changes. Default 5000 ms. */
  readonly logFlushMs?: number;
  /** How long an aborted attempt gets to stop before it is abandoned. Default 1000 ms. */
  readonly graceMs?: number;
  /** A first line for the log (e.g. that a lost worker's step is being run again). */
  readonly note?: string;
}

type Attempt = { ok: true; value: unknown } | { ok: false; error: unknown };

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

function retryable(error: unknown): boolean {
  return !(error instanceof NonRetryableError || error instanceof PipelineCancelledError);
}

/** The wait before attempt `next` (2, 3, ...): backoffMs, doubled each time, capped at maxBackoffMs. */
export function backoffDelay(step: Pick<PipelineStep, "backoffMs" | "maxBackoffMs">, next: number): number {
  return Math.min(step.maxBackoffMs, step.backoffMs * 2 ** Math.max(0, next - 2));
}

async function runAttempt(
  step: PipelineStep,
  ctx: Omit<StepContext, "signal" | "attempt">,
  attempt: number,
  inputs: Readonly<Record<string, JsonValue>>,
  options: { signal: AbortSignal | undefined; graceMs: number },
): Promise<Attempt> {
  const controller = new AbortController();
  const cancel = () => {
    const reason: unknown = options.signal?.reason;
    controller.abort(
      reason instanceof PipelineCancelledError ? reason : new PipelineCancelledError("pipeline run cancelled"),
    );
  };
  if (options.signal?.aborted) cancel();
  options.signal?.addEventListener("abort", cancel, { once: true });
  const timer =
    step.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            controller.abort(
              new StepTimeoutError(`step '${step.name}' timed out after ${step.timeoutMs} ms (attempt ${attempt})`),
            ),
          step.timeoutMs,
        );
  let grace: NodeJS.Timeout | undefined;
  const work = Promise.resolve().then(() => step.run({ ...ctx, attempt, signal: controller.signal }, inputs));
  // an abandoned attempt may still fail later: that is not an unhandled rejection of ours
  work.catch(() => undefined);
  const abandoned = new Promise<never>((_, reject) => {
    const onAbort = () => {
      grace = setTimeout(() => reject(controller.signal.reason as Error), options.graceMs);
      work.then(
        () => reject(controller.signal.reason as Error),
        () => reject(controller.signal.reason as Error),
      );
    };
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener("abort", onAbort, { once: true });
  });
  abandoned.catch(() => undefined);
  let result: Attempt;
  try {
    result = { ok: true, value: await Promise.race([work, abandoned]) };
  } catch (error) {
    result = { ok: false, error };
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
    options.signal?.removeEventListener("abort", cancel);
  }
  // an attempt aborted (timeout, cancel) has failed, whatever it did afterwards
  if (controller.signal.aborted) return { ok: false, error: controller.signal.reason };
  if (result.ok) {
    const value = result.value === undefined ? null : result.value;
    const bad = findNonJson(value, "outputs");
    if (bad !== undefined) {
      return {
        ok: false,
        error: new NonRetryableError(`step '${step.name}' returned outputs that are not plain JSON: ${bad}`),
      };
    }
    return { ok: true, value };
  }
  return result;
}

function describeError(error: unknown): string {
  if (
    error instanceof Error &&
    error.stack &&
    !(error instanceof StepTimeoutError || error instanceof PipelineCancelledError)
  ) {
    return error.stack;
  }
  return errorText(error);
}

export async function executeStep(options: ExecuteStepOptions): Promise<StepExecution> {
  const step = options.pipeline.steps[options.step];
  if (!step) throw new Error(`pipeline '${options.pipeline.name}' has no step '${options.step}'`);
  const run: ActiveRun = await options.slipway.startRun({
    runId: options.runId,
    captureEnvironment: false,
    logGitDiff: false,
  });
  const echo = options.echo;
  const log = new StepLog(run, {
    ...(options.logFlushMs === undefined ? {} : { flushIntervalMs: options.logFlushMs }),
    ...(echo ? { echo: (line: string) => echo(`[${step.name}] ${line}`) } : {}),
  });
  let attemptNo = 0;
  const context: Omit<StepContext, "signal" | "attempt"> = {
    pipeline: options.pipeline.name,
    step: step.name,
    pipelineRunId: options.pipelineRunId,
    params: options.params,
    trigger: options.trigger,
    run,
    log: (...values: unknown[]) => log.write(`[attempt ${attemptNo}] `, values),
  };
  if (options.note) log.write("", [options.note]);
  let outcome: StepExecution | undefined;
  let lastError: unknown;
  let made = 0;
  const graceMs = options.graceMs ?? 1000;
  for (attemptNo = 1; attemptNo <= step.retries + 1; attemptNo++) {
    if (options.signal?.aborted) {
      lastError = new PipelineCancelledError("pipeline run cancelled");
      break;
    }
    made = attemptNo;
    log.write("", [`attempt ${attemptNo} of ${step.retries + 1} started`]);
    const started = performance.now();
    const result = await runAttempt(step, context, attemptNo, options.inputs, { signal: options.signal, graceMs });
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    if (result.ok) {
      log.write("", [`attempt ${attemptNo} finished in ${seconds} s`]);
      outcome = { status: "FINISHED", outputs: result.value as JsonValue, attempts: made };
      break;
    }
    lastError = result.error;
    log.write("", [`attempt ${attemptNo} failed after ${seconds} s: ${describeError(result.error)}`]);
    if (!retryable(result.error) || attemptNo > step.retries) break;
    const delay = backoffDelay(step, attemptNo + 1);
    log.write("", [`retrying in ${delay} ms`]);
    await sleep(delay, options.signal);
  }
  outcome ??= {
    status: lastError instanceof PipelineCancelledError ? "KILLED" : "FAILED",
    attempts: made,
    error: errorText(lastError),
  };
  await finish(run, log, outcome);
  return outcome;
}

async function finish(run: ActiveRun, log: StepLog, outcome: StepExecution): Promise<void> {
  try {
    await run.setTags({
      [PIPELINE_TAGS.attempts]: String(outcome.attempts),
      [PIPELINE_TAGS.worker]: `${hostname()}:${process.pid}`,
      ...(outcome.error === undefined ? {} : { [PIPELINE_TAGS.error]: tagValue(outcome.error) }),
    });
    if (outcome.status === "FINISHED") {
      await run.logText(`${JSON.stringify(outcome.outputs ?? null, null, 2)}\n`, OUTPUTS_ARTIFACT);
    }
    await log.close();
  } catch (error) {
    await run.end("FAILED").catch(() => undefined);
    throw error;
  }
  await run.end(outcome.status);
}
