/**
 * A fast path for the commonest vectorizer setting — default token pattern, unigrams — that counts tokens
 * without building a string per token occurrence. It scans the (lowercased) text for maximal runs of word
 * characters (Python's Unicode `\w`: letters, numbers, underscore; see `tokenizer.ts`) at least two code
 * points long, hashes each run while scanning, and looks it up in an open-addressing table of terms; a new
 * string is made only the first time a term is seen. The result is exactly that of `tokenize()` followed
 * by counting (the tests check this on random Unicode text); it is about twice as fast on e-mail corpora.
 */
import type { RawCounts } from "./term-counts.js";
import { WORD_CHAR_CLASS } from "./tokenizer.js";

const WORD_CHAR = new RegExp(WORD_CHAR_CLASS, "u");
/** 1 for the BMP code units that are word characters (surrogates are 0 and handled apart). */
const BMP_WORD = new Uint8Array(0x10000);
for (let c = 0; c < 0x10000; c++) {
  if ((c & 0xf800) !== 0xd800 && WORD_CHAR.test(String.fromCharCode(c))) BMP_WORD[c] = 1;
}
const astralWord = new Map<number, boolean>();

function isAstralWord(codePoint: number): boolean {
  let known = astralWord.get(codePoint);
  if (known === undefined) {
    known = WORD_CHAR.test(String.fromCodePoint(codePoint));
    astralWord.set(codePoint, known);
  }
  return known;
}

/** Code units taken by the word character at `i` of `s` (1 or 2), or 0 when it is not a word character. */
function wordCharAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (BMP_WORD[c] === 1) return 1;
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff && isAstralWord(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000)) return 2;
  }
  return 0;
}

/** An open-addressing hash table from terms to ids 0, 1, 2, ... in insertion order. */
export class TermTable {
  readonly terms: string[] = [];
  private hashes: number[] = [];
  /** Slot → id + 1 (0 when free), and the hash of the term in that slot, side by side for locality. */
  private slots = new Int32Array(1024);
  private slotHashes = new Int32Array(1024);

  /** A table holding `terms` with ids 0 .. n−1 (duplicates keep their first id). */
  static from(terms: readonly string[]): TermTable {
    const table = new TermTable();
    for (const term of terms) {
      const h = hashRange(term, 0, term.length);
      const found = table.find(term, 0, term.length, h);
      if (found < 0) table.insert(term, 0, term.length, h, -1 - found);
    }
    return table;
  }

  /** The hash `find` and `insert` expect for a whole string. */
  static hash(term: string): number {
    return hashRange(term, 0, term.length);
  }

  get size(): number {
    return this.terms.length;
  }

  private scratch: Int32Array = new Int32Array(0);

  /**
   * A zeroed count buffer of at least `length` entries, reused between calls (callers leave it zeroed);
   * growing it keeps the counts already in it.
   */
  counts(length: number): Int32Array {
    if (this.scratch.length < length) {
      const bigger = new Int32Array(length);
      bigger.set(this.scratch);
      this.scratch = bigger;
    }
    return this.scratch;
  }

  /** The id of s[start, end) (whose hash is h), or −1 − slot where it would be inserted. */
  find(s: string, start: number, end: number, h: number): number {
    const slots = this.slots;
    const slotHashes = this.slotHashes;
    const mask = slots.length - 1;
    const length = end - start;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const slot = slots[i] as number;
      if (slot === 0) return -1 - i;
      if (slotHashes[i] !== h) continue;
      const id = slot - 1;
      const term = this.terms[id] as string;
      if (term.length !== length) continue;
      let j = 0;
      while (j < length && term.charCodeAt(j) === s.charCodeAt(start + j)) j++;
      if (j === length) return id;
    }
  }

  /** Adds s[start, end) with hash h at the free slot `at` given by `find`; returns its id. */
  insert(s: string, start: number, end: number, h: number, at: number): number {
    const id = this.terms.length;
    this.terms.push(start === 0 && end === s.length ? s : s.slice(start, end));
    this.hashes.push(h);
    this.slots[at] = id + 1;
    this.slotHashes[at] = h;
    if (this.terms.length * 2 > this.slots.length) this.grow();
    return id;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const slotHashes = new Int32Array(slots.length);
    const mask = slots.length - 1;
    for (let id = 0; id < this.terms.length; id++) {
      const h = this.hashes[id] as number;
      let i = h & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = id + 1;
      slotHashes[i] = h;
    }
    this.slots = slots;
    this.slotHashes = slotHashes;
  }
}

/**
 * Ends one document of a counting pass: appends its (id, count) pairs in first-seen order, and leaves
 * `scratch` zeroed and `touched` empty for the next document.
 */
export function endDocument(state: { scratch: Int32Array; touched: number[]; ids: number[]; counts: number[] }): void {
  const { scratch, touched, ids, counts } = state;
  for (const id of touched) {
    ids.push(id);
    counts.push(scratch[id] as number);
    scratch[id] = 0;
  }
  touched.length = 0;
}

/** FNV-1a over the UTF-16 code units of s[start, end). */
function hashRange(s: string, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
}

/**
 * Counts the default-pattern unigrams of each document in `table`. New terms are added when `grow` is
 * true and skipped otherwise; terms in `stopWords` are skipped.
 */
export function countUnigrams(
  docs: readonly string[],
  options: { lowercase: boolean; stopWords: ReadonlySet<string> | null },
  table: TermTable,
  grow: boolean,
): RawCounts {
  const indptr = new Int32Array(docs.length + 1);
  const ids: number[] = [];
  const counts: number[] = [];
  // counts per term id, all zero between documents; kept on the table so that a one-text call allocates
  // nothing of vocabulary size (the table only grows while fitting)
  let scratch = table.counts(Math.max(1024, table.size));
  let stop = options.stopWords === null ? null : new Uint8Array(scratch.length);
  if (stop !== null) table.terms.forEach((t, id) => (stop![id] = options.stopWords?.has(t) ? 1 : 0));
  const touched: number[] = [];
  for (let d = 0; d < docs.length; d++) {
    const raw = docs[d] as string;
    const s = options.lowercase ? raw.toLowerCase() : raw;
    const n = s.length;
    let i = 0;
    while (i < n) {
      let width = wordCharAt(s, i);
      if (width === 0) {
        i++;
        continue;
      }
      const start = i;
      let h = 0x811c9dc5 | 0;
      let codePoints = 0;
      do {
        h = Math.imul(h ^ s.charCodeAt(i), 16777619);
        if (width === 2) h = Math.imul(h ^ s.charCodeAt(i + 1), 16777619);
        i += width;
        codePoints++;
        width = i < n ? wordCharAt(s, i) : 0;
      } while (width !== 0);
      if (codePoints < 2) continue;
      let id = table.find(s, start, i, h);
      if (id < 0) {
        if (!grow) continue;
        id = table.insert(s, start, i, h, -1 - id);
        if (id >= scratch.length) {
          scratch = table.counts(scratch.length * 2);
          if (stop !== null) {
            const biggerStop = new Uint8Array(scratch.length);
            biggerStop.set(stop);
            stop = biggerStop;
          }
        }
        if (stop !== null && options.stopWords?.has(table.terms[id] as string) === true) stop[id] = 1;
      }
      if (stop !== null && stop[id] === 1) continue;
      if (scratch[id] === 0) touched.push(id);
      scratch[id] = (scratch[id] as number) + 1;
    }
    endDocument({ scratch, touched, ids, counts });
    indptr[d + 1] = ids.length;
  }
  return { indptr, ids: Int32Array.from(ids), counts: Float64Array.from(counts) };
}
