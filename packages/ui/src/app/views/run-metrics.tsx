/**
 * A run's metrics as charts. Each chart asks the server for at most 2,500 points sampled over the steps
 * (get-history-bulk-interval), so a 1,000,000-point history draws as fast as a short one; zooming in asks
 * again for the zoomed steps only, so detail comes back where the person looks.
 */
import { useEffect, useRef, useState } from "react";
import { metricHistory, type Run } from "../api.js";
import { Chart, type ChartSeries } from "../components/chart.js";
import { ErrorBox } from "../components/error-box.js";
import { formatNumber } from "../format.js";
import { useLoad } from "../hooks.js";
import { setQuery, useLocation } from "../router.js";

export function RunMetrics(props: { run: Run }) {
  const { query } = useLocation();
  const focus = query.get("metric") ?? "";
  const xKind = query.get("x") === "time" ? "time" : "step";
  const [search, setSearch] = useState("");
  const keys = [...new Set((props.run.data?.metrics ?? []).map((m) => m.key))].sort();
  if (keys.length === 0) return <p className="muted">This run has no metrics.</p>;
  const shown =
    focus && keys.includes(focus) ? [focus] : keys.filter((k) => k.toLowerCase().includes(search.toLowerCase()));
  return (
    <div>
      <div className="toolbar">
        {focus ? (
          <button type="button" onClick={() => setQuery({ metric: undefined })}>
            ← All metrics
          </button>
        ) : (
          <input
            type="search"
            placeholder="Find a metric"
            aria-label="Find a metric"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        )}
        <label>
          X axis{" "}
          <select value={xKind} onChange={(e) => setQuery({ x: e.target.value === "time" ? "time" : undefined })}>
            <option value="step">step</option>
            <option value="time">time</option>
          </select>
        </label>
        <span className="muted">Drag across a chart to zoom; double-click to reset.</span>
      </div>
      <div className={focus ? "charts single" : "charts"}>
        {shown.map((key) => (
          <LazyMetricChart key={key} runId={props.run.info.run_id} metricKey={key} xKind={xKind} tall={!!focus} />
        ))}
      </div>
    </div>
  );
}

/** Fetches and draws when the chart scrolls into view (a run may have hundreds of metrics). */
function LazyMetricChart(props: { runId: string; metricKey: string; xKind: "step" | "time"; tall: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  // a chart shown alone is in view at once; in the grid each one waits until it scrolls into view
  const [seen, setSeen] = useState(props.tall);
  useEffect(() => {
    const el = ref.current;
    if (!el || seen) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) setSeen(true);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [seen]);
  return (
    <div ref={ref} className="chart-card" data-testid={`metric-chart-${props.metricKey}`}>
      {seen ? <MetricChart {...props} /> : <div className="chart-placeholder">{props.metricKey}</div>}
    </div>
  );
}

function MetricChart(props: { runId: string; metricKey: string; xKind: "step" | "time"; tall: boolean }) {
  const [range, setRange] = useState<[number, number] | undefined>();
  // zooming by step asks the server for that interval; on a time axis the chart zooms what it has
  const stepRange = props.xKind === "step" ? range : undefined;
  const history = useLoad(
    (signal) =>
      metricHistory(
        {
          run_ids: [props.runId],
          metric_key: props.metricKey,
          ...(stepRange ? { start_step: Math.floor(stepRange[0]), end_step: Math.ceil(stepRange[1]) } : {}),
        },
        signal,
      ),
    [props.runId, props.metricKey, stepRange?.[0], stepRange?.[1]],
  );
  const [series, setSeries] = useState<ChartSeries[] | undefined>();
  useEffect(() => {
    const points = history.data?.metrics;
    if (!points) return;
    const x = new Float64Array(points.length);
    const y = new Float64Array(points.length);
    points.forEach((p, i) => {
      x[i] = props.xKind === "time" ? p.timestamp : (p.step ?? 0);
      y[i] = p.value;
    });
    if (props.xKind === "time") sortByX(x, y);
    setSeries([{ label: props.metricKey, x, y }]);
  }, [history.data, props.metricKey, props.xKind]);

  const last = history.data?.metrics?.at(-1);
  return (
    <>
      <ErrorBox error={history.error} retry={history.reload} />
      {series && (
        <Chart
          title={`${props.metricKey}${last && !range ? ` = ${formatNumber(last.value)}` : ""}`}
          series={series}
          xKind={props.xKind}
          height={props.tall ? 420 : 220}
          range={range}
          onZoom={setRange}
          onDrawn={() => performance.mark(`slipway:chart-drawn:${props.metricKey}`)}
        />
      )}
      {!series && !history.error && <div className="chart-placeholder">Loading {props.metricKey}…</div>}
    </>
  );
}

function sortByX(x: Float64Array, y: Float64Array): void {
  for (let i = 1; i < x.length; i++)
    if (x[i]! < x[i - 1]!) {
      const order = Array.from(x.keys()).sort((a, b) => x[a]! - x[b]!);
      const xs = order.map((j) => x[j]!);
      const ys = order.map((j) => y[j]!);
      x.set(xs);
      y.set(ys);
      return;
    }
}
