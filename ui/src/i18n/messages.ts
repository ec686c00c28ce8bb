import { FluentBundle, FluentResource, type FluentVariable } from '@fluent/bundle';
import { negotiate } from './languages';

/** The UI message files, one per language (src/i18n/locales/<tag>.ftl). */
const SOURCES = import.meta.glob<string>('./locales/*.ftl', { query: '?raw', import: 'default', eager: true });

export const MESSAGE_SOURCES: Record<string, string> = Object.fromEntries(
  Object.entries(SOURCES).map(([path, text]) => [path.replace(/^.*\//, '').replace(/\.ftl$/, ''), text]),
);

export const UI_LANGUAGES = Object.keys(MESSAGE_SOURCES);

export type Args = Record<string, FluentVariable>;

/**
 * Formats UI messages in one language, falling back to English per message. Fluent
 * wraps every inserted value in Unicode isolates (FSI … PDI), so a Latin name or an
 * ID inside Arabic text keeps its own direction.
 */
export class Messages {
  readonly lang: string;
  private readonly bundles: FluentBundle[];
  readonly errors: string[] = [];

  constructor(lang: string, sources: Record<string, string> = MESSAGE_SOURCES) {
    this.lang = negotiate(lang, Object.keys(sources));
    const tags = this.lang === 'en' ? ['en'] : [this.lang, 'en'];
    this.bundles = tags.map((tag) => {
      const bundle = new FluentBundle(tag === this.lang ? lang : tag);
      const errs = bundle.addResource(new FluentResource(sources[tag] ?? ''));
      for (const e of errs) this.errors.push(`${tag}: ${e.message}`);
      return bundle;
    });
  }

  has(id: string): boolean {
    return this.bundles.some((b) => b.hasMessage(id));
  }

  format(id: string, args?: Args): string {
    for (const bundle of this.bundles) {
      const msg = bundle.getMessage(id);
      if (msg?.value) return bundle.formatPattern(msg.value, args);
    }
    return id;
  }
}
