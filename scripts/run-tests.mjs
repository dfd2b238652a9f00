#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/**/*.test.js) with Node's test runner.
// `npm test` builds first (tsc -b), so the tests run on exactly the JavaScript that ships.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".test.js")) out.push(path);
  }
  return out;
}

const files = [];
for (const pkg of readdirSync("packages")) {
  const dist = join("packages", pkg, "dist");
  try {
    if (statSync(dist).isDirectory()) walk(dist, files);
  } catch {
    // package without a build yet
  }
}
const filter = process.argv.slice(2);
const selected = filter.length > 0 ? files.filter((f) => filter.some((x) => f.includes(x))) : files;
if (selected.length === 0) {
  console.error("no test files found: run `npm run build` first");
  process.exit(1);
}
// spec for people on stdout; TAP to a file, whose summary becomes the plain last line CI reads
const tapDir = mkdtempSync(join(tmpdir(), "slipway-tap-"));
const tapFile = join(tapDir, "results.tap");
// Every process the tests start inherits this mark. A test that fails or times out half-way may leave the
// processes it started running, and Node's runner waits for them before it ends (they hold its pipes): one
// server left behind would hold the whole run forever. So when the runner has had no test file running for
// a while and has still not exited, whatever else carries the mark is killed and named.
const mark = randomUUID();
const runner = spawn(
  process.execPath,
  [
    "--test",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tapFile}`,
    "--test-concurrency=2",
    "--test-timeout=600000",
    ...selected.sort(),
  ],
  { stdio: "inherit", env: { ...process.env, NODE_ENV: "test", SLIPWAY_TEST_RUN: mark } },
);
const GRACE_MS = 10_000;
const status = await new Promise((resolve) => {
  let idleSince;
  const watch = setInterval(() => {
    if (childrenOf(runner.pid) !== 0) idleSince = undefined;
    else if (idleSince === undefined) idleSince = Date.now();
    else if (Date.now() - idleSince > GRACE_MS) {
      killLeftovers(runner.pid);
      idleSince = Infinity; // once
    }
  }, 1000);
  runner.once("exit", (code, signal) => {
    clearInterval(watch);
    resolve(code ?? (signal ? 1 : 0));
  });
});
killLeftovers(runner.pid);
let summary = "";
try {
  const tap = readFileSync(tapFile, "utf8");
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(tap)?.[1] ?? 0);
  summary = `${count("pass")} passed, ${count("fail") + count("cancelled")} failed, ${count("skipped")} skipped`;
} catch {
  summary = "0 passed, 1 failed (the test runner wrote no results)";
}
rmSync(tapDir, { recursive: true, force: true });
console.log(`\n${summary}`);

/** How many live processes (Linux: read from /proc) have `pid` as their parent; -1 where /proc is missing. */
function childrenOf(pid) {
  let count = 0;
  try {
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ")"
        const stat = readFileSync(`/proc/${name}/stat`, "latin1");
        const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (Number(ppid) === pid && state !== "Z") count++;
      } catch {
        // gone already
      }
    }
  } catch {
    return -1;
  }
  return count;
}

/** SIGKILLs the processes (Linux: read from /proc) whose environment carries this run's mark, but `spare`. */
function killLeftovers(spare) {
  let pids;
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name) && Number(name) !== spare);
  } catch {
    return; // no /proc
  }
  const needle = `SLIPWAY_TEST_RUN=${mark}`;
  const left = [];
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(needle)) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").trim();
      process.kill(Number(pid), "SIGKILL");
      left.push(`  ${pid} ${command.slice(0, 160)}`);
    } catch {
      // gone already, or not ours to read
    }
  }
  if (left.length > 0) console.log(`\nkilled ${left.length} process(es) the tests left running:\n${left.join("\n")}`);
}
process.exit(status);
