import type { AnswerValue, FieldView } from '../backend/types';
import { countryName, formatDate, formatDateTime } from '../i18n/format';
import { t } from '../i18n/locale.svelte';

/** An answer as text for reading: choice labels, country names, yes/no, local dates. */
export function displayValue(field: FieldView | undefined, v: AnswerValue | undefined): string {
  if (v === undefined || v === null || v === '') return t('form-no-value');
  if (typeof v === 'boolean') return v ? t('form-yes') : t('form-no');
  const label = (code: string) => (field?.external_choices ? countryName(code) : (field?.choices?.find((c) => c.code === code)?.label ?? code));
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? label(x) : '…')).join(', ');
  if (typeof v === 'string') {
    if (field?.kind === 'datetime') return formatDateTime(v);
    if (field?.kind === 'date') return formatDate(v);
    return label(v);
  }
  if (typeof v === 'number' && field?.choices) {
    const l = label(String(v));
    return l === String(v) ? l : `${v} · ${l}`;
  }
  return String(v);
}
