/**
 * Signing up: `signup` (page) and `api/signup` (http-contract.md). A user who chose a second factor
 * continues at `configurefactor2`.
 * @module
 */
import { CrossauthError, ErrorCode, type UserInputFields, UserState } from "@crossauth/common";
import type { AuthenticationParameters } from "../../authenticators/authenticator.js";
import type { Cookie } from "../../session/cookie.js";
import { ANY_STATE } from "../../session/flows/account.js";
import type { EndpointDefinition, EndpointRequest, EndpointResult, EndpointServices } from "../endpoint.js";
import {
  apiError,
  apiOk,
  page,
  pageError,
  redirectTo,
  stringField,
  tokenCookies,
  userFields,
} from "../endpoint-helpers.js";
import { apiAfterLogin, loginAfterChange, pageAfterLogin } from "./login-after-change.js";
import { factor2Choices, pathWithQuery, safeNext, sessionEndpoint } from "./session-endpoint-support.js";

/** The first factor of users who sign up. */
const SIGNUP_FACTOR1 = "localpassword";

/** Fields a user never sets at sign-up, even when configured as editable. */
const NEVER_AT_SIGNUP: ReadonlySet<string> = new Set([
  "id",
  "username",
  "username_normalized",
  "email_normalized",
  "state",
  "admin",
  "factor1",
  "factor2",
]);

/** Input types and autocomplete tokens of well-known user fields. */
const FIELD_INPUTS: Readonly<Record<string, { type: string; autocomplete: string }>> = Object.freeze({
  email: { type: "email", autocomplete: "email" },
  phone: { type: "tel", autocomplete: "tel" },
});

/** The user fields (`user_<name>`) of the sign-up form: `email` and the user-editable fields. */
function signupFieldNames(services: EndpointServices): string[] {
  const names = ["email", ...services.sessionManager.userStorage.userEditableFields];
  return [...new Set(names)].filter((name) => !NEVER_AT_SIGNUP.has(name));
}

/** A label for a field without a message of its own: `first_name` → `First name`. */
function fieldLabel(services: EndpointServices, name: string): string {
  const messages = services.pages.messages as Record<string, string>;
  const label = messages[name];
  if (label !== undefined) return label;
  const words = name.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The sign-up form's data: its fields with what the user typed (never the passwords). */
function signupForm(request: EndpointRequest, services: EndpointServices): Record<string, unknown> {
  const body = request.body;
  const text = (name: string) => (typeof body[name] === "string" ? body[name] : "");
  const fields = signupFieldNames(services).map((name) => ({
    name: `user_${name}`,
    label: fieldLabel(services, name),
    ...(FIELD_INPUTS[name] ?? { type: "text", autocomplete: "off" }),
    value: text(`user_${name}`),
    required: name === "email" && services.sessionManager.enableEmailVerification,
  }));
  const offerFactor2 =
    services.options.allowFactor2AtSignup && services.sessionManager.allowedFactor2.length > 0;
  return {
    username: text("username"),
    fields,
    factor2Choices: offerFactor2 ? factor2Choices(services, body.factor2) : [],
    next: safeNext(request),
  };
}

/** A sign-up request's user, secrets and chosen second factor (`""` for none). */
interface SignupInput {
  user: UserInputFields;
  params: AuthenticationParameters;
  repeatParams: AuthenticationParameters | undefined;
  factor2: string;
}

/** Reads a sign-up request's body. */
function signupInput(request: EndpointRequest, services: EndpointServices): SignupInput {
  const body = request.body;
  const username = stringField(body, "username", true);
  const password = stringField(body, "password", true);
  const repeat = stringField(body, "repeat_password");
  const chosen = stringField(body, "factor2");
  const factor2 = chosen === undefined || chosen === "none" ? "" : chosen;
  if (factor2 !== "" && !services.options.allowFactor2AtSignup) {
    throw new CrossauthError(ErrorCode.BadRequest, "A second factor cannot be chosen at sign-up");
  }
  const fields = userFields(body, signupFieldNames(services));
  return {
    user: { ...fields, username, state: UserState.active, factor1: SIGNUP_FACTOR1, factor2 },
    params: { password },
    repeatParams: repeat === undefined ? undefined : { password: repeat },
    factor2,
  };
}

/** What a sign-up with a second factor gives: set-up data, and the cookies of its session. */
interface Factor2Signup {
  data: Record<string, unknown>;
  cookies: Cookie[];
}

/**
 * Creates a user who chose a second factor and starts its set-up in an anonymous session: the
 * request's own, or a new one when it has none (or is logged in — that session then ends).
 */
async function signUpWithFactor2(
  request: EndpointRequest,
  services: EndpointServices,
  input: SignupInput,
): Promise<Factor2Signup> {
  const manager = services.sessionManager;
  let sessionId = request.user === undefined ? request.sessionId : undefined;
  let cookies: Cookie[] = [];
  if (sessionId === undefined) {
    const tokens = await manager.createAnonymousSession();
    sessionId = tokens.sessionId as string;
    cookies = tokenCookies(tokens);
  }
  const { userid, userData } = await manager.initiateTwoFactorSignup(
    input.user,
    input.params,
    sessionId,
    input.repeatParams,
  );
  if (request.user !== undefined && request.sessionId !== undefined) await manager.logout(request.sessionId);
  const { user } = await manager.userStorage.getUserById(userid, ANY_STATE);
  const emailVerificationNeeded = user.state === UserState.awaitingTwoFactorSetupAndEmailVerification;
  return { data: { userid, factor2: input.factor2, emailVerificationNeeded, ...userData }, cookies };
}

/** GET `signup`: the form. */
async function signupPage(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  return page(request, services, "signup", "signupTitle", signupForm(request, services));
}

/**
 * POST `signup`: with a second factor, a redirect to `configurefactor2`; else logged in and
 * redirected to the safe `next` or `loginRedirect`, or a notice when the email must be verified.
 */
async function signupPost(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  try {
    const input = signupInput(request, services);
    const next = safeNext(request);
    if (input.factor2 !== "") {
      const { cookies } = await signUpWithFactor2(request, services, input);
      return redirectTo(
        undefined,
        pathWithQuery(`${services.options.prefix}configurefactor2`, { next }),
        cookies,
      );
    }
    const user = await services.sessionManager.createUser(input.user, input.params, input.repeatParams);
    const loggedIn = await loginAfterChange(request, services, user);
    return (
      pageAfterLogin(services, loggedIn, next, services.options.loginRedirect) ??
      page(request, services, "signup", "signupTitle", {
        done: true,
        notice: services.pages.messages.emailVerificationSent,
      })
    );
  } catch (e) {
    return pageError(request, services, "signup", "signupTitle", e, signupForm(request, services));
  }
}

/**
 * POST `api/signup`: `{ok, user?, emailVerificationNeeded}` (logged in when nothing is pending), or
 * with a second factor `{ok, userid, factor2, emailVerificationNeeded, ...set-up data}` (TOTP: `qr`,
 * `totpsecret`) and the set-up's anonymous session.
 */
async function apiSignup(request: EndpointRequest, services: EndpointServices): Promise<EndpointResult> {
  try {
    const input = signupInput(request, services);
    if (input.factor2 !== "") {
      const { data, cookies } = await signUpWithFactor2(request, services, input);
      return apiOk(data, cookies);
    }
    const user = await services.sessionManager.createUser(input.user, input.params, input.repeatParams);
    const emailVerificationNeeded = user.state === UserState.awaitingEmailVerification;
    return apiAfterLogin(await loginAfterChange(request, services, user), { emailVerificationNeeded });
  } catch (e) {
    return apiError(e);
  }
}

/** `signup` and `api/signup`. */
export const signupEndpoints: readonly EndpointDefinition[] = Object.freeze([
  sessionEndpoint("signup", "GET", "page", "any", "signup", signupPage),
  sessionEndpoint("signup", "POST", "page", "any", "signup", signupPost),
  sessionEndpoint("api/signup", "POST", "api", "any", "signup", apiSignup),
]);
