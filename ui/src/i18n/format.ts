import { locale } from './locale.svelte';

/** Country name in the UI language, from CLDR via Intl.DisplayNames. */
export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames([locale.lang, 'en'], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** A date/time in the UI language. */
export function formatDateTime(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat([locale.lang, 'en'], { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function formatDate(iso: string): string {
  const d = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat([locale.lang, 'en'], { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}
