/**
 * A small SVG chart of one score over time (a feature's drift score per monitor window): the threshold as a dashed
 * line, points over it (drifted) in red. Windows are few (one per hour or so), so plain SVG is enough, and each point
 * is a focusable element: clicking it or pressing Enter on it chooses that window.
 */
import { formatNumber, formatTime } from "../format.js";

export interface ScorePoint {
  id: string;
  time: number;
  score: number;
  drift: boolean;
}

const W = 320;
const H = 130;
const PAD = { left: 44, right: 10, top: 10, bottom: 22 };

export function ScoreChart(props: {
  points: ScorePoint[];
  threshold: number | undefined;
  label: string;
  selected?: string | undefined;
  onSelect?: (id: string) => void;
}) {
  const { points, threshold } = props;
  if (points.length === 0) return <p className="muted">No score.</p>;
  const times = points.map((p) => p.time);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const values = points.map((p) => p.score);
  if (threshold !== undefined) values.push(threshold);
  const top = Math.max(...values, 0) * 1.1 || 1;
  const x = (t: number) =>
    t1 === t0 ? (PAD.left + W - PAD.right) / 2 : PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const line = points.map((p) => `${x(p.time).toFixed(1)},${y(p.score).toFixed(1)}`).join(" ");
  return (
    <svg
      className="score-chart"
      viewBox={`0 0 ${W} ${H}`}
      width="100%"
      role="group"
      aria-label={props.label}
      preserveAspectRatio="xMidYMid meet"
    >
      <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
      <line className="axis" x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={H - PAD.bottom} />
      <text className="tick" x={PAD.left - 4} y={y(top / 1.1) + 4} textAnchor="end">
        {formatNumber(Number((top / 1.1).toPrecision(2)))}
      </text>
      <text className="tick" x={PAD.left - 4} y={H - PAD.bottom + 4} textAnchor="end">
        0
      </text>
      <text className="tick" x={PAD.left} y={H - 6}>
        {formatTime(t0).slice(5, 16)}
      </text>
      {t1 !== t0 && (
        <text className="tick" x={W - PAD.right} y={H - 6} textAnchor="end">
          {formatTime(t1).slice(5, 16)}
        </text>
      )}
      {threshold !== undefined && (
        <line
          className="threshold"
          data-testid="threshold"
          x1={PAD.left}
          x2={W - PAD.right}
          y1={y(threshold)}
          y2={y(threshold)}
        >
          <title>threshold {formatNumber(threshold)}</title>
        </line>
      )}
      <polyline className="score-line" points={line} />
      {points.map((p) => (
        <circle
          key={p.id}
          className={`score-point${p.drift ? " drifted" : ""}${p.id === props.selected ? " selected" : ""}`}
          cx={x(p.time)}
          cy={y(p.score)}
          r={p.id === props.selected ? 5.5 : 4}
          tabIndex={props.onSelect ? 0 : undefined}
          role={props.onSelect ? "button" : undefined}
          aria-label={`${formatTime(p.time)}: ${formatNumber(p.score)}${p.drift ? ", drifted" : ""}`}
          onClick={() => props.onSelect?.(p.id)}
          onKeyDown={(e) => {
            if (e.key !== "Enter" && e.key !== " ") return;
            e.preventDefault();
            props.onSelect?.(p.id);
          }}
        >
          <title>{`${formatTime(p.time)}: ${formatNumber(p.score)}${p.drift ? " (drift)" : ""}`}</title>
        </circle>
      ))}
    </svg>
  );
}
