/**
 * Second factors: setting one up (`configurefactor2`), choosing another (`changefactor2`), and
 * step-up authentication (`factor2`, `cancelfactor2`), each with its `api/` twin (http-contract.md).
 * @module
 */
import { CrossauthError, ErrorCode, type User, UserState } from "@crossauth/common";
import { ANY_STATE } from "../../session/flows/account.js";
import type { EndpointDefinition, EndpointRequest, EndpointResult, EndpointServices } from "../endpoint.js";
import { apiError, apiOk, loginUrl, page, pageError, redirectTo, stringField } from "../endpoint-helpers.js";
import { cancelStepUp, completeStepUp } from "../step-up.js";
import {
  clientUser,
  codeEntryData,
  factor2Choices,
  loginAfterSetUp,
  pathWithQuery,
  requireSessionId,
  safeNext,
  sessionDataField,
  sessionEndpoint,
} from "./session-endpoint-support.js";

/** What a second-factor set-up is called in error messages. */
const SET_UP = "second-factor set-up";

/** The set-up in progress in the request's session (its `2fa` data). */
async function setUpInProgress(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<{ sessionId: string; factor2: string }> {
  const sessionId = requireSessionId(request, SET_UP);
  const data = await sessionDataField(request, services, "2fa");
  if (typeof data?.factor2 !== "string" || data.userid === undefined) {
    throw new CrossauthError(ErrorCode.Unauthorized, `No ${SET_UP} in progress`);
  }
  return { sessionId, factor2: data.factor2 };
}

/**
 * What the set-up page shows: the factor, and for a factor with a secret to show (TOTP) the QR code
 * and secret again. A factor whose code was sent is not sent a new one.
 */
async function setUpPageData(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<Record<string, unknown>> {
  const { sessionId, factor2 } = await setUpInProgress(request, services);
  const data: Record<string, unknown> = { ...codeEntryData(services, factor2), next: safeNext(request) };
  if ((services.sessionManager.authenticators[factor2]?.secretNames().length ?? 0) === 0) return data;
  const { userData } = await services.sessionManager.repeatTwoFactorSignup(sessionId);
  return { ...data, ...userData, instructions: services.pages.messages.totpInstructions };
}

/** {@link setUpPageData} for a page showing an error: what can be shown, else nothing. */
async function setUpPageDataIfAny(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<Record<string, unknown>> {
  try {
    return await setUpPageData(request, services);
  } catch {
    return { next: safeNext(request) };
  }
}

/**
 * Completes the set-up with the posted code. A user whom it made active and whose session is
 * anonymous (sign-up, forced reset) is logged in.
 */
async function completeSetUp(request: EndpointRequest, services: EndpointServices) {
  const sessionId = requireSessionId(request, SET_UP);
  const otp = stringField(request.body, "otp", true);
  const user = await services.sessionManager.completeTwoFactorSetup({ otp }, sessionId);
  const emailVerificationNeeded = user.state === UserState.awaitingEmailVerification;
  return { ...(await loginAfterSetUp(request, services, user)), emailVerificationNeeded };
}

/** GET `configurefactor2`: the set-up (TOTP: QR code and secret) and the code field. */
async function configureFactor2Page(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    const data = await setUpPageData(request, services);
    return page(request, services, "configurefactor2", "configureFactor2Title", data);
  } catch (e) {
    return pageError(request, services, "configurefactor2", "configureFactor2Title", e, { done: true });
  }
}

/**
 * POST `configurefactor2`: to the safe `next` or `loginRedirect` once set up (logged in when the
 * account became active); a notice when the email address must still be verified; to `login` when
 * the account needs something else first.
 */
async function configureFactor2Post(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    const { cookies, emailVerificationNeeded } = await completeSetUp(request, services);
    if (emailVerificationNeeded) {
      const notice = services.pages.messages.emailVerificationSent;
      return page(request, services, "configurefactor2", "configureFactor2Title", { done: true, notice });
    }
    if (request.user === undefined && cookies.length === 0) {
      return redirectTo(undefined, `${services.options.prefix}login`);
    }
    return redirectTo(safeNext(request), services.options.loginRedirect, cookies);
  } catch (e) {
    const data = await setUpPageDataIfAny(request, services);
    return pageError(request, services, "configurefactor2", "configureFactor2Title", e, data);
  }
}

/** GET `api/configurefactor2`: `{ok, userid, ...set-up data}`; a code-sending factor sends a new code. */
async function apiConfigureFactor2Get(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    const sessionId = requireSessionId(request, SET_UP);
    const { userid, userData } = await services.sessionManager.repeatTwoFactorSignup(sessionId);
    return apiOk({ userid, ...userData });
  } catch (e) {
    return apiError(e);
  }
}

/** POST `api/configurefactor2`: `{ok, user, emailVerificationNeeded}`, with a session when logged in. */
async function apiConfigureFactor2Post(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    const { cookies, user, emailVerificationNeeded } = await completeSetUp(request, services);
    return apiOk({ user: clientUser(user), emailVerificationNeeded }, cookies);
  } catch (e) {
    return apiError(e);
  }
}

/**
 * The user whose second factor the request may change: the logged-in user, or the one an anonymous
 * session permits (`factor2change` data, after a password login of a user who must reset it).
 */
async function changingUser(request: EndpointRequest, services: EndpointServices): Promise<User | undefined> {
  if (request.user) return request.user;
  const userid = (await sessionDataField(request, services, "factor2change"))?.userid;
  if (typeof userid !== "string" && typeof userid !== "number") return undefined;
  return (await services.sessionManager.userStorage.getUserById(userid, ANY_STATE)).user;
}

/** The factor-choice form's data. */
function changeFactor2Form(
  request: EndpointRequest,
  services: EndpointServices,
  selected: unknown,
): Record<string, unknown> {
  return { factor2Choices: factor2Choices(services, selected), next: safeNext(request) };
}

/**
 * Starts changing the second factor to the posted `factor2` (`none` removes it at once).
 * @returns the set-up data (`undefined` when removed), and the cookies of a login when removing it
 *   made an anonymous session's user active
 */
async function changeFactor2(request: EndpointRequest, services: EndpointServices) {
  const user = await changingUser(request, services);
  if (!user) throw new CrossauthError(ErrorCode.Unauthorized, "Log in to change the second factor");
  const sessionId = requireSessionId(request, SET_UP);
  const factor2 = stringField(request.body, "factor2", true);
  const removed = factor2 === "none";
  const manager = services.sessionManager;
  const setUp = await manager.initiateTwoFactorSetup(user, removed ? null : factor2, sessionId);
  if (!removed) return { setUp, cookies: [], user };
  const { user: stored } = await manager.userStorage.getUserById(user.id, ANY_STATE);
  return { setUp: undefined, ...(await loginAfterSetUp(request, services, stored)) };
}

/** GET `changefactor2`: the choice of factors; to `login` without a user. */
async function changeFactor2Page(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    const user = await changingUser(request, services);
    if (!user) return redirectTo(undefined, loginUrl(request, services));
    const data = {
      help: services.pages.messages.changeFactor2Help,
      ...changeFactor2Form(request, services, user.factor2),
    };
    return page(request, services, "changefactor2", "changeFactor2Title", data);
  } catch (e) {
    return pageError(request, services, "changefactor2", "changeFactor2Title", e);
  }
}

/** POST `changefactor2`: to `configurefactor2` to set the new factor up, or a notice when removed. */
async function changeFactor2Post(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    const { setUp, cookies, user } = await changeFactor2(request, services);
    if (setUp !== undefined) {
      const next = safeNext(request);
      return redirectTo(undefined, pathWithQuery(`${services.options.prefix}configurefactor2`, { next }));
    }
    const notice = services.pages.messages.factor2Removed;
    const data = { notice, ...changeFactor2Form(request, services, user.factor2) };
    return page(request, services, "changefactor2", "changeFactor2Title", data, 200, cookies);
  } catch (e) {
    const form = changeFactor2Form(request, services, request.body.factor2);
    return pageError(request, services, "changefactor2", "changeFactor2Title", e, form);
  }
}

/** POST `api/changefactor2`: `{ok, ...set-up data}`; `{ok}` (and `user` when logged in) when removed. */
async function apiChangeFactor2(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    const { setUp, cookies, user } = await changeFactor2(request, services);
    if (setUp !== undefined) return apiOk(setUp);
    return apiOk(cookies.length > 0 ? { user: clientUser(user) } : {}, cookies);
  } catch (e) {
    return apiError(e);
  }
}

/** The code form of a held step-up request. */
async function factor2Form(request: EndpointRequest, services: EndpointServices) {
  const held = await sessionDataField(request, services, "pre2fa");
  if (!held) return undefined;
  return { ...codeEntryData(services, held.factor2), stepUp: services.pages.messages.stepUpInstructions };
}

/** GET `factor2`: the code form for the held request. */
async function factor2Page(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  const form = await factor2Form(request, services);
  if (form) return page(request, services, "factor2", "factor2Title", form);
  const e = new CrossauthError(ErrorCode.Unauthorized, "No two-factor authentication in progress");
  return pageError(request, services, "factor2", "factor2Title", e, { done: true });
}

/** POST `factor2`: runs the held request and answers as it does; a wrong code shows the form again. */
async function factor2Post(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  try {
    return await completeStepUp(request, services, stringField(request.body, "otp", true));
  } catch (e) {
    const form = (await factor2Form(request, services)) ?? { done: true };
    return pageError(request, services, "factor2", "factor2Title", e, form);
  }
}

/** POST `api/factor2`: runs the held request and answers as it does. */
async function apiFactor2(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  try {
    return await completeStepUp(request, services, stringField(request.body, "otp", true));
  } catch (e) {
    return apiError(e);
  }
}

/** POST `cancelfactor2`: discards the held request; back to its page (or `loginRedirect`). */
async function cancelFactor2Post(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    return redirectTo(await cancelStepUp(request, services), services.options.loginRedirect);
  } catch (e) {
    return pageError(request, services, "factor2", "factor2Title", e, { done: true });
  }
}

/** POST `api/cancelfactor2`: `{ok: true}`; the held request is discarded. */
async function apiCancelFactor2(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<EndpointResult> {
  try {
    await cancelStepUp(request, services);
    return apiOk();
  } catch (e) {
    return apiError(e);
  }
}

/** `configurefactor2`, `changefactor2`, `factor2`, `cancelfactor2` and their `api/` twins. */
export const factor2Endpoints: readonly EndpointDefinition[] = Object.freeze([
  sessionEndpoint("configurefactor2", "GET", "page", "any", "factor2", configureFactor2Page),
  sessionEndpoint("configurefactor2", "POST", "page", "any", "factor2", configureFactor2Post),
  sessionEndpoint("api/configurefactor2", "GET", "api", "any", "factor2", apiConfigureFactor2Get),
  sessionEndpoint("api/configurefactor2", "POST", "api", "any", "factor2", apiConfigureFactor2Post),
  sessionEndpoint("changefactor2", "GET", "page", "any", "factor2", changeFactor2Page),
  sessionEndpoint("changefactor2", "POST", "page", "any", "factor2", changeFactor2Post),
  sessionEndpoint("api/changefactor2", "POST", "api", "any", "factor2", apiChangeFactor2),
  sessionEndpoint("factor2", "GET", "page", "user", "factor2", factor2Page),
  sessionEndpoint("factor2", "POST", "page", "user", "factor2", factor2Post),
  sessionEndpoint("api/factor2", "POST", "api", "user", "factor2", apiFactor2),
  sessionEndpoint("cancelfactor2", "POST", "page", "user", "factor2", cancelFactor2Post),
  sessionEndpoint("api/cancelfactor2", "POST", "api", "user", "factor2", apiCancelFactor2),
]);
