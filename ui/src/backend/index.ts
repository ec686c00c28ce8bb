import type { Backend, DashboardBackend } from './backend';
import { inTauri, TauriBackend } from './tauri';

export type { Backend, DashboardBackend } from './backend';
export * from './types';
export { toBackendError, isBackendError } from './errors';

function browserStore(key: string) {
  return {
    load: () => window.localStorage.getItem(key),
    save: (s: string) => window.localStorage.setItem(key, s),
  };
}

/**
 * The field app's backend: Tauri commands inside the shell; in a plain browser (dev,
 * `vite preview`, Playwright) the fake over engine-generated fixtures. `?fresh` starts
 * the fake on an unenrolled device; otherwise it is seeded with a user amina / tern.
 */
export async function appBackend(): Promise<Backend> {
  if (inTauri()) return new TauriBackend();
  const { FakeBackend } = await import('./fake');
  const { generatedFixtures } = await import('./fixtures');
  const fresh = new URLSearchParams(window.location.search).has('fresh');
  const key = fresh ? 'tern-fake-fresh' : 'tern-fake';
  return new FakeBackend({ fixtures: generatedFixtures, seed: !fresh, persist: browserStore(key) });
}

/**
 * The dashboard's backend: the server that serves it (`tern serve --dashboard`);
 * `?fake` (Playwright without a server) a fake over canned records, `?fake=empty`
 * with none.
 */
export async function dashboardBackend(): Promise<DashboardBackend> {
  const fake = new URLSearchParams(window.location.search).get('fake');
  if (fake === null) {
    const { HttpDashboardBackend } = await import('./http');
    return new HttpDashboardBackend();
  }
  const { FakeDashboardBackend, SAMPLE_SERVER_RECORDS } = await import('./fake');
  const { generatedFixtures } = await import('./fixtures');
  return new FakeDashboardBackend(fake === 'empty' ? [] : SAMPLE_SERVER_RECORDS, generatedFixtures);
}
