// A small W3C WebDriver client over fetch, enough to drive the Tauri app through
// tauri-driver (WebKitWebDriver): sessions, elements, typing, clicks, scripts,
// screenshots and window size.

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriverError extends Error {}

const DEBUG = Boolean(process.env.TERN_E2E_DEBUG);

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  if (DEBUG) console.log(method, path.replace(/^\/session\/[^/]+/, ''), JSON.stringify(body ?? '').slice(0, 120));
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { value?: unknown };
  if (!res.ok) {
    const v = json.value as { error?: string; message?: string } | undefined;
    throw new WebDriverError(`${method} ${path}: ${v?.error ?? res.status} ${v?.message ?? ''}`.trim());
  }
  return json.value;
}

export class Element {
  constructor(
    private readonly s: Session,
    readonly id: string,
  ) {}
  private path(rest: string): string {
    return `/session/${this.s.id}/element/${this.id}${rest}`;
  }
  /** A real click; when another element covers this one (a sticky header after a
   *  resize), the element's own click() instead. */
  async click(): Promise<void> {
    try {
      await call(this.s.base, 'POST', this.path('/click'), {});
    } catch (e) {
      if (!(e instanceof WebDriverError) || !/intercepted/.test(e.message)) throw e;
      await this.s.exec('arguments[0].click()', { [ELEMENT]: this.id });
    }
  }
  async type(text: string): Promise<void> {
    await call(this.s.base, 'POST', this.path('/value'), { text });
  }
  async clear(): Promise<void> {
    await call(this.s.base, 'POST', this.path('/clear'), {});
  }
  async text(): Promise<string> {
    return (await call(this.s.base, 'GET', this.path('/text'))) as string;
  }
  async attribute(name: string): Promise<string | null> {
    return (await call(this.s.base, 'GET', this.path(`/attribute/${name}`))) as string | null;
  }
  async property(name: string): Promise<unknown> {
    return call(this.s.base, 'GET', this.path(`/property/${name}`));
  }
}

export class Session {
  constructor(
    readonly base: string,
    readonly id: string,
  ) {}

  static async start(base: string, application: string, env?: Record<string, string>): Promise<Session> {
    const caps: Record<string, unknown> = { application };
    if (env) caps.env = env;
    const value = (await call(base, 'POST', '/session', {
      capabilities: { alwaysMatch: { 'tauri:options': caps } },
    })) as { sessionId: string };
    return new Session(base, value.sessionId);
  }

  async end(): Promise<void> {
    await call(this.base, 'DELETE', `/session/${this.id}`).catch(() => undefined);
  }

  async find(css: string): Promise<Element | null> {
    try {
      const v = (await call(this.base, 'POST', `/session/${this.id}/element`, { using: 'css selector', value: css })) as Record<string, string>;
      return new Element(this, v[ELEMENT]!);
    } catch (e) {
      if (e instanceof WebDriverError && /no such element/.test(e.message)) return null;
      throw e;
    }
  }

  async findAll(css: string): Promise<Element[]> {
    const v = (await call(this.base, 'POST', `/session/${this.id}/elements`, { using: 'css selector', value: css })) as Record<string, string>[];
    return v.map((x) => new Element(this, x[ELEMENT]!));
  }

  /** Waits until `css` matches an element and returns it. */
  async wait(css: string, timeoutMs = 15_000): Promise<Element> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const el = await this.find(css);
      if (el) return el;
      if (Date.now() > end) throw new WebDriverError(`timed out waiting for ${css}`);
      await sleep(100);
    }
  }

  /** Waits until `css` matches nothing. */
  async waitGone(css: string, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (await this.find(css)) {
      if (Date.now() > end) throw new WebDriverError(`timed out waiting for ${css} to go`);
      await sleep(100);
    }
  }

  /** Waits until `f` returns a truthy value and returns it. */
  async until<T>(what: string, f: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await f().catch(() => undefined);
      if (v) return v;
      if (Date.now() > end) throw new WebDriverError(`timed out waiting until ${what}`);
      await sleep(100);
    }
  }

  async click(css: string): Promise<void> {
    await (await this.wait(css)).click();
  }

  async fill(css: string, text: string): Promise<void> {
    const el = await this.wait(css);
    await el.clear();
    await el.type(text);
  }

  /** Clicks the first element matching `css` whose text contains `text`. */
  async clickText(css: string, text: string): Promise<void> {
    const end = Date.now() + 15_000;
    for (;;) {
      for (const el of await this.findAll(css)) {
        if ((await el.text()).includes(text)) return el.click();
      }
      if (Date.now() > end) throw new WebDriverError(`no ${css} with text ${text}`);
      await sleep(100);
    }
  }

  async exec<T>(script: string, ...args: unknown[]): Promise<T> {
    return (await call(this.base, 'POST', `/session/${this.id}/execute/sync`, { script, args })) as T;
  }

  async execAsync<T>(script: string, ...args: unknown[]): Promise<T> {
    return (await call(this.base, 'POST', `/session/${this.id}/execute/async`, { script, args })) as T;
  }

  async screenshot(): Promise<Buffer> {
    return Buffer.from((await call(this.base, 'GET', `/session/${this.id}/screenshot`)) as string, 'base64');
  }

  async setSize(width: number, height: number): Promise<void> {
    await call(this.base, 'POST', `/session/${this.id}/window/rect`, { width, height });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
