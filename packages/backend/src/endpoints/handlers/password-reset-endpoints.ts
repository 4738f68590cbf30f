/**
 * The password-reset endpoints (feature `passwordReset`): asking for a reset link by email, and
 * choosing a new password with the emailed token.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import type { EndpointDefinition, EndpointRequest, EndpointResult, EndpointServices } from "../endpoint.js";
import { apiError, apiOk, MAX_FIELD_LENGTH, page, pageError, stringField } from "../endpoint-helpers.js";
import {
  apiAfterLogin,
  type LoginAfterChange,
  loginAfterChange,
  pageAfterLogin,
} from "./login-after-change.js";
import { safeNext, sessionEndpoint } from "./session-endpoint-support.js";

/** Errors that make a reset link unusable: the form cannot help, only a new link can. */
const badLinkCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.InvalidKey,
  ErrorCode.Expired,
  ErrorCode.UserNotActive,
]);

/** The generic error page for an unusable reset link, with a link to ask for a new one. */
function badLinkPage(request: EndpointRequest, services: EndpointServices, error: unknown): EndpointResult {
  const links = [
    { href: `${services.options.prefix}requestpasswordreset`, text: services.pages.messages.requestNewLink },
  ];
  return pageError(request, services, "error", "resetPasswordTitle", error, { links });
}

/** `GET requestpasswordreset`: the form asking for the address (prefilled for a logged-in user). */
async function requestPasswordResetForm(request: EndpointRequest, services: EndpointServices) {
  return page(request, services, "requestpasswordreset", "requestPasswordResetTitle", {
    email: typeof request.user?.email === "string" ? request.user.email : "",
    next: safeNext(request),
  });
}

/** Asks for a reset link for the body's `email`; returns before anything is looked up. */
async function requestReset(request: EndpointRequest, services: EndpointServices): Promise<void> {
  await services.sessionManager.requestPasswordReset(stringField(request.body, "email", true));
}

/**
 * `POST requestpasswordreset`: the same notice whether or not the address belongs to a user; a
 * malformed address re-shows the form with the error.
 */
async function requestPasswordResetPage(request: EndpointRequest, services: EndpointServices) {
  try {
    await requestReset(request, services);
    return page(request, services, "requestpasswordreset", "requestPasswordResetTitle", {
      sent: true,
      notice: services.pages.messages.passwordResetSent,
    });
  } catch (e) {
    const email = typeof request.body.email === "string" ? request.body.email.slice(0, MAX_FIELD_LENGTH) : "";
    const data = { email, next: safeNext(request) };
    return pageError(request, services, "requestpasswordreset", "requestPasswordResetTitle", e, data);
  }
}

/** `POST api/requestpasswordreset`: `{ok: true}`, identical for known and unknown addresses. */
async function requestPasswordResetApi(request: EndpointRequest, services: EndpointServices) {
  try {
    await requestReset(request, services);
    return apiOk();
  } catch (e) {
    return apiError(e);
  }
}

/**
 * `GET resetpassword/:token`: checks the token without spending it and shows the new-password
 * form with the token in a hidden field; an unusable token shows the error page (401).
 */
async function resetPasswordForm(request: EndpointRequest, services: EndpointServices) {
  try {
    const token = stringField(request.params, "token", true);
    await services.sessionManager.userForPasswordResetToken(token);
    return page(request, services, "resetpassword", "resetPasswordTitle", { token, next: safeNext(request) });
  } catch (e) {
    return badLinkPage(request, services, e);
  }
}

/**
 * Sets the new password from the body's `token`, `new_password` and optional `repeat_password`,
 * then gives the browser the session the user's new state allows.
 */
async function resetPassword(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<LoginAfterChange> {
  const token = stringField(request.body, "token", true);
  const newPassword = stringField(request.body, "new_password", true);
  const repeatPassword = stringField(request.body, "repeat_password");
  const user = await services.sessionManager.resetSecret(
    token,
    1,
    { password: newPassword },
    repeatPassword === undefined ? undefined : { password: repeatPassword },
  );
  return loginAfterChange(request, services, user);
}

/**
 * `POST resetpassword`: resets the password and logs the user in (redirect to a safe `next` or the
 * login redirect; to `loginfactor2` when the second factor is awaited; to `changefactor2` when it must
 * be reset too). A user whose state allows no session sees a notice. An unusable token shows the
 * error page; an unacceptable password re-shows the form.
 */
async function resetPasswordPage(request: EndpointRequest, services: EndpointServices) {
  try {
    const login = await resetPassword(request, services);
    const next = safeNext(request);
    const answer = pageAfterLogin(services, login, next, services.options.loginRedirect);
    if (answer) return answer;
    return page(request, services, "resetpassword", "resetPasswordTitle", {
      done: true,
      notice: services.pages.messages.passwordResetDone,
    });
  } catch (e) {
    if (e instanceof CrossauthError && badLinkCodes.has(e.code)) return badLinkPage(request, services, e);
    const token = request.body.token;
    const data = typeof token === "string" && token.length <= MAX_FIELD_LENGTH ? { token } : {};
    return pageError(request, services, "resetpassword", "resetPasswordTitle", e, {
      ...data,
      next: safeNext(request),
    });
  }
}

/** `POST api/resetpassword`: `{ok: true}` plus the session the user's new state allows. */
async function resetPasswordApi(request: EndpointRequest, services: EndpointServices) {
  try {
    return apiAfterLogin(await resetPassword(request, services));
  } catch (e) {
    return apiError(e);
  }
}

/**
 * The password-reset endpoints: `requestpasswordreset` (GET, POST), `api/requestpasswordreset`,
 * `resetpassword/:token` (GET), `resetpassword` (POST) and `api/resetpassword`.
 */
export const passwordResetEndpoints: readonly EndpointDefinition[] = Object.freeze([
  sessionEndpoint("requestpasswordreset", "GET", "page", "any", "passwordReset", requestPasswordResetForm),
  sessionEndpoint("requestpasswordreset", "POST", "page", "any", "passwordReset", requestPasswordResetPage),
  sessionEndpoint("api/requestpasswordreset", "POST", "api", "any", "passwordReset", requestPasswordResetApi),
  {
    ...sessionEndpoint("resetpassword", "GET", "page", "any", "passwordReset", resetPasswordForm),
    path: "resetpassword/:token",
  },
  sessionEndpoint("resetpassword", "POST", "page", "any", "passwordReset", resetPasswordPage),
  sessionEndpoint("api/resetpassword", "POST", "api", "any", "passwordReset", resetPasswordApi),
]);
