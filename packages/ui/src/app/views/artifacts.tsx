/**
 * A run's artifacts: a folder tree (folders load when opened) and a preview of the chosen file — images,
 * JSON (pretty-printed), CSV (as a table), text, and HTML reports in a sandboxed frame. The chosen file is in
 * the URL (`?tab=artifacts&path=...`).
 */
import { useState } from "react";
import { artifactUrl, listArtifacts, type FileInfo, type Run } from "../api.js";
import { ErrorBox, Loading } from "../components/error-box.js";
import { formatBytes } from "../format.js";
import { useLoad } from "../hooks.js";
import { setQuery, useLocation } from "../router.js";

const IMAGE = new Set(["png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico"]);
const TEXT = new Set(
  [
    "txt log md yaml yml py ts js mjs sh cfg ini toml xml sql r",
    "patch diff jsonl ndjson properties env gitignore lock",
  ]
    .join(" ")
    .split(" "),
);
const TEXT_NAMES = new Set(["MLmodel", "Dockerfile", "requirements.txt", "conda.yaml", "python_env.yaml", "LICENSE"]);
/** Larger files are not fetched for a preview (the download link stays). */
const PREVIEW_LIMIT = 5 * 1024 * 1024;

type Kind = "image" | "html" | "json" | "csv" | "text" | "none";

export function previewKind(path: string): Kind {
  const name = path.split("/").pop() ?? "";
  const ext = name.includes(".") ? name.split(".").pop()!.toLowerCase() : "";
  if (IMAGE.has(ext)) return "image";
  if (ext === "html" || ext === "htm") return "html";
  if (ext === "json") return "json";
  if (ext === "csv" || ext === "tsv") return "csv";
  if (TEXT.has(ext) || TEXT_NAMES.has(name)) return "text";
  return "none";
}

export function ArtifactsBrowser(props: { run: Run }) {
  const { query } = useLocation();
  const selected = query.get("path") ?? "";
  const runId = props.run.info.run_id;
  const root = useLoad((signal) => listArtifacts(runId, "", signal), [runId]);
  const [sizes] = useState(() => new Map<string, number | undefined>());
  const rootUri = root.data?.root_uri ?? props.run.info.artifact_uri ?? "";
  const proxied = artifactUrl(rootUri, "") !== undefined;

  if (root.error) return <ErrorBox error={root.error} retry={root.reload} />;
  if (!root.data) return <Loading what="artifacts" />;
  if (!proxied)
    return (
      <p className="muted">
        This run stores its artifacts at <code>{rootUri}</code>, which clients read directly, not through this server,
        so the UI cannot show them.
      </p>
    );
  const files = root.data.files ?? [];
  if (files.length === 0) return <p className="muted">This run has no artifacts.</p>;
  const select = (file: FileInfo) => {
    sizes.set(file.path, file.file_size);
    setQuery({ path: file.path }, { replace: true });
  };
  return (
    <div className="artifacts">
      <nav className="artifact-tree" aria-label="Artifacts">
        <Tree runId={runId} files={files} selected={selected} onSelect={select} depth={0} />
      </nav>
      <div className="artifact-preview">
        {selected ? (
          <Preview key={selected} rootUri={rootUri} path={selected} size={sizes.get(selected)} />
        ) : (
          <p className="muted">Choose a file to preview it.</p>
        )}
      </div>
    </div>
  );
}

function Tree(props: {
  runId: string;
  files: readonly FileInfo[];
  selected: string;
  onSelect: (file: FileInfo) => void;
  depth: number;
}) {
  const sorted = [...props.files].sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path));
  return (
    <ul className="tree" role={props.depth === 0 ? "tree" : "group"}>
      {sorted.map((f) =>
        f.is_dir ? (
          <Folder key={f.path} {...props} file={f} />
        ) : (
          <li key={f.path} role="treeitem" aria-selected={props.selected === f.path}>
            <button
              type="button"
              className={`tree-item${props.selected === f.path ? " current" : ""}`}
              onClick={() => props.onSelect(f)}
            >
              <span className="tree-name">{f.path.split("/").pop()}</span>
              <span className="muted">{formatBytes(f.file_size)}</span>
            </button>
          </li>
        ),
      )}
    </ul>
  );
}

function Folder(props: {
  runId: string;
  file: FileInfo;
  selected: string;
  onSelect: (file: FileInfo) => void;
  depth: number;
}) {
  const [open, setOpen] = useState(props.selected.startsWith(`${props.file.path}/`));
  return (
    <li role="treeitem" aria-expanded={open}>
      <button type="button" className="tree-item" onClick={() => setOpen(!open)}>
        <span className="tree-name">
          {open ? "▾" : "▸"} {props.file.path.split("/").pop()}/
        </span>
      </button>
      {open && <FolderContents {...props} />}
    </li>
  );
}

function FolderContents(props: {
  runId: string;
  file: FileInfo;
  selected: string;
  onSelect: (file: FileInfo) => void;
  depth: number;
}) {
  const list = useLoad((signal) => listArtifacts(props.runId, props.file.path, signal), [props.runId, props.file.path]);
  if (list.error) return <ErrorBox error={list.error} retry={list.reload} />;
  if (!list.data) return <div className="muted tree-loading">…</div>;
  return (
    <Tree
      runId={props.runId}
      files={list.data.files ?? []}
      selected={props.selected}
      onSelect={props.onSelect}
      depth={props.depth + 1}
    />
  );
}

function Preview(props: { rootUri: string; path: string; size: number | undefined }) {
  const url = artifactUrl(props.rootUri, props.path)!;
  const kind = previewKind(props.path);
  const tooBig = props.size !== undefined && props.size > PREVIEW_LIMIT;
  const content = useLoad(
    async (signal) => {
      if (kind === "image" || kind === "none" || tooBig) return "";
      const res = await fetch(url, { signal });
      if (!res.ok) throw new Error(`Could not read ${props.path}: the server answered ${res.status}.`);
      return res.text();
    },
    [url, kind, tooBig],
  );
  return (
    <div data-testid="artifact-preview">
      <div className="preview-head">
        <code>{props.path}</code>
        {props.size !== undefined && <span className="muted">{formatBytes(props.size)}</span>}
        <a href={url} download={props.path.split("/").pop()}>
          Download
        </a>
      </div>
      <ErrorBox error={content.error} retry={content.reload} />
      {tooBig && kind !== "image" ? (
        <p className="muted">Too large to preview here ({formatBytes(props.size)}); download it instead.</p>
      ) : kind === "image" ? (
        <img className="preview-image" src={url} alt={props.path} />
      ) : kind === "none" ? (
        <p className="muted">No preview for this kind of file.</p>
      ) : content.data === undefined ? (
        <Loading />
      ) : kind === "html" ? (
        <iframe className="preview-frame" title={props.path} sandbox="allow-scripts" srcDoc={content.data} />
      ) : kind === "json" ? (
        <pre className="code preview-text">{prettyJson(content.data)}</pre>
      ) : kind === "csv" ? (
        <CsvTable text={content.data} tab={props.path.toLowerCase().endsWith(".tsv")} />
      ) : (
        <pre className="code preview-text">{content.data}</pre>
      )}
    </div>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** RFC 4180 CSV (quoted fields, doubled quotes), first 500 rows. */
export function parseCsv(text: string, separator = ","): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < 501; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function CsvTable(props: { text: string; tab: boolean }) {
  const rows = parseCsv(props.text, props.tab ? "\t" : ",");
  if (rows.length === 0) return <p className="muted">Empty file.</p>;
  const [head, ...body] = rows;
  return (
    <div className="table-scroll">
      <table className="data-table">
        <thead>
          <tr>
            {head!.map((h, i) => (
              <th key={i}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {body.slice(0, 499).map((r, i) => (
            <tr key={i}>
              {r.map((v, j) => (
                <td key={j}>{v}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > 500 && <p className="muted">First 500 rows shown.</p>}
    </div>
  );
}
