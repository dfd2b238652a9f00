/**
 * `slipway loadtest --html FILE`: the results as one self-contained HTML page — no scripts, stylesheets or
 * fonts from elsewhere (it opens offline, from a CI artifact, in a mail) — with inline SVG charts (latency
 * percentiles over time, requests and errors per second, latency and time-to-first-token histograms), the
 * figures' tables, and the full results as JSON in a `<script type="application/json">` block (data, not code).
 */
import type { HistogramBin } from "./hdr-histogram.js";
import { errorClass, type LoadTestSummary, type TimelinePoint } from "./load-report.js";

export interface ReportAssertion {
  readonly assertion: string;
  readonly actual: number | null;
  readonly passed: boolean;
}

/** What `--out` writes and the page shows: the run's settings, its summary, and the assertions' results. */
export type LoadTestResults = LoadTestSummary & {
  readonly version: 1;
  /** ISO time the run ended. */
  readonly finishedAt: string;
  readonly assertions: readonly ReportAssertion[];
};

export function loadTestResults(
  summary: LoadTestSummary,
  assertions: readonly ReportAssertion[] = [],
  finishedAt = new Date(),
): LoadTestResults {
  return { version: 1, finishedAt: finishedAt.toISOString(), ...summary, assertions };
}

/** How the page prints a figure in ms (and the tests look for it). */
export function formatMs(value: number): string {
  return value.toFixed(2);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const WIDTH = 720;
const HEIGHT = 240;
const MARGIN = { left: 56, right: 16, top: 16, bottom: 36 };
const COLORS = ["#2563eb", "#d97706", "#dc2626", "#059669"];

/** About `count` round tick values from 0 to at least `max`. */
function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Number(value.toPrecision(3)).toString();
}

interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number | undefined])[];
}

/** A line chart of `series` over x (seconds). */
function lineChart(title: string, unit: string, series: readonly Series[], xMax: number): string {
  const values = series.flatMap((s) => s.points.map(([, y]) => y).filter((y): y is number => y !== undefined));
  const yTicks = ticks(Math.max(0, ...values));
  const yMax = yTicks.at(-1)!;
  const xTicks = ticks(Math.max(1, xMax), 8);
  const xTop = xTicks.at(-1)!;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + (v / xTop) * plotW;
  const y = (v: number) => MARGIN.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [];
  for (const t of yTicks) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(t)}" y2="${y(t)}" class="grid"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(t) + 4}" text-anchor="end">${label(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    parts.push(`<text x="${x(t)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${label(t)}</text>`);
  }
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 4}" text-anchor="middle">seconds</text>`,
    `<text x="12" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 12 ${MARGIN.top + plotH / 2})">${escape(unit)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    // a gap where a second has no value
    const segments: string[][] = [[]];
    for (const [px, py] of s.points) {
      if (py === undefined) segments.push([]);
      else segments.at(-1)!.push(`${x(px).toFixed(1)},${y(py).toFixed(1)}`);
    }
    for (const seg of segments) {
      if (seg.length === 1) {
        const [cx, cy] = seg[0]!.split(",");
        parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
      } else if (seg.length > 1) {
        parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${seg.join(" ")}"/>`);
      }
    }
    parts.push(
      `<rect x="${MARGIN.left + 8 + i * 110}" y="${MARGIN.top}" width="10" height="10" fill="${color}"/>`,
      `<text x="${MARGIN.left + 22 + i * 110}" y="${MARGIN.top + 9}">${escape(s.name)}</text>`,
    );
  });
  return figure(title, parts);
}

/** A bar chart of histogram bins (x: the bins in order, labelled by their bounds). */
function histogramChart(title: string, bins: readonly HistogramBin[]): string {
  const yTicks = ticks(Math.max(0, ...bins.map((b) => b.count)));
  const yMax = yTicks.at(-1)!;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (v: number) => MARGIN.top + plotH - (v / yMax) * plotH;
  const barW = plotW / Math.max(1, bins.length);
  const parts: string[] = [];
  for (const t of yTicks) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(t)}" y2="${y(t)}" class="grid"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(t) + 4}" text-anchor="end">${label(t)}</text>`,
    );
  }
  bins.forEach((b, i) => {
    const x = MARGIN.left + i * barW;
    if (b.count > 0) {
      parts.push(
        `<rect class="bar" x="${(x + 1).toFixed(1)}" y="${y(b.count).toFixed(1)}" width="${Math.max(1, barW - 2).toFixed(1)}" height="${(plotH - (y(b.count) - MARGIN.top)).toFixed(1)}" fill="${COLORS[0]}">` +
          `<title>${formatMs(b.from)}–${formatMs(b.to)} ms: ${b.count}</title></rect>`,
      );
    }
    if (i % Math.ceil(bins.length / 8) === 0 || i === bins.length - 1) {
      const at = i === bins.length - 1 ? b.to : b.from;
      const lx = i === bins.length - 1 ? x + barW : x;
      parts.push(
        `<text x="${lx.toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${label(at)}</text>`,
      );
    }
  });
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 4}" text-anchor="middle">ms (log scale)</text>`,
    `<text x="12" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 12 ${MARGIN.top + plotH / 2})">requests</text>`,
  );
  return figure(title, parts);
}

function figure(title: string, parts: readonly string[]): string {
  return (
    `<figure><figcaption>${escape(title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escape(title)}">` +
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" class="axis"/>` +
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${HEIGHT - MARGIN.bottom}" y2="${HEIGHT - MARGIN.bottom}" class="axis"/>` +
    `${parts.join("")}</svg></figure>`
  );
}

function table(head: readonly string[], rows: readonly (readonly string[])[], className = ""): string {
  return (
    `<table${className ? ` class="${className}"` : ""}><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`
  );
}

function timelineSeries(timeline: readonly TimelinePoint[], pick: (p: TimelinePoint) => number | undefined) {
  // each point is drawn at the middle of its second
  return timeline.map((p) => [p.second + 0.5, pick(p)] as const);
}

/** The page. */
export function renderLoadTestHtml(results: LoadTestResults): string {
  const r = results;
  const { target, settings } = r;
  const what =
    target.templates !== undefined
      ? `scenario ${target.scenario ?? ""}`
      : target.protocol === "mlflow"
        ? "MLflow /invocations"
        : `${target.endpoint}${target.stream ? ", streaming" : ""}${target.model ? `, model ${target.model}` : ""}`;
  const shape =
    settings.rate === undefined
      ? `closed loop, concurrency ${settings.concurrency}`
      : `open loop at ${settings.rate} requests/s (${settings.arrivals ?? "poisson"}), at most ${settings.concurrency} in flight`;
  const plan =
    settings.requests !== undefined
      ? `${settings.requests} requests`
      : `${((settings.durationMs ?? 0) / 1000).toFixed(1)} s`;
  const overview: [string, string][] = [
    ["requests", String(r.requests)],
    ["succeeded", String(r.succeeded)],
    ["failed", String(r.failed)],
    ["error rate", `${(r.errorRate * 100).toFixed(2)}%`],
    ["elapsed (s)", (r.elapsedMs / 1000).toFixed(2)],
    ["requests/s", r.requestsPerSecond.toFixed(2)],
  ];
  if (target.protocol === "openai") {
    overview.push(["output tokens", String(r.outputTokens)], ["output tokens/s", r.outputTokensPerSecond.toFixed(2)]);
  }
  if (r.lateSends !== undefined) overview.push(["late sends", String(r.lateSends)]);
  const series: [string, string][] = [
    ["latency", "latency (ms)"],
    ["ttft", "time to first token (ms)"],
    ["tpot", "time per output token (ms)"],
  ];
  const pNames = Object.keys(Object.values(r.percentiles)[0] ?? {});
  const percentileRows = series
    .filter(([key]) => r.percentiles[key] !== undefined)
    .map(([key, name]) => {
      const d = r[key as "latency" | "ttft" | "tpot"];
      return [
        name,
        ...(d ? [formatMs(d.mean), formatMs(d.min)] : ["", ""]),
        ...pNames.map((p) => formatMs(r.percentiles[key]![p]!)),
        d ? formatMs(d.max) : "",
        String(d?.count ?? ""),
      ];
    });
  const sections: string[] = [];
  sections.push(
    `<section><h2>Summary</h2>${table(
      overview.map(([k]) => k),
      [overview.map(([, v]) => v)],
      "overview",
    )}</section>`,
  );
  if (percentileRows.length > 0) {
    sections.push(
      `<section><h2>Percentiles</h2>${table(["", "mean", "min", ...pNames, "max", "count"], percentileRows, "percentiles")}</section>`,
    );
  }
  const errors = Object.entries(r.errors);
  sections.push(
    `<section><h2>Errors by kind</h2>${
      errors.length === 0
        ? "<p>No errors.</p>"
        : table(
            ["kind", "class", "requests", "share"],
            errors.map(([kind, n]) => [
              kind,
              errorClass(kind),
              String(n),
              `${((n / Math.max(1, r.requests)) * 100).toFixed(2)}%`,
            ]),
            "errors",
          )
    }</section>`,
  );
  const charts: string[] = [];
  const xMax = Math.max(1, r.elapsedMs / 1000);
  if (r.timeline.length > 0) {
    charts.push(
      lineChart(
        "Latency percentiles over time",
        "ms",
        [
          { name: "p50", points: timelineSeries(r.timeline, (p) => p.latencyP50) },
          { name: "p90", points: timelineSeries(r.timeline, (p) => p.latencyP90) },
          { name: "p99", points: timelineSeries(r.timeline, (p) => p.latencyP99) },
        ],
        xMax,
      ),
      lineChart(
        "Requests and errors per second",
        "per second",
        [
          { name: "succeeded", points: timelineSeries(r.timeline, (p) => p.succeeded) },
          { name: "errors", points: timelineSeries(r.timeline, (p) => p.failed) },
        ],
        xMax,
      ),
    );
  }
  if (r.histograms.latency) charts.push(histogramChart("Latency histogram", r.histograms.latency));
  if (r.histograms.ttft) charts.push(histogramChart("Time to first token histogram", r.histograms.ttft));
  if (charts.length > 0) sections.push(`<section><h2>Charts</h2>${charts.join("")}</section>`);
  if (r.byTemplate !== undefined) {
    const names = target.templates?.map((t) => t.name) ?? Object.keys(r.byTemplate);
    sections.push(
      `<section><h2>By template</h2>${table(
        ["template", "weight", "requests", "failed"],
        names.map((name) => [
          name,
          String(target.templates?.find((t) => t.name === name)?.weight ?? ""),
          String(r.byTemplate?.[name]?.requests ?? 0),
          String(r.byTemplate?.[name]?.failed ?? 0),
        ]),
        "templates",
      )}</section>`,
    );
  }
  if (r.assertions.length > 0) {
    sections.push(
      `<section><h2>Assertions</h2>${table(
        ["assertion", "actual", "result"],
        r.assertions.map((a) => [
          a.assertion,
          a.actual === null ? "not measured" : String(Number(a.actual.toPrecision(6))),
          a.passed ? "ok" : "FAILED",
        ]),
        "assertions",
      )}</section>`,
    );
  }
  const settingsRows: [string, string][] = [
    ["load", `${shape}, ${plan}`],
    ...(settings.promptTokens === undefined
      ? []
      : [["prompt tokens (about)", String(settings.promptTokens)] as [string, string]]),
    ...(settings.maxTokens === undefined ? [] : [["max_tokens", String(settings.maxTokens)] as [string, string]]),
    ...(r.warmup === undefined
      ? []
      : [
          [
            "warm-up (not counted)",
            `${r.warmup.requests} requests in ${(r.warmup.elapsedMs / 1000).toFixed(2)} s, ${r.warmup.failed} failed`,
          ] as [string, string],
        ]),
    ["finished", r.finishedAt],
  ];
  sections.push(`<section><h2>Settings</h2>${table(["", ""], settingsRows, "settings")}</section>`);
  const json = JSON.stringify(r).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Load test of ${escape(target.url)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 960px; padding: 0 16px; color: #111827; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.subtitle { color: #4b5563; margin: 0; }
table { border-collapse: collapse; margin: 4px 0; } th, td { padding: 4px 10px; border-bottom: 1px solid #e5e7eb; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f3f4f6; }
figure { margin: 12px 0 20px; } figcaption { font-weight: 600; margin-bottom: 4px; }
svg { max-width: 100%; height: auto; font-size: 11px; fill: #374151; }
svg .grid { stroke: #e5e7eb; } svg .axis { stroke: #6b7280; }
</style>
</head>
<body>
<h1>Load test of ${escape(target.url)}</h1>
<p class="subtitle">${escape(what)} — ${escape(shape)}, ${escape(plan)}</p>
${sections.join("\n")}
<script type="application/json" id="load-test-results">${json}</script>
</body>
</html>
`;
}
