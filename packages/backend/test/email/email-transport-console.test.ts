/** EmailTransport's `console` mode: messages printed to standard output, nothing sent, nothing secret logged. */
import { ErrorCode } from "@crossauth/common";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EmailTransport } from "../../src/email/index.js";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { LogCapture } from "./smtp-fixture.js";

const message = {
  to: "alice@example.com",
  subject: "Please verify your email",
  text: "Follow http://localhost:3000/verifyemail/TOKEN123 to verify.",
  html: "<p>Follow <a href='http://localhost:3000/verifyemail/TOKEN123'>this link</a></p>",
};

let printed: string[];
let logs: LogCapture;

beforeEach(() => {
  printed = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  logs = new LogCapture();
});
afterEach(() => {
  logs.restore();
  vi.restoreAllMocks();
  delete process.env.CROSSAUTH_EMAIL_TRANSPORT;
});

describe("EmailTransport console mode", () => {
  it("prints From, To, Subject, the message id and the text body, and returns the id", async () => {
    const t = new EmailTransport({ emailTransport: "console", emailFrom: "Site <noreply@example.com>" });
    const id = await t.send(message);
    expect(id).toMatch(/^<.+@.+>$/);
    expect(printed).toEqual([
      [
        "----- email (console transport: not sent) -----",
        "From: Site <noreply@example.com>",
        "To: alice@example.com",
        "Subject: Please verify your email",
        `Message-ID: ${id}`,
        "",
        "Follow http://localhost:3000/verifyemail/TOKEN123 to verify.",
        "----- end of email -----",
        "",
      ].join("\n"),
    ]);
  });

  it("needs neither an SMTP host nor a sender", async () => {
    const t = new EmailTransport({ emailTransport: "console" });
    await t.send(message);
    expect(printed).toHaveLength(1);
    expect(printed[0]).not.toContain("From:");
    expect(printed[0]).toContain("To: alice@example.com\n");
  });

  it("logs the recipient and message id, never the body", async () => {
    const t = new EmailTransport({ emailTransport: "console" });
    const id = await t.send(message);
    const text = logs.text();
    expect(text).toContain("Printed email to the console");
    expect(text).toContain(id);
    expect(text).not.toContain("TOKEN123");
  });

  it("is chosen by CROSSAUTH_EMAIL_TRANSPORT; an option wins over it", async () => {
    process.env.CROSSAUTH_EMAIL_TRANSPORT = "console";
    expect(new EmailTransport().emailTransport).toBe("console");
    expect(new EmailTransport({ emailTransport: "smtp" }).emailTransport).toBe("smtp");
    delete process.env.CROSSAUTH_EMAIL_TRANSPORT;
    expect(new EmailTransport().emailTransport).toBe("smtp");
  });

  it("rejects an unknown transport with Configuration", () => {
    const e = expectCrossauthError(
      () => new EmailTransport({ emailTransport: "carrier-pigeon" as "smtp" }),
      ErrorCode.Configuration,
    );
    expect(e.message).toBe("emailTransport must be smtp or console");
    process.env.CROSSAUTH_EMAIL_TRANSPORT = "pigeon";
    expectCrossauthError(() => new EmailTransport(), ErrorCode.Configuration);
  });

  it("smtp mode still needs an SMTP host and prints nothing", async () => {
    const t = new EmailTransport({ emailFrom: "noreply@example.com" });
    await expectCrossauthRejection(t.send(message), ErrorCode.Configuration);
    expect(printed).toEqual([]);
  });
});
