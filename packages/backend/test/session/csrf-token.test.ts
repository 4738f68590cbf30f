import { DoubleSubmitCsrfToken, xor } from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { expectCrossauthError } from "../helpers/expect-crossauth-error.js";

const secret = "ABCDEFGHIJKLMNOPQRSTUVWX";
const T = Buffer.alloc(16, 1).toString("base64url");
const M = Buffer.alloc(16, 2).toString("base64url");

describe("DoubleSubmitCsrfToken", () => {
  const csrf = new DoubleSubmitCsrfToken({ secret });

  it("makes the cookie of wire-formats.md and accepts its form value", () => {
    const cookie = csrf.makeCsrfCookie(T);
    expect(cookie.name).toBe("CSRFTOKEN");
    expect(cookie.value).toBe("AQEBAQEBAQEBAQEBAQEBAQ.dzyS0wrEh1GwkvWZU81x9SlkzTnrQ_N2LVdK1Dt0MZU");
    expect(`${M}.${xor(T, M)}`).toBe("AgICAgICAgICAgICAgICAg.AwMDAwMDAwMDAwMDAwMDAw");
    csrf.validateDoubleSubmitCsrfToken(cookie.value, "AgICAgICAgICAgICAgICAg.AwMDAwMDAwMDAwMDAwMDAw");
    expect(csrf.validateCsrfCookie(cookie.value)).toBe(T);
  });

  it("is a browser-session cookie with HttpOnly, Secure, SameSite=Lax", () => {
    expect(csrf.makeCsrfCookieString("v.s")).toBe("CSRFTOKEN=v.s; Path=/; HttpOnly; Secure; SameSite=Lax");
  });

  it("masks with a fresh random mask each time, and every mask unmasks to T", () => {
    const token = csrf.createCsrfToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const masked = new Set(Array.from({ length: 20 }, () => csrf.makeCsrfFormOrHeaderToken(token)));
    expect(masked.size).toBe(20);
    const cookie = csrf.makeCsrfCookie(token).value;
    for (const value of masked) {
      expect(csrf.unmaskCsrfToken(value)).toBe(token);
      csrf.validateDoubleSubmitCsrfToken(cookie, value);
    }
  });

  it("rejects every kind of mismatch with InvalidCsrf", () => {
    const token = csrf.createCsrfToken();
    const cookie = csrf.makeCsrfCookie(token).value;
    const other = csrf.makeCsrfFormOrHeaderToken(csrf.createCsrfToken());
    const good = csrf.makeCsrfFormOrHeaderToken(token);
    const foreignCookie = new DoubleSubmitCsrfToken({ secret: "another secret" }).makeCsrfCookie(token).value;
    const tamperedCookie = `${cookie.slice(0, -1)}${cookie.endsWith("A") ? "B" : "A"}`;
    for (const [c, v] of [
      [cookie, other],
      [cookie, undefined],
      [undefined, good],
      [cookie, "garbage"],
      [cookie, "a.b.c"],
      [cookie, `${good}x`],
      [cookie, token],
      [foreignCookie, good],
      [tamperedCookie, good],
      ["", good],
    ] as const) {
      expectCrossauthError(() => csrf.validateDoubleSubmitCsrfToken(c, v), ErrorCode.InvalidCsrf);
    }
  });

  it("needs a secret", () => {
    const saved = process.env.CROSSAUTH_SECRET;
    delete process.env.CROSSAUTH_SECRET;
    try {
      expectCrossauthError(() => new DoubleSubmitCsrfToken({}), ErrorCode.Configuration);
    } finally {
      if (saved !== undefined) process.env.CROSSAUTH_SECRET = saved;
    }
  });

  it("takes its names from options", () => {
    const custom = new DoubleSubmitCsrfToken({
      secret,
      cookieName: "XSRF",
      headerName: "X-XSRF",
      secure: false,
    });
    expect(custom.cookieName).toBe("XSRF");
    expect(custom.headerName).toBe("X-XSRF");
    expect(custom.makeCsrfCookieString("a.b")).toBe("XSRF=a.b; Path=/; HttpOnly; SameSite=Lax");
  });
});
