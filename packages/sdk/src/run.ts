/**
 * `ActiveRun`: one run being logged to. Params and tags go out at once; metrics are buffered and
 * sent as log-batch (see `metric-buffer.ts`); artifacts go to the run's artifact URI.
 */
import { stat } from "node:fs/promises";
import {
  MlflowError,
  type Dataset,
  type FileInfo,
  type Metric,
  type Param,
  type RunInfo,
  type RunStatus,
  type RunTag,
} from "@slipway/protocol";
import { compactBatch, splitIntoBatches } from "./batching.js";
import type { TrackingClient } from "./client.js";
import type { RunEnvironment } from "./environment.js";
import { MetricBuffer, type MetricBufferPolicy } from "./metric-buffer.js";
import { toYaml } from "./yaml.js";

export type ParamValue = string | number | boolean | bigint;

export interface LogMetricOptions {
  /** Default 0, as in MLflow. */
  step?: number;
  /** Epoch milliseconds. Default: now. */
  timestamp?: number;
}

export interface ActiveRunOptions {
  client: TrackingClient;
  info: RunInfo;
  environment?: RunEnvironment;
  buffer?: Partial<MetricBufferPolicy>;
  /** Called once when the run has ended (successfully or not). */
  onEnd?: (run: ActiveRun) => void;
}

const MAX_KEY = 250;

/**
 * MLflow's key rule (`mlflow/utils/validation.py`): alphanumerics, `_ - . space / :`, at most 250
 * characters, and "path-unique" (no empty, `.` or `..` segments, no leading or trailing `/`).
 * Checked before buffering, so one bad metric cannot sink a whole batch later.
 */
export function checkKey(kind: "metric" | "param" | "tag", key: unknown): asserts key is string {
  const bad = (why: string) =>
    new MlflowError("INVALID_PARAMETER_VALUE", `Invalid ${kind} name: '${String(key)}'. ${why}`);
  if (typeof key !== "string" || key === "") throw bad("A non-empty string is required.");
  if (key.length > MAX_KEY) throw bad(`Names may be at most ${MAX_KEY} characters.`);
  if (!/^[/\p{L}\p{N}\p{M}_.\- :]*$/u.test(key)) {
    throw bad(
      "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/).",
    );
  }
  if (key.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw bad("Names must be normalized paths (no leading, trailing or double slashes, no '.' or '..' segments).");
  }
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new MlflowError(
      "INVALID_PARAMETER_VALUE",
      `Invalid value ${String(value)} for ${name}: an integer is required`,
    );
  }
}

export class ActiveRun {
  readonly client: TrackingClient;
  readonly id: string;
  readonly experimentId: string;
  readonly artifactUri: string;
  /** What `captureEnvironment` recorded at start (absent when capture was off or the run was resumed). */
  readonly environment: RunEnvironment | undefined;
  private currentInfo: RunInfo;
  private readonly buffer: MetricBuffer;
  private readonly onEnd: ((run: ActiveRun) => void) | undefined;
  private ending: Promise<void> | undefined;

  constructor(options: ActiveRunOptions) {
    this.client = options.client;
    this.currentInfo = options.info;
    this.id = options.info.run_id;
    this.experimentId = options.info.experiment_id;
    this.artifactUri = options.info.artifact_uri;
    this.environment = options.environment;
    this.onEnd = options.onEnd;
    this.buffer = new MetricBuffer(async (metrics) => {
      await this.client.logBatch({ run_id: this.id, metrics });
    }, options.buffer);
  }

  /** The run's info as last seen (updated by `end()`). */
  get info(): RunInfo {
    return this.currentInfo;
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** Metrics buffered or in flight. */
  get pendingMetrics(): number {
    return this.buffer.pending;
  }

  private checkOpen(): void {
    if (this.ending) throw new Error(`Run ${this.id} has ended; start a new run to log more`);
    this.buffer.throwIfFailed();
  }

  async logParam(key: string, value: ParamValue): Promise<void> {
    this.checkOpen();
    checkKey("param", key);
    await this.client.logParam({ run_id: this.id, key, value: String(value) });
  }

  /** Logs params as log-batch requests of at most 100 params each. */
  async logParams(params: Record<string, ParamValue>): Promise<void> {
    this.checkOpen();
    const list: Param[] = Object.entries(params).map(([key, value]) => {
      checkKey("param", key);
      return { key, value: String(value) };
    });
    await this.sendBatches({ params: list });
  }

  async setTag(key: string, value: string): Promise<void> {
    this.checkOpen();
    checkKey("tag", key);
    await this.client.setTag({ run_id: this.id, key, value: String(value) });
  }

  /** Sets tags as log-batch requests of at most 100 tags each. */
  async setTags(tags: Record<string, string>): Promise<void> {
    this.checkOpen();
    const list: RunTag[] = Object.entries(tags).map(([key, value]) => {
      checkKey("tag", key);
      return { key, value: String(value) };
    });
    await this.sendBatches({ tags: list });
  }

  private async sendBatches(entities: { params?: Param[]; tags?: RunTag[] }): Promise<void> {
    for (const batch of splitIntoBatches(entities)) {
      await this.client.logBatch({ run_id: this.id, ...compactBatch(batch) });
    }
  }

  /**
   * Buffers a metric (sent with the next log-batch). Resolves at once, or after the flush this
   * metric triggered; rejects with a `MetricFlushError` if an earlier flush failed.
   */
  async logMetric(key: string, value: number, options: LogMetricOptions = {}): Promise<void> {
    this.checkOpen();
    await this.buffer.add(this.metric(key, value, options, Date.now()));
  }

  /** Buffers several metrics with one step and timestamp, in the object's key order. */
  async logMetrics(metrics: Record<string, number>, options: LogMetricOptions = {}): Promise<void> {
    this.checkOpen();
    const now = Date.now();
    const list = Object.entries(metrics).map(([key, value]) => this.metric(key, value, options, now));
    await this.buffer.add(...list);
  }

  private metric(key: string, value: number, options: LogMetricOptions, now: number): Metric {
    checkKey("metric", key);
    if (typeof value !== "number") {
      throw new MlflowError(
        "INVALID_PARAMETER_VALUE",
        `Got invalid value ${String(value)} for metric '${key}': a number is required`,
      );
    }
    const step = options.step ?? 0;
    const timestamp = options.timestamp ?? now;
    checkInteger("step", step, Number.MIN_SAFE_INTEGER);
    checkInteger("timestamp", timestamp, 0);
    return { key, value, timestamp, step };
  }

  /** Uploads a file (as `<artifactPath>/<name>`) or the contents of a directory (under `artifactPath`). */
  async logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    this.checkOpen();
    if ((await stat(localPath)).isDirectory()) {
      await this.client.artifacts.logArtifacts(this.artifactUri, localPath, artifactPath);
    } else {
      await this.client.artifacts.logArtifact(this.artifactUri, localPath, artifactPath);
    }
  }

  async logArtifacts(localDir: string, artifactPath?: string): Promise<void> {
    this.checkOpen();
    await this.client.artifacts.logArtifacts(this.artifactUri, localDir, artifactPath);
  }

  /**
   * Records a dataset the run used (MLflow's log-inputs): its name, a digest of its content (what
   * `slipway runs reproduce` compares), where it came from, and an optional schema and profile (JSON text).
   * `context` is MLflow's `mlflow.data.context` input tag (`training`, `test`, `validation`...).
   */
  async logInput(dataset: Dataset, context?: string): Promise<void> {
    this.checkOpen();
    await this.client.logInputs({
      run_id: this.id,
      datasets: [
        { dataset, ...(context === undefined ? {} : { tags: [{ key: "mlflow.data.context", value: context }] }) },
      ],
    });
  }

  /** Writes text as the artifact file `artifactPath`. */
  async logText(text: string, artifactPath: string): Promise<void> {
    this.checkOpen();
    await this.client.artifacts.logText(this.artifactUri, text, artifactPath);
  }

  /** Writes plain data as JSON, or as YAML when `artifactPath` ends in `.yaml`/`.yml`. */
  async logDict(data: unknown, artifactPath: string): Promise<void> {
    this.checkOpen();
    const text = /\.ya?ml$/i.test(artifactPath) ? toYaml(data) : `${JSON.stringify(data, null, 2)}\n`;
    await this.client.artifacts.logText(this.artifactUri, text, artifactPath);
  }

  listArtifacts(path?: string): Promise<FileInfo[]> {
    return this.client.artifacts.listArtifacts(this.artifactUri, path);
  }

  /** Sends every buffered metric now; throws if any flush failed. */
  async flush(): Promise<void> {
    if (this.ending) {
      await this.ending;
      return;
    }
    await this.buffer.flush();
  }

  /**
   * Flushes the buffered metrics and sets the run's status and end time. Idempotent: later calls
   * return the first call's outcome. A flush failure is thrown after the status is set.
   */
  end(status: RunStatus = "FINISHED"): Promise<void> {
    this.ending ??= this.finish(status);
    return this.ending;
  }

  private async finish(status: RunStatus): Promise<void> {
    let flushError: unknown;
    try {
      await this.buffer.flush();
    } catch (error) {
      flushError = error;
    }
    this.buffer.stopTimer();
    try {
      const { run_info } = await this.client.updateRun({
        run_id: this.id,
        status,
        end_time: Date.now(),
      });
      if (run_info) this.currentInfo = run_info;
    } catch (updateError) {
      if (flushError !== undefined) {
        throw new AggregateError(
          [flushError, updateError],
          `Run ${this.id}: metrics were lost and the status was not set`,
        );
      }
      throw updateError;
    } finally {
      this.onEnd?.(this);
    }
    if (flushError !== undefined) throw flushError as Error;
  }
}
