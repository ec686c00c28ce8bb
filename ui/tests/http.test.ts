import { describe, expect, it } from 'vitest';
import { HttpDashboardBackend } from '../src/backend/http';
import { rejection } from './support';

type Call = { url: string; init?: RequestInit };

/** A fetch that answers from a table, recording every call. */
function server(answers: Record<string, () => Response>) {
  const calls: Call[] = [];
  const fetcher = async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    const answer = answers[`${init?.method ?? 'GET'} ${url}`];
    if (!answer) throw new TypeError('fetch failed');
    return answer();
  };
  return { calls, backend: new HttpDashboardBackend('', fetcher) };
}

const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });


const RECORD = { record_id: 'r1', site: 'demo', form_id: 'pda', form_version: '1.0.0', subject_id: 'S1', status: 'submitted', conflict: false };

describe('HttpDashboardBackend', () => {
  it('signs in with the account password and lists records with the bearer token', async () => {
    const { calls, backend } = server({
      'POST /v1/login': json(200, { token: 'tok-1', role: 'supervisor', sites: ['demo'] }),
      'GET /v1/records': json(200, [RECORD]),
      'POST /v1/logout': () => new Response(null, { status: 204 }),
    });
    const user = await backend.signIn(' sam ', 'pw');
    expect(user).toMatchObject({ username: 'sam', role: 'supervisor' });
    expect(JSON.parse(String(calls[0]!.init!.body))).toEqual({ user: 'sam', password: 'pw' });
    expect(await backend.reviewList()).toEqual([RECORD]);
    expect((calls[1]!.init!.headers as Record<string, string>).authorization).toBe('Bearer tok-1');
    // Signing out ends the session on the server, then nothing works without signing in.
    await backend.signOut();
    expect(calls[2]).toMatchObject({ url: '/v1/logout', init: { method: 'POST' } });
    expect((calls[2]!.init!.headers as Record<string, string>).authorization).toBe('Bearer tok-1');
    expect((await rejection(backend.reviewList())).code).toBe('locked');
    expect(calls).toHaveLength(3);
  });

  it('maps refusals to the UI error codes with the server message', async () => {
    const { backend } = server({
      'POST /v1/login': json(401, { code: 'unauthorized', message: 'wrong user name or password' }),
    });
    const e = await rejection(backend.signIn('sam', 'bad'));
    expect(e).toEqual({ code: 'wrong_password', message: 'wrong user name or password' });
    expect((await rejection(backend.reviewList())).code).toBe('locked');
  });

  it('asks to sign in again when the session expired, and says when the server is unreachable', async () => {
    let expired = false;
    const { backend } = server({
      'POST /v1/login': json(200, { token: 't', role: 'supervisor', sites: [] }),
      'GET /v1/records': () => (expired ? json(401, { code: 'unauthorized', message: 'sign in again' })() : json(200, [])()),
    });
    await backend.signIn('sam', 'pw');
    expect(await backend.reviewList()).toEqual([]);
    expired = true;
    expect((await rejection(backend.reviewList())).code).toBe('locked');
    expect((await rejection(backend.reviewList())).message).toBe('Sign in first.');
    const offline = new HttpDashboardBackend('', async () => {
      throw new TypeError('fetch failed');
    });
    expect((await rejection(offline.signIn('sam', 'pw'))).code).toBe('offline');
  });

  it('reports a non-JSON failure by its status', async () => {
    const { backend } = server({ 'POST /v1/login': () => new Response('<html>bad gateway</html>', { status: 502 }) });
    expect(await rejection(backend.signIn('sam', 'pw'))).toEqual({ code: 'internal', message: 'The server answered 502.' });
  });

  it('asks for a report with its filter and downloads its CSV; an error answer stays an error', async () => {
    const report = { name: 'daily', columns: ['day'], rows: [['2026-03-09']], chart: null, notes: [] };
    const { calls, backend } = server({
      'POST /v1/login': json(200, { token: 'tok-1', role: 'supervisor', sites: ['demo'] }),
      'GET /v1/reports/daily?from=2026-03-01&site=demo': json(200, report),
      'GET /v1/reports/daily?from=2026-03-01&site=demo&format=csv': () => new Response('day\r\n2026-03-09\r\n', { status: 200 }),
      'GET /v1/reports/daily?from=bad&format=csv': json(400, { code: 'bad_request', message: '`from` must be a day written YYYY-MM-DD' }),
      'GET /v1/reports/daily?from=bad': json(400, { code: 'bad_request', message: '`from` must be a day written YYYY-MM-DD' }),
    });
    await backend.signIn('sam', 'pw');
    expect(await backend.report('daily', { from: '2026-03-01', until: '', site: 'demo' })).toEqual(report);
    expect(await backend.reportCsv('daily', { from: '2026-03-01', site: 'demo' })).toBe('day\r\n2026-03-09\r\n');
    expect((calls[2]!.init!.headers as Record<string, string>).authorization).toBe('Bearer tok-1');
    expect((await rejection(backend.reportCsv('daily', { from: 'bad' }))).message).toContain('YYYY-MM-DD');
  });

  it('streams an export with its progress, and reads a refusal without asking again', async () => {
    const chunks = [new Uint8Array([80, 75, 3, 4]), new Uint8Array(1000)];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const x of chunks) c.enqueue(x);
        c.close();
      },
    });
    const { calls, backend } = server({
      'POST /v1/login': json(200, { token: 'tok-1', role: 'data_manager', sites: ['demo'] }),
      'POST /v1/exports': () =>
        new Response(body, {
          status: 200,
          headers: { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="tern-pda-research.zip"', 'x-tern-export-records': '7' },
        }),
    });
    await backend.signIn('dana', 'pw');
    const seen: [number, number | null][] = [];
    const file = await backend.exportFile({ form: 'pda', format: 'csv', purpose: 'research' }, (b, r) => seen.push([b, r]));
    expect(file.name).toBe('tern-pda-research.zip');
    expect(file.records).toBe(7);
    expect(file.blob.size).toBe(1004);
    expect(seen[0]).toEqual([0, 7]);
    expect(seen.at(-1)).toEqual([1004, 7]);
    expect(JSON.parse(String(calls[1]!.init!.body))).toMatchObject({ form: 'pda', format: 'csv', purpose: 'research' });

    const refusing = server({
      'POST /v1/login': json(200, { token: 'tok-2', role: 'data_manager', sites: ['demo'] }),
      'POST /v1/exports': json(403, { code: 'forbidden', message: 'an identified export needs an approved request' }),
    });
    await refusing.backend.signIn('dana', 'pw');
    const e = await rejection(refusing.backend.exportFile({ form: 'pda', format: 'csv', purpose: 'research', identified: true }, () => {}));
    expect(e).toEqual({ code: 'forbidden', message: 'an identified export needs an approved request' });
    // One export request: a refusal is never sent twice (each export is access-logged).
    expect(refusing.calls.filter((c) => c.url === '/v1/exports')).toHaveLength(1);
  });
});
