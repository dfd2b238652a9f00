/**
 * The runs table, windowed by hand: only the rows in view (plus a few) are in the DOM, each placed at
 * index × row height inside a spacer as tall as every loaded row, so 100,000 runs scroll as smoothly as 100.
 * Keyboard: arrows, Page Up/Down, Home/End move the active row; Enter opens it; Space selects it.
 * Columns are resized by dragging a header's right edge (or focusing it and pressing ← / →).
 */
import {
  memo,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type KeyboardEvent,
  type MouseEvent,
  type PointerEvent,
  type UIEvent,
} from "react";
import type { Run } from "../api.js";
import { Link } from "../router.js";
import type { RunColumn } from "./run-columns.js";

const ROW = 30;
const HEADER = 34;
const OVERSCAN = 12;
const SELECT_WIDTH = 36;

export interface SortState {
  column: string;
  ascending: boolean;
}

export interface RunsTableProps {
  runs: readonly Run[];
  /** More runs follow (the table asks for them as the person nears the end). */
  more: boolean;
  loading: boolean;
  columns: RunColumn[];
  selected: ReadonlySet<string>;
  onToggle: (runId: string) => void;
  onToggleAll: () => void;
  onOpen: (run: Run) => void;
  onNeedMore: () => void;
  sort: SortState | undefined;
  onSort: (column: RunColumn) => void;
  /** The person resized a column (while dragging, too). */
  onResize?: (column: RunColumn, width: number) => void;
}

export const MIN_COLUMN_WIDTH = 48;
export const MAX_COLUMN_WIDTH = 1200;

export function RunsTable(props: RunsTableProps) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [active, setActive] = useState(-1);
  const frame = useRef(0);
  const firstRowMarked = useRef(false);
  const { runs, columns } = props;
  const count = runs.length;
  const template = `${SELECT_WIDTH}px ${columns.map((c) => `${c.width}px`).join(" ")}`;
  const width = SELECT_WIDTH + columns.reduce((sum, c) => sum + c.width, 0);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    setHeight(el.clientHeight);
    return () => observer.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const visible = Math.ceil(height / ROW) + 2 * OVERSCAN;
  const last = Math.min(count, first + visible);

  // ask for the next page while the person is still a few screens away from the end
  const { more, loading, onNeedMore } = props;
  useEffect(() => {
    if (more && !loading && last + 3 * visible >= count) onNeedMore();
  }, [more, loading, last, visible, count, onNeedMore]);

  useEffect(() => {
    if (count > 0 && !firstRowMarked.current) {
      firstRowMarked.current = true;
      performance.mark("slipway:runs-first-row");
    }
  }, [count]);

  const onScroll = (event: UIEvent<HTMLDivElement>) => {
    const top = event.currentTarget.scrollTop;
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => setScrollTop(top));
  };

  const show = (index: number) => {
    const el = box.current;
    if (!el) return;
    const top = index * ROW;
    const viewport = el.clientHeight - HEADER;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW > el.scrollTop + viewport) el.scrollTop = top + ROW - viewport;
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (count === 0 || (event.target as HTMLElement).closest("input, button, a")) return;
    const page = Math.max(1, Math.floor((height - HEADER) / ROW) - 1);
    let next = active;
    switch (event.key) {
      case "ArrowDown":
        next = Math.min(count - 1, active + 1);
        break;
      case "ArrowUp":
        next = Math.max(0, active - 1);
        break;
      case "PageDown":
        next = Math.min(count - 1, active + page);
        break;
      case "PageUp":
        next = Math.max(0, active - page);
        break;
      case "Home":
        next = 0;
        break;
      case "End":
        next = count - 1;
        break;
      case "Enter":
        if (active >= 0) props.onOpen(runs[active]!);
        event.preventDefault();
        return;
      case " ":
        if (active >= 0) props.onToggle(runs[active]!.info.run_id);
        event.preventDefault();
        return;
      default:
        return;
    }
    event.preventDefault();
    setActive(next);
    show(next);
  };

  // rows are keyed by their slot in the window, not by run: scrolling reuses the same DOM nodes and only
  // changes their text, and a memoised row whose run, position and state did not change is not rendered again
  const slots = visible + 1;
  const rows = [];
  for (let i = first; i < last; i++) {
    const run = runs[i]!;
    rows.push(
      <RunRow
        key={i % slots}
        run={run}
        index={i}
        columns={columns}
        template={template}
        width={width}
        active={i === active}
        selected={props.selected.has(run.info.run_id)}
        onToggle={props.onToggle}
        onActivate={setActive}
      />,
    );
  }

  const allSelected = count > 0 && props.selected.size >= count && runs.every((r) => props.selected.has(r.info.run_id));
  return (
    <div
      ref={box}
      className="vt"
      role="grid"
      aria-label="Runs"
      aria-rowcount={props.more ? -1 : count + 1}
      aria-multiselectable
      tabIndex={0}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
      onFocus={() => active < 0 && count > 0 && setActive(Math.floor(scrollTop / ROW))}
      onMouseOver={showFullText}
      data-testid="runs-table"
    >
      <RunsHeader
        columns={columns}
        template={template}
        width={width}
        allSelected={allSelected}
        onToggleAll={props.onToggleAll}
        sort={props.sort}
        onSort={props.onSort}
        onResize={props.onResize}
      />
      <div className="vt-body" style={{ height: count * ROW + (props.more ? ROW : 0), width }}>
        {rows}
        {props.more && (
          <div className="vt-row vt-more" style={{ transform: `translateY(${count * ROW}px)`, width }}>
            Loading more runs…
          </div>
        )}
      </div>
    </div>
  );
}

/** A cell's whole text as its tooltip, set when the pointer reaches it (not on every render while scrolling). */
function showFullText(event: MouseEvent<HTMLDivElement>): void {
  const cell = (event.target as HTMLElement).closest<HTMLElement>(".vt-cell");
  if (cell && cell.title !== cell.textContent) cell.title = cell.textContent ?? "";
}

const RunRow = memo(function RunRow(props: {
  run: Run;
  index: number;
  columns: RunColumn[];
  template: string;
  width: number;
  active: boolean;
  selected: boolean;
  onToggle: (runId: string) => void;
  onActivate: (index: number) => void;
}) {
  const { run, index } = props;
  const id = run.info.run_id;
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      aria-selected={props.selected}
      data-row-index={index}
      className={`vt-row${props.active ? " active" : ""}${props.selected ? " selected" : ""}${run.info.lifecycle_stage === "deleted" ? " deleted" : ""}`}
      style={{ transform: `translateY(${index * ROW}px)`, gridTemplateColumns: props.template, width: props.width }}
      onClick={() => props.onActivate(index)}
    >
      <div role="gridcell" className="vt-cell select">
        <input
          type="checkbox"
          tabIndex={-1}
          checked={props.selected}
          onChange={() => props.onToggle(id)}
          aria-label={`Select run ${run.info.run_name ?? id}`}
        />
      </div>
      {props.columns.map((c) => {
        const text = c.text(run);
        return (
          <div
            role="gridcell"
            key={c.id}
            className={`vt-cell${c.numeric ? " num" : ""}${c.id === "status" ? ` status status-${text.toLowerCase()}` : ""}`}
          >
            {c.id === "run_name" ? (
              <Link to={`/runs/${encodeURIComponent(id)}`} tabIndex={-1}>
                {text}
              </Link>
            ) : (
              text
            )}
          </div>
        );
      })}
    </div>
  );
});

const RunsHeader = memo(function RunsHeader(props: {
  columns: RunColumn[];
  template: string;
  width: number;
  allSelected: boolean;
  onToggleAll: () => void;
  sort: SortState | undefined;
  onSort: (column: RunColumn) => void;
  onResize: ((column: RunColumn, width: number) => void) | undefined;
}) {
  return (
    <div
      className="vt-header"
      role="row"
      aria-rowindex={1}
      style={{ gridTemplateColumns: props.template, width: props.width }}
    >
      <div role="columnheader" className="vt-cell select">
        <input
          type="checkbox"
          checked={props.allSelected}
          onChange={props.onToggleAll}
          aria-label="Select every loaded run"
          tabIndex={-1}
        />
      </div>
      {props.columns.map((c) => {
        const sorted = props.sort?.column === c.id ? props.sort : undefined;
        return (
          <div
            role="columnheader"
            key={c.id}
            className={`vt-cell${c.numeric ? " num" : ""}${c.kind !== "attr" ? ` kind-${c.kind}` : ""}`}
            aria-sort={sorted ? (sorted.ascending ? "ascending" : "descending") : "none"}
            title={c.kind === "attr" ? c.label : `${c.kind} ${c.key}`}
          >
            {c.orderBy ? (
              <button type="button" className="sort" onClick={() => props.onSort(c)} tabIndex={-1}>
                {c.label}
                {sorted ? (sorted.ascending ? " ▲" : " ▼") : ""}
              </button>
            ) : (
              c.label
            )}
            {props.onResize && <ResizeHandle column={c} onResize={props.onResize} />}
          </div>
        );
      })}
    </div>
  );
});

/** The right edge of a header: drag it (pointer captured, so the drag may leave the header) or use ← / →. */
function ResizeHandle(props: { column: RunColumn; onResize: (column: RunColumn, width: number) => void }) {
  const { column, onResize } = props;
  const start = useRef<{ x: number; width: number } | undefined>(undefined);
  const clamp = (w: number) => Math.round(Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, w)));
  return (
    <div
      className="col-resize"
      role="separator"
      aria-orientation="vertical"
      aria-label={`Resize column ${column.label}`}
      aria-valuenow={column.width}
      aria-valuemin={MIN_COLUMN_WIDTH}
      aria-valuemax={MAX_COLUMN_WIDTH}
      tabIndex={0}
      data-testid={`resize-${column.id}`}
      onPointerDown={(e: PointerEvent<HTMLDivElement>) => {
        e.preventDefault();
        e.stopPropagation();
        e.currentTarget.setPointerCapture(e.pointerId);
        start.current = { x: e.clientX, width: column.width };
      }}
      onPointerMove={(e: PointerEvent<HTMLDivElement>) => {
        if (!start.current) return;
        onResize(column, clamp(start.current.width + e.clientX - start.current.x));
      }}
      onPointerUp={() => (start.current = undefined)}
      onPointerCancel={() => (start.current = undefined)}
      onClick={(e) => e.stopPropagation()}
      onKeyDown={(e: KeyboardEvent<HTMLDivElement>) => {
        const delta = e.key === "ArrowLeft" ? -16 : e.key === "ArrowRight" ? 16 : 0;
        if (delta === 0) return;
        e.preventDefault();
        e.stopPropagation();
        onResize(column, clamp(column.width + delta));
      }}
    />
  );
}
