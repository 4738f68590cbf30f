/** EmailAuthenticator: codes delivered to a real SMTP listener, login with them, expiry and failures. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, type Key, type User } from "@crossauth/common";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EmailAuthenticator, type EmailAuthenticatorOptions, KeyStorage } from "../../src/index.js";
import { closedPort, LogCapture, type ReceivedMail, SmtpFixture } from "../email/smtp-fixture.js";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const FROM = "Crossauth <noreply@example.com>";
const T0 = Date.UTC(2030, 0, 1);

let smtp: SmtpFixture;
let logs: LogCapture;
let clock: number;
const authenticators: EmailAuthenticator[] = [];

beforeAll(async () => {
  smtp = await SmtpFixture.start({ rejectRecipient: (a) => (a.startsWith("nobody@") ? 550 : undefined) });
});
afterAll(async () => {
  await smtp.close();
});
beforeEach(() => {
  clock = T0;
  logs = new LogCapture();
});
afterEach(() => {
  logs.restore();
  for (const a of authenticators.splice(0)) a.transport.close();
  delete process.env.CROSSAUTH_EMAIL_AUTHENTICATOR_TOKEN_EXPIRES;
  delete process.env.CROSSAUTH_EMAIL_AUTHENTICATOR_SUBJECT;
});

function authenticator(options: EmailAuthenticatorOptions = {}): EmailAuthenticator {
  const a = new EmailAuthenticator({
    smtpHost: "127.0.0.1",
    smtpPort: smtp.port,
    emailFrom: FROM,
    now: () => clock,
    ...options,
  });
  authenticators.push(a);
  return a;
}

function user(fields: Partial<User> = {}): User {
  return {
    id: 1,
    username: "alice",
    email: "alice@example.com",
    state: "active",
    factor1: "localpassword",
    ...fields,
  };
}

/** The 6-digit code in a message's text part. */
function codeIn(mail: ReceivedMail): string {
  const match = /Your login code is: (\d{6})/.exec(mail.parsed.text ?? "");
  if (!match?.[1]) throw new Error("No code in the message");
  return match[1];
}

function recipient(mail: ReceivedMail): string {
  const to = mail.parsed.to;
  return to && !Array.isArray(to) ? to.text : "";
}

describe("EmailAuthenticator sending and logging in", () => {
  it("emails a 6-digit code that logs the user in", async () => {
    const a = authenticator();
    const before = smtp.messages.length;
    const secrets = await a.createOneTimeSecrets(user());
    expect(smtp.messages.length).toBe(before + 1);
    const mail = smtp.last();
    expect(mail.parsed.from?.text).toBe('"Crossauth" <noreply@example.com>');
    expect(recipient(mail)).toBe("alice@example.com");
    expect(mail.parsed.subject).toBe("Login code");
    const code = codeIn(mail);
    expect(code).toMatch(/^[0-9]{6}$/);
    expect(secrets).toEqual({ otp: code, expiry: T0 + 300_000 });
    expect(mail.parsed.text).toContain("Hello alice,");
    expect(mail.parsed.text).toContain("It is valid for 5 minutes.");
    expect(mail.parsed.html).toContain(`<strong>${code}</strong>`);
    expect(mail.parsed.html).toContain("It is valid for 5 minutes.");
    await expect(a.authenticateUser(user(), secrets, { otp: code })).resolves.toBeUndefined();
  });

  it("sends to the username when the user has no email", async () => {
    const a = authenticator();
    await a.createOneTimeSecrets(user({ username: "bob@example.com", email: undefined }));
    expect(recipient(smtp.last())).toBe("bob@example.com");
    await a.createOneTimeSecrets(user({ username: "carol@example.com", email: "" }));
    expect(recipient(smtp.last())).toBe("carol@example.com");
  });

  it("refuses an invalid address with InvalidEmail before sending anything", async () => {
    const a = authenticator();
    const before = smtp.messages.length;
    await expectCrossauthRejection(
      a.createOneTimeSecrets(user({ email: "not an email" })),
      ErrorCode.InvalidEmail,
    );
    await expectCrossauthRejection(
      a.createOneTimeSecrets(user({ email: undefined })),
      ErrorCode.InvalidEmail,
    );
    expect(smtp.messages.length).toBe(before);
  });

  it("refuses a wrong or missing code with InvalidToken", async () => {
    const a = authenticator();
    const secrets = await a.createOneTimeSecrets(user());
    const code = codeIn(smtp.last());
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    await expectCrossauthRejection(
      a.authenticateUser(user(), secrets, { otp: wrong }),
      ErrorCode.InvalidToken,
    );
    await expectCrossauthRejection(
      a.authenticateUser(user(), secrets, { otp: `${code}0` }),
      ErrorCode.InvalidToken,
    );
    await expectCrossauthRejection(a.authenticateUser(user(), secrets, {}), ErrorCode.InvalidToken);
    await expectCrossauthRejection(a.authenticateUser(user(), {}, { otp: code }), ErrorCode.InvalidToken);
  });

  it("accepts the code until its expiry and refuses it with Expired after", async () => {
    const a = authenticator();
    const secrets = await a.createOneTimeSecrets(user());
    const code = codeIn(smtp.last());
    clock = T0 + 300_000;
    await expect(a.authenticateUser(user(), secrets, { otp: code })).resolves.toBeUndefined();
    clock = T0 + 300_001;
    await expectCrossauthRejection(a.authenticateUser(user(), secrets, { otp: code }), ErrorCode.Expired);
  });

  it("uses emailAuthenticatorTokenExpires and emailAuthenticatorSubject", async () => {
    const a = authenticator({ emailAuthenticatorTokenExpires: 600, emailAuthenticatorSubject: "Your code" });
    const secrets = await a.createOneTimeSecrets(user());
    expect(secrets.expiry).toBe(T0 + 600_000);
    expect(smtp.last().parsed.subject).toBe("Your code");
    expect(smtp.last().parsed.text).toContain("It is valid for 10 minutes.");
  });

  it("never logs the code", async () => {
    const a = authenticator();
    const secrets = await a.createOneTimeSecrets(user());
    await expectCrossauthRejection(a.authenticateUser(user(), secrets, { otp: "x" }), ErrorCode.InvalidToken);
    expect(logs.text()).toContain("alice@example.com");
    expect(logs.text()).not.toContain(String(secrets.otp));
  });
});

describe("EmailAuthenticator configuration flow", () => {
  it("prepareConfiguration emails a code and returns user and session data", async () => {
    const a = authenticator();
    const result = await a.prepareConfiguration(user());
    const code = codeIn(smtp.last());
    expect(result).toEqual({
      userData: { username: "alice", email: "alice@example.com", factor2: "email" },
      sessionData: {
        username: "alice",
        email: "alice@example.com",
        factor2: "email",
        otp: code,
        expiry: T0 + 300_000,
      },
    });
    await a.authenticateUser(user(), result.sessionData, { otp: code });
  });

  it("prepareConfiguration uses the registered factor name", async () => {
    const a = authenticator();
    a.factorName = "mail";
    const result = await a.prepareConfiguration(user());
    expect(result.userData.factor2).toBe("mail");
  });

  it("reprepareConfiguration emails a new code from the 2fa session data", async () => {
    const a = authenticator();
    const first = await a.prepareConfiguration(user());
    const sessionKey: Key = {
      value: "s:abc",
      created: new Date(T0),
      expires: null,
      data: KeyStorage.encodeData({ "2fa": first.sessionData, other: 1 }),
    };
    clock = T0 + 60_000;
    const before = smtp.messages.length;
    const result = await a.reprepareConfiguration("alice", sessionKey);
    expect(smtp.messages.length).toBe(before + 1);
    const code = codeIn(smtp.last());
    expect(recipient(smtp.last())).toBe("alice@example.com");
    expect(result).toEqual({
      userData: { username: "alice", email: "alice@example.com", factor2: "email" },
      secrets: { otp: code, expiry: T0 + 360_000 },
      newSessionData: {
        username: "alice",
        email: "alice@example.com",
        factor2: "email",
        otp: code,
        expiry: T0 + 360_000,
      },
    });
    await a.authenticateUser(user(), result?.secrets ?? {}, { otp: code });
  });

  it("reprepareConfiguration returns undefined without 2fa data and refuses a bad address", async () => {
    const a = authenticator();
    const key = (data: Record<string, unknown>): Key => ({
      value: "s:abc",
      created: new Date(T0),
      expires: null,
      data: KeyStorage.encodeData(data),
    });
    expect(await a.reprepareConfiguration("alice", key({}))).toBeUndefined();
    await expectCrossauthRejection(
      a.reprepareConfiguration("alice", key({ "2fa": { username: "alice", factor2: "email" } })),
      ErrorCode.InvalidEmail,
    );
  });
});

describe("EmailAuthenticator templates", () => {
  let views: string;
  beforeAll(() => {
    views = mkdtempSync(join(tmpdir(), "crossauth-email-views-"));
    mkdirSync(join(views, "email"));
    writeFileSync(
      join(views, "email", "emailauthenticationtextbody.njk"),
      "Code for {{ username }}: {{ otp }}",
    );
    writeFileSync(join(views, "custom.html.njk"), "<p>{{ otp }} / {{ expiryMinutes }}</p>");
  });
  afterAll(() => {
    rmSync(views, { recursive: true, force: true });
  });

  it("escapes user data in the HTML body but not in the text body", async () => {
    const a = authenticator();
    await a.createOneTimeSecrets(user({ username: "<script>alert(1)</script>" }));
    const mail = smtp.last();
    expect(mail.parsed.html).toContain("Hello &lt;script&gt;alert(1)&lt;/script&gt;,");
    expect(mail.parsed.html).not.toContain("<script>");
    expect(mail.parsed.text).toContain("Hello <script>alert(1)</script>,");
  });

  it("uses a custom views directory and custom template names", async () => {
    const a = authenticator({ views, emailAuthenticatorHtmlBody: "custom.html.njk" });
    const secrets = await a.createOneTimeSecrets(user());
    const mail = smtp.last();
    expect(mail.parsed.text?.trim()).toBe(`Code for alice: ${secrets.otp}`);
    expect(mail.parsed.html).toBe(`<p>${secrets.otp} / 5</p>`);
  });

  it("uses a custom render function instead of Nunjucks", async () => {
    const seen: string[] = [];
    const a = authenticator({
      render: (template, data) => {
        seen.push(template);
        return template.includes("html") ? `<b>${String(data.otp)}</b>` : `code=${String(data.otp)}`;
      },
    });
    const secrets = await a.createOneTimeSecrets(user());
    const mail = smtp.last();
    expect(seen.sort()).toEqual([
      "email/emailauthenticationhtmlbody.njk",
      "email/emailauthenticationtextbody.njk",
    ]);
    expect(mail.parsed.text?.trim()).toBe(`code=${secrets.otp}`);
    expect(mail.parsed.html).toBe(`<b>${secrets.otp}</b>`);
  });
});

describe("EmailAuthenticator SMTP failures", () => {
  it("maps an unreachable SMTP server to Connection without unhandled rejections", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const a = authenticator({ smtpPort: await closedPort() });
      await expectCrossauthRejection(a.createOneTimeSecrets(user()), ErrorCode.Connection);
      await expectCrossauthRejection(a.prepareConfiguration(user()), ErrorCode.Connection);
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("maps a recipient the server rejects (550) to InvalidEmail", async () => {
    const a = authenticator();
    const e = await expectCrossauthRejection(
      a.createOneTimeSecrets(user({ email: "nobody@example.com" })),
      ErrorCode.InvalidEmail,
    );
    expect(e.message).toBe("The mail server rejected the email address");
  });
});

describe("EmailAuthenticator options and capabilities", () => {
  it("has the documented defaults and capabilities", () => {
    const a = new EmailAuthenticator();
    expect(a.factorName).toBe("email");
    expect(a.friendlyName).toBe("Email");
    expect(a.emailAuthenticatorSubject).toBe("Login code");
    expect(a.emailAuthenticatorTokenExpires).toBe(300);
    expect(a.emailAuthenticatorTextBody).toBe("email/emailauthenticationtextbody.njk");
    expect(a.emailAuthenticatorHtmlBody).toBe("email/emailauthenticationhtmlbody.njk");
    expect(a.capabilities()).toEqual({ canCreateUser: true, canUpdateSecrets: false, canUpdateUser: true });
    expect(a.secretNames()).toEqual([]);
    expect(a.transientSecretNames()).toEqual(["otp"]);
    expect(a.validateSecrets({ otp: "1" })).toEqual([]);
    expect(a.skipEmailVerificationOnSignup()).toBe(true);
    expect(a.mfaType()).toBe("oob");
    expect(a.mfaChannel()).toBe("email");
    expect(a.requireUserEntry()).toBe(true);
  });

  it("creates no persistent secrets", async () => {
    expect(await new EmailAuthenticator().createPersistentSecrets("alice", { otp: "1" })).toEqual({});
  });

  it("reads CROSSAUTH_EMAIL_AUTHENTICATOR_* variables", () => {
    process.env.CROSSAUTH_EMAIL_AUTHENTICATOR_TOKEN_EXPIRES = "120";
    process.env.CROSSAUTH_EMAIL_AUTHENTICATOR_SUBJECT = "Code";
    const a = new EmailAuthenticator();
    expect(a.emailAuthenticatorTokenExpires).toBe(120);
    expect(a.emailAuthenticatorSubject).toBe("Code");
  });

  it("refuses a non-positive or non-integer expiry", () => {
    expectCrossauthError(
      () => new EmailAuthenticator({ emailAuthenticatorTokenExpires: 0 }),
      ErrorCode.Configuration,
    );
    expectCrossauthError(
      () => new EmailAuthenticator({ emailAuthenticatorTokenExpires: 1.5 }),
      ErrorCode.Configuration,
    );
  });
});
