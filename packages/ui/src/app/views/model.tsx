/**
 * One registered model: its aliases (move one, with a reason), its versions with their runs, and the
 * alias-history timeline — every move and stage change, when and why.
 */
import { useState, type FormEvent } from "react";
import {
  aliasHistory,
  getRegisteredModel,
  searchModelVersions,
  setAlias,
  type ModelVersion,
  type RegisteredModel,
} from "../api.js";
import { DataTable } from "../components/data-table.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { formatTime, shortId } from "../format.js";
import { useAction, useLoad, useTitle } from "../hooks.js";
import { Link, navigate } from "../router.js";

export function ModelView(props: { name: string }) {
  useTitle(props.name);
  const model = useLoad((signal) => getRegisteredModel(props.name, signal), [props.name]);
  const versions = useLoad((signal) => searchModelVersions(props.name, signal), [props.name]);
  const history = useLoad((signal) => aliasHistory(props.name, signal), [props.name]);
  const reload = () => {
    model.reload();
    versions.reload();
    history.reload();
  };
  const m = model.data?.registered_model;
  const list = [...(versions.data?.model_versions ?? [])].sort((a, b) => Number(b.version) - Number(a.version));

  return (
    <div className="page">
      <div className="crumbs">
        <Link to="/models">Models</Link> /
      </div>
      <h1>{props.name}</h1>
      <ErrorBox error={model.error} retry={model.reload} />
      {m?.description && <p className="wrap">{m.description}</p>}
      {m && (
        <section>
          <h2>Aliases</h2>
          <div className="chips" data-testid="aliases">
            {(m.aliases ?? []).length === 0 && <span className="muted">No aliases yet.</span>}
            {(m.aliases ?? []).map((a) => (
              <span key={a.alias} className="chip big">
                @{a.alias} → v{a.version}
              </span>
            ))}
          </div>
          <MoveAlias model={m} versions={list} onMoved={reload} />
        </section>
      )}
      <div className="grid-2">
        <section>
          <h2>Versions</h2>
          <ErrorBox error={versions.error} retry={versions.reload} />
          {!versions.data && !versions.error && <Loading what="versions" />}
          {versions.data && list.length === 0 && <p className="muted">No versions.</p>}
          {list.length > 0 && (
            <DataTable
              label="Model versions"
              testId="versions-table"
              rows={list}
              rowKey={(v) => v.version}
              onOpen={(v) => v.run_id && navigate(`/runs/${encodeURIComponent(v.run_id)}`)}
              columns={[
                { header: "Version", className: "narrow", render: (v) => `v${v.version}` },
                {
                  header: "Aliases",
                  render: (v) =>
                    (v.aliases ?? []).map((a) => (
                      <span key={a} className="chip">
                        @{a}
                      </span>
                    )),
                },
                { header: "Stage", render: (v) => (v.current_stage === "None" ? "" : v.current_stage) },
                {
                  header: "Run",
                  render: (v) =>
                    v.run_id ? <Link to={`/runs/${encodeURIComponent(v.run_id)}`}>{shortId(v.run_id)}</Link> : "—",
                },
                { header: "Created", className: "nowrap", render: (v) => formatTime(v.creation_timestamp) },
              ]}
            />
          )}
        </section>
        <section>
          <h2>Alias history</h2>
          <ErrorBox error={history.error} retry={history.reload} />
          {!history.data && !history.error && <Loading what="history" />}
          {history.data && <Timeline entries={history.data.history ?? []} />}
        </section>
      </div>
    </div>
  );
}

function MoveAlias(props: { model: RegisteredModel; versions: ModelVersion[]; onMoved: () => void }) {
  const aliases = (props.model.aliases ?? []).map((a) => a.alias);
  const [alias, setAliasName] = useState(aliases[0] ?? "champion");
  const [version, setVersion] = useState("");
  const [reason, setReason] = useState("");
  const [done, setDone] = useState("");
  const action = useAction();
  const current = props.model.aliases?.find((a) => a.alias === alias)?.version;
  const target = version || props.versions.find((v) => v.version !== current)?.version || "";
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone("");
    const ok = await action.run(() =>
      setAlias({ name: props.model.name, alias: alias.trim(), version: target, reason }),
    );
    if (ok) {
      setDone(`@${alias.trim()} now points to v${target}.`);
      setReason("");
      setVersion("");
      props.onMoved();
    }
  };
  return (
    <form className="alias-form" onSubmit={(e) => void submit(e)} aria-label="Move an alias">
      <label>
        Alias
        <input list="alias-names" value={alias} onChange={(e) => setAliasName(e.target.value)} required />
        <datalist id="alias-names">
          {aliases.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
      </label>
      <label>
        to version
        <select value={target} onChange={(e) => setVersion(e.target.value)} aria-label="Version">
          {props.versions.map((v) => (
            <option key={v.version} value={v.version}>
              v{v.version}
              {v.version === current ? " (current)" : ""}
            </option>
          ))}
        </select>
      </label>
      <label className="grow">
        Reason
        <input
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          placeholder="why (kept in the history)"
          maxLength={1000}
        />
      </label>
      <button type="submit" className="primary" disabled={action.busy || !alias.trim() || !target}>
        {current ? "Move alias" : "Set alias"}
      </button>
      <ErrorBox error={action.error} />
      {done && (
        <span className="ok" role="status">
          {done}
        </span>
      )}
    </form>
  );
}

interface HistoryEntry {
  alias: string;
  kind: "alias" | "stage";
  from_version?: string;
  to_version?: string;
  changed_at: number;
  user_id?: string;
  reason?: string;
}

function Timeline(props: { entries: readonly HistoryEntry[] }) {
  if (props.entries.length === 0) return <p className="muted">No alias or stage has changed yet.</p>;
  const v = (x: string | undefined) => (x === undefined ? "—" : `v${x}`);
  return (
    <ol className="timeline" data-testid="alias-history">
      {props.entries.map((e, i) => (
        <li key={i} className={`kind-${e.kind}`}>
          <time dateTime={new Date(e.changed_at).toISOString()}>{formatTime(e.changed_at)}</time>
          <div>
            <strong>{e.kind === "alias" ? `@${e.alias}` : `stage ${e.alias}`}</strong>: {v(e.from_version)} →{" "}
            {v(e.to_version)}
            {e.user_id && <span className="muted"> by {e.user_id}</span>}
          </div>
          {e.reason && <div className="reason">“{e.reason}”</div>}
        </li>
      ))}
    </ol>
  );
}
