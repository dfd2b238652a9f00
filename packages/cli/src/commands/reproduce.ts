/**
 * `slipway runs reproduce RUN_ID`: runs a recorded run again and compares.
 *
 * A run logged through the SDK records its git commit, the dirty diff (`slipway/git-diff.patch`), the
 * exact command as a list (`slipway.argv`), the directory it ran in relative to the repository root,
 * and the lockfile's digest. Reproducing checks that commit out into a temporary git worktree,
 * re-applies the diff, installs the recorded lockfile (`npm ci`), runs the command there with
 * `SLIPWAY_REPRODUCES=RUN_ID` (the SDK tags the new run with it, linking the two), then prints the two
 * runs' metrics, parameters and dataset digests side by side.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import type { Command } from "commander";
import type { Run } from "@slipway/protocol";
import { ENVIRONMENT_TAGS, findLockfile, resolveTrackingUri, sha256File, type TrackingClient } from "@slipway/sdk";
import { clientFor, TRACKING_URI_HELP, type ClientFlags } from "../client.js";
import { UsageError } from "../errors.js";
import { stdoutOutput, table } from "../output.js";

interface ReproduceFlags extends ClientFlags {
  repo?: string;
  install: string;
  keepWorktree?: boolean;
  expectIdentical?: boolean;
}

/** What a run recorded about how to run it again. */
export interface RecordedCommand {
  commit: string;
  argv: string[];
  gitRoot?: string;
  cwdInRepo: string;
  dirty: boolean;
  lockfileSha256?: string;
}

const GIT_COMMIT_TAG = "mlflow.source.git.commit";
const PATCH_ARTIFACT = "slipway/git-diff.patch";
const SYSTEM_METRIC_PREFIX = "system/";

function tagsOf(run: Run): Map<string, string> {
  return new Map((run.data.tags ?? []).map((t) => [t.key, t.value]));
}

/** Reads the recorded command from a run's tags; throws a UsageError naming what is missing. */
export function recordedCommand(run: Run): RecordedCommand {
  const tags = tagsOf(run);
  const id = run.info.run_id;
  const commit = tags.get(GIT_COMMIT_TAG);
  if (!commit) {
    throw new UsageError(
      `run ${id} recorded no git commit (${GIT_COMMIT_TAG}): it was not started inside a git repository, so its code cannot be checked out again`,
    );
  }
  const argvText = tags.get(ENVIRONMENT_TAGS.argv);
  if (!argvText) {
    throw new UsageError(
      `run ${id} recorded no command list (${ENVIRONMENT_TAGS.argv}); runs logged by the Slipway SDK record it, this one was logged by another client`,
    );
  }
  let argv: unknown;
  try {
    argv = JSON.parse(argvText);
  } catch {
    argv = undefined;
  }
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string")) {
    throw new UsageError(`run ${id}: tag ${ENVIRONMENT_TAGS.argv} is not a JSON list of strings`);
  }
  const gitRoot = tags.get(ENVIRONMENT_TAGS.gitRoot);
  const lockfileSha256 = tags.get(ENVIRONMENT_TAGS.lockfileSha256);
  return {
    commit,
    argv: argv as string[],
    ...(gitRoot ? { gitRoot } : {}),
    cwdInRepo: tags.get(ENVIRONMENT_TAGS.cwdInRepo) ?? ".",
    dirty: tags.get(ENVIRONMENT_TAGS.gitDirty) === "true",
    ...(lockfileSha256 ? { lockfileSha256 } : {}),
  };
}

/**
 * The command to run in the worktree: paths inside the recorded repository are moved into the worktree;
 * a Node binary that no longer exists becomes this Node.
 */
export function relocateArgv(argv: readonly string[], gitRoot: string | undefined, worktree: string): string[] {
  return argv.map((arg, i) => {
    if (i === 0 && !existsSync(arg)) return process.execPath;
    if (gitRoot && (arg === gitRoot || arg.startsWith(gitRoot + sep))) return worktree + arg.slice(gitRoot.length);
    return arg;
  });
}

function git(cwd: string, args: readonly string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`git ${args.join(" ")}: ${stderr.trim() || error.message}`));
      else done(stdout);
    });
  });
}

/** The command running now (npm ci or the recorded one), so a signal can stop it too. */
let running: ChildProcess | undefined;

function runCommand(argv: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<number> {
  return new Promise((done, fail) => {
    const [file, ...args] = argv as [string, ...string[]];
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "inherit", "inherit"] });
    running = child;
    child.once("error", fail);
    child.once("exit", (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

async function findRepository(flags: ReproduceFlags, recorded: RecordedCommand): Promise<string> {
  const candidates = [flags.repo, process.cwd(), recorded.gitRoot].filter((c): c is string => c !== undefined);
  for (const candidate of candidates) {
    const root = await git(resolve(candidate), ["rev-parse", "--show-toplevel"]).catch(() => undefined);
    if (!root) continue;
    const has = await git(root.trim(), ["cat-file", "-e", `${recorded.commit}^{commit}`]).then(
      () => true,
      () => false,
    );
    if (has) return root.trim();
  }
  throw new UsageError(
    `commit ${recorded.commit} is not in ${candidates.join(" or ")}: run this inside a clone of the run's repository (git fetch if the commit is newer), or pass --repo`,
  );
}

async function findNewRun(client: TrackingClient, original: Run, since: number): Promise<Run | undefined> {
  const res = await client.searchRuns({
    experiment_ids: [original.info.experiment_id],
    filter: `tags.${ENVIRONMENT_TAGS.reproduces} = '${original.info.run_id}' and attributes.start_time >= ${since}`,
    order_by: ["attributes.start_time DESC"],
    max_results: 1,
  });
  const found = res.runs?.[0];
  return found ? (await client.getRun({ run_id: found.info.run_id })).run : undefined;
}

function show(value: number | string | undefined): string {
  if (value === undefined) return "—";
  if (typeof value === "string") return value;
  return Number.isInteger(value) ? String(value) : value.toPrecision(8);
}

/** The side-by-side comparison; `identical` is true when every metric, param and dataset digest matches. */
export function compareRuns(a: Run, b: Run): { text: string; identical: boolean; differences: number } {
  let differences = 0;
  const metricsA = new Map((a.data.metrics ?? []).map((m) => [m.key, m.value]));
  const metricsB = new Map((b.data.metrics ?? []).map((m) => [m.key, m.value]));
  const metricKeys = [...new Set([...metricsA.keys(), ...metricsB.keys()])].sort();
  const metricRows = metricKeys.map((key) => {
    const x = metricsA.get(key);
    const y = metricsB.get(key);
    const same = x === y || (x !== undefined && y !== undefined && Number.isNaN(x) && Number.isNaN(y));
    // system metrics (MLflow's `system/` prefix: durations, memory) are shown but never expected to repeat
    if (!same && !key.startsWith(SYSTEM_METRIC_PREFIX)) differences++;
    const delta = x !== undefined && y !== undefined && !same ? (y - x).toExponential(2) : "";
    return [key, show(x), show(y), same ? "=" : delta || "≠"];
  });
  const paramsA = new Map((a.data.params ?? []).map((p) => [p.key, p.value]));
  const paramsB = new Map((b.data.params ?? []).map((p) => [p.key, p.value]));
  const paramRows = [...new Set([...paramsA.keys(), ...paramsB.keys()])]
    .sort()
    .filter((key) => paramsA.get(key) !== paramsB.get(key))
    .map((key) => [key, show(paramsA.get(key)), show(paramsB.get(key))]);
  differences += paramRows.length;
  const digests = (run: Run) =>
    new Map((run.inputs?.dataset_inputs ?? []).map((d) => [d.dataset.name, d.dataset.digest]));
  const dataA = digests(a);
  const dataB = digests(b);
  const dataRows = [...new Set([...dataA.keys(), ...dataB.keys()])].sort().map((name) => {
    const same = dataA.get(name) === dataB.get(name);
    if (!same) differences++;
    return [name, show(dataA.get(name)), show(dataB.get(name)), same ? "=" : "≠"];
  });
  const parts = [table(["METRIC", a.info.run_id.slice(0, 12), b.info.run_id.slice(0, 12), "Δ"], metricRows)];
  if (dataRows.length > 0) parts.push("", table(["DATASET", "ORIGINAL DIGEST", "REPRODUCED DIGEST", ""], dataRows));
  if (paramRows.length > 0) parts.push("", table(["PARAM (differs)", "ORIGINAL", "REPRODUCED"], paramRows));
  const identical = differences === 0;
  parts.push(
    "",
    identical
      ? `identical: ${metricKeys.filter((k) => !k.startsWith(SYSTEM_METRIC_PREFIX)).length} metrics, ${paramsA.size} params and ${dataRows.length} dataset digests match` +
          (metricKeys.some((k) => k.startsWith(SYSTEM_METRIC_PREFIX))
            ? " (system/ metrics such as timings are not compared)"
            : "")
      : `${differences} difference${differences === 1 ? "" : "s"} between the runs`,
  );
  return { text: parts.join("\n"), identical, differences };
}

async function reproduce(runId: string, flags: ReproduceFlags): Promise<void> {
  const install = flags.install;
  if (!["auto", "always", "never"].includes(install)) {
    throw new UsageError(`--install: '${install}' is not one of auto, always, never`);
  }
  const client = clientFor(flags);
  const { run: original } = await client.getRun({ run_id: runId });
  const recorded = recordedCommand(original);
  const repo = await findRepository(flags, recorded);
  const log = (line: string) => process.stderr.write(`slipway: ${line}\n`);

  const worktree = await mkdtemp(join(tmpdir(), "slipway-reproduce-"));
  await rm(worktree, { recursive: true });
  await git(repo, ["worktree", "add", "--detach", worktree, recorded.commit]);
  log(`checked out ${recorded.commit.slice(0, 12)} in ${worktree}`);
  const removeWorktree = () =>
    git(repo, ["worktree", "remove", "--force", worktree]).catch(() => rm(worktree, { recursive: true, force: true }));
  // Ctrl-C or a kill while npm ci or the command runs: the children get the signal too; clean up, then exit
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping and removing the worktree`);
    if (running && running.exitCode === null) running.kill(signal);
    void (flags.keepWorktree ? Promise.resolve() : removeWorktree()).finally(() =>
      process.exit(signal === "SIGINT" ? 130 : 143),
    );
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    if (recorded.dirty) {
      const files = await client.artifacts.listArtifacts(original.info.artifact_uri, "slipway").catch(() => []);
      if (files.some((f) => f.path === PATCH_ARTIFACT)) {
        const patchDir = await mkdtemp(join(tmpdir(), "slipway-patch-"));
        try {
          const patchFile = await client.artifacts.downloadArtifacts(
            original.info.artifact_uri,
            PATCH_ARTIFACT,
            patchDir,
          );
          await git(worktree, ["apply", "--whitespace=nowarn", patchFile]);
        } finally {
          await rm(patchDir, { recursive: true, force: true });
        }
        log(`applied the run's uncommitted changes (${PATCH_ARTIFACT})`);
      } else {
        log(`the run's working tree was dirty but ${PATCH_ARTIFACT} was not logged: running the committed code`);
      }
    }
    const cwd = join(worktree, recorded.cwdInRepo);
    const lockfile = await findLockfile(cwd);
    if (lockfile && lockfile.startsWith(worktree) && install !== "never") {
      const digest = await sha256File(lockfile);
      if (recorded.lockfileSha256 && recorded.lockfileSha256 !== digest) {
        log(`warning: ${lockfile} differs from the run's lockfile (sha256 ${recorded.lockfileSha256.slice(0, 12)}…)`);
      }
      log(`npm ci in ${dirname(lockfile)} (the recorded lockfile)`);
      const code = await runCommand(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], {
        cwd: dirname(lockfile),
        env: process.env,
      });
      if (code !== 0) throw new Error(`npm ci failed in the worktree (exit code ${code})`);
    } else if (install === "always") {
      throw new UsageError(`--install always: no package-lock.json above ${cwd} in the worktree`);
    }
    const argv = relocateArgv(recorded.argv, recorded.gitRoot, worktree);
    const trackingUri = flags.trackingUri ?? resolveTrackingUri();
    log(`running: ${argv.join(" ")}`);
    const since = Date.now() - 1000;
    const code = await runCommand(argv, {
      cwd,
      env: {
        ...process.env,
        SLIPWAY_REPRODUCES: runId,
        SLIPWAY_TRACKING_URI: trackingUri,
        MLFLOW_TRACKING_URI: trackingUri,
      },
    });
    if (code !== 0) throw new Error(`the recorded command exited with code ${code}`);
    const reproduced = await findNewRun(client, original, since);
    if (!reproduced) {
      throw new Error(
        `the command finished but logged no run tagged ${ENVIRONMENT_TAGS.reproduces}=${runId} in experiment ${original.info.experiment_id}`,
      );
    }
    const comparison = compareRuns(original, reproduced);
    const out = stdoutOutput(flags.json === true);
    if (out.json) {
      out.write(
        JSON.stringify({
          original: runId,
          reproduced: reproduced.info.run_id,
          identical: comparison.identical,
          differences: comparison.differences,
        }),
      );
    } else {
      out.write(`original run ${runId}\nreproduced as ${reproduced.info.run_id}\n\n${comparison.text}`);
    }
    if (flags.expectIdentical && !comparison.identical) {
      throw new Error(`--expect-identical: the reproduced run differs from the original (${comparison.differences})`);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (flags.keepWorktree) log(`kept the worktree at ${worktree}`);
    else await removeWorktree();
  }
}

export function registerReproduce(runs: Command): void {
  runs
    .command("reproduce")
    .description(
      "Run a recorded run again from its git commit, command, lockfile and data; log a linked run and compare",
    )
    .argument("<run-id>", "the run to reproduce")
    .option("--repo <dir>", "a clone of the run's repository (default: the current directory's, then the recorded one)")
    .option("--install <when>", "npm ci in the worktree: auto (when it has a lockfile) | always | never", "auto")
    .option("--keep-worktree", "keep the temporary worktree for inspection")
    .option("--expect-identical", "exit 1 when any metric, parameter or dataset digest differs")
    .option("--tracking-uri <uri>", TRACKING_URI_HELP)
    .option("--json", "machine-readable summary")
    .action((runId: string, flags: ReproduceFlags) => reproduce(runId, flags));
}
