/**
 * The account endpoints of a logged-in user (feature `session`): changing the password (also for a
 * user whose login was held for a forced change), editing the user's details, deleting the account,
 * and the session helpers `api/userforsessionkey` and `api/getcsrftoken`.
 * @module
 */
import { CrossauthError, ErrorCode, type User, UserState } from "@crossauth/common";
import { ANY_STATE } from "../../session/flows/account.js";
import type { EndpointDefinition, EndpointRequest, EndpointResult, EndpointServices } from "../endpoint.js";
import {
  apiError,
  apiOk,
  loginUrl,
  page,
  pageError,
  redirectTo,
  stringField,
  userFields,
} from "../endpoint-helpers.js";
import {
  apiAfterLogin,
  type LoginAfterChange,
  loginAfterChange,
  pageAfterLogin,
} from "./login-after-change.js";
import { clientUser, safeNext, sessionEndpoint } from "./session-endpoint-support.js";

/** Whose password a request may change: the logged-in user, or the user of a forced change. */
interface PasswordChangeSubject {
  username: string;
  /** True for an anonymous session holding a forced change (`passwordchange` data). */
  forced: boolean;
}

/** Errors that mean "this session holds no usable forced change". */
const noForcedChangeCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.InvalidSession,
  ErrorCode.Expired,
  ErrorCode.UserNotExist,
  ErrorCode.DataFormat,
]);

/** The `passwordchange` data of an anonymous session, when it names a user who must change it. */
async function forcedChangeSubject(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<PasswordChangeSubject | undefined> {
  if (request.sessionId === undefined) return undefined;
  const sessionManager = services.sessionManager;
  try {
    const change = (await sessionManager.dataForSessionId(request.sessionId)).passwordchange;
    if (change === null || typeof change !== "object") return undefined;
    const { username, userid } = change as Record<string, unknown>;
    if (typeof username !== "string") return undefined;
    const { user } = await sessionManager.userStorage.getUserByUsername(username, ANY_STATE);
    if (String(user.id) !== String(userid) || user.state !== UserState.passwordChangeNeeded) return undefined;
    return { username: user.username, forced: true };
  } catch (e) {
    if (e instanceof CrossauthError && noForcedChangeCodes.has(e.code)) return undefined;
    throw e;
  }
}

/** Whose password the request may change, if anyone's. */
async function passwordChangeSubject(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<PasswordChangeSubject | undefined> {
  if (request.user) return { username: request.user.username, forced: false };
  return forcedChangeSubject(request, services);
}

/**
 * Changes the subject's password from the body's `old_password`, `new_password` and optional
 * `repeat_password`. The user's other sessions end, the current one stays; a forced change then
 * logs the user in.
 */
async function changePassword(
  request: EndpointRequest,
  services: EndpointServices,
  subject: PasswordChangeSubject,
): Promise<LoginAfterChange | undefined> {
  const oldPassword = stringField(request.body, "old_password", true);
  const newPassword = stringField(request.body, "new_password", true);
  const repeatPassword = stringField(request.body, "repeat_password");
  const user = await services.sessionManager.changeSecrets(
    subject.username,
    1,
    { password: newPassword },
    repeatPassword === undefined ? undefined : { password: repeatPassword },
    { password: oldPassword },
    subject.forced ? undefined : request.sessionId,
  );
  return subject.forced ? loginAfterChange(request, services, user) : undefined;
}

/** The data of the change-password page. */
function changePasswordData(
  subject: PasswordChangeSubject,
  next: string | undefined,
): Record<string, unknown> {
  return { forced: subject.forced, username: subject.username, next };
}

/** A field of the update-user form. */
interface FormField {
  name: string;
  label: string;
  type: string;
  autocomplete: string;
  value: string;
}

/** Input types and autocomplete tokens of well-known user fields. */
const knownFields: Readonly<Record<string, { type: string; autocomplete: string }>> = Object.freeze({
  email: { type: "email", autocomplete: "email" },
  phone: { type: "tel", autocomplete: "tel" },
  username: { type: "text", autocomplete: "username" },
});

/** The update-user form's fields: the user storage's user-editable fields, with `values`. */
function editableFields(services: EndpointServices, values: Record<string, unknown>): FormField[] {
  const messages = services.pages.messages as Record<string, string>;
  return services.sessionManager.userStorage.userEditableFields.map((field) => {
    const known = Object.hasOwn(knownFields, field) ? knownFields[field] : undefined;
    const value = values[field];
    return {
      name: `user_${field}`,
      label: Object.hasOwn(messages, field) ? (messages[field] as string) : field,
      type: known?.type ?? "text",
      autocomplete: known?.autocomplete ?? "off",
      value: value === undefined || value === null ? "" : String(value),
    };
  });
}

/** Updates the user's editable fields from the body's `user_<field>` values. */
async function updateUserFields(request: EndpointRequest, services: EndpointServices, user: User) {
  const sessionManager = services.sessionManager;
  const fields = userFields(request.body, sessionManager.userStorage.userEditableFields);
  return sessionManager.updateUser(user, { ...user, ...fields });
}

/** The submitted `user_<field>` values, for re-showing the form after an error. */
function submittedValues(request: EndpointRequest, user: User): Record<string, unknown> {
  const values: Record<string, unknown> = { ...user };
  for (const [name, value] of Object.entries(request.body)) {
    if (name.startsWith("user_") && typeof value === "string") values[name.slice(5)] = value;
  }
  return values;
}

/** Names of the cookies a deleted account's browser no longer needs. */
function sessionCookieNames(services: EndpointServices): string[] {
  return [services.sessionManager.session.cookieName, services.sessionManager.csrfTokens.cookieName];
}

/** The user of an endpoint with access `user` (the pipeline guarantees it). */
function loggedInUser(request: EndpointRequest): User {
  if (!request.user) throw new CrossauthError(ErrorCode.Unauthorized);
  return request.user;
}

/** `GET changepassword`: the form (old, new and repeated password). */
async function changePasswordForm(request: EndpointRequest, services: EndpointServices) {
  let subject: PasswordChangeSubject | undefined;
  try {
    subject = await passwordChangeSubject(request, services);
  } catch (e) {
    return pageError(request, services, "error", "changePasswordTitle", e);
  }
  if (!subject) return { status: 302, redirect: loginUrl(request, services) };
  const data = changePasswordData(subject, safeNext(request));
  return page(request, services, "changepassword", "changePasswordTitle", data);
}

/** `POST changepassword`: changes it; redirects to a safe `next` or shows a notice. */
async function changePasswordPage(request: EndpointRequest, services: EndpointServices) {
  const next = safeNext(request);
  let subject: PasswordChangeSubject | undefined;
  try {
    subject = await passwordChangeSubject(request, services);
    if (!subject) return redirectTo(undefined, loginUrl(request, services));
    const login = await changePassword(request, services, subject);
    const loggedIn = login && pageAfterLogin(services, login, next, services.options.loginRedirect);
    if (loggedIn) return loggedIn;
    if (next !== undefined) return redirectTo(next, services.options.loginRedirect);
    return page(request, services, "changepassword", "changePasswordTitle", {
      done: true,
      notice: services.pages.messages.passwordChanged,
    });
  } catch (e) {
    const data = subject ? changePasswordData(subject, next) : {};
    return pageError(request, services, "changepassword", "changePasswordTitle", e, data);
  }
}

/** `POST api/changepassword`: `{ok: true}` (a forced change also logs the user in). */
async function changePasswordApi(request: EndpointRequest, services: EndpointServices) {
  try {
    const subject = await passwordChangeSubject(request, services);
    if (!subject) throw new CrossauthError(ErrorCode.Unauthorized);
    const login = await changePassword(request, services, subject);
    return login ? apiAfterLogin(login) : apiOk();
  } catch (e) {
    return apiError(e);
  }
}

/** `GET updateuser`: the form with the user's editable fields. */
async function updateUserForm(request: EndpointRequest, services: EndpointServices) {
  const user = loggedInUser(request);
  return page(request, services, "updateuser", "updateUserTitle", {
    fields: editableFields(services, user),
    next: safeNext(request),
  });
}

/** `POST updateuser`: saves the fields; redirects to a safe `next` or shows the saved details. */
async function updateUserPage(request: EndpointRequest, services: EndpointServices) {
  const user = loggedInUser(request);
  const next = safeNext(request);
  try {
    const sent = await updateUserFields(request, services, user);
    if (next !== undefined) return redirectTo(next, services.options.loginRedirect);
    const { user: saved } = await services.sessionManager.userStorage.getUserById(user.id, ANY_STATE);
    const messages = services.pages.messages;
    return page(request, services, "updateuser", "updateUserTitle", {
      user: saved,
      fields: editableFields(services, saved),
      notice: sent.emailVerificationTokenSent ? messages.emailChangePending : messages.detailsSaved,
    });
  } catch (e) {
    const fields = editableFields(services, submittedValues(request, user));
    return pageError(request, services, "updateuser", "updateUserTitle", e, { fields, next });
  }
}

/** `POST api/updateuser`: `{ok: true, emailVerificationRequired}`. */
async function updateUserApi(request: EndpointRequest, services: EndpointServices) {
  try {
    const sent = await updateUserFields(request, services, loggedInUser(request));
    return apiOk({ emailVerificationRequired: sent.emailVerificationTokenSent });
  } catch (e) {
    return apiError(e);
  }
}

/** `GET deleteuser`: the confirmation form. */
async function deleteUserForm(request: EndpointRequest, services: EndpointServices) {
  return page(request, services, "deleteuser", "deleteUserTitle", { next: safeNext(request) });
}

/** `POST deleteuser`: deletes the account; clears the cookies; redirects to a safe `next` or says so. */
async function deleteUserPage(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  const user = loggedInUser(request);
  try {
    await services.sessionManager.deleteUserByUsername(user.username);
  } catch (e) {
    return pageError(request, services, "deleteuser", "deleteUserTitle", e, { next: safeNext(request) });
  }
  const clearCookies = sessionCookieNames(services);
  const next = safeNext(request);
  if (next !== undefined) return { ...redirectTo(next, services.options.logoutRedirect), clearCookies };
  const notice = services.pages.messages.accountDeleted;
  const result = page(request, services, "deleteuser", "deleteUserTitle", {
    deleted: true,
    user: undefined,
    csrfToken: undefined,
    notice,
  });
  return { ...result, clearCookies };
}

/** `POST api/deleteuser`: `{ok: true, userid}`; the cookies are cleared. */
async function deleteUserApi(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  try {
    const user = loggedInUser(request);
    await services.sessionManager.deleteUserByUsername(user.username);
    return { ...apiOk({ userid: user.id }), clearCookies: sessionCookieNames(services) };
  } catch (e) {
    return apiError(e);
  }
}

/** `POST api/userforsessionkey`: `{ok: true, user?}` — the user of the request's session, if any. */
async function userForSessionKeyApi(request: EndpointRequest) {
  return apiOk(request.user ? { user: clientUser(request.user) } : {});
}

/**
 * `GET api/getcsrftoken`: `{ok: true, csrfToken}` — the pipeline's fresh masked value (a new CSRF
 * cookie and value when the request came without one).
 */
async function getCsrfTokenApi(request: EndpointRequest, services: EndpointServices) {
  if (request.csrfToken !== undefined) return apiOk({ csrfToken: request.csrfToken });
  const csrf = services.sessionManager.createCsrfToken();
  return apiOk({ csrfToken: csrf.csrfFormOrHeaderValue }, [csrf.csrfCookie]);
}

/**
 * The account endpoints: `changepassword`, `updateuser`, `deleteuser` (pages, GET and POST) and
 * their `api/` twins, `api/userforsessionkey` and `api/getcsrftoken`. `changepassword` is open to
 * anonymous sessions so that a user held at login for a forced change (`passwordchange` session data)
 * can make it; anyone else without a login is sent to the login page (API: 401 `Unauthorized`).
 */
export const accountEndpoints: readonly EndpointDefinition[] = Object.freeze([
  sessionEndpoint("changepassword", "GET", "page", "any", "session", changePasswordForm),
  sessionEndpoint("changepassword", "POST", "page", "any", "session", changePasswordPage),
  sessionEndpoint("api/changepassword", "POST", "api", "any", "session", changePasswordApi),
  sessionEndpoint("updateuser", "GET", "page", "user", "session", updateUserForm),
  sessionEndpoint("updateuser", "POST", "page", "user", "session", updateUserPage),
  sessionEndpoint("api/updateuser", "POST", "api", "user", "session", updateUserApi),
  sessionEndpoint("deleteuser", "GET", "page", "user", "session", deleteUserForm),
  sessionEndpoint("deleteuser", "POST", "page", "user", "session", deleteUserPage),
  sessionEndpoint("api/deleteuser", "POST", "api", "user", "session", deleteUserApi),
  sessionEndpoint("api/userforsessionkey", "POST", "api", "any", "session", userForSessionKeyApi),
  sessionEndpoint("api/getcsrftoken", "GET", "api", "any", "session", getCsrfTokenApi),
]);
