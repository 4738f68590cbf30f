/**
 * PreHandlers for the application's own routes: `requireUser`, `requireAdmin`, `requireScope` and
 * `requireCsrf`. They read what the Crossauth plugin's hook (and the resource server's) put on the
 * request.
 * @module
 */
import { validateRequestCsrf } from "@crossauth/backend";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import type { FastifyReply, FastifyRequest } from "fastify";
import { rawRequestOf } from "./http-mapping.js";
import { anonymousBearerChallenge, checkAccessToken, hasBearerToken } from "./resource-server.js";

/** A preHandler: sends the refusal itself, or returns to let the route run. */
export type CrossauthPreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Options of {@link requireUser} and {@link requireAdmin}. */
export interface GuardOptions {
  /** Send anonymous visitors to the login page (`<prefix>login?next=<url>`, 302) instead of a 401. */
  redirectToLogin?: boolean;
}

/** The table the plugin decorated the instance with. */
function tableOf(request: FastifyRequest) {
  const table = request.server.crossauth;
  if (!table) throw new CrossauthError(ErrorCode.Configuration, "The Crossauth plugin is not registered");
  return table;
}

function refuse(reply: FastifyReply, error: CrossauthError): FastifyReply {
  return reply
    .code(error.httpStatus)
    .type("application/json; charset=utf-8")
    .send(JSON.stringify(error.toJSON()));
}

/** The anonymous visitor's answer: a redirect to the login page, or 401 `Unauthorized`. */
function refuseAnonymous(request: FastifyRequest, reply: FastifyReply, options: GuardOptions): FastifyReply {
  if (!options.redirectToLogin) return refuse(reply, new CrossauthError(ErrorCode.Unauthorized));
  const prefix = tableOf(request).options.prefix;
  return reply.redirect(`${prefix}login?next=${encodeURIComponent(request.url)}`, 302);
}

function isRequest(value: unknown): value is FastifyRequest {
  return typeof value === "object" && value !== null && "raw" in value && "server" in value;
}

/** Builds a preHandler from a check, usable directly or through an options call. */
function guard(
  check: (request: FastifyRequest, reply: FastifyReply, options: GuardOptions) => FastifyReply | undefined,
) {
  function handler(options?: GuardOptions): CrossauthPreHandler;
  function handler(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  function handler(
    first?: GuardOptions | FastifyRequest,
    reply?: FastifyReply,
  ): CrossauthPreHandler | Promise<unknown> {
    if (isRequest(first) && reply) return (async () => check(first, reply, {}))();
    const options = (first ?? {}) as GuardOptions;
    return async (request, r) => check(request, r, options);
  }
  return handler;
}

/**
 * Lets only logged-in users through (by session cookie or an API key with an owner). Use it as
 * `preHandler: requireUser` (anonymous → 401 `Unauthorized`) or
 * `preHandler: requireUser({redirectToLogin: true})` (anonymous → 302 to the login page).
 */
export const requireUser = guard((request, reply, options) =>
  request.user ? undefined : refuseAnonymous(request, reply, options),
);

/**
 * Lets only admins through (the endpoint options' `isAdminFn`, default `user.admin`). Anonymous
 * requests are refused as by {@link requireUser}; other users get 401 `InsufficientPriviledges`.
 */
export const requireAdmin = guard((request, reply, options) => {
  if (!request.user) return refuseAnonymous(request, reply, options);
  if (tableOf(request).options.isAdminFn(request.user)) return undefined;
  return refuse(reply, new CrossauthError(ErrorCode.InsufficientPriviledges));
});

/**
 * Lets through requests whose API key or bearer access token grants every one of the scopes.
 * Unauthenticated requests get 401 `Unauthorized` (with `WWW-Authenticate: Bearer realm="..."` when
 * `resourceServerPlugin` is registered); others without the scopes 403 `InsufficientScope`. Requests
 * that carried a bearer token, valid or not, are answered as by `requireAccessToken` (RFC 6750).
 * @param scopes - the scopes required
 */
export function requireScope(...scopes: string[]): CrossauthPreHandler {
  return async (request, reply) => {
    if (hasBearerToken(request)) return checkAccessToken(request, reply, scopes);
    if (!request.user && !request.apiKey) {
      const challenge = anonymousBearerChallenge(request);
      if (challenge !== undefined) reply.header("www-authenticate", challenge);
      return refuse(reply, new CrossauthError(ErrorCode.Unauthorized));
    }
    const granted = request.scope ?? [];
    const missing = scopes.filter((s) => !granted.includes(s));
    if (missing.length === 0) return undefined;
    return refuse(
      reply,
      new CrossauthError(ErrorCode.InsufficientScope, `Missing scope: ${missing.join(", ")}`),
    );
  };
}

/**
 * Checks the double-submit CSRF token (`X-CROSSAUTH-CSRF` header or `csrfToken` body field against the
 * `CSRFTOKEN` cookie) of state-changing requests to an application route; GET, HEAD and OPTIONS and
 * requests authenticated by an API key or a valid bearer access token (neither is sent by browsers on
 * their own) pass. Failure → 401 `InvalidCsrf`.
 */
export const requireCsrf: CrossauthPreHandler = async (request, reply) => {
  const method = request.method;
  const tokenAuth = request.authType === "apiKey" || request.authType === "oauth";
  if (method === "GET" || method === "HEAD" || method === "OPTIONS" || tokenAuth) return undefined;
  try {
    validateRequestCsrf(rawRequestOf(request), tableOf(request).sessionManager);
    return undefined;
  } catch (e) {
    return refuse(reply, e instanceof CrossauthError ? e : new CrossauthError(ErrorCode.InvalidCsrf));
  }
};
