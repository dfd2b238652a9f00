/**
 * A monitor's per-feature drift over time: one small chart per feature of its drift score across the evaluated
 * windows (threshold as a line, drifted windows in red), and, for a chosen feature and window, its reference vs
 * current histogram. The windows list carries only the drift share, so each window's summary is fetched (the most
 * recent `MAX_WINDOWS`). Summaries hold scores but no chart data; the histograms are in each window's HTML report,
 * one card per feature (`#col-NAME`), which is shown framed, scrolled to that card.
 */
import { useEffect, useMemo, useRef } from "react";
import { getWindow, reportUrl, type MonitorWindow, type MonitorWindowInfo } from "../api.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { ScoreChart, type ScorePoint } from "../components/score-chart.js";
import { formatNumber, formatTime } from "../format.js";
import { useLoad } from "../hooks.js";
import { setQuery, useLocation } from "../router.js";

const MAX_WINDOWS = 60;

interface FeatureSeries {
  column: string;
  type: string;
  test: string | undefined;
  comparison: string | undefined;
  threshold: number | undefined;
  points: ScorePoint[];
}

/** Per column, its scores over the windows (oldest first); columns in the order of the newest window. */
export function featureSeries(windows: MonitorWindow[]): FeatureSeries[] {
  const byColumn = new Map<string, FeatureSeries>();
  const ordered = [...windows].sort((a, b) => b.end_ms - a.end_ms);
  for (const w of ordered)
    for (const c of w.summary?.feature_drift?.columns ?? []) {
      let s = byColumn.get(c.column);
      if (!s) {
        s = {
          column: c.column,
          type: c.type,
          test: c.test,
          comparison: c.comparison,
          threshold: c.threshold ?? undefined,
          points: [],
        };
        byColumn.set(c.column, s);
      }
      if (c.score !== null && Number.isFinite(c.score))
        s.points.push({ id: String(w.window_id), time: w.end_ms, score: c.score, drift: c.drift === true });
    }
  for (const s of byColumn.values()) s.points.reverse();
  return [...byColumn.values()];
}

export function FeatureDrift(props: { monitor: string; windows: MonitorWindowInfo[] }) {
  const { query } = useLocation();
  const evaluated = props.windows.filter((w) => w.status === "ok").slice(0, MAX_WINDOWS);
  const ids = evaluated.map((w) => w.window_id).join(",");
  const loaded = useLoad(
    (signal) =>
      Promise.all(evaluated.map(async (w) => (await getWindow(props.monitor, String(w.window_id), signal)).window)),
    [props.monitor, ids],
  );
  const series = useMemo(() => featureSeries(loaded.data ?? []), [loaded.data]);
  const feature = series.find((s) => s.column === query.get("feature")) ?? series[0];
  const windowId = query.get("window") ?? feature?.points[feature.points.length - 1]?.id;
  const chosen = (loaded.data ?? []).find((w) => String(w.window_id) === windowId);
  const chosenColumn = chosen?.summary?.feature_drift?.columns.find((c) => c.column === feature?.column);

  const frame = useRef<HTMLIFrameElement>(null);
  // another feature of the same window: the framed report is loaded already, only its scroll changes
  useEffect(() => {
    if (frame.current && feature) scrollToCard(frame.current, feature.column);
  }, [feature?.column]);

  if (evaluated.length === 0) return null;
  return (
    <section data-testid="feature-drift">
      <h2>Drift per feature</h2>
      <ErrorBox error={loaded.error} retry={loaded.reload} />
      {!loaded.data && !loaded.error && <Loading what="the windows' drift scores" />}
      {loaded.data && series.length === 0 && (
        <p className="muted">
          No feature was tested in these windows (no reference data, or no rows): see each window&apos;s report.
        </p>
      )}
      <div className="feature-grid">
        {series.map((s) => (
          <div
            key={s.column}
            className={`chart-card feature-card${s === feature ? " current" : ""}`}
            data-testid={`feature-${s.column}`}
          >
            <div className="feature-head">
              <button
                type="button"
                className="link-button chart-title"
                aria-pressed={s === feature}
                onClick={() => setQuery({ feature: s.column }, { replace: true })}
              >
                {s.column}
              </button>
              <span className="muted">
                {s.type}
                {s.test ? ` · ${s.test}` : ""}
                {s.threshold !== undefined ? ` · drift if ${s.comparison ?? ">"} ${formatNumber(s.threshold)}` : ""}
              </span>
            </div>
            <ScoreChart
              points={s.points}
              threshold={s.threshold}
              label={`Drift score of ${s.column} per window`}
              selected={s === feature ? windowId : undefined}
              onSelect={(id) => setQuery({ feature: s.column, window: id }, { replace: true })}
            />
            <div className="muted small">
              drifted in {s.points.filter((p) => p.drift).length} of {s.points.length} windows
            </div>
          </div>
        ))}
      </div>
      {feature && chosen && (
        <div className="feature-detail" data-testid="feature-histogram">
          <h3>
            {feature.column} in the window ending {formatTime(chosen.end_ms)}:{" "}
            {chosenColumn?.score === null || chosenColumn === undefined ? (
              "not tested"
            ) : (
              <span className={chosenColumn.drift ? "drift" : undefined}>
                score {formatNumber(chosenColumn.score)}
                {chosenColumn.drift ? ", drift" : ", no drift"}
              </span>
            )}
          </h3>
          <p className="muted">
            Reference vs current distribution, from the window&apos;s{" "}
            <a href={reportUrl(props.monitor, chosen.window_id)} target="_blank" rel="noreferrer">
              HTML report
            </a>
            . Choose another window by clicking a point of a chart.
          </p>
          <iframe
            ref={frame}
            className="report-frame"
            title={`Histogram of ${feature.column}`}
            sandbox="allow-same-origin"
            src={reportUrl(props.monitor, chosen.window_id)}
            onLoad={(e) => scrollToCard(e.currentTarget, feature.column)}
          />
        </div>
      )}
    </section>
  );
}

/**
 * Scrolls the framed report to a feature's card. Not with a `#col-NAME` fragment: navigating to a fragment in a
 * same-origin frame scrolls the page around it too, moving the charts the person just clicked out of view.
 */
function scrollToCard(frame: HTMLIFrameElement, column: string): void {
  const card = frame.contentDocument?.getElementById(`col-${column}`);
  if (card) frame.contentWindow?.scrollTo(0, card.getBoundingClientRect().top + frame.contentWindow.scrollY - 8);
}
