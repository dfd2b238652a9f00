/** How values read on screen. */

export function formatTime(ms: number | undefined): string {
  if (ms === undefined || ms === 0) return "—";
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  const parts = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
  if (m < 60) return parts(m, "min", Math.round(s % 60), "s");
  const h = Math.floor(m / 60);
  if (h < 48) return parts(h, "h", m % 60, "min");
  return parts(Math.floor(h / 24), "d", h % 24, "h");
}

/** A run's duration: end − start, or up to now while it runs. */
export function runDuration(info: { start_time?: number; end_time?: number; status?: string }): number | undefined {
  if (!info.start_time) return undefined;
  if (info.end_time) return info.end_time - info.start_time;
  return info.status === "RUNNING" ? Date.now() - info.start_time : undefined;
}

export function formatNumber(value: number | undefined): string {
  if (value === undefined) return "";
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value) || Math.abs(value) >= 1.7976931348623157e308) return value > 0 ? "∞" : "−∞";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return value.toExponential(4);
  return String(Number(value.toPrecision(6)));
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}
