import { describe, expect, it } from 'vitest';
import { FakeBackend } from '../src/backend/fake';
import { generatedFixtures } from '../src/backend/fixtures';
import { ERROR_CODES } from '../src/backend/types';
import { rejection } from './support';

async function unlocked() {
  const b = new FakeBackend({ fixtures: generatedFixtures, seed: true, syncStepMs: 1 });
  const [user] = await b.listUsers();
  await b.unlock(user!.user_id, 'tern');
  return b;
}


describe('FakeBackend over engine fixtures', () => {
  it('shows the pregnancy block for a 30-year-old woman and not for a man', async () => {
    const b = await unlocked();
    const woman = await b.newRecord('pda', '7K3M9QX2TB4');
    const man = await b.newRecord('pda', 'M2D8R4WQ1ZC');
    const ew = await b.evaluate(woman.record_id, 'en');
    const em = await b.evaluate(man.record_id, 'en');
    expect(ew.relevant).toContain('pregnant');
    expect(em.relevant).not.toContain('pregnant');
    expect(ew.calculated.age_years).toBe(30);
  });

  it('returns constraint errors in the requested language', async () => {
    const b = await unlocked();
    const r = await b.newRecord('pda', '7K3M9QX2TB4');
    const en = await b.setAnswer(r.record_id, 'temp_c', 20, 'en');
    expect(en.errors).toEqual([expect.objectContaining({ field: 'temp_c', rule: 'r4' })]);
    const ar = await b.evaluate(r.record_id, 'ar');
    expect(ar.errors[0]!.message).toMatch(/[\u0600-\u06FF]/);
    const cleared = await b.setAnswer(r.record_id, 'temp_c', null, 'en');
    expect(cleared.errors).toEqual([]);
  });

  it('adds and removes repeat instances, addressed as group[i].field', async () => {
    const b = await unlocked();
    const r = await b.newRecord('pda', '7K3M9QX2TB4');
    let ev = await b.addRepeat(r.record_id, 'current_meds', 'en');
    expect(ev.relevant).toContain('current_meds[0].med_name');
    ev = await b.setAnswer(r.record_id, 'current_meds[0].med_name', 'Metformin', 'en');
    expect(ev.relevant).toContain('current_meds[0].dose');
    ev = await b.addRepeat(r.record_id, 'current_meds', 'en');
    expect(ev.relevant).toContain('current_meds[1].med_name');
    expect((await b.fieldHistory(r.record_id, 'current_meds')).map((h) => h.path)).toEqual(['current_meds[0].med_name']);
    ev = await b.removeRepeat(r.record_id, 'current_meds', 0, 'en');
    expect(ev.relevant).not.toContain('current_meds[1].med_name');
    const detail = await b.getRecord(r.record_id);
    expect(detail.answers.current_meds).toEqual([{}]);
  });

  it('keeps answers with history, and resolves conflicts', async () => {
    const b = await unlocked();
    const [withConflict] = (await b.listRecords({ kind: 'needs_correction' })).filter((r) => r.conflict_count > 0);
    const detail = await b.getRecord(withConflict!.record_id);
    expect(detail.conflicts[0]!.values.map((v) => v.user)).toEqual(['amina', 'karim']);
    await b.resolveConflict(withConflict!.record_id, 'temp_c', 38.1, 'en');
    const after = await b.getRecord(withConflict!.record_id);
    expect(after.conflicts).toEqual([]);
    expect(after.answers.temp_c).toBe(38.1);
    const history = await b.fieldHistory(withConflict!.record_id, 'temp_c');
    expect(history.at(-1)).toMatchObject({ value: 38.1, message: 'conflict resolved' });
  });

  it('warns of a likely duplicate before registering', async () => {
    const b = await unlocked();
    const subject = { family_name: 'yusuf', given_name: 'H', sex: 'female' as const, date_of_birth: '1996-01-15', dob_precision: 'exact' as const, nationality: [], case_ref: null };
    const first = await b.registerSubject(subject, false);
    expect(first.kind).toBe('possible_duplicates');
    const second = await b.registerSubject(subject, true);
    expect(second.kind).toBe('registered');
    if (second.kind === 'registered') expect(second.subject.subject_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{11}$/);
  });

  it('rejects with {code, message} from the closed union', async () => {
    const b = new FakeBackend({ fixtures: generatedFixtures, seed: true });
    const locked = await rejection(b.listRecords({ kind: 'today' }));
    expect(locked.code).toBe('locked');
    const [user] = await b.listUsers();
    const wrong = await rejection(b.unlock(user!.user_id, 'nope'));
    expect(wrong).toEqual({ code: 'wrong_password', message: expect.any(String) });
    const fresh = new FakeBackend({ fixtures: generatedFixtures });
    expect((await rejection(fresh.createUser({ username: 'a', display_name: 'A', password: '12345678' }))).code).toBe('not_enrolled');
    expect((await rejection(fresh.enrol('https://x.org', 'bad'))).code).toBe('enrolment_failed');
    for (const e of [locked, wrong]) expect(ERROR_CODES).toContain(e.code);
  });

  it('withholds restricted sections from a screener and shows them to a clinician', async () => {
    const b = await unlocked();
    const r = await b.newRecord('pda', '7K3M9QX2TB4');
    const screener = await b.getRecord(r.record_id);
    expect(screener.withheld_sections).toContain('mental_health');
    expect((await b.evaluate(r.record_id, 'en')).relevant).not.toContain('rhs_administered');
    await b.lock();
    await b.unlock('u-karim', 'tern');
    expect((await b.getRecord(r.record_id)).withheld_sections).toEqual([]);
    const ev = await b.setAnswer(r.record_id, 'rhs_administered', true, 'en');
    expect(ev.relevant).toContain('rhs_item_15');
  });

  it('tells a screener which fields are read-only and refuses writes to them, as tern-store does', async () => {
    const b = await unlocked();
    const r = await b.newRecord('pda', '7K3M9QX2TB4');
    const screener = await b.getRecord(r.record_id);
    expect(screener.read_only_fields).toContain('outcome');
    expect(screener.read_only_fields).toContain('tb_diagnosis');
    expect(screener.read_only_fields).not.toContain('temp_c');
    const refused = await rejection(b.setAnswer(r.record_id, 'outcome', 'not_fit', 'en'));
    expect(refused.code).toBe('forbidden');
    expect(refused.message).not.toContain('not_fit');
    expect((await b.getRecord(r.record_id)).answers.outcome).toBeUndefined();
    await b.lock();
    await b.unlock('u-karim', 'tern');
    expect((await b.getRecord(r.record_id)).read_only_fields).toEqual([]);
    await b.setAnswer(r.record_id, 'outcome', 'deferred', 'en');
    expect((await b.getRecord(r.record_id)).answers.outcome).toBe('deferred');
  });

  it('amends a locked record only with a reason, kept in the history', async () => {
    const b = await unlocked();
    const locked = (await b.listRecords({ kind: 'today' })).find((r) => r.status === 'locked')!;
    expect(locked.amendment).toBe(true);
    expect((await rejection(b.setAnswer(locked.record_id, 'temp_c', 36.9, 'en'))).code).toBe('invalid_input');
    expect((await rejection(b.addRepeat(locked.record_id, 'current_meds', 'en', '  '))).code).toBe('invalid_input');
    await b.setAnswer(locked.record_id, 'temp_c', 36.9, 'en', 'misread thermometer');
    const history = await b.fieldHistory(locked.record_id, 'temp_c');
    expect(history.at(-1)).toMatchObject({ value: 36.9, reason: 'misread thermometer' });
  });

  it('adds a user while locked only with a local user confirming', async () => {
    const b = new FakeBackend({ fixtures: generatedFixtures, seed: true });
    const user = { username: 'lena', display_name: 'Lena', password: 'lena-pass' };
    expect((await rejection(b.createUser(user))).code).toBe('locked');
    expect((await rejection(b.createUser({ ...user, confirmed_by: { user_id: 'u-amina', password: 'nope' } }))).code).toBe('wrong_password');
    const lena = await b.createUser({ ...user, confirmed_by: { user_id: 'u-amina', password: 'tern' } });
    expect((await b.unlock(lena.user_id, 'lena-pass')).user.username).toBe('lena');
  });

  it('syncs with progress and clears pending records', async () => {
    const b = await unlocked();
    expect((await b.syncState()).pending_records).toBeGreaterThan(0);
    const started = await b.syncNow();
    expect(started.phase).toBe('connecting');
    await new Promise((r) => setTimeout(r, 50));
    const done = await b.syncState();
    expect(done).toMatchObject({ phase: 'idle', pending_records: 0 });
    expect(done.last_sync_at).not.toBeNull();
  });

  it('persists state across restarts', async () => {
    let saved: string | null = null;
    const persist = { load: () => saved, save: (s: string) => (saved = s) };
    const b = new FakeBackend({ fixtures: generatedFixtures, seed: true, persist });
    const [user] = await b.listUsers();
    await b.unlock(user!.user_id, 'tern');
    const r = await b.newRecord('pda', '7K3M9QX2TB4');
    await b.setAnswer(r.record_id, 'temp_c', '٣٦٫٨', 'en');
    const again = new FakeBackend({ fixtures: generatedFixtures, persist });
    await again.unlock(user!.user_id, 'tern');
    expect((await again.getRecord(r.record_id)).answers.temp_c).toBe('٣٦٫٨');
  });
});
