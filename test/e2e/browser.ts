/**
 * The real browser of the end-to-end tests: the Chromium of Debian's `chromium` package, driven by
 * `playwright-core` (which downloads no browser of its own). Where Chromium is not installed the
 * suites are skipped with a loud warning, except under `CI=true` where they fail
 * (`scripts/ensure-services.sh` installs it in CI) — the rule of `describeWithService`.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { describeWithService } from "../../packages/backend/test/helpers/services.js";

/** Where Debian installs Chromium when `command -v chromium` finds nothing. */
const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/** Command-line switches of every launch: headless, no sandbox (containers), no background traffic. */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
]);

/**
 * The path of the Chromium executable: the output of `command -v chromium`, else
 * `/usr/bin/chromium` when it exists.
 * @returns the absolute path, or undefined when Chromium is not installed
 */
export function findChromium(): string | undefined {
  try {
    const found = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
    if (found !== "" && existsSync(found)) return found;
  } catch {
    // Not on the PATH: try the package's default location.
  }
  return existsSync(DEFAULT_CHROMIUM) ? DEFAULT_CHROMIUM : undefined;
}

/** The Chromium found when this module was loaded (undefined when missing). */
export const chromiumPath: string | undefined = findChromium();

/**
 * `describe(title, body)` when Chromium is installed; otherwise a loud warning and a skipped suite,
 * or under `CI=true` a failing test (see `describeWithService`).
 * @param title - suite title
 * @param body - the suite
 */
export function describeWithBrowser(title: string, body: () => void): void {
  describeWithService("Chromium (Debian package chromium)", chromiumPath !== undefined, title, body);
}

/** A launched browser with one fresh context (no cookies, no storage) and a page in it. */
export interface BrowserSession {
  /** The browser process. */
  browser: Browser;
  /** The fresh context every page of the test lives in. */
  context: BrowserContext;
  /** The context's first page. */
  page: Page;
  /** Closes the context and the browser. */
  close(): Promise<void>;
}

/**
 * A fresh context (no cookies, no storage; 1000×800) in a launched browser, with a page in it: a
 * second user at another computer. Actions and navigations time out after `timeoutMs`.
 * @param browser - the browser of a {@link BrowserSession}
 * @param timeoutMs - default timeout of actions, assertions on locators and navigations
 */
export async function newBrowserContext(
  browser: Browser,
  timeoutMs = 10_000,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  context.setDefaultTimeout(timeoutMs);
  context.setDefaultNavigationTimeout(timeoutMs);
  return { context, page: await context.newPage() };
}

/**
 * Launches Chromium headless with {@link CHROMIUM_ARGS} and opens a fresh context and page.
 * Actions and navigations time out after `timeoutMs` so that a broken page fails the test quickly.
 * @param timeoutMs - default timeout of actions, assertions on locators and navigations
 * @throws Error when Chromium is not installed or does not start
 */
export async function launchBrowser(timeoutMs = 10_000): Promise<BrowserSession> {
  if (chromiumPath === undefined) throw new Error("Chromium is not installed (Debian package chromium)");
  const browser = await chromium.launch({ executablePath: chromiumPath, args: [...CHROMIUM_ARGS] });
  try {
    const { context, page } = await newBrowserContext(browser, timeoutMs);
    return {
      browser,
      context,
      page,
      close: async () => {
        await context.close().catch(() => undefined);
        await browser.close();
      },
    };
  } catch (e) {
    await browser.close().catch(() => undefined);
    throw e;
  }
}
