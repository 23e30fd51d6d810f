/**
 * The dashboard in a real browser (headless Chromium driven by playwright-core), each test against a
 * switchyard of its own on loopback with two real upstreams: the split moving 0 → 10 → 100% as text and
 * in the bar during a time-scaled canary; an alarm's stop and rollback in a deployment's timeline with
 * the alarm's name and reason, and in the history; Stop, confirmed, stopping a running deployment; Set
 * weight moving the split, and a refused one showing the API's message; the token asked for when the
 * control API wants one, a wrong one refused; a lab report made by the lab's own code drawn with its
 * charts, and one uploaded; the page reconnecting across a restart of switchyard.
 *
 * Pages are found by role and accessible name or by the test ids the dashboard promises; every wait is
 * for a condition, bounded. Screenshots of key moments and failures go to test-artifacts/dashboard/.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { Locator, Page } from 'playwright-core';
import { Agent, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { configuredShelf } from '../../src/lab/report/shelf.js';
import { writeReport } from '../../src/lab/report/write.js';
import { skipWithoutChromium, useBrowser } from '../support/browser.js';
import { createWebGroup, deployWatchedCanary, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { simulatedReport } from '../support/lab-report.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { tempDir } from '../support/temp-dir.js';
import { type Handler, startUpstream } from '../support/upstream.js';

/** How long the page may take to show what the API already says: a stream event, a fetch, a redraw. */
const SHOWN_MS = 8_000;
const TOKEN = 'e2e-dashboard-token-0123456789';

/** An element's text with runs of white space as one space, as a reader sees it. */
const tidy = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').trim();

/** The text of everything `locator` matches now (no waiting), joined by ` | ` when there are several. */
async function textNow(locator: Locator): Promise<string> {
  return (await locator.allTextContents()).map(tidy).join(' | ');
}

/** `style.width` of each child of `bar` for `version`, now. */
async function widthNow(bar: Locator, version: string): Promise<string> {
  const widths = await bar
    .locator(`[data-version="${version}"]`)
    .evaluateAll((els) => els.map((el) => (el as unknown as { style: { width: string } }).style.width));
  return widths.join(' | ');
}

/** The connection indicator the contract puts on every page. */
const connection = (page: Page) => page.locator('[data-testid="connection"][role="status"]');

/**
 * Opens `path` on `sy`'s control port and waits until the page says its streams are live; every page has
 * the navigation to the three others.
 */
async function open(page: Page, sy: Pick<Switchyard, 'urls'>, path: string): Promise<void> {
  await page.goto(`${sy.urls['control']}${path}`);
  await expect.poll(() => textNow(connection(page)), { timeout: SHOWN_MS }).toBe('Live');
  const nav = page.getByRole('navigation');
  for (const name of ['Services', 'History', 'Lab']) {
    expect(await nav.getByRole('link', { name, exact: true }).count(), `a "${name}" link in <nav>`).toBe(1);
  }
}

/** The cells' text of each row of `table`, now. */
async function rowsOf(table: Locator): Promise<string[][]> {
  return table
    .locator('tr')
    .evaluateAll((rows) =>
      rows.map((row) =>
        Array.from((row as unknown as { cells: ArrayLike<{ textContent: string | null }> }).cells, (c) =>
          (c.textContent ?? '').replace(/\s+/g, ' ').trim(),
        ),
      ),
    );
}

/** A REST call to the control API: status and parsed body. */
async function api(
  sy: Pick<Switchyard, 'urls'>,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(`${sy.urls['control']}${path}`, { headers });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

/** A deployment's status as the API gives it. */
const statusOf = async (sy: Switchyard, id: string) => String((await api(sy, `/v1/deployments/${id}`)).body['status']);

/** A 10% canary of version 2 held 15 real minutes (no alarms); resolves with its id once 10% is routed. */
async function runningCanary(cd: CodeDeployClient, sy: Switchyard): Promise<string> {
  await createWebGroup(cd, { deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes' });
  const id = await deployWeb(cd);
  await until(
    async () => sy.traffic.service('web').weights.production['2'],
    (w) => w === 10,
  );
  return id;
}

/** A switchyard whose canary holds 10%, with `page` open on the deployment's page. */
async function canaryPage(page: Page): Promise<{ sy: Switchyard; id: string }> {
  const { blue, green } = await upstreams();
  const sy = await startProxy(twoVersions(blue.url, green.url));
  const id = await runningCanary(sdkClient(sy), sy);
  await open(page, sy, `/deployments/${id}`);
  return { sy, id };
}

/** Blue answers its name; green as `greenHandler` says (its name by default). */
async function upstreams(greenHandler?: Handler) {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green', greenHandler);
  return { blue, green };
}

/**
 * Requests to the production listener in `loops` loops until `stop()`, each loop pausing `paceMs` between
 * requests (0: as fast as answers come); bounded so a failure cannot run away.
 */
function load(sy: Switchyard, { loops = 4, paceMs = 0, limit = 3_000 } = {}) {
  const agent = new Agent({ connections: loops });
  onTestFinished(() => agent.close());
  let running = true;
  let sent = 0;
  const workers = Array.from({ length: loops }, async () => {
    while (running && sent < limit) {
      sent++;
      const res = await request(`${sy.urls['production']}/`, { dispatcher: agent });
      await res.body.dump();
      if (paceMs > 0) await sleep(paceMs);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** A small simulated experiment's report, written with the lab's writer into `dir`/tiny-sim. */
async function writeTinyReport(dir: string): Promise<string> {
  const written = await writeReport(join(dir, 'tiny-sim'), await simulatedReport());
  return written.json;
}

describe.skipIf(skipWithoutChromium('dashboard.test.ts'))('the dashboard in a browser', () => {
  const browser = useBrowser();
  const temp = tempDir('switchyard-e2e');

  it('shows the split 0 → 10 → 100% as text and in the bar during a time-scaled canary', async () => {
    const page = browser.page();
    const { blue, green } = await upstreams();
    // 5 minutes at 10% play in 10 s; the 3-minute termination wait keeps 100% on green for 6 s.
    const sy = await startProxy({ ...twoVersions(blue.url, green.url), timeScale: 30 });
    const cd = sdkClient(sy);
    await createWebGroup(cd, {
      deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
      blueGreenDeploymentConfiguration: {
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 3 },
      },
    });

    // Light traffic throughout, so that the page (and the README's picture of it) has figures to show.
    const traffic = load(sy, { loops: 2, paceMs: 25 });
    onTestFinished(() => traffic.stop());

    await open(page, sy, '/');
    const section = page.getByRole('region', { name: 'web', exact: true });
    const text = section.getByTestId('split-text-web');
    const bar = section.locator('[data-testid="split-bar-web"][role="img"]');
    // Before any deployment version 2 has no traffic; the contract leaves open whether it is listed.
    await expect
      .poll(() => textNow(text), { timeout: SHOWN_MS })
      .toMatch(/^1 \(blue\) 100%(?: · 2(?: \(green\))? 0%)?$/);
    expect(await widthNow(bar, '1')).toBe('100%');

    const id = await deployWeb(cd);
    await expect.poll(() => textNow(text), { timeout: SHOWN_MS }).toBe('1 (blue) 90% · 2 (green) 10%');
    expect(await widthNow(bar, '2')).toBe('10%');
    expect(await widthNow(bar, '1')).toBe('90%');
    expect(await bar.getAttribute('aria-label')).toBe('1 (blue) 90% · 2 (green) 10%');
    await expect
      .poll(() => section.locator(`a[href="/deployments/${id}"]`).count(), { timeout: SHOWN_MS })
      .toBeGreaterThan(0);
    // The README's picture of the dashboard is this one; it waits (a little, and only for the picture)
    // for the live figures of the replacement, which the contract leaves to the page's own words.
    await section
      .getByRole('row', { name: /^2 \(green\)/ })
      .filter({ hasText: 'req/s' })
      .waitFor({ timeout: 2_500 })
      .catch(() => undefined);
    await browser.shot('mid-canary');
    // The deployment's own page beside it, mid-canary too (the README's second picture): its weight chart
    // and a few seconds of live charts drawn.
    const detail = await page.context().newPage();
    await detail.goto(`${sy.urls['control']}/deployments/${id}`);
    await expect.poll(() => detail.locator('canvas').count(), { timeout: SHOWN_MS }).toBeGreaterThan(4);
    await detail.getByRole('cell', { name: '2 (green)', exact: true }).first().waitFor();
    await sleep(2_000);
    await browser.shot('deployment-mid-canary', { page: detail, height: 1_500 });
    await detail.close();

    await expect
      .poll(() => textNow(text), { timeout: SHOWN_MS + 5_000 })
      .toMatch(/^(?:1 \(blue\) 0% · )?2 \(green\) 100%$/);
    expect(await widthNow(bar, '2')).toBe('100%');
    expect(await statusOf(sy, id)).toBe('InProgress');
    await browser.shot('at-100');
  });

  it("shows an alarm's stop and rollback in the deployment's timeline with the alarm's name and reason, and in the history", async () => {
    const page = browser.page();
    const { blue, green } = await upstreams((_req, res) => res.writeHead(500).end('green broke'));
    const sy = await startProxy({
      ...twoVersions(blue.url, green.url),
      alarms: { 'green-errors': { kind: 'error-rate', threshold: 0.05, window: '5s', minRequests: 5 } },
    });
    const cd = sdkClient(sy);
    const id = await deployWatchedCanary(cd, sy, 'green-errors');

    await open(page, sy, `/deployments/${id}`);
    await expect(textNow(page.getByRole('heading', { level: 1 }))).resolves.toBe(`Deployment ${id}`);
    const status = page.getByTestId('deployment-status');
    await expect.poll(() => textNow(status), { timeout: SHOWN_MS }).toBe('InProgress');

    // The replacement's 500s reach the alarm only with traffic.
    const traffic = load(sy);
    const stopped = await until(
      () => statusOf(sy, id),
      (s) => s !== 'InProgress',
      SHOWN_MS,
      20,
      'the deployment ending',
    );
    await traffic.stop();
    expect(['Stopped', 'Failed']).toContain(stopped);
    await expect.poll(() => textNow(status), { timeout: SHOWN_MS }).toBe(stopped);

    const events = (await api(sy, `/v1/deployments/${id}/events`)).body['events'] as {
      message: string;
      detail: Record<string, unknown>;
    }[];
    const fired = events.find((e) => e.message === 'alarm state changed' && e.detail['state'] === 'ALARM');
    expect(fired?.detail['alarm']).toBe('green-errors');
    const reason = String(fired?.detail['reason']);
    const timeline = page.locator('ol[aria-label="Timeline"]');
    await timeline
      .getByRole('listitem')
      .filter({ hasText: 'green-errors' })
      .filter({ hasText: reason })
      .first()
      .waitFor();
    const ended = events.find((e) => e.message === `deployment ${stopped.toLowerCase()}`);
    expect(ended?.detail).toMatchObject({ code: 'ALARM_ACTIVE', rollback: true });
    await timeline
      .getByRole('listitem')
      .filter({ hasText: `deployment ${stopped.toLowerCase()}` })
      .filter({ hasText: String(ended?.detail['message']) })
      .first()
      .waitFor();
    await browser.shot('rolled-back');

    // The history: the deployment and its rollback, each linking to the other.
    const rollbackId = String(
      ((await api(sy, `/v1/deployments/${id}`)).body['rollbackInfo'] as Record<string, unknown> | undefined)?.[
        'rollbackDeploymentId'
      ],
    );
    await open(page, sy, '/history');
    const history = page.getByRole('table', { name: 'web / web-prod', exact: true });
    await history.locator(`a[href="/deployments/${rollbackId}"]`).first().waitFor();
    const rows = await rowsOf(history);
    const row = (first: string) => rows.find((cells) => cells[0] === first);
    expect(row(id)).toEqual(expect.arrayContaining([stopped, 'user', expect.stringContaining(rollbackId)]));
    expect(row(rollbackId)).toEqual(expect.arrayContaining(['rollback', expect.stringContaining(id)]));
    expect(await history.locator(`a[href="/deployments/${id}"]`).count()).toBe(2);
  });

  it('stops a running deployment with Stop, after Cancel has left it running and Confirm has not', async () => {
    const page = browser.page();
    const { sy, id } = await canaryPage(page);
    const status = page.getByTestId('deployment-status');
    await expect.poll(() => textNow(status), { timeout: SHOWN_MS }).toBe('InProgress');
    const stop = page.getByRole('button', { name: 'Stop', exact: true });
    await expect.poll(() => stop.isEnabled(), { timeout: SHOWN_MS }).toBe(true);

    await stop.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await statusOf(sy, id)).toBe('InProgress');

    await stop.click();
    await dialog.getByRole('button', { name: 'Confirm', exact: true }).waitFor();
    await browser.shot('confirm');
    await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect.poll(() => textNow(status), { timeout: SHOWN_MS }).toBe('Stopped');
    expect(await statusOf(sy, id)).toBe('Stopped');
    await expect.poll(() => stop.isEnabled(), { timeout: SHOWN_MS }).toBe(false);
  });

  it('is usable by keyboard alone: Tab to Stop and roll back, Escape cancels, Enter on Confirm rolls back', async () => {
    const page = browser.page();
    const { sy, id } = await canaryPage(page);
    const button = page.getByRole('button', { name: 'Stop and roll back', exact: true });
    await expect.poll(() => button.isEnabled(), { timeout: SHOWN_MS }).toBe(true);
    /** The accessible name of the focused element: its label, else its text. */
    const focused = async () => {
      const el = page.locator(':focus');
      if ((await el.count()) === 0) return '';
      return tidy((await el.getAttribute('aria-label')) ?? (await el.textContent()));
    };
    // From the top of the page, Tab alone reaches the button (bounded: a page has few stops before it).
    await page.locator('body').focus();
    let presses = 0;
    while ((await focused()) !== 'Stop and roll back') {
      expect(++presses, 'Tab presses to reach "Stop and roll back"').toBeLessThan(40);
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    // Escape closes it without acting, and focus goes back where it was.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await statusOf(sy, id)).toBe('InProgress');
    expect(await focused()).toBe('Stop and roll back');

    await page.keyboard.press('Enter');
    await dialog.waitFor();
    // Cancel has focus first; the next stop in the dialog is Confirm.
    expect(await focused()).toBe('Cancel');
    while ((await focused()) !== 'Confirm') {
      expect(++presses, 'Tab presses to reach "Confirm"').toBeLessThan(50);
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    const status = page.getByTestId('deployment-status');
    await expect.poll(() => textNow(status), { timeout: SHOWN_MS }).toBe('Stopped');
    expect(await statusOf(sy, id)).toBe('Stopped');
    // Rolled back: all production traffic on blue again.
    await until(
      async () => sy.traffic.service('web').weights.production['1'],
      (w) => w === 100,
    );
    await browser.shot('rolled-back');
  });

  it("sets a weight through its dialog, and shows the API's message when a running deployment refuses one", async () => {
    const page = browser.page();
    const { blue, green } = await upstreams();
    const sy = await startProxy(twoVersions(blue.url, green.url));
    const cd = sdkClient(sy);

    await open(page, sy, '/');
    const section = page.getByRole('region', { name: 'web', exact: true });
    const text = section.getByTestId('split-text-web');
    /** Set weight, then the version and percent in its dialog, then Confirm. */
    const setWeight = async (version: string, percent: string) => {
      await section.getByRole('button', { name: 'Set weight', exact: true }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Version', { exact: true }).selectOption(version);
      await dialog.getByLabel('Percent', { exact: true }).fill(percent);
      await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
      await dialog.waitFor({ state: 'hidden' });
    };
    await setWeight('2', '25');
    await expect.poll(() => textNow(text), { timeout: SHOWN_MS }).toBe('1 (blue) 75% · 2 (green) 25%');
    expect(sy.traffic.service('web').weights.production).toEqual({ '1': 75, '2': 25 });
    await setWeight('2', '0');
    await expect.poll(() => textNow(text), { timeout: SHOWN_MS }).toMatch(/^1 \(blue\) 100%/);

    const id = await runningCanary(cd, sy);
    await expect.poll(() => textNow(text), { timeout: SHOWN_MS }).toBe('1 (blue) 90% · 2 (green) 10%');
    const refused = await request(`${sy.urls['control']}/v1/services/web/weight`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: '2', percent: 50 }),
    });
    const message = String(((await refused.body.json()) as Record<string, unknown>)['message']);
    expect(refused.statusCode).toBeGreaterThanOrEqual(400);
    expect(message).toContain(id);
    await setWeight('2', '50');
    await page.getByRole('alert').filter({ hasText: message }).first().waitFor();
    await browser.shot('refused');
    expect(await textNow(text)).toBe('1 (blue) 90% · 2 (green) 10%');
  });

  it('asks for the control token, refuses a wrong one with the API message, and shows the services with the right one', async () => {
    const page = browser.page();
    const { blue, green } = await upstreams();
    const sy = await startProxy({
      ...twoVersions(blue.url, green.url),
      control: { host: '127.0.0.1', port: 0, auth: { token: TOKEN } },
    });
    const refused = await api(sy, '/v1/services', { authorization: 'Bearer wrong-token-0123456789' });
    expect(refused.status).toBe(401);

    await page.goto(`${sy.urls['control']}/`);
    const asked = page
      .getByRole('dialog', { name: 'Control API token' })
      .or(page.getByRole('form', { name: 'Control API token' }));
    await asked.waitFor();
    expect(await textNow(connection(page))).toMatch(/^Disconnected/);
    await asked.getByLabel('Token', { exact: true }).fill('wrong-token-0123456789');
    await asked.getByRole('button', { name: 'Use token', exact: true }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: String(refused.body['message']) })
      .first()
      .waitFor();
    await browser.shot('wrong-token');
    expect(await asked.isVisible()).toBe(true);

    await asked.getByLabel('Token', { exact: true }).fill(TOKEN);
    await asked.getByRole('button', { name: 'Use token', exact: true }).click();
    await asked.waitFor({ state: 'hidden' });
    await expect
      .poll(() => textNow(page.getByTestId('split-text-web')), { timeout: SHOWN_MS })
      .toMatch(/^1 \(blue\) 100%/);
    await expect.poll(() => textNow(connection(page)), { timeout: SHOWN_MS }).toBe('Live');
    const stored = await page.evaluate(() => {
      const w = globalThis as unknown as {
        sessionStorage: { getItem(k: string): string | null };
        localStorage: { length: number; key(i: number): string | null; getItem(k: string): string | null };
      };
      const local: string[] = [];
      for (let i = 0; i < w.localStorage.length; i++) local.push(w.localStorage.getItem(w.localStorage.key(i)!) ?? '');
      return { session: w.sessionStorage.getItem('switchyard.token'), local };
    });
    expect(stored.session).toBe(TOKEN);
    expect(stored.local.filter((v) => v.includes(TOKEN))).toEqual([]);
  });

  it("draws a lab report made by the lab's own code, and one uploaded through the page", async () => {
    const page = browser.page();
    const dir = join(temp.path(), 'lab-reports');
    const json = await writeTinyReport(dir);
    const config = {
      ...twoVersions('http://127.0.0.1:9', 'http://127.0.0.1:9'),
      control: { host: '127.0.0.1', port: 0, labReports: dir },
    };
    // As `serve` does: the app knows no lab, so the command that starts switchyard hands it the shelf.
    const sy = await startProxy(config, { labReports: configuredShelf(config.control) });

    await open(page, sy, '/lab');
    await page.locator('a[href="/lab/tiny-sim"]').first().click();
    await page.waitForURL(/\/lab\/tiny-sim$/);
    const report = page.locator('div.lab-report');
    await expect.poll(() => report.locator('canvas').count(), { timeout: SHOWN_MS }).toBeGreaterThan(0);
    expect(await report.locator('table').count()).toBeGreaterThan(0);
    await browser.shot('served');

    // The same report.json uploaded: the experiment's name is taken, so it is kept as tiny-sim-2.
    await open(page, sy, '/lab');
    await page.getByLabel('Open a report.json', { exact: true }).setInputFiles(json);
    await expect
      .poll(
        async () =>
          page.url().endsWith('/lab/tiny-sim-2') || (await page.locator('a[href="/lab/tiny-sim-2"]').count()) > 0,
        {
          timeout: SHOWN_MS,
        },
      )
      .toBe(true);
    expect(JSON.parse(await readFile(join(dir, 'tiny-sim-2', 'report.json'), 'utf8'))).toEqual(
      JSON.parse(await readFile(json, 'utf8')),
    );
    await open(page, sy, '/lab/tiny-sim-2');
    await expect.poll(() => report.locator('canvas').count(), { timeout: SHOWN_MS }).toBeGreaterThan(0);
    expect(await report.locator('table').count()).toBeGreaterThan(0);
  });

  it('says when it is disconnected from a restarting switchyard, and shows the state after the restart', async () => {
    const page = browser.page();
    const { blue, green } = await upstreams();
    const file = join(temp.path(), 'restart.db');
    // A deployment unfinished at start is rolled back: the state after the restart differs from before.
    const config = { ...twoVersions(blue.url, green.url), store: { sqlite: file }, recovery: 'rollback' };
    const first = await startProxy(config, { autoClose: false });
    const port = Number(new URL(first.urls['control']!).port);
    let firstOpen = true;
    onTestFinished(async () => {
      if (firstOpen) await first.close();
    });
    const id = await runningCanary(sdkClient(first), first);

    await open(page, first, '/');
    const text = page.getByTestId('split-text-web');
    await expect.poll(() => textNow(text), { timeout: SHOWN_MS }).toBe('1 (blue) 90% · 2 (green) 10%');

    firstOpen = false;
    await first.close();
    await expect.poll(() => textNow(connection(page)), { timeout: SHOWN_MS }).toMatch(/^Disconnected/);
    await browser.shot('disconnected');

    const second = await startProxy({ ...config, control: { host: '127.0.0.1', port } });
    const after = await statusOf(second, id);
    expect(['Stopped', 'Failed']).toContain(after);
    await expect.poll(() => textNow(connection(page)), { timeout: SHOWN_MS + 4_000 }).toBe('Live');
    await expect
      .poll(() => textNow(text), { timeout: SHOWN_MS })
      .toMatch(/^1 \(blue\) 100%(?: · 2(?: \(green\))? 0%)?$/);
    await browser.shot('reconnected');

    // The deployment's page, read from the store of the restarted switchyard.
    await open(page, second, `/deployments/${id}`);
    await expect.poll(() => textNow(page.getByTestId('deployment-status')), { timeout: SHOWN_MS }).toBe(after);
  });
});
