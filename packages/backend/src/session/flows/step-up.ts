/**
 * Step-up two-factor authentication on a page visit: a logged-in user's state-changing request to
 * a protected endpoint is held in session data (`pre2fa`) until the second factor is given.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j, type User } from "@crossauth/common";
import type { AuthenticationParameters } from "../../authenticators/authenticator.js";
import { symmetricDecrypt, symmetricEncrypt } from "../../crypto/symmetric.js";
import type { SessionContext } from "./context.js";
import {
  authenticateFactor2,
  factor2Authenticator,
  reserveFactor2Attempt,
  sameUserId,
  sessionDataObject,
} from "./factor2-secrets.js";

/** Name of the session-data field holding a held request. */
const PRE2FA = "pre2fa";

/** A request held until the second factor is given. */
export interface SavedRequest {
  /** The request's body (form fields or JSON). */
  body: Record<string, unknown>;
  /** The requested URL (path and query). */
  url?: string;
  /** The request's content type. */
  contentType?: string;
}

/** Opens the sealed body of `pre2fa` data; anything unreadable is an empty body. */
function unsealBody(ctx: SessionContext, sealed: unknown): unknown {
  if (typeof sealed !== "string") return undefined;
  try {
    return JSON.parse(symmetricDecrypt(sealed, ctx.sessionDataKey));
  } catch {
    CrossauthLogger.logger.warn(j({ msg: "Held step-up request could not be unsealed" }));
    return undefined;
  }
}

/** The saved request part of `pre2fa` data (never the secrets). */
function savedRequest(ctx: SessionContext, data: Record<string, unknown>): SavedRequest {
  const body = unsealBody(ctx, data.body);
  return {
    body:
      body !== null && typeof body === "object" && !Array.isArray(body)
        ? (body as Record<string, unknown>)
        : {},
    ...(typeof data.url === "string" ? { url: data.url } : {}),
    ...(typeof data.contentType === "string" ? { contentType: data.contentType } : {}),
  };
}

/** The `pre2fa` data of a user session, and the session's stored value. */
async function pendingPageVisit(
  ctx: SessionContext,
  sessionId: string,
): Promise<{ value: string; userid: string | number; data: Record<string, unknown> }> {
  const { key, data } = await sessionDataObject(ctx, sessionId, PRE2FA);
  const userid = key.userid;
  if (!data || userid === null || userid === undefined || !sameUserId(userid, data.userid)) {
    throw new CrossauthError(ErrorCode.Unauthorized, "No two-factor authentication in progress");
  }
  return { value: key.value, userid, data };
}

/**
 * Holds a request until the user gives their second factor: issues the factor's one-time secret
 * (e.g. emails a code; nothing for TOTP) and saves `pre2fa`: `{userid, username, factor2, body,
 * url, contentType}` plus the transient secrets, replacing any earlier held request. The body is
 * stored sealed (AES-256-CBC with `ctx.sessionDataKey`): it may hold passwords.
 * @param ctx - the session context
 * @param user - the logged-in user
 * @param sessionId - the raw id of the user's session
 * @param requestBody - the held request's body
 * @param url - the held request's URL
 * @param contentType - the held request's content type
 * @throws CrossauthError `InvalidSession` / `Expired` for a missing or expired session;
 *   `Unauthorized` when the session is not the user's; `BadRequest` when the user has no second
 *   factor; `Configuration` when it is not registered; the authenticator's errors (`InvalidEmail`,
 *   `Connection`, ...)
 */
export async function initiateTwoFactorPageVisit(
  ctx: SessionContext,
  user: User,
  sessionId: string,
  requestBody: Record<string, unknown>,
  url?: string,
  contentType?: string,
): Promise<void> {
  const key = await ctx.session.getSessionKey(sessionId);
  if (!sameUserId(key.userid, user.id)) {
    throw new CrossauthError(ErrorCode.Unauthorized, "The session is not the user's");
  }
  const authenticator = factor2Authenticator(ctx, user.factor2);
  const secrets = await authenticator.createOneTimeSecrets(user);
  await ctx.keyStorage.updateData(key.value, PRE2FA, {
    ...secrets,
    userid: user.id,
    username: user.username,
    factor2: user.factor2,
    body: symmetricEncrypt(JSON.stringify(requestBody), ctx.sessionDataKey),
    url,
    contentType,
  });
  CrossauthLogger.logger.info(j({ msg: "Step-up two-factor authentication started", userid: user.id }));
}

/**
 * Completes step-up authentication: checks the user's input against the held request's factor
 * (transient secrets from `pre2fa`, persistent ones from storage), then removes `pre2fa` and returns
 * the held request. On failure `pre2fa` is kept, so the user can retry.
 * @param ctx - the session context
 * @param params - the user's input (e.g. `{otp}`)
 * @param sessionId - the raw id of the user's session
 * @returns the held request
 * @throws CrossauthError `InvalidSession` / `Expired` for a missing or expired session;
 *   `Unauthorized` when no request is held (or the user's second factor changed since); the user
 *   storage's state errors; the authenticator's error (`InvalidToken`, `Expired`)
 */
export async function completeTwoFactorPageVisit(
  ctx: SessionContext,
  params: AuthenticationParameters,
  sessionId: string,
): Promise<SavedRequest> {
  const { value, userid, data } = await pendingPageVisit(ctx, sessionId);
  const { user } = await ctx.userStorage.getUserById(userid);
  if (user.factor2 !== data.factor2) {
    throw new CrossauthError(ErrorCode.Unauthorized, "No two-factor authentication in progress");
  }
  await reserveFactor2Attempt(ctx, value, "pre2fa");
  try {
    await authenticateFactor2(ctx, user, data.factor2, data, params, "storage");
  } catch (e) {
    CrossauthLogger.logger.debug(j({ msg: "Second factor rejected at step-up", userid: user.id }));
    throw e;
  }
  await ctx.keyStorage.deleteData(value, PRE2FA);
  CrossauthLogger.logger.info(j({ msg: "Step-up two-factor authentication completed", userid: user.id }));
  return savedRequest(ctx, data);
}

/**
 * Abandons step-up authentication: removes `pre2fa` and returns the held request.
 * @param ctx - the session context
 * @param sessionId - the raw id of the user's session
 * @returns the held request (never its secrets)
 * @throws CrossauthError `InvalidSession` / `Expired` for a missing or expired session;
 *   `Unauthorized` when no request is held
 */
export async function cancelTwoFactorPageVisit(
  ctx: SessionContext,
  sessionId: string,
): Promise<SavedRequest> {
  const { value, userid, data } = await pendingPageVisit(ctx, sessionId);
  await ctx.keyStorage.deleteData(value, PRE2FA);
  CrossauthLogger.logger.info(j({ msg: "Step-up two-factor authentication cancelled", userid }));
  return savedRequest(ctx, data);
}
