import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directionOf, LANGUAGES, negotiate } from '../src/i18n/languages';
import { Messages, MESSAGE_SOURCES, UI_LANGUAGES } from '../src/i18n/messages';
import { ISO3166_ALPHA2 } from '../src/shared/countries';

const ids = (src: string) => [...src.matchAll(/^([a-z][a-z0-9_-]*)\s*=/gm)].map((m) => m[1]);

describe('UI messages', () => {
  it('has en, ar, fa, uk and fr, each parsing cleanly', () => {
    expect(UI_LANGUAGES.sort()).toEqual(['ar', 'en', 'fa', 'fr', 'uk']);
    for (const lang of UI_LANGUAGES) expect(new Messages(lang).errors).toEqual([]);
  });

  it('translates every English message', () => {
    const en = ids(MESSAGE_SOURCES.en!);
    for (const lang of UI_LANGUAGES) expect(ids(MESSAGE_SOURCES[lang]!).sort(), lang).toEqual([...en].sort());
  });

  it('isolates inserted values for bidi', () => {
    const ar = new Messages('ar');
    const text = ar.format('firstrun-enrolled', { site: 'Nairobi IOM' });
    expect(text).toContain('\u2068Nairobi IOM\u2069');
    expect(ar.format('record-conflicts', { count: 3 })).toContain('تعارضات');
  });

  it('falls back to English per language and per message', () => {
    expect(new Messages('ps').format('nav-home')).toBe('Home');
    expect(new Messages('fa-AF').lang).toBe('fa');
    expect(new Messages('fr').format('no-such-message')).toBe('no-such-message');
    expect(negotiate('de', UI_LANGUAGES)).toBe('en');
  });

  it('lays out Arabic-script languages right to left', () => {
    for (const tag of ['ar', 'fa', 'fa-AF', 'ps', 'ckb', 'ur', 'ku-Arab']) expect(directionOf(tag), tag).toBe('rtl');
    for (const tag of ['en', 'uk', 'ti', 'kmr', 'so', 'fr']) expect(directionOf(tag), tag).toBe('ltr');
    expect(LANGUAGES).toHaveLength(18);
  });
});

describe('country list', () => {
  it('is the engine list', () => {
    const rust = readFileSync(resolve(import.meta.dirname, '../../crates/forms/src/countries.rs'), 'utf8');
    expect([...ISO3166_ALPHA2]).toEqual([...rust.matchAll(/"([A-Z]{2})"/g)].map((m) => m[1]));
  });
});
