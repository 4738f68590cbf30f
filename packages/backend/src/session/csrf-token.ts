/**
 * `DoubleSubmitCsrfToken`: signed double-submit CSRF protection (wire-formats.md, "CSRF").
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { ParamType, setParameter } from "../config/index.js";
import { base64urlToBytes, randomValue, signSecureToken, unsignSecureToken, xor } from "../crypto/index.js";
import { type Cookie, type CookieOptions, makeCookieString, readCookieOptions } from "./cookie.js";

/**
 * Options of {@link DoubleSubmitCsrfToken}: the cookie attributes (default path `/`, HttpOnly, Secure,
 * SameSite Lax; env `CROSSAUTH_CSRF_COOKIE_*`) plus these.
 */
export interface DoubleSubmitCsrfTokenOptions extends Omit<CookieOptions, "maxAge" | "expires"> {
  /** Cookie name; default `CSRFTOKEN`. */
  cookieName?: string;
  /** Request header carrying the masked token; default `X-CROSSAUTH-CSRF`. */
  headerName?: string;
  /** HMAC secret signing the cookie (required). */
  secret?: string;
}

const invalid = (message: string) => new CrossauthError(ErrorCode.InvalidCsrf, message);

/**
 * Signed double-submit CSRF tokens. The cookie holds `signSecureToken(T)`; each form or header
 * carries `M.xor(T, M)` with a fresh mask M, so the submitted value changes on every page (BREACH).
 */
export class DoubleSubmitCsrfToken {
  readonly cookieName: string = "CSRFTOKEN";
  readonly headerName: string = "X-CROSSAUTH-CSRF";
  /** Attributes of the CSRF cookie (a browser-session cookie: no Max-Age). */
  readonly cookieOptions: CookieOptions;
  private readonly secret: string = "";

  /**
   * @param options - see {@link DoubleSubmitCsrfTokenOptions}
   * @throws CrossauthError `Configuration` when no secret is given (option or `CROSSAUTH_SECRET`)
   */
  constructor(options: DoubleSubmitCsrfTokenOptions = {}) {
    const opts = options as Record<string, unknown>;
    setParameter("cookieName", ParamType.String, this, opts, "CSRF_COOKIE_NAME");
    setParameter("headerName", ParamType.String, this, opts, "CSRF_HEADER_NAME");
    this.cookieOptions = readCookieOptions(options, "CSRF_COOKIE");
    setParameter("secret", ParamType.String, this, opts, "SECRET", true);
  }

  /** A new random token T (`randomValue(16)`); never sent as is. */
  createCsrfToken(): string {
    return randomValue(16);
  }

  /**
   * The CSRF cookie for a token: value `signSecureToken(T)`, a browser-session cookie.
   * @param token - T from {@link DoubleSubmitCsrfToken.createCsrfToken}
   */
  makeCsrfCookie(token: string): Cookie {
    return {
      name: this.cookieName,
      value: signSecureToken(token, this.secret),
      options: { ...this.cookieOptions },
    };
  }

  /** The `Set-Cookie` value for a CSRF cookie value (as returned in {@link makeCsrfCookie}). */
  makeCsrfCookieString(cookieValue: string): string {
    return makeCookieString({
      name: this.cookieName,
      value: cookieValue,
      options: { ...this.cookieOptions },
    });
  }

  /**
   * The value to put in a form field or header: a freshly masked T.
   * @param token - T
   */
  makeCsrfFormOrHeaderToken(token: string): string {
    return this.maskCsrfToken(token);
  }

  /**
   * Masks T with a fresh random M: `M.xor(T, M)`.
   * @param token - T
   */
  maskCsrfToken(token: string): string {
    const mask = randomValue(base64urlToBytes(token, ErrorCode.InvalidCsrf).length);
    return `${mask}.${xor(token, mask)}`;
  }

  /**
   * Recovers T from `M.xor(T, M)`.
   * @throws CrossauthError `InvalidCsrf` when malformed
   */
  unmaskCsrfToken(maskAndToken: string): string {
    const parts = typeof maskAndToken === "string" ? maskAndToken.split(".") : [];
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "") throw invalid("CSRF token is malformed");
    try {
      return xor(parts[1] as string, parts[0] as string);
    } catch {
      throw invalid("CSRF token is malformed");
    }
  }

  /**
   * Checks the CSRF cookie's signature and returns T.
   * @param cookieValue - the `CSRFTOKEN` cookie value
   * @throws CrossauthError `InvalidCsrf` when the signature does not verify
   */
  validateCsrfCookie(cookieValue: string): string {
    try {
      return unsignSecureToken(cookieValue, this.secret);
    } catch {
      throw invalid("CSRF cookie is invalid");
    }
  }

  /**
   * Checks a request: the cookie's signature verifies and the unmasked form/header value equals
   * its T (compared in constant time).
   * @param cookieValue - the `CSRFTOKEN` cookie value
   * @param formOrHeaderValue - the `csrfToken` field or `X-CROSSAUTH-CSRF` header value
   * @throws CrossauthError `InvalidCsrf` on any failure
   */
  validateDoubleSubmitCsrfToken(
    cookieValue: string | undefined,
    formOrHeaderValue: string | undefined,
  ): void {
    if (!cookieValue || !formOrHeaderValue) throw invalid("CSRF token missing");
    const expected = base64urlToBytes(this.validateCsrfCookie(cookieValue), ErrorCode.InvalidCsrf);
    const given = base64urlToBytes(this.unmaskCsrfToken(formOrHeaderValue), ErrorCode.InvalidCsrf);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw invalid("CSRF token does not match the cookie");
    }
  }
}
