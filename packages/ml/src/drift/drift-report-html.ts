/**
 * A drift report as one self-contained HTML page (inline CSS and SVG, no script, no network): the
 * verdict first, then the findings, the drift table (drifted columns first) and, per column, reference
 * and current distributions drawn over each other with the column's statistics.
 */
import { comparisonBarsSvg, escapeXml, formatNumber } from "../plots/svg-charts.js";
import type { ColumnDrift } from "./column-drift.js";
import type { DatasetDrift } from "./dataset-drift.js";

export interface DriftReportHtmlOptions {
  title?: string;
  referenceName?: string;
  currentName?: string;
  /** shown in the header (default: now) */
  generatedAt?: Date;
}

const CSS = `
:root{color-scheme:light dark;--fg:#1d2327;--muted:#5f6b76;--bg:#fff;--card:#f6f8fa;--line:#d8dee4;--bad:#c62828;--ok:#2e7d32;--warn:#b26a00}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9aa7b4;--bg:#0d1117;--card:#161b22;--line:#30363d;--bad:#ff7b72;--ok:#56d364;--warn:#e3b341}}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1180px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:0 0 6px}
.muted{color:var(--muted)}.verdict{display:inline-block;padding:4px 12px;border-radius:14px;font-weight:600;margin:10px 0}
.drift{background:color-mix(in srgb,var(--bad) 18%,transparent);color:var(--bad)}.nodrift{background:color-mix(in srgb,var(--ok) 18%,transparent);color:var(--ok)}
.untested{color:var(--warn)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line)}th{font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px}
.card svg{max-width:100%;height:auto;background:#fff;border-radius:4px}
.stats{font-size:12px;columns:2;margin-top:6px}.stats div{break-inside:avoid}
ul.findings li{margin:3px 0}
`;

function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  return formatNumber(value);
}

function verdictCell(c: ColumnDrift): string {
  if (c.drift === null) return `<span class="untested">not tested</span>`;
  return c.drift ? `<span class="verdict drift">drift</span>` : `<span class="muted">no drift</span>`;
}

function columnCard(c: ColumnDrift, names: [string, string]): string {
  const chart =
    c.distribution === undefined
      ? ""
      : c.distribution.kind === "histogram"
        ? comparisonBarsSvg({ edges: c.distribution.edges }, c.distribution.reference, c.distribution.current, {
            names,
          })
        : comparisonBarsSvg({ levels: c.distribution.levels }, c.distribution.reference, c.distribution.current, {
            names,
          });
  const stats = Object.entries(c.statistics)
    .map(([k, v]) => `<div><span class="muted">${escapeXml(k)}</span> ${fmt(v)}</div>`)
    .join("");
  const findings =
    c.findings.length === 0
      ? ""
      : `<ul class="findings">${c.findings.map((f) => `<li>${escapeXml(f.message)}</li>`).join("")}</ul>`;
  const test =
    c.test === null
      ? "not tested"
      : `${escapeXml(c.test)}: ${fmt(c.score)} (drift when ${c.comparison} ${fmt(c.threshold)})`;
  return `<div class="card" id="col-${escapeXml(c.column)}"><h3>${escapeXml(c.column)} <span class="muted">${c.type}</span> ${verdictCell(c)}</h3><div class="muted">${test}</div>${chart}${findings}<div class="stats">${stats}</div></div>`;
}

export function driftReportHtml(report: DatasetDrift, options: DriftReportHtmlOptions = {}): string {
  const names: [string, string] = [options.referenceName ?? "reference", options.currentName ?? "current"];
  const title = options.title ?? "Data drift report";
  const generated = (options.generatedAt ?? new Date()).toISOString();
  const order = [...report.columns].sort((a, b) => rank(a) - rank(b) || a.column.localeCompare(b.column));
  const rows = order
    .map(
      (c) =>
        `<tr><td><a href="#col-${escapeXml(c.column)}">${escapeXml(c.column)}</a></td><td>${c.type}</td><td>${escapeXml(c.test ?? "–")}</td><td class="num">${fmt(c.score)}</td><td class="num">${c.comparison ?? ""} ${fmt(c.threshold)}</td><td>${verdictCell(c)}</td></tr>`,
    )
    .join("");
  const findings =
    report.findings.length === 0
      ? `<p class="muted">No findings: no missing-value changes, new categories or unusable columns.</p>`
      : `<ul class="findings">${report.findings.map((f) => `<li><b>${escapeXml(f.column)}</b>: ${escapeXml(f.message)}</li>`).join("")}</ul>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeXml(title)}</title><style>${CSS}</style></head><body>
<h1>${escapeXml(title)}</h1>
<div class="muted">${escapeXml(names[0])}: ${report.reference_rows} rows · ${escapeXml(names[1])}: ${report.current_rows} rows · generated ${generated}</div>
<div class="verdict ${report.dataset_drift ? "drift" : "nodrift"}">${report.dataset_drift ? "Dataset drift" : "No dataset drift"}: ${report.drifted_columns} of ${report.tested_columns} tested columns drifted (${fmt(report.share * 100)}%; dataset drift at ≥ ${fmt(report.drift_share * 100)}%)</div>
${multivariateLine(report)}
<h2>Findings</h2>${findings}
<h2>Columns</h2>
<table><thead><tr><th>column</th><th>type</th><th>test</th><th class="num">score</th><th class="num">threshold</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Distributions</h2><div class="cards">${order.map((c) => columnCard(c, names)).join("")}</div>
</body></html>
`;
}

function multivariateLine(report: DatasetDrift): string {
  const m = report.multivariate;
  if (m === undefined) return "";
  return `<p>Multivariate check (PCA reconstruction over ${m.columns.length} numeric columns, ${m.components} components): error ${fmt(m.error)} against the reference band [${fmt(m.lower)}, ${fmt(m.upper)}]: ${m.drift ? `<span class="verdict drift">joint distribution changed</span>` : `<span class="muted">no change</span>`}</p>`;
}

function rank(c: ColumnDrift): number {
  return c.drift === true ? 0 : c.drift === null ? 1 : 2;
}
