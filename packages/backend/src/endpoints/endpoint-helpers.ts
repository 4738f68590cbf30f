/**
 * Small helpers every handler uses: the JSON success and error shapes, pages with their common data,
 * safe redirects, and typed reads of untrusted body fields.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import type { Cookie } from "../session/cookie.js";
import type { SessionTokens } from "../session/flows/context.js";
import type { EndpointRequest, EndpointResult, EndpointServices } from "./endpoint.js";

/** Longest text accepted in a form or JSON field (longer values are refused, never truncated). */
export const MAX_FIELD_LENGTH = 1024;

/**
 * A JSON success: `{ok: true, ...data}`.
 * @param data - fields to add
 * @param setCookies - cookies to set
 */
export function apiOk(data: Record<string, unknown> = {}, setCookies?: Cookie[]): EndpointResult {
  return { status: 200, json: { ok: true, ...data }, ...(setCookies?.length ? { setCookies } : {}) };
}

/**
 * The JSON error shape of http-contract.md, with the error's HTTP status. Anything thrown becomes a
 * CrossauthError first (unknown errors are `UnknownError` 500 with a generic message).
 * @param error - what was thrown
 */
export function apiError(error: unknown, setCookies?: Cookie[]): EndpointResult {
  const e = error instanceof CrossauthError ? error : new CrossauthError(ErrorCode.UnknownError);
  return { status: e.httpStatus, json: e.toJSON(), ...(setCookies?.length ? { setCookies } : {}) };
}

/**
 * A page with the data every template gets: `title` (from the messages, by `titleKey`), `siteName`,
 * `user`, `csrfToken`, `prefix`, `adminPrefix`.
 * @param template - template name under `pages/`
 * @param titleKey - message key of the page title, e.g. `loginTitle`
 */
export function page(
  request: EndpointRequest,
  services: EndpointServices,
  template: string,
  titleKey: string,
  data: Record<string, unknown> = {},
  status = 200,
  setCookies?: Cookie[],
): EndpointResult {
  const messages = services.pages.messages as Record<string, string>;
  return {
    status,
    page: {
      template,
      data: {
        title: messages[titleKey] ?? titleKey,
        siteName: services.options.siteName,
        user: request.user,
        csrfToken: request.csrfToken,
        prefix: services.options.prefix,
        adminPrefix: services.options.adminPrefix,
        ...data,
      },
    },
    ...(setCookies?.length ? { setCookies } : {}),
  };
}

/**
 * The page again with the error's messages and HTTP status (form values in `data` are kept).
 * @param error - what was thrown
 */
export function pageError(
  request: EndpointRequest,
  services: EndpointServices,
  template: string,
  titleKey: string,
  error: unknown,
  data: Record<string, unknown> = {},
  setCookies?: Cookie[],
): EndpointResult {
  const e = error instanceof CrossauthError ? error : new CrossauthError(ErrorCode.UnknownError);
  return page(
    request,
    services,
    template,
    titleKey,
    { ...data, errorMessages: e.messages, errorCode: e.code, errorCodeName: e.codeName },
    e.httpStatus,
    setCookies,
  );
}

/**
 * Whether `next` is a safe place to send a browser: a relative path on this site only — starts with
 * one `/`, not `//` or `/\`, no scheme, no control characters or backslashes.
 * @param next - the untrusted value
 */
export function isSafeNext(next: unknown): next is string {
  if (typeof next !== "string" || next.length === 0 || next.length > MAX_FIELD_LENGTH) return false;
  if (!next.startsWith("/") || next.startsWith("//")) return false;
  for (const char of next) {
    const code = char.charCodeAt(0);
    if (char === "\\" || code < 0x20 || code === 0x7f) return false;
  }
  try {
    const base = "http://crossauth.invalid";
    return new URL(next, base).origin === base;
  } catch {
    return false;
  }
}

/**
 * A 303 redirect to `next` when it is safe, else to `fallback`.
 * @param next - untrusted `next` value (body or query)
 * @param fallback - configured destination
 * @param setCookies - cookies to set with the redirect
 */
export function redirectTo(next: unknown, fallback: string, setCookies?: Cookie[]): EndpointResult {
  return {
    status: 303,
    redirect: isSafeNext(next) ? next : fallback,
    ...(setCookies?.length ? { setCookies } : {}),
  };
}

/** The login page URL with `next` set to the current URL, for pages that need a user. */
export function loginUrl(request: EndpointRequest, services: EndpointServices): string {
  return `${services.options.prefix}login?next=${encodeURIComponent(request.url)}`;
}

/**
 * A string field of an untrusted body.
 * @param body - parsed body
 * @param name - field name
 * @param required - when true, absence or an empty value is an error
 * @returns the value, or undefined when absent and not required
 * @throws CrossauthError `FormEntry` for a missing required field, a non-string or an oversized value
 */
export function stringField(body: Record<string, unknown>, name: string, required: true): string;
export function stringField(
  body: Record<string, unknown>,
  name: string,
  required?: boolean,
): string | undefined;
export function stringField(
  body: Record<string, unknown>,
  name: string,
  required = false,
): string | undefined {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined || value === null || value === "") {
    if (required) throw new CrossauthError(ErrorCode.FormEntry, `${name} is required`);
    return undefined;
  }
  if (typeof value !== "string") throw new CrossauthError(ErrorCode.FormEntry, `${name} must be text`);
  if (value.length > MAX_FIELD_LENGTH) throw new CrossauthError(ErrorCode.FormEntry, `${name} is too long`);
  return value;
}

/**
 * A boolean field of an untrusted body: true for `true`, `"true"`, `"on"`, `"1"`; false otherwise.
 * @param body - parsed body
 * @param name - field name
 */
export function booleanField(body: Record<string, unknown>, name: string): boolean {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  return value === true || value === "true" || value === "on" || value === "1";
}

/**
 * The `user_<field>` fields of a body, for the given allowed field names.
 * @param body - parsed body
 * @param allowed - field names the caller may set (e.g. the user storage's editable fields)
 * @throws CrossauthError `FormEntry` for non-string or oversized values
 */
export function userFields(
  body: Record<string, unknown>,
  allowed: readonly string[],
): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const field of allowed) {
    const value = stringField(body, `user_${field}`);
    if (value !== undefined) fields[field] = value;
  }
  return fields;
}

/** The cookies a flow's session tokens ask to set. */
export function tokenCookies(tokens: SessionTokens): Cookie[] {
  return [tokens.sessionCookie, tokens.csrfCookie].filter((c): c is Cookie => c !== undefined);
}
