import type { Answers, AnswerValue } from './types';

/** A canned answer set whose evaluation the real engine produced (scripts/fixtures.sh). */
export interface FixtureCase {
  name: string;
  form: string;
  today: string;
  answers: Answers;
}

/**
 * Whether `actual` contains the canned `pattern`: equal scalars and select_multiple
 * lists; for repeat groups the same number of instances, each containing the
 * pattern's instance. This is a lookup of canned engine output, not form logic: the
 * fake never decides relevance, it only finds the fixture recorded for these answers.
 */
export function contains(actual: AnswerValue | undefined, pattern: AnswerValue): boolean {
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual) || actual.length !== pattern.length) return false;
    return pattern.every((p, i) => {
      const a = actual[i];
      if (typeof p === 'object' && p !== null) {
        if (typeof a !== 'object' || a === null) return false;
        return Object.entries(p).every(([k, v]) => contains((a as Answers)[k], v));
      }
      return a === p;
    });
  }
  return actual === pattern;
}

function weight(v: AnswerValue): number {
  if (Array.isArray(v)) {
    return 1 + v.reduce<number>((n, x) => n + (typeof x === 'object' && x !== null ? Object.values(x).reduce<number>((m, y) => m + weight(y), 0) : 1), 0);
  }
  return 1;
}

/** The most specific case of `form` whose answers are all found in `answers`. */
export function findCase(cases: FixtureCase[], form: string, answers: Answers): FixtureCase | undefined {
  let best: FixtureCase | undefined;
  let bestWeight = -1;
  for (const c of cases) {
    if (c.form !== form) continue;
    if (!Object.entries(c.answers).every(([k, v]) => contains(answers[k], v))) continue;
    const w = Object.values(c.answers).reduce<number>((n, v) => n + weight(v), 0);
    if (w > bestWeight) {
      best = c;
      bestWeight = w;
    }
  }
  return best;
}
