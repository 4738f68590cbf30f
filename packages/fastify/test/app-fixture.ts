/**
 * Test helper for the Fastify plugin: a Fastify app with the plugin over the endpoint harness's
 * SessionManager (in-memory storages, manual clock, email to an SMTP fixture), an API key manager,
 * application routes using the guards, and a cookie jar that follows `Set-Cookie` headers.
 */

import type { EndpointOptionsInput } from "@crossauth/backend";
import { ApiKeyManager, type PageRendererOptions } from "@crossauth/backend";
import { crossauthPlugin, requireAdmin, requireCsrf, requireScope, requireUser } from "@crossauth/fastify";
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from "fastify";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { SmtpFixture } from "../../backend/test/email/smtp-fixture.js";
import {
  type EndpointHarness,
  type EndpointHarnessOptions,
  makeEndpointHarness,
} from "../../backend/test/endpoints/endpoint-harness.js";
import { TEST_PASSWORD, TEST_SECRET } from "../../backend/test/session/flow-context.js";

/** A password that satisfies the default policy, other than the test password. */
export const NEW_PASSWORD = "Battery-Staple-42";

/** Options of {@link buildApp}. */
export interface AppOptions extends Omit<Partial<EndpointHarnessOptions>, "endpoints" | "endpointOptions"> {
  /** Endpoint options of the plugin. */
  endpoints?: EndpointOptionsInput;
  /** Page renderer options of the plugin. */
  pages?: PageRendererOptions;
  /** Body limit of the plugin. */
  bodyLimit?: number;
}

/** An app under test. */
export interface TestApp {
  app: FastifyInstance;
  h: EndpointHarness;
  apiKeyManager: ApiKeyManager;
  close(): Promise<void>;
}

/**
 * Builds an app with the plugin and these application routes: `GET /app/whoami` (the decorations),
 * `GET /app/user` (requireUser), `GET /app/page` (requireUser with redirect), `GET /app/admin`
 * (requireAdmin), `GET /app/scoped` (requireScope read, write), `POST /app/form` (requireCsrf).
 */
export async function buildApp(options: AppOptions = {}): Promise<TestApp> {
  const { endpoints, pages, bodyLimit, ...harnessOptions } = options;
  const h = makeEndpointHarness({ ...harnessOptions, endpoints: [] });
  const apiKeyManager = new ApiKeyManager(h.keyStorage, { secret: TEST_SECRET, now: h.clock.now });
  const app = Fastify();
  await app.register(crossauthPlugin, {
    sessionManager: h.sessionManager,
    apiKeyManager,
    ...(endpoints ? { endpoints } : {}),
    ...(pages ? { pages } : {}),
    ...(bodyLimit ? { bodyLimit } : {}),
  });
  const whoami = async (request: import("fastify").FastifyRequest) => ({
    user: request.user?.username ?? null,
    csrfToken: request.csrfToken ?? null,
    authType: request.authType ?? null,
    apiKey: request.apiKey?.name ?? null,
    scope: request.scope ?? null,
  });
  app.get("/app/whoami", whoami);
  app.get("/app/user", { preHandler: requireUser }, whoami);
  app.get("/app/page", { preHandler: requireUser({ redirectToLogin: true }) }, whoami);
  app.get("/app/admin", { preHandler: requireAdmin }, whoami);
  app.get("/app/scoped", { preHandler: requireScope("read", "write") }, whoami);
  app.post("/app/form", { preHandler: requireCsrf }, whoami);
  await app.ready();
  return {
    app,
    h,
    apiKeyManager,
    async close() {
      await app.close();
      h.close();
    },
  };
}

/** Cookies a browser would keep, following `Set-Cookie` headers. */
export class CookieJar {
  private readonly values = new Map<string, string>();

  /** Applies a response's cookies: an empty or expired cookie is removed. */
  update(response: LightMyRequestResponse): this {
    for (const cookie of response.cookies as { name: string; value: string; expires?: Date }[]) {
      if (cookie.value === "" || (cookie.expires && cookie.expires.getTime() <= Date.now())) {
        this.values.delete(cookie.name);
      } else {
        this.values.set(cookie.name, cookie.value);
      }
    }
    return this;
  }

  /** A cookie's value. */
  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** Sets a cookie by hand. */
  set(name: string, value: string): this {
    this.values.set(name, value);
    return this;
  }

  /** The `Cookie` request header. */
  header(): string {
    return [...this.values].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

/** A JSON body of a response. */
export function json(response: LightMyRequestResponse): Record<string, unknown> {
  return response.json() as Record<string, unknown>;
}

/** The JSON error shape for a code name, number, message and status. */
export function errorShape(errorCode: number, errorCodeName: string, message: string) {
  return { ok: false, errorCode, errorCodeName, errorMessage: message, errorMessages: [message] };
}

/**
 * A browser-like client of an app: keeps cookies, fetches a CSRF token with `GET api/getcsrftoken`
 * and sends it in the header of JSON POSTs.
 */
export class Client {
  readonly jar = new CookieJar();
  csrfToken: string | undefined;

  constructor(
    private readonly app: FastifyInstance,
    private readonly prefix = "/",
  ) {}

  /** GETs a path (relative to the prefix unless it starts with `/`), keeping cookies and the CSRF header. */
  async get(path: string): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      method: "GET",
      url: this.url(path),
      headers: this.cookieHeaders(),
    });
    return this.keep(response);
  }

  /** Keeps a response's cookies and its `X-CROSSAUTH-CSRF` value. */
  keep(response: LightMyRequestResponse): LightMyRequestResponse {
    this.jar.update(response);
    const header = response.headers["x-crossauth-csrf"];
    if (typeof header === "string") this.csrfToken = header;
    return response;
  }

  /** POSTs JSON with the CSRF header (fetched first when there is none yet). */
  async post(path: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    if (this.csrfToken === undefined) await this.get("api/getcsrftoken");
    const response = await this.app.inject({
      method: "POST",
      url: this.url(path),
      headers: { ...this.cookieHeaders(), "x-crossauth-csrf": this.csrfToken as string, ...headers },
      payload: body,
    });
    return this.keep(response);
  }

  /** POSTs a form body (with `csrfToken` unless the body has one) and the cookies. */
  async postForm(path: string, form: Record<string, string>) {
    if (this.csrfToken === undefined) await this.get("api/getcsrftoken");
    const response = await this.app.inject({
      method: "POST",
      url: this.url(path),
      headers: { ...this.cookieHeaders(), "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ csrfToken: this.csrfToken as string, ...form }).toString(),
    });
    return this.keep(response);
  }

  private url(path: string): string {
    return path.startsWith("/") ? path : `${this.prefix}${path}`;
  }

  private cookieHeaders(): Record<string, string> {
    const cookie = this.jar.header();
    return cookie === "" ? {} : { cookie };
  }
}

/** The headers every Crossauth endpoint response carries. */
export const SECURITY_HEADER_VALUES: Readonly<Record<string, string>> = Object.freeze({
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "cache-control": "no-store",
});

/** Asserts that a response clears the session and CSRF cookies. */
export function expectCleared(response: { headers: Record<string, unknown> }): void {
  const cookies = response.headers["set-cookie"] as string[];
  for (const name of ["SESSIONID", "CSRFTOKEN"]) {
    expect(cookies.some((c) => c.startsWith(`${name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT`))).toBe(true);
  }
}

/** What {@link useAppSuite} gives each test: set afresh before every test. */
export interface AppSuite {
  t: TestApp;
  /** The SMTP listener (one per suite). */
  smtp: SmtpFixture;
  /** A client logged in (by `api/login`) as a new user. */
  loggedIn(username: string, fields?: Record<string, unknown>): Promise<Client>;
  /** A client logged in as a new user with the dummy second factor (code `0000`). */
  loggedInWithFactor2(username: string): Promise<Client>;
  /** Whether a password logs a user in (checked without HTTP). */
  passwordWorks(username: string, password: string): Promise<boolean>;
  /** The stored user, whatever its state. */
  storedUser(username: string): Promise<import("@crossauth/common").User>;
  /** The number of sessions stored (anonymous and every user's). */
  sessionCount(): Promise<number>;
}

/**
 * Registers the hooks of an HTTP test suite: an SMTP listener for the suite (its messages emptied
 * before each test) and, before each test, an app built with `options` and the listener's port.
 */
export function useAppSuite(options: AppOptions = {}): AppSuite {
  const suite = {} as AppSuite;
  beforeAll(async () => {
    suite.smtp = await SmtpFixture.start();
  });
  afterAll(async () => {
    await suite.smtp.close();
  });
  beforeEach(async () => {
    suite.smtp.messages.length = 0;
    suite.t = await buildApp({ smtpPort: suite.smtp.port, ...options });
  });
  afterEach(async () => {
    await suite.t.close();
  });
  suite.loggedIn = async (username, fields = {}) => {
    await suite.t.h.createUser({ username, ...fields });
    const client = new Client(suite.t.app);
    expect((await client.post("api/login", { username, password: TEST_PASSWORD })).statusCode).toBe(200);
    return client;
  };
  suite.loggedInWithFactor2 = async (username) => {
    await suite.t.h.createUser({ username, factor2: "dummy" });
    const client = new Client(suite.t.app);
    expect(json(await client.post("api/login", { username, password: TEST_PASSWORD }))).toEqual({
      ok: true,
      twoFactorRequired: true,
    });
    expect((await client.post("api/loginfactor2", { otp: "0000" })).statusCode).toBe(200);
    return client;
  };
  suite.passwordWorks = async (username, password) => {
    try {
      await suite.t.h.sessionManager.login(username, { password });
      return true;
    } catch {
      return false;
    }
  };
  suite.storedUser = async (username) =>
    (
      await suite.t.h.userStorage.getUserByUsername(username, {
        skipActiveCheck: true,
        skipEmailVerifiedCheck: true,
      })
    ).user;
  suite.sessionCount = async () => {
    const { keyStorage, userStorage } = suite.t.h;
    const owners: (string | number | null)[] = [null, ...(await userStorage.getUsers()).map((u) => u.id)];
    let count = 0;
    for (const owner of owners) {
      count += (await keyStorage.getAllForUser(owner)).filter((k) => k.value.startsWith("s:")).length;
    }
    return count;
  };
  return suite;
}
