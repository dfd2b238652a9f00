/**
 * A tiny YAML writer for plain data (objects, arrays, strings, numbers, booleans, null), enough
 * for `logDict(..., "config.yaml")`. Strings are written plain when that reads back unchanged,
 * otherwise double-quoted (JSON string syntax is valid YAML). Not a general YAML library:
 * no anchors, no multi-line block scalars, no custom tags.
 */

const PLAIN = /^[A-Za-z_/.][A-Za-z0-9_ ./@+-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|y|n|null|~|\.nan|\.inf|-\.inf)$/i;

function scalarString(value: string): string {
  if (PLAIN.test(value) && !RESERVED.test(value) && !value.endsWith(" ") && !/^[-+.]?\d/.test(value)) {
    return value;
  }
  return JSON.stringify(value);
}

function scalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return scalarString(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "number":
      if (Number.isNaN(value)) return ".nan";
      if (!Number.isFinite(value)) return value > 0 ? ".inf" : "-.inf";
      return String(value);
    case "object":
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      return undefined;
    default:
      throw new TypeError(`cannot write a ${typeof value} as YAML`);
  }
}

function isEmptyContainer(value: unknown): string | undefined {
  if (Array.isArray(value) && value.length === 0) return "[]";
  if (typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)) {
    if (Object.keys(value).length === 0) return "{}";
  }
  return undefined;
}

function lines(value: unknown, indent: string, seen: Set<object>): string[] {
  if (typeof value === "object" && value !== null) {
    if (seen.has(value)) throw new TypeError("cannot write a circular structure as YAML");
  }
  const out: string[] = [];
  if (Array.isArray(value)) {
    seen.add(value);
    for (const item of value) {
      const inline = scalar(item) ?? isEmptyContainer(item);
      if (inline !== undefined) {
        out.push(`${indent}- ${inline}`);
      } else {
        const nested = lines(item, `${indent}  `, seen);
        // the first line of the nested block goes right after "- "
        out.push(`${indent}- ${nested[0]!.trimStart()}`, ...nested.slice(1));
      }
    }
    seen.delete(value);
    return out;
  }
  const record = value as Record<string, unknown>;
  seen.add(record);
  for (const [key, item] of Object.entries(record)) {
    if (item === undefined) continue;
    const name = scalarString(key);
    const inline = scalar(item) ?? isEmptyContainer(item);
    if (inline !== undefined) out.push(`${indent}${name}: ${inline}`);
    else out.push(`${indent}${name}:`, ...lines(item, Array.isArray(item) ? indent : `${indent}  `, seen));
  }
  seen.delete(record);
  return out;
}

/** Serialises plain data as a YAML document (ending in a newline). */
export function toYaml(value: unknown): string {
  const inline = scalar(value) ?? isEmptyContainer(value);
  if (inline !== undefined) return `${inline}\n`;
  return `${lines(value, "", new Set()).join("\n")}\n`;
}
