/** UCUM units of the forms, as Intl units (localised names) or printed symbols. */
const INTL_UNITS: Record<string, string> = {
  a: 'year',
  mo: 'month',
  wk: 'week',
  d: 'day',
  h: 'hour',
  cm: 'centimeter',
  mm: 'millimeter',
  kg: 'kilogram',
  '%': 'percent',
};
const SYMBOLS: Record<string, string> = {
  Cel: '°C',
  'kg/m2': 'kg/m²',
  'mm[Hg]': 'mmHg',
  '/min': '/min',
  'g/dL': 'g/dL',
};

/** How a unit reads next to a value in `lang` (e.g. `a` is "years" / "سنوات"). */
export function unitLabel(unit: string, lang: string): string {
  const intl = INTL_UNITS[unit];
  if (intl) {
    try {
      const parts = new Intl.NumberFormat([lang, 'en'], { style: 'unit', unit: intl, unitDisplay: intl === 'percent' ? 'short' : 'long' }).formatToParts(5);
      const text = parts
        .filter((p) => p.type === 'unit' || p.type === 'percentSign')
        .map((p) => p.value)
        .join('')
        .trim();
      if (text) return text;
    } catch {
      // an old engine without unit formatting: fall through
    }
  }
  return SYMBOLS[unit] ?? unit;
}
