/**
 * Five-field cron schedules, as monitors use them: `minute hour day-of-month month day-of-week`, in UTC.
 *
 * Each field is a comma-separated list of items: `*`, a value (`5`), a range (`1-5`), and any of them with a step
 * (`*\/15`, `0-30/10`, `5/20` = from 5 to the field's end every 20). Months and weekdays may be named (`jan`–`dec`,
 * `sun`–`sat`, any case); weekday 7 is Sunday, like 0. As in Vixie cron, when both day fields are restricted (neither
 * starts with `*`) a day matches if either does (`0 0 1 * mon` runs on the 1st and on every Monday). The macros
 * `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly` are accepted too.
 *
 * A schedule that never fires (`0 0 30 2 *`) is refused. Errors are `CronError`s whose message names the field and
 * says what is wrong, e.g. `minute field '61': 61 is out of range 0-59`.
 */

/** A bad cron expression; the message names the field and the problem. */
export class CronError extends Error {
  override readonly name = "CronError";
}

export interface CronSchedule {
  /** The expression as given (trimmed). */
  readonly expression: string;
  /** Whether the minute starting at `ms` (epoch milliseconds, UTC) is a tick. */
  matches(ms: number): boolean;
  /** The first tick strictly after `ms`; undefined if none within 8 years (cannot happen for a parsed schedule). */
  next(ms: number): number | undefined;
  /** The last tick at or before `ms`; undefined if none within the 8 years before. */
  previous(ms: number): number | undefined;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day-of-week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

const MACROS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** How far `next` and `previous` look: 8 years holds at least one 29 February. */
const SEARCH_DAYS = 366 * 8 + 2;

function parseValue(text: string, spec: FieldSpec, item: string): number {
  const lower = text.toLowerCase();
  const named = spec.names?.indexOf(lower) ?? -1;
  let value: number;
  if (named >= 0) value = spec.name === "month" ? named + 1 : named;
  else if (/^\d+$/.test(text)) value = Number(text);
  else {
    const hint = spec.names ? ` (a number ${spec.min}-${spec.max} or a name: ${spec.names.join(", ")})` : "";
    throw new CronError(`${spec.name} field '${item}': '${text}' is not a number${hint}`);
  }
  if (value < spec.min || value > spec.max) {
    throw new CronError(`${spec.name} field '${item}': ${value} is out of range ${spec.min}-${spec.max}`);
  }
  return value;
}

/** The allowed values of one field, as a boolean table indexed by value. */
function parseField(text: string, spec: FieldSpec): boolean[] {
  const allowed = new Array<boolean>(spec.max + 1).fill(false);
  if (text === "") throw new CronError(`${spec.name} field is empty`);
  for (const item of text.split(",")) {
    if (item === "") throw new CronError(`${spec.name} field '${text}': empty list item`);
    const [range, stepText, extra] = item.split("/");
    if (extra !== undefined) throw new CronError(`${spec.name} field '${item}': more than one '/'`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronError(`${spec.name} field '${item}': the step '${stepText}' is not a positive integer`);
      }
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === "*") {
      lo = spec.min;
      hi = spec.max;
    } else {
      const parts = range!.split("-");
      if (parts.length > 2 || parts.some((p) => p === "")) {
        throw new CronError(`${spec.name} field '${item}': '${range}' is not a value or a range (a-b)`);
      }
      lo = parseValue(parts[0]!, spec, item);
      hi = parts.length === 2 ? parseValue(parts[1]!, spec, item) : stepText !== undefined ? spec.max : lo;
      if (hi < lo) throw new CronError(`${spec.name} field '${item}': the range ${lo}-${hi} is backwards`);
    }
    for (let v = lo; v <= hi; v += step) allowed[v] = true;
  }
  return allowed;
}

function values(allowed: readonly boolean[]): number[] {
  const out: number[] = [];
  allowed.forEach((ok, v) => {
    if (ok) out.push(v);
  });
  return out;
}

export function parseCron(expression: string): CronSchedule {
  if (typeof expression !== "string") throw new CronError("a cron expression must be a string");
  const given = expression.trim();
  const text = given.startsWith("@") ? MACROS[given.toLowerCase()] : given;
  if (text === undefined) {
    throw new CronError(`unknown macro '${given}' (known: ${Object.keys(MACROS).join(", ")})`);
  }
  const parts = text.split(/\s+/).filter((p) => p !== "");
  if (parts.length !== 5) {
    throw new CronError(
      `expected 5 fields (minute hour day-of-month month day-of-week, e.g. "*/5 * * * *"), got ${parts.length}`,
    );
  }
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!)) as [
    boolean[],
    boolean[],
    boolean[],
    boolean[],
    boolean[],
  ];
  if (dow[7]) dow[0] = true;
  const domStar = parts[2]!.startsWith("*");
  const dowStar = parts[4]!.startsWith("*");
  const minutes = values(minute);
  const hours = values(hour);

  const dayMatches = (day: Date): boolean => {
    if (!month[day.getUTCMonth() + 1]) return false;
    const d = dom[day.getUTCDate()] === true;
    const w = dow[day.getUTCDay()] === true;
    if (domStar && dowStar) return true;
    if (domStar) return w;
    if (dowStar) return d;
    return d || w;
  };

  /** The last (hour, minute) of a matching day at or before (limitH, limitM). */
  const lastInDay = (limitH: number, limitM: number): [number, number] | undefined => {
    for (let i = hours.length - 1; i >= 0; i--) {
      const h = hours[i]!;
      if (h > limitH) continue;
      const mLimit = h === limitH ? limitM : 59;
      for (let j = minutes.length - 1; j >= 0; j--) if (minutes[j]! <= mLimit) return [h, minutes[j]!];
    }
    return undefined;
  };

  /** The first (hour, minute) of a matching day at or after (fromH, fromM). */
  const firstInDay = (fromH: number, fromM: number): [number, number] | undefined => {
    for (const h of hours) {
      if (h < fromH) continue;
      const mFrom = h === fromH ? fromM : 0;
      for (const m of minutes) if (m >= mFrom) return [h, m];
    }
    return undefined;
  };

  const schedule: CronSchedule = {
    expression: given,
    matches(ms) {
      const t = new Date(Math.floor(ms / MINUTE_MS) * MINUTE_MS);
      return dayMatches(t) && hour[t.getUTCHours()] === true && minute[t.getUTCMinutes()] === true;
    },
    previous(ms) {
      const start = Math.floor(ms / MINUTE_MS) * MINUTE_MS;
      let day = new Date(start - (((start % DAY_MS) + DAY_MS) % DAY_MS));
      let limitH = new Date(start).getUTCHours();
      let limitM = new Date(start).getUTCMinutes();
      for (let i = 0; i < SEARCH_DAYS; i++) {
        if (dayMatches(day)) {
          const hm = lastInDay(limitH, limitM);
          if (hm !== undefined) return day.getTime() + hm[0] * 3_600_000 + hm[1] * MINUTE_MS;
        }
        day = new Date(day.getTime() - DAY_MS);
        limitH = 23;
        limitM = 59;
      }
      return undefined;
    },
    next(ms) {
      const start = Math.floor(ms / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
      let day = new Date(start - (((start % DAY_MS) + DAY_MS) % DAY_MS));
      let fromH = new Date(start).getUTCHours();
      let fromM = new Date(start).getUTCMinutes();
      for (let i = 0; i < SEARCH_DAYS; i++) {
        if (dayMatches(day)) {
          const hm = firstInDay(fromH, fromM);
          if (hm !== undefined) return day.getTime() + hm[0] * 3_600_000 + hm[1] * MINUTE_MS;
        }
        day = new Date(day.getTime() + DAY_MS);
        fromH = 0;
        fromM = 0;
      }
      return undefined;
    },
  };
  // a schedule that names only impossible dates (30 February) never fires: refuse it now
  if (schedule.next(Date.UTC(2000, 0, 1) - MINUTE_MS) === undefined) {
    throw new CronError(`'${given}' never fires: no date matches its day-of-month and month fields`);
  }
  return schedule;
}
