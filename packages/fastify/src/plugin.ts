/**
 * `crossauthPlugin`: serves every enabled Crossauth endpoint (pages and JSON) and authenticates the
 * application's own routes.
 * @module
 */
import {
  type ApiKeyManager,
  type EndpointOptionsInput,
  EndpointTable,
  type OAuthClientManager,
  type PageRenderer,
  type PageRendererOptions,
  type SessionManager,
} from "@crossauth/backend";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { parseFormBody, parseJsonBody, requestErrorResponse } from "./body-parsers.js";
import { applyCookiesAndHeaders, rawRequestOf, SECURITY_HEADERS, sendResult } from "./http-mapping.js";
import "./types.js";

/** Largest request body Crossauth endpoints accept by default: 64 KiB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** Options of {@link crossauthPlugin}. They are never modified. */
export interface CrossauthPluginOptions {
  /** The session manager (required). */
  sessionManager: SessionManager;
  /** Validates `Authorization: ApiKey` headers; without it they are ignored. */
  apiKeyManager?: ApiKeyManager;
  /** Manages OAuth clients; needed when client-management endpoints are enabled. */
  clientManager?: OAuthClientManager;
  /** Endpoint options: prefixes, redirects, which endpoints exist, step-up. */
  endpoints?: EndpointOptionsInput;
  /** The page renderer or its options (views directory, messages). */
  pages?: PageRenderer | PageRendererOptions;
  /** Largest body a Crossauth endpoint accepts, in bytes; default 64 KiB. */
  bodyLimit?: number;
}

/** The request decorations, set per request by the authentication hook. */
const REQUEST_DECORATIONS = ["user", "csrfToken", "authType", "apiKey", "scope"] as const;

function unsupportedMediaType(): Error {
  return Object.assign(new Error("Unsupported content type"), { statusCode: 415 });
}

/**
 * Crossauth's own routes, in their own context: only JSON and form bodies (others → 415), the error
 * shape for every body failure, and the security headers on every answer.
 */
async function registerEndpoints(
  instance: FastifyInstance,
  table: EndpointTable,
  bodyLimit: number,
): Promise<void> {
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  await instance.register(fastifyFormbody, { parser: parseFormBody, bodyLimit });
  instance.addContentTypeParser("*", (_request, _payload, done) => done(unsupportedMediaType(), undefined));
  instance.setErrorHandler((error, request, reply) => {
    const { status, body } = requestErrorResponse(error);
    if (status >= 500) request.log.error({ err: error }, "Crossauth endpoint failed");
    return reply.code(status).type("application/json; charset=utf-8").send(JSON.stringify(body));
  });
  instance.addHook("onSend", async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });
  for (const route of table.routes()) {
    instance.route({
      method: route.method,
      url: route.fullPath,
      bodyLimit,
      config: { crossauthEndpoint: true },
      handler: async (request, reply) => {
        const params = request.params as Record<string, string>;
        return sendResult(reply, table, await table.dispatchRoute(route, rawRequestOf(request, params)));
      },
    });
  }
}

async function crossauth(fastify: FastifyInstance, options: CrossauthPluginOptions): Promise<void> {
  if (!options?.sessionManager) {
    throw new CrossauthError(ErrorCode.Configuration, "crossauthPlugin needs a sessionManager");
  }
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  if (!Number.isInteger(bodyLimit) || bodyLimit <= 0) {
    throw new CrossauthError(ErrorCode.Configuration, "bodyLimit must be a positive integer");
  }
  const table = new EndpointTable(options.sessionManager, options.endpoints ?? {}, {
    apiKeyManager: options.apiKeyManager,
    clientManager: options.clientManager,
    pages: options.pages,
  });
  if (!fastify.hasRequestDecorator("cookies")) await fastify.register(fastifyCookie);
  if (!fastify.hasContentTypeParser("application/x-www-form-urlencoded")) {
    await fastify.register(fastifyFormbody, { bodyLimit });
  }
  fastify.decorate("crossauth", table);
  for (const name of REQUEST_DECORATIONS) {
    if (!fastify.hasRequestDecorator(name)) fastify.decorateRequest(name, undefined);
  }
  fastify.addHook("onRequest", async (request, reply) => {
    if (request.routeOptions.config?.crossauthEndpoint) return;
    const prepared = await table.authenticate(rawRequestOf(request));
    const authenticated = prepared.request;
    request.user = authenticated.user;
    request.csrfToken = authenticated.csrfToken;
    request.authType = authenticated.authType;
    request.apiKey = authenticated.apiKey;
    request.scope = authenticated.scope;
    if (prepared.result) {
      const { setCookies, clearCookies, headers } = prepared;
      return sendResult(reply, table, { ...prepared.result, setCookies, clearCookies, headers });
    }
    applyCookiesAndHeaders(reply, table, prepared);
  });
  await fastify.register(async (instance) => registerEndpoints(instance, table, bodyLimit));
}

/**
 * The Crossauth Fastify plugin. It registers `@fastify/cookie` and `@fastify/formbody` when the
 * application has not; serves every enabled endpoint of the table under its prefixes (pages and
 * `api/` JSON twins, with the session, CSRF, API-key, access and step-up rules); and, for the
 * application's own routes, resolves the session cookie or API key in an `onRequest` hook, setting
 * `request.user`, `request.csrfToken`, `request.authType`, `request.apiKey` and `request.scope` (a
 * missing or invalid `CSRFTOKEN` cookie is replaced; on GET the `X-CROSSAUTH-CSRF` header carries a
 * fresh value). Guard app routes with `requireUser`, `requireAdmin`, `requireScope` and `requireCsrf`.
 * @throws CrossauthError `Configuration` at registration for bad options
 */
export const crossauthPlugin = fp(crossauth, { fastify: "5.x", name: "@crossauth/fastify" });
