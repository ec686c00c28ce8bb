import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend';
import { toBackendError } from '../src/backend/errors';
import { COMMANDS, TauriBackend } from '../src/backend/tauri';

function recorder(result: unknown = null) {
  const calls: [string, Record<string, unknown> | undefined][] = [];
  const invoke = async (cmd: string, args?: Record<string, unknown>) => {
    calls.push([cmd, args]);
    return result;
  };
  return { calls, backend: new TauriBackend(invoke) };
}

describe('TauriBackend', () => {
  it('has one distinct command per Backend method', () => {
    const names = Object.values(COMMANDS);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z]+(_[a-z]+)*$/);
    const methods = Object.getOwnPropertyNames(TauriBackend.prototype).filter((m) => m !== 'constructor' && m !== 'call');
    expect(methods.sort()).toEqual(Object.keys(COMMANDS).sort());
  });

  it('sends camelCase arguments to the named command', async () => {
    const { calls, backend } = recorder();
    await backend.setAnswer('rec-1', 'vacc[0].dose_no', 2, 'ar');
    await backend.unlock('u-1', 'secret');
    await backend.listRecords({ kind: 'subject', subject_id: 'S1' });
    await backend.removeRepeat('rec-1', 'vacc', 0, 'en');
    await backend.setAnswer('rec-2', 'temp_c', 36.6, 'en', 'typo on the paper form');
    await backend.createUser({ username: 'karim', display_name: 'Karim', password: 'pw-karim-1', confirmed_by: { user_id: 'amina', password: 'pw' } });
    expect(calls).toEqual([
      ['records_set_answer', { recordId: 'rec-1', path: 'vacc[0].dose_no', value: 2, lang: 'ar', reason: null }],
      ['session_unlock', { userId: 'u-1', password: 'secret' }],
      ['records_list', { filter: { kind: 'subject', subject_id: 'S1' } }],
      ['records_remove_repeat', { recordId: 'rec-1', group: 'vacc', index: 0, lang: 'en', reason: null }],
      ['records_set_answer', { recordId: 'rec-2', path: 'temp_c', value: 36.6, lang: 'en', reason: 'typo on the paper form' }],
      ['users_create', { user: { username: 'karim', display_name: 'Karim', password: 'pw-karim-1', confirmed_by: { user_id: 'amina', password: 'pw' } } }],
    ]);
  });

  it('maps every rejection onto {code, message}', async () => {
    const failing = (err: unknown) =>
      new TauriBackend(async () => {
        throw err;
      }) as Backend;
    await expect(failing({ code: 'locked', message: 'Unlock first.' }).deviceState()).rejects.toEqual({ code: 'locked', message: 'Unlock first.' });
    await expect(failing('{"code":"storage","message":"disk full"}').deviceState()).rejects.toEqual({ code: 'storage', message: 'disk full' });
    await expect(failing({ code: 'made_up', message: 'x' }).deviceState()).rejects.toEqual({ code: 'internal', message: 'x' });
    await expect(failing('plain text').deviceState()).rejects.toEqual({ code: 'internal', message: 'plain text' });
    expect(toBackendError(new Error('boom'))).toEqual({ code: 'internal', message: 'boom' });
  });
});
