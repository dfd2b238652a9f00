/**
 * A window's HTML report: `driftReportHtml` of `@slipway/ml` (verdict, findings, drift table, per-feature
 * histograms reference vs current) with the monitor's own section put in front of it: the window and its versions,
 * performance against the baseline, latency, error rates, prediction drift, alerts, and the metric trend of the
 * monitor's recent windows (SVG line charts). Self-contained: inline CSS and SVG, no script, no network.
 */
import {
  driftReportHtml,
  escapeXml,
  formatNumber,
  lineChartSvg,
  type DatasetDrift,
  type LineSeries,
} from "@slipway/ml";
import type { AlertCheck, DriftSummary, MonitorFinding, WindowSummary } from "@slipway/protocol";

export interface TrendPoint {
  end_ms: number;
  share: number | null;
  metrics: Record<string, number>;
}

export interface MonitorReportInput {
  monitor: string;
  status: "ok" | "empty" | "error";
  error?: string;
  start_ms: number;
  end_ms: number;
  versions: readonly string[];
  rows: number;
  labelled: number;
  summary: WindowSummary;
  featureDrift?: DatasetDrift;
  /** This window and the ones before it, oldest first. */
  trend: readonly TrendPoint[];
  generatedAt: Date;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1180px;padding:24px}
.monitor{border:1px solid #d8dee4;border-radius:8px;padding:12px 16px;margin:12px 0 20px}
.monitor table{border-collapse:collapse}.monitor th,.monitor td{text-align:left;padding:4px 10px;border-bottom:1px solid #d8dee4}
.monitor td.num{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#c62828;font-weight:600}.good{color:#2e7d32}
.monitor svg{max-width:100%;height:auto}.trend{display:flex;flex-wrap:wrap;gap:12px}
`;

function fmt(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : formatNumber(value);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

function driftTable(title: string, drift: DriftSummary): string {
  const rows = drift.columns
    .map(
      (c) =>
        `<tr><td>${escapeXml(c.column)}</td><td>${escapeXml(c.type)}</td><td>${escapeXml(c.test ?? "–")}</td><td class="num">${fmt(c.score)}</td><td class="num">${escapeXml(c.comparison ?? "")} ${fmt(c.threshold)}</td><td>${c.drift === null ? "not tested" : c.drift ? '<span class="bad">drift</span>' : "no drift"}</td></tr>`,
    )
    .join("");
  return `<h3>${escapeXml(title)}: ${drift.dataset_drift ? '<span class="bad">drift</span>' : '<span class="good">no drift</span>'} (${drift.drifted_columns} of ${drift.tested_columns} columns)</h3>
<table><thead><tr><th>column</th><th>type</th><th>test</th><th>score</th><th>threshold</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function performanceTable(summary: WindowSummary): string {
  const perf = summary.performance;
  if (perf === undefined) return "";
  const rows = Object.entries(perf.metrics)
    .map(
      ([name, m]) =>
        `<tr><td>${escapeXml(name)}</td><td class="num">${fmt(m.value)}</td><td class="num">${fmt(m.baseline)}</td><td class="num">${fmt(m.drop)}</td><td>${m.degraded === null ? "not compared" : m.degraded ? '<span class="bad">degraded</span>' : '<span class="good">ok</span>'}</td></tr>`,
    )
    .join("");
  return `<h3>Performance on ${perf.labelled} labelled rows (degraded when the drop exceeds ${fmt(perf.max_drop)})</h3>
<table><thead><tr><th>metric</th><th>now</th><th>baseline</th><th>drop</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function alertList(alerts: readonly AlertCheck[]): string {
  if (alerts.length === 0) return "";
  const items = alerts
    .map(
      (a) =>
        `<li>${a.active === true ? '<span class="bad">firing</span>' : a.active === false ? '<span class="good">ok</span>' : "unknown"} <b>${escapeXml(a.rule)}</b>: ${escapeXml(a.message)}</li>`,
    )
    .join("");
  return `<h3>Alert rules</h3><ul>${items}</ul>`;
}

function findingList(findings: readonly MonitorFinding[]): string {
  if (findings.length === 0) return "";
  const items = findings
    .map((f) => `<li>${f.column === undefined ? "" : `<b>${escapeXml(f.column)}</b>: `}${escapeXml(f.message)}</li>`)
    .join("");
  return `<h3>Findings</h3><ul>${items}</ul>`;
}

/** Line charts of drift share and the performance metrics, of p99 latency and of the error rates, over the recent windows. */
export function trendCharts(trend: readonly TrendPoint[], endMs: number): string {
  if (trend.length < 2) return `<p>The metric trend is drawn from the monitor's second window on.</p>`;
  const hours = (p: TrendPoint) => (p.end_ms - endMs) / 3_600_000;
  const series = (name: string, value: (p: TrendPoint) => number | null | undefined): LineSeries | undefined => {
    const points = trend.filter((p) => {
      const v = value(p);
      return v !== null && v !== undefined && Number.isFinite(v);
    });
    if (points.length < 2) return undefined;
    return { name, x: points.map(hours), y: points.map((p) => value(p)!) };
  };
  const quality = [
    series("drift share", (p) => p.share),
    series("accuracy", (p) => p.metrics.accuracy),
    series("f1", (p) => p.metrics.f1),
    series("roc_auc", (p) => p.metrics.roc_auc),
  ].filter((s): s is LineSeries => s !== undefined);
  const latency = series("p99 latency (ms)", (p) => p.metrics.latency_p99_ms);
  const errors = [
    series("error rate (5xx)", (p) => p.metrics.error_rate),
    series("client error rate (4xx)", (p) => p.metrics.client_error_rate),
  ].filter((s): s is LineSeries => s !== undefined);
  const charts: string[] = [];
  const xLabel = "hours before this window's end";
  if (quality.length > 0) {
    charts.push(
      lineChartSvg(quality, { title: "Drift share and metrics", xLabel, yRange: [0, 1], width: 560, height: 320 }),
    );
  }
  if (latency !== undefined) {
    charts.push(lineChartSvg([latency], { title: "p99 latency", xLabel, yLabel: "ms", width: 560, height: 320 }));
  }
  if (errors.length > 0) {
    // from 0 to the highest rate (at least 1%): error rates are usually small, a [0, 1] axis would flatten them
    const top = Math.max(0.01, ...errors.flatMap((s) => s.y));
    charts.push(
      lineChartSvg(errors, {
        title: "Error rates",
        xLabel,
        yLabel: "share of requests",
        yRange: [0, top],
        width: 560,
        height: 320,
      }),
    );
  }
  if (charts.length === 0) return "";
  return `<h3>Trend over the last ${trend.length} window(s)</h3><div class="trend">${charts.join("")}</div>`;
}

function monitorSection(input: MonitorReportInput): string {
  const s = input.summary;
  const status =
    input.status === "error"
      ? `<p class="bad">Evaluation failed: ${escapeXml(input.error ?? "unknown error")}</p>`
      : input.status === "empty"
        ? `<p class="bad">Empty window: no traffic was logged.</p>`
        : "";
  const latency =
    s.latency === undefined
      ? ""
      : `<p>Latency over ${s.latency.rows} rows: p50 ${fmt(s.latency.p50_ms)} ms, p99 ${fmt(s.latency.p99_ms)} ms</p>`;
  const errors =
    s.errors === undefined
      ? ""
      : `<p>Requests: ${s.errors.requests} · 5xx ${s.errors.server_errors} (error rate ${fmt(s.errors.error_rate)}) · 4xx ${s.errors.client_errors} (client error rate ${fmt(s.errors.client_error_rate)})</p>`;
  return `<section class="monitor">
<h2>Monitor ${escapeXml(input.monitor)}</h2>
<p>${escapeXml(s.model_uri)} · window ${iso(input.start_ms)} – ${iso(input.end_ms)} · versions ${escapeXml(input.versions.join(", ") || "none")} · ${input.rows} rows, ${input.labelled} labelled${s.reference === undefined ? "" : ` · reference ${escapeXml(s.reference.uri)} (${s.reference.rows} rows)`}</p>
${status}${performanceTable(s)}${latency}${errors}${s.prediction_drift === undefined ? "" : driftTable("Prediction drift", s.prediction_drift)}${alertList(s.alerts)}${input.featureDrift === undefined ? findingList(s.findings) : findingList(s.findings.filter((f) => !isDriftFinding(f, input.featureDrift)))}${trendCharts(input.trend, input.end_ms)}
</section>`;
}

function isDriftFinding(f: MonitorFinding, drift: DatasetDrift | undefined): boolean {
  return drift?.findings.some((d) => d.kind === f.kind && d.column === f.column && d.message === f.message) === true;
}

export function monitorReportHtml(input: MonitorReportInput): string {
  const section = monitorSection(input);
  const title = `Monitor ${input.monitor}: ${input.summary.model_uri}`;
  if (input.featureDrift !== undefined) {
    const page = driftReportHtml(input.featureDrift, {
      title,
      referenceName: input.summary.reference?.uri ?? "reference",
      currentName: `window ending ${iso(input.end_ms)}`,
      generatedAt: input.generatedAt,
    });
    const styled = page.replace("</head>", `<style>${CSS.replace(/^\s*body\{[^}]*\}\n/, "")}</style></head>`);
    const marker = styled.indexOf("<h2>");
    return marker < 0
      ? styled.replace("</body>", `${section}</body>`)
      : `${styled.slice(0, marker)}${section}\n${styled.slice(marker)}`;
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeXml(title)}</title><style>${CSS}</style></head><body>
<h1>${escapeXml(title)}</h1>
<div>generated ${input.generatedAt.toISOString()}</div>
${section}
</body></html>
`;
}
