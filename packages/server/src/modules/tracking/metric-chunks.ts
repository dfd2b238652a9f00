/**
 * Metric histories stored as chunks: each log call appends, per metric key, one row holding its points
 * sorted and de-duplicated, both as packed doubles (for paging, step ranges and merging) and as the
 * ready-made JSON the API answers with. A history read is then a concatenation of a few rows instead of
 * one database row and one JSON object per point, and a 1,000-metric batch is a handful of inserts.
 *
 * A series stays `sorted` while every chunk starts strictly after the previous chunk's last point; the
 * chunks then concatenate into the exact ordered, duplicate-free history. A chunk that goes back in time
 * clears the flag, and reads of that series merge the chunks in memory instead.
 */
import { endianness } from "node:os";
import { stringifyJson } from "@slipway/protocol";

if (endianness() !== "LE") throw new Error("Slipway's metric storage needs a little-endian platform");

/** One point: timestamp (ms), step, value; NaN values are kept as NaN. */
export interface Point {
  timestamp: number;
  step: number;
  value: number;
}

const WIDTH = 3;

/** MLflow's history order: timestamp, step, then value with NaN after every number. */
export function comparePoints(a: Point, b: Point): number {
  return a.timestamp - b.timestamp || a.step - b.step || compareValues(a.value, b.value);
}

function compareValues(a: number, b: number): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts and removes identical points (MLflow stores an identical metric value once). */
export function sortUnique(points: Point[]): Point[] {
  points.sort(comparePoints);
  const out: Point[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (!last || comparePoints(last, p) !== 0) out.push(p);
  }
  return out;
}

export function encodePoints(points: readonly Point[]): Buffer {
  const data = new Float64Array(points.length * WIDTH);
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    data[i * WIDTH] = p.timestamp;
    data[i * WIDTH + 1] = p.step;
    data[i * WIDTH + 2] = p.value;
  }
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function decodePoints(blob: Uint8Array, into: Point[] = []): Point[] {
  // copy into an aligned buffer: the driver's Buffer may sit at any offset of a shared pool
  const data = new Float64Array(blob.byteLength / 8);
  new Uint8Array(data.buffer).set(blob);
  for (let i = 0; i < data.length; i += WIDTH) {
    into.push({ timestamp: data[i]!, step: data[i + 1]!, value: data[i + 2]! });
  }
  return into;
}

/** The points of several chunks, in order, as one aligned array of (timestamp, step, value) triples. */
export function decodePacked(blobs: readonly Uint8Array[]): Float64Array {
  const data = new Float64Array(blobs.reduce((n, b) => n + b.byteLength, 0) / 8);
  const bytes = new Uint8Array(data.buffer);
  let offset = 0;
  for (const blob of blobs) {
    bytes.set(blob, offset);
    offset += blob.byteLength;
  }
  return data;
}

/**
 * get-history-bulk-interval's sampling without a Point object per point: the points with `lo <= step <= hi`, kept
 * where `pick` (given their distinct steps in order) keeps their step. Answers undefined when those points are not
 * already in (step, then comparePoints) order, for the caller to sort them; a history logged step by step is.
 */
export function sampleInStepOrder(
  data: Float64Array,
  range: { lo: number; hi: number },
  pick: (steps: number[]) => readonly number[],
): Point[] | undefined {
  const steps: number[] = [];
  let prev = -1;
  for (let i = 0; i < data.length; i += WIDTH) {
    const step = data[i + 1]!;
    if (!(step >= range.lo && step <= range.hi)) continue;
    if (prev >= 0) {
      const order = data[prev + 1]! - step || data[prev]! - data[i]! || compareValues(data[prev + 2]!, data[i + 2]!);
      if (order > 0) return undefined;
    }
    if (steps.length === 0 || steps[steps.length - 1] !== step) steps.push(step);
    prev = i;
  }
  const wanted = new Set(pick(steps));
  const out: Point[] = [];
  for (let i = 0; i < data.length; i += WIDTH) {
    const step = data[i + 1]!;
    if (step >= range.lo && step <= range.hi && wanted.has(step))
      out.push({ timestamp: data[i]!, step, value: data[i + 2]! });
  }
  return out;
}

/** The points as comma-separated MLflow `Metric` JSON objects (no surrounding brackets), as MLflow's SQL store returns them: without run_id. */
export function renderPoints(key: string, points: readonly Point[]): string {
  const objects = new Array<{ key: string; value: number; timestamp: number; step: number }>(points.length);
  let nonFinite = false;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (!Number.isFinite(p.value)) nonFinite = true;
    objects[i] = { key, value: p.value, timestamp: p.timestamp, step: p.step };
  }
  // JSON.stringify is native and fast; only NaN needs the slower path that writes the NaN token
  const text = nonFinite ? stringifyJson(objects) : JSON.stringify(objects);
  return text.slice(1, -1);
}

/** A metric series row, as the read paths use it. */
export interface SeriesState {
  series_id: number;
  points: number;
  sorted: number;
}
