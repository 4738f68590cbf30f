/**
 * Step-up two-factor authentication on protected endpoints (http-contract.md, "Step-up 2FA"): a
 * logged-in user's POST to a protected endpoint is held in the session until the user gives their
 * second factor, then replayed.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { hasSecondFactor } from "../session/flows/factor2-secrets.js";
import type { SavedRequest } from "../session/flows/step-up.js";
import type { EndpointDefinition, EndpointRequest, EndpointResult, EndpointServices } from "./endpoint.js";
import { apiError, apiOk, pageError } from "./endpoint-helpers.js";
import { requireSessionId } from "./handlers/session-endpoint-support.js";

/** What a missing step-up is called in error messages. */
const STEP_UP = "two-factor authentication";

/** Body fields never saved with a held request. */
const UNSAVED_FIELDS: ReadonlySet<string> = new Set(["csrfToken"]);

/**
 * Holds a request to a protected endpoint until the user gives their second factor, when needed:
 * for a POST to an endpoint named in `options.factor2ProtectedEndpoints`, by a user logged in with a
 * session cookie who has a second factor. The factor's code is issued (emailed, texted; nothing for
 * an app) and the request saved in the session's `pre2fa` data, without its CSRF field.
 * Anonymous requests (e.g. a password reset by emailed token) and requests authenticated by an API
 * key are not held.
 * @param definition - the endpoint the request is for
 * @returns undefined when the request may go ahead; else the answer: `{ok: true, factor2Required:
 *   true}` (API) or a 303 redirect to `factor2` (page) — or, when the code cannot be issued, the
 *   error (JSON shape, or the `factor2` page with the message)
 */
export async function stepUpIfNeeded(
  request: EndpointRequest,
  services: EndpointServices,
  definition: EndpointDefinition,
): Promise<EndpointResult | undefined> {
  if (definition.method !== "POST" || !services.options.factor2ProtectedEndpoints.includes(definition.name)) {
    return undefined;
  }
  const user = request.user;
  const sessionId = request.sessionId;
  if (!user || sessionId === undefined || request.authType === "apiKey" || !hasSecondFactor(user)) {
    return undefined;
  }
  const body: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(request.body))
    if (!UNSAVED_FIELDS.has(field)) body[field] = value;
  try {
    await services.sessionManager.initiateTwoFactorPageVisit(
      user,
      sessionId,
      body,
      request.url,
      request.headers["content-type"],
    );
  } catch (e) {
    return definition.kind === "api"
      ? apiError(e)
      : pageError(request, services, "factor2", "factor2Title", e);
  }
  if (definition.kind === "api") return apiOk({ factor2Required: true });
  return { status: 303, redirect: `${services.options.prefix}factor2` };
}

/** The request a held one becomes when it is replayed by the user's current request. */
function replayOf(request: EndpointRequest, saved: SavedRequest): EndpointRequest {
  if (saved.url === undefined) throw new CrossauthError(ErrorCode.BadRequest, "The held request has no URL");
  const url = new URL(saved.url, "http://crossauth.invalid");
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) if (!Object.hasOwn(query, name)) query[name] = value;
  const headers = { ...request.headers };
  if (saved.contentType !== undefined) headers["content-type"] = saved.contentType;
  return {
    ...request,
    method: "POST",
    path: url.pathname,
    url: `${url.pathname}${url.search}`,
    params: {},
    query,
    body: saved.body,
    headers,
  };
}

/**
 * Completes step-up authentication: checks the code against the held request's factor, then runs
 * the held request (through `services.redispatch`) and returns its answer. A wrong code keeps the
 * request held, so the user can try again.
 * @param otp - the code the user entered
 * @throws CrossauthError `Unauthorized` when the request has no session or no request is held;
 *   `InvalidSession` / `Expired`; the factor's error for a wrong code (`InvalidToken`, `Expired`);
 *   `BadRequest` when the held request cannot be run any more (its endpoint no longer exists)
 */
export async function completeStepUp(
  request: EndpointRequest,
  services: EndpointServices,
  otp: string,
): Promise<EndpointResult> {
  const sessionId = requireSessionId(request, STEP_UP);
  const saved = await services.sessionManager.completeTwoFactorPageVisit({ otp }, sessionId);
  const result = await services.redispatch(replayOf(request, saved));
  if (!result) throw new CrossauthError(ErrorCode.BadRequest, "The held request can no longer be run");
  return result;
}

/**
 * Abandons step-up authentication: the held request is discarded.
 * @returns the URL of the discarded request (path and query), when it had one
 * @throws CrossauthError `Unauthorized` when the request has no session or no request is held;
 *   `InvalidSession` / `Expired`
 */
export async function cancelStepUp(
  request: EndpointRequest,
  services: EndpointServices,
): Promise<string | undefined> {
  const sessionId = requireSessionId(request, STEP_UP);
  return (await services.sessionManager.cancelTwoFactorPageVisit(sessionId)).url;
}
