/**
 * Smooth weighted round-robin (nginx's): each pick adds every candidate's weight to its running score,
 * takes the highest, and subtracts the candidates' total from the winner. Over any run of picks from a
 * steady candidate set, each candidate's share is its weight's share to within one pick, and picks of
 * one candidate are spread out rather than bunched (weights 3:1 give a a b a, a a b a, …). Deterministic,
 * so balancing is testable to an exact bound; candidates may change between picks (targets going down,
 * targets already tried by this request).
 */
export interface Weighted {
  readonly weight: number;
}

export class WeightedPicker<T extends Weighted> {
  private readonly scores = new Map<T, number>();

  pick(candidates: readonly T[]): T | undefined {
    let best: T | undefined;
    let bestScore = -Infinity;
    let total = 0;
    for (const candidate of candidates) {
      const score = (this.scores.get(candidate) ?? 0) + candidate.weight;
      this.scores.set(candidate, score);
      total += candidate.weight;
      if (score > bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    if (best !== undefined) this.scores.set(best, bestScore - total);
    return best;
  }
}
