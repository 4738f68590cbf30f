/**
 * The framework-neutral shape of an HTTP endpoint: what a handler receives, what it returns, and how
 * it is declared. Adapters (e.g. `@crossauth/fastify`) map real requests and responses onto these.
 * @module
 */
import type { ApiKey, User } from "@crossauth/common";
import type { ApiKeyManager } from "../apikey/api-key-manager.js";
import type { OAuthClientManager } from "../oauth/oauth-client-manager.js";
import type { Cookie } from "../session/cookie.js";
import type { SessionManager } from "../session/session-manager.js";
import type { EndpointOptions } from "./endpoint-options.js";
import type { PageRenderer } from "./page-renderer.js";

/** HTTP methods endpoints use. */
export type HttpMethod = "GET" | "POST";

/** A request as handlers see it, after the adapter parsed it and the pipeline authenticated it. */
export interface EndpointRequest {
  method: HttpMethod;
  /** Path without the query, e.g. `/verifyemail/abc`. */
  path: string;
  /** Path and query, e.g. `/login?next=%2Faccount`. */
  url: string;
  /** Path parameters (`:token`, `:id`, `:client_id`). */
  params: Record<string, string>;
  /** Query parameters (first value of each). */
  query: Record<string, string>;
  /** Parsed JSON or form body (`{}` for GET). Values are untrusted: check their types. */
  body: Record<string, unknown>;
  /** Request headers, lower-case names. */
  headers: Record<string, string | undefined>;
  /** Request cookies. */
  cookies: Record<string, string>;
  /** The logged-in user, when authenticated by session cookie or API key. */
  user?: User;
  /** Raw id of the request's session (user or anonymous), when it has a valid one. */
  sessionId?: string;
  /** How the user was authenticated. */
  authType?: "cookie" | "apiKey";
  /** The API key that authenticated the request. */
  apiKey?: ApiKey;
  /** Scopes granted to the request (from its API key). */
  scope?: string[];
  /** A fresh masked CSRF value for forms and the `X-CROSSAUTH-CSRF` response header. */
  csrfToken?: string;
}

/** A page to render: a template name and its data. */
export interface PageResult {
  template: string;
  data: Record<string, unknown>;
}

/** What a handler returns. Exactly one of `json`, `page` and `redirect` is set. */
export interface EndpointResult {
  status: number;
  json?: Record<string, unknown>;
  page?: PageResult;
  /** Location to redirect to (status 302 or 303). */
  redirect?: string;
  /** Cookies to set. */
  setCookies?: Cookie[];
  /** Names of cookies to clear (the adapter writes an expired cookie with the right attributes). */
  clearCookies?: string[];
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/** What every handler can use. */
export interface EndpointServices {
  sessionManager: SessionManager;
  apiKeyManager?: ApiKeyManager;
  /** Registers and changes OAuth clients; needed by the client-management endpoints. */
  clientManager?: OAuthClientManager;
  pages: PageRenderer;
  options: EndpointOptions;
  /**
   * Runs another endpoint of the table for a request (used to replay a request held for step-up
   * 2FA). The request goes through the same access checks, but not CSRF (it was checked when held).
   * @returns undefined when no enabled endpoint matches the method and path
   */
  redispatch(request: EndpointRequest): Promise<EndpointResult | undefined>;
}

/**
 * Groups that switch endpoints on (http-contract.md, "Which endpoints exist"): `session` always;
 * `signup` always; `emailVerification` / `passwordReset` with those SessionManager features;
 * `factor2` when any second factor is allowed; `admin` with admin endpoints; `clientManagement` /
 * `adminClientManagement` with OAuth client management.
 */
export type EndpointFeature =
  | "session"
  | "signup"
  | "factor2"
  | "emailVerification"
  | "passwordReset"
  | "admin"
  | "clientManagement"
  | "adminClientManagement";

/** Who may call an endpoint. */
export type EndpointAccess =
  /** anyone */
  | "any"
  /** a logged-in user (pages redirect anonymous visitors to `login?next=...`; APIs answer 401) */
  | "user"
  /** an admin (401 `InsufficientPriviledges` otherwise) */
  | "admin";

/** One endpoint of the table. */
export interface EndpointDefinition {
  /** Name from the reference's endpoint lists, e.g. `api/login`, `resetpassword`, `admin/api/createuser`. */
  name: string;
  /** Route relative to the prefix, with parameters, e.g. `verifyemail/:token`. Defaults to `name`. */
  path?: string;
  method: HttpMethod;
  /** `page` renders HTML / redirects; `api` answers JSON. */
  kind: "page" | "api";
  /** Whether a valid CSRF token is required (every state-changing request authenticated by cookie). */
  csrf: boolean;
  access: EndpointAccess;
  /** The group that switches this endpoint on. */
  feature: EndpointFeature;
  handler: (request: EndpointRequest, services: EndpointServices) => Promise<EndpointResult>;
}
