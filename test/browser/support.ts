/**
 * Shared set-up of the browser tests: the repository served cross-origin isolated on a random port
 * (tools/static-server.ts) and Debian's Chromium driven by playwright-core. Never downloads a browser:
 * the executable is /usr/bin/chromium (or $CHROMIUM_PATH); .ci/run installs it with apt-get.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type StaticServer, startStaticServer } from '../../tools/static-server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** build/test/browser/ -> the repository's root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Where tests keep what a person may want to look at afterwards (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

export interface Session {
  server: StaticServer;
  browser: Browser;
  close(): Promise<void>;
}

export async function openSession(): Promise<Session> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = await startStaticServer(ROOT, 0);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      // Chromium refuses to run as root with its sandbox.
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-gpu',
      // This machine's network is closed: without these, Chromium keeps trying to reach Google's hosts.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    server,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** What a page said and did wrong, kept to explain a failure. */
export interface PageLog {
  lines: string[];
  errors: string[];
}

/**
 * A new page at `path`, which counts every Atomics.wait called on the window's thread (there must be
 * none: the window only uses async calls) in `window.__windowWaits`.
 */
export async function openPage(session: Session, path: string): Promise<{ page: Page; log: PageLog }> {
  const page = await session.browser.newPage({ viewport: { width: 1100, height: 720 } });
  const log: PageLog = { lines: [], errors: [] };
  page.on('console', (message) => log.lines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => log.errors.push(String(error.stack ?? error)));
  page.on('crash', () => log.errors.push('the page crashed'));
  await page.addInitScript(() => {
    const w = globalThis as unknown as { __windowWaits: number };
    w.__windowWaits = 0;
    const wait = Atomics.wait;
    Atomics.wait = ((...args: Parameters<typeof Atomics.wait>) => {
      w.__windowWaits++;
      return wait(...args);
    }) as typeof Atomics.wait;
  });
  await page.goto(new URL(path, session.server.url).href);
  return { page, log };
}

/** Runs `name(arg)` from test/browser/fixtures/window.js on the page's window thread. */
export function runOnWindow<T>(page: Page, name: string, arg?: unknown): Promise<T> {
  return page.evaluate(
    async ([name, arg]) => {
      const fixtures = (await import('/test/browser/fixtures/window.js' as string)) as Record<
        string,
        (arg: unknown) => unknown
      >;
      return fixtures[name as string](arg);
    },
    [name, arg] as const,
  ) as Promise<T>;
}

/** The page's console and errors, for an assertion message. */
export function explain(log: PageLog): string {
  return [...log.errors, ...log.lines].join('\n');
}
