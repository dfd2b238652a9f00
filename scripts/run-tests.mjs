#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/**/*.test.js) with Node's test runner.
// `npm test` builds first (tsc -b), so the tests run on exactly the JavaScript that ships.
import { spawnSync } from "node:child_process";
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
const result = spawnSync(
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
  { stdio: "inherit", env: { ...process.env, NODE_ENV: "test" } },
);
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
process.exit(result.status ?? 1);
