/**
 * Test helper for endpoint handlers without HTTP: a real SessionManager over in-memory storages (the
 * password, TOTP, email and dummy factors on one manual clock, email to an SMTP fixture), a
 * PageRenderer, endpoint options, and a `redispatch` that runs the given definitions; builders of API
 * and page requests as the request pipeline would hand them over; and rendering of page results.
 */
import type { User, UserInputFields, UserSecretsInputFields } from "@crossauth/common";
import { afterEach, beforeEach, expect } from "vitest";
import { stepUpIfNeeded } from "../../src/endpoints/step-up.js";
import {
  type Cookie,
  type DummyFactor2Authenticator,
  defaultEndpointDefinitions,
  type EmailAuthenticator,
  type EndpointDefinition,
  type EndpointOptionsInput,
  type EndpointRequest,
  type EndpointResult,
  type EndpointServices,
  fullPath,
  type InMemoryKeyStorage,
  type InMemoryUserStorage,
  type LocalPasswordAuthenticator,
  matchPath,
  PageRenderer,
  type PageRendererOptions,
  readEndpointOptions,
  SessionManager,
  type TotpAuthenticator,
  totpCode,
} from "../../src/index.js";
import type { LogCapture, SmtpFixture } from "../email/smtp-fixture.js";
import {
  type FlowFixture,
  type ManualClock,
  makeFlowContext,
  TEST_EMAIL_FROM,
  TEST_SECRET,
  TEST_SITE_URL,
  useFlowSuite,
} from "../session/flow-context.js";

/** Options of {@link makeEndpointHarness}. */
export interface EndpointHarnessOptions {
  /** The definitions `call` and `redispatch` look requests up in; default every shipped one. */
  endpoints?: readonly EndpointDefinition[];
  /** Port of an SMTP fixture; without one, sending email fails with `Configuration`. */
  smtpPort?: number;
  /** Default `["totp", "email", "dummy"]`. */
  allowedFactor2?: string[];
  /** Default true. */
  enableEmailVerification?: boolean;
  /** Default true. */
  enablePasswordReset?: boolean;
  /** The user storage's `userEditableFields`; default `[]`. */
  userEditableFields?: string[];
  /** Endpoint options (defaults and `CROSSAUTH_*` applied by `readEndpointOptions`). */
  endpointOptions?: EndpointOptionsInput;
  /** Page renderer options. */
  pageOptions?: PageRendererOptions;
}

/** What a request builder may set besides method, path and body. */
export interface RequestOptions {
  /** The logged-in user (with `sessionId`, as the pipeline sets them from a session cookie). */
  user?: User;
  /** The raw id of the request's session (user or anonymous). */
  sessionId?: string;
  /** Query parameters. */
  query?: Record<string, string>;
  /** Extra headers (lower-case names). */
  headers?: Record<string, string>;
  /** Request cookies. */
  cookies?: Record<string, string>;
  /** How the user was authenticated; default `cookie` when `user` is set. */
  authType?: "cookie" | "apiKey";
}

/** A session the harness created, with its raw id and cookies. */
export interface TestSession {
  sessionId: string;
  cookies: Cookie[];
}

/** Everything a handler test needs. */
export interface EndpointHarness {
  services: EndpointServices;
  sessionManager: SessionManager;
  keyStorage: InMemoryKeyStorage;
  userStorage: InMemoryUserStorage;
  passwordAuthenticator: LocalPasswordAuthenticator;
  totpAuthenticator: TotpAuthenticator;
  emailAuthenticator: EmailAuthenticator;
  dummyAuthenticator: DummyFactor2Authenticator;
  clock: ManualClock;
  /** A JSON request (`content-type: application/json`); `path` is relative to the prefix unless it starts with `/`. */
  apiRequest(
    method: "GET" | "POST",
    path: string,
    body?: Record<string, unknown>,
    options?: RequestOptions,
  ): EndpointRequest;
  /** A form request (`content-type: application/x-www-form-urlencoded`); `path` as in `apiRequest`. */
  pageRequest(
    method: "GET" | "POST",
    path: string,
    body?: Record<string, unknown>,
    options?: RequestOptions,
  ): EndpointRequest;
  /**
   * Runs the handler of the definition matching the request's method and path (path parameters
   * filled in). With `stepUp`, first applies step-up 2FA as the pipeline does for protected endpoints.
   * @throws Error when no definition matches
   */
  call(request: EndpointRequest, options?: { stepUp?: boolean }): Promise<EndpointResult>;
  /** Renders a page result's template. @throws Error when the result is not a page */
  render(result: EndpointResult): Promise<string>;
  /**
   * Creates a user (default: active, factor1 `localpassword`, email `<username>@example.com`) with
   * the password hashed, and a TOTP secret when `factor2` is `totp`.
   */
  createUser(
    fields: Partial<UserInputFields> & { username: string },
    password?: string,
  ): Promise<{ user: User; secrets: UserSecretsInputFields }>;
  /** A user session for a user, as after a completed login (the second factor is not asked). */
  userSession(user: User): Promise<TestSession>;
  /** An anonymous session with optional data. */
  anonymousSession(data?: Record<string, unknown>): Promise<TestSession>;
  /** A session's data, decoded. */
  sessionData(sessionId: string): Promise<Record<string, unknown>>;
  /** Whether a session still exists (and has not expired). */
  sessionExists(sessionId: string): Promise<boolean>;
  /** The raw session id in a result's session cookie. @throws Error when it sets none */
  sessionIdOf(result: EndpointResult): string;
  /** The current TOTP code of a secret on the harness clock. */
  totp(secret: string): Promise<string>;
  /** Closes the SMTP connections (those of a given flow fixture are its owner's to close). */
  close(): void;
}

/** A cookie a result sets, by name. */
export function cookieSet(result: EndpointResult, name: string): Cookie | undefined {
  return result.setCookies?.find((c) => c.name === name);
}

/**
 * Builds a harness over fresh in-memory storages, or over those of a flow fixture.
 * @param options - see {@link EndpointHarnessOptions}
 * @param fixture - storages, authenticators and clock to use (its owner closes it); default new ones
 */
export function makeEndpointHarness(
  options: EndpointHarnessOptions = {},
  fixture?: FlowFixture,
): EndpointHarness {
  const f =
    fixture ??
    makeFlowContext({
      ...(options.smtpPort === undefined ? {} : { smtpPort: options.smtpPort }),
      userStorageOptions: { userEditableFields: options.userEditableFields ?? [] },
    });
  const { clock, keyStorage, userStorage } = f;
  const smtp =
    options.smtpPort === undefined
      ? { emailFrom: TEST_EMAIL_FROM }
      : { emailFrom: TEST_EMAIL_FROM, smtpHost: "127.0.0.1", smtpPort: options.smtpPort };
  const sessionManager = new SessionManager(
    keyStorage,
    {
      localpassword: f.passwordAuthenticator,
      totp: f.totpAuthenticator,
      email: f.emailAuthenticator,
      dummy: f.dummyAuthenticator,
    },
    {
      userStorage,
      secret: TEST_SECRET,
      allowedFactor2: options.allowedFactor2 ?? ["totp", "email", "dummy"],
      enableEmailVerification: options.enableEmailVerification ?? true,
      enablePasswordReset: options.enablePasswordReset ?? true,
      siteUrl: TEST_SITE_URL,
      ...smtp,
      now: clock.now,
    },
  );
  const endpoints = options.endpoints ?? defaultEndpointDefinitions;
  const endpointOptions = readEndpointOptions(options.endpointOptions ?? {});

  function find(request: EndpointRequest) {
    for (const definition of endpoints) {
      if (definition.method !== request.method) continue;
      const params = matchPath(fullPath(definition, endpointOptions), request.path);
      if (params) return { definition, params };
    }
    return undefined;
  }

  const services: EndpointServices = {
    sessionManager,
    pages: new PageRenderer(options.pageOptions),
    options: endpointOptions,
    async redispatch(request) {
      const found = find(request);
      return found?.definition.handler({ ...request, params: found.params }, services);
    },
  };

  function build(
    contentType: string,
    method: "GET" | "POST",
    path: string,
    body: Record<string, unknown>,
    opts: RequestOptions,
  ): EndpointRequest {
    const full = path.startsWith("/") ? path : `${endpointOptions.prefix}${path}`;
    const query = { ...opts.query };
    const search = new URLSearchParams(query).toString();
    return {
      method,
      path: full,
      url: search === "" ? full : `${full}?${search}`,
      params: {},
      query,
      body: method === "GET" ? {} : { ...body },
      headers: { ...(method === "POST" ? { "content-type": contentType } : {}), ...opts.headers },
      cookies: { ...opts.cookies },
      ...(opts.user ? { user: opts.user, authType: opts.authType ?? "cookie" } : {}),
      ...(opts.sessionId !== undefined ? { sessionId: opts.sessionId } : {}),
      csrfToken: sessionManager.createCsrfToken().csrfFormOrHeaderValue,
    };
  }

  async function tokensSession(promise: ReturnType<SessionManager["login"]>): Promise<TestSession> {
    const tokens = await promise;
    const cookies = [tokens.sessionCookie, tokens.csrfCookie].filter((c): c is Cookie => c !== undefined);
    return { sessionId: tokens.sessionId as string, cookies };
  }

  return {
    services,
    sessionManager,
    keyStorage,
    userStorage,
    passwordAuthenticator: f.passwordAuthenticator,
    totpAuthenticator: f.totpAuthenticator,
    emailAuthenticator: f.emailAuthenticator,
    dummyAuthenticator: f.dummyAuthenticator,
    clock,
    apiRequest: (method, path, body = {}, opts = {}) => build("application/json", method, path, body, opts),
    pageRequest: (method, path, body = {}, opts = {}) =>
      build("application/x-www-form-urlencoded", method, path, body, opts),
    async call(request, callOptions = {}) {
      const found = find(request);
      if (!found) throw new Error(`No endpoint for ${request.method} ${request.path}`);
      const routed = { ...request, params: found.params };
      if (callOptions.stepUp) {
        const held = await stepUpIfNeeded(routed, services, found.definition);
        if (held) return held;
      }
      return found.definition.handler(routed, services);
    },
    async render(result) {
      if (!result.page) throw new Error(`Not a page result: ${JSON.stringify(result)}`);
      return services.pages.render(result.page.template, result.page.data);
    },
    createUser: (fields, password) => f.createUser(fields, password),
    userSession: (user) => tokensSession(sessionManager.login(user.username, {}, {}, undefined, user, true)),
    anonymousSession: (data) => tokensSession(sessionManager.createAnonymousSession({}, data)),
    sessionData: (sessionId) => sessionManager.dataForSessionId(sessionId),
    async sessionExists(sessionId) {
      try {
        await sessionManager.session.getSessionKey(sessionId);
        return true;
      } catch {
        return false;
      }
    },
    sessionIdOf(result) {
      const cookie = cookieSet(result, sessionManager.session.cookieName);
      if (!cookie) throw new Error("The result sets no session cookie");
      return sessionManager.getSessionId(cookie.value);
    },
    totp: (secret) => totpCode(secret, clock.nowMs()),
    close() {
      if (!fixture) f.close();
      sessionManager.tokenEmailer?.transport.close();
    },
  };
}

/** What {@link useEndpointHarness} gives each test: set afresh before every test. */
export interface EndpointSuite {
  /** The SMTP listener (one per suite). */
  smtp: SmtpFixture;
  /** The harness (one per test). */
  h: EndpointHarness;
  /** Everything logged during the test. */
  logs: LogCapture;
  /** Adds values that must not appear in the test's logs (checked after the test; the test password always is). */
  neverLogged(...values: (string | undefined)[]): void;
}

/**
 * Registers the hooks of an endpoint test suite on top of `useFlowSuite`: an SMTP fixture for the
 * suite; before each test fresh storages and authenticators pointed at it, a harness over them and a
 * log capture; after each test everything is closed and the logs are checked to contain none of the
 * secrets named with `neverLogged` (nor the test password).
 * @param options - passed to {@link makeEndpointHarness} (the SMTP port is set)
 */
export function useEndpointHarness(options: EndpointHarnessOptions = {}): EndpointSuite {
  const flow = useFlowSuite({ userStorageOptions: { userEditableFields: options.userEditableFields ?? [] } });
  let h: EndpointHarness | undefined;
  beforeEach(() => {
    h = makeEndpointHarness({ ...options, smtpPort: flow.smtp.port }, flow.f);
  });
  afterEach(() => {
    h?.close();
  });
  return {
    get smtp() {
      return flow.smtp;
    },
    get h() {
      if (!h) throw new Error("The harness exists only inside a test");
      return h;
    },
    get logs() {
      return flow.logs;
    },
    neverLogged: (...values) => flow.neverLogged(...values),
  };
}

/**
 * The JSON error shape of http-contract.md, for exact comparisons.
 * @param code - the error code number
 * @param name - its name, e.g. `InvalidKey`
 * @param messages - the messages (`errorMessage` is them joined with `. `)
 */
export function errorShape(code: number, name: string, ...messages: string[]): Record<string, unknown> {
  return {
    ok: false,
    errorCode: code,
    errorCodeName: name,
    errorMessage: messages.join(". "),
    errorMessages: messages,
  };
}

/** A labelled input as the `field` macro of the default pages renders it. */
export interface FieldHtml {
  name: string;
  label: string;
  /** Default `text`. */
  type?: string;
  autocomplete: string;
  /** The escaped value; default empty. */
  value?: string;
  /** Default true. */
  required?: boolean;
}

/** Asserts that a page has a field of the `field` macro, exactly: its label and its input. */
export function expectField(html: string, field: FieldHtml): void {
  const required = field.required === false ? "" : " required";
  expect(html).toContain(`<label for="${field.name}">${field.label}</label>`);
  expect(html).toContain(
    `<input id="${field.name}" name="${field.name}" type="${field.type ?? "text"}" value="${field.value ?? ""}" autocomplete="${field.autocomplete}"${required}>`,
  );
}

/** Asserts that a page has a POST form to `action` carrying the request's CSRF value. */
export function expectCsrfForm(html: string, action: string, request: EndpointRequest): void {
  expect(html).toContain(`<form method="post" action="${action}"`);
  expect(html).toContain(`<input type="hidden" name="csrfToken" value="${request.csrfToken}">`);
}

/**
 * The JSON of a user made by `createUser` (local password, no second factor, not admin), as handlers
 * send it: without secrets.
 * @param user - the user as created
 * @param changes - fields that differ now (e.g. `{state: "active"}`)
 */
export function userJson(user: User, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const email = String(user.email);
  return {
    id: user.id,
    username: user.username,
    username_normalized: user.username.toLowerCase(),
    email,
    email_normalized: email.toLowerCase(),
    state: "active",
    factor1: "localpassword",
    factor2: "",
    admin: false,
    ...changes,
  };
}

/**
 * Asserts that a result started a two-factor login for a user: its session cookie names an anonymous
 * session whose `2fa` data holds the user and factor.
 * @returns the raw id of that session
 */
export async function expectTwoFactorLogin(
  h: EndpointHarness,
  result: EndpointResult,
  user: User,
  factor2: string,
): Promise<string> {
  const sessionId = h.sessionIdOf(result);
  expect((await h.sessionManager.userForSessionId(sessionId)).user).toBeUndefined();
  expect((await h.sessionData(sessionId))["2fa"]).toMatchObject({ userid: user.id, factor2 });
  return sessionId;
}
