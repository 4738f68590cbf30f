/**
 * What a browser journey does on the reference server's pages, for one browser page (one person at
 * one computer): follow links, submit forms and wait for the next document, read the heading, the
 * errors and the notice, log in and out, and save screenshots. Also the emails the SMTP listener
 * received. Every wait is bounded by the page's default timeout (see `launchBrowser`).
 */
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { expect, vi } from "vitest";
import type { ReceivedMail, SmtpFixture } from "../../packages/backend/test/email/smtp-fixture.js";

/** The home page's text for a visitor who is not logged in (messages.ts `homeAnonymous`). */
export const HOME_ANONYMOUS = "You are not logged in. Log in or create an account to continue.";

/** Asserts that a form's POST was answered with a redirect (303, or 302). */
export function expectRedirect(status: number): void {
  expect([302, 303]).toContain(status);
}

/** One browser page of a journey. */
export class JourneyPage {
  /**
   * @param page - the browser page
   * @param screenshots - the directory screenshots go to
   */
  constructor(
    readonly page: Page,
    readonly screenshots: string,
  ) {}

  /** Saves a full-page screenshot of the current page as `<name>.png`. */
  async snap(name: string): Promise<void> {
    await this.page.screenshot({ path: join(this.screenshots, `${name}.png`), fullPage: true });
  }

  /** The page's `<h1>`. */
  heading(): Locator {
    return this.page.locator("main h1");
  }

  /** The page's error messages (the layout's `role="alert"` list). */
  errors(): Locator {
    return this.page.locator("main .errors li");
  }

  /** The page's notice (`role="status"`). */
  notice(): Locator {
    return this.page.locator("main .notice");
  }

  /** The username in the header (absent when nobody is logged in). */
  who(): Locator {
    return this.page.locator("header .who");
  }

  /** The path of the page the browser shows. */
  path(): string {
    return new URL(this.page.url()).pathname;
  }

  /**
   * Runs an action that makes the browser load a new document (a link followed, a form submitted)
   * and waits until it has loaded — also when the new page has the same URL as the old one.
   */
  async navigating(action: () => Promise<void>): Promise<void> {
    const loaded = this.page.waitForEvent("load");
    await action();
    await loaded;
  }

  /**
   * Loads a URL as typed into the address bar (a GET).
   * @returns the HTTP status of the answer
   */
  async open(url: string): Promise<number | undefined> {
    return (await this.page.goto(url))?.status();
  }

  /** Follows the link named `name` (its text or `aria-label`) and waits for the page it leads to. */
  async followLink(name: string): Promise<void> {
    await this.navigating(() => this.page.getByRole("link", { name, exact: true }).click());
  }

  /**
   * Submits a form with its button named `button` and waits for the resulting page.
   * @param action - the path the form posts to, e.g. `/login`
   * @returns the HTTP status of the answer to the POST (before any redirect is followed)
   */
  async submitForm(button: string, action: string): Promise<number> {
    const answer = this.page.waitForResponse(
      (r) => r.request().method() === "POST" && new URL(r.url()).pathname === action,
    );
    await this.navigating(() => this.page.getByRole("button", { name: button, exact: true }).click());
    return (await answer).status();
  }

  /**
   * On the login page: fills and submits the form.
   * @returns the HTTP status of the answer to the POST
   */
  async submitLogin(username: string, password: string): Promise<number> {
    expect(this.path()).toBe("/login");
    expect(await this.heading().textContent()).toBe("Log in");
    await this.page.getByLabel("Username").fill(username);
    await this.page.getByLabel("Password", { exact: true }).fill(password);
    return this.submitForm("Log in", "/login");
  }

  /** Asserts that the home page shows `username` as logged in (in the text and the header). */
  async expectHomeLoggedIn(username: string): Promise<void> {
    expect(this.path()).toBe("/");
    expect(await this.heading().textContent()).toBe("Welcome");
    expect(await this.page.locator("main .who-is-logged-in").textContent()).toBe(
      `You are logged in as ${username}.`,
    );
    expect(await this.who().textContent()).toBe(username);
  }

  /** Asserts that the home page shows nobody logged in. */
  async expectHomeAnonymous(): Promise<void> {
    expect(this.path()).toBe("/");
    expect(await this.heading().textContent()).toBe("Welcome");
    expect(await this.page.locator("main > p").first().textContent()).toBe(HOME_ANONYMOUS);
    expect(await this.who().count()).toBe(0);
  }

  /** Opens the home page and logs in with a password from its "Log in" link; ends on the home page. */
  async logIn(baseUrl: string, username: string, password: string): Promise<void> {
    expect(await this.open(`${baseUrl}/`)).toBe(200);
    await this.followLink("Log in");
    expectRedirect(await this.submitLogin(username, password));
    await this.expectHomeLoggedIn(username);
  }

  /** On the home page: clicks "Log out"; back on the home page, nobody is logged in. */
  async logOutFromHome(): Promise<void> {
    expectRedirect(await this.submitForm("Log out", "/logout"));
    await this.expectHomeAnonymous();
  }
}

/**
 * Waits (at most 10 s) for the `index`-th message (0-based) the SMTP listener accepts, and checks
 * its recipient and sender.
 * @param from - the envelope sender the server uses
 */
export async function mailNumber(
  smtp: SmtpFixture,
  index: number,
  to: string,
  from = "noreply@example.com",
): Promise<ReceivedMail> {
  const mail = await vi.waitFor(
    () => {
      const received = smtp.messages[index];
      if (!received) throw new Error(`email #${index + 1} has not arrived (${smtp.messages.length} so far)`);
      return received;
    },
    { timeout: 10_000, interval: 50 },
  );
  expect(mail.envelopeTo).toEqual([to]);
  expect(mail.envelopeFrom).toBe(from);
  return mail;
}

/**
 * The single link to `path` (e.g. `/resetpassword/`) on the server at `baseUrl` in an email: the same
 * in its text and HTML bodies.
 */
export function linkIn(mail: ReceivedMail, baseUrl: string, path: string): string {
  const pattern = new RegExp(`${baseUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${path}[A-Za-z0-9_-]+`, "g");
  const links = new Set(mail.parsed.text?.match(pattern) ?? []);
  expect(links.size).toBe(1);
  const link = [...links][0] as string;
  expect(typeof mail.parsed.html === "string" && mail.parsed.html.includes(link)).toBe(true);
  return link;
}
