/**
 * One deployment: what it serves, the traffic each version got over the current revision, the canary's steps
 * and every decision with its reason (the event log), the model servers following it, and the model versions
 * involved with links to the registry and to the runs they came from.
 */
import type { ReactNode } from "react";
import {
  getDeployment,
  listDeploymentEvents,
  request,
  type Deployment,
  type DeploymentEvent,
  type ModelVersion,
} from "../api.js";
import { DataTable } from "../components/data-table.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { formatDuration, formatNumber, formatTime } from "../format.js";
import { useLoad, useTitle } from "../hooks.js";
import { Link } from "../router.js";
import { DeploymentState, StatePill, WeightBar, modelPath, versionLabel } from "./deployments.js";

const EVENTS = 200;

export function DeploymentView(props: { name: string }) {
  useTitle(props.name);
  const loaded = useLoad((signal) => getDeployment(props.name, signal), [props.name]);
  const events = useLoad((signal) => listDeploymentEvents(props.name, EVENTS, signal), [props.name]);
  const d = loaded.data?.deployment;
  return (
    <div className="page page-wide">
      <div className="crumbs">
        <Link to="/deployments">Deployments</Link> /
      </div>
      <div className="page-head">
        <h1>
          {props.name} {d && <DeploymentState deployment={d} />}
        </h1>
        {d && (
          <button type="button" onClick={() => (loaded.reload(), events.reload())}>
            Refresh
          </button>
        )}
      </div>
      <ErrorBox error={loaded.error} retry={loaded.reload} />
      {!d && !loaded.error && <Loading what="the deployment" />}
      {d && <Overview deployment={d} />}
      {d && <Traffic deployment={d} />}
      {d && (
        <>
          <h2>Rollout history</h2>
          <ErrorBox error={events.error} retry={events.reload} />
          {events.data && <Events events={events.data.events ?? []} />}
          <Servers deployment={d} />
          <Versions deployment={d} />
        </>
      )}
    </div>
  );
}

function Overview(props: { deployment: Deployment }) {
  const d = props.deployment;
  const c = d.canary;
  const facts: [string, ReactNode][] = [
    [
      "Model",
      <Link key="m" to={modelPath(d.model_name)}>
        <code>{d.model_uri}</code>
      </Link>,
    ],
    [
      "Primary",
      <span key="p">
        {versionLabel(d.primary_version)}
        {d.model_alias && <span className="muted"> (follows @{d.model_alias})</span>}
      </span>,
    ],
    ["Strategy", d.strategy],
    ["Revision", String(d.revision)],
    ["Created", formatTime(d.creation_timestamp)],
    ["Updated", formatTime(d.last_updated_timestamp)],
  ];
  return (
    <>
      <dl className="facts inline" data-testid="deployment-facts">
        {facts.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <WeightBar deployment={d} />
      {c && (
        <section data-testid="canary">
          <h2>
            Canary {versionLabel(c.version)} <StatePill state={c.state} />
          </h2>
          <p>
            {c.state === "running" || c.state === "promoting"
              ? `Gets ${formatNumber(c.weight)}% of requests (started at ${formatNumber(c.initial_weight)}%), `
              : `Got ${formatNumber(c.weight)}% of requests when it ended ${formatTime(c.ended_at)}; `}
            {c.step > 0
              ? `stepped up ${formatNumber(c.step)} points every ${formatDuration(c.interval_ms)} while it does as well as the primary`
              : "never stepped up automatically"}
            {` over at least ${c.min_requests.toLocaleString()} requests; rolled back above ${formatNumber(c.max_error_rate * 100)}% errors`}
            {c.max_latency_p99_ms !== undefined ? ` or a p99 above ${formatNumber(c.max_latency_p99_ms)} ms` : ""}.
          </p>
          {c.reason && (
            <p>
              <span className="muted">Last decision:</span> {c.reason}
            </p>
          )}
        </section>
      )}
      {d.shadow && (
        <section data-testid="shadow">
          <h2>
            Shadow {versionLabel(d.shadow.version)} <StatePill state={d.shadow.state} />
          </h2>
          <p>
            Gets a copy of every request since {formatTime(d.shadow.started_at)} (queue of{" "}
            {d.shadow.max_queue.toLocaleString()}); its answers are compared with the primary&apos;s, never returned.
            {d.shadow.error && <span className="error-text"> {d.shadow.error}</span>}
          </p>
        </section>
      )}
    </>
  );
}

function Traffic(props: { deployment: Deployment }) {
  const stats = props.deployment.stats ?? [];
  return (
    <>
      <h2>Traffic over revision {props.deployment.revision}</h2>
      {stats.length === 0 ? (
        <p className="muted">
          No model server has reported traffic for this revision yet. Start one with{" "}
          <code>slipway serve --deployment {props.deployment.name}</code>.
        </p>
      ) : (
        <DataTable
          label="Traffic per version"
          testId="deployment-traffic"
          rows={stats}
          rowKey={(s) => `${s.role}/${s.version}`}
          columns={[
            { header: "Role", render: (s) => s.role },
            { header: "Version", render: (s) => `v${s.version}` },
            { header: "Requests", className: "num", render: (s) => s.requests.toLocaleString() },
            { header: "Errors", className: "num", render: (s) => s.errors.toLocaleString() },
            { header: "Error rate", className: "num", render: (s) => `${(s.error_rate * 100).toFixed(2)}%` },
            { header: "Client errors", className: "num", render: (s) => s.client_errors.toLocaleString() },
            { header: "p50", className: "num", render: (s) => ms(s.p50_ms) },
            { header: "p99", className: "num", render: (s) => ms(s.p99_ms) },
            {
              header: "Agreement",
              className: "num",
              render: (s) =>
                s.agreement === undefined
                  ? ""
                  : `${formatNumber(s.agreement * 100)}% of ${(s.compared_rows ?? 0).toLocaleString()}`,
            },
            { header: "Dropped", className: "num", render: (s) => (s.dropped ?? "").toLocaleString() },
            { header: "Last error", render: (s) => <span className="error-text">{s.last_error ?? ""}</span> },
          ]}
        />
      )}
    </>
  );
}

function ms(value: number | undefined): string {
  return value === undefined ? "" : `${formatNumber(Number(value.toPrecision(3)))} ms`;
}

const EVENT_WORDS: Record<DeploymentEvent["kind"], string> = {
  created: "created",
  updated: "updated",
  step: "stepped",
  hold: "held",
  promoted: "promoted",
  rolled_back: "rolled back",
  load_failed: "load failed",
  shadow_failed: "shadow failed",
};

function Events(props: { events: DeploymentEvent[] }) {
  if (props.events.length === 0) return <p className="muted">Nothing has happened yet.</p>;
  return (
    <ol className="plain events" data-testid="deployment-events">
      {props.events.map((e) => (
        <li key={e.event_id}>
          <span className="muted nowrap">{formatTime(e.created_at)}</span>{" "}
          <span className={`status-pill event-${e.kind}`}>{EVENT_WORDS[e.kind] ?? e.kind}</span>
          {e.version !== undefined && ` v${e.version}`}
          {e.from_weight !== undefined && e.to_weight !== undefined && (
            <strong>
              {" "}
              {formatNumber(e.from_weight)}% → {formatNumber(e.to_weight)}%
            </strong>
          )}
          {e.to_weight !== undefined && e.from_weight === undefined && (
            <strong> at {formatNumber(e.to_weight)}%</strong>
          )}{" "}
          — {e.reason}
        </li>
      ))}
    </ol>
  );
}

function Servers(props: { deployment: Deployment }) {
  const servers = props.deployment.servers ?? [];
  return (
    <>
      <h2>Model servers</h2>
      {servers.length === 0 ? (
        <p className="muted">
          No model server has reported in the last minute. Servers started with{" "}
          <code>slipway serve --deployment {props.deployment.name}</code> follow this deployment and show up here.
        </p>
      ) : (
        <DataTable
          label="Model servers"
          testId="deployment-servers"
          rows={servers}
          rowKey={(s) => s.server}
          columns={[
            { header: "Server", render: (s) => <code>{s.server}</code> },
            { header: "Last report", className: "nowrap", render: (s) => formatTime(s.last_report_at) },
            {
              header: "Revision",
              className: "num",
              render: (s) =>
                s.revision === props.deployment.revision ? (
                  String(s.revision)
                ) : (
                  <span className="error-text" title="Not yet routing with the current revision">
                    {s.revision} (behind)
                  </span>
                ),
            },
            {
              header: "Versions held",
              render: (s) =>
                s.models.map((m) => (
                  <span key={`${m.role}/${m.version}`} className="chip" title={m.error}>
                    {m.role} v{m.version}: {m.state}
                  </span>
                )),
            },
          ]}
        />
      )}
    </>
  );
}

/** The versions the deployment routes to, each with the run it came from. */
function Versions(props: { deployment: Deployment }) {
  const d = props.deployment;
  const roles: [string, string | undefined][] = [
    ["primary", d.primary_version],
    ["canary", d.canary?.version],
    ["canary's base", d.canary?.base_version !== d.primary_version ? d.canary?.base_version : undefined],
    ["shadow", d.shadow?.version],
  ];
  const wanted = roles.filter((r): r is [string, string] => r[1] !== undefined);
  const versions = useLoad(
    (signal) =>
      Promise.all(
        wanted.map(async ([role, version]) => {
          try {
            const mv = await request<{ model_version: ModelVersion }>("GET", "/mlflow/model-versions/get", {
              query: { name: d.model_name, version },
              signal,
            });
            return { role, version, mv: mv.model_version, error: undefined };
          } catch (error) {
            return { role, version, mv: undefined, error: error instanceof Error ? error : new Error(String(error)) };
          }
        }),
      ),
    [d.model_name, wanted.map((w) => w.join(":")).join(",")],
  );
  return (
    <>
      <h2>Model versions</h2>
      {!versions.data ? (
        <Loading what="model versions" />
      ) : (
        <ul className="plain" data-testid="deployment-versions">
          {versions.data.map((v) => (
            <li key={v.role}>
              <span className="muted">{v.role}:</span>{" "}
              <Link to={modelPath(d.model_name)}>
                {d.model_name} v{v.version}
              </Link>
              {(v.mv?.aliases ?? []).map((a) => (
                <span key={a} className="chip">
                  @{a}
                </span>
              ))}
              {v.mv?.run_id && (
                <>
                  {" "}
                  from run <Link to={`/runs/${encodeURIComponent(v.mv.run_id)}`}>{v.mv.run_id.slice(0, 8)}</Link>
                </>
              )}
              {v.error && <span className="error-text"> {v.error.message}</span>}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
