/**
 * Reading and editing a session's data, and CSRF values: the small session-level operations of
 * the SessionManager.
 * @module
 */
import type { KeyDataEntry } from "@crossauth/common";
import { decodeKeyData } from "../../storage/key-data.js";
import type { Cookie } from "../cookie.js";
import type { UserAndKey } from "../session-cookie.js";
import { SessionCookie } from "../session-cookie.js";
import type { SessionContext } from "./context.js";

/**
 * The user (undefined when anonymous) and key of a live session.
 * @param sessionId - raw session id
 * @throws CrossauthError `InvalidSession`, `Expired`, or the user storage's state errors
 */
export function userForSessionId(ctx: SessionContext, sessionId: string): Promise<UserAndKey> {
  return ctx.session.getUserForSessionId(sessionId);
}

/**
 * A live session's data as stored (JSON text).
 * @throws CrossauthError `InvalidSession` or `Expired`
 */
export async function dataStringForSessionId(ctx: SessionContext, sessionId: string): Promise<string> {
  return (await ctx.session.getSessionKey(sessionId)).data ?? "{}";
}

/**
 * A live session's data, decoded.
 * @throws CrossauthError `InvalidSession`, `Expired` or `DataFormat`
 */
export async function dataForSessionId(
  ctx: SessionContext,
  sessionId: string,
): Promise<Record<string, unknown>> {
  return decodeKeyData(await dataStringForSessionId(ctx, sessionId));
}

/**
 * Sets one (dotted) field of a session's data, atomically.
 * @throws CrossauthError `InvalidKey` for an unknown session, `BadRequest` for a missing parent
 */
export function updateSessionData(
  ctx: SessionContext,
  sessionId: string,
  name: string,
  value: unknown,
): Promise<void> {
  return ctx.keyStorage.updateData(SessionCookie.hashSessionId(sessionId), name, value);
}

/** Sets several fields of a session's data in one atomic update. */
export function updateManySessionData(
  ctx: SessionContext,
  sessionId: string,
  dataArray: KeyDataEntry[],
): Promise<void> {
  return ctx.keyStorage.updateManyData(SessionCookie.hashSessionId(sessionId), dataArray);
}

/** Deletes one (dotted) field of a session's data, atomically. */
export function deleteSessionData(ctx: SessionContext, sessionId: string, name: string): Promise<void> {
  return ctx.keyStorage.deleteData(SessionCookie.hashSessionId(sessionId), name);
}

/** Deletes a session from storage (the cookie is the HTTP layer's to clear). */
export function deleteSession(ctx: SessionContext, sessionId: string): Promise<void> {
  return ctx.keyStorage.deleteKey(SessionCookie.hashSessionId(sessionId));
}

/** Records activity on a session now (for idle timeouts). */
export function updateSessionActivity(ctx: SessionContext, sessionId: string): Promise<void> {
  return ctx.session.updateSessionKey({ value: sessionId, lastactive: ctx.now() });
}

/** A CSRF cookie and the matching masked value for forms and headers. */
export interface Csrf {
  csrfCookie: Cookie;
  csrfFormOrHeaderValue: string;
}

/** Creates a new CSRF token: its cookie and a masked value for forms and headers. */
export function createCsrfToken(ctx: SessionContext): Csrf {
  const token = ctx.csrfTokens.createCsrfToken();
  return {
    csrfCookie: ctx.csrfTokens.makeCsrfCookie(token),
    csrfFormOrHeaderValue: ctx.csrfTokens.makeCsrfFormOrHeaderToken(token),
  };
}

/**
 * A fresh masked value for an existing CSRF cookie.
 * @throws CrossauthError `InvalidCsrf` when the cookie's signature does not verify
 */
export function createCsrfFormOrHeaderValue(ctx: SessionContext, csrfCookieValue: string): string {
  return ctx.csrfTokens.makeCsrfFormOrHeaderToken(ctx.csrfTokens.validateCsrfCookie(csrfCookieValue));
}
