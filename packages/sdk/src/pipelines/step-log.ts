/**
 * A step's log: the lines of `ctx.log` and of the runner (attempts, retries, errors), kept in memory and
 * written to the step run as `step.log`: every few seconds while they change (so `slipway pipeline logs`
 * shows a running step) and once more at the end.
 */
import { formatWithOptions } from "node:util";
import type { ActiveRun } from "../run.js";
import { errorText } from "./errors.js";
import { STEP_LOG_ARTIFACT } from "./tags.js";

export interface StepLogOptions {
  /** How often changed lines are uploaded. Default 5000 ms; 0 = only at the end. */
  readonly flushIntervalMs?: number;
  /** Each line also goes here (without the timestamp), e.g. to a terminal or a worker's output. */
  readonly echo?: (line: string) => void;
}

export class StepLog {
  private readonly lines: string[] = [];
  private dirty = false;
  private uploading: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly run: ActiveRun,
    private readonly options: StepLogOptions = {},
  ) {
    const every = options.flushIntervalMs ?? 5000;
    if (every > 0) {
      this.timer = setInterval(() => {
        if (this.dirty)
          void this.upload().catch((error: unknown) => this.echo(`(step.log upload failed: ${errorText(error)})`));
      }, every);
      this.timer.unref();
    }
  }

  /** Formats `values` like `console.log` and adds them as one line (several, if the text has newlines). */
  write(prefix: string, values: readonly unknown[]): void {
    const text = formatWithOptions({ colors: false, depth: 4 }, ...values);
    const stamp = new Date().toISOString();
    for (const line of text.split("\n")) {
      this.lines.push(`${stamp} ${prefix}${line}`);
      this.echo(`${prefix}${line}`);
    }
    this.dirty = true;
  }

  get text(): string {
    return this.lines.length === 0 ? "" : `${this.lines.join("\n")}\n`;
  }

  private echo(line: string): void {
    try {
      this.options.echo?.(line);
    } catch {
      // an echo target that fails must not fail the step
    }
  }

  private upload(): Promise<void> {
    this.dirty = false;
    const text = this.text;
    this.uploading = this.uploading
      .catch(() => undefined)
      .then(() => this.run.client.artifacts.logText(this.run.artifactUri, text, STEP_LOG_ARTIFACT));
    return this.uploading;
  }

  /** Stops the periodic uploads and writes the whole log once more; throws if that fails. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.uploading.catch(() => undefined);
    await this.upload();
  }
}
