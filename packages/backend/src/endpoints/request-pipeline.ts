/**
 * The request pipeline: what runs before every endpoint handler, framework-neutral. It resolves the
 * session cookie or API key, prepares and checks the CSRF token, enforces the endpoint's access rule
 * and holds requests for step-up 2FA. Adapters call {@link authenticateRequest} for their own app
 * routes; the endpoint table calls {@link runPipeline} before each handler.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";
import { ApiKeyManager } from "../apikey/api-key-manager.js";
import type { Cookie } from "../session/cookie.js";
import type { SessionManager } from "../session/session-manager.js";
import type { EndpointDefinition, EndpointRequest, EndpointResult, EndpointServices } from "./endpoint.js";
import { apiError, loginUrl, pageError } from "./endpoint-helpers.js";
import { stepUpIfNeeded } from "./step-up.js";

/** A request as an adapter hands it over: parsed, but not yet authenticated. */
export type RawEndpointRequest = Pick<
  EndpointRequest,
  "method" | "path" | "url" | "query" | "body" | "headers" | "cookies"
> & {
  /** Path parameters; the endpoint table fills them in from the matched route. */
  params?: Record<string, string>;
};

/** What the pipeline prepared: the request as handlers see it, and what the response must carry. */
export interface PreparedRequest {
  request: EndpointRequest;
  /** Set when the pipeline answers the request itself (bad API key, CSRF or access failure, step-up). */
  result?: EndpointResult;
  /** Cookies to set (e.g. a new `CSRFTOKEN`). */
  setCookies: Cookie[];
  /** Names of cookies to clear (e.g. a `SESSIONID` that failed to verify). */
  clearCookies: string[];
  /** Response headers (the `X-CROSSAUTH-CSRF` value on GET). */
  headers: Record<string, string>;
}

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  /** A replay of a request held for step-up 2FA: its CSRF token was checked when it was held. */
  replay?: boolean;
}

/** Errors that mean the session cookie names no usable session: the cookie is cleared. */
const deadSessionCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.InvalidSession,
  ErrorCode.Expired,
  ErrorCode.InvalidKey,
  ErrorCode.UserNotExist,
]);

/** Errors that mean the session's user may not use it now (the session is kept, the request is anonymous). */
const userStateCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.UserNotActive,
  ErrorCode.EmailNotVerified,
  ErrorCode.TwoFactorIncomplete,
  ErrorCode.PasswordChangeNeeded,
  ErrorCode.PasswordResetNeeded,
  ErrorCode.Factor2ResetNeeded,
]);

function hasCode(e: unknown, codes: ReadonlySet<ErrorCode>): e is CrossauthError {
  return e instanceof CrossauthError && codes.has(e.code);
}

/**
 * The answer to a request the pipeline refuses: the JSON error shape for API endpoints, the generic
 * `error` page with the error's status for page endpoints.
 * @param kind - the endpoint's kind
 * @param request - the request
 * @param services - the endpoint services
 * @param error - what went wrong
 */
export function failureResult(
  kind: EndpointDefinition["kind"],
  request: EndpointRequest,
  services: EndpointServices,
  error: unknown,
): EndpointResult {
  return kind === "api" ? apiError(error) : pageError(request, services, "error", "errorTitle", error);
}

/**
 * Resolves the `SESSIONID` cookie: sets `sessionId`, and `user` with `authType: "cookie"` for a user
 * session. A cookie that fails to verify or names an unknown or expired session is cleared and the
 * request stays anonymous; a session whose user may not log in now (disabled, forced change...) is
 * kept and the request treated as anonymous (its `sessionId` is still set, so that logout can end it).
 * @throws storage failures (`Connection`...)
 */
export async function resolveSession(
  prepared: PreparedRequest,
  sessionManager: SessionManager,
): Promise<void> {
  const cookieName = sessionManager.session.cookieName;
  const cookieValue = prepared.request.cookies[cookieName];
  if (cookieValue === undefined) return;
  try {
    const sessionId = sessionManager.getSessionId(cookieValue);
    const { user } = await sessionManager.userForSessionId(sessionId);
    prepared.request.sessionId = sessionId;
    if (user) {
      prepared.request.user = user;
      prepared.request.authType = "cookie";
    }
  } catch (e) {
    if (hasCode(e, deadSessionCodes)) {
      CrossauthLogger.logger.debug(j({ msg: "Session cookie rejected", errorCode: e.codeName }));
      prepared.clearCookies.push(cookieName);
      return;
    }
    if (hasCode(e, userStateCodes)) {
      CrossauthLogger.logger.debug(j({ msg: "Session user may not log in", errorCode: e.codeName }));
      return;
    }
    throw e;
  }
}

/** The token of an `Authorization: <scheme> <token>` header (scheme compared case-insensitively). */
function apiKeyToken(header: string | undefined, scheme: string): string | undefined {
  if (header === undefined || header.length <= scheme.length + 1) return undefined;
  if (header.slice(0, scheme.length + 1).toLowerCase() !== `${scheme.toLowerCase()} `) return undefined;
  const token = header.slice(scheme.length + 1).trim();
  return token === "" ? undefined : token;
}

/**
 * Resolves the token of an `Authorization: ApiKey <token>` header: sets `apiKey`, `scope`,
 * `authType: "apiKey"` and, for a key with an owner, `user`.
 * @returns a 401 `InvalidKey` JSON error for a key that is invalid, expired or whose owner is gone; the
 *   owner's state error (e.g. 403 `UserNotActive`) when the owner may not log in
 * @throws storage failures (`Connection`...)
 */
export async function resolveApiKey(
  prepared: PreparedRequest,
  sessionManager: SessionManager,
  apiKeyManager: ApiKeyManager,
  token: string,
): Promise<EndpointResult | undefined> {
  const request = prepared.request;
  try {
    const { key, owner } = await apiKeyManager.validateTokenWithOwner(token, sessionManager.userStorage);
    request.user = owner;
    request.apiKey = key;
    request.scope = ApiKeyManager.scopesOf(key);
    request.authType = "apiKey";
    return undefined;
  } catch (e) {
    request.user = undefined;
    if (hasCode(e, userStateCodes)) return apiError(e);
    if (e instanceof CrossauthError && e.code !== ErrorCode.Connection) {
      CrossauthLogger.logger.debug(j({ msg: "API key rejected", errorCode: e.codeName }));
      return apiError(new CrossauthError(ErrorCode.InvalidKey, "API key is invalid"));
    }
    throw e;
  }
}

/**
 * Gives the request a fresh masked CSRF value (`request.csrfToken`) for its `CSRFTOKEN` cookie; a
 * missing or invalid cookie is replaced by a new one. On GET the value is also sent in the
 * `X-CROSSAUTH-CSRF` response header.
 */
export function prepareCsrf(prepared: PreparedRequest, sessionManager: SessionManager): void {
  const cookieValue = prepared.request.cookies[sessionManager.csrfTokens.cookieName];
  let csrfToken: string | undefined;
  if (cookieValue !== undefined) {
    try {
      csrfToken = sessionManager.createCsrfFormOrHeaderValue(cookieValue);
    } catch (e) {
      if (!(e instanceof CrossauthError && e.code === ErrorCode.InvalidCsrf)) throw e;
    }
  }
  if (csrfToken === undefined) {
    const csrf = sessionManager.createCsrfToken();
    prepared.setCookies.push(csrf.csrfCookie);
    csrfToken = csrf.csrfFormOrHeaderValue;
  }
  prepared.request.csrfToken = csrfToken;
  if (prepared.request.method === "GET") prepared.headers[sessionManager.csrfTokens.headerName] = csrfToken;
}

/**
 * Validates a request's double-submit CSRF token: the `X-CROSSAUTH-CSRF` header, else the `csrfToken`
 * body field, against the `CSRFTOKEN` cookie.
 * @param request - headers (lower-case names), parsed body and cookies
 * @throws CrossauthError `InvalidCsrf` when the token is missing, malformed or does not match
 */
export function validateRequestCsrf(
  request: Pick<EndpointRequest, "headers" | "body" | "cookies">,
  sessionManager: SessionManager,
): void {
  const csrfTokens = sessionManager.csrfTokens;
  const header = request.headers[csrfTokens.headerName.toLowerCase()];
  const field = Object.hasOwn(request.body, "csrfToken") ? request.body.csrfToken : undefined;
  const submitted = header ?? (typeof field === "string" ? field : undefined);
  sessionManager.validateDoubleSubmitCsrfToken(request.cookies[csrfTokens.cookieName], submitted);
}

/**
 * Checks the double-submit CSRF token of a state-changing request: the `X-CROSSAUTH-CSRF` header,
 * else the `csrfToken` body field, must match the `CSRFTOKEN` cookie. Requests authenticated by an
 * API key need none; nor do definitions with `csrf: false` or GETs.
 * @returns the 401 `InvalidCsrf` answer, or undefined when the request may go on
 */
export function checkCsrf(
  request: EndpointRequest,
  definition: EndpointDefinition,
  services: EndpointServices,
): EndpointResult | undefined {
  if (!definition.csrf || request.method === "GET" || request.authType === "apiKey") return undefined;
  try {
    validateRequestCsrf(request, services.sessionManager);
    return undefined;
  } catch (e) {
    const error = e instanceof CrossauthError ? e : new CrossauthError(ErrorCode.InvalidCsrf);
    CrossauthLogger.logger.debug(j({ msg: "CSRF check failed", endpoint: definition.name }));
    return failureResult(definition.kind, request, services, error);
  }
}

/**
 * Enforces the endpoint's `access`: `user` needs a logged-in user (pages redirect to the login page,
 * APIs answer 401 `Unauthorized`); `admin` needs an admin (anonymous page visitors are sent to log in;
 * everyone else gets 401 `InsufficientPriviledges`).
 * @returns the refusal, or undefined when the request may go on
 */
export function checkAccess(
  request: EndpointRequest,
  definition: EndpointDefinition,
  services: EndpointServices,
): EndpointResult | undefined {
  if (definition.access === "any") return undefined;
  const user = request.user;
  if (!user && definition.kind === "page") return { status: 302, redirect: loginUrl(request, services) };
  if (definition.access === "user") {
    return user
      ? undefined
      : failureResult(definition.kind, request, services, new CrossauthError(ErrorCode.Unauthorized));
  }
  if (user && services.options.isAdminFn(user)) return undefined;
  return failureResult(
    definition.kind,
    request,
    services,
    new CrossauthError(ErrorCode.InsufficientPriviledges),
  );
}

/** An anonymous endpoint request with the raw request's fields (and its own `params` object). */
export function toEndpointRequest(raw: RawEndpointRequest): EndpointRequest {
  return {
    method: raw.method,
    path: raw.path,
    url: raw.url,
    params: { ...raw.params },
    query: raw.query,
    body: raw.body,
    headers: raw.headers,
    cookies: raw.cookies,
  };
}

/**
 * Authenticates a request without looking at any endpoint: the API key (when the request carries one,
 * the session cookie is not consulted, and no CSRF value is prepared: an API-key client is not a
 * browser) or the session cookie and the CSRF value. Adapters use it for
 * the application's own routes.
 * @param raw - the request
 * @param sessionManager - the session manager
 * @param apiKeyManager - validates `Authorization: ApiKey` headers; without it they are ignored
 * @returns the prepared request; `result` is set for a refused API key
 * @throws storage failures (`Connection`...)
 */
export async function authenticateRequest(
  raw: RawEndpointRequest,
  sessionManager: SessionManager,
  apiKeyManager?: ApiKeyManager,
): Promise<PreparedRequest> {
  const prepared: PreparedRequest = {
    request: toEndpointRequest(raw),
    setCookies: [],
    clearCookies: [],
    headers: {},
  };
  const token = apiKeyManager && apiKeyToken(raw.headers.authorization, apiKeyManager.authScheme);
  if (apiKeyManager !== undefined && token !== undefined) {
    // A client sending an API key is not a browser: it gets no CSRF cookie or token.
    prepared.result = await resolveApiKey(prepared, sessionManager, apiKeyManager, token);
    return prepared;
  }
  await resolveSession(prepared, sessionManager);
  prepareCsrf(prepared, sessionManager);
  return prepared;
}

/**
 * Everything before an endpoint's handler: authentication, CSRF, access, and step-up 2FA for POSTs to
 * the endpoints in `options.factor2ProtectedEndpoints`. A replay (see {@link PipelineOptions}) skips
 * the CSRF check and step-up.
 * @param raw - the request, with the route's path parameters
 * @param definition - the endpoint
 * @param services - the endpoint services
 * @returns the prepared request; `result` is set when the pipeline answers the request itself
 * @throws storage failures (`Connection`...)
 */
export async function runPipeline(
  raw: RawEndpointRequest,
  definition: EndpointDefinition,
  services: EndpointServices,
  options: PipelineOptions = {},
): Promise<PreparedRequest> {
  const prepared = await authenticateRequest(raw, services.sessionManager, services.apiKeyManager);
  if (prepared.result) return prepared;
  const request = prepared.request;
  prepared.result =
    (options.replay ? undefined : checkCsrf(request, definition, services)) ??
    checkAccess(request, definition, services) ??
    (options.replay ? undefined : await stepUpIfNeeded(request, services, definition));
  return prepared;
}
