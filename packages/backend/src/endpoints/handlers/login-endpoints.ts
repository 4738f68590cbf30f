/**
 * Logging in and out, and the second step of a two-factor login: `login`, `logout`, `loginfactor2`
 * and their `api/` twins (http-contract.md).
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import type { SessionTokens } from "../../session/flows/context.js";
import type { EndpointDefinition, EndpointRequest, EndpointResult, EndpointServices } from "../endpoint.js";
import {
  apiError,
  apiOk,
  booleanField,
  page,
  pageError,
  redirectTo,
  stringField,
  tokenCookies,
} from "../endpoint-helpers.js";
import {
  clientUser,
  codeEntryData,
  pathWithQuery,
  persistChoice,
  requireSessionId,
  safeNext,
  sessionDataField,
  sessionEndpoint,
} from "./session-endpoint-support.js";

type PendingChange = NonNullable<SessionTokens["pendingChange"]>;
type Kind = EndpointDefinition["kind"];

/** The error code a login answers with, for each change a user must make first. */
const PENDING_CHANGE_CODES: Readonly<Record<PendingChange, ErrorCode>> = Object.freeze({
  passwordchange: ErrorCode.PasswordChangeNeeded,
  passwordreset: ErrorCode.PasswordResetNeeded,
  factor2reset: ErrorCode.Factor2ResetNeeded,
});

/** The page where each such change is made. */
const PENDING_CHANGE_PAGES: Readonly<Record<PendingChange, string>> = Object.freeze({
  passwordchange: "changepassword",
  passwordreset: "requestpasswordreset",
  factor2reset: "changefactor2",
});

/** What a two-factor login is called in error messages. */
const TWO_FACTOR_LOGIN = "two-factor login";

/** Checks the username and password of a login request; rotates the browser's session. */
function logIn(request: EndpointRequest, services: EndpointServices, kind: Kind): Promise<SessionTokens> {
  const username = stringField(request.body, "username", true);
  const password = stringField(request.body, "password", true);
  const persist = persistChoice(request, kind);
  return services.sessionManager.login(
    username,
    { password },
    {},
    persist,
    undefined,
    false,
    request.sessionId,
  );
}

/** The login form's data: what the user typed (never the password) and where to go next. */
function loginForm(request: EndpointRequest, services: EndpointServices): Record<string, unknown> {
  const username = request.body.username;
  return {
    username: typeof username === "string" ? username : "",
    persist: booleanField(request.body, "persist"),
    next: safeNext(request),
    passwordResetEnabled: services.sessionManager.enablePasswordReset,
  };
}

/** GET `login`: the form. */
async function loginPage(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  return page(request, services, "login", "loginTitle", loginForm(request, services));
}

/**
 * POST `login`: redirects to the safe `next` or `loginRedirect` with the new session; to
 * `loginfactor2` when the second factor is awaited; to the page of a change the user must make first.
 */
async function loginPost(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  try {
    const tokens = await logIn(request, services, "page");
    const cookies = tokenCookies(tokens);
    const next = safeNext(request);
    const prefix = services.options.prefix;
    if (tokens.pendingChange) {
      const changePage = `${prefix}${PENDING_CHANGE_PAGES[tokens.pendingChange]}`;
      return redirectTo(undefined, pathWithQuery(changePage, { next }), cookies);
    }
    if (tokens.twoFactorRequired) {
      const persist = booleanField(request.body, "persist") ? "true" : undefined;
      return redirectTo(undefined, pathWithQuery(`${prefix}loginfactor2`, { next, persist }), cookies);
    }
    return redirectTo(next, services.options.loginRedirect, cookies);
  } catch (e) {
    return pageError(request, services, "login", "loginTitle", e, loginForm(request, services));
  }
}

/**
 * POST `api/login`: `{ok, user}` with the new session; `{ok, twoFactorRequired: true}` with the
 * anonymous session of a two-factor login; 403 with the change's code (and the anonymous session
 * permitting it) when the user must first change something.
 */
async function apiLogin(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  try {
    const tokens = await logIn(request, services, "api");
    const cookies = tokenCookies(tokens);
    if (tokens.pendingChange) {
      return apiError(new CrossauthError(PENDING_CHANGE_CODES[tokens.pendingChange]), cookies);
    }
    if (tokens.twoFactorRequired) return apiOk({ twoFactorRequired: true }, cookies);
    if (!tokens.user) throw new CrossauthError(ErrorCode.UnknownError, "Login gave no user");
    return apiOk({ user: clientUser(tokens.user) }, cookies);
  } catch (e) {
    return apiError(e);
  }
}

/** Ends the request's session server side; the answer clears the session and CSRF cookies. */
async function logOut(request: EndpointRequest, services: EndpointServices): Promise<string[]> {
  if (request.sessionId !== undefined) await services.sessionManager.logout(request.sessionId);
  return [services.sessionManager.session.cookieName, services.sessionManager.csrfTokens.cookieName];
}

/** GET `logout`: a confirmation form. */
async function logoutPage(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  return page(request, services, "logout", "logoutTitle");
}

/** POST `logout`: redirects to `logoutRedirect` with the cookies cleared. */
async function logoutPost(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  try {
    const clearCookies = await logOut(request, services);
    return { ...redirectTo(undefined, services.options.logoutRedirect), clearCookies };
  } catch (e) {
    return pageError(request, services, "logout", "logoutTitle", e);
  }
}

/** POST `api/logout`: `{ok: true}` with the cookies cleared. */
async function apiLogout(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  try {
    const clearCookies = await logOut(request, services);
    return { ...apiOk(), clearCookies };
  } catch (e) {
    return apiError(e);
  }
}

/** The second factor awaited by the request's two-factor login, if one is in progress. */
async function pendingLoginFactor2(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<string | undefined> {
  if (request.user !== undefined) return undefined;
  const data = await sessionDataField(request, services, "2fa");
  return typeof data?.factor2 === "string" && data.userid !== undefined ? data.factor2 : undefined;
}

/** The code form's data. */
async function loginFactor2Form(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<Record<string, unknown>> {
  return {
    ...codeEntryData(services, await pendingLoginFactor2(request, services)),
    next: safeNext(request),
    persist: booleanField(request.body, "persist") || request.query.persist === "true",
  };
}

/** Completes a two-factor login with the posted code. */
function completeLogin(
  request: EndpointRequest,
  services: EndpointServices,
  kind: Kind,
): Promise<SessionTokens> {
  const sessionId = requireSessionId(request, TWO_FACTOR_LOGIN);
  const otp = stringField(request.body, "otp", true);
  const persist = persistChoice(request, kind);
  return services.sessionManager.completeTwoFactorLogin({ otp }, sessionId, {}, persist);
}

/** GET `loginfactor2`: the code form; to `login` when no two-factor login is in progress. */
async function loginFactor2Page(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  if ((await pendingLoginFactor2(request, services)) === undefined) {
    return redirectTo(
      undefined,
      pathWithQuery(`${services.options.prefix}login`, { next: safeNext(request) }),
    );
  }
  return page(
    request,
    services,
    "loginfactor2",
    "loginFactor2Title",
    await loginFactor2Form(request, services),
  );
}

/** POST `loginfactor2`: redirects to the safe `next` or `loginRedirect` with the user session. */
async function loginFactor2Post(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    const tokens = await completeLogin(request, services, "page");
    return redirectTo(safeNext(request), services.options.loginRedirect, tokenCookies(tokens));
  } catch (e) {
    const form = await loginFactor2Form(request, services);
    return pageError(request, services, "loginfactor2", "loginFactor2Title", e, form);
  }
}

/** POST `api/loginfactor2`: `{ok, user}` with the user session; the anonymous one is deleted. */
async function apiLoginFactor2(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    const tokens = await completeLogin(request, services, "api");
    if (!tokens.user) throw new CrossauthError(ErrorCode.UnknownError, "Login gave no user");
    return apiOk({ user: clientUser(tokens.user) }, tokenCookies(tokens));
  } catch (e) {
    return apiError(e);
  }
}

/** `login`, `logout`, `loginfactor2` and their `api/` twins. */
export const loginEndpoints: readonly EndpointDefinition[] = Object.freeze([
  sessionEndpoint("login", "GET", "page", "any", "session", loginPage),
  sessionEndpoint("login", "POST", "page", "any", "session", loginPost),
  sessionEndpoint("api/login", "POST", "api", "any", "session", apiLogin),
  sessionEndpoint("logout", "GET", "page", "any", "session", logoutPage),
  sessionEndpoint("logout", "POST", "page", "any", "session", logoutPost),
  sessionEndpoint("api/logout", "POST", "api", "any", "session", apiLogout),
  sessionEndpoint("loginfactor2", "GET", "page", "any", "factor2", loginFactor2Page),
  sessionEndpoint("loginfactor2", "POST", "page", "any", "factor2", loginFactor2Post),
  sessionEndpoint("api/loginfactor2", "POST", "api", "any", "factor2", apiLoginFactor2),
]);
