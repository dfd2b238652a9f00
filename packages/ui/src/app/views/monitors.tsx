/** Monitors: each with its model, schedule and latest window (drift share, metrics) and a link to its report. */
import { getWindow, listMonitors, reportUrl, ApiError, type Monitor, type MonitorWindow } from "../api.js";
import { DataTable } from "../components/data-table.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { formatDuration, formatNumber, formatTime } from "../format.js";
import { useLoad, useTitle } from "../hooks.js";
import { Link, navigate } from "../router.js";

export interface MonitorRow {
  monitor: Monitor;
  latest: MonitorWindow | undefined;
  error: Error | undefined;
}

export function modelLabel(m: Monitor): string {
  return m.model_alias ? `${m.model_name}@${m.model_alias}` : `${m.model_name} v${m.model_version ?? "?"}`;
}

export function MonitorsView() {
  useTitle("Monitors");
  const list = useLoad(async (signal) => {
    const monitors = (await listMonitors(signal)).monitors ?? [];
    return Promise.all(
      monitors.map(async (monitor): Promise<MonitorRow> => {
        try {
          return { monitor, latest: (await getWindow(monitor.name, "latest", signal)).window, error: undefined };
        } catch (error) {
          if (error instanceof ApiError && error.status === 404)
            return { monitor, latest: undefined, error: undefined };
          return { monitor, latest: undefined, error: error instanceof Error ? error : new Error(String(error)) };
        }
      }),
    );
  }, []);
  const rows = list.data ?? [];
  return (
    <div className="page page-wide">
      <h1>Monitors</h1>
      <ErrorBox error={list.error} retry={list.reload} />
      {!list.data && !list.error ? (
        <Loading what="monitors" />
      ) : rows.length === 0 && !list.error ? (
        <div className="empty-state">
          <p>No monitors yet. A monitor compares a served model&apos;s recent traffic with its training data:</p>
          <pre className="code">
            <code>{`slipway monitor create --name spam-drift --model models:/spam@champion --window 1h --schedule "*/5 * * * *" \\\n  --alert drift_share>0.3`}</code>
          </pre>
        </div>
      ) : (
        <DataTable
          label="Monitors"
          testId="monitors-table"
          rows={rows}
          rowKey={(r) => r.monitor.name}
          onOpen={(r) => navigate(`/monitors/${encodeURIComponent(r.monitor.name)}`)}
          columns={[
            {
              header: "Monitor",
              render: (r) => (
                <span>
                  <Link to={`/monitors/${encodeURIComponent(r.monitor.name)}`}>{r.monitor.name}</Link>
                  {!r.monitor.enabled && <span className="badge">disabled</span>}
                </span>
              ),
            },
            {
              header: "Model",
              render: (r) => (
                <Link to={`/models/${encodeURIComponent(r.monitor.model_name)}`}>{modelLabel(r.monitor)}</Link>
              ),
            },
            {
              header: "Window",
              className: "nowrap",
              render: (r) => `${formatDuration(r.monitor.window_ms)} · ${r.monitor.schedule}`,
            },
            { header: "Latest window", className: "nowrap", render: (r) => <LatestCell row={r} /> },
            { header: "Rows", className: "num", render: (r) => (r.latest ? r.latest.rows.toLocaleString() : "") },
            { header: "Drift share", className: "num", render: (r) => <DriftCell window={r.latest} /> },
            { header: "Metrics", render: (r) => <MetricsCell window={r.latest} /> },
            {
              header: "Report",
              render: (r) =>
                r.latest ? (
                  <a href={reportUrl(r.monitor.name, r.latest.window_id)} target="_blank" rel="noreferrer">
                    HTML report
                  </a>
                ) : (
                  ""
                ),
            },
          ]}
        />
      )}
    </div>
  );
}

function LatestCell(props: { row: MonitorRow }) {
  const { latest, error } = props.row;
  if (error) return <span className="error-text">{error.message}</span>;
  if (!latest) return <span className="muted">not evaluated yet</span>;
  return (
    <span>
      <span className={`status-pill window-${latest.status}`}>{latest.status}</span> {formatTime(latest.end_ms)}
    </span>
  );
}

export function DriftCell(props: { window: { share?: number; dataset_drift?: boolean } | undefined }) {
  const w = props.window;
  if (!w || w.share === undefined) return <span className="muted">—</span>;
  return (
    <span className={w.dataset_drift ? "drift" : undefined}>
      {(w.share * 100).toFixed(0)}%{w.dataset_drift ? " drift" : ""}
    </span>
  );
}

const METRIC_LABELS: [string, string][] = [
  ["accuracy", "acc"],
  ["f1", "F1"],
  ["roc_auc", "AUC"],
  ["latency_p99_ms", "p99 ms"],
  ["error_rate", "errors"],
];

export function MetricsCell(props: { window: { metrics: Record<string, number> } | undefined }) {
  const metrics = props.window?.metrics ?? {};
  const parts = METRIC_LABELS.filter(([k]) => metrics[k] !== undefined).map(
    ([k, label]) => `${label} ${k === "error_rate" ? `${formatNumber(metrics[k]! * 100)}%` : formatNumber(metrics[k])}`,
  );
  return parts.length ? <span className="nowrap">{parts.join(" · ")}</span> : <span className="muted">—</span>;
}
