/**
 * OAuth resource server for Fastify: `resourceServerPlugin` validates `Authorization: Bearer`
 * access tokens (RFC 6750) with `OAuthTokenConsumer`s and decorates the request;
 * `requireAccessToken` refuses requests without a valid token or its scopes, with the RFC 6750
 * `WWW-Authenticate` challenge.
 * @module
 */
import type { OAuthTokenConsumer, UserStorage } from "@crossauth/backend";
import { CrossauthError, CrossauthLogger, ErrorCode, j, type User } from "@crossauth/common";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { CrossauthPreHandler } from "./guards.js";
import "./types.js";

/** The payload of a valid access token, as `OAuthTokenConsumer.tokenAuthorized` returns it. */
export type AccessTokenPayload = NonNullable<Awaited<ReturnType<OAuthTokenConsumer["tokenAuthorized"]>>>;

/** What {@link resourceServerPlugin} records on the Fastify instance. */
export interface ResourceServerInfo {
  /** The `realm` of the `WWW-Authenticate` challenges. */
  readonly realm: string;
  /** The audiences of the token consumers, in the order they are tried. */
  readonly audiences: readonly string[];
}

declare module "fastify" {
  interface FastifyRequest {
    /** The payload of the request's valid bearer access token. */
    accessTokenPayload: AccessTokenPayload | undefined;
    /** Whether the request carried an `Authorization: Bearer` token that was refused (or malformed). */
    accessTokenInvalid: boolean;
  }
  interface FastifyInstance {
    /** Set by the resource server plugin: the realm and audiences it serves. */
    crossauthResourceServer: ResourceServerInfo | undefined;
  }
}

/** Options of {@link resourceServerPlugin}. They are never modified. */
export interface ResourceServerOptions {
  /**
   * Validates the tokens. With several consumers (one per audience), a token goes to the consumers
   * whose audience its `aud` claim names, in the order given; the first that accepts it wins.
   */
  tokenConsumer: OAuthTokenConsumer | readonly OAuthTokenConsumer[];
  /**
   * Resolves `request.user` from the token's `sub`: a `sub` of decimal digits (or a JSON integer) is
   * looked up as a user id, any other string as a username. Without it `request.user` stays unset.
   */
  userStorage?: UserStorage;
  /** The required `type` claim; only `"access"` (the default) is accepted. */
  tokenType?: "access";
  /** The `realm` of the `WWW-Authenticate` challenges; printable ASCII, default `"Crossauth"`. */
  realm?: string;
}

/** Realm of the challenges when none is configured. */
export const DEFAULT_REALM = "Crossauth";

/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 6749 §3.3 `scope-token`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** Longest bearer token considered (as `OAuthTokenConsumer` does). */
const MAX_BEARER_LENGTH = 16 * 1024;
/** User lookup failures that mean "no such user may act": the request goes on without a user. */
const NO_USER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.UserNotExist,
  ErrorCode.UserNotActive,
  ErrorCode.EmailNotVerified,
  ErrorCode.TwoFactorIncomplete,
  ErrorCode.PasswordChangeNeeded,
  ErrorCode.PasswordResetNeeded,
  ErrorCode.Factor2ResetNeeded,
]);

function configError(message: string): CrossauthError {
  return new CrossauthError(ErrorCode.Configuration, message);
}

/** The bearer credentials of an `Authorization` header. */
type Bearer = { kind: "none" } | { kind: "malformed" } | { kind: "token"; token: string };

/**
 * Reads `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235 §2.1). Other schemes
 * and a missing header are `none`; a bearer header whose token is empty or not a `b64token` is
 * `malformed`.
 */
function bearerOf(header: string | undefined): Bearer {
  if (typeof header !== "string") return { kind: "none" };
  const text = header.trim();
  const space = text.search(/[ \t]/);
  const scheme = space < 0 ? text : text.slice(0, space);
  if (scheme.toLowerCase() !== "bearer") return { kind: "none" };
  const token = space < 0 ? "" : text.slice(space).trim();
  if (token.length > MAX_BEARER_LENGTH || !B64TOKEN.test(token)) return { kind: "malformed" };
  return { kind: "token", token };
}

/** The `aud` claim of a token, read without verifying anything (only to pick a consumer). */
function unverifiedAudiences(token: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
    const aud = (payload as { aud?: unknown } | null)?.aud;
    if (typeof aud === "string") return [aud];
    return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === "string") : [];
  } catch {
    return [];
  }
}

/**
 * The scopes a token grants: its `scope` claim as a space-separated string (RFC 9068 §2.2.3) or an
 * array of strings; anything else grants none. Duplicates are dropped.
 * @param payload - a validated token payload
 */
export function scopesOfPayload(payload: AccessTokenPayload): string[] {
  const scope = payload.scope;
  const scopes =
    typeof scope === "string"
      ? scope.split(/[ \t\r\n]+/)
      : Array.isArray(scope)
        ? scope.filter((s): s is string => typeof s === "string")
        : [];
  return [...new Set(scopes.filter((s) => s !== ""))];
}

/**
 * The user a token acts for. None when the `sub` is the token's own `client_id` (a
 * client-credentials token, RFC 9068 §2.2: the client, not a user, is the subject) or is not a
 * string or integer; none for an unknown user or one whose state forbids logging in.
 * @throws storage failures (`Connection`...)
 */
async function userOfPayload(
  payload: AccessTokenPayload,
  userStorage: UserStorage | undefined,
): Promise<User | undefined> {
  const sub: unknown = payload.sub;
  if (userStorage === undefined || sub === undefined || sub === payload.client_id) return undefined;
  let lookup: Promise<{ user: User }>;
  if (typeof sub === "number" && Number.isSafeInteger(sub) && sub >= 0) {
    lookup = userStorage.getUserById(sub, { skipSecrets: true });
  } else if (typeof sub === "string" && /^[0-9]+$/.test(sub) && Number.isSafeInteger(Number(sub))) {
    lookup = userStorage.getUserById(Number(sub), { skipSecrets: true });
  } else if (typeof sub === "string" && sub !== "") {
    lookup = userStorage.getUserByUsername(sub, { skipSecrets: true });
  } else {
    return undefined;
  }
  try {
    return (await lookup).user;
  } catch (e) {
    if (!(e instanceof CrossauthError && NO_USER_CODES.has(e.code))) throw e;
    CrossauthLogger.logger.debug(
      j({ msg: "Access token subject is not a usable user", errorCode: e.codeName }),
    );
    return undefined;
  }
}

function isConsumer(value: unknown): value is OAuthTokenConsumer {
  const c = value as { audience?: unknown; tokenAuthorized?: unknown } | null;
  return (
    typeof c === "object" &&
    c !== null &&
    typeof c.audience === "string" &&
    typeof c.tokenAuthorized === "function"
  );
}

/** Checks the options; returns the consumers and the realm. */
function checkOptions(options: ResourceServerOptions): { consumers: OAuthTokenConsumer[]; realm: string } {
  if (typeof options !== "object" || options === null)
    throw configError("resourceServerPlugin needs options");
  const given = options.tokenConsumer;
  const consumers = Array.isArray(given) ? [...given] : given === undefined ? [] : [given];
  if (consumers.length === 0) throw configError("resourceServerPlugin needs a tokenConsumer");
  if (!consumers.every(isConsumer)) throw configError("tokenConsumer must be OAuthTokenConsumer instances");
  const audiences = consumers.map((c) => c.audience);
  if (new Set(audiences).size !== audiences.length) {
    throw configError("Each token consumer must have its own audience");
  }
  if (options.tokenType !== undefined && options.tokenType !== "access") {
    throw configError('The resource server accepts only tokenType "access"');
  }
  const storage = options.userStorage as { getUserByUsername?: unknown; getUserById?: unknown } | undefined;
  if (
    storage !== undefined &&
    (typeof storage?.getUserByUsername !== "function" || typeof storage.getUserById !== "function")
  ) {
    throw configError("userStorage must be a UserStorage");
  }
  const realm = options.realm ?? DEFAULT_REALM;
  if (typeof realm !== "string" || !/^[\x20-\x7e]*$/.test(realm)) {
    throw configError("realm must be printable ASCII");
  }
  return { consumers, realm };
}

/** Validates a token with the consumers its audience names; the first payload wins. */
async function validate(
  consumers: readonly OAuthTokenConsumer[],
  token: string,
): Promise<AccessTokenPayload | undefined> {
  let candidates = consumers;
  if (consumers.length > 1) {
    const audiences = unverifiedAudiences(token);
    candidates = consumers.filter((c) => audiences.includes(c.audience));
    if (candidates.length === 0) {
      CrossauthLogger.logger.debug(j({ msg: "No token consumer for the access token's audience" }));
    }
  }
  for (const consumer of candidates) {
    const payload = await consumer.tokenAuthorized(token, "access");
    if (payload) return payload;
  }
  return undefined;
}

/** The request decorations, set per request by the hook. */
const REQUEST_DECORATIONS = ["user", "csrfToken", "authType", "apiKey", "scope"] as const;

async function resourceServer(fastify: FastifyInstance, options: ResourceServerOptions): Promise<void> {
  const { consumers, realm } = checkOptions(options);
  const userStorage = options.userStorage;
  if (fastify.hasDecorator("crossauthResourceServer")) {
    throw configError("resourceServerPlugin is already registered");
  }
  const info: ResourceServerInfo = Object.freeze({
    realm,
    audiences: Object.freeze(consumers.map((c) => c.audience)),
  });
  fastify.decorate("crossauthResourceServer", info);
  for (const name of REQUEST_DECORATIONS) {
    if (!fastify.hasRequestDecorator(name)) fastify.decorateRequest(name, undefined);
  }
  fastify.decorateRequest("accessTokenPayload", undefined);
  fastify.decorateRequest("accessTokenInvalid", false);
  fastify.addHook("preValidation", async (request) => {
    if (request.routeOptions.config?.crossauthEndpoint || request.authType === "apiKey") return;
    const bearer = bearerOf(request.headers.authorization);
    if (bearer.kind === "none") return;
    // The bearer token alone authenticates this request: nothing from a session cookie stays.
    request.user = undefined;
    request.apiKey = undefined;
    request.scope = undefined;
    request.authType = undefined;
    if (bearer.kind === "malformed") {
      CrossauthLogger.logger.debug(j({ msg: "Malformed bearer token" }));
      request.accessTokenInvalid = true;
      return;
    }
    const payload = await validate(consumers, bearer.token);
    if (!payload) {
      request.accessTokenInvalid = true;
      return;
    }
    request.accessTokenPayload = payload;
    request.scope = scopesOfPayload(payload);
    request.authType = "oauth";
    request.user = await userOfPayload(payload, userStorage);
  });
}

/**
 * The OAuth resource server plugin (register it with `fastify.register`, alongside
 * `crossauthPlugin` or alone). For every application route it reads `Authorization: Bearer <token>`
 * (RFC 6750 §2.1; tokens in the query or body are not read) in a `preValidation` hook — so after
 * `crossauthPlugin`'s `onRequest` hook, whatever the registration order:
 *
 * - no bearer header (none, or another scheme such as `ApiKey`), or a request `crossauthPlugin`
 *   already authenticated by API key: the request is left alone, and routes decide (see
 *   {@link requireAccessToken});
 * - a bearer token: the token alone authenticates the request — `user`, `apiKey`, `scope` and
 *   `authType` from a session cookie are cleared. A valid token sets `request.accessTokenPayload`,
 *   `request.scope` (from the `scope` claim, a space-separated string or an array), `request.authType
 *   = "oauth"` and, with `userStorage`, `request.user` when the `sub` names a user who may log in (a
 *   `sub` of decimal digits is looked up as a user id, other strings as a username; a `sub` equal to
 *   the token's `client_id` is a client, never a user). A refused or malformed token sets
 *   `request.accessTokenInvalid`.
 *
 * A token that resolves a user passes `requireUser` (and `requireAdmin` for an admin) and skips
 * `requireCsrf` like an API key: guard token routes with scopes. Refused tokens are logged by the
 * consumer with the hash of their `jti`, never the token.
 * @throws CrossauthError `Configuration` at registration for bad options or a second registration
 */
export const resourceServerPlugin = fp(resourceServer, {
  fastify: "5.x",
  name: "@crossauth/fastify-resource-server",
});

/** The challenge of a `WWW-Authenticate` header, with its auth-params as quoted strings. */
function bearerChallenge(realm: string, params: Record<string, string> = {}): string {
  const quote = (value: string) => `"${value.replace(/[\\"]/g, "\\$&")}"`;
  return [
    "Bearer",
    [`realm=${quote(realm)}`, ...Object.entries(params).map(([n, v]) => `${n}=${quote(v)}`)].join(", "),
  ].join(" ");
}

function sendError(
  reply: FastifyReply,
  error: CrossauthError,
  challenge: string,
  oauthError: boolean,
): FastifyReply {
  const body = oauthError ? { ...error.toJSON(), error: error.oauthErrorCode } : error.toJSON();
  return reply
    .code(error.httpStatus)
    .header("www-authenticate", challenge)
    .type("application/json; charset=utf-8")
    .send(JSON.stringify(body));
}

function resourceServerOf(request: FastifyRequest): ResourceServerInfo {
  const info = request.server.crossauthResourceServer;
  if (!info) throw configError("The resource server plugin is not registered");
  return info;
}

/** Whether a request carried a bearer token, valid or not (the resource server's business). */
export function hasBearerToken(request: FastifyRequest): boolean {
  return request.authType === "oauth" || request.accessTokenInvalid === true;
}

/**
 * The `WWW-Authenticate` challenge (`Bearer realm="..."`, no error) for a request without
 * credentials, when the resource server plugin is registered.
 */
export function anonymousBearerChallenge(request: FastifyRequest): string | undefined {
  const info = request.server.crossauthResourceServer;
  return info ? bearerChallenge(info.realm) : undefined;
}

/**
 * Checks a request's access token and scopes, sending the RFC 6750 §3 refusal:
 * no token → 401 `Unauthorized` with `WWW-Authenticate: Bearer realm="..."` (no error, §3.1);
 * invalid token → 401 `InvalidToken`, `error="invalid_token"`; missing scopes → 403
 * `InsufficientScope`, `error="insufficient_scope", scope="<every scope required>"`. The JSON body
 * is the Crossauth error shape, plus `error` (the OAuth error code) for the last two.
 * @returns the reply when refused, undefined to let the route run
 * @throws CrossauthError `Configuration` when the resource server plugin is not registered
 */
export function checkAccessToken(
  request: FastifyRequest,
  reply: FastifyReply,
  scopes: readonly string[],
): FastifyReply | undefined {
  const { realm } = resourceServerOf(request);
  if (request.accessTokenPayload === undefined || request.authType !== "oauth") {
    if (request.accessTokenInvalid !== true) {
      return sendError(
        reply,
        new CrossauthError(ErrorCode.Unauthorized, "An access token is required"),
        bearerChallenge(realm),
        false,
      );
    }
    const error = new CrossauthError(ErrorCode.InvalidToken, "Access token is invalid");
    return sendError(reply, error, bearerChallenge(realm, { error: error.oauthErrorCode }), true);
  }
  const granted = request.scope ?? [];
  const missing = scopes.filter((s) => !granted.includes(s));
  if (missing.length === 0) return undefined;
  const error = new CrossauthError(ErrorCode.InsufficientScope, `Missing scope: ${missing.join(", ")}`);
  const params: Record<string, string> = { error: error.oauthErrorCode };
  if (scopes.every((s) => SCOPE_TOKEN.test(s))) params.scope = scopes.join(" ");
  return sendError(reply, error, bearerChallenge(realm, params), true);
}

/**
 * A preHandler letting through only requests with a valid bearer access token granting every one of
 * `scopes` (none: any valid token). Refusals as in {@link checkAccessToken}: 401 without an error
 * attribute when no token was sent (session and API-key requests included), 401 `invalid_token`,
 * 403 `insufficient_scope` with the required scopes.
 * @param scopes - the scopes required (RFC 6749 §3.3 scope tokens)
 * @throws CrossauthError `Configuration` for a scope that is not a scope token; at request time when
 *   the resource server plugin is not registered
 */
export function requireAccessToken(...scopes: string[]): CrossauthPreHandler {
  for (const scope of scopes) {
    if (typeof scope !== "string" || !SCOPE_TOKEN.test(scope)) {
      throw configError(
        "requireAccessToken needs scope tokens (printable ASCII without space, quote, backslash)",
      );
    }
  }
  const required = [...scopes];
  return async (request, reply) => checkAccessToken(request, reply, required);
}
