import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { CsrMatrix } from "../core/matrix.js";
import { normalizeRowsInPlace } from "./normalize.js";

function csr(rows: number[][]): CsrMatrix {
  const indptr = [0];
  const indices: number[] = [];
  const data: number[] = [];
  for (const row of rows) {
    row.forEach((v, j) => {
      if (v !== 0) {
        indices.push(j);
        data.push(v);
      }
    });
    indptr.push(indices.length);
  }
  return {
    kind: "csr",
    rows: rows.length,
    cols: rows[0]?.length ?? 0,
    indptr: Int32Array.from(indptr),
    indices: Int32Array.from(indices),
    data: Float64Array.from(data),
  };
}

test("l2 and l1 rows; zero rows untouched", () => {
  const m = normalizeRowsInPlace(
    csr([
      [3, 0, 4],
      [0, 0, 0],
      [-1, 1, 0],
    ]),
    "l2",
  );
  assert.deepEqual(Array.from(m.data), [0.6, 0.8, -1 / Math.SQRT2, 1 / Math.SQRT2]);
  const l1 = normalizeRowsInPlace(
    csr([
      [3, 0, -1],
      [0, 0, 0],
    ]),
    "l1",
  );
  assert.deepEqual(Array.from(l1.data), [0.75, -0.25]);
});

test("property: l2-normalised non-zero rows have unit norm, l1 rows unit absolute sum", () => {
  const rowsArb = fc.array(fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 4, maxLength: 4 }), {
    minLength: 1,
    maxLength: 8,
  });
  fc.assert(
    fc.property(rowsArb, fc.constantFrom("l1" as const, "l2" as const), (rows, norm) => {
      const m = normalizeRowsInPlace(csr(rows), norm);
      for (let i = 0; i < m.rows; i++) {
        let s = 0;
        for (let k = m.indptr[i] as number; k < (m.indptr[i + 1] as number); k++) {
          const v = m.data[k] as number;
          s += norm === "l2" ? v * v : Math.abs(v);
        }
        const zero = rows[i]?.every((v) => v === 0) ?? true;
        assert.ok(zero ? s === 0 : Math.abs(s - 1) < 1e-12);
      }
    }),
  );
});
