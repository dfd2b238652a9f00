/**
 * Parallel coordinates for compared runs: one vertical axis per chosen param or metric (numbers scaled to their
 * range, other values as evenly spaced levels), one line per run coloured by a chosen metric. Hovering a line
 * names its run; dragging along an axis brushes a range, and lines outside every brush fade. Plain SVG: compare
 * shows at most 100 runs, so a few hundred paths are cheap. The parameter tables above are the keyboard's way
 * through the same data.
 */
import { useMemo, useRef, useState, type PointerEvent } from "react";
import type { Run } from "../api.js";
import { formatNumber } from "../format.js";
import { setQuery, useLocation } from "../router.js";

const W = 1000;
const H = 380;
const TOP = 36;
const BOTTOM = H - 30;
const SIDE = 70;
const MAX_DEFAULT_AXES = 8;

export interface Axis {
  /** `params.lr`, `metrics.accuracy` */
  id: string;
  label: string;
  kind: "numeric" | "categorical";
  min: number;
  max: number;
  levels: string[];
  /** Per run (same order as the runs), the raw value or undefined. */
  values: (string | undefined)[];
}

function runValue(run: Run, id: string): string | undefined {
  if (id.startsWith("params.")) return run.data?.params?.find((p) => p.key === id.slice(7))?.value;
  const m = run.data?.metrics?.find((x) => x.key === id.slice(8));
  return m === undefined ? undefined : String(m.value);
}

/** An axis over the runs: numeric when every present value is a finite number. */
export function makeAxis(runs: readonly Run[], id: string): Axis {
  const values = runs.map((r) => runValue(r, id));
  const present = values.filter((v): v is string => v !== undefined);
  const numbers = present.map(Number);
  const numeric = present.length > 0 && present.every((v, i) => v.trim() !== "" && Number.isFinite(numbers[i]));
  const label = id.replace(/^(params|metrics)\./, "");
  if (numeric) {
    const min = Math.min(...numbers);
    const max = Math.max(...numbers);
    return { id, label, kind: "numeric", min, max, levels: [], values };
  }
  const levels = [...new Set(present)].sort();
  return { id, label, kind: "categorical", min: 0, max: Math.max(0, levels.length - 1), levels, values };
}

/** Where a value sits on an axis, from 0 (bottom) to 1 (top); undefined when the run has none. */
export function position(axis: Axis, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (axis.kind === "numeric") return axis.max === axis.min ? 0.5 : (Number(value) - axis.min) / (axis.max - axis.min);
  const i = axis.levels.indexOf(value);
  return axis.levels.length === 1 ? 0.5 : i / (axis.levels.length - 1);
}

const y = (t: number) => BOTTOM - t * (BOTTOM - TOP);

/** Low values blue, high values orange-red (readable on both themes). */
function colour(t: number | undefined): string {
  if (t === undefined || Number.isNaN(t)) return "var(--muted)";
  return `hsl(${Math.round(220 - t * 200)} 75% 50%)`;
}

function keysOf(runs: readonly Run[]): { params: string[]; metrics: string[] } {
  const params = new Set<string>();
  const metrics = new Set<string>();
  for (const r of runs) {
    for (const p of r.data?.params ?? []) params.add(p.key);
    for (const m of r.data?.metrics ?? []) metrics.add(m.key);
  }
  return { params: [...params].sort(), metrics: [...metrics].sort() };
}

export function ParallelCoordinates(props: { runs: Run[]; name: (r: Run) => string }) {
  const { runs } = props;
  const { query } = useLocation();
  const keys = useMemo(() => keysOf(runs), [runs]);
  const all = useMemo(
    () => [...keys.params.map((k) => `params.${k}`), ...keys.metrics.map((k) => `metrics.${k}`)],
    [keys],
  );
  // default axes: the params that differ between the runs, then the metrics
  const defaults = useMemo(() => {
    const differing = keys.params
      .map((k) => `params.${k}`)
      .filter((id) => new Set(runs.map((r) => runValue(r, id) ?? "\u0000")).size > 1);
    return [...differing, ...keys.metrics.map((k) => `metrics.${k}`)].slice(0, MAX_DEFAULT_AXES);
  }, [keys, runs]);
  const chosenParam = query.get("pc");
  const chosen = chosenParam === null ? defaults : chosenParam.split(",").filter((id) => all.includes(id));
  const colourBy = query.get("pc_color") ?? keys.metrics[0] ?? "";
  const axes = useMemo(() => chosen.map((id) => makeAxis(runs, id)), [runs, chosen.join(",")]);
  const colourAxis = useMemo(() => (colourBy ? makeAxis(runs, `metrics.${colourBy}`) : undefined), [runs, colourBy]);

  const [brushes, setBrushes] = useState<Record<string, [number, number]>>({});
  const [hover, setHover] = useState<number | undefined>();
  const svg = useRef<SVGSVGElement>(null);
  const drag = useRef<{ id: string; from: number } | undefined>(undefined);

  const x = (i: number) => (axes.length === 1 ? W / 2 : SIDE + (i * (W - 2 * SIDE)) / (axes.length - 1));
  const positions = useMemo(() => runs.map((_, r) => axes.map((a) => position(a, a.values[r]))), [runs, axes]);
  const inBrushes = (r: number) =>
    axes.every((a, i) => {
      const b = brushes[a.id];
      if (!b) return true;
      const t = positions[r]![i];
      return t !== undefined && y(t) >= Math.min(...b) - 0.5 && y(t) <= Math.max(...b) + 0.5;
    });
  const matching = runs.map((_, r) => inBrushes(r));
  const matchCount = matching.filter(Boolean).length;
  const brushed = Object.keys(brushes).some((id) => chosen.includes(id));

  const svgY = (event: PointerEvent) => {
    const rect = svg.current!.getBoundingClientRect();
    return Math.min(BOTTOM, Math.max(TOP, ((event.clientY - rect.top) * H) / rect.height));
  };
  const setAxes = (ids: string[]) => setQuery({ pc: ids.join(",") || "-" }, { replace: true });

  const path = (r: number) => {
    let d = "";
    let pen = false;
    positions[r]!.forEach((t, i) => {
      if (t === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(t).toFixed(1)}`;
      pen = true;
    });
    return d;
  };

  if (all.length === 0) return <p className="muted">These runs logged no params or metrics to draw.</p>;
  const hovered = hover === undefined ? undefined : runs[hover];
  return (
    <div className="pc" data-testid="parallel-coordinates">
      <div className="chart-tools">
        <details className="pc-axes">
          <summary>
            Axes ({axes.length} of {all.length})
          </summary>
          <fieldset>
            <legend>Show as axes</legend>
            {all.map((id) => (
              <label key={id} className="toggle">
                <input
                  type="checkbox"
                  checked={chosen.includes(id)}
                  onChange={(e) => setAxes(e.target.checked ? [...chosen, id] : chosen.filter((c) => c !== id))}
                />{" "}
                <span className={id.startsWith("params.") ? "kind-param" : "kind-metric"}>{id}</span>
              </label>
            ))}
          </fieldset>
        </details>
        {keys.metrics.length > 0 && (
          <label>
            Colour by{" "}
            <select value={colourBy} onChange={(e) => setQuery({ pc_color: e.target.value }, { replace: true })}>
              {keys.metrics.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
        )}
        <span className="muted" data-testid="pc-count" aria-live="polite">
          {brushed ? `${matchCount} of ${runs.length} runs in the brushed ranges` : `${runs.length} runs`}
        </span>
        {brushed && (
          <button type="button" className="link-button" onClick={() => setBrushes({})}>
            Clear brushes
          </button>
        )}
        <span className={hovered ? "pc-hover" : "pc-hover muted"} data-testid="pc-hover">
          {hovered
            ? `${props.name(hovered)}${colourBy ? ` · ${colourBy} ${formatNumber(Number(runValue(hovered, `metrics.${colourBy}`)))}` : ""}`
            : "Drag along an axis to keep a range; hover a line to name its run."}
        </span>
      </div>
      {axes.length === 0 ? (
        <p className="muted">Choose some axes above.</p>
      ) : (
        <svg
          ref={svg}
          viewBox={`0 0 ${W} ${H}`}
          width="100%"
          className="pc-svg"
          role="img"
          aria-label={`Parallel coordinates of ${runs.length} runs over ${axes.map((a) => a.label).join(", ")}`}
        >
          <g className="pc-lines" onPointerLeave={() => setHover(undefined)}>
            {runs.map((run, r) => {
              const t = colourAxis ? position(colourAxis, colourAxis.values[r]) : undefined;
              const faded = brushed && !matching[r];
              return (
                <path
                  key={run.info.run_id}
                  d={path(r)}
                  className={`pc-line${faded ? " faded" : ""}${hover === r ? " hovered" : ""}`}
                  data-run={props.name(run)}
                  stroke={faded ? undefined : colour(t)}
                  onPointerEnter={() => setHover(r)}
                >
                  <title>{props.name(run)}</title>
                </path>
              );
            })}
            {hover !== undefined && (
              <path
                d={path(hover)}
                className="pc-line hovered"
                stroke={colour(colourAxis ? position(colourAxis, colourAxis.values[hover]) : undefined)}
                pointerEvents="none"
              />
            )}
          </g>
          {axes.map((a, i) => {
            const b = brushes[a.id];
            return (
              <g key={a.id} className="pc-axis" data-testid={`pc-axis-${a.id}`}>
                <line x1={x(i)} x2={x(i)} y1={TOP} y2={BOTTOM} />
                <text className="pc-label" x={x(i)} y={TOP - 16} textAnchor="middle">
                  {a.label}
                </text>
                {a.kind === "numeric" ? (
                  <>
                    <text className="pc-tick" x={x(i) - 6} y={TOP + 4} textAnchor="end">
                      {formatNumber(a.max)}
                    </text>
                    {a.max !== a.min && (
                      <text className="pc-tick" x={x(i) - 6} y={BOTTOM + 4} textAnchor="end">
                        {formatNumber(a.min)}
                      </text>
                    )}
                  </>
                ) : (
                  a.levels.map((level) => (
                    <text key={level} className="pc-tick" x={x(i) - 6} y={y(position(a, level)!) + 4} textAnchor="end">
                      {level.length > 14 ? `${level.slice(0, 13)}…` : level}
                    </text>
                  ))
                )}
                {b && (
                  <rect
                    className="pc-brush"
                    x={x(i) - 8}
                    width={16}
                    y={Math.min(...b)}
                    height={Math.abs(b[1] - b[0])}
                  />
                )}
                <rect
                  className="pc-grab"
                  x={x(i) - 12}
                  width={24}
                  y={TOP - 4}
                  height={BOTTOM - TOP + 8}
                  onPointerDown={(e) => {
                    e.preventDefault();
                    e.currentTarget.setPointerCapture(e.pointerId);
                    const from = svgY(e);
                    drag.current = { id: a.id, from };
                    setBrushes((old) => ({ ...old, [a.id]: [from, from] }));
                  }}
                  onPointerMove={(e) => {
                    const d = drag.current;
                    if (!d || d.id !== a.id) return;
                    const to = svgY(e);
                    setBrushes((old) => ({ ...old, [a.id]: [d.from, to] }));
                  }}
                  onPointerUp={(e) => {
                    const d = drag.current;
                    drag.current = undefined;
                    // a click (no drag) clears the axis' brush
                    if (d && Math.abs(svgY(e) - d.from) < 3)
                      setBrushes((old) => Object.fromEntries(Object.entries(old).filter(([k]) => k !== a.id)));
                  }}
                >
                  <title>{`Drag to keep a range of ${a.label}; click to clear it`}</title>
                </rect>
              </g>
            );
          })}
        </svg>
      )}
    </div>
  );
}
