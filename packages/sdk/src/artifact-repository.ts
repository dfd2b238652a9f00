/**
 * The minimal interface every artifact backend implements, and the path rules they share.
 * Conveniences (recursive upload and download, text, JSON) are written once, in `artifacts.ts`.
 */
import { MlflowError, type FileInfo } from "@slipway/protocol";

export interface ArtifactRepository {
  /** Stores the local file `localFile` at `path` (relative to the repository root), streaming it. */
  putFile(path: string, localFile: string): Promise<void>;
  putBytes(path: string, data: Uint8Array): Promise<void>;
  /** Entries directly inside directory `dir` ("" = the root), with root-relative paths. Missing → []. */
  list(dir: string): Promise<FileInfo[]>;
  /** Writes the artifact at `path` to `localFile`, streaming it (replaces the file atomically). */
  getFile(path: string, localFile: string): Promise<void>;
  /** Deletes a file or a directory tree. */
  delete(path: string): Promise<void>;
}

/**
 * Normalises a relative artifact path: `/`-separated, no empty or `.` segments, no leading or
 * trailing slash. Refuses `..` and absolute paths, as MLflow's `validate_path_is_safe` does.
 */
export function normalizeArtifactPath(path: string | undefined): string {
  if (path === undefined || path === "") return "";
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path)) {
    throw new MlflowError("INVALID_PARAMETER_VALUE", `Invalid artifact path '${path}': it must be relative`);
  }
  const segments = path.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.some((s) => s === ".." || s.includes("\0"))) {
    throw new MlflowError("INVALID_PARAMETER_VALUE", `Invalid artifact path '${path}': '..' is not allowed`);
  }
  return segments.join("/");
}

/** Joins artifact paths, skipping empty parts. */
export function joinArtifactPath(...parts: (string | undefined)[]): string {
  return normalizeArtifactPath(parts.filter((p) => p !== undefined && p !== "").join("/"));
}

/** A name as a directory listing returns it: one segment, not `.` or `..`. */
export function isSafeEntryName(name: string): boolean {
  return (
    name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\\") && !name.includes("\0")
  );
}
