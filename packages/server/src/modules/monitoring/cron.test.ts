/** The cron parser: field syntax, day-of-month/day-of-week semantics, next/previous, and its error messages. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CronError, parseCron } from "./cron.js";

const at = (text: string): number => Date.parse(text);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

describe("parseCron", () => {
  it("steps, lists and ranges", () => {
    const every5 = parseCron("*/5 * * * *");
    assert.equal(iso(every5.next(at("2026-03-03T10:02:30Z"))), "2026-03-03T10:05:00.000Z");
    assert.equal(iso(every5.next(at("2026-03-03T10:05:00Z"))), "2026-03-03T10:10:00.000Z");
    assert.equal(iso(every5.previous(at("2026-03-03T10:04:59Z"))), "2026-03-03T10:00:00.000Z");
    assert.equal(iso(every5.previous(at("2026-03-03T10:05:00Z"))), "2026-03-03T10:05:00.000Z");
    assert.equal(iso(every5.next(at("2026-12-31T23:58:00Z"))), "2027-01-01T00:00:00.000Z");

    const list = parseCron("0,30 9-17/4 * * *");
    assert.equal(iso(list.next(at("2026-03-03T08:00:00Z"))), "2026-03-03T09:00:00.000Z");
    assert.equal(iso(list.next(at("2026-03-03T09:00:00Z"))), "2026-03-03T09:30:00.000Z");
    assert.equal(iso(list.next(at("2026-03-03T09:30:00Z"))), "2026-03-03T13:00:00.000Z");
    assert.equal(iso(list.next(at("2026-03-03T17:30:00Z"))), "2026-03-04T09:00:00.000Z");
    assert.equal(iso(list.previous(at("2026-03-04T08:59:00Z"))), "2026-03-03T17:30:00.000Z");

    // `a/step` runs from a to the end of the field
    const from = parseCron("10/20 * * * *");
    assert.equal(iso(from.next(at("2026-03-03T10:51:00Z"))), "2026-03-03T11:10:00.000Z");
    assert.ok(from.matches(at("2026-03-03T10:50:00Z")));
    assert.ok(!from.matches(at("2026-03-03T10:00:00Z")));
  });

  it("names, Sunday as 0 or 7, and Vixie cron's day rule", () => {
    const weekdays = parseCron("0 12 * * MON-fri");
    // 2026-03-07 is a Saturday
    assert.equal(iso(weekdays.next(at("2026-03-06T12:00:00Z"))), "2026-03-09T12:00:00.000Z");
    assert.equal(iso(parseCron("0 0 * * 7").next(at("2026-03-03T00:00:00Z"))), "2026-03-08T00:00:00.000Z");
    assert.equal(iso(parseCron("0 0 * * sun").next(at("2026-03-03T00:00:00Z"))), "2026-03-08T00:00:00.000Z");
    assert.equal(iso(parseCron("0 0 1 jan,jul *").next(at("2026-03-03T00:00:00Z"))), "2026-07-01T00:00:00.000Z");
    // both day fields restricted: either matches (the 15th, or a Monday)
    const either = parseCron("0 0 15 * mon");
    assert.equal(iso(either.next(at("2026-03-10T00:00:00Z"))), "2026-03-15T00:00:00.000Z");
    assert.equal(iso(either.next(at("2026-03-15T00:00:00Z"))), "2026-03-16T00:00:00.000Z");
    // a starred day-of-month with a step still counts as `*`
    const stepDom = parseCron("0 0 */2 * mon");
    assert.equal(iso(stepDom.next(at("2026-03-03T00:00:00Z"))), "2026-03-09T00:00:00.000Z");
  });

  it("macros and leap days", () => {
    assert.equal(iso(parseCron("@hourly").next(at("2026-03-03T10:00:00Z"))), "2026-03-03T11:00:00.000Z");
    assert.equal(iso(parseCron("@daily").previous(at("2026-03-03T10:00:00Z"))), "2026-03-03T00:00:00.000Z");
    assert.equal(iso(parseCron("@weekly").next(at("2026-03-03T10:00:00Z"))), "2026-03-08T00:00:00.000Z");
    assert.equal(iso(parseCron("0 0 29 2 *").next(at("2026-03-03T00:00:00Z"))), "2028-02-29T00:00:00.000Z");
    assert.equal(iso(parseCron("0 0 29 2 *").previous(at("2026-03-03T00:00:00Z"))), "2024-02-29T00:00:00.000Z");
  });

  it("previous and next agree with matches over a day of minutes", () => {
    const schedule = parseCron("7-50/13 */3 * * *");
    const start = at("2026-03-03T00:00:00Z");
    let expected: number[] = [];
    for (let m = 0; m < 24 * 60; m++) if (schedule.matches(start + m * 60_000)) expected.push(start + m * 60_000);
    const walked: number[] = [];
    for (let t = schedule.next(start - 1)!; t < start + 86_400_000; t = schedule.next(t)!) walked.push(t);
    assert.deepEqual(walked, expected);
    expected = expected.reverse();
    const back: number[] = [];
    for (let t = schedule.previous(start + 86_400_000 - 1)!; t >= start; t = schedule.previous(t - 1)!) back.push(t);
    assert.deepEqual(back, expected);
  });

  it("refuses bad expressions with a message naming the field", () => {
    const cases: [string, RegExp][] = [
      ["* * * *", /expected 5 fields .* got 4/],
      ["* * * * * *", /expected 5 fields .* got 6/],
      ["61 * * * *", /minute field '61': 61 is out of range 0-59/],
      ["* 24 * * *", /hour field '24': 24 is out of range 0-23/],
      ["* * 0 * *", /day-of-month field '0': 0 is out of range 1-31/],
      ["* * * 13 *", /month field '13': 13 is out of range 1-12/],
      ["* * * * 8", /day-of-week field '8': 8 is out of range 0-7/],
      ["*/0 * * * *", /minute field '\*\/0': the step '0' is not a positive integer/],
      ["*/x * * * *", /the step 'x' is not a positive integer/],
      ["5-1 * * * *", /the range 5-1 is backwards/],
      ["1,,2 * * * *", /empty list item/],
      ["a * * * *", /minute field 'a': 'a' is not a number/],
      ["* * * foo *", /month field 'foo': 'foo' is not a number \(a number 1-12 or a name: jan/],
      ["1/2/3 * * * *", /more than one '\/'/],
      ["1- * * * *", /'1-' is not a value or a range/],
      ["0 0 30 2 *", /never fires/],
      ["0 0 31 4,6,9,11 *", /never fires/],
      ["@reboot", /unknown macro '@reboot'/],
      ["", /expected 5 fields/],
    ];
    for (const [expression, message] of cases) {
      assert.throws(
        () => parseCron(expression),
        (e: unknown) => e instanceof CronError && message.test(e.message),
        expression,
      );
    }
  });
});
