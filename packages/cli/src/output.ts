/** Human tables by default, JSON for scripts. */
export interface Output {
  json: boolean;
  write(text: string): void;
}

export function stdoutOutput(json: boolean): Output {
  return { json, write: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`) };
}

function cellText(c: unknown): string {
  if (c === undefined || c === null) return "";
  if (typeof c === "string") return c;
  if (typeof c === "number" || typeof c === "boolean" || typeof c === "bigint") return c.toString();
  return JSON.stringify(c) ?? "";
}

/** Renders rows as an aligned text table with a header line. */
export function table(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((r) => r.map(cellText));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => Math.min((r[i] ?? "").length, 60))));
  const fmt = (r: readonly string[]) =>
    r
      .map((c, i) => {
        const text = c.length > 60 ? `${c.slice(0, 57)}...` : c;
        return i === r.length - 1 ? text : text.padEnd(widths[i]!);
      })
      .join("  ");
  return [fmt(columns), fmt(widths.map((w) => "-".repeat(w))), ...cells.map(fmt)].join("\n");
}

export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return "";
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}
