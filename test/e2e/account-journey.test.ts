/**
 * One user's whole account journey in a real browser (Debian's Chromium) against the built reference
 * server, with emails delivered over SMTP to a real listener: sign up, verify the email address,
 * log in, set up TOTP, log in with it, change the password (with step-up 2FA), reset a forgotten
 * password from the emailed link, delete the account. Each page is saved as a screenshot under
 * `test-output/screenshots/`.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import jsqr from "jsqr";
import type { Page } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { type ReceivedMail, SmtpFixture } from "../../packages/backend/test/email/smtp-fixture.js";
import { type BrowserSession, describeWithBrowser, launchBrowser } from "./browser.js";
import { repoRoot, startReferenceServer, type TestServer } from "./server.js";
import { TotpTyper } from "./totp.js";

/** Where the screenshots go. */
const SCREENSHOTS = join(repoRoot, "test-output", "screenshots");

const USERNAME = "alice";
const EMAIL = "alice@example.com";
const PASSWORD1 = "Signup-Passw0rd";
const PASSWORD2 = "Changed-Passw0rd";
const PASSWORD3 = "Reset-Passw0rd";

/** The messages the pages show (packages/backend/src/endpoints/messages.ts). */
const TEXT = {
  emailVerificationSent: "We sent you an email. Follow the link in it to verify your address.",
  emailVerifiedNotice: "Your email address is verified.",
  homeAnonymous: "You are not logged in. Log in or create an account to continue.",
  passwordChanged: "Your password was changed.",
  passwordResetSent: "If an account uses that address, we sent it a link to reset the password.",
  accountDeleted: "Your account was deleted.",
  deleteUserWarning: "This deletes your account and everything in it. It cannot be undone.",
  appCodeInstructions: "Open your authenticator app and enter the 6-digit code it shows.",
  stepUpInstructions: "To continue, confirm it's you with your second factor.",
};

/** The error a refused login shows, the same for an unknown user and a wrong password. */
const LOGIN_REFUSED = "Username or password is invalid";

let smtp: SmtpFixture;
let server: TestServer;
let session: BrowserSession;
let page: Page;

/** Saves a full-page screenshot of the current page as `<step>.png`. */
async function snap(step: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${step}.png`), fullPage: true });
}

/** The page's `<h1>`. */
function heading() {
  return page.locator("main h1");
}

/** The page's error messages (the layout's `role="alert"` list). */
function errors() {
  return page.locator("main .errors li");
}

/** The page's notice (`role="status"`). */
function notice() {
  return page.locator("main .notice");
}

/** The path of the page the browser shows. */
function path(): string {
  return new URL(page.url()).pathname;
}

/**
 * Runs an action that makes the browser load a new document (a link followed, a form submitted)
 * and waits until it has loaded — also when the new page has the same URL as the old one.
 */
async function navigating(action: () => Promise<void>): Promise<void> {
  const loaded = page.waitForEvent("load");
  await action();
  await loaded;
}

/** Follows the link named `name` and waits for the page it leads to. */
async function followLink(name: string): Promise<void> {
  await navigating(() => page.getByRole("link", { name, exact: true }).click());
}

/**
 * Submits a form with its button named `button` and waits for the resulting page.
 * @param action - the form's path, e.g. `/login`
 * @returns the HTTP status of the answer to the form's POST (before any redirect is followed)
 */
async function submitForm(button: string, action: string): Promise<number> {
  const answer = page.waitForResponse(
    (r) => r.request().method() === "POST" && new URL(r.url()).pathname === action,
  );
  await navigating(() => page.getByRole("button", { name: button, exact: true }).click());
  return (await answer).status();
}

/** Asserts that a form's POST was answered with a redirect (303, or 302). */
function expectRedirect(status: number): void {
  expect([302, 303]).toContain(status);
}

/** Asserts that the home page shows `username` as logged in (in the text and the header). */
async function expectHomeLoggedIn(username: string): Promise<void> {
  expect(path()).toBe("/");
  expect(await heading().textContent()).toBe("Welcome");
  expect(await page.locator("main .who-is-logged-in").textContent()).toBe(
    `You are logged in as ${username}.`,
  );
  expect(await page.locator("[data-username]").textContent()).toBe(username);
  expect(await page.locator("header .who").textContent()).toBe(username);
}

/** Asserts that the home page shows nobody logged in. */
async function expectHomeAnonymous(): Promise<void> {
  expect(path()).toBe("/");
  expect(await heading().textContent()).toBe("Welcome");
  expect(await page.locator("main > p").first().textContent()).toBe(TEXT.homeAnonymous);
  expect(await page.locator("header .who").count()).toBe(0);
}

/** Clicks the home page's "Log out" button; back on the home page, nobody is logged in. */
async function logOutFromHome(step: string): Promise<void> {
  expectRedirect(await submitForm("Log out", "/logout"));
  await expectHomeAnonymous();
  await snap(step);
}

/**
 * On the login page: fills and submits the form.
 * @returns the HTTP status of the answer to the form's POST
 */
async function submitLogin(username: string, password: string): Promise<number> {
  expect(path()).toBe("/login");
  expect(await heading().textContent()).toBe("Log in");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  return submitForm("Log in", "/login");
}

/** Waits for the `index`-th message (0-based) the SMTP listener accepts, and checks its recipient. */
async function mailNumber(index: number, to: string): Promise<ReceivedMail> {
  const mail = await vi.waitFor(
    () => {
      const received = smtp.messages[index];
      if (!received) throw new Error(`email #${index + 1} has not arrived (${smtp.messages.length} so far)`);
      return received;
    },
    { timeout: 10_000, interval: 50 },
  );
  expect(mail.envelopeTo).toEqual([to]);
  expect(mail.envelopeFrom).toBe("noreply@example.com");
  return mail;
}

/** The single link to `path` (e.g. `/verifyemail/`) on this server in an email's text and HTML bodies. */
function linkIn(mail: ReceivedMail, path: string): string {
  const pattern = new RegExp(
    `${server.url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${path}[A-Za-z0-9_-]+`,
    "g",
  );
  const links = new Set(mail.parsed.text?.match(pattern) ?? []);
  expect(links.size).toBe(1);
  const link = [...links][0] as string;
  expect(typeof mail.parsed.html === "string" && mail.parsed.html.includes(link)).toBe(true);
  return link;
}

/** The text a QR code in a `data:image/png;base64,` URL encodes. */
function decodeQr(dataUrl: string): string {
  const prefix = "data:image/png;base64,";
  expect(dataUrl.startsWith(prefix)).toBe(true);
  const png = PNG.sync.read(Buffer.from(dataUrl.slice(prefix.length), "base64"));
  const result = jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height);
  if (result === null) throw new Error("the QR code could not be decoded");
  return result.data;
}

/**
 * On a code page (loginfactor2, configurefactor2 or factor2): types a code and submits it.
 * @returns the HTTP status of the answer to the form's POST
 */
async function enterCode(code: string, button: "Log in" | "Continue"): Promise<number> {
  const action = path();
  await page.getByLabel("Code").fill(code);
  return submitForm(button, action);
}

describeWithBrowser("the account journey in a real browser", () => {
  beforeAll(async () => {
    // Only this run's pages; other journeys (admin-*.png) may be writing theirs at the same time.
    mkdirSync(SCREENSHOTS, { recursive: true });
    for (const name of readdirSync(SCREENSHOTS)) {
      if (/^\d\d-.*\.png$/.test(name)) rmSync(join(SCREENSHOTS, name), { force: true });
    }
    smtp = await SmtpFixture.start();
    server = await startReferenceServer({ smtpPort: smtp.port });
    session = await launchBrowser();
    page = session.page;
  }, 240_000);

  afterAll(async () => {
    await session?.close();
    const code = await server?.stop();
    await smtp?.close();
    // A clean shutdown on SIGTERM is part of the contract (the README: "stops it gracefully").
    if (server) expect(code, `server output:\n${server.stderr()}`).toBe(0);
  }, 30_000);

  it("signs up, verifies, logs in with TOTP, changes and resets the password, deletes the account", async () => {
    // --- Sign up ---
    const home = await page.goto(`${server.url}/`);
    expect(home?.status()).toBe(200);
    await expectHomeAnonymous();
    await snap("01-home-anonymous");

    await followLink("Create an account");
    expect(path()).toBe("/signup");
    expect(await heading().textContent()).toBe("Create an account");
    await page.getByLabel("Username").fill(USERNAME);
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD1);
    await page.getByLabel("Repeat password").fill(PASSWORD1);
    expect(await page.getByLabel("Two-factor authentication").inputValue()).toBe("none");
    await snap("02-signup");
    expect(await submitForm("Create account", "/signup")).toBe(200);

    // --- "Check your email" ---
    expect(await heading().textContent()).toBe("Create an account");
    expect(await notice().textContent()).toBe(TEXT.emailVerificationSent);
    expect(await errors().count()).toBe(0);
    expect(await page.locator("form").count()).toBe(0);
    expect(await page.locator("header .who").count()).toBe(0);
    await snap("03-signup-check-your-email");

    const verification = await mailNumber(0, EMAIL);
    expect(verification.parsed.text).toContain(`Hello ${USERNAME},`);
    expect(verification.parsed.text).toContain(`Please confirm your email address ${EMAIL}`);
    const verifyLink = linkIn(verification, "/verifyemail/");

    // --- Follow the verification link: verified, and logged in by it ---
    await page.goto(verifyLink);
    expect(path()).toBe("/emailverified");
    expect(await heading().textContent()).toBe("Email verified");
    expect(await notice().textContent()).toBe(TEXT.emailVerifiedNotice);
    expect(await page.locator("header .who").textContent()).toBe(USERNAME);
    await snap("04-email-verified");

    await followLink("Continue");
    await expectHomeLoggedIn(USERNAME);
    await snap("05-home-after-verification");
    await logOutFromHome("06-logged-out");

    // --- Log in with the password ---
    await followLink("Log in");
    await snap("07-login");
    expectRedirect(await submitLogin(USERNAME, PASSWORD1));
    await expectHomeLoggedIn(USERNAME);
    await snap("08-home-logged-in");

    // --- Set up TOTP ---
    await followLink("Two-factor authentication");
    expect(path()).toBe("/changefactor2");
    expect(await heading().textContent()).toBe("Change two-factor authentication");
    expect(await page.getByLabel("Two-factor authentication").inputValue()).toBe("none");
    await page.getByLabel("Two-factor authentication").selectOption("totp");
    await snap("09-changefactor2");
    expectRedirect(await submitForm("Save", "/changefactor2"));

    expect(path()).toBe("/configurefactor2");
    expect(await heading().textContent()).toBe("Set up two-factor authentication");
    const qr = page.getByRole("img", { name: "QR code to scan with your authenticator app" });
    expect(await qr.isVisible()).toBe(true);
    const secret = ((await page.locator("#totpsecret").textContent()) ?? "").trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(decodeQr((await qr.getAttribute("src")) ?? "")).toBe(
      `otpauth://totp/Crossauth:${USERNAME}?secret=${secret}&issuer=Crossauth`,
    );
    await snap("10-configurefactor2");
    const totp = new TotpTyper(secret);
    expectRedirect(await enterCode((await totp.next("previous")).code, "Continue"));
    await expectHomeLoggedIn(USERNAME);
    await snap("11-home-totp-set-up");
    await logOutFromHome("12-logged-out");

    // --- Log in with the password, then the TOTP code ---
    await followLink("Log in");
    expectRedirect(await submitLogin(USERNAME, PASSWORD1));
    expect(path()).toBe("/loginfactor2");
    expect(await heading().textContent()).toBe("Enter your code");
    expect(await page.locator("#otp-help").textContent()).toBe(TEXT.appCodeInstructions);
    expect(await page.locator("header .who").count()).toBe(0);
    await snap("13-loginfactor2");
    expectRedirect(await enterCode((await totp.next("current")).code, "Log in"));
    await expectHomeLoggedIn(USERNAME);
    await snap("14-home-logged-in-with-totp");

    // --- Change the password: held for step-up 2FA ---
    await followLink("Change password");
    expect(path()).toBe("/changepassword");
    expect(await heading().textContent()).toBe("Change password");
    await page.getByLabel("Current password").fill(PASSWORD1);
    await page.getByLabel("New password").fill(PASSWORD2);
    await page.getByLabel("Repeat password").fill(PASSWORD2);
    await snap("15-changepassword");
    expectRedirect(await submitForm("Change password", "/changepassword"));

    expect(path()).toBe("/factor2");
    expect(await heading().textContent()).toBe("Confirm it's you");
    expect(await page.locator("main p").first().textContent()).toBe(TEXT.stepUpInstructions);
    expect(await page.locator("#otp-help").textContent()).toBe(TEXT.appCodeInstructions);
    await snap("16-factor2-step-up");
    expect(await enterCode((await totp.next("next")).code, "Continue")).toBe(200);
    expect(await heading().textContent()).toBe("Change password");
    expect(await notice().textContent()).toBe(TEXT.passwordChanged);
    expect(await errors().count()).toBe(0);
    expect(await page.locator("header .who").textContent()).toBe(USERNAME);
    await snap("17-password-changed");

    await followLink("Home");
    await expectHomeLoggedIn(USERNAME);
    await logOutFromHome("18-logged-out");

    // --- Forgot the password: reset it from the emailed link ---
    await followLink("Forgot your password?");
    expect(path()).toBe("/requestpasswordreset");
    expect(await heading().textContent()).toBe("Forgot your password?");
    await page.getByLabel("Email").fill(EMAIL);
    await snap("19-requestpasswordreset");
    expect(await submitForm("Send reset link", "/requestpasswordreset")).toBe(200);
    expect(await notice().textContent()).toBe(TEXT.passwordResetSent);
    expect(await errors().count()).toBe(0);
    await snap("20-reset-link-sent");

    const reset = await mailNumber(1, EMAIL);
    expect(reset.parsed.text).toContain(`Hello ${USERNAME},`);
    const resetLink = linkIn(reset, "/resetpassword/");
    expect(smtp.messages).toHaveLength(2);

    expect((await page.goto(resetLink))?.status()).toBe(200);
    expect(await heading().textContent()).toBe("Choose a new password");
    await page.getByLabel("New password").fill(PASSWORD3);
    await page.getByLabel("Repeat password").fill(PASSWORD3);
    await snap("21-resetpassword");
    expectRedirect(await submitForm("Reset password", "/resetpassword"));

    // The reset proves the first factor only: the second is still asked for.
    expect(path()).toBe("/loginfactor2");
    expect(await heading().textContent()).toBe("Enter your code");
    expect(await page.locator("header .who").count()).toBe(0);
    await snap("22-loginfactor2-after-reset");

    // --- Log in with the new password (the old one no longer works), then TOTP ---
    await followLink("Cancel");
    expect(await submitLogin(USERNAME, PASSWORD2)).toBe(401);
    expect(path()).toBe("/login");
    expect(await errors().allTextContents()).toEqual([LOGIN_REFUSED]);
    expect(await page.getByLabel("Username").inputValue()).toBe(USERNAME);
    await snap("23-login-old-password-refused");
    expectRedirect(await submitLogin(USERNAME, PASSWORD3));
    expect(path()).toBe("/loginfactor2");
    expect(await heading().textContent()).toBe("Enter your code");
    await snap("24-loginfactor2-new-password");
    const fourth = await totp.next();
    if (fourth.waitedMs > 0) {
      console.info(`Waited ${fourth.waitedMs} ms for TOTP step ${fourth.step} to come into the window`);
    }
    expectRedirect(await enterCode(fourth.code, "Log in"));
    await expectHomeLoggedIn(USERNAME);
    await snap("25-home-logged-in-after-reset");

    // --- Delete the account ---
    await followLink("Delete account");
    expect(path()).toBe("/deleteuser");
    expect(await heading().textContent()).toBe("Delete account");
    expect(await page.locator("#delete-warning").textContent()).toBe(TEXT.deleteUserWarning);
    await snap("26-deleteuser");
    expect(await submitForm("Delete my account", "/deleteuser")).toBe(200);
    expect(await notice().textContent()).toBe(TEXT.accountDeleted);
    expect(await page.locator("header .who").count()).toBe(0);
    await snap("27-account-deleted");

    // --- Logging in again fails, with the error on the page ---
    await page.goto(`${server.url}/login`);
    expect(await submitLogin(USERNAME, PASSWORD3)).toBe(401);
    expect(path()).toBe("/login");
    expect(await errors().allTextContents()).toEqual([LOGIN_REFUSED]);
    expect(await page.locator("header .who").count()).toBe(0);
    await snap("28-login-after-delete-refused");
    expect(smtp.messages).toHaveLength(2);
  }, 120_000);
});
