/**
 * What the login, sign-up and second-factor handlers share: the user as clients may see it, the
 * `next` a request carries, redirects that keep it, reading a session's pending-factor data, the
 * data of pages where a code is entered, and logging a user in once a set-up made them active.
 * @module
 */
import { CrossauthError, ErrorCode, type User, UserState } from "@crossauth/common";
import type { Cookie } from "../../session/cookie.js";
import type {
  EndpointAccess,
  EndpointDefinition,
  EndpointFeature,
  EndpointRequest,
  EndpointServices,
  HttpMethod,
} from "../endpoint.js";
import { booleanField, isSafeNext, tokenCookies } from "../endpoint-helpers.js";

/** Fields never sent to a client, should a user object carry them. */
const SECRET_FIELDS: ReadonlySet<string> = new Set(["password", "totpsecret", "otp", "expiry"]);

/**
 * A copy of a user for JSON responses, without anything secret.
 * @param user - the user
 */
export function clientUser(user: User): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(user)) if (!SECRET_FIELDS.has(field)) copy[field] = value;
  return copy;
}

/**
 * The request's `next` (body field, else query parameter) when it is safe, else undefined.
 * @param request - the request
 */
export function safeNext(request: EndpointRequest): string | undefined {
  const next = Object.hasOwn(request.body, "next") ? request.body.next : request.query.next;
  return isSafeNext(next) ? next : undefined;
}

/**
 * The `persist` choice of a login: the field's value when present; when absent, false for a page
 * (its checkbox was left unticked) and undefined — the session cookie's default — for an API.
 * @param kind - the endpoint's kind
 */
export function persistChoice(
  request: EndpointRequest,
  kind: EndpointDefinition["kind"],
): boolean | undefined {
  if (Object.hasOwn(request.body, "persist")) return booleanField(request.body, "persist");
  return kind === "page" ? false : undefined;
}

/**
 * A path with query parameters (those that are undefined are left out).
 * @param path - the path, without a query
 * @param query - parameter values
 */
export function pathWithQuery(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, value);
  const text = params.toString();
  return text === "" ? path : `${path}?${text}`;
}

/**
 * The raw session id of a request.
 * @param request - the request
 * @param what - what the session was needed for, for the error message
 * @throws CrossauthError `Unauthorized` when the request has no session
 */
export function requireSessionId(request: EndpointRequest, what: string): string {
  if (request.sessionId === undefined)
    throw new CrossauthError(ErrorCode.Unauthorized, `No ${what} in progress`);
  return request.sessionId;
}

/**
 * One object-valued field of the request's session data (`2fa`, `pre2fa`, `factor2change`...).
 * @param request - the request
 * @param name - the top-level data field
 * @returns the object, or undefined when there is no session, the session has ended or the field is
 *   not an object
 */
export async function sessionDataField(
  request: EndpointRequest,
  services: EndpointServices,
  name: string,
): Promise<Record<string, unknown> | undefined> {
  if (request.sessionId === undefined) return undefined;
  try {
    const value = (await services.sessionManager.dataForSessionId(request.sessionId))[name];
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch (e) {
    if (e instanceof CrossauthError) return undefined;
    throw e;
  }
}

/** The data of a page where the user enters a second-factor code. */
export interface CodeEntryData {
  /** The factor's name, e.g. `totp`. */
  factor2: string;
  /** The factor's name as users know it, e.g. "Authenticator app". */
  factor2Name: string;
  /** True when the code comes from an app (nothing was sent). */
  appCode: boolean;
  /** What to tell the user. */
  instructions: string;
  [field: string]: unknown;
}

/**
 * The data of a code-entry page for a factor: its friendly name and instructions ("enter the code
 * from your app" or "we sent you a code").
 * @param factor2 - the factor name (untrusted types are tolerated)
 */
export function codeEntryData(services: EndpointServices, factor2: unknown): CodeEntryData {
  const name = typeof factor2 === "string" ? factor2 : "";
  const authenticator = Object.hasOwn(services.sessionManager.authenticators, name)
    ? services.sessionManager.authenticators[name]
    : undefined;
  const appCode = authenticator !== undefined && authenticator.mfaChannel() === "none";
  const m = services.pages.messages;
  return {
    factor2: name,
    factor2Name: authenticator?.friendlyName || name,
    appCode,
    instructions: appCode ? m.appCodeInstructions : m.codeSentInstructions,
  };
}

/**
 * The second factors a user may choose, with their friendly names, for select fields.
 * @param selected - the factor to mark selected (`""` or `none` selects "None")
 */
export function factor2Choices(
  services: EndpointServices,
  selected: unknown,
): { value: string; label: string; selected: boolean }[] {
  const current = typeof selected === "string" && selected !== "" ? selected : "none";
  const choices = [{ value: "none", label: services.pages.messages.factor2None }];
  for (const factor of services.sessionManager.allowedFactor2) {
    choices.push({
      value: factor,
      label: services.sessionManager.authenticators[factor]?.friendlyName || factor,
    });
  }
  return choices.map((c) => ({ ...c, selected: c.value === current }));
}

/**
 * Logs a user in whose second-factor set-up (or removal) just made their account active, when the
 * request's session is anonymous (a sign-up, or a forced second-factor reset after a password
 * login): the user proved the factor, so it is not asked for again. The anonymous session ends.
 * Nothing happens for a logged-in request or a user who is not active.
 * @param user - the user as now stored
 * @returns the new session's cookies and user, or no cookies when nothing was done
 * @throws CrossauthError the errors of `SessionManager.login` (e.g. `Connection`)
 */
export async function loginAfterSetUp(
  request: EndpointRequest,
  services: EndpointServices,
  user: User,
): Promise<{ cookies: Cookie[]; user: User }> {
  if (request.user !== undefined || user.state !== UserState.active) return { cookies: [], user };
  const tokens = await services.sessionManager.login(
    user.username,
    {},
    {},
    undefined,
    user,
    true,
    request.sessionId,
  );
  return { cookies: tokenCookies(tokens), user: tokens.user ?? user };
}

/**
 * An endpoint definition whose CSRF rule follows from its method: every POST of these endpoints
 * creates or changes a session, or is authenticated by one, so it needs a valid CSRF token.
 * @param name - the endpoint name, e.g. `api/login`
 * @param method - GET or POST
 * @param kind - page or api
 * @param access - who may call it
 * @param feature - the group that switches it on
 * @param handler - the handler
 */
export function sessionEndpoint(
  name: string,
  method: HttpMethod,
  kind: EndpointDefinition["kind"],
  access: EndpointAccess,
  feature: EndpointFeature,
  handler: EndpointDefinition["handler"],
): EndpointDefinition {
  return { name, method, kind, csrf: method === "POST", access, feature, handler };
}
