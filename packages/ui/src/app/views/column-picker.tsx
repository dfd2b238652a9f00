/** Chooses which params, metrics and tags the runs table shows. */
import { useState } from "react";
import { dataColumn, type KnownKeys, type RunColumn } from "./run-columns.js";

export function ColumnPicker(props: {
  keys: KnownKeys;
  chosen: RunColumn[];
  onChange: (columns: RunColumn[]) => void;
}) {
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState("");
  const chosen = new Set(props.chosen.map((c) => c.id));
  const toggle = (column: RunColumn) => {
    if (chosen.has(column.id)) props.onChange(props.chosen.filter((c) => c.id !== column.id));
    else props.onChange([...props.chosen, column]);
  };
  const group = (title: string, kind: "metric" | "param" | "tag", keys: string[]) => {
    const shown = keys.filter((k) => k.toLowerCase().includes(search.toLowerCase()));
    return (
      <fieldset>
        <legend>
          {title} ({keys.length})
        </legend>
        {shown.length === 0 && <span className="muted">none</span>}
        {shown.slice(0, 200).map((key) => {
          const column = dataColumn(kind, key);
          return (
            <label key={column.id} className="check">
              <input type="checkbox" checked={chosen.has(column.id)} onChange={() => toggle(column)} /> {key}
            </label>
          );
        })}
      </fieldset>
    );
  };
  return (
    <div className="popover-anchor">
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        Columns ({props.chosen.length})
      </button>
      {open && (
        <div
          className="popover"
          role="dialog"
          aria-label="Choose columns"
          onKeyDown={(e) => e.key === "Escape" && setOpen(false)}
        >
          <div className="popover-head">
            <input
              autoFocus
              type="search"
              placeholder="Find a key"
              aria-label="Find a key"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
            <button type="button" onClick={() => setOpen(false)}>
              Done
            </button>
          </div>
          <div className="popover-body">
            {group("Metrics", "metric", props.keys.metrics)}
            {group("Params", "param", props.keys.params)}
            {group("Tags", "tag", props.keys.tags)}
          </div>
        </div>
      )}
    </div>
  );
}
