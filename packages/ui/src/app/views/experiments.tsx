/** Experiments: search by name, create, rename, delete and restore. */
import { useState, type FormEvent } from "react";
import {
  createExperiment,
  deleteExperiment,
  renameExperiment,
  restoreExperiment,
  searchExperiments,
  type Experiment,
  type ViewType,
} from "../api.js";
import { DataTable } from "../components/data-table.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { formatTime } from "../format.js";
import { useAction, useLoad, useTitle } from "../hooks.js";
import { Link, href, navigate, setQuery, useLocation } from "../router.js";

const VIEWS: Record<string, ViewType> = { active: "ACTIVE_ONLY", deleted: "DELETED_ONLY", all: "ALL" };

export function quote(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

export function ExperimentsView() {
  useTitle("Experiments");
  const { query } = useLocation();
  const q = query.get("q") ?? "";
  const view = query.get("view") ?? "active";
  const [draft, setDraft] = useState(q);
  const list = useLoad(
    (signal) =>
      searchExperiments(
        {
          max_results: 1000,
          view_type: VIEWS[view] ?? "ACTIVE_ONLY",
          order_by: ["last_update_time DESC"],
          ...(q ? { filter: `name ILIKE ${quote(`%${q}%`)}` } : {}),
        },
        signal,
      ),
    [q, view],
  );
  const experiments = list.data?.experiments ?? [];

  return (
    <div className="page">
      <div className="page-head">
        <h1>Experiments</h1>
        <CreateExperiment />
      </div>
      <form
        className="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ q: draft.trim() });
        }}
      >
        <input
          type="search"
          placeholder="Search by name"
          aria-label="Search experiments by name"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit">Search</button>
        <label>
          Show{" "}
          <select value={view} onChange={(e) => setQuery({ view: e.target.value === "active" ? "" : e.target.value })}>
            <option value="active">active</option>
            <option value="deleted">deleted</option>
            <option value="all">all</option>
          </select>
        </label>
      </form>
      <ErrorBox error={list.error} retry={list.reload} />
      {list.loading && !list.data ? (
        <Loading what="experiments" />
      ) : experiments.length === 0 && !list.error ? (
        <p className="muted">
          {q ? `No ${view === "active" ? "" : `${view} `}experiment matches “${q}”.` : "No experiments here yet."}
        </p>
      ) : (
        <DataTable
          label="Experiments"
          testId="experiments-table"
          rows={experiments}
          rowKey={(e) => e.experiment_id}
          onOpen={(e) => navigate(`/experiments/${encodeURIComponent(e.experiment_id)}`)}
          rowClassName={(e) => (e.lifecycle_stage === "deleted" ? "deleted" : undefined)}
          columns={[
            { header: "Name", render: (e) => <ExperimentName experiment={e} onChanged={list.reload} /> },
            { header: "ID", className: "mono narrow", render: (e) => e.experiment_id },
            { header: "Created", className: "nowrap", render: (e) => formatTime(e.creation_time) },
            { header: "Last updated", className: "nowrap", render: (e) => formatTime(e.last_update_time) },
            { header: "", className: "actions", render: (e) => <Lifecycle experiment={e} onChanged={list.reload} /> },
          ]}
        />
      )}
    </div>
  );
}

function CreateExperiment() {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let id = "";
    const ok = await action.run(async () => {
      id = (await createExperiment(name.trim())).experiment_id;
    });
    if (ok) navigate(`/experiments/${encodeURIComponent(id)}`);
  };
  if (!open)
    return (
      <button type="button" className="primary" onClick={() => setOpen(true)}>
        New experiment
      </button>
    );
  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)}>
      <input
        autoFocus
        placeholder="Experiment name"
        aria-label="New experiment name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => e.key === "Escape" && setOpen(false)}
      />
      <button type="submit" className="primary" disabled={action.busy || name.trim() === ""}>
        Create
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}

function ExperimentName(props: { experiment: Experiment; onChanged: () => void }) {
  const e = props.experiment;
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(e.name);
  const action = useAction();
  if (!editing)
    return (
      <span className="name-cell">
        <Link to={href(`/experiments/${encodeURIComponent(e.experiment_id)}`)}>{e.name}</Link>
        {e.lifecycle_stage === "deleted" && <span className="badge">deleted</span>}
        <button
          type="button"
          className="link-button subtle"
          onClick={() => setEditing(true)}
          aria-label={`Rename ${e.name}`}
        >
          rename
        </button>
      </span>
    );
  return (
    <form
      className="inline-form"
      onSubmit={(ev) => {
        ev.preventDefault();
        void action
          .run(() => renameExperiment(e.experiment_id, name.trim()))
          .then((ok) => {
            if (ok) {
              setEditing(false);
              props.onChanged();
            }
          });
      }}
    >
      <input
        autoFocus
        aria-label="New name"
        value={name}
        onChange={(ev) => setName(ev.target.value)}
        onKeyDown={(ev) => ev.key === "Escape" && setEditing(false)}
      />
      <button type="submit" disabled={action.busy || name.trim() === ""}>
        Save
      </button>
      <button type="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}

function Lifecycle(props: { experiment: Experiment; onChanged: () => void }) {
  const e = props.experiment;
  const action = useAction();
  const deleted = e.lifecycle_stage === "deleted";
  const click = () => {
    if (!deleted && !confirm(`Delete experiment “${e.name}” and its runs? You can restore it later.`)) return;
    void action
      .run(() => (deleted ? restoreExperiment(e.experiment_id) : deleteExperiment(e.experiment_id)))
      .then((ok) => ok && props.onChanged());
  };
  return (
    <span>
      <button type="button" className={deleted ? "" : "danger"} disabled={action.busy} onClick={click}>
        {deleted ? "Restore" : "Delete"}
      </button>
      <ErrorBox error={action.error} />
    </span>
  );
}
