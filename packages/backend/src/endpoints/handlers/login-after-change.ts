/**
 * Logging a user in after an action that proved who they are without a password login: a forced
 * password change, an email-verification link or a password reset. Shared by the account,
 * email-verification and password-reset endpoints.
 * @module
 */
import { type User, UserState } from "@crossauth/common";
import type { Cookie } from "../../session/cookie.js";
import type { SessionTokens } from "../../session/flows/context.js";
import type { EndpointRequest, EndpointResult, EndpointServices } from "../endpoint.js";
import { apiOk, redirectTo, tokenCookies } from "../endpoint-helpers.js";
import { clientUser, pathWithQuery } from "./session-endpoint-support.js";

/**
 * What the browser got: `loggedIn` (a user session), `factor2` (an anonymous session awaiting the
 * second factor of the login), `factor2reset` (an anonymous session that permits only choosing a new
 * second factor) or `none` (the user's state allows no session; nothing changed).
 */
export type LoginOutcome = "loggedIn" | "factor2" | "factor2reset" | "none";

/** The result of {@link loginAfterChange}. */
export interface LoginAfterChange {
  outcome: LoginOutcome;
  /** The session's tokens (absent for `none`). */
  tokens?: SessionTokens;
  /** Cookies to set (empty for `none`). */
  cookies: Cookie[];
}

/** States in which a user gets a session after the change. */
const sessionStates: ReadonlySet<string> = new Set([UserState.active, UserState.factor2ResetNeeded]);

/**
 * Starts a session for a user whose identity an action just proved. Active users are logged in as
 * by `SessionManager.login` with factor 1 skipped — but never past their second factor: a user with
 * one gets the two-factor login's anonymous session. A user in `factor2resetneeded` gets the
 * anonymous session that permits only the second-factor change. Users in any other state get
 * nothing. The browser's previous session (`request.sessionId`) ends whenever a new one starts.
 * @param user - the user as now stored
 * @throws CrossauthError the errors of `SessionManager.login` (e.g. `Connection`, or the
 *   authenticator's error when the second factor's code cannot be sent)
 */
export async function loginAfterChange(
  request: EndpointRequest,
  services: EndpointServices,
  user: User,
): Promise<LoginAfterChange> {
  if (!sessionStates.has(user.state)) return { outcome: "none", cookies: [] };
  const tokens = await services.sessionManager.login(
    user.username,
    {},
    {},
    undefined,
    user,
    false,
    request.sessionId,
  );
  const outcome: LoginOutcome = tokens.twoFactorRequired
    ? "factor2"
    : tokens.pendingChange === "factor2reset"
      ? "factor2reset"
      : "loggedIn";
  return { outcome, tokens, cookies: tokenCookies(tokens) };
}

/**
 * The page answer to a {@link loginAfterChange}: a 303 redirect with the new cookies — to `next`
 * or `fallback` when logged in, to `loginfactor2` (keeping `next`) when the second factor is
 * awaited, to `changefactor2` when it must be reset.
 * @param result - what {@link loginAfterChange} returned
 * @param next - a safe `next` (see `safeNext`), or undefined
 * @param fallback - where a logged-in user goes without `next`
 * @returns undefined for `none` (the caller shows its own notice)
 */
export function pageAfterLogin(
  services: EndpointServices,
  result: LoginAfterChange,
  next: string | undefined,
  fallback: string,
): EndpointResult | undefined {
  const prefix = services.options.prefix;
  switch (result.outcome) {
    case "loggedIn":
      return redirectTo(next, fallback, result.cookies);
    case "factor2":
      return redirectTo(undefined, pathWithQuery(`${prefix}loginfactor2`, { next }), result.cookies);
    case "factor2reset":
      return redirectTo(undefined, `${prefix}changefactor2`, result.cookies);
    default:
      return undefined;
  }
}

/**
 * The JSON answer to a {@link loginAfterChange}: `{ok: true, ...data}` plus `user` (without secrets) when logged in,
 * `twoFactorRequired: true` when the second factor is awaited, `factor2ResetNeeded: true` when it must
 * be reset — each with the new cookies.
 * @param result - what {@link loginAfterChange} returned
 * @param data - fields every answer has
 */
export function apiAfterLogin(result: LoginAfterChange, data: Record<string, unknown> = {}): EndpointResult {
  switch (result.outcome) {
    case "loggedIn":
      return apiOk(
        { ...data, ...(result.tokens?.user ? { user: clientUser(result.tokens.user) } : {}) },
        result.cookies,
      );
    case "factor2":
      return apiOk({ ...data, twoFactorRequired: true }, result.cookies);
    case "factor2reset":
      return apiOk({ ...data, factor2ResetNeeded: true }, result.cookies);
    default:
      return apiOk(data);
  }
}
