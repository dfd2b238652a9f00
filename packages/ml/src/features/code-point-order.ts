/**
 * Python's string order: strings compare by Unicode code point. JavaScript's `<` and default `sort()`
 * compare UTF-16 code units, which disagree when a character at or above U+E000 meets an astral character
 * (stored as a surrogate pair, 0xD800-0xDFFF). scikit-learn sorts vocabularies and categories with
 * Python's order, so we use this comparator wherever it does.
 */

/** Maps a UTF-16 code unit so that comparing mapped units orders strings by code point. */
function rank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Negative, zero or positive as `a` sorts before, with or after `b` in code-point order. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** Sorts strings in place in code-point order, using the fast built-in sort when it agrees. */
export function sortByCodePoint(strings: string[]): string[] {
  const needsCare = strings.some((s) => /[\ud800-\uffff]/.test(s));
  return needsCare ? strings.sort(compareCodePoints) : strings.sort();
}
