/**
 * Counters and histograms for the request path, registered in a prom-client registry like any other
 * metric, but written through a `series(labels)` handle that callers keep: an increment is one addition
 * and an observation one bucket scan, with no label hashing (prom-client hashes the label set on every
 * `inc` / `observe`, children included, which costs ~5% of a fast model's request). They are rendered
 * from their own state when the registry is scraped.
 */
import { Counter, Histogram } from "prom-client";

type Labels<L extends string> = Readonly<Record<L, string>>;

export interface CounterSeries {
  inc(by?: number): void;
}

export interface HistogramSeries {
  observe(value: number): void;
}

interface MetricConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
}

// prom-client's typings declare a metric's `type` as a numeric enum, but its registry reads the strings
// it writes at runtime ('counter', 'histogram'); these are the objects its registry renders
type CounterData<L extends string> = Awaited<ReturnType<Counter<L>["get"]>>;
type HistogramData<L extends string> = Awaited<ReturnType<Histogram<L | "le">["get"]>>;

export class SeriesCounter<L extends string> extends Counter<L> {
  private readonly entries: { labels: Labels<L>; value: number }[] = [];

  constructor(private readonly config: MetricConfig<L>) {
    super({ name: config.name, help: config.help, labelNames: config.labelNames, registers: [] });
  }

  /** A handle for one label set; keep it, and call `inc` on it. */
  series(labels: Labels<L>): CounterSeries {
    const entry = { labels, value: 0 };
    this.entries.push(entry);
    return {
      inc: (by = 1) => {
        entry.value += by;
      },
    };
  }

  override get(): Promise<CounterData<L>> {
    const data = {
      name: this.config.name,
      help: this.config.help,
      type: "counter",
      aggregator: "sum",
      values: this.entries.map((e) => ({ labels: { ...e.labels }, value: e.value })),
    };
    return Promise.resolve(data as unknown as CounterData<L>);
  }
}

interface HistogramEntry<L extends string> {
  labels: Labels<L>;
  /** Per bucket (not cumulative); the last one is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class SeriesHistogram<L extends string> extends Histogram<L | "le"> {
  private readonly entries: HistogramEntry<L>[] = [];
  private readonly bounds: readonly number[];

  constructor(private readonly config: MetricConfig<L> & { buckets: readonly number[] }) {
    super({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      buckets: [...config.buckets],
      registers: [],
    });
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  /** A handle for one label set; keep it, and call `observe` on it. */
  series(labels: Labels<L>): HistogramSeries {
    const entry: HistogramEntry<L> = { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
    this.entries.push(entry);
    const bounds = this.bounds;
    return {
      observe: (value) => {
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        entry.counts[i]!++;
        entry.sum += value;
        entry.count++;
      },
    };
  }

  override get(): Promise<HistogramData<L>> {
    const name = this.config.name;
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const e of this.entries) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += e.counts[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : "+Inf";
        values.push({ labels: { ...e.labels, le }, value: cumulative, metricName: `${name}_bucket` });
      }
      values.push({ labels: { ...e.labels }, value: e.sum, metricName: `${name}_sum` });
      values.push({ labels: { ...e.labels }, value: e.count, metricName: `${name}_count` });
    }
    const data = { name, help: this.config.help, type: "histogram", aggregator: "sum", values };
    return Promise.resolve(data as unknown as HistogramData<L>);
  }

  /** What prom-client's registry renders the text format from (its own histogram's is not this one's). */
  getForPromString(): Promise<HistogramData<L>> {
    return this.get();
  }
}
