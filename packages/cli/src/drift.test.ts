/** End to end: `slipway drift` in child processes, on CSV, JSON Lines and Parquet files. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runSlipway } from "./testing/harness.js";

let dir: string;
const path = (name: string) => join(dir, name);

/** A deterministic pseudo-normal variate (sum of 12 uniforms from a linear congruential sequence). */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return () => {
    let t = -6;
    for (let i = 0; i < 12; i++) t += uniform();
    return t;
  };
}

function rows(seed: number, n: number, drift: boolean): string {
  const g = generator(seed);
  const plans = ["basic", "plus", "pro"];
  const lines = ["age,income,plan,clicks"];
  for (let i = 0; i < n; i++) {
    const age = (40 + 10 * g() + (drift ? 6 : 0)).toFixed(2);
    const income = (50000 + 8000 * g()).toFixed(0);
    const plan = drift && i % 5 === 0 ? "enterprise" : plans[Math.floor((g() + 6) * 1000) % 3]!;
    const clicks = i % 10 === 0 ? "" : String(Math.floor((g() + 6) * 1000) % 4);
    lines.push(`${age},${income},${plan},${clicks}`);
  }
  return `${lines.join("\n")}\n`;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "slipway-drift-"));
  await writeFile(path("reference.csv"), rows(1, 1500, false));
  await writeFile(path("same.csv"), rows(5, 1200, false));
  await writeFile(path("drifted.csv"), rows(3, 1200, true));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface DriftJson {
  dataset_drift: boolean;
  share: number;
  drifted_columns: number;
  tested_columns: number;
  columns: {
    column: string;
    type: string;
    test: string;
    score: number;
    threshold: number;
    drift: boolean;
    statistics: Record<string, number>;
  }[];
  findings: { column: string; kind: string }[];
}

describe("slipway drift", () => {
  it("finds no drift between two samples of the same process", async () => {
    const result = await runSlipway(["drift", "--reference", path("reference.csv"), "--current", path("same.csv")]);
    assert.equal(result.code, 0, result.stderr);
    console.log(result.stdout);
    assert.match(result.stdout, /^COLUMN\s+TYPE\s+TEST\s+SCORE\s+DRIFT WHEN\s+RESULT$/m);
    assert.match(result.stdout, /^age\s+numeric\s+ks_ties\s+\S+\s+<= 0\.05\s+ok$/m);
    assert.match(result.stdout, /^clicks\s+numeric\s+chi2\s+/m);
    assert.match(result.stdout, /✓ no dataset drift: 0 of 4 tested columns drifted/);
  });

  it("reports drift as JSON and HTML, and --fail-on-drift exits 1", async () => {
    const html = path("report.html");
    const result = await runSlipway([
      "drift",
      "--reference",
      path("reference.csv"),
      "--current",
      path("drifted.csv"),
      "--json",
      "--html",
      html,
      "--fail-on-drift",
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /dataset drift: 2 of 4 columns drifted/);
    const report = JSON.parse(result.stdout) as DriftJson;
    assert.equal(report.dataset_drift, true);
    const byName = new Map(report.columns.map((c) => [c.column, c]));
    assert.equal(byName.get("age")!.drift, true);
    assert.equal(byName.get("plan")!.drift, true);
    assert.equal(byName.get("income")!.drift, false);
    assert.equal(byName.get("age")!.test, "ks_ties");
    for (const key of ["ks_statistic", "wasserstein", "psi", "jensenshannon", "kl_div", "energy_distance"]) {
      assert.equal(typeof byName.get("age")!.statistics[key], "number", key);
    }
    assert.ok(report.findings.some((f) => f.column === "plan" && f.kind === "new_categories"));
    const page = await readFile(html, "utf8");
    assert.match(page, /Dataset drift: 2 of 4 tested columns drifted/);
    assert.match(page, /<svg /);
  });

  it("Evidently's rules on request, and precise usage errors", async () => {
    const evidently = await runSlipway([
      "drift",
      "--reference",
      path("reference.csv"),
      "--current",
      path("drifted.csv"),
      "--defaults",
      "evidently",
      "--json",
    ]);
    assert.equal(evidently.code, 0, evidently.stderr);
    const report = JSON.parse(evidently.stdout) as DriftJson;
    assert.equal(report.columns.find((c) => c.column === "age")!.test, "wasserstein");

    const cases: [string[], RegExp][] = [
      [["--method", "magic"], /--method: 'magic' is not a drift method/],
      [["--drift-share", "2"], /--drift-share: '2' is not a number between 0 and 1/],
      [["--column-method", "plan=ks"], /method 'ks' does not apply to categorical columns/],
      [["--columns", "zip"], /'zip' is not a column of the reference/],
      [["--defaults", "nannyml"], /--defaults: 'nannyml' is not slipway or evidently/],
    ];
    for (const [flags, message] of cases) {
      const bad = await runSlipway([
        "drift",
        "--reference",
        path("reference.csv"),
        "--current",
        path("same.csv"),
        ...flags,
      ]);
      assert.equal(bad.code, 2, `${flags.join(" ")}: ${bad.stderr}`);
      assert.match(bad.stderr, message);
    }
    const missing = await runSlipway(["drift", "--reference", path("nope.csv"), "--current", path("same.csv")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.csv/);
  });
});
