/**
 * Administration in a real browser (Debian's Chromium) against the built reference server, with
 * emails delivered over SMTP to a real listener. The first admin is made with the `crossauth` tool
 * on the server's database; the admin logs in, creates a user without a password, who gets the reset
 * email, chooses a password and logs in; the admin disables that user, whose session ends and who can
 * no longer log in. Then the admin creates a second user with a password, who registers a
 * confidential OAuth client, sees its secret once, makes a new one (also shown once) and deletes the
 * client. Admin and users each have their own browser context (cookies). Each page is saved as
 * `test-output/screenshots/admin-NN-<who>-<step>.png`.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { connectDatabase, KyselyOAuthClientStorage, OAuthClientManager } from "@crossauth/backend";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SmtpFixture } from "../../packages/backend/test/email/smtp-fixture.js";
import { type BrowserSession, describeWithBrowser, launchBrowser, newBrowserContext } from "./browser.js";
import { expectRedirect, JourneyPage, linkIn, mailNumber } from "./journey.js";
import { repoRoot, runCrossauthCli, startReferenceServer, type TestServer } from "./server.js";

/** Where the screenshots go. */
const SCREENSHOTS = join(repoRoot, "test-output", "screenshots");

const ADMIN = { username: "admin", email: "admin@example.com", password: "Admin-Passw0rd" };
const BOB = { username: "bob", email: "bob@example.com", password: "Bobs-Passw0rd" };
const CAROL = { username: "carol", email: "carol@example.com", password: "Carols-Passw0rd" };
const CLIENT_NAME = "Carol's app";
const REDIRECT_URIS = ["https://app.example.com/callback", "http://localhost:8080/cb"];

/** The messages the pages show (packages/backend/src/endpoints/messages.ts). */
const TEXT = {
  userCreatedResetSent: "The user was created and emailed a link to choose a password.",
  userCreated: "The user was created.",
  userSaved: "The user was saved.",
  adminPasswordHelp: "Leave both empty to email the user a link to choose a password.",
  statePasswordResetNeeded: "Must choose a password (emailed link)",
  stateActive: "Active",
  stateDisabled: "Disabled",
  noClientsFound: "No clients yet.",
  clientCreatedSecretOnce: "The client was registered. Copy the client secret now: it is not shown again.",
  clientSavedSecretOnce: "The client was saved. Copy the client secret now: it is not shown again.",
  deleteClientWarning:
    "This deletes the client: applications using it can no longer log in. It cannot be undone.",
};

/** The error a login with a wrong password shows. */
const LOGIN_REFUSED = "Username or password is invalid";
/** The error a disabled user's login shows (CrossauthError `UserNotActive`). */
const ACCOUNT_NOT_ACTIVE = "Account is not active";

/** A base64url secret of 32 random bytes (`randomValue(32)`). */
const SECRET_FORMAT = /^[A-Za-z0-9_-]{43}$/;

let smtp: SmtpFixture;
let server: TestServer;
let session: BrowserSession;
/** The admin's browser. */
let admin: JourneyPage;
/** The users' browser (another computer: its own cookies). */
let user: JourneyPage;
/** Screenshots taken so far (numbers them in journey order). */
let shots = 0;

/** Saves a screenshot of `who`'s page as `admin-NN-<name>.png`. */
async function snap(who: JourneyPage, name: string): Promise<void> {
  shots += 1;
  await who.snap(`admin-${String(shots).padStart(2, "0")}-${name}`);
}

/** A `crossauth` run on the server's database that must succeed; returns its standard output. */
async function crossauth(...args: string[]): Promise<string> {
  const result = await runCrossauthCli(server, args);
  expect(result, `crossauth ${args.join(" ")}`).toMatchObject({ code: 0 });
  return result.stdout;
}

/** The cells of the admin user list's row of `username`: username, email, state. */
async function userRow(username: string): Promise<string[]> {
  const row = admin.page.locator("table.list tbody tr", {
    has: admin.page.getByRole("link", { name: `Edit ${username}`, exact: true }),
  });
  return (await row.locator("td").allTextContents()).slice(0, 3).map((cell) => cell.trim());
}

/** The value the client summary shows for a label (`Client id`, `Type`...). */
async function summary(label: string): Promise<string> {
  const dd = user.page.locator(`dl.client dt:text-is("${label}") + dd`);
  return ((await dd.textContent()) ?? "").trim();
}

/** Whether `secret` is the client's secret, checked on the server's database as the server would. */
async function secretWorks(clientId: string, secret: string): Promise<boolean> {
  const db = connectDatabase(server.env.DATABASE_URL as string);
  try {
    const manager = new OAuthClientManager(new KyselyOAuthClientStorage(db));
    return await manager.validateClientSecret(await manager.clientStorage.getClientById(clientId), secret);
  } finally {
    await db.destroy();
  }
}

describeWithBrowser("administration in a real browser", () => {
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    for (const name of readdirSync(SCREENSHOTS)) {
      if (name.startsWith("admin-")) rmSync(join(SCREENSHOTS, name), { force: true }); // only this run's
    }
    smtp = await SmtpFixture.start();
    server = await startReferenceServer({ smtpPort: smtp.port });
    session = await launchBrowser();
    admin = new JourneyPage(session.page, SCREENSHOTS);
    user = new JourneyPage((await newBrowserContext(session.browser)).page, SCREENSHOTS);
  }, 240_000);

  afterAll(async () => {
    await session?.close();
    const code = await server?.stop();
    await smtp?.close();
    if (server) expect(code, `server output:\n${server.stderr()}`).toBe(0);
  }, 30_000);

  it("an admin creates a user without a password, who sets one by email; disabled, they cannot log in", async () => {
    // --- The first admin, made with the command-line tool on the server's database ---
    expect(
      await crossauth(
        "user",
        "create",
        ADMIN.username,
        "--email",
        ADMIN.email,
        "--password",
        ADMIN.password,
        "--admin",
      ),
    ).toBe("Created admin user admin (id 1)\n");

    // --- The admin logs in and opens the administration ---
    await admin.logIn(server.url, ADMIN.username, ADMIN.password);
    await snap(admin, "admin-home");
    await admin.followLink("Administration");
    expect(admin.path()).toBe("/admin/selectuser");
    expect(await admin.heading().textContent()).toBe("Users");
    expect(await userRow(ADMIN.username)).toEqual(["admin (Administrator)", ADMIN.email, TEXT.stateActive]);
    await snap(admin, "admin-selectuser");

    // --- Creates bob without a password ---
    await admin.followLink("Create a user");
    expect(admin.path()).toBe("/admin/createuser");
    expect(await admin.heading().textContent()).toBe("Create a user");
    expect(await admin.page.locator("#password-help").textContent()).toBe(TEXT.adminPasswordHelp);
    await admin.page.getByLabel("Username").fill(BOB.username);
    await admin.page.getByLabel("Email").fill(BOB.email);
    expect(await admin.page.getByLabel("Two-factor authentication").inputValue()).toBe("none");
    await snap(admin, "admin-createuser-no-password");
    expect(await admin.submitForm("Create user", "/admin/createuser")).toBe(200);
    expect(await admin.notice().textContent()).toBe(TEXT.userCreatedResetSent);
    expect(await admin.errors().count()).toBe(0);
    expect(await admin.page.getByRole("link", { name: BOB.username, exact: true }).count()).toBe(1);
    await snap(admin, "admin-user-created");

    await admin.followLink("Users");
    expect(await userRow(BOB.username)).toEqual([BOB.username, BOB.email, TEXT.statePasswordResetNeeded]);
    await snap(admin, "admin-selectuser-bob-must-choose-password");

    // --- Bob gets the email and chooses a password; the reset logs him in ---
    const mail = await mailNumber(smtp, 0, BOB.email);
    expect(mail.parsed.text).toContain(`Hello ${BOB.username},`);
    const resetLink = linkIn(mail, server.url, "/resetpassword/");
    expect(await user.open(resetLink)).toBe(200);
    expect(await user.heading().textContent()).toBe("Choose a new password");
    await user.page.getByLabel("New password").fill(BOB.password);
    await user.page.getByLabel("Repeat password").fill(BOB.password);
    await snap(user, "bob-resetpassword");
    expectRedirect(await user.submitForm("Reset password", "/resetpassword"));
    await user.expectHomeLoggedIn(BOB.username);
    await snap(user, "bob-home-after-reset");

    // --- He logs out and in again with the password he chose ---
    await user.logOutFromHome();
    await user.logIn(server.url, BOB.username, BOB.password);
    await snap(user, "bob-home-logged-in");

    // --- The admin sees bob active, and disables him ---
    await admin.followLink("Users");
    expect(await userRow(BOB.username)).toEqual([BOB.username, BOB.email, TEXT.stateActive]);
    await admin.followLink(`Edit ${BOB.username}`);
    expect(admin.path()).toMatch(/^\/admin\/updateuser\/\d+$/);
    expect(await admin.heading().textContent()).toBe("Edit user");
    const state = admin.page.getByLabel("State");
    expect(await state.inputValue()).toBe("active");
    await state.selectOption("disabled");
    await snap(admin, "admin-updateuser-disable");
    expect(await admin.submitForm("Save", admin.path())).toBe(200);
    expect(await admin.notice().textContent()).toBe(TEXT.userSaved);
    expect(await admin.errors().count()).toBe(0);
    expect(await admin.page.getByLabel("State").inputValue()).toBe("disabled");
    await snap(admin, "admin-user-disabled");
    await admin.followLink("Users");
    expect(await userRow(BOB.username)).toEqual([BOB.username, BOB.email, TEXT.stateDisabled]);

    // --- Bob's session has ended, and he can no longer log in ---
    expect(await user.open(`${server.url}/`)).toBe(200);
    await user.expectHomeAnonymous();
    await snap(user, "bob-logged-out-by-disable");
    await user.followLink("Log in");
    expect(await user.submitLogin(BOB.username, BOB.password)).toBe(403);
    expect(user.path()).toBe("/login");
    expect(await user.errors().allTextContents()).toEqual([ACCOUNT_NOT_ACTIVE]);
    expect(await user.who().count()).toBe(0);
    await snap(user, "bob-login-refused");
    // A wrong password is refused as for anyone.
    expect(await user.submitLogin(BOB.username, `${BOB.password}x`)).toBe(401);
    expect(await user.errors().allTextContents()).toEqual([LOGIN_REFUSED]);
    expect(smtp.messages).toHaveLength(1);
  }, 120_000);

  it("a user registers a confidential client, sees its secret once, makes a new one and deletes it", async () => {
    // --- The admin creates carol with a password ---
    await admin.followLink("Create a user");
    await admin.page.getByLabel("Username").fill(CAROL.username);
    await admin.page.getByLabel("Email").fill(CAROL.email);
    await admin.page.getByLabel("Password", { exact: true }).fill(CAROL.password);
    await admin.page.getByLabel("Repeat password").fill(CAROL.password);
    expect(await admin.submitForm("Create user", "/admin/createuser")).toBe(200);
    expect(await admin.notice().textContent()).toBe(TEXT.userCreated);
    await snap(admin, "admin-carol-created");

    // --- Carol logs in and opens her OAuth clients ---
    await user.logIn(server.url, CAROL.username, CAROL.password);
    await user.followLink("OAuth clients");
    expect(user.path()).toBe("/selectclient");
    expect(await user.heading().textContent()).toBe("OAuth clients");
    expect(await user.notice().textContent()).toBe(TEXT.noClientsFound);
    await snap(user, "carol-selectclient-empty");

    // --- Registers a confidential client ---
    await user.followLink("Register a client");
    expect(user.path()).toBe("/createclient");
    expect(await user.heading().textContent()).toBe("Register an OAuth client");
    await user.page.getByLabel("Name", { exact: true }).fill(CLIENT_NAME);
    await user.page.getByLabel("Redirect URIs").fill(REDIRECT_URIS.join(" "));
    expect(await user.page.getByLabel("Confidential", { exact: false }).isChecked()).toBe(true);
    await user.page.getByLabel("Authorization code", { exact: true }).check();
    await user.page.getByLabel("Refresh token", { exact: true }).check();
    await snap(user, "carol-createclient");
    expect(await user.submitForm("Register client", "/createclient")).toBe(200);
    expect(await user.errors().count()).toBe(0);
    expect(await user.notice().textContent()).toBe(TEXT.clientCreatedSecretOnce);
    const clientId = await summary("Client id");
    expect(clientId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const secret = ((await user.page.locator("#client-secret").textContent()) ?? "").trim();
    expect(secret).toMatch(SECRET_FORMAT);
    expect(await summary("Client secret")).toBe(secret);
    expect(await summary("Name")).toBe(CLIENT_NAME);
    expect(await summary("Type")).toBe("Confidential");
    expect(await summary("Allowed flows")).toBe("Authorization code, Refresh token");
    expect(
      await user.page.locator("dl.client dt:text-is('Redirect URIs') + dd span").allTextContents(),
    ).toEqual(REDIRECT_URIS);
    await snap(user, "carol-client-created-secret-shown");
    expect(await secretWorks(clientId, secret)).toBe(true);

    // The operator sees it with the command-line tool too, without the secret.
    const listed = await crossauth("client", "list", "--owner", CAROL.username);
    expect(listed).toContain(clientId);
    expect(listed).toContain("confidential");
    expect(listed).not.toContain(secret);

    // --- The secret is not shown again: not when the page is loaded again, nor on the client's pages ---
    expect(await user.open(`${server.url}/createclient`)).toBe(200);
    expect(await user.heading().textContent()).toBe("Register an OAuth client");
    expect(await user.page.locator("#client-secret").count()).toBe(0);
    expect(await user.page.content()).not.toContain(secret);
    await user.followLink("OAuth clients");
    expect(await user.page.locator("table.list tbody tr").count()).toBe(1);
    expect(await user.page.content()).toContain(clientId);
    expect(await user.page.content()).not.toContain(secret);
    await snap(user, "carol-selectclient");
    await user.followLink(`Edit ${CLIENT_NAME}`);
    expect(user.path()).toBe(`/updateclient/${clientId}`);
    expect(await user.heading().textContent()).toBe("Edit OAuth client");
    expect(await user.page.locator("#client-secret").count()).toBe(0);
    expect(await user.page.content()).not.toContain(secret);
    await snap(user, "carol-updateclient-no-secret");

    // --- Makes a new secret: a different one, shown once; the old one stops working ---
    await user.page.getByLabel("Make a new secret (the old one stops working)").check();
    expect(await user.submitForm("Save", `/updateclient/${clientId}`)).toBe(200);
    expect(await user.errors().count()).toBe(0);
    expect(await user.notice().textContent()).toBe(TEXT.clientSavedSecretOnce);
    const newSecret = ((await user.page.locator("#client-secret").textContent()) ?? "").trim();
    expect(newSecret).toMatch(SECRET_FORMAT);
    expect(newSecret).not.toBe(secret);
    expect(await summary("Client id")).toBe(clientId);
    await snap(user, "carol-secret-reset-shown");
    expect(await secretWorks(clientId, newSecret)).toBe(true);
    expect(await secretWorks(clientId, secret)).toBe(false);

    expect(await user.open(`${server.url}/updateclient/${clientId}`)).toBe(200);
    expect(await user.page.locator("#client-secret").count()).toBe(0);
    expect(await user.page.content()).not.toContain(newSecret);
    expect(await user.page.getByLabel("Make a new secret (the old one stops working)").isChecked()).toBe(
      false,
    );

    // --- Deletes the client ---
    await user.followLink("Delete client");
    expect(user.path()).toBe(`/deleteclient/${clientId}`);
    expect(await user.heading().textContent()).toBe("Delete OAuth client");
    expect(await user.page.locator("#delete-warning").textContent()).toBe(TEXT.deleteClientWarning);
    expect(await user.page.content()).not.toContain(newSecret);
    await snap(user, "carol-deleteclient");
    expectRedirect(await user.submitForm("Delete client", `/deleteclient/${clientId}`));
    expect(user.path()).toBe("/selectclient");
    expect(await user.notice().textContent()).toBe(TEXT.noClientsFound);
    expect(await user.page.content()).not.toContain(clientId);
    await snap(user, "carol-client-deleted");
    expect(await user.open(`${server.url}/updateclient/${clientId}`)).toBe(401);
    expect(await crossauth("client", "list", "--owner", CAROL.username)).toBe(
      "carol has no OAuth clients.\n",
    );
  }, 120_000);
});
