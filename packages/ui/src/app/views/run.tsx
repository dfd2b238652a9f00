/** One run: overview (status, duration, user, source, git, lineage, logged models), params, tags, metrics, artifacts. */
import type { ReactNode } from "react";
import { deleteRun, getExperiment, getRun, request, restoreRun, type ModelVersion, type Run } from "../api.js";
import { KeyValueTable } from "../components/data-table.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { formatDuration, formatNumber, formatTime, runDuration, shortId } from "../format.js";
import { useAction, useLoad, useTitle } from "../hooks.js";
import { Link, setQuery, useLocation } from "../router.js";
import { ArtifactsBrowser } from "./artifacts.js";
import { RunMetrics } from "./run-metrics.js";
import { LoggedModels } from "./run-models.js";

const TABS = ["overview", "metrics", "artifacts"] as const;
type Tab = (typeof TABS)[number];

export function RunView(props: { runId: string }) {
  const { query } = useLocation();
  const tab: Tab = (TABS as readonly string[]).includes(query.get("tab") ?? "")
    ? (query.get("tab") as Tab)
    : "overview";
  const loaded = useLoad(async (signal) => ({ run: (await getRun(props.runId, signal)).run }), [props.runId]);
  const run = loaded.data?.run;
  const experimentId = run?.info.experiment_id;
  // the experiment's name is only for the breadcrumb: the page does not wait for it
  const experiment = useLoad(
    async (signal) => (experimentId === undefined ? undefined : (await getExperiment(experimentId, signal)).experiment),
    [experimentId],
  );
  useTitle(run ? (run.info.run_name ?? shortId(run.info.run_id)) : "Run");

  if (loaded.error)
    return (
      <div className="page">
        <ErrorBox error={loaded.error} retry={loaded.reload} />
      </div>
    );
  if (!run) return <Loading what="the run" />;

  return (
    <div className="page">
      <div className="crumbs">
        <Link to="/experiments">Experiments</Link> /{" "}
        <Link to={`/experiments/${encodeURIComponent(experimentId ?? "0")}`}>
          {experiment.data?.name ?? experimentId}
        </Link>{" "}
        /
      </div>
      <div className="page-head">
        <h1>
          {run.info.run_name ?? run.info.run_id}{" "}
          <span className={`status-pill status-${(run.info.status ?? "").toLowerCase()}`}>{run.info.status}</span>
          {run.info.lifecycle_stage === "deleted" && <span className="badge">deleted</span>}
        </h1>
        <LifecycleButton run={run} onChanged={loaded.reload} />
      </div>
      <div className="tabs" role="tablist" aria-label="Run sections">
        {TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={tab === t ? "current" : ""}
            onClick={() => setQuery({ tab: t === "overview" ? "" : t, path: undefined })}
          >
            {t === "overview"
              ? "Overview"
              : t === "metrics"
                ? `Metrics (${run.data?.metrics?.length ?? 0})`
                : "Artifacts"}
          </button>
        ))}
      </div>
      {tab === "overview" && <Overview run={run} />}
      {tab === "metrics" && <RunMetrics run={run} />}
      {tab === "artifacts" && <ArtifactsBrowser run={run} />}
    </div>
  );
}

function tagMap(run: Run): Map<string, string> {
  return new Map((run.data?.tags ?? []).map((t) => [t.key, t.value]));
}

function Overview(props: { run: Run }) {
  const { run } = props;
  const tags = tagMap(run);
  const info = run.info;
  const commit = tags.get("mlflow.source.git.commit");
  const repo = tags.get("mlflow.source.git.repoURL");
  const parent = tags.get("mlflow.parentRunId");
  const dirty = tags.get("slipway.git.dirty");
  const note = tags.get("mlflow.note.content");
  const versions = useLoad(
    (signal) =>
      request<{ model_versions?: ModelVersion[] }>("GET", "/mlflow/model-versions/search", {
        query: { filter: `run_id = '${info.run_id}'`, max_results: 100 },
        signal,
      }),
    [info.run_id],
  );
  const rows: [string, ReactNode][] = [
    ["Run ID", <code key="id">{info.run_id}</code>],
    ["Status", info.status],
    ["Started", formatTime(info.start_time)],
    ["Ended", formatTime(info.end_time)],
    ["Duration", formatDuration(runDuration(info))],
    ["User", info.user_id || tags.get("mlflow.user") || "—"],
    [
      "Source",
      tags.get("mlflow.source.name") ? (
        <span>
          <code>{tags.get("mlflow.source.name")}</code>{" "}
          {tags.get("mlflow.source.type") && <span className="muted">({tags.get("mlflow.source.type")})</span>}
        </span>
      ) : (
        "—"
      ),
    ],
    [
      "Git commit",
      commit ? (
        <span>
          <code data-testid="git-commit">{commit}</code>
          {tags.get("mlflow.source.git.branch") && (
            <span className="muted"> on {tags.get("mlflow.source.git.branch")}</span>
          )}
          {dirty === "true" && <span className="badge warn">uncommitted changes</span>}
          {repo && <span className="muted"> · {repo}</span>}
        </span>
      ) : (
        "—"
      ),
    ],
  ];
  if (parent)
    rows.push([
      "Parent run",
      <Link key="p" to={`/runs/${encodeURIComponent(parent)}`}>
        {parent}
      </Link>,
    ]);
  rows.push(["Artifacts", <code key="a">{info.artifact_uri}</code>]);
  const datasets = run.inputs?.dataset_inputs ?? [];
  const metrics = [...(run.data?.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key));

  return (
    <div className="grid-2">
      <section>
        <h2>Overview</h2>
        <dl className="facts">
          {rows.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
        {note && (
          <>
            <h3>Description</h3>
            <p className="wrap">{note}</p>
          </>
        )}
        {datasets.length > 0 && (
          <>
            <h3>Datasets</h3>
            <ul className="plain">
              {datasets.map((d, i) => (
                <li key={i}>
                  <strong>{d.dataset.name}</strong> <code>{d.dataset.digest}</code>{" "}
                  <span className="muted">
                    {d.tags?.find((t) => t.key === "mlflow.data.context")?.value ?? ""} {d.dataset.source_type}
                  </span>
                </li>
              ))}
            </ul>
          </>
        )}
        <LoggedModels
          runId={info.run_id}
          artifactUri={info.artifact_uri}
          historyTag={tags.get("mlflow.log-model.history")}
          versions={versions.data?.model_versions}
          versionsError={versions.error}
        />
        <h2>Metrics (latest)</h2>
        {metrics.length === 0 ? (
          <p className="muted">No metrics logged.</p>
        ) : (
          <table className="data-table kv" aria-label="Latest metrics">
            <tbody>
              {metrics.map((m) => (
                <tr key={m.key}>
                  <th scope="row">
                    <Link to={`?tab=metrics&metric=${encodeURIComponent(m.key)}`}>{m.key}</Link>
                  </th>
                  <td className="num">{formatNumber(m.value)}</td>
                  <td className="muted">step {m.step ?? 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section>
        <h2>Params</h2>
        <KeyValueTable entries={run.data?.params ?? []} empty="No params logged." label="Params" />
        <h2>Tags</h2>
        <KeyValueTable entries={run.data?.tags ?? []} empty="No tags." label="Tags" />
      </section>
    </div>
  );
}

function LifecycleButton(props: { run: Run; onChanged: () => void }) {
  const action = useAction();
  const deleted = props.run.info.lifecycle_stage === "deleted";
  return (
    <span>
      <button
        type="button"
        className={deleted ? "" : "danger"}
        disabled={action.busy}
        onClick={() => {
          if (!deleted && !confirm("Delete this run? You can restore it later.")) return;
          void action
            .run(() => (deleted ? restoreRun(props.run.info.run_id) : deleteRun(props.run.info.run_id)))
            .then((ok) => ok && props.onChanged());
        }}
      >
        {deleted ? "Restore run" : "Delete run"}
      </button>
      <ErrorBox error={action.error} />
    </span>
  );
}
