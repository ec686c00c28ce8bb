// The dashboard's Exports page (issue 18) with the fake backend: a data manager asks
// for an identified export, a supervisor approves it, the data manager downloads a
// pseudonymised and then an identified export with the approval; at 1280×800, at
// 800 px wide and in Arabic. The real server's exports are downloaded by the app
// suite (e2e-app/app.e2e.ts) and checked by the server's tests.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, open, preview, shot } from './harness';

let server: { url: string; stop: () => void };
let browser: Browser;

beforeAll(async () => {
  server = await preview(4393);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
});

async function signIn(page: Page, user: string) {
  await page.locator('#dash-user').fill(user);
  await page.locator('#dash-pass').fill('tern');
  await page.locator('#dash-pass').press('Enter');
  await page.locator('[data-page=exports]').click();
  await page.getByTestId('exports').waitFor();
}

async function signOut(page: Page) {
  await page.locator('header button').last().click();
  await page.locator('#dash-user').waitFor();
}

describe('exports', () => {
  it('a data manager exports, asks for identified data, and exports it once a supervisor approved', async () => {
    const { context, page, problems } = await open(browser);
    await page.goto(`${server.url}/dashboard.html?fake`);
    await signIn(page, 'dana');
    const form = page.getByTestId('export-form');
    await form.waitFor();
    await page.locator('#exp-purpose').selectOption('research');
    await page.locator('#exp-format').selectOption('fhir');
    await shot(page, '50-exports-data-manager');

    // A pseudonymised export needs no approval.
    const plain = page.waitForEvent('download');
    await page.locator('[data-action=export]').click();
    expect((await plain).suggestedFilename()).toBe('tern-pda-research.json');
    expect(await page.getByRole('status').textContent()).toContain('tern-pda-research.json');

    // Identified data: refused without an approval, then asked for.
    await page.locator('#exp-identified').check();
    await page.locator('[data-action=export]').click();
    await page.locator('[data-code=forbidden]').waitFor();
    await page.locator('[data-action=request]').click();
    const request = page.locator('[data-testid=approvals] li[data-approved=no]');
    await request.waitFor();
    expect(await request.textContent()).toContain('Waits for a supervisor');
    await shot(page, '51-exports-requested');
    await signOut(page);

    // The supervisor sees the request and approves it; supervisors do not export.
    await signIn(page, 'sam');
    expect(await page.getByTestId('export-form').count()).toBe(0);
    await page.locator('[data-testid=approvals] [data-action=approve]').click();
    await page.locator('[data-testid=approvals] li[data-approved=yes]').waitFor();
    await shot(page, '52-exports-approved');
    await signOut(page);

    await signIn(page, 'dana');
    await page.locator('#exp-purpose').selectOption('research');
    await page.locator('#exp-identified').check();
    const id = await page.locator('[data-testid=approvals] li[data-approved=yes]').getAttribute('data-approval');
    await page.locator('#exp-approval').selectOption(id!);
    const identified = page.waitForEvent('download');
    await page.locator('[data-action=export]').click();
    expect((await identified).suggestedFilename()).toBe('tern-pda-research.zip');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('the page at 800 px and in Arabic', async () => {
    const { context, page, problems } = await open(browser, { width: 800, height: 1000 });
    await page.goto(`${server.url}/dashboard.html?fake`);
    await page.locator('#dash-language').selectOption('ar');
    await expect.poll(() => page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await signIn(page, 'dana');
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await shot(page, '53-exports-arabic-800');
    expect(problems).toEqual([]);
    await context.close();
  });
});
