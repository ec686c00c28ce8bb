// The dashboard's Quarantine view (issue 13) with the fake backend: a supervisor
// sees who wrote each quarantined change and why (names, never values), cancels a
// release, then releases one and rejects the other, each after a confirmation with
// a reason; a data manager has no Quarantine page.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, open, preview, shot } from './harness';

let server: { url: string; stop: () => void };
let browser: Browser;

beforeAll(async () => {
  server = await preview(4391);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
});

const FIRST = '0193a6f2-7c1e-7d2a-9b1e-000000000101';
const SECOND = '0193a6f2-7c1e-7d2a-9b1e-000000000104';

async function signIn(page: Page, user: string) {
  await page.goto(`${server.url}/dashboard.html?fake`);
  await page.locator('#dash-user').fill(user);
  await page.locator('#dash-pass').fill('tern');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-page=overview]').waitFor();
}

describe('quarantine', () => {
  it('a supervisor releases and rejects quarantined changes after confirming with a reason', async () => {
    const { context, page, problems } = await open(browser);
    await signIn(page, 'sam');
    await page.locator('[data-page=quarantine]').click();
    const list = page.getByTestId('quarantine-list');
    await list.waitFor();
    expect(await list.locator('li[data-doc]').count()).toBe(2);
    const first = list.locator(`li[data-doc="${FIRST}"]`);
    expect(await first.textContent()).toContain('karim');
    expect(await first.textContent()).toContain('site-ke-nairobi');
    expect(await first.getByTestId('quarantine-reason').textContent()).toContain('tb_diagnosis');

    // A release asks first; cancelling decides nothing.
    await first.locator('[data-decision=release]').click();
    const confirm = first.getByTestId('quarantine-confirm');
    await confirm.waitFor();
    expect(await confirm.getByRole('button', { name: 'Release', exact: true }).isDisabled()).toBe(true);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => confirm.count()).toBe(0);
    expect(await list.locator('li[data-doc]').count()).toBe(2);

    await first.locator('[data-decision=release]').click();
    await page.locator('#quar-reason').fill('Dictated by Dr Amina, checked with her');
    await shot(page, '40-quarantine-confirm-release');
    await confirm.getByRole('button', { name: 'Release', exact: true }).click();
    await expect.poll(() => list.locator('li[data-doc]').count()).toBe(1);
    expect(await page.getByRole('status').textContent()).toContain(FIRST);

    const second = list.locator(`li[data-doc="${SECOND}"]`);
    await second.locator('[data-decision=reject]').click();
    await page.locator('#quar-reason').fill('A screener may not lock records');
    await second.getByTestId('quarantine-confirm').getByRole('button', { name: 'Reject', exact: true }).click();
    await page.getByTestId('quarantine-empty').waitFor();
    await shot(page, '41-quarantine-empty');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('the list at 800 px and in Arabic', async () => {
    const { context, page, problems } = await open(browser, { width: 800, height: 1000 });
    await signIn(page, 'sam');
    await page.locator('#dash-language').selectOption('ar');
    await expect.poll(() => page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await page.locator('[data-page=quarantine]').click();
    await page.getByTestId('quarantine-list').waitFor();
    await page.locator(`li[data-doc="${FIRST}"] [data-decision=reject]`).click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await shot(page, '42-quarantine-800-ar');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a data manager has no Quarantine page', async () => {
    const { context, page, problems } = await open(browser);
    await signIn(page, 'dana');
    expect(await page.locator('[data-page=quarantine]').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});
