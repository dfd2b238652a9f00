/**
 * One monitor: its definition, drift share and metrics over its windows, each feature's drift score over the windows
 * (and a histogram for a chosen window), each window's report, its alerts.
 */
import { useMemo } from "react";
import { getMonitor, listAlerts, listWindows, reportUrl } from "../api.js";
import { Chart, type ChartSeries } from "../components/chart.js";
import { DataTable } from "../components/data-table.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { formatDuration, formatNumber, formatTime } from "../format.js";
import { useLoad, useTitle } from "../hooks.js";
import { Link } from "../router.js";
import { FeatureDrift } from "./monitor-features.js";
import { DriftCell, MetricsCell, modelLabel } from "./monitors.js";

export function MonitorView(props: { name: string }) {
  useTitle(props.name);
  const monitor = useLoad((signal) => getMonitor(props.name, signal), [props.name]);
  const windows = useLoad((signal) => listWindows(props.name, 200, signal), [props.name]);
  const alerts = useLoad((signal) => listAlerts(props.name, signal), [props.name]);
  const m = monitor.data?.monitor;
  const list = windows.data?.windows ?? [];
  const series = useMemo<ChartSeries[]>(() => {
    const done = list.filter((w) => w.status === "ok" || w.status === "empty").reverse();
    const x = done.map((w) => w.end_ms);
    const out: ChartSeries[] = [{ label: "drift share", x, y: done.map((w) => w.share ?? NaN) }];
    if (done.some((w) => w.metrics.accuracy !== undefined))
      out.push({ label: "accuracy", x, y: done.map((w) => w.metrics.accuracy ?? NaN) });
    return out;
  }, [list]);

  return (
    <div className="page page-wide">
      <div className="crumbs">
        <Link to="/monitors">Monitors</Link> /
      </div>
      <h1>{props.name}</h1>
      <ErrorBox error={monitor.error} retry={monitor.reload} />
      {m && (
        <dl className="facts inline">
          <div>
            <dt>Model</dt>
            <dd>
              <Link to={`/models/${encodeURIComponent(m.model_name)}`}>{modelLabel(m)}</Link>
            </dd>
          </div>
          <div>
            <dt>Window</dt>
            <dd>{formatDuration(m.window_ms)}</dd>
          </div>
          <div>
            <dt>Schedule</dt>
            <dd>
              <code>{m.schedule}</code> {m.enabled ? "" : "(disabled)"}
            </dd>
          </div>
          <div>
            <dt>Next run</dt>
            <dd>{m.next_run_ms ? formatTime(m.next_run_ms) : "—"}</dd>
          </div>
          <div>
            <dt>Alert rules</dt>
            <dd>{m.alerts.length ? m.alerts.map((a) => a.name).join(", ") : "none"}</dd>
          </div>
        </dl>
      )}
      <h2>Over time</h2>
      <ErrorBox error={windows.error} retry={windows.reload} />
      {!windows.data && !windows.error && <Loading what="windows" />}
      {windows.data && series[0]!.x.length > 1 && (
        <div className="chart-card">
          <Chart series={series} xKind="time" height={240} title="Drift share and accuracy per window" />
        </div>
      )}
      {windows.data && list.length === 0 && (
        <p className="muted">
          No window has been evaluated yet. The schedule evaluates the next one, or run one now with{" "}
          <code>slipway monitor run {props.name}</code>.
        </p>
      )}
      <FeatureDrift monitor={props.name} windows={list} />
      {list.length > 0 && <h2>Windows</h2>}
      {list.length > 0 && (
        <DataTable
          label="Windows"
          testId="windows-table"
          rows={list}
          rowKey={(w) => String(w.window_id)}
          onOpen={(w) => window.open(reportUrl(props.name, w.window_id), "_blank", "noopener")}
          columns={[
            { header: "Window end", className: "nowrap", render: (w) => formatTime(w.end_ms) },
            {
              header: "Status",
              render: (w) => (
                <span title={w.error}>
                  <span className={`status-pill window-${w.status}`}>{w.status}</span> {w.trigger}
                </span>
              ),
            },
            { header: "Versions", render: (w) => w.versions.map((v) => `v${v}`).join(", ") },
            { header: "Rows", className: "num", render: (w) => w.rows.toLocaleString() },
            { header: "Labelled", className: "num", render: (w) => w.labelled.toLocaleString() },
            { header: "Drift share", className: "num", render: (w) => <DriftCell window={w} /> },
            { header: "Metrics", render: (w) => <MetricsCell window={w} /> },
            {
              header: "Report",
              render: (w) => (
                <a href={reportUrl(props.name, w.window_id)} target="_blank" rel="noreferrer">
                  report
                </a>
              ),
            },
          ]}
        />
      )}
      <h2>Alerts</h2>
      <ErrorBox error={alerts.error} retry={alerts.reload} />
      {alerts.data && (alerts.data.alerts ?? []).length === 0 && <p className="muted">No alert has fired.</p>}
      {(alerts.data?.alerts ?? []).length > 0 && (
        <ul className="plain">
          {alerts.data!.alerts!.map((a) => (
            <li key={a.alert_id}>
              <span className={`status-pill alert-${a.state}`}>{a.state}</span> <strong>{a.rule}</strong> since{" "}
              {formatTime(a.started_at)}
              {a.resolved_at ? ` until ${formatTime(a.resolved_at)}` : ""} — {a.message}
              {a.last_value !== null && <span className="muted"> (last value {formatNumber(a.last_value)})</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
