/**
 * Small, dependency-free SVG charts for run artifacts: a confusion matrix heat map and line charts
 * (loss per iteration, ROC and precision-recall curves). Pure string building: the caller logs the text
 * as an artifact (`confusion_matrix.svg`), and any browser or the UI's artifact preview shows it.
 */
import { MlError } from "../core/errors.js";

const FONT = `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif"`;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(2) : Number(value.toPrecision(3)).toString();
}

export interface ConfusionMatrixChartOptions {
  title?: string;
  /** Show each cell's share of its true-label row as well as the count. Default true. */
  normalize?: boolean;
}

/**
 * A confusion matrix as an SVG heat map: rows are true labels, columns predicted labels (as
 * scikit-learn's `confusion_matrix` lays them out); cell shade by the share of its row.
 */
export function confusionMatrixSvg(
  matrix: readonly (readonly number[])[],
  labels: readonly (string | number)[],
  options: ConfusionMatrixChartOptions = {},
): string {
  const n = labels.length;
  if (n === 0) throw new MlError("a confusion matrix needs at least one label");
  if (matrix.length !== n || matrix.some((row) => row.length !== n)) {
    throw new MlError(`the confusion matrix must be ${n} × ${n} for ${n} labels`);
  }
  const cell = Math.max(48, Math.min(110, Math.floor(440 / n)));
  const left = 120;
  const top = options.title ? 70 : 44;
  const width = left + n * cell + 24;
  const height = top + n * cell + 56;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
  );
  if (options.title) {
    parts.push(
      `<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="600">${escapeXml(options.title)}</text>`,
    );
  }
  parts.push(
    `<text x="${left + (n * cell) / 2}" y="${top - 24}" text-anchor="middle" fill="#444">predicted</text>`,
    `<text x="18" y="${top + (n * cell) / 2}" text-anchor="middle" fill="#444" transform="rotate(-90 18 ${top + (n * cell) / 2})">true</text>`,
  );
  labels.forEach((label, j) => {
    parts.push(
      `<text x="${left + j * cell + cell / 2}" y="${top - 6}" text-anchor="middle">${escapeXml(String(label))}</text>`,
    );
  });
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    parts.push(
      `<text x="${left - 8}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(String(labels[i]))}</text>`,
    );
    row.forEach((count, j) => {
      const share = total > 0 ? count / total : 0;
      // white → deep blue by row share
      const shade = (c0: number, c1: number) => Math.round(c0 + (c1 - c0) * share);
      const fill = `rgb(${shade(247, 8)},${shade(251, 69)},${shade(255, 148)})`;
      const ink = share > 0.5 ? "#fff" : "#111";
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ccc"/>`,
        `<text x="${x + cell / 2}" y="${y + cell / 2 + (options.normalize === false ? 5 : 0)}" text-anchor="middle" fill="${ink}" font-size="15" font-weight="600">${count}</text>`,
      );
      if (options.normalize !== false) {
        parts.push(
          `<text x="${x + cell / 2}" y="${y + cell / 2 + 17}" text-anchor="middle" fill="${ink}" font-size="11">${(share * 100).toFixed(1)}%</text>`,
        );
      }
    });
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export interface LineSeries {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** CSS colour; default from a fixed palette. */
  color?: string;
  /** Draw as steps (for precision-recall curves). Default false. */
  step?: boolean;
}

export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Fixed axis ranges (e.g. [0, 1] for ROC curves); default from the data. */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Logarithmic y axis (positive values only). Default false. */
  logY?: boolean;
  /** A dashed diagonal from (0,0) to (1,1), for ROC curves. Default false. */
  diagonal?: boolean;
  width?: number;
  height?: number;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"];

function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** A line chart of one or more series, as SVG. */
export function lineChartSvg(series: readonly LineSeries[], options: LineChartOptions = {}): string {
  if (series.length === 0) throw new MlError("a line chart needs at least one series");
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new MlError(`series '${s.name}' has ${s.x.length} x values but ${s.y.length} y values`);
    }
  }
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const margin = { left: 70, right: series.length > 1 ? 150 : 24, top: options.title ? 44 : 20, bottom: 52 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const ty = (v: number) => (options.logY ? Math.log10(v) : v);
  const finite = (values: readonly number[], map: (v: number) => number) =>
    values.map(map).filter((v) => Number.isFinite(v));
  const xs = series.flatMap((s) => finite(s.x, (v) => v));
  const ys = series.flatMap((s) => finite(s.y, ty));
  let [x0, x1] = options.xRange ?? [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = options.yRange ? (options.yRange.map(ty) as [number, number]) : [Math.min(...ys), Math.max(...ys)];
  if (!Number.isFinite(x0) || !Number.isFinite(x1)) [x0, x1] = [0, 1];
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) [y0, y1] = [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  if (!options.yRange) {
    const pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
  }
  const px = (v: number) => margin.left + ((v - x0) / (x1 - x0)) * plotW;
  const py = (v: number) => margin.top + plotH - ((ty(v) - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
  ];
  if (options.title) {
    parts.push(
      `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(options.title)}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1, 6)) {
    const x = px(t).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${margin.top + plotH}" stroke="#eee"/>`,
      `<text x="${x}" y="${margin.top + plotH + 16}" text-anchor="middle" fill="#444">${formatNumber(t)}</text>`,
    );
  }
  for (const t of niceTicks(y0, y1, 5)) {
    const y = (margin.top + plotH - ((t - y0) / (y1 - y0)) * plotH).toFixed(1);
    const label = options.logY ? formatNumber(10 ** t) : formatNumber(t);
    parts.push(
      `<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="#eee"/>`,
      `<text x="${margin.left - 6}" y="${Number(y) + 4}" text-anchor="end" fill="#444">${label}</text>`,
    );
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  );
  if (options.diagonal) {
    parts.push(`<line x1="${px(0)}" y1="${py(0)}" x2="${px(1)}" y2="${py(1)}" stroke="#aaa" stroke-dasharray="4 4"/>`);
  }
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    const points: string[] = [];
    let previousY: number | undefined;
    for (let i = 0; i < s.x.length; i++) {
      const xv = s.x[i]!;
      const yv = s.y[i]!;
      if (!Number.isFinite(xv) || !Number.isFinite(ty(yv))) continue;
      const x = px(xv).toFixed(2);
      const y = py(yv).toFixed(2);
      if (s.step && previousY !== undefined) points.push(`${x},${previousY.toFixed(2)}`);
      points.push(`${x},${y}`);
      previousY = Number(y);
    }
    parts.push(`<polyline points="${points.join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`);
    if (series.length > 1) {
      const ly = margin.top + 14 + k * 18;
      parts.push(
        `<line x1="${width - margin.right + 12}" y1="${ly - 4}" x2="${width - margin.right + 32}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`,
        `<text x="${width - margin.right + 38}" y="${ly}">${escapeXml(s.name)}</text>`,
      );
    }
  });
  if (options.xLabel) {
    parts.push(
      `<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    );
  }
  if (options.yLabel) {
    const cy = margin.top + plotH / 2;
    parts.push(
      `<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(options.yLabel)}</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n");
}

export interface ComparisonBarsOptions {
  title?: string;
  /** legend names of the two series (default "reference", "current") */
  names?: [string, string];
  width?: number;
  height?: number;
}

/**
 * Two distributions side by side as SVG bars: a histogram (`edges` has one more entry than the shares,
 * bars drawn over the bins) or levels (one label per share). Shares are fractions of each side's rows.
 */
export function comparisonBarsSvg(
  bins: { edges: readonly number[] } | { levels: readonly string[] },
  reference: readonly number[],
  current: readonly number[],
  options: ComparisonBarsOptions = {},
): string {
  const k = reference.length;
  if (current.length !== k) throw new MlError(`${k} reference shares but ${current.length} current shares`);
  const isHistogram = "edges" in bins;
  if (isHistogram ? bins.edges.length !== k + 1 : bins.levels.length !== k) {
    throw new MlError("bins do not match the number of shares");
  }
  const width = options.width ?? 560;
  const height = options.height ?? 220;
  const m = { top: options.title ? 30 : 12, right: 12, bottom: isHistogram ? 34 : 60, left: 44 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const top = Math.max(1e-12, ...reference, ...current);
  const ticks = niceTicks(0, top, 4);
  const yMax = Math.max(top, ticks[ticks.length - 1] ?? top);
  const y = (v: number): number => m.top + plotH - (v / yMax) * plotH;
  const slot = plotW / Math.max(1, k);
  const bar = isHistogram ? slot / 2 : Math.min(28, slot / 2.5);
  const [refName, curName] = options.names ?? ["reference", "current"];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`,
  ];
  if (options.title) {
    parts.push(`<text x="${m.left}" y="18" font-size="13" font-weight="600">${escapeXml(options.title)}</text>`);
  }
  for (const t of ticks) {
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>`,
      `<text x="${m.left - 4}" y="${y(t) + 4}" text-anchor="end" fill="#555">${formatNumber(t * 100)}%</text>`,
    );
  }
  for (let i = 0; i < k; i++) {
    const x0 = m.left + i * slot + (slot - 2 * bar) / 2;
    const r = reference[i]!;
    const c = current[i]!;
    parts.push(
      `<rect x="${x0.toFixed(2)}" y="${y(r).toFixed(2)}" width="${bar.toFixed(2)}" height="${(m.top + plotH - y(r)).toFixed(2)}" fill="#1f77b4" fill-opacity="0.75"><title>${escapeXml(refName)}: ${formatNumber(r * 100)}%</title></rect>`,
      `<rect x="${(x0 + bar).toFixed(2)}" y="${y(c).toFixed(2)}" width="${bar.toFixed(2)}" height="${(m.top + plotH - y(c)).toFixed(2)}" fill="#d62728" fill-opacity="0.75"><title>${escapeXml(curName)}: ${formatNumber(c * 100)}%</title></rect>`,
    );
    if (!isHistogram) {
      const label = bins.levels[i]!;
      const cx = m.left + (i + 0.5) * slot;
      parts.push(
        `<text x="${cx}" y="${m.top + plotH + 12}" text-anchor="end" transform="rotate(-35 ${cx} ${m.top + plotH + 12})">${escapeXml(label.length > 18 ? `${label.slice(0, 17)}…` : label)}</text>`,
      );
    }
  }
  if (isHistogram) {
    const step = Math.max(1, Math.ceil(k / 6));
    for (let i = 0; i <= k; i += step) {
      parts.push(
        `<text x="${m.left + i * slot}" y="${m.top + plotH + 14}" text-anchor="${i === 0 ? "start" : i + step > k ? "end" : "middle"}" fill="#555">${formatNumber(bins.edges[i]!)}</text>`,
      );
    }
  }
  parts.push(
    `<line x1="${m.left}" x2="${width - m.right}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#888"/>`,
    `<rect x="${width - m.right - 150}" y="${m.top - 2}" width="10" height="10" fill="#1f77b4"/><text x="${width - m.right - 136}" y="${m.top + 7}">${escapeXml(refName)}</text>`,
    `<rect x="${width - m.right - 70}" y="${m.top - 2}" width="10" height="10" fill="#d62728"/><text x="${width - m.right - 56}" y="${m.top + 7}">${escapeXml(curName)}</text>`,
    "</svg>",
  );
  return parts.join("");
}
