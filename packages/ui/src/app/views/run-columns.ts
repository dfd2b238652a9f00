/** The columns of the runs table: fixed attributes, then the params, metrics and tags the person picked. */
import type { Run } from "../api.js";
import { formatDuration, formatNumber, formatTime, runDuration } from "../format.js";

export type ColumnKind = "attr" | "metric" | "param" | "tag";

export interface RunColumn {
  /** In the URL: `metrics.acc`, `params.lr`, `tags.team`, or an attribute name. */
  id: string;
  kind: ColumnKind;
  key: string;
  label: string;
  width: number;
  /** The order_by identifier, when the server can sort by it. */
  orderBy?: string;
  text: (run: Run) => string;
  numeric?: boolean;
}

export const ATTRIBUTE_COLUMNS: RunColumn[] = [
  {
    id: "run_name",
    kind: "attr",
    key: "run_name",
    label: "Run",
    width: 220,
    orderBy: "attributes.run_name",
    text: (r) => r.info.run_name ?? r.info.run_id,
  },
  {
    id: "status",
    kind: "attr",
    key: "status",
    label: "Status",
    width: 100,
    orderBy: "attributes.status",
    text: (r) => r.info.status ?? "",
  },
  {
    id: "start_time",
    kind: "attr",
    key: "start_time",
    label: "Started",
    width: 175,
    orderBy: "attributes.start_time",
    text: (r) => formatTime(r.info.start_time),
  },
  {
    id: "duration",
    kind: "attr",
    key: "duration",
    label: "Duration",
    width: 100,
    text: (r) => formatDuration(runDuration(r.info)),
  },
  {
    id: "user_id",
    kind: "attr",
    key: "user_id",
    label: "User",
    width: 110,
    orderBy: "attributes.user_id",
    text: (r) => r.info.user_id ?? "",
  },
];

const PREFIX: Record<Exclude<ColumnKind, "attr">, string> = { metric: "metrics", param: "params", tag: "tags" };

function backticked(key: string): string {
  return `\`${key.replace(/`/g, "")}\``;
}

export function dataColumn(kind: Exclude<ColumnKind, "attr">, key: string): RunColumn {
  const prefix = PREFIX[kind];
  return {
    id: `${prefix}.${key}`,
    kind,
    key,
    label: key,
    width: 130,
    orderBy: `${prefix}.${backticked(key)}`,
    numeric: kind === "metric",
    text:
      kind === "metric"
        ? (r) => {
            const m = r.data?.metrics?.find((x) => x.key === key);
            return m ? formatNumber(m.value) : "";
          }
        : kind === "param"
          ? (r) => r.data?.params?.find((x) => x.key === key)?.value ?? ""
          : (r) => r.data?.tags?.find((x) => x.key === key)?.value ?? "",
  };
}

/** Parses the `cols` URL parameter (`metrics.acc,params.lr`). */
export function parseColumns(text: string | null): RunColumn[] | undefined {
  if (text === null) return undefined;
  const out: RunColumn[] = [];
  for (const id of text.split(",")) {
    const m = /^(metrics|params|tags)\.(.+)$/.exec(id);
    if (!m) continue;
    const kind = m[1] === "metrics" ? "metric" : m[1] === "params" ? "param" : "tag";
    out.push(dataColumn(kind, m[2]!));
  }
  return out;
}

export interface KnownKeys {
  metrics: string[];
  params: string[];
  tags: string[];
}

/** The keys seen in some runs, sorted; system tags (mlflow.*) last. */
export function collectKeys(runs: readonly Run[]): KnownKeys {
  const metrics = new Set<string>();
  const params = new Set<string>();
  const tags = new Set<string>();
  for (const r of runs) {
    for (const m of r.data?.metrics ?? []) metrics.add(m.key);
    for (const p of r.data?.params ?? []) params.add(p.key);
    for (const t of r.data?.tags ?? []) tags.add(t.key);
  }
  const sortTags = (a: string, b: string) =>
    Number(a.startsWith("mlflow.") || a.startsWith("slipway.")) -
      Number(b.startsWith("mlflow.") || b.startsWith("slipway.")) || a.localeCompare(b);
  return { metrics: [...metrics].sort(), params: [...params].sort(), tags: [...tags].sort(sortTags) };
}

/** Without a choice in the URL: a few metrics and params. */
export function defaultColumns(keys: KnownKeys): RunColumn[] {
  return [
    ...keys.metrics.slice(0, 4).map((k) => dataColumn("metric", k)),
    ...keys.params.slice(0, 4).map((k) => dataColumn("param", k)),
  ];
}
