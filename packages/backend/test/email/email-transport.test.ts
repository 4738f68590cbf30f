/** EmailTransport against a real SMTP listener: delivery, options, and every failure as a CrossauthError. */
import { ErrorCode } from "@crossauth/common";
import nodemailer from "nodemailer";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { EmailTransport } from "../../src/email/index.js";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { closedPort, LogCapture, SmtpFixture } from "./smtp-fixture.js";

const FROM = "Crossauth <noreply@example.com>";
const message = {
  to: "alice@example.com",
  subject: "Hello",
  text: "Secret text body 123456",
  html: "<p>Secret HTML body 123456</p>",
};

let smtp: SmtpFixture;
let logs: LogCapture;

beforeAll(async () => {
  smtp = await SmtpFixture.start({
    rejectRecipient: (address) =>
      address.startsWith("nobody@") ? 550 : address.startsWith("later@") ? 450 : undefined,
  });
});
afterAll(async () => {
  await smtp.close();
});
beforeEach(() => {
  logs = new LogCapture();
});
afterEach(() => {
  logs.restore();
  vi.restoreAllMocks();
});

function transport(extra: Record<string, unknown> = {}): EmailTransport {
  return new EmailTransport({ smtpHost: "127.0.0.1", smtpPort: smtp.port, emailFrom: FROM, ...extra });
}

describe("EmailTransport sending", () => {
  it("delivers from, to, subject, text and HTML and returns the message id", async () => {
    const t = transport();
    const id = await t.send(message);
    const mail = smtp.last();
    expect(mail.envelopeFrom).toBe("noreply@example.com");
    expect(mail.envelopeTo).toEqual(["alice@example.com"]);
    expect(mail.parsed.from?.text).toBe('"Crossauth" <noreply@example.com>');
    expect(mail.parsed.to && !Array.isArray(mail.parsed.to) ? mail.parsed.to.text : "").toBe(
      "alice@example.com",
    );
    expect(mail.parsed.subject).toBe("Hello");
    expect(mail.parsed.text?.trim()).toBe("Secret text body 123456");
    expect(mail.parsed.html).toBe("<p>Secret HTML body 123456</p>");
    expect(mail.parsed.messageId).toBe(id);
    t.close();
  });

  it("creates the nodemailer transport once and reuses it", async () => {
    const spy = vi.spyOn(nodemailer, "createTransport");
    const t = transport();
    const before = smtp.messages.length;
    await t.send(message);
    await t.send({ ...message, to: "bob@example.com" });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(smtp.messages.length).toBe(before + 2);
    expect(smtp.last().envelopeTo).toEqual(["bob@example.com"]);
    t.close();
  });

  it("logs the recipient and message id, never the bodies", async () => {
    const t = transport();
    const id = await t.send(message);
    const text = logs.text();
    expect(text).toContain("alice@example.com");
    expect(text).toContain(id);
    expect(text).not.toContain("123456");
    expect(text).not.toContain("Secret");
    t.close();
  });
});

describe("EmailTransport options", () => {
  const envNames = ["SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_USE_TLS", "EMAIL_FROM"];
  afterEach(() => {
    for (const name of envNames) delete process.env[`CROSSAUTH_${name}`];
  });

  it("has the documented defaults", () => {
    const t = new EmailTransport();
    expect(t.smtpHost).toBeUndefined();
    expect(t.smtpPort).toBe(25);
    expect(t.smtpUsername).toBeUndefined();
    expect(t.smtpUseTls).toBe(false);
    expect(t.emailFrom).toBeUndefined();
  });

  it("reads CROSSAUTH_* variables, and options win over them", async () => {
    process.env.CROSSAUTH_SMTP_HOST = "127.0.0.1";
    process.env.CROSSAUTH_SMTP_PORT = String(smtp.port);
    process.env.CROSSAUTH_EMAIL_FROM = "env@example.com";
    process.env.CROSSAUTH_SMTP_USE_TLS = "false";
    const t = new EmailTransport();
    expect(t.smtpPort).toBe(smtp.port);
    await t.send(message);
    expect(smtp.last().envelopeFrom).toBe("env@example.com");
    t.close();
    expect(new EmailTransport({ emailFrom: "option@example.com" }).emailFrom).toBe("option@example.com");
  });

  it("keeps the SMTP password out of the object's enumerable fields", () => {
    const t = new EmailTransport({ smtpUsername: "u", smtpPassword: "hunter2-password" });
    expect(JSON.stringify(t)).not.toContain("hunter2-password");
    expect(Object.values(t)).not.toContain("hunter2-password");
  });

  it("refuses to send without a host or a sender", async () => {
    const noHost = new EmailTransport({ emailFrom: FROM });
    const e1 = await expectCrossauthRejection(noHost.send(message), ErrorCode.Configuration);
    expect(e1.message).toBe("smtpHost is required to send email");
    const noFrom = new EmailTransport({ smtpHost: "127.0.0.1", smtpPort: smtp.port });
    const e2 = await expectCrossauthRejection(noFrom.send(message), ErrorCode.Configuration);
    expect(e2.message).toBe("emailFrom is required to send email");
  });

  it("rejects a port out of range and options of the wrong type", () => {
    expectCrossauthError(() => new EmailTransport({ smtpPort: 70000 }), ErrorCode.Configuration);
    expectCrossauthError(() => new EmailTransport({ smtpPort: 0 }), ErrorCode.Configuration);
    expectCrossauthError(
      () => new EmailTransport({ smtpUseTls: "yes" as unknown as boolean }),
      ErrorCode.Configuration,
    );
    process.env.CROSSAUTH_SMTP_PORT = "twenty-five";
    expectCrossauthError(() => new EmailTransport(), ErrorCode.Configuration);
  });
});

describe("EmailTransport failures", () => {
  it("maps an unreachable server to Connection, with no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const port = await closedPort();
      const t = transport({ smtpPort: port });
      const e = await expectCrossauthRejection(t.send(message), ErrorCode.Connection);
      expect(e.message).toBe(`Cannot reach the SMTP server at 127.0.0.1:${port}`);
      // Let Node report any rejection left unhandled by the failed send (it does so between turns).
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(logs.text()).toContain('"smtpOriginalCode":"ECONNREFUSED"');
      t.close();
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("maps a permanently rejected recipient (550) to InvalidEmail", async () => {
    const t = transport();
    const before = smtp.messages.length;
    const e = await expectCrossauthRejection(
      t.send({ ...message, to: "nobody@example.com" }),
      ErrorCode.InvalidEmail,
    );
    expect(e.message).toBe("The mail server rejected the email address");
    expect(smtp.messages.length).toBe(before);
    t.close();
  });

  it("maps a temporarily rejected recipient (450) to Connection", async () => {
    const t = transport();
    const e = await expectCrossauthRejection(
      t.send({ ...message, to: "later@example.com" }),
      ErrorCode.Connection,
    );
    expect(e.message).toBe(`The SMTP server at 127.0.0.1:${smtp.port} did not accept the message`);
    t.close();
  });

  describe("with an SMTP server requiring authentication", () => {
    let authSmtp: SmtpFixture;
    beforeAll(async () => {
      authSmtp = await SmtpFixture.start({ credentials: { username: "mailer", password: "right-password" } });
    });
    afterAll(async () => {
      await authSmtp.close();
    });

    it("authenticates with smtpUsername and smtpPassword", async () => {
      const t = transport({
        smtpPort: authSmtp.port,
        smtpUsername: "mailer",
        smtpPassword: "right-password",
      });
      await t.send(message);
      expect(authSmtp.last().parsed.subject).toBe("Hello");
      expect(logs.text()).not.toContain("right-password");
      t.close();
    });

    it("maps refused credentials to Configuration and never logs the password", async () => {
      const t = transport({
        smtpPort: authSmtp.port,
        smtpUsername: "mailer",
        smtpPassword: "wrong-password",
      });
      const e = await expectCrossauthRejection(t.send(message), ErrorCode.Configuration);
      expect(e.message).toBe(`The SMTP server at 127.0.0.1:${authSmtp.port} refused the credentials`);
      expect(e.message).not.toContain("wrong-password");
      expect(logs.text()).not.toContain("wrong-password");
      expect(logs.text()).toContain('"smtpErrorCode":"EAUTH"');
      t.close();
    });
  });
});
