/**
 * A plain table for short lists (experiments, models, versions, monitors) with keyboard navigation:
 * focus it, move with the arrow keys (Home/End too), open the active row with Enter.
 */
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";

export interface Column<T> {
  header: ReactNode;
  render: (row: T) => ReactNode;
  className?: string;
}

export function DataTable<T>(props: {
  rows: readonly T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  onOpen?: (row: T) => void;
  label: string;
  rowClassName?: (row: T) => string | undefined;
  testId?: string;
}) {
  const [active, setActive] = useState(-1);
  const body = useRef<HTMLTableSectionElement>(null);
  const count = props.rows.length;
  useEffect(() => {
    if (active >= count) setActive(count - 1);
  }, [active, count]);
  useEffect(() => {
    if (active < 0) return;
    body.current?.children[active]?.scrollIntoView({ block: "nearest" });
  }, [active]);

  const onKeyDown = (event: KeyboardEvent) => {
    if (count === 0 || (event.target as HTMLElement).closest("input, button, select, textarea")) return;
    let next = active;
    if (event.key === "ArrowDown") next = Math.min(count - 1, active + 1);
    else if (event.key === "ArrowUp") next = Math.max(0, active - 1);
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = count - 1;
    else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      props.onOpen?.(props.rows[active]!);
      return;
    } else return;
    event.preventDefault();
    setActive(next);
  };

  return (
    <table
      className="data-table"
      tabIndex={0}
      aria-label={props.label}
      onKeyDown={onKeyDown}
      onFocus={() => active < 0 && count > 0 && setActive(0)}
      data-testid={props.testId}
    >
      <thead>
        <tr>
          {props.columns.map((c, i) => (
            <th key={i} className={c.className}>
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody ref={body}>
        {props.rows.map((row, i) => (
          <tr
            key={props.rowKey(row)}
            className={[i === active ? "active" : "", props.rowClassName?.(row) ?? ""].join(" ").trim() || undefined}
            aria-selected={i === active}
            onClick={() => setActive(i)}
          >
            {props.columns.map((c, j) => (
              <td key={j} className={c.className}>
                {c.render(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Key/value pairs (params, tags) as a two-column table. */
export function KeyValueTable(props: {
  entries: readonly { key: string; value: string }[];
  empty: string;
  label: string;
}) {
  if (props.entries.length === 0) return <p className="muted">{props.empty}</p>;
  const sorted = [...props.entries].sort((a, b) => a.key.localeCompare(b.key));
  return (
    <table className="data-table kv" aria-label={props.label}>
      <tbody>
        {sorted.map((e) => (
          <tr key={e.key}>
            <th scope="row">{e.key}</th>
            <td className="mono wrap">{e.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
