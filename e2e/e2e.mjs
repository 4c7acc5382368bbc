// Browser test: Home Assistant + TTLock Gateway against the simulated clouds.
//
// Run through scripts/e2e, which starts Home Assistant and the simulator and sets:
//   HA_URL            e.g. http://127.0.0.1:18123
//   SIM_STATE_URL     e.g. http://127.0.0.1:18901/_sim/state
//   SIM_PID           simulator process id (SIGUSR1 = push one round of callbacks)
//   E2E_ARTIFACTS     directory for screenshots
//   E2E_DOCS_SHOTS    optional: where to copy the config-flow and device screenshots
//   DEV_USER / DEV_PASSWORD
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const HA = process.env.HA_URL ?? 'http://127.0.0.1:18123';
const SIM_STATE = process.env.SIM_STATE_URL ?? 'http://127.0.0.1:18901/_sim/state';
const SIM_PID = process.env.SIM_PID ? Number(process.env.SIM_PID) : null;
const OUT = path.resolve(process.env.E2E_ARTIFACTS ?? 'e2e-artifacts');
const DOCS = process.env.E2E_DOCS_SHOTS ? path.resolve(process.env.E2E_DOCS_SHOTS) : null;
const USER = process.env.DEV_USER ?? 'dev';
const PASSWORD = process.env.DEV_PASSWORD ?? 'dev';
const FRONT_DOOR = '7200001'; // simulator.FRONT_DOOR_ID
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

fs.mkdirSync(OUT, { recursive: true });
console.log(`screenshots: ${OUT}`);

async function simState() {
  const resp = await fetch(SIM_STATE);
  assert.equal(resp.status, 200, `GET ${SIM_STATE}`);
  return resp.json();
}

async function until(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let shotNo = 0;
async function shot(page, name) {
  const file = path.join(OUT, `${String(++shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  console.log(`  screenshot ${file}`);
  return file;
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 860 },
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-sync',
    '--disable-quic',
  ],
});
context.setDefaultTimeout(20_000);
const page = context.pages()[0] ?? (await context.newPage());
const pageErrors = [];
page.on('pageerror', (err) => pageErrors.push(err.message));

let failed = false;
try {
  // ------------------------------------------------------------------ login
  console.log('log in through the login page');
  await page.goto(HA);
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/auth') && !u.search.includes('auth_callback'));
  await page.locator('home-assistant-main').waitFor();
  // What a newcomer sees first: no persistent notification (an "Invalid config"
  // one means integrations failed to set up).
  const notes = await page.evaluate(() =>
    document.querySelector('home-assistant').hass.callWS({ type: 'persistent_notification/get' }),
  );
  if (notes.length) {
    throw new Error(`persistent notifications at start: ${notes.map((n) => `${n.title}: ${n.message}`).join(' | ')}`);
  }

  // ------------------------------------------------- config flow, first step
  console.log('config flow: Add integration > TTLock Gateway');
  await page.goto(`${HA}/config/integrations/dashboard`);
  await page.getByRole('button', { name: 'Add integration' }).click();
  await page.getByPlaceholder('Search for a brand name').fill('TTLock');
  // Inside the dialog: the dashboard's own "TTLock Gateway" card lies behind
  // it, and which match comes last in the DOM depends on render order.
  await page
    .locator('dialog-add-integration')
    .getByText('TTLock Gateway', { exact: true })
    .click();
  await page.getByText('Choose your lock cloud').waitFor();
  await page.getByText('TTLock (TTLock, Sciener and compatible apps)').waitFor();
  await page.waitForTimeout(500); // dialog animation
  const configFlowShot = await shot(page, 'config-flow');
  await page.keyboard.press('Escape');
  await page.getByText('Choose your lock cloud').waitFor({ state: 'hidden' });

  // ---------------------------------------------- pushed callbacks reach HA
  if (SIM_PID) {
    console.log('simulator pushes one round of callbacks');
    const before = (await simState()).pushes.sent;
    process.kill(SIM_PID, 'SIGUSR1');
    const pushes = await until('3 callbacks delivered', async () => {
      const p = (await simState()).pushes;
      return p.sent >= before + 3 ? p : null;
    });
    assert.equal(pushes.failed, 0, `push failures: ${pushes.last_error}`);
  }

  // ------------------------------------------------------------ device page
  console.log('device page: Front door');
  await page.goto(`${HA}/config/devices/dashboard`);
  await page.getByText('Front door', { exact: true }).first().click();
  await page.waitForURL(/\/config\/devices\/device\//);
  const deviceUrl = page.url();
  await page.getByText('Controls').waitFor();
  if (SIM_PID) {
    // The pushed keypad unlock reached the lock's event entity ("Activity" in the
    // Events card). No remote unlock has happened yet, so only the push can set it.
    assert.equal((await simState()).ttlock.locks[FRONT_DOOR].unlocks, 0);
    await page.locator('ha-card', { hasText: 'Events' }).getByText('Unlocked', { exact: true }).waitFor();
  }

  // ------------------------------------------------------------------ unlock
  console.log('more-info: unlock the Front door');
  await page.getByText('Front door', { exact: true }).nth(1).click();
  // The dialog host has no box of its own: wait for what it shows.
  const dialog = page.locator('ha-more-info-dialog');
  const lockToggle = dialog.locator('ha-state-control-lock-toggle');
  await lockToggle.waitFor();
  // A pushed unlock re-locks by itself (auto-lock 15 s): start from Locked.
  await dialog.getByText('Locked', { exact: true }).waitFor({ timeout: 30_000 });
  await shot(page, 'before-unlock');
  const unlocksBefore = (await simState()).ttlock.locks[FRONT_DOOR].unlocks;
  assert.equal(unlocksBefore, 0, 'no remote unlock before the click');
  await lockToggle.locator('ha-control-switch').click();
  // Home Assistant may ask to confirm (a separate dialog-box on top).
  await page.waitForTimeout(500);
  const confirmBox = page.locator('dialog-box');
  if ((await confirmBox.count()) > 0) {
    await confirmBox.getByRole('button', { name: /^(Unlock|OK|Yes|Confirm)$/ }).first().click();
  }
  await until('the simulator to record the unlock', async () => (await simState()).ttlock.locks[FRONT_DOOR].unlocks >= 1);
  await dialog.getByText('Unlocked', { exact: true }).waitFor({ timeout: 10_000 });
  await shot(page, 'after-unlock');
  await page.waitForTimeout(1000);
  const afterUnlock = (await simState()).ttlock.locks[FRONT_DOOR];
  assert.equal(afterUnlock.unlocks, 1, 'exactly one unlock reached the cloud');
  await page.keyboard.press('Escape');
  await lockToggle.waitFor({ state: 'hidden' });

  // ------------------------------------------------------------ passage mode
  console.log('more-info: passage mode on');
  assert.equal(afterUnlock.passage_mode, false, 'passage mode starts off');
  await page.getByText('Passage mode', { exact: true }).first().click();
  const switchToggle = dialog.locator('ha-state-control-toggle');
  await switchToggle.waitFor();
  await dialog.getByText('Off', { exact: true }).waitFor();
  await shot(page, 'passage-mode-off');
  await switchToggle.locator('ha-control-switch').click();
  await until('the simulator to switch passage mode on', async () => (await simState()).ttlock.locks[FRONT_DOOR].passage_mode === true);
  await dialog.getByText('On', { exact: true }).waitFor({ timeout: 10_000 });
  await shot(page, 'passage-mode-on');
  await page.keyboard.press('Escape');
  await switchToggle.waitFor({ state: 'hidden' });

  // ------------------------------------------------- guest-access calendar
  console.log('calendar panel: the Front door guest-access calendar');
  const hassCall = (msg) =>
    page.evaluate((m) => document.querySelector('home-assistant').hass.callWS(m), msg);
  const passcodesBefore = (await simState()).ttlock.locks[FRONT_DOOR].passcodes;
  // A code of the ledger (digits generated: none typed here, none in the recorder).
  const day = 24 * 3600 * 1000;
  const isoIn = (ms) => new Date(Date.now() + ms).toISOString();
  await hassCall({
    type: 'execute_script',
    sequence: [
      {
        action: 'ttlock_gateway.add_code',
        target: { entity_id: 'lock.front_door' },
        data: { name: 'Garcia family', start: isoIn(day), end: isoIn(3 * day) },
      },
    ],
  });
  await until('the code on the simulated lock', async () =>
    (await simState()).ttlock.locks[FRONT_DOOR].passcodes === passcodesBefore + 1);
  await page.goto(`${HA}/calendar`);
  const calendarList = page.locator('ha-panel-calendar');
  await calendarList.getByText('Front door Guest access').first().waitFor();
  await page.getByRole('button', { name: 'Month' }).click().catch(() => {});
  await calendarList.getByText('Garcia family').first().waitFor();
  await page.waitForTimeout(800);
  const calendarShot = await shot(page, 'guest-access-calendar');

  console.log('calendar panel: create a stay');
  await page.getByRole('button', { name: 'Add event' }).first().click();
  const editor = page.locator('dialog-calendar-event-editor');
  await editor.getByRole('textbox', { name: /Summary/ }).fill('E2E stay');
  const picker = editor.locator('ha-entity-picker');
  if ((await picker.count()) > 0) {
    const current = await picker.evaluate((el) => el.value);
    if (current !== 'calendar.front_door_guest_access') {
      await picker.evaluate((el) => {
        el.value = 'calendar.front_door_guest_access';
        el.dispatchEvent(
          new CustomEvent('value-changed', {
            detail: { value: 'calendar.front_door_guest_access' },
            bubbles: true,
            composed: true,
          }),
        );
      });
    }
  }
  await shot(page, 'calendar-new-stay');
  await editor.getByRole('button', { name: /^(Add event|Save event|Add|Save)$/ }).last().click();
  await editor.waitFor({ state: 'hidden' });
  const stay = await until('the stay on the simulated lock', async () => {
    const lock = (await simState()).ttlock.locks[FRONT_DOOR];
    return lock.passcodes === passcodesBefore + 2 ? lock : null;
  });
  assert.equal(stay.passcodes, passcodesBefore + 2, 'exactly one code for the stay');
  // The digits are shown once, in a notification.
  const notesAfter = await hassCall({ type: 'persistent_notification/get' });
  assert.ok(
    notesAfter.some((n) => n.title === 'New guest code' && n.message.includes('E2E stay')),
    'a notification shows the new code',
  );
  await calendarList.getByText('E2E stay').first().waitFor();

  // The device page as a newcomer sees it (for the docs).
  await page.goto(deviceUrl);
  await page.getByText('Controls').waitFor();
  await page.waitForTimeout(1000);
  const devicePageShot = await shot(page, 'device-page');

  if (DOCS) {
    fs.mkdirSync(DOCS, { recursive: true });
    fs.copyFileSync(configFlowShot, path.join(DOCS, 'config-flow.png'));
    fs.copyFileSync(devicePageShot, path.join(DOCS, 'device-page.png'));
    fs.copyFileSync(calendarShot, path.join(DOCS, 'guest-access-calendar.png'));
    console.log(`copied config-flow.png, device-page.png and guest-access-calendar.png to ${DOCS}`);
  }
  console.log('e2e: PASS');
} catch (err) {
  failed = true;
  console.error(`e2e: FAIL: ${err.stack ?? err}`);
  await shot(page, 'failure').catch(() => {});
  if (pageErrors.length) console.error(`page errors: ${pageErrors.join(' | ')}`);
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
