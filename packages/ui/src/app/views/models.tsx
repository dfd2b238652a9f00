/** Registered models: search by name; each with its latest version and where its aliases point. */
import { useState } from "react";
import { searchRegisteredModels } from "../api.js";
import { DataTable } from "../components/data-table.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { formatTime } from "../format.js";
import { useLoad, useTitle } from "../hooks.js";
import { Link, navigate, setQuery, useLocation } from "../router.js";
import { quote } from "./experiments.js";

export function ModelsView() {
  useTitle("Models");
  const { query } = useLocation();
  const q = query.get("q") ?? "";
  const [draft, setDraft] = useState(q);
  const list = useLoad(
    (signal) => searchRegisteredModels(q ? `name ILIKE ${quote(`%${q}%`)}` : undefined, signal),
    [q],
  );
  const models = list.data?.registered_models ?? [];
  return (
    <div className="page">
      <h1>Models</h1>
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
          aria-label="Search models by name"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={list.error} retry={list.reload} />
      {list.loading && !list.data ? (
        <Loading what="models" />
      ) : models.length === 0 && !list.error ? (
        <div className="empty-state">
          <p>{q ? `No model matches “${q}”.` : "No registered models yet."}</p>
          {!q && (
            <pre className="code">
              <code>{`slipway models register runs:/<run_id>/model my-model\nslipway models alias my-model champion 1 --reason "first release"`}</code>
            </pre>
          )}
        </div>
      ) : (
        <DataTable
          label="Registered models"
          testId="models-table"
          rows={models}
          rowKey={(m) => m.name}
          onOpen={(m) => navigate(`/models/${encodeURIComponent(m.name)}`)}
          columns={[
            { header: "Name", render: (m) => <Link to={`/models/${encodeURIComponent(m.name)}`}>{m.name}</Link> },
            {
              header: "Latest version",
              className: "narrow",
              render: (m) => {
                const versions = (m.latest_versions ?? []).map((v) => Number(v.version));
                return versions.length ? `v${Math.max(...versions)}` : "—";
              },
            },
            {
              header: "Aliases",
              render: (m) => (
                <span>
                  {(m.aliases ?? []).map((a) => (
                    <span key={a.alias} className="chip">
                      @{a.alias} → v{a.version}
                    </span>
                  ))}
                </span>
              ),
            },
            { header: "Updated", className: "nowrap", render: (m) => formatTime(m.last_updated_timestamp) },
            { header: "Description", className: "wrap", render: (m) => m.description ?? "" },
          ]}
        />
      )}
    </div>
  );
}
