/**
 * Shadow traffic: after the primary answered a request, a copy of its input goes to the shadow version, off the
 * request path — `offer` only copies the primary's answer (the rows it will be compared with) and appends to a
 * bounded queue; a full queue drops the copy and counts it. A small pool of workers sends the copies to the shadow
 * model (its own batcher and admission queue), compares its answer with the primary's row by row and counts the
 * result. The shadow's answers and failures never reach the client: the response was sent already, or is being
 * sent, whatever the shadow does.
 *
 * Comparison: classifiers (both with a label output) agree on a row when their labels are equal; other models when
 * every output they share has the same row values (numbers within a relative 1e-6).
 */
import type { PredictionBatch } from "../predictors/predictor.js";
import { rowToJson } from "../predictors/tensors.js";
import type { RawInput } from "../input/raw-input.js";
import type { ServedModel } from "../serving/served-model.js";

export interface ShadowOutcome {
  revision: number;
  ok: boolean;
  ms: number;
  rows: number;
  agreed: number;
  error?: string;
}

export interface ShadowRunnerOptions {
  model: ServedModel;
  /** Copies that may wait; past it they are dropped (and counted by `onDrop`). */
  maxQueue: number;
  /** Copies sent to the shadow at once (default 2). */
  concurrency?: number;
  onOutcome: (outcome: ShadowOutcome) => void;
  onDrop: (revision: number) => void;
}

interface Copy {
  revision: number;
  raw: RawInput;
  params: unknown;
  /** The primary's answer, row by row, in comparable form. */
  expected: unknown[];
}

/** The rows of a prediction in comparable form: the label per row, or output → row value. */
function comparable(prediction: PredictionBatch, labelOutput: string | undefined): unknown[] {
  const rows = new Array<unknown>(prediction.rows);
  const label = labelOutput === undefined ? undefined : prediction.outputs.get(labelOutput);
  for (let i = 0; i < prediction.rows; i++) {
    if (label) {
      rows[i] = rowToJson(label, i);
      continue;
    }
    const record: Record<string, unknown> = {};
    for (const [name, tensor] of prediction.outputs) record[name] = rowToJson(tensor, i);
    rows[i] = record;
  }
  return rows;
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") {
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
    return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => same(v, b[i]));
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a);
    const bo = b as Record<string, unknown>;
    return ka.every((k) => !(k in bo) || same((a as Record<string, unknown>)[k], bo[k]));
  }
  return a === b || (typeof a === "bigint" && typeof b === "bigint" && a === b);
}

export class ShadowRunner {
  readonly model: ServedModel;
  private readonly queue: Copy[] = [];
  private head = 0;
  private active = 0;
  private closed = false;
  private readonly idle: (() => void)[] = [];
  private readonly concurrency: number;
  /** Compare labels when both models are classifiers, else the outputs they share. */
  private readonly labels: boolean;

  constructor(private readonly options: ShadowRunnerOptions) {
    this.model = options.model;
    this.concurrency = options.concurrency ?? 2;
    this.labels = options.model.predictor.labelOutput !== undefined;
  }

  get depth(): number {
    return this.queue.length - this.head;
  }

  /** Queues a copy of a request the primary answered (synchronous; never throws). */
  offer(revision: number, raw: RawInput, params: unknown, primary: ServedModel, prediction: PredictionBatch): void {
    if (this.closed) return;
    if (this.depth >= this.options.maxQueue) {
      this.options.onDrop(revision);
      return;
    }
    let expected: unknown[];
    try {
      expected = comparable(prediction, this.labels ? primary.predictor.labelOutput : undefined);
    } catch {
      return;
    }
    this.queue.push({ revision, raw, params, expected });
    this.pump();
  }

  private pump(): void {
    while (this.active < this.concurrency && this.depth > 0) {
      const copy = this.queue[this.head]!;
      this.queue[this.head] = undefined as unknown as Copy;
      this.head += 1;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.active += 1;
      void this.run(copy).finally(() => {
        this.active -= 1;
        if (this.depth > 0) this.pump();
        else if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async run(copy: Copy): Promise<void> {
    // let the primary's response go out first
    await new Promise<void>((resolve) => setImmediate(resolve));
    const started = performance.now();
    try {
      const prediction = await this.model.predict(copy.raw, copy.params);
      const ms = performance.now() - started;
      const got = comparable(prediction, this.labels ? this.model.predictor.labelOutput : undefined);
      let agreed = 0;
      const rows = Math.min(got.length, copy.expected.length);
      for (let i = 0; i < rows; i++) if (same(copy.expected[i], got[i])) agreed += 1;
      this.options.onOutcome({ revision: copy.revision, ok: true, ms, rows: copy.expected.length, agreed });
    } catch (error) {
      this.options.onOutcome({
        revision: copy.revision,
        ok: false,
        ms: performance.now() - started,
        rows: 0,
        agreed: 0,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Stops taking copies, lets the queued and running ones finish, then closes the shadow model. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.active > 0 || this.depth > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.model.close();
  }
}
