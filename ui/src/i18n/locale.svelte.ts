import { directionOf } from './languages';
import { Messages, type Args } from './messages';

/** The UI language, shared by every screen. Changing it re-renders all text. */
class Locale {
  lang = $state('en');
  messages = $derived(new Messages(this.lang));
  dir = $derived(directionOf(this.lang));

  set(lang: string): void {
    this.lang = lang;
    if (typeof document !== 'undefined') {
      document.documentElement.lang = lang;
      document.documentElement.dir = directionOf(lang);
    }
  }
}

export const locale = new Locale();

/** A UI message in the current language (reactive in templates). */
export function t(id: string, args?: Args): string {
  return locale.messages.format(id, args);
}

export { countryName, formatDate, formatDateTime } from './format';
