import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/ui');
const UI = resolve(import.meta.dirname, '..');

/** Starts `vite preview` of dist/ on a free-ish port; stop() ends that process only. */
export async function preview(port: number): Promise<{ url: string; stop: () => void }> {
  const child: ChildProcess = spawn(resolve(UI, 'node_modules/.bin/vite'), ['preview', '--strictPort', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: UI,
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${url}/index.html`);
      if (res.ok) return { url, stop: () => child.kill('SIGTERM') };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error('vite preview did not start');
}

export async function launch(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A fresh context (empty storage) with problems collected: page errors, console errors, CSP. */
export async function open(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  return { context, page, problems };
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`), fullPage: false });
}
