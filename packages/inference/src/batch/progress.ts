/**
 * Progress of a batch job on stderr: on a terminal, one line redrawn in place —
 * `[██████░░░░░░]  52%  104,000 rows  41,230 rows/s  ETA 0:03`; elsewhere (a log file, CI) a plain line
 * every `intervalMs`, so logs stay readable. The fraction done comes from the bytes read (CSV, JSON Lines)
 * or the rows (Parquet), whichever the caller knows the total of.
 */

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  readonly stream: ProgressStream;
  /** What is being done (`batch-predict`). */
  readonly label: string;
  /** Total work units (bytes or rows) when known. */
  readonly total?: number;
  /** Plain-line period when not on a terminal. Default 10 s. */
  readonly intervalMs?: number;
  /** Redraw period on a terminal. Default 100 ms. */
  readonly redrawMs?: number;
  readonly now?: () => number;
}

const BAR = 24;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export class Progress {
  private rows = 0;
  private done = 0;
  private readonly started: number;
  private timer: NodeJS.Timeout | undefined;
  private lastLength = 0;
  private finished = false;

  constructor(private readonly options: ProgressOptions) {
    this.started = this.now();
  }

  private now(): number {
    return (this.options.now ?? performance.now.bind(performance))();
  }

  private get tty(): boolean {
    return this.options.stream.isTTY === true;
  }

  start(): this {
    const period = this.tty ? (this.options.redrawMs ?? 100) : (this.options.intervalMs ?? 10_000);
    this.timer = setInterval(() => this.draw(), period);
    this.timer.unref();
    return this;
  }

  /** Adds rows written and work units (bytes or rows, as `total` counts) done. */
  advance(rows: number, units: number): void {
    this.rows += rows;
    this.done += units;
  }

  /** The line as it stands (without terminal control characters). */
  line(): string {
    const seconds = (this.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.rows / seconds : 0;
    const total = this.options.total;
    const fraction = total !== undefined && total > 0 ? Math.min(1, this.done / total) : undefined;
    const parts = [`${number.format(this.rows)} rows`, `${number.format(rate)} rows/s`];
    if (fraction !== undefined) {
      const eta = fraction > 0 ? (seconds * (1 - fraction)) / fraction : Number.NaN;
      parts.unshift(`${String(Math.floor(fraction * 100)).padStart(3)}%`);
      parts.push(`ETA ${formatDuration(eta)}`);
      if (this.tty) {
        const filled = Math.round(fraction * BAR);
        parts.unshift(`[${"█".repeat(filled)}${"░".repeat(BAR - filled)}]`);
      }
    } else {
      parts.push(`elapsed ${formatDuration(seconds)}`);
    }
    return `${this.options.label}: ${parts.join("  ")}`;
  }

  private draw(): void {
    if (this.finished) return;
    const text = this.line();
    if (this.tty) {
      const pad = Math.max(0, this.lastLength - text.length);
      this.options.stream.write(`\r${text}${" ".repeat(pad)}`);
      this.lastLength = text.length;
    } else {
      this.options.stream.write(`${text}\n`);
    }
  }

  /** Stops redrawing; writes the final line (the bar at its end on a terminal). */
  finish(summary?: string): void {
    if (this.finished) return;
    clearInterval(this.timer);
    if (summary === undefined) this.draw();
    this.finished = true;
    if (this.tty) this.options.stream.write(summary === undefined ? "\n" : `\r${summary.padEnd(this.lastLength)}\n`);
    else if (summary !== undefined) this.options.stream.write(`${summary}\n`);
  }
}
