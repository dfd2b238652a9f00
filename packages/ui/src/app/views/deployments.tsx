/**
 * Deployments: what each serves (the primary's version, where its alias points now), the canary's version and
 * share of traffic (a bar, so a glance tells how far a rollout got), the shadow, and the rollout's state.
 */
import { listDeployments, type Deployment } from "../api.js";
import { DataTable } from "../components/data-table.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { formatNumber, formatTime } from "../format.js";
import { useLoad, useTitle } from "../hooks.js";
import { Link, navigate } from "../router.js";

export const deploymentPath = (name: string) => `/deployments/${encodeURIComponent(name)}`;

/** The registry page of a deployment's model. */
export const modelPath = (name: string) => `/models/${encodeURIComponent(name)}`;

export function DeploymentsView() {
  useTitle("Deployments");
  const list = useLoad(async (signal) => (await listDeployments(signal)).deployments ?? [], []);
  const rows = list.data ?? [];
  return (
    <div className="page page-wide">
      <h1>Deployments</h1>
      <ErrorBox error={list.error} retry={list.reload} />
      {!list.data && !list.error ? (
        <Loading what="deployments" />
      ) : rows.length === 0 && !list.error ? (
        <div className="empty-state" data-testid="no-deployments">
          <p>
            No deployments yet. A deployment names what model servers serve and how a new version reaches traffic
            (rolling, canary or shadow):
          </p>
          <pre className="code">
            <code>{`slipway deploy create --name spam --model models:/spam@champion \\\n  --canary models:/spam/3 --weight 10\nslipway serve --deployment spam`}</code>
          </pre>
        </div>
      ) : (
        <DataTable
          label="Deployments"
          testId="deployments-table"
          rows={rows}
          rowKey={(d) => d.name}
          onOpen={(d) => navigate(deploymentPath(d.name))}
          columns={[
            { header: "Deployment", render: (d) => <Link to={deploymentPath(d.name)}>{d.name}</Link> },
            {
              header: "Model",
              render: (d) => (
                <Link to={modelPath(d.model_name)}>
                  <code>{d.model_uri.replace(/^models:\//, "")}</code>
                </Link>
              ),
            },
            { header: "Primary", className: "nowrap", render: (d) => versionLabel(d.primary_version) },
            { header: "Canary", className: "nowrap", render: (d) => <CanaryCell deployment={d} /> },
            { header: "Traffic", render: (d) => <WeightBar deployment={d} /> },
            {
              header: "Shadow",
              className: "nowrap",
              render: (d) =>
                d.shadow ? (
                  <span>
                    {versionLabel(d.shadow.version)} <StatePill state={d.shadow.state} />
                  </span>
                ) : (
                  <span className="muted">—</span>
                ),
            },
            { header: "State", className: "nowrap", render: (d) => <DeploymentState deployment={d} /> },
            { header: "Updated", className: "nowrap", render: (d) => formatTime(d.last_updated_timestamp) },
          ]}
        />
      )}
    </div>
  );
}

export function versionLabel(version: string | undefined) {
  return version === undefined ? <span className="muted">unresolved</span> : `v${version}`;
}

function CanaryCell(props: { deployment: Deployment }) {
  const c = props.deployment.canary;
  if (!c) return <span className="muted">—</span>;
  return (
    <span>
      {versionLabel(c.version)} <span className="muted">at {formatNumber(c.weight)}%</span>
    </span>
  );
}

/** running / promoted / rolled back…, or "serving" when no rollout is under way. */
export function DeploymentState(props: { deployment: Deployment }) {
  const d = props.deployment;
  if (d.canary) return <StatePill state={d.canary.state} title={d.canary.reason} />;
  return <StatePill state={d.strategy === "shadow" ? "shadowing" : "serving"} />;
}

export function StatePill(props: { state: string; title?: string | undefined }) {
  return (
    <span className={`status-pill deploy-${props.state}`} title={props.title}>
      {props.state.replace(/_/g, " ")}
    </span>
  );
}

/**
 * The share of requests each version gets: the primary the rest, the canary its weight while it runs (a finished
 * canary gets nothing). The shadow gets a copy of everything, so it is not part of the split.
 */
export function WeightBar(props: { deployment: Deployment }) {
  const { canary, primary_version: primary } = props.deployment;
  const weight = canary && (canary.state === "running" || canary.state === "promoting") ? canary.weight : 0;
  const label = `primary v${primary ?? "?"} ${formatNumber(100 - weight)}%${
    weight > 0 ? `, canary v${canary!.version} ${formatNumber(weight)}%` : ""
  }`;
  return (
    <div className="weight-bar" role="img" aria-label={`Traffic: ${label}`} title={label} data-testid="weight-bar">
      <span className="weight-primary" style={{ width: `${100 - weight}%` }} />
      {weight > 0 && <span className="weight-canary" style={{ width: `${weight}%` }} />}
    </div>
  );
}
