/**
 * TokenEmailer against a real SMTP listener: verification and reset links delivered and followed,
 * tokens stored hashed with their expiry, single use under concurrency, expiry with an injected
 * clock, templates, escaping and failures.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CrossauthError, ErrorCode, type User, UserState } from "@crossauth/common";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  hash,
  InMemoryKeyStorage,
  InMemoryUserStorage,
  TokenEmailer,
  type TokenEmailerOptions,
} from "../../src/index.js";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { closedPort, LogCapture, type ReceivedMail, SmtpFixture } from "./smtp-fixture.js";

const SITE = "https://auth.example.com";
const FROM = "Crossauth <noreply@example.com>";
const T0 = Date.UTC(2030, 0, 1);
const DAY_MS = 86400 * 1000;
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{22}$/;

let smtp: SmtpFixture;
let logs: LogCapture;
let clock: number;
let keys: InMemoryKeyStorage;
let users: InMemoryUserStorage;
/** Users created in beforeEach, by name. */
let u: Record<"alice" | "bob" | "carol" | "dave" | "eve" | "fay" | "mallory", User>;
let viewsDir: string;
const emailers: TokenEmailer[] = [];

beforeAll(async () => {
  smtp = await SmtpFixture.start({ rejectRecipient: (a) => (a.startsWith("nobody@") ? 550 : undefined) });
  viewsDir = mkdtempSync(join(tmpdir(), "crossauth-token-views-"));
  mkdirSync(join(viewsDir, "email"));
  writeFileSync(
    join(viewsDir, "email", "emailverificationtextbody.njk"),
    "Custom {{ username }} {{ link }} {{ expiryHours }} {{ campaign }}",
  );
  writeFileSync(join(viewsDir, "email", "myreset.njk"), "<p>Reset {{ username }} at {{ link }}</p>");
});
afterAll(async () => {
  await smtp.close();
  rmSync(viewsDir, { recursive: true, force: true });
});
beforeEach(async () => {
  clock = T0;
  logs = new LogCapture();
  keys = new InMemoryKeyStorage();
  users = new InMemoryUserStorage({ keyStorage: keys });
  const create = (username: string, state: string, email?: string) =>
    users.createUser({ username, state, factor1: "localpassword", ...(email ? { email } : {}) });
  u = {
    alice: await create("alice", UserState.awaitingEmailVerification, "alice@example.com"),
    bob: await create("bob@example.com", UserState.active),
    carol: await create("carol", UserState.active),
    dave: await create("dave", UserState.passwordResetNeeded, "dave@example.com"),
    eve: await create("eve", UserState.disabled, "eve@example.com"),
    fay: await create("fay", UserState.active, "not-an-address"),
    mallory: await create('<b>"Mal" & co</b>', UserState.active, "mallory@example.com"),
  };
});
afterEach(() => {
  logs.restore();
  for (const e of emailers.splice(0)) e.transport.close();
  for (const name of ["SITE_URL", "PREFIX", "VERIFY_EMAIL_EXPIRES", "PASSWORD_RESET_SUBJECT"]) {
    delete process.env[`CROSSAUTH_${name}`];
  }
});

function emailer(options: TokenEmailerOptions = {}): TokenEmailer {
  const e = new TokenEmailer(users, keys, {
    smtpHost: "127.0.0.1",
    smtpPort: smtp.port,
    emailFrom: FROM,
    siteUrl: SITE,
    now: () => new Date(clock),
    ...options,
  });
  emailers.push(e);
  return e;
}

/** The token of the first link starting with `base` in `text`. */
function linkToken(text: string, base: string): string {
  const start = text.indexOf(base);
  expect(start).toBeGreaterThanOrEqual(0);
  const token = /^[A-Za-z0-9_-]*/.exec(text.slice(start + base.length))?.[0] ?? "";
  expect(token).toMatch(TOKEN_FORMAT);
  return token;
}

/** The token of the link `<SITE><prefix><path><token>` in the text part, checked to be in the HTML part too. */
function tokenOf(mail: ReceivedMail, path: "verifyemail/" | "resetpassword/", prefix = "/"): string {
  const base = `${SITE}${prefix}${path}`;
  const token = linkToken(mail.parsed.text ?? "", base);
  expect(mail.parsed.html).toContain(`<a href="${base}${token}">${base}${token}</a>`);
  return token;
}

/**
 * Runs `use` 20 times concurrently; asserts that all but one fail with `InvalidKey` and returns the
 * values of the successes (for the caller to check there is exactly one).
 */
async function onlyOneSucceeds<T>(use: () => Promise<T>): Promise<T[]> {
  const results = await Promise.allSettled(Array.from({ length: 20 }, use));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  expect(failures.map((r) => (r.reason as CrossauthError).codeName)).toEqual(Array(19).fill("InvalidKey"));
  return results
    .filter((r): r is PromiseFulfilledResult<Awaited<T>> => r.status === "fulfilled")
    .map((r) => r.value);
}

/** Sends the mail and returns the new message. */
async function received(send: Promise<void>): Promise<ReceivedMail> {
  const before = smtp.messages.length;
  await send;
  expect(smtp.messages.length).toBe(before + 1);
  return smtp.last();
}

describe("static helpers and options", () => {
  it("hashes tokens with the e: and p: prefixes", () => {
    expect(TokenEmailer.hashEmailVerificationToken("PLAINTEXT")).toBe(
      "e:y0Dn2tyGFhuXmN5IUS8zLSHBQfzB4ooIb95KM3WqsbU",
    );
    expect(TokenEmailer.hashPasswordResetToken("PLAINTEXT")).toBe(
      "p:y0Dn2tyGFhuXmN5IUS8zLSHBQfzB4ooIb95KM3WqsbU",
    );
  });

  it("validates email addresses", () => {
    expect(TokenEmailer.isEmailValid("a.b@example.com")).toBe(true);
    expect(TokenEmailer.isEmailValid("no-at-sign")).toBe(false);
    expect(() => TokenEmailer.validateEmail("a@example.com")).not.toThrow();
    expectCrossauthError(() => TokenEmailer.validateEmail("a@b"), ErrorCode.InvalidEmail);
    expectCrossauthError(() => TokenEmailer.validateEmail(undefined), ErrorCode.InvalidEmail);
  });

  it("has the documented defaults", () => {
    const e = new TokenEmailer(users, keys);
    expect(e.siteUrl).toBeUndefined();
    expect(e.prefix).toBe("/");
    expect(e.verifyEmailExpires).toBe(86400);
    expect(e.passwordResetExpires).toBe(86400);
    expect(e.emailVerificationSubject).toBe("Please verify your email");
    expect(e.passwordResetSubject).toBe("Password reset");
    expect(e.emailVerificationTextBody).toBe("email/emailverificationtextbody.njk");
    expect(e.emailVerificationHtmlBody).toBe("email/emailverificationhtmlbody.njk");
    expect(e.passwordResetTextBody).toBe("email/passwordresettextbody.njk");
    expect(e.passwordResetHtmlBody).toBe("email/passwordresethtmlbody.njk");
  });

  it("reads CROSSAUTH_* variables; options win", () => {
    process.env.CROSSAUTH_SITE_URL = "https://env.example.com";
    process.env.CROSSAUTH_PREFIX = "/auth/";
    process.env.CROSSAUTH_VERIFY_EMAIL_EXPIRES = "600";
    process.env.CROSSAUTH_PASSWORD_RESET_SUBJECT = "Reset!";
    const e = new TokenEmailer(users, keys);
    expect([e.siteUrl, e.prefix, e.verifyEmailExpires, e.passwordResetSubject]).toEqual([
      "https://env.example.com",
      "/auth/",
      600,
      "Reset!",
    ]);
    expect(new TokenEmailer(users, keys, { siteUrl: SITE }).siteUrl).toBe(SITE);
  });

  it("rejects bad expiries and badly typed options", () => {
    expectCrossauthError(
      () => new TokenEmailer(users, keys, { verifyEmailExpires: 0 }),
      ErrorCode.Configuration,
    );
    expectCrossauthError(
      () => new TokenEmailer(users, keys, { passwordResetExpires: -5 }),
      ErrorCode.Configuration,
    );
    expectCrossauthError(
      () => new TokenEmailer(users, keys, { verifyEmailExpires: 1.5 }),
      ErrorCode.Configuration,
    );
    expectCrossauthError(
      () => new TokenEmailer(users, keys, { siteUrl: 42 as unknown as string }),
      ErrorCode.Configuration,
    );
    expectCrossauthError(
      () => new TokenEmailer(users, keys, { now: "now" as unknown as () => Date }),
      ErrorCode.Configuration,
    );
  });
});

describe("email verification", () => {
  it("stores only e:+hash(token) with the user, creation, expiry in one day and the new email", async () => {
    const e = emailer();
    const token = await e.createAndSaveEmailVerificationToken(u.alice.id, "new@example.com");
    expect(token).toMatch(TOKEN_FORMAT);
    const stored = await keys.getAllForUser(u.alice.id);
    expect(stored).toEqual([
      {
        value: `e:${hash(token)}`,
        userid: u.alice.id,
        created: new Date(T0),
        expires: new Date(T0 + DAY_MS),
        lastactive: null,
        data: '{"newemail":"new@example.com"}',
      },
    ]);
    expect(JSON.stringify(stored)).not.toContain(token);
    const activation = await e.createAndSaveEmailVerificationToken(u.alice.id);
    expect((await keys.getKey(TokenEmailer.hashEmailVerificationToken(activation))).data).toBe("{}");
  });

  it("emails the exact link in the text and HTML parts; the token verifies", async () => {
    const e = emailer();
    const mail = await received(e.sendEmailVerificationToken(u.alice.id));
    expect(mail.envelopeTo).toEqual(["alice@example.com"]);
    expect(mail.parsed.subject).toBe("Please verify your email");
    const token = tokenOf(mail, "verifyemail/");
    expect(mail.parsed.text).toBe(
      "Hello alice,\n\nPlease confirm your email address alice@example.com by opening this link:\n\n" +
        `${SITE}/verifyemail/${token}\n\nThe link is valid for 24 hours. ` +
        "If you did not ask for this, you can ignore this email.\n",
    );
    expect(await e.verifyEmailVerificationToken(token)).toEqual({ userid: u.alice.id, newEmail: "" });
    const key = await keys.getKey(`e:${hash(token)}`);
    expect([key.userid, key.expires, key.data]).toEqual([u.alice.id, new Date(T0 + DAY_MS), "{}"]);
  });

  it("sends an email change to the new address and reports it on verification", async () => {
    const e = emailer();
    const mail = await received(e.sendEmailVerificationToken(u.bob.id, "bob.new@example.com"));
    expect(mail.envelopeTo).toEqual(["bob.new@example.com"]);
    const token = tokenOf(mail, "verifyemail/");
    expect(await e.verifyEmailVerificationToken(token)).toEqual({
      userid: u.bob.id,
      newEmail: "bob.new@example.com",
    });
  });

  it("falls back to the username when it is an address", async () => {
    const mail = await received(emailer().sendEmailVerificationToken(u.bob.id));
    expect(mail.envelopeTo).toEqual(["bob@example.com"]);
  });

  it("puts the prefix in the link", async () => {
    const e = emailer({ prefix: "/auth/" });
    const token = tokenOf(await received(e.sendEmailVerificationToken(u.alice.id)), "verifyemail/", "/auth/");
    expect((await e.verifyEmailVerificationToken(token)).userid).toBe(u.alice.id);
  });

  it("consumes a token once; then it is InvalidKey with the message of an unknown token", async () => {
    const e = emailer();
    const token = await e.createAndSaveEmailVerificationToken(u.alice.id, "x@example.com");
    expect(await e.verifyEmailVerificationToken(token)).toEqual({
      userid: u.alice.id,
      newEmail: "x@example.com",
    });
    expect(await e.consumeEmailVerificationToken(token)).toEqual({
      userid: u.alice.id,
      newEmail: "x@example.com",
    });
    expect(await keys.getAllForUser(u.alice.id)).toEqual([]);
    const used = await expectCrossauthRejection(e.consumeEmailVerificationToken(token), ErrorCode.InvalidKey);
    const unknown = await expectCrossauthRejection(
      e.consumeEmailVerificationToken("AAAAAAAAAAAAAAAAAAAAAA"),
      ErrorCode.InvalidKey,
    );
    expect(used.message).toBe("Email verification token is invalid");
    expect(unknown.message).toBe(used.message);
    await expectCrossauthRejection(e.verifyEmailVerificationToken(token), ErrorCode.InvalidKey);
    await expectCrossauthRejection(e.verifyEmailVerificationToken(""), ErrorCode.InvalidKey);
  });

  it("lets exactly one of 20 concurrent consumes succeed", async () => {
    const e = emailer();
    const token = await e.createAndSaveEmailVerificationToken(u.alice.id);
    const winners = await onlyOneSucceeds(() => e.consumeEmailVerificationToken(token));
    expect(winners).toEqual([{ userid: u.alice.id, newEmail: "" }]);
  });

  it("expires at created + verifyEmailExpires (injected clock), and an expired token is gone once consumed", async () => {
    const e = emailer();
    const token = await e.createAndSaveEmailVerificationToken(u.alice.id);
    clock = T0 + DAY_MS - 1;
    expect((await e.verifyEmailVerificationToken(token)).userid).toBe(u.alice.id);
    clock = T0 + DAY_MS;
    const err = await expectCrossauthRejection(e.verifyEmailVerificationToken(token), ErrorCode.Expired);
    expect(err.message).toBe("Email verification token has expired");
    await expectCrossauthRejection(e.consumeEmailVerificationToken(token), ErrorCode.Expired);
    await expectCrossauthRejection(e.consumeEmailVerificationToken(token), ErrorCode.InvalidKey);

    const short = emailer({ verifyEmailExpires: 60 });
    clock = T0;
    const t2 = await short.createAndSaveEmailVerificationToken(u.alice.id);
    expect((await keys.getKey(`e:${hash(t2)}`)).expires).toEqual(new Date(T0 + 60_000));
    clock = T0 + 60_000;
    await expectCrossauthRejection(short.consumeEmailVerificationToken(t2), ErrorCode.Expired);
  });

  it("does not accept a password-reset token, nor a key without owner or expiry", async () => {
    const e = emailer();
    const reset = await e.createAndSavePasswordResetToken(u.alice.id);
    await expectCrossauthRejection(e.verifyEmailVerificationToken(reset), ErrorCode.InvalidKey);
    await keys.saveKey(
      null,
      TokenEmailer.hashEmailVerificationToken("anonymous"),
      new Date(T0),
      new Date(T0 + DAY_MS),
    );
    await expectCrossauthRejection(e.verifyEmailVerificationToken("anonymous"), ErrorCode.InvalidKey);
    await keys.saveKey(u.alice.id, TokenEmailer.hashEmailVerificationToken("forever"), new Date(T0), null);
    await expectCrossauthRejection(e.verifyEmailVerificationToken("forever"), ErrorCode.Expired);
  });

  it("deleteEmailVerificationToken removes the token", async () => {
    const e = emailer();
    const token = await e.createAndSaveEmailVerificationToken(u.alice.id);
    await e.deleteEmailVerificationToken(token);
    await expectCrossauthRejection(e.verifyEmailVerificationToken(token), ErrorCode.InvalidKey);
    await e.deleteEmailVerificationToken(token);
  });

  it("refuses users without a valid address and invalid new addresses: InvalidEmail, nothing stored or sent", async () => {
    const e = emailer();
    const before = smtp.messages.length;
    await expectCrossauthRejection(e.sendEmailVerificationToken(u.carol.id), ErrorCode.InvalidEmail);
    await expectCrossauthRejection(e.sendEmailVerificationToken(u.fay.id), ErrorCode.InvalidEmail);
    await expectCrossauthRejection(
      e.sendEmailVerificationToken(u.alice.id, "bad address"),
      ErrorCode.InvalidEmail,
    );
    await expectCrossauthRejection(e.sendEmailVerificationToken(9999), ErrorCode.UserNotExist);
    expect(smtp.messages.length).toBe(before);
    for (const user of [u.alice, u.carol, u.fay]) expect(await keys.getAllForUser(user.id)).toEqual([]);
  });
});

describe("password reset", () => {
  it("emails a resetpassword/ link; the p: token verifies to the user in passwordresetneeded", async () => {
    const e = emailer();
    const mail = await received(e.sendPasswordResetToken(u.dave.id));
    expect(mail.envelopeTo).toEqual(["dave@example.com"]);
    expect(mail.parsed.subject).toBe("Password reset");
    const token = tokenOf(mail, "resetpassword/");
    expect(mail.parsed.text).toContain(
      `\n\n${SITE}/resetpassword/${token}\n\nThe link is valid for 24 hours`,
    );
    const key = await keys.getKey(`p:${hash(token)}`);
    expect([key.userid, key.created, key.expires, key.data]).toEqual([
      u.dave.id,
      new Date(T0),
      new Date(T0 + DAY_MS),
      "{}",
    ]);
    const user = await e.verifyPasswordResetToken(token);
    expect([user.id, user.username, user.state]).toEqual([u.dave.id, "dave", UserState.passwordResetNeeded]);
    expect(await keys.getAllForUser(u.dave.id)).toHaveLength(1);
  });

  it("consumes once; 20 concurrent consumes → exactly one succeeds", async () => {
    const e = emailer();
    const token = await e.createAndSavePasswordResetToken(u.dave.id);
    expect((await e.consumePasswordResetToken(token)).id).toBe(u.dave.id);
    const err = await expectCrossauthRejection(e.consumePasswordResetToken(token), ErrorCode.InvalidKey);
    expect(err.message).toBe("Password reset token is invalid");
    await expectCrossauthRejection(e.verifyPasswordResetToken(token), ErrorCode.InvalidKey);

    const t2 = await e.createAndSavePasswordResetToken(u.dave.id);
    const winners = await onlyOneSucceeds(() => e.consumePasswordResetToken(t2));
    expect(winners.map((user) => user.id)).toEqual([u.dave.id]);
  });

  it("expires at created + passwordResetExpires (injected clock)", async () => {
    const e = emailer({ passwordResetExpires: 3600 });
    const token = await e.createAndSavePasswordResetToken(u.dave.id);
    clock = T0 + 3600_000 - 1;
    expect((await e.verifyPasswordResetToken(token)).id).toBe(u.dave.id);
    clock = T0 + 3600_000;
    await expectCrossauthRejection(e.verifyPasswordResetToken(token), ErrorCode.Expired);
    await expectCrossauthRejection(e.consumePasswordResetToken(token), ErrorCode.Expired);
    await expectCrossauthRejection(e.consumePasswordResetToken(token), ErrorCode.InvalidKey);
  });

  it("says 1 hour for a one-hour token", async () => {
    const mail = await received(emailer({ passwordResetExpires: 3600 }).sendPasswordResetToken(u.dave.id));
    expect(mail.parsed.text).toContain("The link is valid for 1 hour and can be used once.");
  });

  it("does not accept an email-verification token; a token of a deleted user is InvalidKey", async () => {
    const e = emailer();
    const verification = await e.createAndSaveEmailVerificationToken(u.dave.id);
    await expectCrossauthRejection(e.consumePasswordResetToken(verification), ErrorCode.InvalidKey);
    const token = await e.createAndSavePasswordResetToken(u.carol.id);
    await users.deleteUserById(u.carol.id);
    await keys.saveKey(
      u.carol.id,
      TokenEmailer.hashPasswordResetToken("orphan"),
      new Date(T0),
      new Date(T0 + DAY_MS),
    );
    await expectCrossauthRejection(e.verifyPasswordResetToken(token), ErrorCode.InvalidKey);
    await expectCrossauthRejection(e.consumePasswordResetToken("orphan"), ErrorCode.InvalidKey);
  });

  it("deletePasswordResetTokensForUser deletes only that user's p: tokens", async () => {
    const e = emailer();
    const r1 = await e.createAndSavePasswordResetToken(u.dave.id);
    const r2 = await e.createAndSavePasswordResetToken(u.dave.id);
    const v = await e.createAndSaveEmailVerificationToken(u.dave.id);
    const other = await e.createAndSavePasswordResetToken(u.bob.id);
    await e.deletePasswordResetTokensForUser(u.dave.id);
    await expectCrossauthRejection(e.verifyPasswordResetToken(r1), ErrorCode.InvalidKey);
    await expectCrossauthRejection(e.verifyPasswordResetToken(r2), ErrorCode.InvalidKey);
    expect((await e.verifyEmailVerificationToken(v)).userid).toBe(u.dave.id);
    expect((await e.verifyPasswordResetToken(other)).id).toBe(u.bob.id);
  });

  it("refuses disabled and unverified users unless sent as admin", async () => {
    const e = emailer();
    const before = smtp.messages.length;
    await expectCrossauthRejection(e.sendPasswordResetToken(u.eve.id), ErrorCode.UserNotActive);
    await expectCrossauthRejection(e.sendPasswordResetToken(u.alice.id), ErrorCode.UserNotActive);
    expect(smtp.messages.length).toBe(before);
    expect(await keys.getAllForUser(u.eve.id)).toEqual([]);
    const mail = await received(e.sendPasswordResetToken(u.eve.id, {}, true));
    expect(mail.envelopeTo).toEqual(["eve@example.com"]);
    expect((await e.verifyPasswordResetToken(tokenOf(mail, "resetpassword/"))).state).toBe(
      UserState.disabled,
    );
  });

  it("refuses users without a valid address: InvalidEmail, nothing stored", async () => {
    const e = emailer();
    await expectCrossauthRejection(e.sendPasswordResetToken(u.carol.id), ErrorCode.InvalidEmail);
    await expectCrossauthRejection(e.sendPasswordResetToken(u.fay.id), ErrorCode.InvalidEmail);
    expect(await keys.getAllForUser(u.carol.id)).toEqual([]);
    expect(await keys.getAllForUser(u.fay.id)).toEqual([]);
  });
});

describe("templates", () => {
  it("uses a views directory first and falls back to the defaults; passes extraData", async () => {
    const e = emailer({ views: viewsDir, verifyEmailExpires: 5400 });
    const mail = await received(e.sendEmailVerificationToken(u.alice.id, "", { campaign: "spring" }));
    const token = tokenOf(mail, "verifyemail/");
    expect(mail.parsed.text?.trim()).toBe(`Custom alice ${SITE}/verifyemail/${token} 1.5 spring`);
    expect(mail.parsed.html).toContain("The link is valid for 1.5 hours.");
  });

  it("uses template names and subjects from the options", async () => {
    const e = emailer({
      views: viewsDir,
      passwordResetHtmlBody: "email/myreset.njk",
      passwordResetSubject: "Choose a new password",
    });
    const mail = await received(e.sendPasswordResetToken(u.dave.id));
    expect(mail.parsed.subject).toBe("Choose a new password");
    const token = linkToken(mail.parsed.text ?? "", `${SITE}/resetpassword/`);
    expect(mail.parsed.html).toBe(`<p>Reset dave at ${SITE}/resetpassword/${token}</p>`);
  });

  it("renders with a render function given the template name and the data", async () => {
    const calls: [string, Record<string, unknown>][] = [];
    const e = emailer({
      render: (template, data) => {
        calls.push([template, data]);
        return `${template} ${String(data.link)}`;
      },
    });
    const mail = await received(e.sendEmailVerificationToken(u.alice.id, "", { campaign: "spring" }));
    const token = linkToken(mail.parsed.text ?? "", `${SITE}/verifyemail/`);
    const data = {
      username: "alice",
      email: "alice@example.com",
      token,
      link: `${SITE}/verifyemail/${token}`,
      expiryHours: 24,
      siteUrl: SITE,
      campaign: "spring",
    };
    expect(calls).toEqual([
      ["email/emailverificationtextbody.njk", data],
      ["email/emailverificationhtmlbody.njk", data],
    ]);
    expect(mail.parsed.text?.trim()).toBe(`email/emailverificationtextbody.njk ${data.link}`);
    expect(mail.parsed.html).toBe(`email/emailverificationhtmlbody.njk ${data.link}`);
  });

  it("escapes user data in the HTML part, not in the text part", async () => {
    for (const send of [
      (e: TokenEmailer) => e.sendEmailVerificationToken(u.mallory.id),
      (e: TokenEmailer) => e.sendPasswordResetToken(u.mallory.id),
    ]) {
      const mail = await received(send(emailer()));
      expect(mail.parsed.html).toContain("<p>Hello &lt;b&gt;&quot;Mal&quot; &amp; co&lt;/b&gt;,</p>");
      expect(mail.parsed.html).not.toContain("<b>");
      expect(mail.parsed.text).toContain('Hello <b>"Mal" & co</b>,');
    }
  });

  it("reports a missing template as Configuration and deletes the unsent token", async () => {
    const e = emailer({ emailVerificationTextBody: "email/missing.njk" });
    await expectCrossauthRejection(e.sendEmailVerificationToken(u.alice.id), ErrorCode.Configuration);
    expect(await keys.getAllForUser(u.alice.id)).toEqual([]);
  });
});

describe("failures and logging", () => {
  it("refuses to send without siteUrl: Configuration, nothing stored or sent", async () => {
    const e = emailer({ siteUrl: undefined });
    const before = smtp.messages.length;
    const err = await expectCrossauthRejection(
      e.sendEmailVerificationToken(u.alice.id),
      ErrorCode.Configuration,
    );
    expect(err.message).toBe("siteUrl is required to send email tokens");
    await expectCrossauthRejection(e.sendPasswordResetToken(u.dave.id), ErrorCode.Configuration);
    expect(smtp.messages.length).toBe(before);
    expect(await keys.getAllForUser(u.alice.id)).toEqual([]);
    expect(await keys.getAllForUser(u.dave.id)).toEqual([]);
  });

  it("maps an unreachable SMTP server to Connection and deletes the unsent token", async () => {
    const e = emailer({ smtpPort: await closedPort() });
    await expectCrossauthRejection(e.sendEmailVerificationToken(u.alice.id), ErrorCode.Connection);
    await expectCrossauthRejection(e.sendPasswordResetToken(u.dave.id), ErrorCode.Connection);
    expect(await keys.getAllForUser(u.alice.id)).toEqual([]);
    expect(await keys.getAllForUser(u.dave.id)).toEqual([]);
  });

  it("maps an address the server rejects to InvalidEmail", async () => {
    const e = emailer();
    await expectCrossauthRejection(
      e.sendEmailVerificationToken(u.alice.id, "nobody@example.com"),
      ErrorCode.InvalidEmail,
    );
    expect(await keys.getAllForUser(u.alice.id)).toEqual([]);
  });

  it("logs token hashes, never tokens", async () => {
    const e = emailer();
    const token = tokenOf(await received(e.sendPasswordResetToken(u.dave.id)), "resetpassword/");
    await e.consumePasswordResetToken(token);
    await expectCrossauthRejection(e.consumePasswordResetToken(token), ErrorCode.InvalidKey);
    const text = logs.text();
    expect(text).toContain(hash(token));
    expect(text).not.toContain(token);
  });
});
