// End-to-end tests of the real field app: the debug build of `tern-app` (Tauri,
// WebKitGTK) under Xvfb, driven through tauri-driver, against a real
// `tern serve --demo`. Screenshots of every screen go to test-artifacts/app/.
// Figures (cold start, answer-to-durable, memory) are printed and written to
// test-artifacts/app/figures.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, ARTIFACTS, memory, saveShot, stopAll, tauriDriver, tern, ternServe, xvfb, type Server } from './harness';
import { Session, sleep } from './webdriver';
import { launch as chromium, open as openPage } from '../e2e/harness';

// The first local user's password: the demo clinician account's own, which proves the
// account to the server at enrolment (set once the server printed it).
let PASSWORD = 'correct horse battery';
const TAB = '\uE004';

let tmp: string;
let driver: string;
let display: string;
let server: Server;

/** Lists a CSV export's zip and reads its main file and summary (Python's zipfile and csv). */
const PY_ZIP = `
import csv, io, json, re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
main = next(n for n in names if re.fullmatch(r"pda_[0-9.]+\\.csv", n))
text = z.read(main).decode("utf-8-sig")
print(json.dumps({"names": names, "rows": list(csv.DictReader(io.StringIO(text))), "summary": json.loads(z.read("export.json"))}))
`;
let app: Session | null = null;
const figures: Record<string, unknown> = {};

async function shot(name: string): Promise<void> {
  if (app) saveShot(name, await app.screenshot());
}

async function launch(): Promise<{ session: Session; ms: number }> {
  const t0 = performance.now();
  const session = await Session.start(driver, APP);
  return { session, ms: performance.now() - t0 };
}

/** Calls a Tauri command from the page (through the isolation frame, as the UI does). */
function invoke<T>(s: Session, cmd: string, args: Record<string, unknown> = {}): Promise<T> {
  return s.execAsync<T>(
    `const done = arguments[arguments.length - 1];
     window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
       .then((v) => done({ ok: v }), (e) => done({ err: e }));`,
    cmd,
    args,
  ).then((r) => {
    const res = r as { ok?: T; err?: unknown };
    if ('err' in res && res.err !== undefined) throw new Error(`${cmd}: ${JSON.stringify(res.err)}`);
    return res.ok as T;
  });
}

async function setInput(s: Session, css: string, value: string): Promise<void> {
  const el = await s.wait(css);
  await s.exec(
    `const el = arguments[0]; el.value = arguments[1];
     el.dispatchEvent(new Event('input', { bubbles: true }));
     el.dispatchEvent(new Event('change', { bubbles: true }));`,
    { 'element-6066-11e4-a52e-4f735466cecf': el.id },
    value,
  );
}

async function answer(s: Session, id: string, text: string): Promise<void> {
  await s.fill(`#f-${id}`, text);
  await (await s.wait(`#f-${id}`)).type(TAB);
  await s.wait('.save-state[data-state=saved]');
}

async function section(s: Session, id: string): Promise<void> {
  await s.click(`button[data-section="${id}"]`);
  await s.wait(`[data-section-id="${id}"]`);
}

async function register(s: Session, given: string, family: string, sex: 'female' | 'male', dob: string, country: string): Promise<void> {
  await s.clickText('header nav > button', 'People');
  await s.wait('#reg-given');
  await s.fill('#reg-given', given);
  await s.fill('#reg-family', family);
  await s.click(`input[name=reg-sex][value=${sex}]`);
  await setInput(s, '#reg-dob', dob);
  await s.fill('#reg-nat', country.slice(0, 3));
  await s.click(`button[data-code=${country === 'Somalia' ? 'SO' : 'AF'}]`);
  await s.click('form[aria-labelledby=register-title] button[type=submit]');
  await s.wait('button[data-form=pda]');
}

beforeAll(async () => {
  tmp = mkdtempSync(resolve(tmpdir(), 'tern-app-e2e-'));
  server = await ternServe(resolve(tmp, 'server'));
  PASSWORD = server.users.find((u) => u.role === 'clinician')!.password;
  display = await xvfb(1280, 1280);
  // The folder the app offers for bundles (a USB stick in the field).
  mkdirSync(resolve(tmp, 'usb'));
  driver = await tauriDriver(display, resolve(tmp, 'app'), { TERN_BUNDLE_DIRS: resolve(tmp, 'usb') });
}, 60_000);

afterAll(async () => {
  await app?.end();
  await stopAll();
  writeFileSync(resolve(ARTIFACTS, 'figures.json'), JSON.stringify(figures, null, 2));
  console.log('figures', JSON.stringify(figures));
  rmSync(tmp, { recursive: true, force: true });
});

describe('the field app (Tauri, WebKitGTK) against tern serve', () => {
  let recordId = '';

  it('enrols, creates the first user, registers a person and fills a pre-departure form', async () => {
    const started = await launch();
    app = started.session;
    const s = app;
    await s.setSize(1280, 800);
    await s.wait('#server');
    await shot('01-first-run');
    await s.fill('#server', server.url);
    await s.fill('#code', 'NOPE-NOPE');
    await s.click('form button.primary');
    await s.wait('#new-display-name');
    // A wrong code is refused when the first user is created (the server binds the
    // device to that user's account), and the device stays unenrolled.
    // A clinician: the server refuses a screener's restricted twin of a new record (see docs/app.md).
    const screener = server.users.find((u) => u.role === 'clinician')!;
    await s.fill('#new-display-name', 'Demo Screener');
    await s.fill('#new-username', screener.name);
    await s.fill('#new-password', PASSWORD);
    await s.click('form button.primary');
    await s.wait('[data-code=enrolment_failed]');
    await shot('02-first-run-wrong-code');
    expect((await invoke<{ enrolled: boolean }>(s, 'device_state')).enrolled).toBe(false);

    // Start again with the right code.
    await s.end();
    app = (await launch()).session;
    const a = app;
    await a.setSize(1280, 800);
    await a.fill('#server', server.url);
    await a.fill('#code', server.code);
    await a.click('form button.primary');
    await a.fill('#new-display-name', 'Demo Screener');
    await a.fill('#new-username', screener.name);
    await a.fill('#new-password', PASSWORD);
    await shot('03-first-run-user');
    await a.click('form button.primary');
    await a.wait('#h-today', 30_000);
    await shot('04-home');
    const device = await invoke<{ enrolled: boolean; site_id: string }>(a, 'device_state');
    expect(device.enrolled).toBe(true);
    expect(device.site_id).toBe('demo');

    await register(a, 'Halima', 'Yusuf', 'female', '1996-01-15', 'Somalia');
    await shot('05-subject');
    await a.click('button[data-form=pda]');
    await a.wait('[data-section-id=metadata]');
    await shot('06-form-metadata');

    // Skip logic from the engine: a 30-year-old woman gets the pregnancy block.
    await a.wait('button[data-section=pregnancy]');
    await section(a, 'pregnancy');
    expect(await a.find('[data-path=lmp_date]')).toBeNull();
    await a.clickText('[data-path=pregnant] label', 'Yes');
    await a.wait('[data-path=lmp_date]');
    await a.wait('.save-state[data-state=saved]');
    await shot('07-form-pregnancy');

    // A constraint error, then a correction typed with Eastern Arabic digits.
    await section(a, 'vitals');
    await answer(a, 'temp_c', '20');
    await a.wait('[data-path=temp_c] .field-error');
    await shot('08-form-constraint-error');
    await answer(a, 'temp_c', '٣٦٫٦');
    await a.waitGone('[data-path=temp_c] .field-error');
    await answer(a, 'heart_rate', '۷۸');

    // The RHS-15 items (restricted: a clinician sees them) as likert rows.
    await section(a, 'mental_health');
    await a.clickText('[data-path=rhs_administered] button', 'Yes');
    await a.wait('[data-path=rhs_item_01] .likert');
    expect(await a.exec<number>(`return document.querySelectorAll('[data-path=rhs_item_01] .likert .point').length`)).toBe(5);
    expect(await a.exec<number>(`return document.querySelectorAll('[data-path=rhs_item_15] .likert .point').length`)).toBe(11);
    await a.click('[data-path=rhs_item_01] .point[data-code="3"]');
    await a.wait('[data-path=rhs_item_01] .point.checked[data-code="3"]');
    await a.wait('.save-state[data-state=saved]');
    await a.exec(`document.querySelector('[data-path=rhs_item_01]').scrollIntoView()`);
    await shot('08b-form-likert');
    await section(a, 'vitals');

    // Arabic, mid-form: right to left, nothing lost.
    await setInput(a, '#ui-language', 'ar');
    await a.until('dir is rtl', async () => (await a.exec<string>('return document.documentElement.dir')) === 'rtl');
    await a.until('section title in Arabic', async () => /[\u0600-\u06FF]/.test(await (await a.wait('#section-title')).text()));
    const navX = await a.exec<number>(`return document.querySelector('nav.sections').getBoundingClientRect().x`);
    expect(navX).toBeGreaterThan(640);
    await shot('09-form-arabic-rtl');
    await a.setSize(800, 1280);
    await sleep(500);
    await shot('10-form-arabic-portrait');
    await setInput(a, '#ui-language', 'en');
    await a.until('dir is ltr', async () => (await a.exec<string>('return document.documentElement.dir')) === 'ltr');
    await shot('11-form-portrait');
    await a.setSize(1280, 800);
    await sleep(300);

    // Submit shows what is missing.
    await a.click('[data-testid=open-submit]');
    await a.wait('[data-testid=submit-summary]');
    await shot('12-form-submit-summary');

    const drafts = await invoke<{ record_id: string }[]>(a, 'records_list', { filter: { kind: 'drafts' } });
    expect(drafts.length).toBe(1);
    recordId = drafts[0]!.record_id;

    // Time from an answer to its durable save (the command resolves only then).
    const times = await a.execAsync<number[]>(
      `const done = arguments[arguments.length - 1];
       (async () => {
         const out = [];
         for (let i = 0; i < 30; i++) {
           const t = performance.now();
           await window.__TAURI_INTERNALS__.invoke('records_set_answer',
             { recordId: arguments[0], path: 'weight_kg', value: String(60 + i % 7), lang: 'en' });
           out.push(performance.now() - t);
         }
         return out;
       })().then(done, (e) => done([String(e)]));`,
      recordId,
    );
    const sorted = [...times].sort((x, y) => x - y);
    figures.answer_to_durable_ms = { median: sorted[15], p95: sorted[28], n: sorted.length };
    figures.memory_kib_after_form = memory();
  }, 240_000);

  it('keeps every answer across a restart and unlocks offline', async () => {
    await app?.end();
    const started = await launch();
    app = started.session;
    const a = app;
    await a.setSize(1280, 800);
    await a.wait('#password');
    // The session starts by launching the app; then the unlock screen must show.
    const t0 = performance.now();
    await a.wait('#password');
    figures.cold_start_to_unlock_ms = Math.round(started.ms + (performance.now() - t0));
    await shot('13-unlock');
    await a.fill('#password', 'wrong');
    await a.click('form button.primary');
    await a.wait('[data-code=wrong_password]');
    await a.fill('#password', PASSWORD);
    await a.click('form button.primary');
    await a.wait('#h-today');
    await shot('14-home-after-restart');
    const detail = await invoke<{ answers: Record<string, unknown> }>(a, 'records_get', { recordId });
    expect(detail.answers.pregnant).toBe('yes');
    expect(detail.answers.temp_c).toBe(36.6);
    expect(detail.answers.heart_rate).toBe(78);
    expect(detail.answers.weight_kg).toBe(61); // the last of the timed saves
    expect(detail.answers.family_name).toBe('Yusuf');
    await a.click(`li[data-record="${recordId}"] button.primary`);
    await section(a, 'vitals');
    expect(await (await a.wait('#f-temp_c')).property('value')).toBe('36.6');
    await shot('15-form-after-restart');
  }, 120_000);

  it('hides the pregnancy block for a man', async () => {
    const a = app!;
    await register(a, 'Yusuf', 'Rahimi', 'male', '1990-02-03', 'Afghanistan');
    await a.click('button[data-form=pda]');
    await a.wait('button[data-section=vitals]');
    expect(await a.find('button[data-section=pregnancy]')).toBeNull();
    await shot('16-form-male-no-pregnancy');
  }, 60_000);

  it('syncs and the record reaches the server', async () => {
    const a = app!;
    // Consent to screening, so that the data manager's screening export carries it.
    await invoke(a, 'records_set_answer', { recordId, path: 'consent_screening', value: 'granted', lang: 'en' });
    await a.clickText('header nav > button', 'Home');
    await a.wait('#h-today');
    await a.click('.sync-panel button.primary');
    await a.until('a sync finished', async () => {
      const st = await invoke<{ phase: string; last_sync_at: string | null }>(a, 'sync_state');
      return st.phase === 'idle' && st.last_sync_at !== null;
    }, 60_000);
    await a.wait('[data-testid=sync-phase][data-phase=idle]');
    await shot('17-home-synced');
    // A second device of the same site pulls it.
    const supervisor = server.users.find((u) => u.role === 'supervisor')!;
    const db = resolve(tmp, 'second.db');
    const env = { TERN_PASSWORD: 'second-device-pw', TERN_ACCOUNT_PASSWORD: supervisor.password };
    tern(['device', '--db', db, 'init', '--user', supervisor.name], env);
    const code = tern(['admin', '--data', server.data, 'device', 'enroll', '--site', 'demo', '--user', supervisor.name]).trim();
    tern(['device', '--db', db, 'enroll', '--server', server.url, '--code', code], env);
    tern(['device', '--db', db, 'sync'], env);
    const list = tern(['device', '--db', db, 'record', 'list'], env);
    expect(list).toContain(recordId);
  }, 120_000);

  it('shows the synced records on the dashboard the server serves', async () => {
    // Chromium against the real server: sign in as the demo supervisor, whose site
    // holds the records this app pushed.
    const supervisor = server.users.find((u) => u.role === 'supervisor')!;
    const browser = await chromium();
    try {
      const { context, page, problems } = await openPage(browser);
      await page.goto(server.url);
      await page.locator('#dash-user').fill(supervisor.name);
      await page.locator('#dash-pass').fill('wrong password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('[data-code=wrong_password]').waitFor();
      // The refused sign-in is the only problem: Chromium logs the 401 itself.
      expect(problems).toEqual(['console: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
      problems.length = 0;
      await page.locator('#dash-pass').fill(supervisor.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('status-counts').waitFor();
      // Both forms started here were synced (and verified: another device pulled them) as drafts.
      expect(await page.locator('[data-testid=status-counts] [data-status=draft] .n').textContent()).toBe('2');
      // The server's daily activity report counts both on today's row.
      expect(await page.locator('[data-testid=activity] tr[data-form=pda] [data-status=draft]').textContent()).toBe('2');
      await page.locator('[data-testid=status-counts] [data-status=draft]').click();
      await page.locator(`[data-testid=review-list] li[data-record="${recordId}"]`).getByRole('button', { name: 'Open' }).click();
      // The answers as the app entered them, labelled from the server's form view.
      await page.locator('[data-testid=record-panel] dd[data-field=temp_c]').waitFor();
      expect(await page.locator('[data-testid=record-panel] dd[data-field=temp_c]').textContent()).toContain('36.6');
      expect(await page.getByTestId('record-panel').textContent()).toContain('Body temperature');
      // A draft is the screener's still: the server offers the supervisor no move.
      expect(await page.locator('[data-testid=record-panel] [data-move]').count()).toBe(0);
      saveShot('22-dashboard-real-server', await page.screenshot({ fullPage: true }));
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.locator('#dash-user').waitFor();
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('lets the data manager download CSV and FHIR exports of the synced records', async () => {
    // Chromium against the real server (crates/server/src/export): by purpose, only
    // the consented record, pseudonymised; the FHIR bundle checked by fhir.resources.
    const manager = server.users.find((u) => u.role === 'data_manager')!;
    const browser = await chromium();
    try {
      const { context, page, problems } = await openPage(browser);
      await page.goto(server.url);
      await page.locator('#dash-user').fill(manager.name);
      await page.locator('#dash-pass').fill(manager.password);
      await page.locator('#dash-pass').press('Enter');
      await page.locator('[data-page=exports]').click();
      await page.getByTestId('export-form').waitFor();
      await page.locator('#exp-purpose').selectOption('screening');
      const save = async (format: string, file: string): Promise<string> => {
        await page.locator('#exp-format').selectOption(format);
        const download = page.waitForEvent('download');
        await page.locator('[data-action=export]').click();
        const path = resolve(tmp, file);
        await (await download).saveAs(path);
        await page.getByRole('status').waitFor();
        return path;
      };
      const zip = await save('csv', 'export.zip');
      saveShot('23-dashboard-exports-real-server', await page.screenshot({ fullPage: true }));
      // The zip read by Python's zipfile: the form version's rows, the dictionary, the summary.
      const listing = JSON.parse(
        execFileSync('python3', ['-c', PY_ZIP, zip], { encoding: 'utf8' }),
      ) as { names: string[]; rows: Record<string, string>[]; summary: unknown };
      expect(listing.names).toContain('dictionary.csv');
      expect(listing.names.some((n) => /^pda_[0-9.]+\.csv$/.test(n))).toBe(true);
      // One record of the two consented to screening: the other is left out.
      expect(listing.rows).toHaveLength(1);
      expect(listing.rows[0]!.temp_c).toBe('36.6');
      expect(Object.keys(listing.rows[0]!)).not.toContain('family_name');
      expect(JSON.stringify(listing.rows)).not.toContain('Yusuf');
      const fhir = await save('fhir', 'export.json');
      const bundle = JSON.parse(readFileSync(fhir, 'utf8')) as { resourceType: string; entry: { resource: { resourceType: string } }[] };
      expect(bundle.resourceType).toBe('Bundle');
      const kinds = bundle.entry.map((e) => e.resource.resourceType);
      expect(kinds.filter((k) => k === 'Patient')).toHaveLength(1);
      expect(kinds).toContain('QuestionnaireResponse');
      expect(kinds).toContain('Observation');
      expect(readFileSync(fhir, 'utf8')).not.toContain('Yusuf');
      execFileSync('python3', [resolve(ARTIFACTS, '../../scripts/validate_fhir.py'), fhir], { encoding: 'utf8' });
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('writes a bundle to the USB folder for the server and reads the one the server wrote back', async () => {
    const a = app!;
    // A change made after the last sync: the bundle carries it.
    await invoke(a, 'records_set_answer', { recordId, path: 'resp_rate', value: '18', lang: 'en' });
    await a.clickText('header nav > button', 'Home');
    await a.click('[data-testid=open-bundles]');
    await a.wait('[data-testid=bundle-export]');
    await shot('19a-bundles');
    await a.click('[data-testid=bundle-export]');
    await a.wait('[data-testid=bundle-done][data-direction=up]', 60_000);
    await shot('19b-bundle-written');
    const usb = resolve(tmp, 'usb');
    const written = readdirSync(usb).filter((f) => f.endsWith('.ternbundle'));
    expect(written).toHaveLength(1);
    // The server's administrator reads it (an encrypted, signed bundle) and writes one back.
    const read = JSON.parse(tern(['admin', '--data', server.data, 'bundle', 'import', resolve(usb, written[0]!)])) as { new_changes: number };
    expect(read.new_changes).toBeGreaterThan(0);
    const device = await invoke<{ device_id: string }>(a, 'device_state');
    tern(['admin', '--data', server.data, 'bundle', 'export', '--to', device.device_id, resolve(usb, 'from-server.ternbundle')]);
    // The app lists the new file (it looks every 2 s) and reads it.
    await a.wait('li[data-file="from-server.ternbundle"] [data-testid=bundle-import]', 30_000);
    await a.click('li[data-file="from-server.ternbundle"] [data-testid=bundle-import]');
    await a.wait('[data-testid=bundle-done][data-direction=down]', 60_000);
    await shot('19c-bundle-read');
  }, 120_000);

  it('locks from the header', async () => {
    const a = app!;
    await a.clickText('header nav > button', 'Lock');
    await a.wait('#password');
    await shot('18-locked');
  }, 30_000);

  it('adds a second user from the unlock screen, who as a screener sees no restricted section', async () => {
    const a = app!;
    await a.clickText('form button.link', 'Add a user on this device');
    await a.wait('#confirm-password');
    const screener = server.users.find((u) => u.role === 'screener');
    await a.fill('#new-display-name', 'Second Screener');
    await a.fill('#new-username', screener?.name ?? 'second');
    // Added offline as far as the device knows; the account's own password proves
    // it at the next sync.
    await a.fill('#new-password', screener?.password ?? 'second-user-password');
    await a.fill('#confirm-password', 'wrong');
    await a.click('[data-testid=create-user] button.primary');
    await a.wait('[data-code=wrong_password]');
    await a.fill('#confirm-password', PASSWORD);
    await shot('19-unlock-add-user');
    await a.click('[data-testid=create-user] button.primary');
    await a.wait('#h-today', 30_000);
    const users = await invoke<{ role: string }[]>(a, 'users_list');
    expect(users.map((u) => u.role).sort()).toEqual(['clinician', 'screener']);
    await a.click(`li[data-record="${recordId}"] button.primary`);
    await a.wait('[data-testid=withheld]');
    await a.wait('button[data-section=vitals]');
    expect(await a.find('button[data-section=mental_health]')).toBeNull();
    const detail = await invoke<{ withheld_sections: string[]; answers: Record<string, unknown>; summary: { status_moves: { to: string }[] } }>(a, 'records_get', { recordId });
    expect(detail.withheld_sections).toContain('mental_health');
    expect(detail.answers.rhs_item_01).toBeUndefined();
    // The workflow moves come from tern-store: a screener may only submit a draft.
    expect(detail.summary.status_moves.map((m) => m.to)).toEqual(['submitted']);
    await shot('20-form-screener-withheld');
    await a.clickText('.form-head button', 'History and conflicts');
    await a.wait('[data-testid=status-actions]');
    expect(await a.find('[data-testid=status-actions] [data-move]')).toBeNull();
    await shot('21-record-screener-status');
  }, 60_000);
});

describe("the supervisor's app as the team hub", () => {
  let hubApp: Session | null = null;
  const hubShot = async (name: string) => {
    if (hubApp) saveShot(name, await hubApp.screenshot());
  };
  afterAll(async () => {
    await hubApp?.end();
  });

  it('starts team-hub mode, shows the code and QR code, and a team device (the CLI) enrols with it', async () => {
    // Its own app: a second data folder, the hub on a free loopback port.
    const hubDriver = await tauriDriver(display, resolve(tmp, 'hub-app'), { TERN_HUB_LISTEN: '127.0.0.1:0' });
    hubApp = await Session.start(hubDriver, APP);
    const h = hubApp;
    await h.setSize(1280, 800);
    const supervisor = server.users.find((u) => u.role === 'supervisor')!;
    const adminCode = () => tern(['admin', '--data', server.data, 'device', 'enroll', '--site', 'demo', '--user', supervisor.name]).trim();
    await h.wait('#server');
    await h.fill('#server', server.url);
    await h.fill('#code', adminCode());
    await h.click('form button.primary');
    await h.fill('#new-display-name', 'Demo Supervisor');
    await h.fill('#new-username', supervisor.name);
    await h.fill('#new-password', supervisor.password);
    await h.click('form button.primary');
    await h.wait('#h-today', 30_000);

    // Team hub: set up with a code the administrator made for the supervisor.
    await h.click('[data-testid=nav-hub]');
    await h.wait('#hub-setup-code');
    await hubShot('30-team-hub-setup');
    await h.fill('#hub-setup-code', adminCode());
    await h.click('[data-testid=hub-start]');
    await h.wait('[data-testid=hub-code]', 30_000);
    await h.wait('[data-testid=hub-qr]');
    await h.wait('[data-testid=hub-no-devices]');
    const address = await (await h.wait('[data-testid=hub-address]')).text();
    const code = await (await h.wait('[data-testid=hub-code]')).text();
    const fingerprint = (await (await h.wait('[data-testid=hub-fingerprint]')).text()).replaceAll(' ', '');
    expect(address).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(code.endsWith(`#${fingerprint}`)).toBe(true);
    await hubShot('31-team-hub-running');

    // A team device (the CLI, to keep CI light) enrols with the hub's code, pinning
    // its certificate, and syncs with the hub alone.
    const clinician = server.users.find((u) => u.role === 'clinician')!;
    const db = resolve(tmp, 'team-device.db');
    const env = { TERN_PASSWORD: 'team-device-pw-1', TERN_ACCOUNT_PASSWORD: clinician.password };
    tern(['device', '--db', db, 'init', '--user', clinician.name, '--site', 'demo'], env);
    tern(['device', '--db', db, 'enroll', '--server', address, '--code', code], env);
    const subject = tern(['device', '--db', db, 'subject', 'add', '--set', 'sex=female'], env).trim();
    tern(['device', '--db', db, 'record', 'new', '--form', 'pda', '--subject', subject], env);
    tern(['device', '--db', db, 'sync'], env);
    await h.wait(`[data-testid=hub-device-list] tr td`, 15_000);
    expect(await (await h.wait('[data-testid=hub-device-list] tbody')).text()).toContain(clinician.name);
    // The used code is gone; a new one for the next device.
    await h.click('[data-testid=hub-new-code]');
    await h.until('a new code', async () => (await (await h.wait('[data-testid=hub-code]')).text()) !== code);

    // Upstream: the team's record goes to the server.
    await h.click('[data-testid=hub-sync-now]');
    await h.until('the team record sent upstream', async () => {
      const phase = await (await h.wait('[data-testid=hub-upstream-phase]')).attribute('data-phase');
      const pending = await (await h.wait('[data-testid=hub-pending-up]')).text();
      return phase === 'idle' && /Nothing waiting/.test(pending);
    });
    await hubShot('32-team-hub-device-synced');

    // Arabic, right to left; and portrait.
    await setInput(h, '#ui-language', 'ar');
    await h.until('dir is rtl', async () => (await h.exec<string>('return document.documentElement.dir')) === 'rtl');
    await h.until('title in Arabic', async () => /[\u0600-\u06FF]/.test(await (await h.wait('main h1')).text()));
    await hubShot('33-team-hub-arabic');
    await h.setSize(800, 1280);
    await sleep(500);
    await hubShot('34-team-hub-arabic-portrait');
    await setInput(h, '#ui-language', 'en');
    await h.until('dir is ltr', async () => (await h.exec<string>('return document.documentElement.dir')) === 'ltr');
    await h.setSize(1280, 800);

    // Stopped: it starts again with the password alone (no code field).
    await h.click('[data-testid=hub-stop]');
    await h.wait('[data-testid=hub-start]');
    expect(await h.find('#hub-setup-code')).toBeNull();
  }, 180_000);
});
