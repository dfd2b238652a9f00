/**
 * The runs of one experiment: filter (MLflow's DSL), sort (server side), columns, selection for compare and
 * bulk delete or restore. Everything that shapes the list lives in the URL.
 */
import { useCallback, useEffect, useMemo, useReducer, useState } from "react";
import { deleteRun, getExperiment, restoreRun, type Run } from "../api.js";
import { ConfirmDialog } from "../components/confirm-dialog.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { Snippet } from "../components/snippet.js";
import { useAction, useLoad, useTitle } from "../hooks.js";
import { Link, href, navigate, setQuery, useLocation } from "../router.js";
import { ColumnPicker } from "./column-picker.js";
import { FilterBox } from "./filter-box.js";
import {
  ATTRIBUTE_COLUMNS,
  collectKeys,
  defaultColumns,
  parseColumns,
  type KnownKeys,
  type RunColumn,
} from "./run-columns.js";
import { RunPager } from "./run-pager.js";
import { RunsTable, type SortState } from "./runs-table.js";
import { loadColumnWidths, saveColumnWidths, withWidths, type ColumnWidths } from "./runs-widths.js";

const VIEW_TYPES = { active: "ACTIVE_ONLY", deleted: "DELETED_ONLY", all: "ALL" } as const;

export function RunsView(props: { experimentId: string }) {
  const { query } = useLocation();
  const filter = query.get("filter") ?? "";
  const sortParam = query.get("sort") ?? "";
  const view = (query.get("view") ?? "active") as keyof typeof VIEW_TYPES;
  const colsParam = query.get("cols");
  const experiment = useLoad((signal) => getExperiment(props.experimentId, signal), [props.experimentId]);
  useTitle(experiment.data?.experiment.name ?? "Runs");

  const sort = useMemo<SortState | undefined>(() => {
    const m = /^(.+?)(?: (asc|desc))?$/.exec(sortParam);
    return m ? { column: m[1]!, ascending: m[2] === "asc" } : undefined;
  }, [sortParam]);

  const [, rerender] = useReducer((x: number) => x + 1, 0);
  // bumped to list the runs again (after an undone delete brought runs back)
  const [generation, reloadRuns] = useReducer((x: number) => x + 1, 0);
  const [keys, setKeys] = useState<KnownKeys>({ metrics: [], params: [], tags: [] });
  const pager = useMemo(() => {
    const orderBy = sort ? orderByOf(sort) : undefined;
    return new RunPager(
      {
        experiment_ids: [props.experimentId],
        run_view_type: VIEW_TYPES[view] ?? "ACTIVE_ONLY",
        ...(filter ? { filter } : {}),
        ...(orderBy ? { order_by: [orderBy] } : {}),
      },
      rerender,
    );
  }, [props.experimentId, filter, sort, view, generation]);
  useEffect(() => {
    pager.loadMore();
    return () => pager.close();
  }, [pager]);

  // the keys for columns and autocomplete, from the first runs seen (a sample is enough for a picker)
  const sample = pager.runs.length > 0 ? Math.min(pager.runs.length, 2000) : 0;
  useEffect(() => {
    if (sample === 0) return;
    const found = collectKeys(pager.runs.slice(0, sample));
    setKeys((old) => merge(old, found));
  }, [pager, sample]);

  const chosen = useMemo(() => parseColumns(colsParam) ?? defaultColumns(keys), [colsParam, keys]);
  const [widths, setWidths] = useState<ColumnWidths>(loadColumnWidths);
  useEffect(() => saveColumnWidths(widths), [widths]);
  const onResize = useCallback(
    (column: RunColumn, width: number) => setWidths((old) => ({ ...old, [column.id]: width })),
    [],
  );
  const columns = useMemo(() => withWidths([...ATTRIBUTE_COLUMNS, ...chosen], widths), [chosen, widths]);

  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const toggle = useCallback((id: string) => {
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);
  const toggleAll = () =>
    setSelected((old) => (old.size >= pager.runs.length ? new Set() : new Set(pager.runs.map((r) => r.info.run_id))));
  const onNeedMore = useCallback(() => pager.loadMore(), [pager]);
  const onSort = (column: RunColumn) => {
    // descending first (best metric on top), then ascending, then the default order
    const next = sort?.column !== column.id ? `${column.id} desc` : sort.ascending ? "" : `${column.id} asc`;
    setQuery({ sort: next });
  };

  const bulk = useAction();
  const [confirming, setConfirming] = useState<string[] | undefined>();
  const [undo, setUndo] = useState<{ ids: string[]; restored: boolean } | undefined>();
  useEffect(() => {
    if (!undo) return;
    const timer = setTimeout(() => setUndo(undefined), undo.restored ? 5000 : 15_000);
    return () => clearTimeout(timer);
  }, [undo]);
  const change = (ids: string[], restore: boolean) =>
    bulk.run(async () => {
      for (let i = 0; i < ids.length; i += 16)
        await Promise.all(ids.slice(i, i + 16).map((id) => (restore ? restoreRun(id) : deleteRun(id))));
    });
  const bulkChange = (restore: boolean) => {
    const ids = [...selected];
    if (!restore) {
      setConfirming(ids);
      return;
    }
    void change(ids, true).then(() => {
      if (view === "deleted") pager.remove(new Set(ids));
      setSelected(new Set());
    });
  };
  const deleteConfirmed = (ids: string[]) => {
    setConfirming(undefined);
    void change(ids, false).then((ok) => {
      if (view !== "all") pager.remove(new Set(ids));
      setSelected(new Set());
      if (ok) setUndo({ ids, restored: false });
    });
  };
  const undoDelete = (ids: string[]) => {
    void change(ids, true).then((ok) => {
      if (!ok) return;
      setUndo({ ids, restored: true });
      reloadRuns();
    });
  };

  const name = experiment.data?.experiment.name;
  const filterError = pager.error && pager.runs.length === 0 && filter ? pager.error : undefined;
  const listError = pager.error && !filterError ? pager.error : undefined;
  const empty = pager.done && pager.runs.length === 0 && !pager.error;

  return (
    <div className="page page-wide">
      <div className="page-head">
        <div>
          <div className="crumbs">
            <Link to="/experiments">Experiments</Link> /
          </div>
          <h1>
            {name ?? props.experimentId}
            {experiment.data?.experiment.lifecycle_stage === "deleted" && <span className="badge">deleted</span>}
          </h1>
        </div>
      </div>
      <ErrorBox error={experiment.error} retry={experiment.reload} />
      <div className="toolbar">
        <FilterBox
          key={filter}
          value={filter}
          onSubmit={(f) => setQuery({ filter: f })}
          keys={keys}
          error={filterError}
        />
      </div>
      <div className="toolbar">
        <ColumnPicker
          keys={keys}
          chosen={chosen}
          onChange={(cols) => setQuery({ cols: cols.map((c) => c.id).join(",") || "-" }, { replace: true })}
        />
        <label>
          Show{" "}
          <select value={view} onChange={(e) => setQuery({ view: e.target.value === "active" ? "" : e.target.value })}>
            <option value="active">active runs</option>
            <option value="deleted">deleted runs</option>
            <option value="all">all runs</option>
          </select>
        </label>
        <span className="muted" aria-live="polite" data-testid="runs-count">
          {pager.runs.length.toLocaleString()}
          {pager.done || pager.error ? "" : "+"} run{pager.runs.length === 1 ? "" : "s"}
          {pager.loading ? " · loading…" : ""}
        </span>
        <span className="spacer" />
        {selected.size > 0 && (
          <>
            <span>{selected.size} selected</span>
            <button
              type="button"
              className="primary"
              disabled={selected.size < 2 || selected.size > 100}
              title={selected.size > 100 ? "Compare up to 100 runs" : undefined}
              onClick={() => navigate(href("/compare", { runs: [...selected].join(",") }))}
            >
              Compare
            </button>
            {view !== "active" && (
              <button type="button" disabled={bulk.busy} onClick={() => bulkChange(true)}>
                Restore
              </button>
            )}
            {view !== "deleted" && (
              <button type="button" className="danger" disabled={bulk.busy} onClick={() => bulkChange(false)}>
                Delete
              </button>
            )}
            <button type="button" onClick={() => setSelected(new Set())}>
              Clear
            </button>
          </>
        )}
      </div>
      {confirming && (
        <ConfirmDialog
          title={`Delete ${plural(confirming.length)}?`}
          confirmLabel={`Delete ${plural(confirming.length)}`}
          danger
          onConfirm={() => deleteConfirmed(confirming)}
          onCancel={() => setConfirming(undefined)}
        >
          <p>
            Deleted runs leave this list; they can be restored (Undo, or Show → deleted runs) until the server&apos;s
            garbage collection removes them for good.
          </p>
        </ConfirmDialog>
      )}
      {undo && (
        <div className="toast" role="status" data-testid="undo-toast">
          {undo.restored ? `Restored ${plural(undo.ids.length)}.` : `Deleted ${plural(undo.ids.length)}.`}
          {!undo.restored && (
            <button type="button" className="link-button" disabled={bulk.busy} onClick={() => undoDelete(undo.ids)}>
              Undo
            </button>
          )}
          <button type="button" className="link-button subtle" aria-label="Dismiss" onClick={() => setUndo(undefined)}>
            ×
          </button>
        </div>
      )}
      <ErrorBox error={bulk.error} />
      <ErrorBox error={listError} retry={() => pager.loadMore()} />
      {empty && !filter && view === "active" ? (
        <Snippet experimentName={name} />
      ) : empty ? (
        <p className="muted">No runs match{filter ? " this filter" : ""}.</p>
      ) : pager.runs.length === 0 && pager.loading ? (
        <Loading what="runs" />
      ) : pager.runs.length > 0 ? (
        <RunsTable
          runs={pager.runs}
          more={!pager.done && !pager.error}
          loading={pager.loading}
          columns={columns}
          selected={selected}
          onToggle={toggle}
          onToggleAll={toggleAll}
          onOpen={(run: Run) => navigate(`/runs/${encodeURIComponent(run.info.run_id)}`)}
          onNeedMore={onNeedMore}
          sort={sort}
          onSort={onSort}
          onResize={onResize}
        />
      ) : null}
    </div>
  );
}

function plural(n: number): string {
  return `${n.toLocaleString()} run${n === 1 ? "" : "s"}`;
}

function orderByOf(sort: SortState): string | undefined {
  const column = ATTRIBUTE_COLUMNS.find((c) => c.id === sort.column) ?? parseColumns(sort.column)?.[0] ?? undefined;
  if (!column?.orderBy) return undefined;
  return `${column.orderBy} ${sort.ascending ? "ASC" : "DESC"}`;
}

function merge(old: KnownKeys, found: KnownKeys): KnownKeys {
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort();
  const next = {
    metrics: union(old.metrics, found.metrics),
    params: union(old.params, found.params),
    tags: [...new Set([...old.tags, ...found.tags])],
  };
  return same(next.metrics, old.metrics) && same(next.params, old.params) && same(next.tags, old.tags) ? old : next;
}
