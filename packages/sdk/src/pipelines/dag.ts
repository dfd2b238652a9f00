/**
 * The step graph: every dependency must name a step of the pipeline, and the dependencies must not form a
 * cycle. Errors name the steps involved (`steps form a cycle: train → evaluate → train`). The order is
 * topological, ties broken by declaration order, so runs and listings are deterministic.
 */
import { PipelineDefinitionError } from "./errors.js";

export interface DagNode {
  readonly needs: readonly string[];
}

/** The steps in an order where each comes after everything it needs. Throws on unknown steps and cycles. */
export function topologicalOrder(pipeline: string, steps: Readonly<Record<string, DagNode>>): string[] {
  const names = Object.keys(steps);
  const known = new Set(names);
  const problems: string[] = [];
  for (const name of names) {
    const needs = steps[name]!.needs;
    const seen = new Set<string>();
    for (const need of needs) {
      if (seen.has(need)) problems.push(`step '${name}' lists '${need}' twice in needs`);
      seen.add(need);
      if (!known.has(need)) {
        problems.push(`step '${name}' needs '${need}', which is not a step of this pipeline`);
      }
    }
  }
  if (problems.length > 0) {
    throw new PipelineDefinitionError(
      `pipeline '${pipeline}': ${problems.join("; ")} (its steps: ${names.join(", ")})`,
    );
  }

  // Kahn's algorithm; among the steps ready at once, the one declared first goes first
  const remaining = new Map(names.map((n) => [n, new Set(steps[n]!.needs)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = names.find((n) => remaining.get(n)?.size === 0);
    if (ready === undefined) break;
    remaining.delete(ready);
    order.push(ready);
    for (const needs of remaining.values()) needs.delete(ready);
  }
  if (remaining.size > 0) {
    const cycle = findCycle(steps, [...remaining.keys()]);
    throw new PipelineDefinitionError(`pipeline '${pipeline}': steps form a cycle: ${cycle.join(" → ")}`);
  }
  return order;
}

/** One cycle among `candidates` (every one of which is on or behind a cycle), as a closed path. */
function findCycle(steps: Readonly<Record<string, DagNode>>, candidates: readonly string[]): string[] {
  const inCandidates = new Set(candidates);
  const state = new Map<string, "active" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    state.set(name, "active");
    stack.push(name);
    for (const need of steps[name]!.needs) {
      if (!inCandidates.has(need)) continue;
      if (state.get(need) === "active") return [...stack.slice(stack.indexOf(need)), need];
      if (state.get(need) === undefined) {
        const found = visit(need);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const name of candidates) {
    if (state.get(name) !== undefined) continue;
    const found = visit(name);
    // the walk follows `needs` (backwards in time): show it in the direction the work flows
    if (found) return found.reverse();
  }
  return candidates.slice();
}
