/**
 * `EndpointTable`: the enabled endpoints with their full paths, and `dispatch`, which runs a request
 * through the pipeline and the endpoint's handler. Framework adapters register one route per entry of
 * `routes()` and turn the returned {@link EndpointResult} into an HTTP response.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";
import type { ApiKeyManager } from "../apikey/api-key-manager.js";
import type { OAuthClientManager } from "../oauth/oauth-client-manager.js";
import {
  type Cookie,
  type CookieOptions,
  makeClearCookieString,
  makeCookieString,
} from "../session/cookie.js";
import type { SessionManager } from "../session/session-manager.js";
import { defaultEndpointDefinitions } from "./default-endpoints.js";
import type { EndpointDefinition, EndpointResult, EndpointServices, HttpMethod } from "./endpoint.js";
import { type EndpointOptions, type EndpointOptionsInput, readEndpointOptions } from "./endpoint-options.js";
import {
  buildRoutes,
  type EndpointRoute,
  enabledFeatures,
  matchPath,
  selectDefinitions,
} from "./endpoint-routes.js";
import { PageRenderer, type PageRendererOptions } from "./page-renderer.js";
import {
  authenticateRequest,
  failureResult,
  type PipelineOptions,
  type PreparedRequest,
  type RawEndpointRequest,
  runPipeline,
  toEndpointRequest,
} from "./request-pipeline.js";

/** What the table needs besides the session manager and its options. */
export interface EndpointTableExtras {
  /** Validates `Authorization: ApiKey` headers; without it they are ignored. */
  apiKeyManager?: ApiKeyManager;
  /** Registers and changes OAuth clients; the client-management endpoints need it. */
  clientManager?: OAuthClientManager;
  /** The page renderer, or its options (default pages with the default messages). */
  pages?: PageRenderer | PageRendererOptions;
  /** The definitions to choose from; default every shipped one ({@link defaultEndpointDefinitions}). */
  definitions?: readonly EndpointDefinition[];
}

/** A route found for a request, with its decoded path parameters. */
export interface RouteMatch {
  route: EndpointRoute;
  params: Record<string, string>;
}

/**
 * The enabled endpoints and their dispatcher. Options are read once, at construction; the inputs are
 * never modified.
 */
/** Endpoint groups that need an OAuth client manager. */
const CLIENT_FEATURES: ReadonlySet<string> = new Set(["clientManagement", "adminClientManagement"]);

export class EndpointTable {
  readonly sessionManager: SessionManager;
  /** The endpoint options after defaults and `CROSSAUTH_*` variables. */
  readonly options: EndpointOptions;
  readonly pages: PageRenderer;
  /** What handlers get; `redispatch` replays a request through this table. */
  readonly services: EndpointServices;
  private readonly routeList: readonly EndpointRoute[];

  /**
   * @param sessionManager - the session manager (its features switch endpoint groups on)
   * @param options - endpoint options (prefixes, redirects, which endpoints, step-up)
   * @param extras - see {@link EndpointTableExtras}
   * @throws CrossauthError `Configuration` for bad options, an unknown or disabled name in an explicit
   *   `endpoints` list, or two endpoints on one route
   */
  constructor(
    sessionManager: SessionManager,
    options: EndpointOptionsInput = {},
    extras: EndpointTableExtras = {},
  ) {
    this.sessionManager = sessionManager;
    this.options = readEndpointOptions(options);
    this.pages = extras.pages instanceof PageRenderer ? extras.pages : new PageRenderer(extras.pages);
    this.services = {
      sessionManager,
      apiKeyManager: extras.apiKeyManager,
      clientManager: extras.clientManager,
      pages: this.pages,
      options: this.options,
      redispatch: (request) => this.dispatch(request, { replay: true }),
    };
    const selected = selectDefinitions(
      extras.definitions ?? defaultEndpointDefinitions,
      enabledFeatures(sessionManager, this.options),
      this.options.endpoints,
    );
    if (!extras.clientManager && selected.some((d) => CLIENT_FEATURES.has(d.feature))) {
      throw new CrossauthError(ErrorCode.Configuration, "OAuth client endpoints need a clientManager");
    }
    this.routeList = Object.freeze(buildRoutes(selected, this.options));
  }

  /** Every enabled endpoint: method, full path and definition. */
  routes(): EndpointRoute[] {
    return [...this.routeList];
  }

  /**
   * The enabled route for a method and request path.
   * @param method - the HTTP method
   * @param path - the path without the query
   */
  match(method: HttpMethod, path: string): RouteMatch | undefined {
    for (const route of this.routeList) {
      if (route.method !== method) continue;
      const params = matchPath(route.fullPath, path);
      if (params) return { route, params };
    }
    return undefined;
  }

  /**
   * Finds the endpoint for a request and runs it (see {@link EndpointTable.dispatchRoute}).
   * @param raw - the request (its `params` are replaced by those of the matched route)
   * @param options - `replay` for a request held for step-up 2FA (no CSRF check, no new step-up)
   * @returns undefined when no enabled endpoint matches the method and path
   */
  async dispatch(
    raw: RawEndpointRequest,
    options: PipelineOptions = {},
  ): Promise<EndpointResult | undefined> {
    const found = this.match(raw.method, raw.path);
    if (!found) return undefined;
    return this.dispatchRoute(found.route, { ...raw, params: found.params }, options);
  }

  /**
   * Runs a request through the pipeline and, unless the pipeline answered, the endpoint's handler. The
   * answer carries the pipeline's cookies and headers merged with the handler's (the handler's win).
   * Never throws: an unexpected failure is answered with the error shape or the error page.
   * @param route - the route the request was matched to
   * @param raw - the request, with the route's path parameters
   * @param options - see {@link EndpointTable.dispatch}
   */
  async dispatchRoute(
    route: EndpointRoute,
    raw: RawEndpointRequest,
    options: PipelineOptions = {},
  ): Promise<EndpointResult> {
    const definition = route.definition;
    let prepared: PreparedRequest | undefined;
    try {
      prepared = await runPipeline(raw, definition, this.services, options);
      const result = prepared.result ?? (await definition.handler(prepared.request, this.services));
      return this.withPipelineOutput(prepared, result);
    } catch (e) {
      CrossauthLogger.logger.error(j({ msg: "Endpoint failed", endpoint: definition.name, err: e }));
      const request = prepared?.request ?? toEndpointRequest(raw);
      const failure = failureResult(definition.kind, request, this.services, e);
      return prepared ? this.withPipelineOutput(prepared, failure) : failure;
    }
  }

  /**
   * Authenticates a request to one of the application's own routes: session cookie or API key, and
   * the CSRF value (see `authenticateRequest`). No endpoint rules apply.
   * @throws storage failures (`Connection`...)
   */
  authenticate(raw: RawEndpointRequest): Promise<PreparedRequest> {
    return authenticateRequest(raw, this.sessionManager, this.services.apiKeyManager);
  }

  /**
   * The `Set-Cookie` header values of a result: expired cookies for `clearCookies` (with the configured
   * domain and path of the session and CSRF cookies), then the cookies of `setCookies`.
   */
  setCookieHeaders(result: Pick<EndpointResult, "setCookies" | "clearCookies">): string[] {
    return [
      ...(result.clearCookies ?? []).map((name) => makeClearCookieString(name, this.cookieAttributes(name))),
      ...(result.setCookies ?? []).map((cookie) => makeCookieString(cookie)),
    ];
  }

  /** The configured attributes of a cookie, by name (path `/` for cookies that are not Crossauth's). */
  private cookieAttributes(name: string): CookieOptions {
    if (name === this.sessionManager.session.cookieName) return this.sessionManager.session.cookieOptions;
    if (name === this.sessionManager.csrfTokens.cookieName)
      return this.sessionManager.csrfTokens.cookieOptions;
    return { path: "/" };
  }

  /**
   * A result with the pipeline's cookies and headers added. For the same cookie name the handler's
   * set or clear wins. A CSRF cookie set by the handler (e.g. at login) gets its own
   * `X-CROSSAUTH-CSRF` value, whatever the method, so that clients can go on without asking for one.
   */
  private withPipelineOutput(prepared: PreparedRequest, result: EndpointResult): EndpointResult {
    const csrfTokens = this.sessionManager.csrfTokens;
    const cookies = new Map<string, Cookie | null>();
    for (const name of prepared.clearCookies) cookies.set(name, null);
    for (const cookie of prepared.setCookies) cookies.set(cookie.name, cookie);
    for (const name of result.clearCookies ?? []) cookies.set(name, null);
    for (const cookie of result.setCookies ?? []) cookies.set(cookie.name, cookie);
    const headers = { ...prepared.headers };
    const handlerCsrf = cookies.get(csrfTokens.cookieName);
    const handlerChangedCsrf =
      result.setCookies?.some((c) => c.name === csrfTokens.cookieName) ||
      result.clearCookies?.includes(csrfTokens.cookieName);
    if (handlerChangedCsrf) {
      delete headers[csrfTokens.headerName];
      if (handlerCsrf) {
        headers[csrfTokens.headerName] = this.sessionManager.createCsrfFormOrHeaderValue(handlerCsrf.value);
      }
    }
    Object.assign(headers, result.headers);
    const setCookies = [...cookies.values()].filter((c): c is Cookie => c !== null);
    const clearCookies = [...cookies.entries()].filter(([, c]) => c === null).map(([name]) => name);
    const { setCookies: _set, clearCookies: _clear, headers: _headers, ...rest } = result;
    return {
      ...rest,
      ...(setCookies.length > 0 ? { setCookies } : {}),
      ...(clearCookies.length > 0 ? { clearCookies } : {}),
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
    };
  }
}
