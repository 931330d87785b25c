// Debian's chromium driven by playwright-core, headless, for the dashboard's
// browser tests; collects script errors and CSP violations from the page.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
// Playwright adds --headless itself and sets --user-data-dir from launchPersistentContext.
const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export class Chromium {
  page!: Page;
  readonly pageErrors: string[] = [];
  private context: BrowserContext | undefined;
  private readonly profile = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-chromium-'));

  async launch(): Promise<Page> {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (apt-get install chromium)`);
    const { chromium } = await import('playwright-core');
    this.context = await chromium.launchPersistentContext(this.profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1400, height: 1000 },
    });
    this.page = this.context.pages()[0] ?? (await this.context.newPage());
    this.page.on('pageerror', (err) => this.pageErrors.push(err.message));
    this.page.on('console', (msg) => {
      if (msg.type() === 'error') this.pageErrors.push(msg.text());
    });
    return this.page;
  }

  async close(): Promise<void> {
    await this.context?.close();
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}
