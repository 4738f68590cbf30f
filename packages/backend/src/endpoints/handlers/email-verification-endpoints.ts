/**
 * The email-verification endpoints (feature `emailVerification`): following the emailed link
 * (`verifyemail/:token` and its JSON twin) and the page it leads to (`emailverified`).
 * @module
 */
import type { User } from "@crossauth/common";
import type { EndpointDefinition, EndpointRequest, EndpointServices } from "../endpoint.js";
import { apiError, page, pageError, redirectTo, stringField } from "../endpoint-helpers.js";
import {
  apiAfterLogin,
  type LoginAfterChange,
  loginAfterChange,
  pageAfterLogin,
} from "./login-after-change.js";
import { clientUser, sessionEndpoint } from "./session-endpoint-support.js";

/** A verified user and the session the browser got for them. */
interface Verified {
  user: User;
  login: LoginAfterChange;
}

/**
 * Applies the `:token` of the request (spending it) and logs the user in when their state allows a
 * session — unless the request is already that user's session, which is kept.
 * @throws CrossauthError `FormEntry` for a missing or oversized token; the errors of
 *   `SessionManager.applyEmailVerificationToken` (`InvalidKey`, `Expired`, `UserNotExist`,
 *   `UserExists`) and of {@link loginAfterChange}
 */
async function verify(request: EndpointRequest, services: EndpointServices): Promise<Verified> {
  const token = stringField(request.params, "token", true);
  const user = await services.sessionManager.applyEmailVerificationToken(token);
  if (request.user !== undefined && String(request.user.id) === String(user.id)) {
    return { user, login: { outcome: "none", cookies: [] } };
  }
  return { user, login: await loginAfterChange(request, services, user) };
}

/**
 * `GET verifyemail/:token`: verifies, logs the user in when they may have a session, and redirects
 * to `emailverified` (to `loginfactor2` when the login awaits the second factor). A bad or expired
 * token shows the `verifyemail` page with the error and its status (401).
 */
async function verifyEmailPage(request: EndpointRequest, services: EndpointServices) {
  const verified = `${services.options.prefix}emailverified`;
  try {
    const { login } = await verify(request, services);
    return pageAfterLogin(services, login, undefined, verified) ?? redirectTo(undefined, verified);
  } catch (e) {
    return pageError(request, services, "verifyemail", "verifyEmailTitle", e);
  }
}

/** `GET api/verifyemail/:token`: `{ok: true, user}` and, when the user may have one, a session. */
async function verifyEmailApi(request: EndpointRequest, services: EndpointServices) {
  try {
    const { user, login } = await verify(request, services);
    return apiAfterLogin(login, { user: clientUser(user) });
  } catch (e) {
    return apiError(e);
  }
}

/** `GET emailverified`: says the address is verified. */
async function emailVerifiedPage(request: EndpointRequest, services: EndpointServices) {
  return page(request, services, "emailverified", "emailVerifiedTitle", {
    notice: services.pages.messages.emailVerifiedNotice,
  });
}

/** The email-verification endpoints: `verifyemail/:token`, `emailverified`, `api/verifyemail/:token`. */
export const emailVerificationEndpoints: readonly EndpointDefinition[] = Object.freeze([
  {
    ...sessionEndpoint("verifyemail", "GET", "page", "any", "emailVerification", verifyEmailPage),
    path: "verifyemail/:token",
  },
  sessionEndpoint("emailverified", "GET", "page", "any", "emailVerification", emailVerifiedPage),
  {
    ...sessionEndpoint("api/verifyemail", "GET", "api", "any", "emailVerification", verifyEmailApi),
    path: "api/verifyemail/:token",
  },
]);
