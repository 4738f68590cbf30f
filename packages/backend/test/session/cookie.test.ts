import {
  makeClearCookieString,
  makeCookieString,
  parseCookieHeader,
  readCookieOptions,
} from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { afterEach, describe, expect, it } from "vitest";
import { expectCrossauthError } from "../helpers/expect-crossauth-error.js";

describe("makeCookieString", () => {
  it("writes every attribute in order", () => {
    expect(
      makeCookieString({
        name: "SESSIONID",
        value: "abc.def",
        options: {
          maxAge: 2592000,
          domain: "example.com",
          path: "/",
          httpOnly: true,
          secure: true,
          sameSite: "lax",
        },
      }),
    ).toBe("SESSIONID=abc.def; Max-Age=2592000; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=Lax");
  });

  it("writes Expires when there is no Max-Age, and each SameSite form", () => {
    const expires = new Date(Date.UTC(2030, 0, 1));
    expect(makeCookieString({ name: "a", value: "b", options: { expires, sameSite: "strict" } })).toBe(
      "a=b; Expires=Tue, 01 Jan 2030 00:00:00 GMT; SameSite=Strict",
    );
    expect(makeCookieString({ name: "a", value: "b", options: { sameSite: true } })).toBe(
      "a=b; SameSite=Strict",
    );
    expect(makeCookieString({ name: "a", value: "b", options: { sameSite: "none", secure: true } })).toBe(
      "a=b; Secure; SameSite=None",
    );
    expect(makeCookieString({ name: "a", value: "b", options: { sameSite: false } })).toBe("a=b");
  });

  it("refuses names, values and attributes that would break the header", () => {
    for (const cookie of [
      { name: "bad name", value: "x", options: {} },
      { name: "a", value: "x;y", options: {} },
      { name: "a", value: "x y", options: {} },
      { name: "a", value: "x", options: { path: "/;Domain=evil.com" } },
      { name: "a", value: "x", options: { domain: "a\r\nSet-Cookie: b=c" } },
    ]) {
      expectCrossauthError(() => makeCookieString(cookie), ErrorCode.BadRequest);
    }
  });

  it("clears a cookie with an empty value and a 1970 expiry", () => {
    expect(
      makeClearCookieString("SESSIONID", {
        path: "/",
        maxAge: 10,
        httpOnly: true,
        secure: true,
        sameSite: "lax",
      }),
    ).toBe("SESSIONID=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; Secure; SameSite=Lax");
  });
});

describe("parseCookieHeader", () => {
  it("reads pairs, keeps the first of a repeated name and ignores junk", () => {
    const cookies = parseCookieHeader('a=1; b="two"; a=3; junk; =x; c=with=equals');
    expect([...cookies]).toEqual([
      ["a", "1"],
      ["b", "two"],
      ["c", "with=equals"],
    ]);
    expect(parseCookieHeader(undefined).size).toBe(0);
  });
});

describe("readCookieOptions", () => {
  afterEach(() => {
    delete process.env.CROSSAUTH_TEST_COOKIE_SAMESITE;
    delete process.env.CROSSAUTH_TEST_COOKIE_SECURE;
  });

  it("defaults to Path=/, HttpOnly, Secure, SameSite=Lax", () => {
    expect(readCookieOptions({}, "TEST_COOKIE")).toEqual({
      domain: undefined,
      path: "/",
      httpOnly: true,
      secure: true,
      sameSite: "lax",
    });
  });

  it("takes options over environment variables", () => {
    process.env.CROSSAUTH_TEST_COOKIE_SAMESITE = "Strict";
    process.env.CROSSAUTH_TEST_COOKIE_SECURE = "false";
    expect(readCookieOptions({}, "TEST_COOKIE")).toMatchObject({ sameSite: "strict", secure: false });
    expect(readCookieOptions({ sameSite: "none", secure: true }, "TEST_COOKIE")).toMatchObject({
      sameSite: "none",
      secure: true,
    });
  });

  it("refuses an unknown SameSite value", () => {
    expectCrossauthError(
      () => readCookieOptions({ sameSite: "sometimes" as "lax" }, "TEST_COOKIE"),
      ErrorCode.Configuration,
    );
  });
});
