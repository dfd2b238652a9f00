/**
 * A line chart on uPlot: one or more series over steps or time, drag to zoom (the owner may fetch finer data
 * for the zoomed range), double-click or "Reset zoom" to go back, and a log-scale toggle.
 */
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface ChartProps {
  series: ChartSeries[];
  /** `step`: numbers; `time`: x in epoch milliseconds. */
  xKind: "step" | "time";
  height?: number;
  /** The visible x range, when the owner zoomed in. */
  range?: [number, number] | undefined;
  /** The person dragged a range (undefined: back to everything). */
  onZoom?: (range: [number, number] | undefined) => void;
  /** Called after the first drawing with data. */
  onDrawn?: () => void;
  title?: string;
}

export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];

/** Joins series with different x values into uPlot's aligned columns (null where a series has no point). */
export function align(series: ChartSeries[], xScale = 1): uPlot.AlignedData {
  if (series.length === 1) {
    const s = series[0]!;
    const xs = new Float64Array(s.x.length);
    for (let i = 0; i < xs.length; i++) xs[i] = s.x[i]! * xScale;
    return [xs, Array.from(s.y, clean)];
  }
  const all = new Set<number>();
  for (const s of series) for (let i = 0; i < s.x.length; i++) all.add(s.x[i]!);
  const xs = Float64Array.from(all).sort();
  const index = new Map<number, number>();
  xs.forEach((x, i) => index.set(x, i));
  const columns = series.map((s) => {
    const col: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    for (let i = 0; i < s.x.length; i++) col[index.get(s.x[i]!)!] = clean(s.y[i]!);
    return col;
  });
  return [xs.map((x) => x * xScale), ...columns] as uPlot.AlignedData;
}

function clean(v: number): number | null {
  return Number.isFinite(v) && Math.abs(v) < 1.7976931348623157e308 ? v : null;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

export function Chart(props: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [log, setLog] = useState(false);
  const [theme, setTheme] = useState(0);
  const programmatic = useRef(false);
  const propsRef = useRef(props);
  propsRef.current = props;
  const drawn = useRef(false);
  const xScale = props.xKind === "time" ? 1 / 1000 : 1;
  const hasNonPositive = props.series.some((s) => Array.prototype.some.call(s.y, (v: number) => v <= 0));

  useEffect(() => {
    const onTheme = () => setTheme((t) => t + 1);
    window.addEventListener("slipway:theme", onTheme);
    const media = matchMedia("(prefers-color-scheme: dark)");
    media.addEventListener("change", onTheme);
    return () => {
      window.removeEventListener("slipway:theme", onTheme);
      media.removeEventListener("change", onTheme);
    };
  }, []);

  // (re)create the chart when its shape changes: series count, axis kind, scale, theme
  const labels = props.series.map((s) => s.label).join("\u0000");
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const axisColor = cssVar("--muted");
    const gridColor = cssVar("--grid");
    const axis: uPlot.Axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: propsRef.current.height ?? 220,
      scales: { x: { time: propsRef.current.xKind === "time" }, y: log ? { distr: 3 } : {} },
      axes: [axis, { ...axis, size: 60 }],
      legend: { show: true },
      cursor: { drag: { x: true, y: false, setScale: true } },
      series: [
        { label: propsRef.current.xKind === "time" ? "time" : "step" },
        ...propsRef.current.series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length]!,
          width: 1.5,
          spanGaps: true,
        })),
      ],
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== "x" || programmatic.current) return;
            const min = u.scales.x?.min;
            const max = u.scales.x?.max;
            if (min === undefined || max === undefined || min === null || max === null) return;
            const data = u.data[0];
            const full = data.length > 0 && min <= data[0]! && max >= data[data.length - 1]!;
            propsRef.current.onZoom?.(full ? undefined : [min / xScale, max / xScale]);
          },
        ],
        draw: [
          () => {
            if (drawn.current) return;
            drawn.current = true;
            propsRef.current.onDrawn?.();
          },
        ],
      },
    };
    const u = new uPlot(opts, align(propsRef.current.series, xScale), el);
    plot.current = u;
    const resize = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (width !== u.width) u.setSize({ width, height: u.height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [labels, props.series.length, props.xKind, log, theme, xScale]);

  // new data for the same shape: keep the chart, replace its data (and keep the zoomed range)
  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    programmatic.current = true;
    try {
      u.setData(align(props.series, xScale), props.range === undefined);
      if (props.range) u.setScale("x", { min: props.range[0] * xScale, max: props.range[1] * xScale });
    } finally {
      programmatic.current = false;
    }
  }, [props.series, props.range, xScale]);

  return (
    <div className="chart">
      <div className="chart-tools">
        {props.title && <span className="chart-title">{props.title}</span>}
        <label className="toggle">
          <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} /> log scale
        </label>
        {props.range && (
          <button type="button" className="link-button" onClick={() => props.onZoom?.(undefined)}>
            Reset zoom
          </button>
        )}
        {log && hasNonPositive && <span className="muted">values ≤ 0 are not drawn on a log scale</span>}
      </div>
      <div ref={host} className="chart-canvas" title="Drag to zoom; double-click to reset" />
    </div>
  );
}
