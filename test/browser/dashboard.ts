/**
 * What the dashboard's browser tests share (issue #12): Debian's chromium driven by playwright-core, a
 * real daemon (dist/daemon/cli.js) in a child process on 127.0.0.1 with free ports, and a folder for
 * the screenshots they keep. No mocked API: the page talks to the daemon as it does on a stage.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { projectRoot } from '../helpers/layering.js';
import { type DaemonProcess, spawnDaemon, tempDir, untilReady } from '../helpers/process.js';

/** The browser global a `page.evaluate` callback below uses (this file is checked without the DOM library). */
declare const document: { documentElement: { scrollHeight: number } };

/** Where the browser tests keep their screenshots (gitignored). */
export const ARTIFACTS = join(projectRoot(), 'test', 'artifacts');

/**
 * The chromium to drive: `PERFORMIA_CHROMIUM`, else Debian's. The binary itself rather than
 * /usr/bin/chromium, Debian's shell wrapper, which adds flags of its own and prints a shell warning.
 */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.PERFORMIA_CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium'];
  return candidates.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
}

/** True when the built dashboard is there (`npm run build` writes it; the tests need it). */
export const dashboardBuilt = (): boolean => existsSync(join(projectRoot(), 'dist', 'ui', 'app.js'));

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) throw new Error('no chromium: apt-get install chromium');
  return chromium.launch({ executablePath, headless: true });
}

/** A daemon child process on the given YAML config, with its API's base URL. */
export interface TestDaemon {
  d: DaemonProcess;
  url: string;
  stop(): Promise<void>;
}

/** Starts `performia start --config <yaml>` and waits until its API says ready. */
export async function startTestDaemon(yaml: string, env: Record<string, string> = {}): Promise<TestDaemon> {
  const t = tempDir();
  const d = spawnDaemon(['--config', t.file('config.yaml', yaml)], env);
  try {
    const line = await d.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('performia ready'));
    const url = line.api as string;
    await untilReady(url);
    return {
      d,
      url,
      async stop() {
        if (d.proc.exitCode === null) {
          d.proc.kill('SIGTERM');
          await d.exited;
        }
        t.cleanup();
      },
    };
  } catch (err) {
    d.proc.kill('SIGKILL');
    t.cleanup();
    throw err;
  }
}

/** A page that records every console error and uncaught exception. */
export async function openPage(browser: Browser, viewport = { width: 1366, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  // Well inside the test's own timeout, so that a wait that fails says which one it was.
  page.setDefaultTimeout(8_000);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { page, errors, close: () => context.close() };
}

/**
 * Saves the whole page as a test artefact. The page draws only what is on screen (panels off screen
 * are not rendered, views/use-store.ts), so the viewport is made as tall as the page for the shot and
 * given back after, and each view gets a moment to draw what it now sees.
 */
export async function keepScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  const viewport = page.viewportSize() ?? { width: 1366, height: 900 };
  // Grows as panels render at their real height; twice is enough for the page to settle.
  for (let i = 0; i < 2; i++) {
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: viewport.width, height });
    await page.waitForTimeout(600);
  }
  await page.screenshot({ path });
  await page.setViewportSize(viewport);
  return path;
}
