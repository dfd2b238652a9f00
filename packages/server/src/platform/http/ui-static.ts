/**
 * Hosts the web UI (the Vite bundle of `@slipway/ui`) at `/`: static files with their content types, long-lived
 * caching for the content-hashed `assets/`, revalidation for the rest, compression, and the single-page app's
 * fallback to `index.html` for client-side routes. The API's namespaces are never answered here: a GET there
 * that no route matched gets the app's JSON 404 (or 405) as before. A missing bundle answers a short page that
 * says how to build it.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, extname, join, resolve, sep } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants as zlib, gzip } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface UiStaticOptions {
  /** The directory holding `index.html` and `assets/`; default: `dist/web` of the installed `@slipway/ui`. */
  dir?: string | undefined;
}

/** Paths that belong to the APIs (and MLflow's non-UI routes): never the UI's, even when nothing matched. */
const RESERVED = [
  "/api",
  "/ajax-api",
  "/metrics",
  "/health",
  "/version",
  "/get-artifact",
  "/model-versions",
  "/graphql",
];

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
};
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".map", ".webmanifest", ".txt", ".svg"]);
/** Vite names everything under assets/ by content hash, so those files never change. */
const IMMUTABLE = "public, max-age=31536000, immutable";

interface CachedFile {
  mtimeMs: number;
  size: number;
  etag: string;
  body: Buffer;
  br?: Buffer;
  gzip?: Buffer;
}

/** The bundle directory of the installed `@slipway/ui` package, or undefined when it is not installed. */
export function defaultUiDir(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve("@slipway/ui/package.json");
    return join(dirname(manifest), "dist", "web");
  } catch {
    return undefined;
  }
}

export function isReservedPath(path: string): boolean {
  return RESERVED.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

export function registerUiStatic(app: FastifyInstance, options: UiStaticOptions = {}): void {
  const root = options.dir === undefined ? defaultUiDir() : resolve(options.dir);
  const cache = new Map<string, CachedFile>();

  async function load(file: string): Promise<CachedFile | undefined> {
    let info;
    try {
      info = await stat(file);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === info.mtimeMs && hit.size === info.size) return hit;
    const body = await readFile(file);
    const entry: CachedFile = {
      mtimeMs: info.mtimeMs,
      size: info.size,
      etag: `"${createHash("sha1").update(body).digest("base64url").slice(0, 27)}"`,
      body,
    };
    if (COMPRESSIBLE.has(extname(file).toLowerCase()) && body.length > 1024) {
      // compressed off the event loop; until it is ready the file goes out as it is, so no request waits
      void compress(body).then(
        (packed) => Object.assign(entry, packed),
        () => undefined,
      );
    }
    cache.set(file, entry);
    return entry;
  }

  function send(request: FastifyRequest, reply: FastifyReply, file: string, entry: CachedFile, immutable: boolean) {
    const ext = extname(file).toLowerCase();
    reply
      .header("content-type", TYPES[ext] ?? "application/octet-stream")
      .header("cache-control", immutable ? IMMUTABLE : "no-cache")
      .header("etag", entry.etag)
      .header("x-content-type-options", "nosniff");
    if (ext === ".html") reply.header("referrer-policy", "same-origin");
    if (COMPRESSIBLE.has(ext)) reply.header("vary", "accept-encoding");
    if (request.headers["if-none-match"] === entry.etag) return reply.code(304).send();
    const accepted = String(request.headers["accept-encoding"] ?? "");
    if (entry.br && /\bbr\b/.test(accepted)) return reply.header("content-encoding", "br").send(entry.br);
    if (entry.gzip && /\bgzip\b/.test(accepted)) return reply.header("content-encoding", "gzip").send(entry.gzip);
    return reply.send(entry.body);
  }

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split("?")[0]!;
    if (isReservedPath(path)) return reply.callNotFound();
    if (root === undefined) return missingBundle(reply, "the @slipway/ui package is not installed");
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return reply.callNotFound();
    }
    if (!decoded.includes("\0") && !decoded.includes("\\")) {
      const file = resolve(root, `.${decoded}`);
      if (file.startsWith(root + sep)) {
        const entry = await load(file);
        if (entry) return send(request, reply, file, entry, decoded.startsWith("/assets/"));
      }
    }
    // a client-side route (a page the browser navigates to, or a path without a file extension) gets the app
    const ext = extname(decoded).toLowerCase();
    const isPage = String(request.headers.accept ?? "").includes("text/html") || !(ext in TYPES);
    if (!isPage || decoded.startsWith("/assets/")) return reply.callNotFound();
    const index = join(root, "index.html");
    const entry = await load(index);
    if (!entry) return missingBundle(reply, `${index} does not exist`);
    return send(request, reply, index, entry, false);
  };
  app.get("/*", handler);
}

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

async function compress(body: Buffer): Promise<{ br: Buffer; gzip: Buffer }> {
  const [br, gz] = await Promise.all([
    brotli(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    gzipAsync(body, { level: 9 }),
  ]);
  return { br, gzip: gz };
}

function missingBundle(reply: FastifyReply, why: string) {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Slipway</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; line-height: 1.5">
<h1>Slipway is running, but its web UI is not built</h1>
<p>The API works (try <a href="/health">/health</a>); the browser UI needs its bundle, and ${escapeHtml(why)}.</p>
<p>In a clone of the repository, build it with <code>npm run build</code> (or <code>npm run build -w @slipway/ui</code>)
and reload this page; or point the server at a built bundle with <code>--ui-dir DIR</code> or <code>SLIPWAY_UI_DIR</code>.</p>
</body></html>
`;
  return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
