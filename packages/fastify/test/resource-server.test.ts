/**
 * The OAuth resource server over HTTP (`fastify.inject`): `resourceServerPlugin` decorations for
 * static-key tokens and tokens of a real OpenID provider (`oidc-provider`, client credentials), user
 * resolution, the RFC 6750 refusals of `requireAccessToken` and `requireScope`, and session and
 * API-key requests left as they were.
 */
import { ApiKeyManager, OAuthTokenConsumer } from "@crossauth/backend";
import { ErrorCode, UserState } from "@crossauth/common";
import {
  crossauthPlugin,
  type ResourceServerOptions,
  requireAccessToken,
  requireCsrf,
  requireScope,
  requireUser,
  resourceServerPlugin,
} from "@crossauth/fastify";
import Fastify, { type FastifyInstance, type FastifyRequest, type LightMyRequestResponse } from "fastify";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type EndpointHarness, makeEndpointHarness } from "../../backend/test/endpoints/endpoint-harness.js";
import {
  AUDIENCE,
  b64json,
  captureLogs,
  claims,
  ISSUER,
  makeKey,
  NOW,
  NOW_S,
  type ProviderFixture,
  signToken,
  startProvider,
  type TestKey,
} from "../../backend/test/oauth/fixtures.js";
import { TEST_PASSWORD, TEST_SECRET } from "../../backend/test/session/flow-context.js";
import { Client, errorShape, json } from "./app-fixture.js";

/** Audience of the provider's tokens in the several-consumers app. */
const PROVIDER_AUDIENCE = "https://provider-api.test.example";
const REALM = "test-api";
const BARE_CHALLENGE = `Bearer realm="${REALM}"`;
const INVALID_CHALLENGE = `Bearer realm="${REALM}", error="invalid_token"`;
const INVALID_BODY = { ...errorShape(36, "InvalidToken", "Access token is invalid"), error: "invalid_token" };
const MISSING_BODY = errorShape(14, "Unauthorized", "An access token is required");

let rsa: TestKey;
let provider: ProviderFixture;
let logs: ReturnType<typeof captureLogs>;
/** Every token a test sent: none may appear in the logs. */
let sent: string[];

beforeAll(async () => {
  rsa = await makeKey("RS256");
  const providerKey = await makeKey("RS256", "provider-key");
  provider = await startProvider([providerKey.privateJwk]);
});
afterAll(async () => {
  await provider?.close();
});
beforeEach(() => {
  logs = captureLogs();
  sent = [];
});
afterEach(() => {
  logs.restore();
  const text = logs.text();
  for (const token of sent) expect(text).not.toContain(token);
});

/** A consumer of static-key (RSA) tokens for `AUDIENCE`, at the fixtures' fixed time. */
function staticConsumer(): OAuthTokenConsumer {
  return new OAuthTokenConsumer(AUDIENCE, {
    authServerBaseUrl: ISSUER,
    jwtPublicKey: rsa.publicPem,
    jwtKeyType: "RS256",
    now: () => NOW,
  });
}

/** A consumer of the provider's tokens for `PROVIDER_AUDIENCE` (discovery and JWKS on first use). */
function providerConsumer(): OAuthTokenConsumer {
  return new OAuthTokenConsumer(PROVIDER_AUDIENCE, { authServerBaseUrl: provider.issuer });
}

/** A static-key token with the fixtures' valid claims and `overrides` (undefined removes a claim). */
async function staticToken(overrides: Record<string, unknown> = {}): Promise<string> {
  const token = await signToken(claims(overrides), rsa.privateKey, { alg: "RS256" });
  sent.push(token);
  return token;
}

/** An app under test. */
interface RsApp {
  app: FastifyInstance;
  h: EndpointHarness;
  apiKeyManager: ApiKeyManager;
  close(): Promise<void>;
}

/** How {@link buildRsApp} sets the app up. */
interface RsAppOptions {
  /** The consumers; default the static one. */
  consumers?: OAuthTokenConsumer[];
  /** Give the resource server the harness's user storage; default true. */
  withUsers?: boolean;
  /** Where `crossauthPlugin` is registered relative to the resource server; default `before`. */
  crossauth?: "before" | "after" | "none";
}

/**
 * An app with `crossauthPlugin` (over the endpoint harness, with an API key manager) and
 * `resourceServerPlugin`, and these routes: `GET /rs/whoami` (the decorations), `GET /rs/any`
 * (requireAccessToken()), `GET /rs/read` (requireAccessToken read), `GET /rs/readwrite`
 * (requireAccessToken read, write), `GET /rs/scoped` (requireScope read, write), `GET /rs/user`
 * (requireUser), `POST /rs/form` (requireCsrf).
 */
async function buildRsApp(options: RsAppOptions = {}): Promise<RsApp> {
  const h = makeEndpointHarness({ endpoints: [] });
  const apiKeyManager = new ApiKeyManager(h.keyStorage, { secret: TEST_SECRET, now: h.clock.now });
  const app = Fastify();
  const order = options.crossauth ?? "before";
  const crossauth = () => app.register(crossauthPlugin, { sessionManager: h.sessionManager, apiKeyManager });
  if (order === "before") await crossauth();
  const rsOptions: ResourceServerOptions = {
    tokenConsumer: options.consumers ?? [staticConsumer()],
    realm: REALM,
    ...(options.withUsers === false ? {} : { userStorage: h.userStorage }),
  };
  await app.register(resourceServerPlugin, rsOptions);
  if (order === "after") await crossauth();
  const whoami = async (request: FastifyRequest) => ({
    user: request.user?.username ?? null,
    authType: request.authType ?? null,
    apiKey: request.apiKey?.name ?? null,
    scope: request.scope ?? null,
    payload: request.accessTokenPayload ?? null,
    invalid: request.accessTokenInvalid,
  });
  app.get("/rs/whoami", whoami);
  app.get("/rs/any", { preHandler: requireAccessToken() }, whoami);
  app.get("/rs/read", { preHandler: requireAccessToken("read") }, whoami);
  app.get("/rs/readwrite", { preHandler: requireAccessToken("read", "write") }, whoami);
  app.get("/rs/scoped", { preHandler: requireScope("read", "write") }, whoami);
  app.get("/rs/user", { preHandler: requireUser }, whoami);
  app.post("/rs/form", { preHandler: requireCsrf }, whoami);
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

/** GETs a path with an `Authorization` header (none when undefined). */
function get(app: FastifyInstance, url: string, authorization?: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: "GET", url, headers: authorization === undefined ? {} : { authorization } });
}

/** GETs a path with `Authorization: Bearer <token>`. */
function getWithToken(app: FastifyInstance, url: string, token: string): Promise<LightMyRequestResponse> {
  return get(app, url, `Bearer ${token}`);
}

/** Asserts an RFC 6750 `invalid_token` refusal. */
function expectInvalidToken(response: LightMyRequestResponse): void {
  expect(response.statusCode).toBe(401);
  expect(response.headers["www-authenticate"]).toBe(INVALID_CHALLENGE);
  expect(json(response)).toEqual(INVALID_BODY);
}

/** Asserts the refusal of a request that sent no bearer token. */
function expectNoToken(response: LightMyRequestResponse): void {
  expect(response.statusCode).toBe(401);
  expect(response.headers["www-authenticate"]).toBe(BARE_CHALLENGE);
  expect(json(response)).toEqual(MISSING_BODY);
}

let t: RsApp;
/** Apps built inside a test, closed after it. */
const extraApps: RsApp[] = [];
beforeEach(async () => {
  t = await buildRsApp();
});
afterEach(async () => {
  await t.close();
  for (const extra of extraApps.splice(0)) await extra.close();
});

/** Builds another app for one test. */
async function extraApp(options: RsAppOptions): Promise<RsApp> {
  const built = await buildRsApp(options);
  extraApps.push(built);
  return built;
}

describe("valid static-key tokens", () => {
  it("decorate the request: payload, scope from a string claim, authType and the user by username", async () => {
    await t.h.createUser({ username: "alice" });
    const token = await staticToken({ sub: "alice", scope: "read write" });
    const whoami = await getWithToken(t.app, "/rs/whoami", token);
    expect(whoami.statusCode).toBe(200);
    expect(json(whoami)).toMatchObject({
      user: "alice",
      authType: "oauth",
      apiKey: null,
      scope: ["read", "write"],
      payload: { sub: "alice", aud: AUDIENCE, iss: ISSUER, type: "access", scope: "read write" },
      invalid: false,
    });
    for (const url of ["/rs/any", "/rs/read", "/rs/readwrite", "/rs/scoped", "/rs/user"]) {
      expect((await getWithToken(t.app, url, token)).statusCode).toBe(200);
    }
    const lowerCase = await get(t.app, "/rs/readwrite", `bearer  ${token}`);
    expect(json(lowerCase)).toMatchObject({ user: "alice", authType: "oauth" });
  });

  it("read an array scope claim (duplicates dropped) and grant no scope without one", async () => {
    const array = await staticToken({ scope: ["write", "read", "write"] });
    expect(json(await getWithToken(t.app, "/rs/readwrite", array)).scope).toEqual(["write", "read"]);
    const none = await staticToken({ scope: undefined });
    expect(json(await getWithToken(t.app, "/rs/any", none))).toMatchObject({ scope: [], authType: "oauth" });
    const refused = await getWithToken(t.app, "/rs/read", none);
    expect(refused.statusCode).toBe(403);
    expect(refused.headers["www-authenticate"]).toBe(
      `Bearer realm="${REALM}", error="insufficient_scope", scope="read"`,
    );
  });
});

describe("user resolution", () => {
  it("looks a numeric sub up by id and any other sub by username", async () => {
    const { user: bob } = await t.h.createUser({ username: "bob" });
    await t.h.createUser({ username: "12345" });
    const byId = await staticToken({ sub: String(bob.id) });
    expect(json(await getWithToken(t.app, "/rs/whoami", byId)).user).toBe("bob");
    const digitsName = await staticToken({ sub: "12345" });
    expect(json(await getWithToken(t.app, "/rs/whoami", digitsName))).toMatchObject({
      user: null,
      authType: "oauth",
    });
  });

  it("leaves the user unset for an unknown or inactive user, a client subject, or no user storage", async () => {
    await t.h.createUser({ username: "carol", state: UserState.disabled });
    await t.h.createUser({ username: "svc" });
    const cases = [
      await staticToken({ sub: "nobody" }),
      await staticToken({ sub: "carol" }),
      await staticToken({ sub: "svc", client_id: "svc" }),
      await staticToken({ sub: undefined }),
    ];
    for (const token of cases) {
      const whoami = await getWithToken(t.app, "/rs/whoami", token);
      expect(json(whoami)).toMatchObject({ user: null, authType: "oauth", scope: ["read"], invalid: false });
      expect((await getWithToken(t.app, "/rs/read", token)).statusCode).toBe(200);
      expect((await getWithToken(t.app, "/rs/user", token)).statusCode).toBe(401);
    }
    const noUsers = await extraApp({ withUsers: false });
    await noUsers.h.createUser({ username: "alice" });
    const alice = await staticToken({ sub: "alice" });
    expect(json(await getWithToken(noUsers.app, "/rs/whoami", alice))).toMatchObject({
      user: null,
      authType: "oauth",
    });
  });
});

describe("refusals of requireAccessToken", () => {
  it("answers a request without a bearer token 401 with a challenge without error", async () => {
    expectNoToken(await get(t.app, "/rs/read"));
    expectNoToken(await get(t.app, "/rs/any", "Basic dXNlcjpwYXNz"));
    expectNoToken(await get(t.app, "/rs/any", "Bearertoken"));
    const whoami = await get(t.app, "/rs/whoami");
    expect(json(whoami)).toMatchObject({
      user: null,
      authType: null,
      scope: null,
      payload: null,
      invalid: false,
    });
  });

  it("answers expired, tampered, wrong-audience and other bad tokens 401 invalid_token", async () => {
    const valid = await staticToken({ scope: "read write" });
    const [header, , signature] = valid.split(".");
    const tampered = `${header}.${b64json(claims({ scope: "read write admin" }))}.${signature}`;
    const unsigned = `${b64json({ alg: "none" })}.${b64json(claims())}.`;
    sent.push(tampered, unsigned);
    const bad: Record<string, string> = {
      expired: await staticToken({ iat: NOW_S - 600, exp: NOW_S - 60 }),
      "not yet valid": await staticToken({ nbf: NOW_S + 120 }),
      tampered,
      "wrong audience": await staticToken({ aud: "https://other-api.example" }),
      "wrong issuer": await staticToken({ iss: "https://evil.example" }),
      "refresh token": await staticToken({ type: "refresh" }),
      "alg none": unsigned,
      truncated: valid.slice(0, -10),
      "not a token": "not.a.token",
    };
    for (const [name, token] of Object.entries(bad)) {
      const response = await getWithToken(t.app, "/rs/read", token);
      expect(response.statusCode, name).toBe(401);
      expect(response.headers["www-authenticate"], name).toBe(INVALID_CHALLENGE);
      expect(json(response), name).toEqual(INVALID_BODY);
      expect(json(await getWithToken(t.app, "/rs/whoami", token)), name).toMatchObject({
        user: null,
        authType: null,
        scope: null,
        payload: null,
        invalid: true,
      });
    }
    for (const header of [
      "Bearer",
      "Bearer   ",
      "Bearer a b",
      'Bearer "quoted"',
      `Bearer ${"a".repeat(17000)}`,
    ]) {
      expectInvalidToken(await get(t.app, "/rs/any", header));
    }
    expect((await getWithToken(t.app, "/rs/read", valid)).statusCode).toBe(200);
    // The consumer logged the refusals (with jti hashes); the afterEach hook checks no token is there.
    expect(logs.text()).toContain("Token refused");
  });

  it("answers a valid token without every scope 403 insufficient_scope, naming the scopes required", async () => {
    const token = await staticToken({ scope: "read" });
    const response = await getWithToken(t.app, "/rs/readwrite", token);
    expect(response.statusCode).toBe(403);
    expect(response.headers["www-authenticate"]).toBe(
      `Bearer realm="${REALM}", error="insufficient_scope", scope="read write"`,
    );
    expect(json(response)).toEqual({
      ...errorShape(17, "InsufficientScope", "Missing scope: write"),
      error: "insufficient_scope",
    });
  });
});

describe("requireScope with bearer tokens", () => {
  it("gives bearer requests the RFC 6750 answers and anonymous ones a Bearer challenge", async () => {
    expect(
      (await getWithToken(t.app, "/rs/scoped", await staticToken({ scope: "read write" }))).statusCode,
    ).toBe(200);
    const partial = await getWithToken(t.app, "/rs/scoped", await staticToken({ scope: "write" }));
    expect(partial.statusCode).toBe(403);
    expect(partial.headers["www-authenticate"]).toBe(
      `Bearer realm="${REALM}", error="insufficient_scope", scope="read write"`,
    );
    expect(json(partial)).toMatchObject({ errorCodeName: "InsufficientScope", error: "insufficient_scope" });
    expectInvalidToken(await getWithToken(t.app, "/rs/scoped", await staticToken({ exp: NOW_S - 60 })));
    const anonymous = await get(t.app, "/rs/scoped");
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBe(BARE_CHALLENGE);
    expect(json(anonymous)).toEqual(errorShape(14, "Unauthorized", "Not authorized"));
  });
});

describe("session and API-key requests", () => {
  it("leaves API-key requests alone: requireScope as before, requireAccessToken refuses without error", async () => {
    const { user } = await t.h.createUser({ username: "alice" });
    const full = await t.apiKeyManager.createKey("full", user.id, { scope: ["read", "write"] });
    const readOnly = await t.apiKeyManager.createKey("ro", user.id, { scope: ["read"] });
    sent.push(full.token, readOnly.token);
    const whoami = await get(t.app, "/rs/whoami", `ApiKey ${full.token}`);
    expect(json(whoami)).toEqual({
      user: "alice",
      authType: "apiKey",
      apiKey: "full",
      scope: ["read", "write"],
      payload: null,
      invalid: false,
    });
    const scoped = await get(t.app, "/rs/scoped", `ApiKey ${full.token}`);
    expect(scoped.statusCode).toBe(200);
    expect(scoped.headers["www-authenticate"]).toBeUndefined();
    const refused = await get(t.app, "/rs/scoped", `ApiKey ${readOnly.token}`);
    expect(refused.statusCode).toBe(403);
    expect(refused.headers["www-authenticate"]).toBeUndefined();
    expect(json(refused)).toEqual(errorShape(17, "InsufficientScope", "Missing scope: write"));
    expectNoToken(await get(t.app, "/rs/read", `ApiKey ${full.token}`));
    const form = await t.app.inject({
      method: "POST",
      url: "/rs/form",
      headers: { authorization: `ApiKey ${full.token}` },
    });
    expect(form.statusCode).toBe(200);
  });

  it("leaves session requests alone, and lets a bearer token alone authenticate a request that has both", async () => {
    await t.h.createUser({ username: "alice" });
    await t.h.createUser({ username: "dave" });
    const client = new Client(t.app);
    expect((await client.post("api/login", { username: "alice", password: TEST_PASSWORD })).statusCode).toBe(
      200,
    );
    expect(json(await client.get("/rs/whoami"))).toMatchObject({
      user: "alice",
      authType: "cookie",
      payload: null,
      invalid: false,
    });
    expect((await client.get("/rs/user")).statusCode).toBe(200);
    expectNoToken(await client.get("/rs/read"));
    const cookie = client.jar.header();
    const withToken = async (url: string, token: string) =>
      t.app.inject({ method: "GET", url, headers: { cookie, authorization: `Bearer ${token}` } });
    const dave = await staticToken({ sub: "dave" });
    expect(json(await withToken("/rs/whoami", dave))).toMatchObject({ user: "dave", authType: "oauth" });
    const service = await staticToken({ sub: "svc", client_id: "svc" });
    expect(json(await withToken("/rs/whoami", service))).toMatchObject({ user: null, authType: "oauth" });
    const expired = await staticToken({ sub: "alice", exp: NOW_S - 60 });
    expect(json(await withToken("/rs/whoami", expired))).toMatchObject({
      user: null,
      authType: null,
      invalid: true,
    });
    expect((await withToken("/rs/user", expired)).statusCode).toBe(401);
  });

  it("lets valid bearer requests skip requireCsrf, but not refused ones", async () => {
    const valid = await staticToken();
    const form = (authorization: string) =>
      t.app.inject({ method: "POST", url: "/rs/form", headers: { authorization }, payload: {} });
    const accepted = await form(`Bearer ${valid}`);
    expect(accepted.statusCode).toBe(200);
    expect(json(accepted).authType).toBe("oauth");
    const refused = await form(`Bearer ${await staticToken({ exp: NOW_S - 60 })}`);
    expect(refused.statusCode).toBe(401);
    expect(json(refused).errorCodeName).toBe("InvalidCsrf");
  });

  it("does not touch Crossauth's own endpoints", async () => {
    const response = await get(t.app, "/api/getcsrftoken", "Bearer not.a.token");
    expect(response.statusCode).toBe(200);
    expect(json(response)).toMatchObject({ ok: true });
  });
});

describe("tokens of a real OpenID provider, several consumers by audience", () => {
  it("accepts client-credentials tokens for the provider's audience next to static-key tokens", async () => {
    const both = await extraApp({ consumers: [staticConsumer(), providerConsumer()] });
    await both.h.createUser({ username: "resource-client" });
    const token = await provider.issueToken(PROVIDER_AUDIENCE);
    sent.push(token);
    const whoami = await getWithToken(both.app, "/rs/whoami", token);
    expect(json(whoami)).toMatchObject({
      user: null,
      authType: "oauth",
      scope: ["read"],
      payload: {
        iss: provider.issuer,
        aud: PROVIDER_AUDIENCE,
        client_id: "resource-client",
        sub: "resource-client",
        scope: "read",
      },
      invalid: false,
    });
    expect((await getWithToken(both.app, "/rs/read", token)).statusCode).toBe(200);
    const more = await getWithToken(both.app, "/rs/readwrite", token);
    expect(more.statusCode).toBe(403);
    expect(more.headers["www-authenticate"]).toBe(
      `Bearer realm="${REALM}", error="insufficient_scope", scope="read write"`,
    );
    expect(json(await getWithToken(both.app, "/rs/whoami", await staticToken())).payload).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
    });
  });

  it("refuses the provider's tokens for another audience, for the static consumer's audience, or tampered", async () => {
    const both = await extraApp({ consumers: [staticConsumer(), providerConsumer()] });
    const other = await provider.issueToken("https://other-api.example");
    const forStatic = await provider.issueToken(AUDIENCE);
    const good = await provider.issueToken(PROVIDER_AUDIENCE);
    const [header, payload, signature] = good.split(".");
    const decoded = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8"));
    const tampered = `${header}.${b64json({ ...decoded, scope: "read write" })}.${signature}`;
    sent.push(other, forStatic, good, tampered);
    for (const token of [other, forStatic, tampered]) {
      expectInvalidToken(await getWithToken(both.app, "/rs/read", token));
    }
    expect((await getWithToken(both.app, "/rs/read", good)).statusCode).toBe(200);
    const single = await extraApp({ consumers: [providerConsumer()] });
    expectInvalidToken(await getWithToken(single.app, "/rs/read", forStatic));
    expect((await getWithToken(single.app, "/rs/read", good)).statusCode).toBe(200);
  });
});

describe("registration", () => {
  it("works alone and registered before crossauthPlugin", async () => {
    const alone = await extraApp({ crossauth: "none" });
    await alone.h.createUser({ username: "alice" });
    const token = await staticToken({ sub: "alice" });
    expect(json(await getWithToken(alone.app, "/rs/read", token))).toMatchObject({
      user: "alice",
      authType: "oauth",
      scope: ["read"],
    });
    expectNoToken(await get(alone.app, "/rs/read"));
    expect(json(await get(alone.app, "/rs/whoami"))).toMatchObject({
      user: null,
      authType: null,
      invalid: false,
    });
    const first = await extraApp({ crossauth: "after" });
    await first.h.createUser({ username: "alice" });
    await first.h.createUser({ username: "dave" });
    const client = new Client(first.app);
    expect((await client.post("api/login", { username: "alice", password: TEST_PASSWORD })).statusCode).toBe(
      200,
    );
    expect(json(await client.get("/rs/whoami"))).toMatchObject({ user: "alice", authType: "cookie" });
    const dave = await staticToken({ sub: "dave" });
    const both = await first.app.inject({
      method: "GET",
      url: "/rs/whoami",
      headers: { cookie: client.jar.header(), authorization: `Bearer ${dave}` },
    });
    expect(json(both)).toMatchObject({ user: "dave", authType: "oauth" });
  });

  it("quotes the realm in challenges", async () => {
    const app = Fastify();
    await app.register(resourceServerPlugin, { tokenConsumer: staticConsumer(), realm: 'My "API" \\ v2' });
    app.get("/x", { preHandler: requireAccessToken() }, async () => ({ ok: true }));
    try {
      const response = await app.inject({ method: "GET", url: "/x" });
      expect(response.headers["www-authenticate"]).toBe('Bearer realm="My \\"API\\" \\\\ v2"');
      const plain = Fastify();
      await plain.register(resourceServerPlugin, { tokenConsumer: staticConsumer() });
      plain.get("/x", { preHandler: requireAccessToken() }, async () => ({ ok: true }));
      expect((await plain.inject({ method: "GET", url: "/x" })).headers["www-authenticate"]).toBe(
        'Bearer realm="Crossauth"',
      );
      await plain.close();
    } finally {
      await app.close();
    }
  });

  it("refuses bad options with Configuration", async () => {
    const other = new OAuthTokenConsumer(AUDIENCE, {
      authServerBaseUrl: ISSUER,
      jwtPublicKey: rsa.publicPem,
    });
    const bad: unknown[] = [
      undefined,
      {},
      { tokenConsumer: [] },
      { tokenConsumer: {} },
      { tokenConsumer: [staticConsumer(), other] },
      { tokenConsumer: staticConsumer(), tokenType: "refresh" },
      { tokenConsumer: staticConsumer(), realm: "a\nb" },
      { tokenConsumer: staticConsumer(), userStorage: {} },
    ];
    for (const options of bad) {
      const app = Fastify();
      app.register(resourceServerPlugin, options as ResourceServerOptions);
      await expect(app.ready(), JSON.stringify(options)).rejects.toMatchObject({
        code: ErrorCode.Configuration,
      });
      await app.close();
    }
    const twice = Fastify();
    twice.register(resourceServerPlugin, { tokenConsumer: staticConsumer() });
    twice.register(resourceServerPlugin, { tokenConsumer: staticConsumer() });
    await expect(twice.ready()).rejects.toMatchObject({ code: ErrorCode.Configuration });
    await twice.close();
    for (const scope of ["two words", 'quo"te', ""]) {
      expect(() => requireAccessToken(scope)).toThrow(
        expect.objectContaining({ code: ErrorCode.Configuration }),
      );
    }
  });

  it("fails requireAccessToken routes with 500 when the plugin is not registered", async () => {
    const app = Fastify();
    app.get("/x", { preHandler: requireAccessToken("read") }, async () => ({ ok: true }));
    try {
      expect((await app.inject({ method: "GET", url: "/x" })).statusCode).toBe(500);
    } finally {
      await app.close();
    }
  });
});
