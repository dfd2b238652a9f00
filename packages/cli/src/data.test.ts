/** End to end: `slipway data profile | expectations | validate` in child processes, on files in a temporary directory. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runSlipway } from "./testing/harness.js";

let dir: string;
const path = (name: string) => join(dir, name);

const REVIEWS = [
  "The delivery was late and the box arrived damaged",
  "Great product and fast delivery, works as described",
  "Terrible support, the product broke after a week",
];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "slipway-data-"));
  const lines = ["age,income,city,member,review"];
  for (let i = 0; i < 300; i++) {
    const age = i % 25 === 0 ? "" : String(18 + (i % 60));
    lines.push(`${age},${20000 + i * 37.5},${["Paris", "Lyon", "Nantes"][i % 3]},${i % 4 === 0},"${REVIEWS[i % 3]}"`);
  }
  await writeFile(path("reference.csv"), `${lines.join("\n")}\n`);
  const drifted = [
    { age: 30, income: 25000, city: "Paris", member: true, review: REVIEWS[0] },
    { age: "forty", income: 26000, city: "Atlantis", member: false, review: REVIEWS[1] },
    { age: 150, income: 27000, city: "Lyon", member: true, review: "bad" },
    { age: 45, income: null, city: "Paris", member: false, review: REVIEWS[2] },
  ];
  await writeFile(path("drifted.jsonl"), drifted.map((r) => JSON.stringify(r)).join("\n"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("slipway data", () => {
  it("profiles a file, derives expectations and validates data that meets them", async () => {
    const profiled = await runSlipway([
      "data",
      "profile",
      "--data",
      path("reference.csv"),
      "--out",
      path("profile.json"),
    ]);
    assert.equal(profiled.code, 0, profiled.stderr);
    console.log(profiled.stdout);
    assert.match(profiled.stdout, /^Profiled .*reference\.csv: 300 rows, 5 columns$/m);
    assert.match(profiled.stdout, /^COLUMN\s+TYPE\s+MISSING\s+DISTINCT\s+SUMMARY$/m);
    assert.match(profiled.stdout, /^age\s+number\s+4%\s+60\s+min 18, p50 \d+, max 77/m);
    assert.match(profiled.stdout, /^city\s+string\s+0%\s+3\s+Lyon 100, Nantes 100, Paris 100$/m);
    assert.match(profiled.stdout, /^review\s+text\s+/m);
    assert.match(profiled.stdout, /Wrote the profile to .*profile\.json$/m);
    const profile = JSON.parse(await readFile(path("profile.json"), "utf8")) as { version: number; rowCount: number };
    assert.equal(profile.version, 1);
    assert.equal(profile.rowCount, 300);

    const derived = await runSlipway([
      "data",
      "expectations",
      "--profile",
      path("profile.json"),
      "--out",
      path("exp.json"),
      "--margin",
      "0.2",
    ]);
    assert.equal(derived.code, 0, derived.stderr);
    console.log(derived.stdout);
    assert.match(derived.stdout, /^age\s+number, missing ≤ 6%, range \[6\.2, 88\.8\]$/m);
    assert.match(derived.stdout, /^city\s+string, missing ≤ 2%, 3 categories$/m);
    const expectations = JSON.parse(await readFile(path("exp.json"), "utf8")) as { columns: Record<string, unknown> };
    assert.deepEqual(Object.keys(expectations.columns), ["age", "income", "city", "member", "review"]);

    const valid = await runSlipway([
      "data",
      "validate",
      "--expectations",
      path("exp.json"),
      "--data",
      path("reference.csv"),
    ]);
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(valid.stdout, /^COLUMN\s+EXPECTATION\s+OBSERVED\s+EXPECTED\s+OK$/m);
    assert.match(valid.stdout, /^✓ all 16 expectations met$/m);
    assert.doesNotMatch(valid.stdout, /✗/);
  });

  it("reports failing expectations with examples and exits 1", async () => {
    const validate = ["data", "validate", "--expectations", path("exp.json"), "--data", path("drifted.jsonl")];
    const [r, json] = await Promise.all([runSlipway(validate), runSlipway([...validate, "--json"])]);
    console.log(r.stdout);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^age\s+type\s+1 other \(25%\)\s+number\s+✗$/m);
    assert.match(r.stdout, /^age\s+range\s+\[30, 150\], 1 outside\s+\[6\.2, 88\.8\]\s+✗$/m);
    assert.match(r.stdout, /^city\s+categories\s+1 unknown \(25%\): 'Atlantis'\s+3 categories, ≤ 0% unknown\s+✗$/m);
    assert.match(r.stdout, /^income\s+missingRate\s+25% \(1\)\s+≤ 2%\s+✗$/m);
    assert.match(r.stdout, /^ {2}age type: row 1: 'forty'$/m);
    assert.match(r.stdout, /^ {2}review length: row 2: 'bad'$/m);
    assert.match(r.stdout, /^✗ 5 of 16 expectations failed$/m);
    assert.match(r.stderr, /^slipway: validation failed: 5 of 16 expectations not met$/m);

    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as {
      success: boolean;
      failed: number;
      results: { column?: string; expectation: string; examples?: unknown }[];
    };
    assert.equal(report.success, false);
    assert.equal(report.failed, 5);
    assert.deepEqual(report.results.find((x) => x.column === "age" && x.expectation === "type")?.examples, [
      { row: 1, value: "forty" },
    ]);
  });

  it("exits 2 on usage errors: missing files, malformed documents, bad options", async () => {
    await writeFile(path("bad-exp.json"), JSON.stringify({ version: 1, columns: { age: { max: "x" } } }));
    await writeFile(path("broken.csv"), "a,b\n1,2\n3,4,5\n");
    const cases: [string[], RegExp][] = [
      [
        ["data", "validate", "--expectations", path("exp.json"), "--data", path("nope.csv")],
        /^slipway: .*nope\.csv: no such file$/m,
      ],
      [
        ["data", "validate", "--expectations", path("bad-exp.json"), "--data", path("reference.csv")],
        /bad-exp\.json: columns\.age\.max: must be a number, got 'x'$/m,
      ],
      [["data", "profile", "--data", path("broken.csv")], /broken\.csv:3: malformed CSV/],
      [["data", "validate", "--expectations", path("exp.json")], /required option '--data <file>' not specified/],
      [
        ["data", "expectations", "--profile", path("profile.json"), "--out", path("x.json"), "--margin", "lots"],
        /--margin: 'lots' is not a number between 0 and 10/,
      ],
      [
        ["data", "expectations", "--profile", path("exp.json"), "--out", path("x.json")],
        /exp\.json: rowCount: must be a non-negative integer/,
      ],
      [
        ["data", "profile", "--data", path("reference.csv"), "--types", "zip=zipcode"],
        /--types: 'zip=zipcode' is not COLUMN=TYPE/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => runSlipway(args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      assert.equal(r.code, 2, `slipway ${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      // ours are one line; commander adds a hint line to its own
      if (!r.stderr.startsWith("error:")) assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    });
  });

  it("prints the profile as JSON and honours --types and --format", async () => {
    await writeFile(path("data.txt"), "zip,n\n02134,1\n10001,2\n");
    const r = await runSlipway([
      "data",
      "profile",
      "--data",
      path("data.txt"),
      "--format",
      "csv",
      "--types",
      "zip=string",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const profile = JSON.parse(r.stdout) as {
      columns: Record<string, { type: string; invalid: number; top: { value: string }[] }>;
    };
    assert.equal(profile.columns.zip!.type, "string");
    assert.equal(profile.columns.zip!.invalid, 0);
    assert.deepEqual(profile.columns.zip!.top.map((t) => t.value).sort(), ["02134", "10001"]); // kept as text
    assert.equal(profile.columns.n!.type, "number");
  });
});
