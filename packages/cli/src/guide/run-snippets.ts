/**
 * Runs a chapter's runnable blocks (see snippets.ts) in order, in one working directory, with the `slipway` command
 * on PATH and SLIPWAY_TRACKING_URI / MLFLOW_TRACKING_URI pointing at a tracking server. Background blocks are killed
 * (their whole process group) when the chapter ends, whether it passed or not.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Snippet } from "./snippets.js";

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface ChapterContext {
  /** The chapter's working directory (a fresh temporary directory). */
  dir: string;
  trackingUri: string;
  env?: Record<string, string>;
}

export interface SnippetFailure {
  snippet: Snippet;
  reason: string;
  output: string;
}

/** Runs every block; resolves with the first failure (later blocks are not run), or null when all passed. */
export async function runSnippets(
  snippets: readonly Snippet[],
  context: ChapterContext,
): Promise<SnippetFailure | null> {
  // the chapters are written to be followed from the repository's root: TypeScript blocks import @slipway/* and
  // tsx from its node_modules, shell blocks run `npm run example:…` and read examples/
  for (const name of ["node_modules", "examples", "package.json"]) {
    await symlink(join(REPO_ROOT, name), join(context.dir, name));
  }
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PATH: `${join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    SLIPWAY_TRACKING_URI: context.trackingUri,
    MLFLOW_TRACKING_URI: context.trackingUri,
    NO_COLOR: "1",
    ...context.env,
  };
  const background: ChildProcess[] = [];
  try {
    for (const [index, snippet] of snippets.entries()) {
      const command = await commandFor(snippet, index, context.dir);
      const child = spawn(command[0]!, command.slice(1), {
        cwd: context.dir,
        env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (c: Buffer) => (output += c.toString()));
      child.stderr.on("data", (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
      if (snippet.background) {
        background.push(child);
        if (snippet.waitFor) {
          const ready = await waitForUrl(snippet.waitFor, snippet.timeoutSeconds * 1000, exited);
          if (ready !== true) return { snippet, reason: ready, output };
        }
        continue;
      }
      const timer = setTimeout(() => killGroup(child), snippet.timeoutSeconds * 1000);
      const code = await exited;
      clearTimeout(timer);
      if (code === null) return { snippet, reason: `killed after ${snippet.timeoutSeconds} s`, output };
      if (code !== snippet.exitCode) return { snippet, reason: `exited ${code}, expected ${snippet.exitCode}`, output };
      const missing = snippet.expect.find((text) => !output.includes(text));
      if (missing !== undefined) return { snippet, reason: `output lacks "${missing}"`, output };
    }
    return null;
  } finally {
    for (const child of background) killGroup(child);
    await Promise.all(
      background.map((child) =>
        child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once("close", r)),
      ),
    );
  }
}

async function commandFor(snippet: Snippet, index: number, dir: string): Promise<string[]> {
  if (snippet.language === "sh") return ["bash", "-euo", "pipefail", "-c", snippet.code];
  const file = join(dir, `snippet-${index + 1}.mts`);
  await writeFile(file, snippet.code);
  return [process.execPath, "--import", "tsx", file];
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // already gone
  }
}

async function waitForUrl(url: string, timeoutMs: number, exited: Promise<number | null>): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  while (Date.now() < deadline) {
    if (gone !== undefined) return `exited ${gone} before ${url} answered`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return `${url} did not answer 2xx within ${timeoutMs / 1000} s`;
}
