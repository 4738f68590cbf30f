/**
 * Cookies as values plus attributes, and their `Set-Cookie` strings (RFC 6265 §4.1).
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { ParamType, setParameter } from "../config/index.js";

/** `SameSite` attribute values; `true` means `Strict`, `false` omits the attribute. */
export type SameSite = boolean | "lax" | "strict" | "none";

/** Attributes of a cookie, named as in HTTP. */
export interface CookieOptions {
  domain?: string;
  /** Absolute expiry. Ignored when `maxAge` is set (which wins in browsers anyway). */
  expires?: Date;
  httpOnly?: boolean;
  /** Lifetime in seconds; absent for a browser-session cookie. */
  maxAge?: number;
  path?: string;
  sameSite?: SameSite;
  secure?: boolean;
}

/** A cookie: name, value and attributes. */
export interface Cookie {
  name: string;
  value: string;
  options: CookieOptions;
}

const tokenChars = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const valueChars = /^[!#-+\--:<-[\]-~]*$/;
/** Printable ASCII except `;` (RFC 6265 av-octet minus CTLs). */
const attributeChars = /^[ -:<-~]*$/;

function sameSiteAttribute(sameSite: SameSite | undefined): string | undefined {
  if (sameSite === undefined || sameSite === false) return undefined;
  if (sameSite === true || sameSite === "strict") return "Strict";
  return sameSite === "none" ? "None" : "Lax";
}

/**
 * The `Set-Cookie` header value of a cookie.
 * @param cookie - name, value and attributes
 * @returns e.g. `SESSIONID=abc.sig; Max-Age=2592000; Path=/; HttpOnly; Secure; SameSite=Lax`
 * @throws CrossauthError `BadRequest` when the name, value, domain or path has characters a cookie cannot carry
 */
export function makeCookieString(cookie: Cookie): string {
  const { name, value, options } = cookie;
  if (!tokenChars.test(name) || !valueChars.test(value)) {
    throw new CrossauthError(ErrorCode.BadRequest, "Invalid cookie name or value");
  }
  const parts = [`${name}=${value}`];
  if (options.maxAge !== undefined) parts.push(`Max-Age=${Math.floor(options.maxAge)}`);
  else if (options.expires) parts.push(`Expires=${options.expires.toUTCString()}`);
  for (const [attribute, text] of [
    ["Domain", options.domain],
    ["Path", options.path],
  ] as const) {
    if (text === undefined || text === "") continue;
    if (!attributeChars.test(text))
      throw new CrossauthError(ErrorCode.BadRequest, `Invalid cookie ${attribute}`);
    parts.push(`${attribute}=${text}`);
  }
  if (options.httpOnly) parts.push("HttpOnly");
  if (options.secure) parts.push("Secure");
  const sameSite = sameSiteAttribute(options.sameSite);
  if (sameSite) parts.push(`SameSite=${sameSite}`);
  return parts.join("; ");
}

/**
 * The `Set-Cookie` header value that deletes a cookie: empty value, expiry in 1970, same domain and path.
 * @param name - cookie name
 * @param options - the cookie's domain and path (other attributes are kept for consistency)
 */
export function makeClearCookieString(name: string, options: CookieOptions): string {
  const { maxAge: _maxAge, ...rest } = options;
  return makeCookieString({ name, value: "", options: { ...rest, expires: new Date(0) } });
}

/**
 * Parses a `Cookie` request header into name → value (the first occurrence of a name wins).
 * Malformed pairs are ignored.
 * @param header - the header value, e.g. `a=1; b=2`
 */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 1) continue;
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (tokenChars.test(name) && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** Accepts `true`/`false`/`lax`/`strict`/`none` (any case) for a SameSite setting. */
export function normalizeSameSite(value: unknown): SameSite | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  const text = String(value).toLowerCase();
  if (text === "lax" || text === "strict" || text === "none") return text;
  if (text === "true") return true;
  if (text === "false") return false;
  throw new CrossauthError(ErrorCode.Configuration, `Invalid SameSite value ${String(value)}`);
}

/**
 * Reads the shared cookie attributes from options, else from `CROSSAUTH_<envPrefix>_DOMAIN`,
 * `_PATH`, `_HTTPONLY`, `_SECURE`, `_SAMESITE`. Defaults: path `/`, HttpOnly, Secure, SameSite Lax.
 * @param options - the application's options
 * @param envPrefix - e.g. `SESSION_COOKIE` or `CSRF_COOKIE`
 * @throws CrossauthError `Configuration` for badly typed values
 */
export function readCookieOptions(options: CookieOptions, envPrefix: string): CookieOptions {
  const settings: Record<string, unknown> = { path: "/", httpOnly: true, secure: true };
  const opts = options as Record<string, unknown>;
  setParameter("domain", ParamType.String, settings, opts, `${envPrefix}_DOMAIN`);
  setParameter("path", ParamType.String, settings, opts, `${envPrefix}_PATH`);
  setParameter("httpOnly", ParamType.Boolean, settings, opts, `${envPrefix}_HTTPONLY`);
  setParameter("secure", ParamType.Boolean, settings, opts, `${envPrefix}_SECURE`);
  const sameSite = normalizeSameSite(options.sameSite ?? process.env[`CROSSAUTH_${envPrefix}_SAMESITE`]);
  return {
    domain: settings.domain as string | undefined,
    path: settings.path as string,
    httpOnly: settings.httpOnly as boolean,
    secure: settings.secure as boolean,
    sameSite: sameSite ?? "lax",
  };
}
