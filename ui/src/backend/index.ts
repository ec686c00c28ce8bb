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

export async function dashboardBackend(): Promise<DashboardBackend> {
  const { FakeDashboardBackend } = await import('./fake');
  return new FakeDashboardBackend();
}
