import type { RuleResult } from '../backend/types';

/** A set for lookups over a list the engine returned (rebuilt, never mutated). */
export function toSet(items: readonly string[]): ReadonlySet<string> {
  return new Set(items);
}

/** Rule results by field path. */
export function groupByField(results: RuleResult[]): ReadonlyMap<string, RuleResult[]> {
  const m = new Map<string, RuleResult[]>();
  for (const r of results) {
    const list = m.get(r.field) ?? [];
    list.push(r);
    m.set(r.field, list);
  }
  return m;
}
