/**
 * Monitoring's Prometheus metrics on the control plane's `/metrics`. The gauges are read from the database when
 * scraped (each monitor's newest window with status ok or empty), so every replica reports the same values, whichever
 * replica evaluated the window; one read serves a whole scrape. `slipway_monitor_evaluations_total` counts the
 * evaluations this process ran.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { WindowSummary } from "@slipway/protocol";
import type { GaugeRow } from "./monitor-store.js";

export interface MonitorMetrics {
  evaluations: Counter<"monitor" | "status">;
}

const MODEL_LABELS = ["monitor", "model", "version"] as const;
type ModelLabel = (typeof MODEL_LABELS)[number];

/** How long one database read serves scrapes, ms. */
const SNAPSHOT_TTL_MS = 500;

export function registerMonitorMetrics(registry: Registry, read: () => Promise<GaugeRow[]>): MonitorMetrics {
  let snapshot: { at: number; rows: Promise<GaugeRow[]> } | undefined;
  const rows = (): Promise<GaugeRow[]> => {
    const now = Date.now();
    if (snapshot === undefined || now - snapshot.at > SNAPSHOT_TTL_MS) {
      snapshot = { at: now, rows: read().catch(() => []) };
    }
    return snapshot.rows;
  };
  const summaryOf = (row: GaugeRow): WindowSummary | undefined => {
    try {
      return row.summary === null ? undefined : (JSON.parse(row.summary) as WindowSummary);
    } catch {
      return undefined;
    }
  };
  const labels = (row: GaugeRow, summary: WindowSummary | undefined): Record<ModelLabel, string> => ({
    monitor: row.name,
    model: row.model_name,
    version: summary?.reference_version ?? "",
  });

  /** A gauge whose values are set from the snapshot at each scrape. */
  function gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (
      set: (labels: Record<L, string>, value: number) => void,
      row: GaugeRow,
      summary: WindowSummary | undefined,
    ) => void,
  ): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const current = await rows();
        this.reset();
        for (const row of current) {
          fill(
            (l, v) => {
              if (Number.isFinite(v)) this.set(l, v);
            },
            row,
            summaryOf(row),
          );
        }
      },
    });
  }

  gauge(
    "slipway_feature_drift_score",
    "The deciding drift score of each input feature in a monitor's newest window (p-value or distance; see the test).",
    [...MODEL_LABELS, "feature"],
    (set, row, s) => {
      for (const c of s?.feature_drift?.columns ?? [])
        if (c.score !== null) set({ ...labels(row, s), feature: c.column }, c.score);
    },
  );
  gauge(
    "slipway_feature_drift",
    "1 when the input feature drifted in a monitor's newest window, else 0.",
    [...MODEL_LABELS, "feature"],
    (set, row, s) => {
      for (const c of s?.feature_drift?.columns ?? [])
        if (c.drift !== null) set({ ...labels(row, s), feature: c.column }, c.drift ? 1 : 0);
    },
  );
  gauge(
    "slipway_prediction_drift_score",
    "The deciding drift score of each prediction column (prediction, prediction.<key>) in a monitor's newest window.",
    [...MODEL_LABELS, "column"],
    (set, row, s) => {
      for (const c of s?.prediction_drift?.columns ?? [])
        if (c.score !== null) set({ ...labels(row, s), column: c.column }, c.score);
    },
  );
  gauge(
    "slipway_prediction_drift",
    "1 when the prediction column drifted in a monitor's newest window, else 0.",
    [...MODEL_LABELS, "column"],
    (set, row, s) => {
      for (const c of s?.prediction_drift?.columns ?? [])
        if (c.drift !== null) set({ ...labels(row, s), column: c.column }, c.drift ? 1 : 0);
    },
  );
  gauge(
    "slipway_dataset_drift",
    "1 when the input features drifted as a dataset, else 0.",
    MODEL_LABELS,
    (set, row, s) => {
      if (s?.feature_drift !== undefined) set(labels(row, s), s.feature_drift.dataset_drift ? 1 : 0);
    },
  );
  gauge("slipway_drift_share", "Share of tested input features that drifted.", MODEL_LABELS, (set, row, s) => {
    if (s?.feature_drift !== undefined) set(labels(row, s), s.feature_drift.share);
  });
  gauge(
    "slipway_model_metric",
    "A model metric in a monitor's newest window: accuracy, f1, roc_auc (labelled rows), latency_p50_ms, latency_p99_ms, error_rate (share of requests answered 5xx), client_error_rate (4xx).",
    [...MODEL_LABELS, "metric"],
    (set, row, s) => {
      let metrics: Record<string, number> = {};
      try {
        metrics = JSON.parse(row.metrics) as Record<string, number>;
      } catch {
        // a corrupt column sets nothing
      }
      for (const [metric, value] of Object.entries(metrics)) set({ ...labels(row, s), metric }, value);
    },
  );
  gauge(
    "slipway_model_metric_baseline",
    "The baseline a model metric is compared with (metrics.baseline, or the model version's run metrics).",
    [...MODEL_LABELS, "metric"],
    (set, row, s) => {
      for (const [metric, m] of Object.entries(s?.performance?.metrics ?? {})) {
        if (m.baseline !== null) set({ ...labels(row, s), metric }, m.baseline);
      }
    },
  );
  gauge(
    "slipway_monitor_window_rows",
    "Inference-log rows in a monitor's newest window.",
    MODEL_LABELS,
    (set, row, s) => set(labels(row, s), row.row_count),
  );
  gauge(
    "slipway_monitor_window_labelled_rows",
    "Rows of a monitor's newest window whose label has arrived.",
    MODEL_LABELS,
    (set, row, s) => set(labels(row, s), row.labelled),
  );
  gauge(
    "slipway_monitor_last_window_end_seconds",
    "End of a monitor's newest evaluated window, unix seconds (alert when it falls behind the schedule).",
    ["monitor"],
    (set, row) => set({ monitor: row.name }, row.window_end / 1000),
  );
  return {
    evaluations: new Counter({
      name: "slipway_monitor_evaluations_total",
      help: "Window evaluations run by this process, by monitor and result status (ok, empty, error).",
      labelNames: ["monitor", "status"],
      registers: [registry],
    }),
  };
}
