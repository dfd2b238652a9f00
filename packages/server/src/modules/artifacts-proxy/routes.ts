/** MLflow's artifact proxy (`mlflow-artifacts`): clients upload and download run artifacts through the server. */
import type { FastifyInstance } from "fastify";
import { extname, posix } from "node:path";
import { MlflowError, compileValidator, invalidParameter } from "@slipway/protocol";
import { Type } from "@sinclair/typebox";
import {
  supportsMultipart,
  validateArtifactPath,
  type ArtifactRepository,
} from "../../artifacts/artifact-repository.js";

const CONTENT_TYPES: Record<string, string> = {
  ".json": "application/json",
  ".yaml": "text/yaml",
  ".yml": "text/yaml",
  ".txt": "text/plain",
  ".log": "text/plain",
  ".csv": "text/csv",
  ".html": "text/html",
  ".htm": "text/html",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".svg": "image/svg+xml",
  ".pdf": "application/pdf",
  ".md": "text/markdown",
  ".parquet": "application/octet-stream",
  ".onnx": "application/octet-stream",
};

const MpuCreate = compileValidator(Type.Object({ path: Type.Optional(Type.String()), num_parts: Type.Integer() }));
const MpuComplete = compileValidator(
  Type.Object({
    path: Type.Optional(Type.String()),
    upload_id: Type.String(),
    parts: Type.Array(
      Type.Object({ part_number: Type.Integer(), etag: Type.String(), url: Type.Optional(Type.String()) }),
    ),
  }),
);
const MpuAbort = compileValidator(Type.Object({ path: Type.Optional(Type.String()), upload_id: Type.String() }));

function pathParam(params: unknown): string {
  const raw = (params as { "*"?: string })["*"] ?? "";
  const clean = validateArtifactPath(raw);
  if (clean === "") throw invalidParameter("Invalid path: an artifact path is required");
  return clean;
}

function notImplemented(): MlflowError {
  return new MlflowError("NOT_IMPLEMENTED", "Multipart upload is not supported for the current artifact repository");
}

/** Registers the proxy routes in their own plugin context: its bodies are raw byte streams of any content type. */
export async function registerArtifactProxyRoutes(app: FastifyInstance, repo: ArtifactRepository): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/require-await -- Fastify plugins are async functions
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    for (const prefix of ["/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"]) {
      scope.put(`${prefix}/artifacts/*`, { bodyLimit: Number.MAX_SAFE_INTEGER }, async (request, reply) => {
        const path = pathParam(request.params);
        const length = Number(request.headers["content-length"]);
        await repo.put(
          path,
          request.body === undefined ? new Uint8Array() : (request.body as NodeJS.ReadableStream),
          Number.isFinite(length) ? { contentLength: length } : undefined,
        );
        return reply.type("application/json").send("{}");
      });
      scope.get(`${prefix}/artifacts/*`, async (request, reply) => {
        const path = pathParam(request.params);
        const file = await repo.get(path);
        const name = posix.basename(path);
        return reply
          .type(CONTENT_TYPES[extname(name).toLowerCase()] ?? "application/octet-stream")
          .header("content-length", file.size)
          .header("content-disposition", `attachment; filename="${name.replace(/["\\\r\n]/g, "_")}"`)
          .header("x-content-type-options", "nosniff")
          .send(file.body);
      });
      scope.get(`${prefix}/artifacts`, async (request, reply) => {
        const q = request.query as { path?: unknown };
        const raw = typeof q.path === "string" ? q.path : "";
        const dir = validateArtifactPath(raw);
        const files = await repo.list(dir);
        if (!files || files.length === 0) return reply.type("application/json").send("{}");
        return reply.type("application/json").send(
          JSON.stringify({
            files: files.map((f) =>
              f.isDir ? { path: f.path, is_dir: true } : { path: f.path, is_dir: false, file_size: f.size ?? 0 },
            ),
          }),
        );
      });
      scope.delete(`${prefix}/artifacts/*`, async (request, reply) => {
        await repo.delete(pathParam(request.params));
        return reply.type("application/json").send("{}");
      });
      scope.post(`${prefix}/mpu/create/*`, async (request, reply) => {
        const path = pathParam(request.params);
        const req = MpuCreate(await jsonBody(request.body));
        if (!supportsMultipart(repo)) throw notImplemented();
        if (req.num_parts < 1 || req.num_parts > 10000) throw invalidParameter("num_parts must be between 1 and 10000");
        const r = await repo.createMultipartUpload(path, req.num_parts);
        return reply
          .type("application/json")
          .send(JSON.stringify({ upload_id: r.uploadId, credentials: r.credentials }));
      });
      scope.post(`${prefix}/mpu/complete/*`, async (request, reply) => {
        const path = pathParam(request.params);
        const req = MpuComplete(await jsonBody(request.body));
        if (!supportsMultipart(repo)) throw notImplemented();
        await repo.completeMultipartUpload(path, req.upload_id, req.parts);
        return reply.type("application/json").send("{}");
      });
      scope.post(`${prefix}/mpu/abort/*`, async (request, reply) => {
        const path = pathParam(request.params);
        const req = MpuAbort(await jsonBody(request.body));
        if (!supportsMultipart(repo)) throw notImplemented();
        await repo.abortMultipartUpload(path, req.upload_id);
        return reply.type("application/json").send("{}");
      });
    }
  });
}

async function jsonBody(body: unknown): Promise<unknown> {
  if (body === undefined) return {};
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 10_000_000) throw invalidParameter("Request body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MlflowError("MALFORMED_REQUEST", "Malformed JSON in request body");
  }
}
