import type { Backend } from '../backend/backend';
import type { DeviceState, Session, Settings } from '../backend/types';
import { locale } from '../i18n/locale.svelte';

export type Route =
  | { name: 'loading' }
  | { name: 'firstrun' }
  | { name: 'unlock' }
  | { name: 'home' }
  | { name: 'subjects' }
  | { name: 'subject'; subjectId: string }
  | { name: 'form'; recordId: string }
  | { name: 'record'; recordId: string }
  | { name: 'settings' }
  | { name: 'hub' }
  | { name: 'bundles' };

/** App-wide state: the backend, the device, the session and where the user is. */
class AppState {
  backend = $state<Backend | null>(null);
  device = $state<DeviceState | null>(null);
  session = $state<Session | null>(null);
  settings = $state<Settings | null>(null);
  route = $state<Route>({ name: 'loading' });
  /** Where to go back to after an idle lock. */
  resume: Route | null = null;

  get api(): Backend {
    if (!this.backend) throw new Error('backend not ready');
    return this.backend;
  }

  go(route: Route): void {
    this.route = route;
    if (typeof window !== 'undefined') window.scrollTo(0, 0);
  }

  async start(backend: Backend): Promise<void> {
    this.backend = backend;
    this.settings = await backend.getSettings();
    locale.set(this.settings.language);
    this.device = await backend.deviceState();
    const users = this.device.enrolled ? await backend.listUsers() : [];
    this.go(this.device.enrolled && users.length > 0 ? { name: 'unlock' } : { name: 'firstrun' });
  }

  async setLanguage(lang: string): Promise<void> {
    locale.set(lang);
    if (this.backend && this.settings) {
      this.settings = await this.backend.saveSettings({ ...this.settings, language: lang });
    }
  }

  async lock(idle = false): Promise<void> {
    this.resume = idle && this.route.name !== 'unlock' ? this.route : null;
    await this.backend?.lock();
    this.session = null;
    this.go({ name: 'unlock' });
  }

  unlocked(session: Session): void {
    this.session = session;
    const next = this.resume ?? { name: 'home' };
    this.resume = null;
    this.go(next);
  }
}

export const app = new AppState();
