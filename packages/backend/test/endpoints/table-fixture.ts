/**
 * Test helper for the endpoint table and request pipeline: probe definitions whose handlers echo
 * what the pipeline prepared, one definition per feature, raw request builders, and reading the
 * cookies a result sets.
 */
import { CrossauthError, ErrorCode, type User } from "@crossauth/common";
import { afterEach, beforeEach } from "vitest";
import {
  ApiKeyManager,
  apiOk,
  type EndpointAccess,
  type EndpointDefinition,
  type EndpointFeature,
  type EndpointRequest,
  type EndpointResult,
  EndpointTable,
  type HttpMethod,
  type RawEndpointRequest,
  redirectTo,
} from "../../src/index.js";
import { TEST_SECRET } from "../session/flow-context.js";
import { type EndpointHarness, makeEndpointHarness } from "./endpoint-harness.js";

/** What a probe handler saw. */
async function echo(request: EndpointRequest): Promise<EndpointResult> {
  return apiOk({
    seen: {
      user: request.user?.username ?? null,
      sessionId: request.sessionId ?? null,
      authType: request.authType ?? null,
      scope: request.scope ?? null,
      apiKeyName: request.apiKey?.name ?? null,
      csrfToken: request.csrfToken ?? null,
      params: request.params,
      body: request.body,
    },
  });
}

/** A definition with the echo handler unless another is given. */
export function probe(
  name: string,
  method: HttpMethod,
  kind: "api" | "page",
  access: EndpointAccess,
  csrf: boolean,
  feature: EndpointFeature = "session",
  extra: Partial<EndpointDefinition> = {},
): EndpointDefinition {
  return { name, method, kind, access, csrf, feature, handler: echo, ...extra };
}

/** Probe endpoints covering every pipeline rule. */
export const probeDefinitions: readonly EndpointDefinition[] = Object.freeze([
  probe("api/probe", "GET", "api", "any", false),
  probe("api/act", "POST", "api", "any", true),
  probe("api/nocsrf", "POST", "api", "any", false),
  probe("act", "POST", "page", "any", true, "session", {
    handler: async (request) => redirectTo(request.body.next, "/done"),
  }),
  probe("api/mine", "POST", "api", "user", true),
  probe("mine", "GET", "page", "user", false),
  probe("admin/api/thing", "POST", "api", "admin", true, "admin"),
  probe("admin/thing", "GET", "page", "admin", false, "admin", { path: "admin/thing/:id" }),
  probe("item", "GET", "api", "any", false, "session", { path: "item/:id/detail" }),
  probe("api/boom", "GET", "api", "any", false, "session", {
    handler: async () => {
      throw new Error("internal detail that must not leak");
    },
  }),
  probe("boom", "GET", "page", "any", false, "session", {
    handler: async () => {
      throw new CrossauthError(ErrorCode.Connection, "Database is down");
    },
  }),
  probe("api/changepassword", "POST", "api", "user", true),
  probe("changepassword", "POST", "page", "user", true),
]);

/** Every feature, and a definition for each (admin ones under `admin/`). */
export const ALL_FEATURES: readonly EndpointFeature[] = Object.freeze([
  "session",
  "signup",
  "factor2",
  "emailVerification",
  "passwordReset",
  "admin",
  "clientManagement",
  "adminClientManagement",
]);

/** The name of the feature probe of a feature. */
export function featureEndpointName(feature: EndpointFeature): string {
  return feature === "admin" || feature === "adminClientManagement"
    ? `admin/api/${feature}`
    : `api/${feature}`;
}

/** One GET probe per feature. */
export const featureDefinitions: readonly EndpointDefinition[] = Object.freeze(
  ALL_FEATURES.map((feature) => probe(featureEndpointName(feature), "GET", "api", "any", false, feature)),
);

/** Options of {@link raw}. */
export interface RawOptions {
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
  cookies?: Record<string, string>;
  query?: Record<string, string>;
}

/** A raw request as an adapter would hand it over. */
export function raw(method: HttpMethod, path: string, options: RawOptions = {}): RawEndpointRequest {
  const query = { ...options.query };
  const search = new URLSearchParams(query).toString();
  return {
    method,
    path,
    url: search === "" ? path : `${path}?${search}`,
    query,
    body: { ...options.body },
    headers: { ...options.headers },
    cookies: { ...options.cookies },
  };
}

/** The value of a cookie a result sets, by name. */
export function setCookieValue(result: EndpointResult | undefined, name: string): string | undefined {
  return result?.setCookies?.find((c) => c.name === name)?.value;
}

/** What a probe handler saw (the `seen` field of its JSON). */
export function seen(result: EndpointResult | undefined): Record<string, unknown> {
  return (result?.json?.seen ?? {}) as Record<string, unknown>;
}

/** The JSON error answer of a result: its status and body. */
export function errorAnswer(result: EndpointResult | undefined) {
  return { status: result?.status, json: result?.json };
}

/** What {@link usePipelineSuite} gives each test: set afresh before every test. */
export interface PipelineSuite {
  h: EndpointHarness;
  apiKeyManager: ApiKeyManager;
  /** A table of the probe definitions with the API key manager. */
  table: EndpointTable;
  /** A fresh CSRF cookie value and a masked value that matches it. */
  csrfPair(): { cookie: string; token: string };
  /** A new user logged in: its session id and cookies by name. */
  loggedIn(
    username: string,
    fields?: Record<string, unknown>,
  ): Promise<{ user: User; sessionId: string; cookies: Record<string, string> }>;
  /** A masked CSRF value for a CSRF cookie value. */
  csrfFor(cookie: string | undefined): string;
}

/**
 * Registers hooks building, before each test, a harness (second factor `dummy` allowed), an API key
 * manager on its clock and a table of the probe definitions; the harness is closed after each test.
 */
export function usePipelineSuite(): PipelineSuite {
  const suite = {} as PipelineSuite;
  beforeEach(() => {
    const h = makeEndpointHarness({ endpoints: [], allowedFactor2: ["dummy"] });
    suite.h = h;
    suite.apiKeyManager = new ApiKeyManager(h.keyStorage, { secret: TEST_SECRET, now: h.clock.now });
    suite.table = new EndpointTable(
      h.sessionManager,
      {},
      {
        definitions: probeDefinitions,
        apiKeyManager: suite.apiKeyManager,
      },
    );
  });
  afterEach(() => suite.h.close());
  suite.csrfPair = () => {
    const csrf = suite.h.sessionManager.createCsrfToken();
    return { cookie: csrf.csrfCookie.value, token: csrf.csrfFormOrHeaderValue };
  };
  suite.csrfFor = (cookie) => suite.h.sessionManager.createCsrfFormOrHeaderValue(cookie ?? "");
  suite.loggedIn = async (username, fields = {}) => {
    const { user } = await suite.h.createUser({ username, ...fields });
    const session = await suite.h.userSession(user);
    const cookies = Object.fromEntries(session.cookies.map((c) => [c.name, c.value]));
    return { user, sessionId: session.sessionId, cookies };
  };
  return suite;
}
