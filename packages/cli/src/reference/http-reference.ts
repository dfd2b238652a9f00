/**
 * The HTTP reference (docs/guide/reference/http.md), rendered from the control plane's own OpenAPI document
 * (`GET /api/2.0/slipway/openapi.json`, built from the routes the server registered, the protocol's schemas and
 * the authorization policy), so it cannot drift from the code: a test compares the committed file with a fresh
 * rendering, and `npm run docs:reference` rewrites it.
 */

export const HTTP_REFERENCE_PATH = "docs/guide/reference/http.md";

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  "x-slipway-access"?: string;
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: {
    content?: Record<string, { schema?: { properties?: Record<string, unknown>; required?: string[] } }>;
  };
}

export function renderHttpReference(document: Record<string, unknown>): string {
  const paths = document.paths as Record<string, Record<string, Operation>>;
  const byTag = new Map<string, { method: string; path: string; op: Operation }[]>();
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? "Other";
      (byTag.get(tag) ?? byTag.set(tag, []).get(tag)!).push({ method: method.toUpperCase(), path, op });
    }
  }
  const count = [...byTag.values()].reduce((n, ops) => n + ops.length, 0);
  const lines = [
    "# HTTP reference: the control plane",
    "",
    "<!-- Generated from the server's OpenAPI document by `npm run docs:reference`; do not edit by hand. -->",
    "",
    `Every endpoint \`slipway server\` serves (${count} operations), grouped as in its OpenAPI document, which the`,
    "server itself serves at `GET /api/2.0/slipway/openapi.json` with request and response schemas. Every",
    "`/api/2.0` route is also served under `/ajax-api/2.0`. *Access* is who may call it when the server runs with",
    "`--auth` (see [auth.md](../../auth.md)); without `--auth` everyone may. Errors use MLflow's format",
    '`{"error_code": "…", "message": "…"}` with the HTTP status of the code.',
    "",
    "The data planes describe themselves: a model server (`slipway serve`) at `GET /openapi.json` (MLflow scoring,",
    "KServe V2, SageMaker and Vertex AI routes for the models it serves; see [serving.md](../../serving.md)), and the",
    "LLM server's OpenAI-compatible API is listed in [llm-serving.md](../../llm-serving.md).",
    "",
    "## Sections",
    "",
    ...[...byTag.keys()].sort().map(
      (tag) =>
        `- [${tag}](#${tag
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, "")
          .replace(/ /g, "-")}) (${byTag.get(tag)!.length})`,
    ),
    "",
  ];
  for (const tag of [...byTag.keys()].sort()) {
    lines.push(`## ${tag}`, "", "| Method | Path | Fields | Access |", "| --- | --- | --- | --- |");
    const ops = byTag.get(tag)!.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
    for (const { method, path, op } of ops) {
      lines.push(`| ${method} | \`${path}\` | ${cell(fields(op))} | ${cell(op["x-slipway-access"] ?? "")} |`);
    }
    lines.push("");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/** The request's fields: query parameters or the JSON body's top-level properties, required ones in bold. */
function fields(op: Operation): string {
  const query = (op.parameters ?? [])
    .filter((p) => p.in === "query")
    .map((p) => (p.required ? `**${p.name}**` : p.name));
  const body = op.requestBody?.content?.["application/json"]?.schema;
  const required = new Set(body?.required ?? []);
  const props = Object.keys(body?.properties ?? {}).map((name) => (required.has(name) ? `**${name}**` : name));
  return [...query, ...props].join(", ");
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
