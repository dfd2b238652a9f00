import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Random } from "../core/random.js";
import { parseProfile } from "./profile-json.js";
import {
  mergeProfiles,
  profileColumnTypes,
  profileTable,
  type DataProfile,
  type NumberColumnProfile,
  type StringColumnProfile,
  type TextColumnProfile,
} from "./profile.js";
import { sketchRankError } from "./sketch.js";
import { tableFromRecords, type Table } from "./table.js";

const REVIEWS = [
  "The delivery was late and the box arrived damaged",
  "Great product and fast delivery, works as described",
  "Terrible support, the product broke after a week",
  "Works great, would buy this product again",
];

function records(n: number, seed: number): Record<string, unknown>[] {
  const random = new Random(seed);
  const cities = ["Paris", "Lyon", "Nantes", "Lille"];
  return Array.from({ length: n }, (_, i) => ({
    age: i % 50 === 0 ? null : Math.round(18 + random.next() * 60),
    income: 20_000 + random.normal() * 5000,
    city: cities[random.int(cities.length)],
    member: random.next() < 0.3,
    review: REVIEWS[random.int(REVIEWS.length)],
    note: null,
  }));
}

function column<T>(profile: DataProfile, name: string): T {
  return profile.columns[name] as T;
}

describe("profileTable", () => {
  it("profiles every type of column", () => {
    const table = tableFromRecords([
      { x: 1, flag: true, city: "Paris", review: REVIEWS[0], empty: null },
      { x: 2, flag: false, city: "Lyon", review: REVIEWS[1], empty: undefined },
      { x: 3, flag: true, city: "Paris", review: REVIEWS[2] },
      { x: "N/A", flag: null, city: "Paris", review: REVIEWS[3] },
      { x: NaN, flag: true, city: null, review: null },
    ]);
    const profile = profileTable(table);
    assert.equal(profile.version, 1);
    assert.equal(profile.rowCount, 5);
    const x = column<NumberColumnProfile>(profile, "x");
    assert.equal(x.type, "number");
    assert.deepEqual([x.count, x.missing, x.invalid, x.distinct, x.distinctExact], [4, 1, 1, 4, true]);
    assert.deepEqual([x.min, x.max, x.mean, x.std], [1, 3, 2, 1]);
    assert.deepEqual(x.quantiles, { p1: 1, p5: 1, p25: 1, p50: 2, p75: 3, p95: 3, p99: 3 });
    assert.equal(
      x.histogram.counts.reduce((a, b) => a + b, 0),
      3,
    );
    assert.deepEqual(x.histogram.edges, [1, 1.5, 2.5, 3]);
    assert.deepEqual(profile.columns.flag, {
      ...profile.columns.flag,
      type: "boolean",
      count: 4,
      missing: 1,
      trueCount: 3,
      falseCount: 1,
    });
    const city = column<StringColumnProfile>(profile, "city");
    assert.deepEqual(city.top, [
      { value: "Paris", count: 3 },
      { value: "Lyon", count: 1 },
    ]);
    assert.equal(city.categories.offset, 0);
    const review = column<TextColumnProfile>(profile, "review");
    assert.equal(review.type, "text");
    assert.equal(review.tokens.min, 7);
    assert.equal(review.chars.max, 51);
    assert.equal(review.vocabulary.tokenCount, 9 + 8 + 7 + 7); // "a" is not a token
    assert.deepEqual(review.vocabulary.top.slice(0, 3), [
      { token: "product", documents: 3 },
      { token: "and", documents: 2 }, // ties in value order
      { token: "delivery", documents: 2 },
    ]);
    assert.equal(profile.columns.empty!.type, "missing");
    assert.equal(profile.columns.empty!.missing, 5);
    assert.deepEqual(profileColumnTypes(profile), {
      x: "number",
      flag: "boolean",
      city: "string",
      review: "text",
      empty: "missing",
    });
  });

  it("is JSON: it survives a round trip and parseProfile accepts it", () => {
    const profile = profileTable(tableFromRecords(records(2000, 1)));
    const text = JSON.stringify(profile);
    assert.deepEqual(JSON.parse(text), profile);
    assert.deepEqual(parseProfile(text), profile);
    assert.ok(text.length < 200_000, `${text.length} bytes`);
  });

  it("reports precise errors for a damaged profile", () => {
    const profile = JSON.parse(JSON.stringify(profileTable(tableFromRecords(records(50, 2))))) as DataProfile;
    (profile.columns.age as { count: unknown }).count = -1;
    assert.throws(() => parseProfile(profile), /columns.age.count: must be a non-negative integer, got -1/);
    assert.throws(() => parseProfile({ version: 2 }), /version: must be 1, got 2/);
    assert.throws(() => parseProfile("{"), /profile is not valid JSON/);
    const broken = JSON.parse(JSON.stringify(profileTable(tableFromRecords(records(50, 2))))) as DataProfile;
    (broken.columns.income as NumberColumnProfile).sketch.levels = [[1]];
    assert.throws(() => parseProfile(broken), /columns.income.sketch: the levels hold a weight of 1, but n is 50/);
  });

  it("merges windows profiled against a reference exactly as one profile of both", () => {
    const reference = profileTable(tableFromRecords(records(5000, 3)));
    const first = records(4000, 4);
    const second = records(6000, 5);
    const a = profileTable(tableFromRecords(first), { reference });
    const b = profileTable(tableFromRecords(second), { reference });
    const merged = mergeProfiles(a, b);
    const whole = profileTable(tableFromRecords([...first, ...second]), { reference });
    assert.equal(merged.rowCount, 10_000);
    for (const name of Object.keys(whole.columns)) {
      const m = merged.columns[name]!;
      const w = whole.columns[name]!;
      assert.deepEqual(
        [m.type, m.count, m.missing, m.invalid, m.distinct],
        [w.type, w.count, w.missing, w.invalid, w.distinct],
        name,
      );
      assert.deepEqual(m.distinctSketch, w.distinctSketch, name);
    }
    const mi = column<NumberColumnProfile>(merged, "income");
    const wi = column<NumberColumnProfile>(whole, "income");
    assert.deepEqual(mi.histogram, wi.histogram);
    assert.deepEqual(mi.histogram.edges, column<NumberColumnProfile>(reference, "income").histogram.edges);
    assert.ok(Math.abs(mi.mean! - wi.mean!) < 1e-6);
    assert.ok(Math.abs(mi.std! - wi.std!) < 1e-6);
    assert.equal(mi.min, wi.min);
    assert.ok(Math.abs(mi.quantiles.p50! - wi.quantiles.p50!) < 0.05 * wi.std!);
    assert.deepEqual(
      column<StringColumnProfile>(merged, "city").categories,
      column<StringColumnProfile>(whole, "city").categories,
    );
    const mr = column<TextColumnProfile>(merged, "review");
    const wr = column<TextColumnProfile>(whole, "review");
    assert.deepEqual(mr.vocabulary.top, wr.vocabulary.top);
    assert.deepEqual(mr.tokens.histogram, wr.tokens.histogram);
    assert.equal(mr.vocabulary.tokenCount, wr.vocabulary.tokenCount);
    // the sketch of the merge is within the bound of the truth at every quartile
    const incomes = [...first, ...second].map((r) => r.income as number).sort((x, y) => x - y);
    for (const q of [0.25, 0.5, 0.75]) {
      const v = mi.quantiles[q === 0.25 ? "p25" : q === 0.5 ? "p50" : "p75"]!;
      const rank = incomes.filter((x) => x <= v).length / incomes.length;
      assert.ok(Math.abs(rank - q) <= sketchRankError(), `q=${q}: rank ${rank}`);
    }
  });

  it("merges profiles made without a reference, estimating the histogram over the first's edges", () => {
    const a = profileTable(tableFromRecords(records(1000, 6)));
    const b = profileTable(tableFromRecords(records(1000, 7)));
    const merged = mergeProfiles(a, b);
    const income = column<NumberColumnProfile>(merged, "income");
    assert.equal(income.histogram.estimated, true);
    assert.deepEqual(income.histogram.edges, column<NumberColumnProfile>(a, "income").histogram.edges);
    const total = income.histogram.counts.reduce(
      (x, y) => x + y,
      income.histogram.underflow + income.histogram.overflow,
    );
    assert.equal(total, 2000);
    assert.deepEqual(parseProfile(JSON.parse(JSON.stringify(merged))), merged);
  });

  it("merges a column only one profile has as missing in the other's rows, and refuses type conflicts", () => {
    const a = profileTable(
      tableFromRecords([
        { x: 1, only: "a" },
        { x: 2, only: "b" },
      ]),
    );
    const b = profileTable(tableFromRecords([{ x: 3 }]));
    const merged = mergeProfiles(a, b);
    assert.equal(merged.columns.only!.type, "string");
    assert.deepEqual([merged.columns.only!.count, merged.columns.only!.missing], [2, 1]);
    assert.deepEqual(mergeProfiles(b, a).columns.only!.missing, 1);
    const c = profileTable(tableFromRecords([{ x: "one" }]));
    assert.throws(() => mergeProfiles(a, c), /columns.x: cannot merge a number column with a string column/);
    // with the reference's types the conflict becomes invalid values instead
    const d = profileTable(tableFromRecords([{ x: "one" }]), { reference: a });
    assert.deepEqual([mergeProfiles(a, d).columns.x!.invalid, mergeProfiles(a, d).columns.x!.count], [1, 3]);
  });

  it("summarises a stream chunk by chunk: merged windows stay bounded and exact where it counts", () => {
    const reference = profileTable(tableFromRecords(records(2000, 9)));
    let total: DataProfile | undefined;
    let sizes: number[] = [];
    for (let chunk = 0; chunk < 40; chunk++) {
      const window = profileTable(tableFromRecords(records(2500, 100 + chunk)), { reference });
      total = total === undefined ? window : mergeProfiles(total, window);
      sizes.push(JSON.stringify(total).length);
    }
    sizes = sizes.slice(10);
    assert.equal(total!.rowCount, 100_000);
    assert.equal(column<NumberColumnProfile>(total!, "age").missing, 2000);
    const income = column<NumberColumnProfile>(total!, "income");
    assert.equal(
      income.histogram.counts.reduce((a, b) => a + b, income.histogram.underflow + income.histogram.overflow),
      100_000,
    );
    assert.equal(income.histogram.estimated, undefined);
    assert.ok(Math.abs(income.mean! - 20_000) < 100 && Math.abs(income.std! - 5000) < 100);
    // the sketches fill and compact, so the size fluctuates, but it does not grow with the rows
    const early = Math.max(...sizes.slice(0, 10));
    const late = Math.max(...sizes.slice(-10));
    assert.ok(late < 1.15 * early && late < 32_000, `JSON of the merged profile: ${early} then ${late} bytes`);
  });

  it("profiles 100,000 rows quickly and in bounded space", () => {
    const table: Table = tableFromRecords(records(100_000, 8));
    const started = performance.now();
    const profile = profileTable(table);
    const ms = performance.now() - started;
    const bytes = JSON.stringify(profile).length;
    console.log(`profiled 100,000 rows × 6 columns in ${ms.toFixed(0)} ms; ${bytes} bytes of JSON`);
    assert.ok(bytes < 200_000);
    assert.equal(column<NumberColumnProfile>(profile, "age").missing, 2000);
  });
});
