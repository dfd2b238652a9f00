/**
 * The models a run logged and what became of them: MLflow's `log_model` appends each to the run's
 * `mlflow.log-model.history` tag (a JSON list), and model versions registered from the run name it as their
 * `run_id`. Each logged model links to its MLmodel file in the artifacts tab and to the versions registered from it;
 * versions whose source is none of the logged paths (registered from elsewhere in the run) are listed too.
 */
import type { ModelVersion } from "../api.js";
import { ErrorBox } from "../components/error-box.js";
import { href, Link } from "../router.js";

export interface LoggedModel {
  artifactPath: string;
  flavors: string[];
  created: string | undefined;
}

/** The models of a `mlflow.log-model.history` tag; what cannot be read is left out. */
export function parseLogModelHistory(tag: string | undefined): LoggedModel[] {
  if (!tag) return [];
  let value: unknown;
  try {
    value = JSON.parse(tag);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  const out: LoggedModel[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== "object" || entry === null) continue;
    const e = entry as { artifact_path?: unknown; flavors?: unknown; utc_time_created?: unknown };
    if (typeof e.artifact_path !== "string") continue;
    out.push({
      artifactPath: e.artifact_path,
      flavors: typeof e.flavors === "object" && e.flavors !== null ? Object.keys(e.flavors) : [],
      created: typeof e.utc_time_created === "string" ? `${e.utc_time_created.slice(0, 19)} UTC` : undefined,
    });
  }
  return out;
}

/** Whether a version's source (`runs:/ID/PATH`, or the run's artifact URI + PATH) is this logged path. */
function fromPath(version: ModelVersion, runId: string, artifactUri: string | undefined, path: string): boolean {
  const source = (version.source ?? "").replace(/\/+$/, "");
  const clean = path.replace(/^\/+|\/+$/g, "");
  return (
    source === `runs:/${runId}/${clean}` ||
    (artifactUri !== undefined && source === `${artifactUri.replace(/\/+$/, "")}/${clean}`)
  );
}

function VersionLink(props: { version: ModelVersion }) {
  const v = props.version;
  return (
    <span>
      <Link to={`/models/${encodeURIComponent(v.name)}`}>
        {v.name} v{v.version}
      </Link>
      {(v.aliases ?? []).map((a) => (
        <span key={a}>
          {" "}
          <span className="chip">@{a}</span>
        </span>
      ))}
    </span>
  );
}

export function LoggedModels(props: {
  runId: string;
  artifactUri: string | undefined;
  historyTag: string | undefined;
  versions: ModelVersion[] | undefined;
  versionsError: Error | undefined;
}) {
  const logged = parseLogModelHistory(props.historyTag);
  const versions = props.versions ?? [];
  const matched = new Set<ModelVersion>();
  const rows = logged.map((m) => {
    const registered = versions.filter((v) => fromPath(v, props.runId, props.artifactUri, m.artifactPath));
    for (const v of registered) matched.add(v);
    return { model: m, registered };
  });
  const others = versions.filter((v) => !matched.has(v));
  return (
    <div data-testid="logged-models">
      <h3>Logged models</h3>
      <ErrorBox error={props.versionsError} />
      {logged.length === 0 && versions.length === 0 && props.versions !== undefined && (
        <p className="muted">
          This run logged no model. Models logged with <code>mlflow.&lt;flavor&gt;.log_model(…)</code> show up here,
          with the registry versions made from them.
        </p>
      )}
      <ul className="plain">
        {rows.map(({ model, registered }) => (
          <li key={model.artifactPath}>
            <Link
              to={href("", { tab: "artifacts", path: `${model.artifactPath.replace(/\/+$/, "")}/MLmodel` })}
              title="Its MLmodel file, in the artifacts"
            >
              <code>{model.artifactPath}</code>
            </Link>{" "}
            {model.flavors.map((f) => (
              <span key={f}>
                {" "}
                <span className="chip">{f}</span>
              </span>
            ))}
            {model.created && <span className="muted"> {model.created}</span>}
            {" — "}
            {registered.length === 0 ? (
              <span className="muted">not registered</span>
            ) : (
              <>
                registered as{" "}
                {registered.map((v, i) => (
                  <span key={`${v.name}/${v.version}`}>
                    {i > 0 && ", "}
                    <VersionLink version={v} />
                  </span>
                ))}
              </>
            )}
          </li>
        ))}
        {others.map((v) => (
          <li key={`${v.name}/${v.version}`}>
            <VersionLink version={v} /> <span className="muted">from {v.source}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
