/**
 * Compare runs (`/compare?runs=a,b,c`): overlaid metric charts, which params and metrics differ, and parallel
 * coordinates over the params and metrics.
 */
import { useMemo, useState } from "react";
import { getRun, metricHistory, type Run } from "../api.js";
import { Chart, PALETTE, type ChartSeries } from "../components/chart.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { formatNumber, shortId } from "../format.js";
import { useLoad, useTitle } from "../hooks.js";
import { Link, setQuery, useLocation } from "../router.js";
import { ParallelCoordinates } from "./parallel-coordinates.js";

export function CompareView() {
  useTitle("Compare runs");
  const { query } = useLocation();
  const ids = (query.get("runs") ?? "").split(",").filter((s) => s !== "");
  const only = query.get("all") !== "1";
  const loaded = useLoad(
    async (signal) => Promise.all(ids.map(async (id) => (await getRun(id, signal)).run)),
    [ids.join(",")],
  );
  if (ids.length === 0)
    return (
      <div className="page">
        <h1>Compare runs</h1>
        <p className="muted">Select two or more runs in an experiment&apos;s table, then choose Compare.</p>
      </div>
    );
  if (loaded.error)
    return (
      <div className="page">
        <h1>Compare runs</h1>
        <ErrorBox error={loaded.error} retry={loaded.reload} />
      </div>
    );
  const runs = loaded.data;
  if (!runs) return <Loading what="runs" />;
  const name = (r: Run) => r.info.run_name ?? shortId(r.info.run_id);
  const experimentId = runs[0]?.info.experiment_id;
  return (
    <div className="page page-wide">
      <div className="crumbs">
        <Link to="/experiments">Experiments</Link> /{" "}
        {experimentId !== undefined && <Link to={`/experiments/${encodeURIComponent(experimentId)}`}>runs</Link>} /
      </div>
      <h1>Compare {runs.length} runs</h1>
      <ul className="legend" aria-label="Runs">
        {runs.map((r, i) => (
          <li key={r.info.run_id}>
            <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
            <Link to={`/runs/${encodeURIComponent(r.info.run_id)}`}>{name(r)}</Link>
          </li>
        ))}
      </ul>
      <label className="toggle">
        <input type="checkbox" checked={only} onChange={(e) => setQuery({ all: e.target.checked ? undefined : "1" })} />{" "}
        only rows that differ
      </label>
      <div className="grid-2">
        <section>
          <h2>Params</h2>
          <DiffTable
            runs={runs}
            name={name}
            only={only}
            values={(r) => entries(r.data?.params)}
            label="Param differences"
          />
        </section>
        <section>
          <h2>Metrics (latest)</h2>
          <DiffTable
            runs={runs}
            name={name}
            only={only}
            values={(r) => new Map((r.data?.metrics ?? []).map((m) => [m.key, formatNumber(m.value)]))}
            label="Metric differences"
          />
        </section>
      </div>
      <h2>Parallel coordinates</h2>
      <ParallelCoordinates runs={runs} name={name} />
      <h2>Metric charts</h2>
      <CompareCharts runs={runs} name={name} />
    </div>
  );
}

function entries(list: readonly { key: string; value: string }[] | undefined): Map<string, string> {
  return new Map((list ?? []).map((e) => [e.key, e.value]));
}

function DiffTable(props: {
  runs: Run[];
  name: (r: Run) => string;
  only: boolean;
  values: (r: Run) => Map<string, string>;
  label: string;
}) {
  const maps = props.runs.map(props.values);
  const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
  const differs = (key: string) => new Set(maps.map((m) => m.get(key) ?? "\u0000missing")).size > 1;
  const shown = props.only ? keys.filter(differs) : keys;
  if (keys.length === 0) return <p className="muted">None logged.</p>;
  if (shown.length === 0) return <p className="muted">All {keys.length} are the same in every run.</p>;
  return (
    <div className="table-scroll">
      <table className="data-table diff" aria-label={props.label} data-testid={props.label}>
        <thead>
          <tr>
            <th />
            {props.runs.map((r, i) => (
              <th key={r.info.run_id} style={{ borderBottom: `3px solid ${PALETTE[i % PALETTE.length]}` }}>
                {props.name(r)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((key) => (
            <tr key={key} className={differs(key) ? "differs" : undefined}>
              <th scope="row">{key}</th>
              {maps.map((m, i) => (
                <td key={i} className="mono">
                  {m.get(key) ?? <span className="muted">—</span>}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CompareCharts(props: { runs: Run[]; name: (r: Run) => string }) {
  const keys = useMemo(
    () => [...new Set(props.runs.flatMap((r) => (r.data?.metrics ?? []).map((m) => m.key)))].sort(),
    [props.runs],
  );
  if (keys.length === 0) return <p className="muted">None of these runs logged metrics.</p>;
  return (
    <div className="charts">
      {keys.map((key) => (
        <div className="chart-card" key={key} data-testid={`compare-chart-${key}`}>
          <OverlaidChart runs={props.runs} name={props.name} metricKey={key} />
        </div>
      ))}
    </div>
  );
}

function OverlaidChart(props: { runs: Run[]; name: (r: Run) => string; metricKey: string }) {
  const ids = props.runs.map((r) => r.info.run_id);
  const [range, setRange] = useState<[number, number] | undefined>();
  const history = useLoad(
    (signal) =>
      metricHistory(
        {
          run_ids: ids,
          metric_key: props.metricKey,
          ...(range ? { start_step: Math.floor(range[0]), end_step: Math.ceil(range[1]) } : {}),
        },
        signal,
      ),
    [ids.join(","), props.metricKey, range?.[0], range?.[1]],
  );
  const series = useMemo<ChartSeries[] | undefined>(() => {
    const points = history.data?.metrics;
    if (!points) return undefined;
    return props.runs.map((r) => {
      const mine = points.filter((p) => p.run_id === r.info.run_id);
      return { label: props.name(r), x: mine.map((p) => p.step ?? 0), y: mine.map((p) => p.value) };
    });
  }, [history.data, props]);
  if (history.error) return <ErrorBox error={history.error} retry={history.reload} />;
  if (!series) return <div className="chart-placeholder">Loading {props.metricKey}…</div>;
  return <Chart title={props.metricKey} series={series} xKind="step" range={range} onZoom={setRange} />;
}
