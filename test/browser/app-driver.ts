/**
 * Drives the demo app in one browser page: joins a room, adds and toggles
 * todos through the visible UI, and reads back what the page shows.
 */
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';

/** A todo as the page shows it. */
export interface ShownTodo {
  readonly text: string;
  readonly done: boolean;
}

/** The status panel as the page shows it. */
export interface ShownStatus {
  readonly network: string;
  readonly unsentOps: number;
  readonly peersSeen: number;
  readonly savedOps: number;
}

/** One page running the demo app. */
export class AppPage {
  /** Keys the app reported durable (its `tidelog-demo:saved` console lines), in report order. */
  readonly savedKeys: string[] = [];
  /** Page errors and console errors, for failure messages. */
  readonly errors: string[] = [];

  private constructor(readonly page: Page) {
    page.on('console', (message) => this.onConsole(message));
    page.on('pageerror', (error) => this.errors.push(`pageerror: ${error.message}`));
  }

  /** Opens the app at `url` in a new page of `context`. */
  static async open(context: BrowserContext, url: string): Promise<AppPage> {
    const app = new AppPage(await context.newPage());
    await app.page.goto(url);
    await app.page.waitForSelector('body[data-booted="true"]');
    return app;
  }

  private onConsole(message: ConsoleMessage): void {
    const text = message.text();
    if (text.startsWith('tidelog-demo:saved ')) this.savedKeys.push(...(JSON.parse(text.slice('tidelog-demo:saved '.length)) as string[]));
    else if (message.type() === 'error') this.errors.push(`console: ${text}`);
  }

  /** Joins a room through the form (unless the app already rejoined the remembered one). */
  async join(passphrase: string): Promise<void> {
    if ((await this.page.getAttribute('body', 'data-ready')) !== 'true') {
      await this.page.fill('#passphrase', passphrase);
      await this.page.click('#join-button');
    }
    await this.page.waitForSelector('body[data-ready="true"]');
  }

  /** Adds a todo by typing it and waits until the app shows it saved. */
  async add(text: string): Promise<void> {
    await this.page.fill('#new-todo', text);
    await this.page.press('#new-todo', 'Enter');
    await this.page.locator('#todos li[data-saved="true"]', { hasText: text }).first().waitFor();
  }

  /** Ticks or unticks a todo by clicking its checkbox; waits until that write is saved. */
  async toggle(text: string): Promise<void> {
    const item = this.page.locator('#todos li', { hasText: text }).first();
    const before = await item.locator('input[type=checkbox]').isChecked();
    await item.locator('input[type=checkbox]').click();
    await this.page.waitForFunction(
      ([wanted, done]) =>
        [...document.querySelectorAll<HTMLLIElement>('#todos li')].some(
          (li) => li.querySelector('.text')?.textContent === wanted && li.dataset.saved === 'true' && li.classList.contains('done') === done,
        ),
      [text, !before] as const,
    );
  }

  /** The list as rendered. */
  todos(): Promise<ShownTodo[]> {
    return this.page.$$eval('#todos li', (items) => items.map((li) => ({ text: li.querySelector('.text')?.textContent ?? '', done: li.classList.contains('done') })));
  }

  /** The status panel as rendered. */
  async status(): Promise<ShownStatus> {
    const read = (id: string): Promise<string> => this.page.$eval(`#${id}`, (element) => element.textContent ?? '');
    return {
      network: await read('status-network'),
      unsentOps: Number(await read('status-unsent')),
      peersSeen: Number(await read('status-peers')),
      savedOps: Number(await read('status-saved')),
    };
  }

  /** Waits until the status panel satisfies `predicate` (checked in the page on every frame). */
  async waitForStatus(expected: Partial<ShownStatus>, timeoutMs = 30_000): Promise<void> {
    await this.page.waitForFunction(
      (wanted) => {
        const read = (id: string): string => document.getElementById(id)?.textContent ?? '';
        const shown: Record<string, string | number> = {
          network: read('status-network'),
          unsentOps: Number(read('status-unsent')),
          peersSeen: Number(read('status-peers')),
          savedOps: Number(read('status-saved')),
        };
        return Object.entries(wanted).every(([key, value]) => (key === 'peersSeen' ? Number(shown[key]) >= Number(value) : shown[key] === value));
      },
      expected,
      { timeout: timeoutMs },
    );
  }

  /** Waits until the rendered list contains every text in `texts`. */
  async waitForTexts(texts: readonly string[], timeoutMs = 30_000): Promise<void> {
    await this.page.waitForFunction(
      (wanted) => {
        const shown = new Set([...document.querySelectorAll('#todos li .text')].map((element) => element.textContent));
        return wanted.every((text) => shown.has(text));
      },
      texts,
      { timeout: timeoutMs },
    );
  }
}
