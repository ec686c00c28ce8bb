import type { Answers, AnswerValue, RepeatInstance } from './types';

/** One step of a field path: `vacc[2].dose_no` is [{id:'vacc', index:2}, {id:'dose_no'}]. */
export interface PathStep {
  id: string;
  index?: number;
}

const STEP = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$/;

/** Parses a field path as the engine writes it (`group[i].field`, 0-based). */
export function parsePath(path: string): PathStep[] {
  return path.split('.').map((part) => {
    const m = STEP.exec(part);
    if (!m || m[1] === undefined) throw new Error(`not a field path: ${path}`);
    return m[2] === undefined ? { id: m[1] } : { id: m[1], index: Number(m[2]) };
  });
}

export function joinPath(prefix: string, id: string, index?: number): string {
  const step = index === undefined ? id : `${id}[${index}]`;
  return prefix === '' ? step : `${prefix}.${step}`;
}

/** The answer at `path`, or undefined. */
export function getPath(answers: Answers, path: string): AnswerValue | undefined {
  let cur: AnswerValue | RepeatInstance | undefined = answers;
  for (const step of parsePath(path)) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = cur[step.id];
    if (step.index !== undefined) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[step.index];
    }
  }
  return cur as AnswerValue | undefined;
}

/** A copy of `answers` with `path` set (null removes a leaf). Missing instances are not created. */
export function setPath(answers: Answers, path: string, value: AnswerValue): Answers {
  const steps = parsePath(path);
  const root = clone(answers) as Answers;
  let obj: RepeatInstance = root;
  steps.forEach((step, i) => {
    const last = i === steps.length - 1;
    if (last && step.index === undefined) {
      if (value === null) delete obj[step.id];
      else obj[step.id] = value;
      return;
    }
    const list = obj[step.id];
    if (step.index === undefined || !Array.isArray(list) || step.index >= list.length) {
      throw new Error(`no such repeat instance: ${path}`);
    }
    if (last) {
      (list as AnswerValue[])[step.index] = value;
      return;
    }
    obj = list[step.index] as RepeatInstance;
  });
  return root;
}

/** A deep copy of JSON-like answers (also of reactive proxies, which structuredClone refuses). */
export function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as T;
  }
  return v;
}
