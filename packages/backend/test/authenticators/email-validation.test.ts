/** EmailAuthenticator's address validation (isEmailValid / validateEmail) and zeroPad. */
import { ErrorCode } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { EmailAuthenticator } from "../../src/index.js";
import { expectCrossauthError } from "../helpers/expect-crossauth-error.js";

describe("EmailAuthenticator.isEmailValid", () => {
  const valid = [
    "alice@example.com",
    "a.b.c@example.co.uk",
    "user+tag@sub.example.org",
    "o'brien@example.ie",
    "x@a-b.io",
    "1234@example.com",
    "josé@exämple.de",
    "user@xn--bcher-kva.example",
    `${"a".repeat(64)}@example.com`,
    `a@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.${"e".repeat(60)}`,
  ];
  const invalid = [
    "",
    "alice",
    "alice@",
    "@example.com",
    "alice@example",
    "alice@@example.com",
    "alice@bob@example.com",
    "alice smith@example.com",
    "alice@exa mple.com",
    " alice@example.com",
    "alice@example.com ",
    ".alice@example.com",
    "alice.@example.com",
    "al..ice@example.com",
    "alice@-example.com",
    "alice@example-.com",
    "alice@example..com",
    "alice@.example.com",
    "alice@example.com.",
    "alice@example.c",
    "alice@example.123",
    '"alice"@example.com',
    "alice(comment)@example.com",
    "alice@[127.0.0.1]",
    "alice\n@example.com",
    "alice@example.com\r\nBcc: x@example.com",
    `${"a".repeat(65)}@example.com`,
    `a@${"b".repeat(64)}.com`,
    `a@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.${"e".repeat(61)}`,
  ];

  it.each(valid)("accepts %s", (email) => {
    expect(EmailAuthenticator.isEmailValid(email)).toBe(true);
    expect(() => EmailAuthenticator.validateEmail(email)).not.toThrow();
  });

  it.each(invalid)("refuses %j", (email) => {
    expect(EmailAuthenticator.isEmailValid(email)).toBe(false);
    expectCrossauthError(() => EmailAuthenticator.validateEmail(email), ErrorCode.InvalidEmail);
  });

  it("validateEmail refuses a missing address", () => {
    expectCrossauthError(() => EmailAuthenticator.validateEmail(undefined), ErrorCode.InvalidEmail);
    expectCrossauthError(() => EmailAuthenticator.validateEmail(null), ErrorCode.InvalidEmail);
  });
});

describe("EmailAuthenticator.zeroPad", () => {
  it("zeroPad pads to the requested width", () => {
    expect(EmailAuthenticator.zeroPad(42, 6)).toBe("000042");
    expect(EmailAuthenticator.zeroPad(0, 6)).toBe("000000");
    expect(EmailAuthenticator.zeroPad(123456, 6)).toBe("123456");
  });
});
