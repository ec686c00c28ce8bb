import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, open, preview, shot } from './harness';

let browser: Browser;
let server: { url: string; stop: () => void };

beforeAll(async () => {
  server = await preview(4317);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  server?.stop();
});

async function unlock(page: Page, userId = 'u-amina') {
  await page.goto(`${server.url}/index.html`);
  await page.locator(`input[name=user][value=${userId}]`).check();
  await page.getByLabel('Password').fill('tern');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('heading', { name: 'Today', exact: true }).waitFor();
}

async function startForm(page: Page, search: string, subjectId: string) {
  await page.getByRole('button', { name: 'People' }).click();
  await page.locator('#subject-query').fill(search);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('[data-testid=subject-results] li', { hasText: subjectId }).getByRole('button', { name: 'Open' }).click();
  await page.locator('button[data-form=pda]').click();
  await page.locator('[data-section-id=metadata]').waitFor();
}

async function section(page: Page, id: string) {
  await page.locator(`button[data-section="${id}"]`).click();
  await page.locator(`[data-section-id="${id}"]`).waitFor();
}

describe('field app against the fake backend', () => {
  it('enrols a fresh device and creates the first user', async () => {
    const { context, page, problems } = await open(browser);
    await page.goto(`${server.url}/index.html?fresh`);
    await page.getByRole('heading', { name: 'Set up this device' }).waitFor();
    await page.locator('#server').fill('https://tern.example.org');
    await page.locator('#code').fill('bad');
    await page.getByRole('button', { name: 'Enrol this device' }).click();
    await page.locator('[data-code=enrolment_failed]').waitFor();
    await shot(page, '01-first-run-error');
    await page.locator('#code').fill('ABCD-1234');
    await page.getByRole('button', { name: 'Enrol this device' }).click();
    await page.locator('#new-display-name').fill('Amina Screener');
    await page.locator('#new-username').fill('amina');
    await page.locator('#new-password').fill('correct horse');
    await shot(page, '02-first-run-user');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: 'Today', exact: true }).waitFor();
    await shot(page, '03-home-empty');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('unlocks, lists the day, and shows sync progress', async () => {
    const { context, page, problems } = await open(browser);
    await page.goto(`${server.url}/index.html`);
    await page.getByRole('heading', { name: 'Who is working?' }).waitFor();
    await page.locator('input[name=user][value=u-amina]').check();
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.locator('[data-code=wrong_password]').waitFor();
    await shot(page, '04-unlock-wrong-password');
    await unlock(page);
    await expect.poll(() => page.locator('[data-testid=records-today] li').count()).toBe(5);
    await expect.poll(() => page.locator('[data-testid=records-correction] li').count()).toBe(2);
    await shot(page, '05-home');
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.locator('.sync-panel progress').waitFor();
    await shot(page, '06-home-syncing');
    await page.locator('[data-testid=sync-phase][data-phase=idle]').waitFor();
    await expect.poll(() => page.locator('.sync-panel').textContent()).toContain('Nothing to send');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('warns of a duplicate when registering a person again', async () => {
    const { context, page, problems } = await open(browser);
    await unlock(page);
    await page.getByRole('button', { name: 'Find or register a person' }).click();
    await page.locator('#subject-query').fill('yusuf');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('[data-testid=subject-results] li').count()).toBe(2);
    await page.locator('#reg-given').fill('Halima');
    await page.locator('#reg-family').fill('Yusuf');
    await page.locator('#reg-dob').fill('1996-01-15');
    await page.locator('#reg-nat').fill('Som');
    await page.locator('button[data-code=SO]').click();
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.locator('[data-testid=duplicate-warning]').waitFor();
    await shot(page, '07-subject-duplicate');
    await page.getByRole('button', { name: 'This is the person' }).click();
    await page.locator('button[data-form=pda]').waitFor();
    await shot(page, '08-subject');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('fills a pre-departure form: skip logic, constraint error, repeats, language switch', async () => {
    const { context, page, problems } = await open(browser);
    await unlock(page);
    await startForm(page, 'Halima', '7K3M9QX2TB4');
    await shot(page, '09-form-metadata');

    // The engine says the pregnancy block is relevant for a 30-year-old woman.
    await expect.poll(() => page.locator('button[data-section=pregnancy]').count()).toBe(1);
    await section(page, 'pregnancy');
    await expect.poll(() => page.locator('[data-path=preg_multiple]').count()).toBe(0);
    await page.locator('[data-path=pregnant] label', { hasText: 'Yes' }).click();
    await page.locator('[data-path=preg_multiple]').waitFor();
    await shot(page, '10-form-pregnancy');

    // A repeat group: add an instance, its children appear as group[0].field.
    await section(page, 'medical_history');
    await page.locator('[data-repeat=current_meds] button.add').click();
    await page.locator('[data-path="current_meds[0].med_name"] input').fill('Metformin');
    await page.locator('[data-path="current_meds[0].med_name"] input').blur();
    await page.locator('[data-path="current_meds[0].dose"]').waitFor();
    await page.locator('[data-path=drug_allergy] button', { hasText: 'No' }).click();
    await expect.poll(() => page.locator('[data-path=drug_allergy] button[aria-pressed=true]').textContent()).toBe('No');
    await shot(page, '11-form-repeat');

    // A constraint error from the engine, shown under the field.
    await section(page, 'vitals');
    await page.locator('#f-temp_c').fill('20');
    await page.locator('#f-temp_c').blur();
    await page.locator('[data-path=temp_c] .field-error[data-rule=r4]').waitFor();
    await expect.poll(() => page.locator('[data-path=temp_c] .field-error').textContent()).toContain('25');
    await shot(page, '12-form-constraint-error');

    // Switch to Arabic mid-form: right to left, messages in Arabic, nothing lost.
    await page.selectOption('#ui-language', 'ar');
    await expect.poll(() => page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await expect.poll(() => page.locator('[data-path=temp_c] .field-error').textContent()).toMatch(/[\u0600-\u06FF]/);
    expect(await page.locator('#f-temp_c').inputValue()).toBe('20');
    await expect.poll(() => page.locator('#section-title').textContent()).toMatch(/[\u0600-\u06FF]/);
    await shot(page, '13-form-arabic-rtl');
    const box = await page.locator('nav.sections').boundingBox();
    expect(box!.x).toBeGreaterThan(640); // the section list moved to the right

    // Eastern Arabic digits are typed as they are; the engine normalises them.
    await page.locator('#f-heart_rate').fill('٧٨');
    await page.locator('#f-heart_rate').blur();
    await expect.poll(() => page.locator('.save-state').getAttribute('data-state')).toBe('saved');

    // Portrait tablet.
    await page.setViewportSize({ width: 800, height: 1280 });
    await shot(page, '14-form-arabic-portrait');
    await page.selectOption('#ui-language', 'en');
    await shot(page, '15-form-portrait');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Submit shows what is missing.
    await page.getByTestId('open-submit').click();
    await page.getByTestId('submit-summary').waitFor();
    await expect.poll(() => page.locator('[data-testid=summary-errors] li').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Submit the record' }).isDisabled()).toBe(true);
    await shot(page, '16-form-submit-summary');
    await page.locator('[data-testid=summary-errors] li button').click();
    await page.locator('[data-section-id=vitals]').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('hides the pregnancy block for a man', async () => {
    const { context, page, problems } = await open(browser);
    await unlock(page);
    await startForm(page, 'Rahimi', 'M2D8R4WQ1ZC');
    await page.locator('button[data-section=vitals]').waitFor();
    expect(await page.locator('button[data-section=pregnancy]').count()).toBe(0);
    await section(page, 'identity');
    await shot(page, '17-form-male-identity');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('keeps the pregnancy answers hidden by a change of sex and marks them on the record', async () => {
    const { context, page, problems } = await open(browser);
    await unlock(page);
    await startForm(page, 'Halima', '7K3M9QX2TB4');
    await section(page, 'pregnancy');
    await page.locator('[data-path=pregnant] label', { hasText: 'Yes' }).click();
    await expect.poll(() => page.locator('.save-state').getAttribute('data-state')).toBe('saved');
    await section(page, 'identity');
    await page.locator('[data-path=sex] input[value=male]').check();
    await expect.poll(() => page.locator('button[data-section=pregnancy]').count()).toBe(0);
    await page.getByRole('button', { name: 'History and conflicts' }).first().click();
    const kept = page.locator('li[data-path=pregnant] [data-testid=hidden-kept]');
    await kept.waitFor();
    expect(await kept.textContent()).toBe('Hidden, kept');
    await kept.scrollIntoViewIfNeeded();
    await shot(page, '17b-record-hidden-kept');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a conflict with both values and who made them, and resolves it', async () => {
    const { context, page, problems } = await open(browser);
    await unlock(page);
    await page.locator('[data-testid=records-correction] li', { hasText: 'conflict' }).getByRole('button', { name: 'History' }).click();
    await page.locator('[data-testid=conflicts] .conflict[data-path=temp_c]').waitFor();
    const text = await page.locator('[data-testid=conflicts]').textContent();
    expect(text).toContain('36.8');
    expect(text).toContain('38.1');
    expect(text).toContain('karim');
    await page.locator('li', { hasText: 'Body temperature' }).getByRole('button', { name: 'History' }).click();
    await page.getByTestId('history').waitFor();
    await shot(page, '18-record-conflict-history');
    await page.locator('.conflict .value', { hasText: '38.1' }).getByRole('button', { name: 'Keep this value' }).click();
    await page.getByText('No conflicts.').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('draws RHS-15 items as a likert row for a clinician, in both orientations and right to left', async () => {
    const { context, page, problems } = await open(browser);
    await unlock(page, 'u-karim');
    await startForm(page, 'Halima', '7K3M9QX2TB4');
    expect(await page.getByTestId('withheld').count()).toBe(0);
    await section(page, 'mental_health');
    await page.locator('[data-path=rhs_administered] button', { hasText: 'Yes' }).click();
    const item1 = page.locator('[data-path=rhs_item_01] .likert');
    await item1.waitFor();
    // A row of buttons with the scale labels, not a text box or a select.
    expect(await page.locator('[data-path=rhs_item_01] input[type=text], [data-path=rhs_item_01] select').count()).toBe(0);
    expect(await item1.locator('.point').count()).toBe(5);
    expect(await page.locator('[data-path=rhs_item_15] .likert .point').count()).toBe(11);
    expect(await item1.locator('.point').first().textContent()).toContain('Not at all');
    expect(await item1.locator('.point').last().textContent()).toContain('Extremely');
    await item1.locator('.point[data-code="2"]').click();
    await expect.poll(() => page.locator('.save-state').getAttribute('data-state')).toBe('saved');
    expect(await item1.locator('.point[data-code="2"] input').isChecked()).toBe(true);
    await expect.poll(() => item1.locator('.point.checked').count()).toBe(1);
    const sizes = async () => {
      const boxes = await page.locator('[data-path=rhs_item_15] .likert .point').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
      for (const b of boxes) {
        expect(b.width).toBeGreaterThanOrEqual(44);
        expect(b.height).toBeGreaterThanOrEqual(48);
        expect(b.right).toBeLessThanOrEqual(page.viewportSize()!.width);
      }
      return boxes;
    };
    await sizes();
    await page.locator('[data-path=rhs_item_01]').scrollIntoViewIfNeeded();
    await shot(page, '22-form-likert');
    await page.setViewportSize({ width: 800, height: 1280 });
    await sizes();
    await page.locator('[data-path=rhs_item_01]').scrollIntoViewIfNeeded();
    await shot(page, '23-form-likert-portrait');
    // Right to left: the scale starts on the right.
    await page.selectOption('#ui-language', 'ar');
    await expect.poll(() => page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await expect.poll(() => item1.locator('.point').first().textContent()).toMatch(/[\u0600-\u06FF]/);
    const boxes = await sizes();
    expect(boxes[0]!.x).toBeGreaterThan(boxes[10]!.x);
    await page.locator('[data-path=rhs_item_01]').scrollIntoViewIfNeeded();
    await shot(page, '24-form-likert-arabic-portrait');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.selectOption('#ui-language', 'en');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('leaves restricted sections out for a screener and says so', async () => {
    const { context, page, problems } = await open(browser);
    await unlock(page);
    await startForm(page, 'Halima', '7K3M9QX2TB4');
    await page.getByTestId('withheld').waitFor();
    expect(await page.getByTestId('withheld').textContent()).toContain('not shown for your role');
    await page.locator('button[data-section=vitals]').waitFor();
    expect(await page.locator('button[data-section=mental_health]').count()).toBe(0);
    await shot(page, '25-form-screener-withheld');
    // A field the form lets only a clinician write (the sign-off): shown, not editable.
    const signOff = page.locator('[data-path=clinician_id]');
    await signOff.getByTestId('role-read-only').waitFor();
    // It says whom to hand the tablet to, as the form names the role.
    expect(await signOff.getByTestId('role-read-only').textContent()).toContain('clinician');
    expect(await signOff.locator('input, select, textarea').count()).toBe(0);
    await signOff.scrollIntoViewIfNeeded();
    await shot(page, '29-form-screener-read-only');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('asks for a reason before amending a locked record and shows it in the history', async () => {
    const { context, page, problems } = await open(browser);
    await unlock(page);
    const row = page.locator('[data-testid=records-today] li', { hasText: 'Locked' });
    await row.getByRole('button', { name: 'Open' }).click();
    await page.getByTestId('amend').waitFor();
    // Nobody submits a locked record: the store offers no such move.
    expect(await page.getByTestId('open-submit').count()).toBe(0);
    expect(await page.locator('.layout').getAttribute('inert')).not.toBeNull();
    await shot(page, '26-form-amend-reason');
    await page.locator('#amend-reason').fill('Thermometer misread; re-measured');
    await page.getByRole('button', { name: 'Amend the record' }).click();
    await page.getByTestId('amending').waitFor();
    await section(page, 'vitals');
    await page.locator('#f-temp_c').fill('36.9');
    await page.locator('#f-temp_c').blur();
    await expect.poll(() => page.locator('.save-state').getAttribute('data-state')).toBe('saved');
    await page.getByRole('button', { name: 'History and conflicts' }).click();
    await page.locator('li', { hasText: 'Body temperature' }).getByRole('button', { name: 'History' }).click();
    await page.getByTestId('amendment-reason').waitFor();
    expect(await page.getByTestId('amendment-reason').textContent()).toContain('Thermometer misread; re-measured');
    await shot(page, '27-record-amendment-history');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('offers each role its own workflow moves: a clinician signs, a supervisor returns with a comment', async () => {
    const { context, page, problems } = await open(browser);
    const openRecord = async (status: string) => {
      await page.locator('[data-testid=records-today] li', { hasText: status }).first().getByRole('button', { name: 'Open' }).click();
      await page.getByRole('button', { name: 'History and conflicts' }).click();
      await page.getByTestId('status-actions').waitFor();
    };
    const lockAndUnlock = async (userId: string) => {
      await page.getByRole('button', { name: 'Lock' }).click();
      await page.getByRole('heading', { name: 'Who is working?' }).waitFor();
      await unlock(page, userId);
    };
    // A screener may not move a submitted record: no submit button, nothing offered.
    await unlock(page);
    await page.locator('[data-testid=records-today] li', { hasText: 'Submitted' }).getByRole('button', { name: 'Open' }).click();
    await page.locator('[data-section-id=metadata]').waitFor();
    expect(await page.getByTestId('open-submit').count()).toBe(0);
    await page.getByRole('button', { name: 'History and conflicts' }).click();
    await page.getByTestId('no-status-moves').waitFor();
    // The clinician signs it off.
    await lockAndUnlock('u-karim');
    await openRecord('Submitted');
    expect(await page.locator('[data-move]').evaluateAll((els) => els.map((e) => e.getAttribute('data-move')))).toEqual(['reviewed']);
    await shot(page, '30-record-clinician-sign');
    await page.getByRole('button', { name: 'Sign as reviewed' }).click();
    await page.getByText('Signed as reviewed.').waitFor();
    await page.getByTestId('no-status-moves').waitFor();
    expect(await page.locator('[data-testid=status-actions]').textContent()).not.toContain('Sign as reviewed');
    // The supervisor may lock it or return it; a return needs a comment.
    await lockAndUnlock('u-sam');
    await openRecord('Reviewed');
    // A supervisor enters no answers: the form opens to be read.
    await page.getByRole('button', { name: 'View the form' }).waitFor();
    expect(await page.locator('[data-move]').evaluateAll((els) => els.map((e) => e.getAttribute('data-move')))).toEqual(['locked', 'returned']);
    const giveBack = page.getByRole('button', { name: 'Return for correction' });
    expect(await giveBack.isDisabled()).toBe(true);
    await page.locator('#status-comment-returned').fill('Weight looks wrong: please re-weigh.');
    await shot(page, '31-record-supervisor-return');
    await giveBack.click();
    await page.getByTestId('return-comment').waitFor();
    expect(await page.getByTestId('return-comment').textContent()).toContain('please re-weigh');
    // The screener gets it back with the comment and may submit again.
    await lockAndUnlock('u-amina');
    await page.locator('[data-testid=records-correction] li', { hasText: 'please re-weigh' }).getByRole('button', { name: 'Open' }).click();
    await page.getByTestId('open-submit').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('adds a second user from the unlock screen, confirmed by a user of the device', async () => {
    const { context, page, problems } = await open(browser);
    await page.goto(`${server.url}/index.html`);
    await page.getByRole('button', { name: 'Add a user on this device' }).click();
    await page.getByRole('heading', { name: 'Add a user on this device' }).waitFor();
    await page.locator('#new-display-name').fill('Lena Nurse');
    await page.locator('#new-username').fill('lena');
    await page.locator('#new-password').fill('lena-password');
    await page.locator('input[name=confirmer][value=u-amina]').check();
    await page.locator('#confirm-password').fill('wrong');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('[data-code=wrong_password]').waitFor();
    await shot(page, '28-unlock-add-user');
    await page.locator('#confirm-password').fill('tern');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: 'Today', exact: true }).waitFor();
    // Added on the device: not proven to the server yet, so the home screen says that
    // her work stays here until she signs in once while online.
    const unproven = page.getByTestId('sync-unproven');
    await unproven.waitFor();
    expect(await unproven.textContent()).toContain('lena');
    await shot(page, '28b-unproven-user');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('lists open alerts and tasks for a clinician, and none for a screener', async () => {
    const { context, page, problems } = await open(browser);
    await unlock(page, 'u-karim');
    const alerts = page.getByTestId('alerts');
    await alerts.waitFor();
    expect(await alerts.locator('li[data-kind=tb_suspect]').textContent()).toContain('TB suspect');
    expect(await alerts.locator('li[data-kind=tb_suspect]').textContent()).toContain('Overdue');
    await shot(page, '28c-alerts-clinician');
    await alerts.getByRole('button', { name: 'Open' }).click();
    await page.locator('[data-section-id=metadata]').waitFor();
    await unlock(page, 'u-amina');
    expect(await page.locator('#h-alerts').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('changes settings and locks', async () => {
    const { context, page, problems } = await open(browser);
    await unlock(page);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.locator('#settings-timeout').fill('10');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Settings saved.').waitFor();
    await shot(page, '19-settings');
    await page.getByRole('button', { name: 'Lock' }).click();
    await page.getByRole('heading', { name: 'Who is working?' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('supervisor dashboard', () => {
  it('signs in to an empty review list', async () => {
    const { context, page, problems } = await open(browser);
    await page.goto(`${server.url}/dashboard.html?fake=empty`);
    await page.locator('#dash-user').fill('sam');
    await page.locator('#dash-pass').fill('tern');
    await shot(page, '20-dashboard-sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('review-empty').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('counts the records by status and lists those waiting for review', async () => {
    const { context, page, problems } = await open(browser);
    await page.goto(`${server.url}/dashboard.html?fake`);
    await page.locator('#dash-user').fill('sam');
    await page.locator('#dash-pass').fill('tern');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('review-list').waitFor();
    const counts = page.getByTestId('status-counts');
    expect(await counts.locator('[data-status=submitted] .n').textContent()).toBe('1');
    expect(await counts.locator('[data-status=locked] .n').textContent()).toBe('1');
    // Waiting: the submitted record and the reviewed one (which has a conflict).
    expect(await page.locator('[data-testid=review-list] li').count()).toBe(2);
    expect(await page.getByTestId('conflict').count()).toBe(1);
    // The daily activity report, as the server computed it.
    await page.getByTestId('activity').waitFor();
    expect(await page.locator('[data-testid=activity] tbody tr').count()).toBe(2);
    expect(await page.locator('[data-testid=stale-drafts] li').count()).toBe(1);
    expect(await page.getByTestId('quiet-devices').textContent()).toContain('dev-07');
    await page.getByTestId('activity').scrollIntoViewIfNeeded();
    await shot(page, '21a-dashboard-activity');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, '21-dashboard-review');
    // A record opens with its form's labels and the conflict waiting for a supervisor.
    await page.locator('[data-testid=review-list] li', { hasText: 'M2D8R4WQ1ZC' }).getByRole('button', { name: 'Open' }).click();
    const panel = page.getByTestId('record-panel');
    await panel.locator('dd[data-field=temp_c]').waitFor();
    expect(await panel.textContent()).toContain('Body temperature');
    expect(await panel.getByTestId('record-conflicts').textContent()).toContain('karim');
    await shot(page, '21b-dashboard-record');
    // The supervisor locks it from here: the moves are the server's.
    expect(await panel.locator('[data-move]').evaluateAll((els) => els.map((e) => e.getAttribute('data-move')))).toEqual(['locked', 'returned']);
    await panel.getByRole('button', { name: 'Lock the record' }).click();
    await panel.getByText('Locked. Changes are now amendments.').waitFor();
    await expect.poll(() => counts.locator('[data-status=locked] .n').textContent()).toBe('2');
    expect(await panel.locator('[data-move]').count()).toBe(0);
    await panel.getByRole('button', { name: 'Close' }).click();
    await counts.locator('[data-status=returned]').click();
    expect(await page.locator('[data-testid=review-list] li').count()).toBe(1);
    await page.locator('#dash-language').selectOption('ar');
    await expect.poll(() => page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await shot(page, '22-dashboard-arabic');
    expect(problems).toEqual([]);
    await context.close();
  });
});
