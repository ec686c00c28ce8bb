import type { AnswerValue } from '../backend/types';

/**
 * What a number box sends: a plain ASCII number as a JSON number, anything else
 * (Eastern Arabic or Persian digits, a comma, a typo) as the typed text, which the
 * engine normalises or reports. Empty clears the answer.
 */
export function numberAnswer(text: string): AnswerValue {
  const s = text.trim();
  if (s === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  return s;
}

/** The value of a datetime-local box as ISO 8601 (UTC), or null. */
export function datetimeAnswer(local: string): AnswerValue {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString().replace('.000Z', 'Z');
}

/** An ISO 8601 date-time as the value of a datetime-local box, in local time. */
export function datetimeLocal(iso: AnswerValue | undefined): string {
  if (typeof iso !== 'string' || !iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A DOM id for a field path. */
export function domId(path: string): string {
  return `f-${path.replace(/[[\].]/g, '_')}`;
}
