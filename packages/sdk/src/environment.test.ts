import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ENVIRONMENT_TAGS as T,
  captureEnvironment,
  captureGit,
  environmentTags,
  findLockfile,
  redactRemoteUrl,
  shellQuote,
} from "./environment.js";

let scratch: string;
before(async () => {
  scratch = await realpath(await mkdtemp(join(tmpdir(), "slipway-env-")));
});
after(() => rm(scratch, { recursive: true, force: true }));

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args],
    { cwd, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: scratch } },
  ).trim();
}

async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test("inside a real git repository: commit, branch, remote (redacted), clean then dirty with a diff", async () => {
  const repo = join(scratch, "repo");
  await mkdir(repo);
  git(repo, "init", "-q", "-b", "main");
  await writeFile(join(repo, "train.js"), "console.log(1);\n");
  git(repo, "add", "train.js");
  git(repo, "commit", "-q", "-m", "first");
  git(repo, "remote", "add", "origin", "https://bob:s3cret-token@example.com/org/repo.git");
  const head = git(repo, "rev-parse", "HEAD");

  const clean = await captureGit(repo);
  assert.ok(clean);
  assert.equal(clean.commit, head);
  assert.equal(clean.branch, "main");
  assert.equal(clean.remoteUrl, "https://example.com/org/repo.git");
  assert.equal(clean.dirty, false);
  assert.equal(clean.diff, undefined);
  assert.equal(clean.root, repo);

  await writeFile(join(repo, "train.js"), "console.log(2);\n");
  await writeFile(join(repo, "untracked.txt"), "new\n");
  const sub = join(repo, "sub");
  await mkdir(sub);
  const dirty = await captureGit(sub); // from a subdirectory
  assert.ok(dirty);
  assert.equal(dirty.dirty, true);
  assert.match(dirty.diff ?? "", /-console\.log\(1\);\n\+console\.log\(2\);/);
  assert.match(dirty.diff ?? "", /new file mode 100644\n[^]*\+\+\+ b\/untracked\.txt\n@@ -0,0 \+1 @@\n\+new/);
  assert.equal((await captureGit(repo, { includeDiff: false }))?.diff, undefined);

  const env = await captureEnvironment({
    cwd: repo,
    argv: ["/usr/bin/node", join(repo, "train.js"), "--lr", "0.1"],
    execArgv: [],
  });
  const tags = environmentTags(env);
  assert.equal(tags[T.gitCommit], head);
  assert.equal(tags[T.gitBranch], "main");
  assert.equal(tags[T.gitRepoUrl], "https://example.com/org/repo.git");
  assert.equal(tags[T.gitDirty], "true");
  assert.equal(tags[T.sourceName], join(repo, "train.js"));
  assert.equal(tags[T.sourceType], "LOCAL");
  assert.equal(tags[T.command], `/usr/bin/node ${join(repo, "train.js")} --lr 0.1`);
  assert.deepEqual(JSON.parse(tags[T.argv] ?? "null"), ["/usr/bin/node", join(repo, "train.js"), "--lr", "0.1"]);
  assert.equal(tags[T.gitRoot], repo);
  assert.equal(tags[T.cwdInRepo], ".");
  const fromSub = await captureEnvironment({ cwd: sub, argv: ["node", "x.js"], execArgv: [] });
  assert.equal(fromSub.cwdInRepo, "sub");
  assert.ok(!Object.values(tags).some((v) => v.includes("s3cret")));
});

test("a detached HEAD has no branch; a repository without commits has no commit", async () => {
  const repo = join(scratch, "detached");
  await mkdir(repo);
  git(repo, "init", "-q", "-b", "main");
  const empty = await captureGit(repo);
  assert.ok(empty);
  assert.equal(empty.commit, undefined);
  assert.equal(empty.branch, "main");
  assert.equal(empty.dirty, false);
  assert.equal(empty.remoteUrl, undefined);
  await writeFile(join(repo, "a.txt"), "a\n");
  assert.equal((await captureGit(repo))?.dirty, true); // untracked counts
  git(repo, "add", "a.txt");
  git(repo, "commit", "-q", "-m", "a");
  git(repo, "checkout", "-q", "--detach");
  const detached = await captureGit(repo);
  assert.ok(detached?.commit);
  assert.equal(detached.branch, undefined);
  assert.equal(detached.dirty, false);
});

test("outside any repository the git fields are absent, not an error", async () => {
  const outside = join(scratch, "plain");
  await mkdir(outside);
  await withEnv({ GIT_CEILING_DIRECTORIES: scratch }, async () => {
    assert.equal(await captureGit(outside), undefined);
    const env = await captureEnvironment({ cwd: outside, argv: ["node"], execArgv: [] });
    assert.equal(env.git, undefined);
    assert.equal(env.sourceName, undefined);
    const tags = environmentTags(env);
    for (const key of [T.gitCommit, T.gitBranch, T.gitRepoUrl, T.gitDirty, T.sourceName, T.gitRoot, T.cwdInRepo])
      assert.equal(tags[key], undefined, key);
    assert.equal(tags[T.nodeVersion], process.version);
    assert.equal(tags[T.platform], `${process.platform}-${process.arch}`);
    assert.equal(tags[T.sourceType], "LOCAL");
  });
});

test("no git binary at all: absent, not an error", async () => {
  const repo = join(scratch, "repo");
  const emptyBin = join(scratch, "empty-bin");
  await mkdir(emptyBin, { recursive: true });
  await withEnv({ PATH: emptyBin }, async () => {
    assert.equal(await captureGit(repo), undefined);
  });
});

test("the nearest package-lock.json walking up, with its sha256", async () => {
  const top = join(scratch, "proj");
  const deep = join(top, "a", "b");
  await mkdir(deep, { recursive: true });
  const content = '{"lockfileVersion": 3}\n';
  await writeFile(join(top, "package-lock.json"), content);
  assert.equal(await findLockfile(deep), join(top, "package-lock.json"));
  const env = await captureEnvironment({ cwd: deep, argv: ["node", "x.js"], execArgv: [] });
  const digest = createHash("sha256").update(content).digest("hex");
  assert.deepEqual(env.lockfile, { path: join(top, "package-lock.json"), sha256: digest });
  assert.equal(environmentTags(env)[T.lockfileSha256], digest);
  // a nearer lockfile wins
  await writeFile(join(top, "a", "package-lock.json"), "{}");
  assert.equal(await findLockfile(deep), join(top, "a", "package-lock.json"));
});

test("the user and Node's own flags are recorded", async () => {
  const env = await captureEnvironment({
    cwd: scratch,
    argv: ["node", "/x/train.mjs"],
    execArgv: ["--import", "tsx"],
  });
  assert.equal(env.command, "node --import tsx /x/train.mjs");
  assert.equal(typeof env.user, "string");
  assert.equal(environmentTags(env)[T.user], env.user);
});

test("shellQuote", () => {
  assert.equal(shellQuote(["node", "train.js", "--lr=0.1", "a/b:c@d"]), "node train.js --lr=0.1 a/b:c@d");
  assert.equal(
    shellQuote(["echo", "two words", "", "it's", "$HOME", "a;b"]),
    `echo 'two words' '' 'it'\\''s' '$HOME' 'a;b'`,
  );
  const quoted = shellQuote(["printf", "%s|", "x y", "it's", "$HOME"]);
  assert.equal(execFileSync("sh", ["-c", quoted], { encoding: "utf8" }), "x y|it's|$HOME|");
});

test("redactRemoteUrl", () => {
  assert.equal(redactRemoteUrl("https://user:pw@github.com/o/r.git"), "https://github.com/o/r.git");
  assert.equal(redactRemoteUrl("https://x-access-token@github.com/o/r"), "https://github.com/o/r");
  assert.equal(redactRemoteUrl("git@github.com:o/r.git"), "git@github.com:o/r.git");
  assert.equal(redactRemoteUrl("https://github.com/o/r.git"), "https://github.com/o/r.git");
});

test("long tag values are clipped to MLflow's 8000 characters", () => {
  const tags = environmentTags({
    nodeVersion: "v20",
    platform: "linux",
    arch: "x64",
    command: "x".repeat(9000),
    argv: ["x".repeat(9000)],
  });
  assert.equal(tags[T.command]!.length, 8000);
  assert.equal(tags[T.argv], undefined, "a clipped argv could not be run again, so it is left out");
});
