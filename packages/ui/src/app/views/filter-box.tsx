/**
 * The MLflow filter DSL in a search box: suggests metric, param, tag and attribute keys as they are typed
 * after `metrics.` (and the others), and shows the server's error for a bad filter right under the box.
 */
import { useId, useMemo, useState, type KeyboardEvent } from "react";
import type { KnownKeys } from "./run-columns.js";

const ATTRIBUTES = ["run_name", "status", "start_time", "end_time", "user_id", "run_id", "artifact_uri"];

export function FilterBox(props: {
  value: string;
  onSubmit: (filter: string) => void;
  keys: KnownKeys;
  error: Error | undefined;
}) {
  const [draft, setDraft] = useState(props.value);
  const [caret, setCaret] = useState(props.value.length);
  const [choice, setChoice] = useState(0);
  const [closed, setClosed] = useState(false);
  const errorId = useId();
  const listId = useId();

  const context = useMemo(() => {
    const m = /(metrics|params|tags|attributes)\.(`?)([\w.\-/: ]*)$/.exec(draft.slice(0, caret));
    if (!m) return undefined;
    const pool =
      m[1] === "metrics"
        ? props.keys.metrics
        : m[1] === "params"
          ? props.keys.params
          : m[1] === "tags"
            ? props.keys.tags
            : ATTRIBUTES;
    const typed = m[3]!.toLowerCase();
    const options = pool.filter((k) => k.toLowerCase().startsWith(typed) && k !== m[3]).slice(0, 8);
    return { start: caret - m[2]!.length - m[3]!.length, options };
  }, [draft, caret, props.keys]);
  const suggestions = !closed && context && context.options.length > 0 ? context.options : [];

  const accept = (key: string) => {
    if (!context) return;
    const plain = /^[A-Za-z_][\w]*$/.test(key);
    const inserted = plain ? key : `\`${key}\``;
    const next = draft.slice(0, context.start) + inserted + " " + draft.slice(caret);
    setDraft(next);
    setCaret(context.start + inserted.length + 1);
    setChoice(0);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (suggestions.length > 0) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const delta = event.key === "ArrowDown" ? 1 : -1;
        setChoice((c) => (c + delta + suggestions.length) % suggestions.length);
        return;
      }
      if (event.key === "Tab" || (event.key === "Enter" && choice >= 0)) {
        event.preventDefault();
        accept(suggestions[Math.min(choice, suggestions.length - 1)]!);
        return;
      }
      if (event.key === "Escape") {
        setClosed(true);
        return;
      }
    }
    if (event.key === "Enter") {
      event.preventDefault();
      props.onSubmit(draft.trim());
    }
  };

  return (
    <div className="filter-box">
      <div className="filter-row">
        <input
          type="search"
          className={`filter-input mono${props.error ? " invalid" : ""}`}
          placeholder="metrics.accuracy > 0.9 and params.lr = '0.01'"
          aria-label="Filter runs (MLflow search syntax)"
          aria-invalid={props.error ? true : undefined}
          aria-describedby={props.error ? errorId : undefined}
          aria-autocomplete="list"
          aria-expanded={suggestions.length > 0}
          aria-controls={listId}
          role="combobox"
          spellCheck={false}
          value={draft}
          onChange={(e) => {
            setDraft(e.target.value);
            setCaret(e.target.selectionStart ?? e.target.value.length);
            setClosed(false);
            setChoice(0);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? draft.length)}
          onKeyDown={onKeyDown}
          onBlur={() => setTimeout(() => setClosed(true), 150)}
          onFocus={() => setClosed(false)}
          data-testid="filter-input"
        />
        <button type="button" onClick={() => props.onSubmit(draft.trim())}>
          Filter
        </button>
        {props.value && (
          <button
            type="button"
            onClick={() => {
              setDraft("");
              props.onSubmit("");
            }}
          >
            Clear
          </button>
        )}
      </div>
      {suggestions.length > 0 && (
        <ul className="suggestions" role="listbox" id={listId}>
          {suggestions.map((s, i) => (
            <li
              key={s}
              role="option"
              aria-selected={i === choice}
              className={i === choice ? "active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(s);
              }}
            >
              {s}
            </li>
          ))}
        </ul>
      )}
      {props.error && (
        <div className="field-error" id={errorId} role="alert" data-testid="filter-error">
          {props.error.message}
        </div>
      )}
    </div>
  );
}
