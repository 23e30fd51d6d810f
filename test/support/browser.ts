/**
 * A real browser for the dashboard's end-to-end tests: the system's Chromium (Debian's `chromium`
 * package, /usr/bin/chromium, or $SWITCHYARD_CHROMIUM) driven headless by playwright-core, which
 * downloads no browser of its own. One browser per test file, a fresh context (cookies, storage) per
 * test; everything is closed after each test and after the file, whatever happened.
 *
 * Without Chromium the suites are skipped with one line saying so, except under CI, which installs it
 * (.ci/run) and so fails instead. Screenshots go to test-artifacts/dashboard/ (git-ignored), one at each
 * moment a test names and one of the page as it stood when a test failed.
 */
import { accessSync, constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, type TestContext } from 'vitest';

/** The Chromium to drive. */
export const CHROMIUM = process.env['SWITCHYARD_CHROMIUM'] || '/usr/bin/chromium';
const IN_CI = Boolean(process.env['CI']) && process.env['CI'] !== 'false';
const MISSING =
  `no Chromium at ${CHROMIUM}; install it with \`apt-get install chromium\` ` +
  '(CI does so in .ci/run) or name one in SWITCHYARD_CHROMIUM';

/** Where the screenshots go. */
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'dashboard');

/** A headless Chromium that needs no sandbox, no GPU and nothing from the network but what a test opens. */
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** How long one browser action or wait may take: well inside a test's own 20 s. */
export const ACTION_TIMEOUT_MS = 8_000;

function chromiumPresent(): boolean {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether a suite that needs Chromium should be skipped here; warns once naming `suite` when it is. */
export function skipWithoutChromium(suite: string): boolean {
  const skip = !IN_CI && !chromiumPresent();
  if (skip) console.warn(`${suite} skipped: ${MISSING}`);
  return skip;
}

/** Lower case, runs of anything but letters and digits as one dash. */
const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** A screenshot's file name (without .png): the test's name, shortened, then the moment it shows. */
export function artifactName(testName: string, moment: string): string {
  return `${slug(testName).slice(0, 80).replace(/-$/, '') || 'test'}-${slug(moment)}`;
}

/** What a screenshot shows: the current test's page by default, its viewport unless `height` is given. */
export interface ShotOptions {
  readonly page?: Page;
  /** The page's top this many pixels tall, past the viewport if need be. */
  readonly height?: number;
}

/** Saves a PNG of what `page` shows as test-artifacts/dashboard/`name`.png, and returns its path. */
export async function screenshot(page: Page, name: string, height?: number): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  const width = page.viewportSize()?.width ?? 1280;
  const tall = height === undefined ? {} : { fullPage: true, clip: { x: 0, y: 0, width, height } };
  await page.screenshot({ path, animations: 'disabled', ...tall });
  return path;
}

/** What a test gets: its page, and a screenshot named after the test and a moment of it. */
export interface BrowserTest {
  /** The current test's page (in a context of its own, 1280×800). */
  page(): Page;
  /** Saves `<test name>-<moment>.png` and returns its path. */
  shot(moment: string, options?: ShotOptions): Promise<string>;
  /** Uncaught errors and Content-Security-Policy violations the current test's page reported so far. */
  pageErrors(): readonly string[];
}

/**
 * Registers the browser's lifecycle in the calling test file: launched before its tests, closed after;
 * each test a new context and page, closed after it (screenshot first when it failed). A test passes
 * only when its page threw nothing uncaught and broke no Content-Security-Policy rule.
 */
export function useBrowser(): BrowserTest {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let current: { page: Page; name: string; errors: string[] } | undefined;

  beforeAll(async () => {
    if (!chromiumPresent()) throw new Error(`these tests need Chromium: ${MISSING}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    browser = undefined;
  });

  beforeEach(async (ctx: TestContext) => {
    if (!browser) throw new Error('the browser did not start');
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) errors.push(msg.text());
    });
    current = { page, name: ctx.task.name, errors };
  });

  afterEach(async (ctx: TestContext) => {
    const test = current;
    current = undefined;
    try {
      // The state is already set when afterEach runs: the page is shown as the failure left it.
      if (test && ctx.task.result?.state === 'fail') {
        const path = await screenshot(test.page, artifactName(test.name, 'failure')).catch((err: unknown) =>
          String(err),
        );
        console.warn(`${test.name}: failed; the page as it stood: ${path}`);
      } else if (test && test.errors.length > 0) {
        throw new Error(`the page reported errors:\n${test.errors.join('\n')}`);
      }
    } finally {
      await context?.close();
      context = undefined;
    }
  });

  return {
    page: () => {
      if (!current) throw new Error('the page is only there inside a test');
      return current.page;
    },
    shot: (moment, options = {}) => {
      if (!current) throw new Error('screenshots are only taken inside a test');
      return screenshot(options.page ?? current.page, artifactName(current.name, moment), options.height);
    },
    pageErrors: () => current?.errors ?? [],
  };
}
