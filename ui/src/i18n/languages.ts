import type { Direction } from '../backend/types';

/** The languages of FORMS.md 6, with their names in themselves. */
export const LANGUAGES: { tag: string; name: string }[] = [
  { tag: 'en', name: 'English' },
  { tag: 'ar', name: 'العربية' },
  { tag: 'fa', name: 'فارسی' },
  { tag: 'fa-AF', name: 'دری' },
  { tag: 'ps', name: 'پښتو' },
  { tag: 'ckb', name: 'کوردیی ناوەندی' },
  { tag: 'kmr', name: 'Kurmancî' },
  { tag: 'ti', name: 'ትግርኛ' },
  { tag: 'am', name: 'አማርኛ' },
  { tag: 'so', name: 'Soomaali' },
  { tag: 'ur', name: 'اردو' },
  { tag: 'uk', name: 'Українська' },
  { tag: 'ru', name: 'Русский' },
  { tag: 'fr', name: 'Français' },
  { tag: 'es', name: 'Español' },
  { tag: 'it', name: 'Italiano' },
  { tag: 'el', name: 'Ελληνικά' },
  { tag: 'de', name: 'Deutsch' },
];

const RTL_PRIMARY = new Set(['ar', 'fa', 'prs', 'ps', 'ckb', 'ur', 'he', 'yi', 'dv']);

/**
 * Writing direction of a BCP 47 tag, set explicitly (some libraries miss `ckb`); the
 * same list as tern-forms' `is_rtl`.
 */
export function directionOf(tag: string): Direction {
  const primary = tag.split('-')[0]?.toLowerCase() ?? tag;
  return RTL_PRIMARY.has(primary) || tag.endsWith('-Arab') ? 'rtl' : 'ltr';
}

/** The most specific tag of `available` that serves `tag` (fa-AF -> fa-AF, then fa), else `en`. */
export function negotiate(tag: string, available: readonly string[]): string {
  if (available.includes(tag)) return tag;
  const primary = tag.split('-')[0] ?? tag;
  if (available.includes(primary)) return primary;
  return 'en';
}
