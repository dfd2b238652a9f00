/**
 * Where a run ran: git state, Node version, platform, command line, user and lockfile digest,
 * mapped onto MLflow's standard `mlflow.*` tags and Slipway's own `slipway.*` tags.
 * Nothing here fails a run: a missing git, a directory outside any repository or a slow command
 * simply leaves the field out.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, stat } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";

export interface GitInfo {
  commit?: string;
  /** Absent on a detached HEAD. */
  branch?: string;
  /** `remote.origin.url` (else the first remote), with any `user:password@` removed. */
  remoteUrl?: string;
  /** Anything in `git status --porcelain` (including untracked files). */
  dirty: boolean;
  /**
   * When dirty: `git diff --binary HEAD` plus a patch creating each untracked, non-ignored file, so that
   * applying it to `commit` gives the working tree the run saw (logged as an artifact).
   */
  diff?: string;
  /** The repository's top-level directory. */
  root?: string;
}

export interface RunEnvironment {
  git?: GitInfo;
  nodeVersion: string;
  platform: string;
  arch: string;
  /** argv (with Node's own flags), shell-quoted so it can be pasted back into a shell. */
  command: string;
  /**
   * The same command as a list: argv[0] (Node), Node's flags, then the script and its arguments, so
   * `slipway runs reproduce` can run it again without parsing shell quoting.
   */
  argv: string[];
  /** The working directory, relative to the git root (`.` at the root), when inside a repository. */
  cwdInRepo?: string;
  /** The entry script (`process.argv[1]`), when there is one. */
  sourceName?: string;
  user?: string;
  lockfile?: { path: string; sha256: string };
}

export interface CaptureEnvironmentOptions {
  /** Where to look for git and the lockfile. Default: `process.cwd()`. */
  cwd?: string;
  /** Default: `process.argv`. */
  argv?: readonly string[];
  /** Default: `process.execArgv` (e.g. `--import tsx`), inserted after argv[0]. */
  execArgv?: readonly string[];
  /** Per git command. Default 5000 ms. */
  timeoutMs?: number;
  /** Capture `git diff HEAD` when dirty. Default true. */
  includeDiff?: boolean;
  /** Largest diff kept, in bytes; a larger one is left out. Default 10 MB. */
  maxDiffBytes?: number;
}

/** Tag names used for the environment. `mlflow.*` ones are MLflow's standard tags. */
export const ENVIRONMENT_TAGS = {
  sourceName: "mlflow.source.name",
  sourceType: "mlflow.source.type",
  gitCommit: "mlflow.source.git.commit",
  gitBranch: "mlflow.source.git.branch",
  gitRepoUrl: "mlflow.source.git.repoURL",
  user: "mlflow.user",
  gitDirty: "slipway.git.dirty",
  nodeVersion: "slipway.node.version",
  platform: "slipway.platform",
  command: "slipway.command",
  argv: "slipway.argv",
  gitRoot: "slipway.git.root",
  cwdInRepo: "slipway.git.cwd",
  reproduces: "slipway.reproduces",
  lockfileSha256: "slipway.lockfile.sha256",
} as const;

/** MLflow's run tag values are at most 8000 characters. */
const MAX_TAG_VALUE = 8000;

function run(
  file: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number; maxBuffer?: number },
): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs,
        maxBuffer: options.maxBuffer ?? 1024 * 1024,
        windowsHide: true,
        encoding: "utf8",
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" },
      },
      (error, stdout) => done(error ? undefined : stdout),
    );
  });
}

/** Removes `user:password@` from a remote URL so a token never ends up in a tag. */
export function redactRemoteUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    // scp-like `git@host:path` has no password to hide
    return url;
  }
}

/** Git state of the repository containing `cwd`, or undefined outside one (or without git). */
export async function captureGit(
  cwd: string,
  options: Pick<CaptureEnvironmentOptions, "timeoutMs" | "includeDiff" | "maxDiffBytes"> = {},
): Promise<GitInfo | undefined> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const git = (args: string[], maxBuffer?: number) =>
    run("git", args, { cwd, timeoutMs, ...(maxBuffer ? { maxBuffer } : {}) });
  const root = (await git(["rev-parse", "--show-toplevel"]))?.trim();
  if (!root) return undefined;
  const [commit, branch, origin, remotes, status] = await Promise.all([
    git(["rev-parse", "HEAD"]),
    git(["symbolic-ref", "--short", "-q", "HEAD"]),
    git(["config", "--get", "remote.origin.url"]),
    git(["remote"]),
    git(["status", "--porcelain"], 64 * 1024 * 1024),
  ]);
  const info: GitInfo = { dirty: (status ?? "").trim() !== "", root };
  const sha = commit?.trim();
  if (sha && /^[0-9a-f]{40,64}$/.test(sha)) info.commit = sha;
  const name = branch?.trim();
  if (name) info.branch = name;
  let remote = origin?.trim();
  if (!remote) {
    const first = remotes?.split("\n")[0]?.trim();
    if (first) remote = (await git(["remote", "get-url", first]))?.trim();
  }
  if (remote) info.remoteUrl = redactRemoteUrl(remote);
  if (info.dirty && info.commit && options.includeDiff !== false) {
    const maxBytes = options.maxDiffBytes ?? 10 * 1024 * 1024;
    const tracked = await git(["diff", "--binary", "HEAD"], maxBytes);
    const untracked = tracked === undefined ? undefined : await untrackedDiff(root, { timeoutMs, maxBytes });
    const diff = tracked === undefined || untracked === undefined ? undefined : tracked + untracked;
    if (diff !== undefined && diff !== "" && Buffer.byteLength(diff) <= maxBytes) info.diff = diff;
  }
  return info;
}

/**
 * New files that are not ignored, as a patch creating them (`git diff HEAD` leaves them out, yet a run
 * often depends on a script not committed yet). Undefined when it cannot be made within the limits.
 */
async function untrackedDiff(
  root: string,
  limits: { timeoutMs: number; maxBytes: number },
): Promise<string | undefined> {
  const listing = await run("git", ["ls-files", "--others", "--exclude-standard", "-z"], {
    cwd: root,
    timeoutMs: limits.timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (listing === undefined) return undefined;
  const files = listing.split("\0").filter((f) => f !== "");
  let out = "";
  for (const file of files) {
    // `git diff --no-index` exits 1 when the files differ, which they always do here
    const patch = await new Promise<string | undefined>((done) => {
      execFile(
        "git",
        ["diff", "--no-index", "--binary", "--", "/dev/null", file],
        { cwd: root, timeout: limits.timeoutMs, maxBuffer: limits.maxBytes, encoding: "utf8", windowsHide: true },
        (error, stdout) => done(error && error.code !== 1 ? undefined : stdout),
      );
    });
    if (patch === undefined) return undefined;
    out += patch;
    if (Buffer.byteLength(out) > limits.maxBytes) return undefined;
  }
  return out;
}

const SAFE_WORD = /^[A-Za-z0-9_\-+=.,/:@%]+$/;

/** POSIX shell quoting: safe words as they are, everything else in single quotes. */
export function shellQuote(args: readonly string[]): string {
  return args.map((arg) => (arg !== "" && SAFE_WORD.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(" ");
}

/** The nearest `package-lock.json` in `start` or above it. */
export async function findLockfile(start: string): Promise<string | undefined> {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, "package-lock.json");
    try {
      await access(candidate);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function sha256File(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", fail)
      .on("end", () => done(hash.digest("hex")));
  });
}

function currentUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    // no passwd entry for this uid (common in containers)
    return process.env.USER || process.env.LOGNAME || process.env.USERNAME || undefined;
  }
}

/** Captures the run environment. Never throws for missing git or files. */
export async function captureEnvironment(options: CaptureEnvironmentOptions = {}): Promise<RunEnvironment> {
  const cwd = options.cwd ?? process.cwd();
  const argv = options.argv ?? process.argv;
  const execArgv = options.execArgv ?? process.execArgv;
  const [git, lockPath] = await Promise.all([captureGit(cwd, options), findLockfile(cwd)]);
  const fullArgv = [...argv.slice(0, 1), ...execArgv, ...argv.slice(1)];
  const env: RunEnvironment = {
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    command: shellQuote(fullArgv),
    argv: fullArgv,
  };
  if (git) env.git = git;
  if (git?.root) {
    const inRepo = relative(git.root, resolve(cwd));
    if (!inRepo.startsWith("..") && !isAbsolute(inRepo)) env.cwdInRepo = inRepo === "" ? "." : inRepo;
  }
  const source = argv[1];
  if (source) env.sourceName = source;
  const user = currentUser();
  if (user) env.user = user;
  if (lockPath) {
    try {
      env.lockfile = { path: lockPath, sha256: await sha256File(lockPath) };
    } catch {
      // unreadable lockfile: leave it out
    }
  }
  return env;
}

function clip(value: string): string {
  return value.length > MAX_TAG_VALUE ? value.slice(0, MAX_TAG_VALUE) : value;
}

/** The run tags for an environment (absent fields give no tag). */
export function environmentTags(env: RunEnvironment): Record<string, string> {
  const T = ENVIRONMENT_TAGS;
  const tags: Record<string, string> = { [T.sourceType]: "LOCAL" };
  if (env.sourceName) tags[T.sourceName] = clip(env.sourceName);
  if (env.git?.commit) tags[T.gitCommit] = env.git.commit;
  if (env.git?.branch) tags[T.gitBranch] = clip(env.git.branch);
  if (env.git?.remoteUrl) tags[T.gitRepoUrl] = clip(env.git.remoteUrl);
  if (env.git) tags[T.gitDirty] = env.git.dirty ? "true" : "false";
  if (env.user) tags[T.user] = clip(env.user);
  tags[T.nodeVersion] = env.nodeVersion;
  tags[T.platform] = `${env.platform}-${env.arch}`;
  tags[T.command] = clip(env.command);
  const argvJson = JSON.stringify(env.argv);
  if (argvJson.length <= MAX_TAG_VALUE) tags[T.argv] = argvJson;
  if (env.git?.root) tags[T.gitRoot] = clip(env.git.root);
  if (env.cwdInRepo !== undefined) tags[T.cwdInRepo] = clip(env.cwdInRepo);
  if (env.lockfile) tags[T.lockfileSha256] = env.lockfile.sha256;
  return tags;
}
