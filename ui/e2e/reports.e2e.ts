// The dashboard's Reports pages (issue 17) with the fake backend: a supervisor and a
// data manager sign in, filter a report and look at its chart; every report page is
// photographed at 1280×800, at 800 px wide and in Arabic.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_NAMES } from '../src/backend/types';
import { launch, open, preview, shot } from './harness';

let server: { url: string; stop: () => void };
let browser: Browser;

beforeAll(async () => {
  server = await preview(4318);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
});

async function signIn(page: Page, user: string) {
  await page.goto(`${server.url}/dashboard.html?fake`);
  await page.locator('#dash-user').fill(user);
  await page.locator('#dash-pass').fill('tern');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-page=reports]').click();
  await page.getByTestId('report').waitFor();
}

async function show(page: Page, name: string) {
  await page.locator(`[data-report=${name}]`).click();
  await page.locator(`[data-testid=report][data-name=${name}]`).waitFor();
  await page.getByTestId('report-chart').locator('canvas').waitFor();
}

/** Whether the chart's canvas has something drawn on it (not all transparent). */
async function drawn(page: Page): Promise<boolean> {
  return page.getByTestId('report-chart').locator('canvas').evaluate((c: HTMLCanvasElement) => {
    const ctx = c.getContext('2d');
    if (!ctx || c.width === 0) return false;
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
    return false;
  });
}

describe('reports', () => {
  it('a supervisor filters a report and sees its chart and numbers with names', async () => {
    const { context, page, problems } = await open(browser);
    await signIn(page, 'sam');
    await show(page, 'daily');
    await expect.poll(() => drawn(page)).toBe(true);
    expect(await page.locator('[data-testid=report-table] tbody tr').count()).toBe(6);
    await page.locator('#rep-site').selectOption('site-ke-nairobi');
    await page.locator('#rep-form').selectOption('pda');
    await page.locator('#rep-from').fill('2026-03-07');
    await page.getByRole('button', { name: 'Show' }).click();
    // 7 and 9 March at that site on that form; the chart follows the filter.
    await expect.poll(() => page.locator('[data-testid=report-table] tbody tr').count()).toBe(2);
    await expect.poll(() => drawn(page)).toBe(true);
    await shot(page, '30-report-daily-filtered');
    await page.locator('#rep-site').selectOption('');
    await page.locator('#rep-form').selectOption('');
    await page.locator('#rep-from').fill('');
    await page.getByRole('button', { name: 'Show' }).click();
    await show(page, 'tb_suspects');
    expect(await page.getByTestId('report-table').textContent()).toContain('Amina H.');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a data manager sees the same reports without names', async () => {
    const { context, page, problems } = await open(browser);
    await signIn(page, 'dana');
    await show(page, 'tb_suspects');
    expect(await page.getByTestId('report-table').textContent()).not.toContain('Amina H.');
    await show(page, 'vaccination');
    await expect.poll(() => drawn(page)).toBe(true);
    await shot(page, '31-report-vaccination-data-manager');
    expect(problems).toEqual([]);
    await context.close();
  });

  for (const [suffix, viewport, lang] of [
    ['1280', { width: 1280, height: 800 }, 'en'],
    ['800', { width: 800, height: 1000 }, 'en'],
    ['ar', { width: 1280, height: 800 }, 'ar'],
  ] as const) {
    it(`every report page at ${suffix}`, async () => {
      const { context, page, problems } = await open(browser, viewport);
      await signIn(page, 'sam');
      if (lang === 'ar') {
        await page.locator('#dash-language').selectOption('ar');
        await expect.poll(() => page.evaluate(() => document.documentElement.dir)).toBe('rtl');
      }
      for (const name of REPORT_NAMES) {
        await show(page, name);
        await expect.poll(() => drawn(page), { message: name }).toBe(true);
        // Nothing wider than the window: the page does not scroll sideways.
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), name).toBe(true);
        await page.getByTestId('report').scrollIntoViewIfNeeded();
        await shot(page, `32-report-${name}-${suffix}`);
      }
      expect(problems).toEqual([]);
      await context.close();
    });
  }
});
