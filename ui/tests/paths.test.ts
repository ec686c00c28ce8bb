import { describe, expect, it } from 'vitest';
import { findCase, type FixtureCase } from '../src/backend/cases';
import { getPath, parsePath, setPath } from '../src/backend/paths';
import type { Answers } from '../src/backend/types';
import { datetimeAnswer, numberAnswer } from '../src/form/input';

describe('field paths', () => {
  it('parses group[i].field', () => {
    expect(parsePath('vacc[2].dose_no')).toEqual([{ id: 'vacc', index: 2 }, { id: 'dose_no' }]);
    expect(() => parsePath('vacc[x]')).toThrow();
  });

  it('gets and sets without mutating', () => {
    const a: Answers = { vacc: [{ dose_no: 1 }, {}], sex: 'female' };
    const b = setPath(a, 'vacc[1].dose_no', 2);
    expect(getPath(b, 'vacc[1].dose_no')).toBe(2);
    expect(getPath(a, 'vacc[1].dose_no')).toBeUndefined();
    expect(setPath(b, 'sex', null)).not.toHaveProperty('sex');
    expect(() => setPath(a, 'vacc[5].dose_no', 1)).toThrow();
  });
});

describe('fixture lookup', () => {
  const cases: FixtureCase[] = [
    { name: 'empty', form: 'pda', today: '', answers: {} },
    { name: 'female', form: 'pda', today: '', answers: { sex: 'female' } },
    { name: 'female_meds1', form: 'pda', today: '', answers: { sex: 'female', meds: [{}] } },
  ];
  it('takes the most specific canned answer set contained in the answers', () => {
    expect(findCase(cases, 'pda', { sex: 'male' })?.name).toBe('empty');
    expect(findCase(cases, 'pda', { sex: 'female', temp_c: 20 })?.name).toBe('female');
    expect(findCase(cases, 'pda', { sex: 'female', meds: [{ name: 'x' }] })?.name).toBe('female_meds1');
    expect(findCase(cases, 'pda', { sex: 'female', meds: [{}, {}] })?.name).toBe('female');
    expect(findCase(cases, 'pec', {})).toBeUndefined();
  });
});

describe('inputs', () => {
  it('sends ASCII numbers as numbers and anything else as typed', () => {
    expect(numberAnswer(' 36.8 ')).toBe(36.8);
    expect(numberAnswer('٣٦٫٨')).toBe('٣٦٫٨');
    expect(numberAnswer('۳۷')).toBe('۳۷');
    expect(numberAnswer('')).toBeNull();
  });
  it('turns datetime-local into ISO 8601', () => {
    expect(datetimeAnswer('')).toBeNull();
    expect(datetimeAnswer('2026-03-09T08:00')).toMatch(/^2026-03-0\dT\d\d:00:00Z$/);
  });
});
