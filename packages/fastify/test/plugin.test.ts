/**
 * The Fastify plugin over HTTP (`fastify.inject`): cookies, CSRF, security headers, request
 * decorations and guards on application routes, API keys, options and registration. (The body
 * policy: body-policy.test.ts.)
 */
import { UserState } from "@crossauth/common";
import { crossauthPlugin } from "@crossauth/fastify";
import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { TEST_PASSWORD } from "../../backend/test/session/flow-context.js";
import { buildApp, Client, errorShape, json, SECURITY_HEADER_VALUES, useAppSuite } from "./app-fixture.js";

const s = useAppSuite({ allowedFactor2: ["dummy"] });

describe("cookies and CSRF", () => {
  it("round-trips the CSRF and session cookies through login and an app route", async () => {
    await s.t.h.createUser({ username: "alice" });
    const client = new Client(s.t.app);
    const page = await client.get("login");
    expect(page.statusCode).toBe(200);
    const csrfCookie = page.cookies.find((c) => c.name === "CSRFTOKEN");
    expect(csrfCookie).toMatchObject({ path: "/", httpOnly: true, secure: true, sameSite: "Lax" });
    const login = await client.post("api/login", { username: "alice", password: TEST_PASSWORD });
    expect(login.statusCode).toBe(200);
    expect(json(login)).toMatchObject({ ok: true, user: { username: "alice" } });
    expect(login.cookies.map((c) => c.name).sort()).toEqual(["CSRFTOKEN", "SESSIONID"]);
    expect(typeof login.headers["x-crossauth-csrf"]).toBe("string");
    const whoami = await client.get("/app/whoami");
    expect(json(whoami)).toMatchObject({ user: "alice", authType: "cookie", apiKey: null });
    expect(whoami.headers["x-crossauth-csrf"]).toBe(json(whoami).csrfToken);
    const logout = await client.post("api/logout");
    expect(json(logout)).toEqual({ ok: true });
    expect(client.jar.get("SESSIONID")).toBeUndefined();
    expect(json(await client.get("/app/whoami")).user).toBeNull();
  });

  it("accepts the CSRF token as a form field and refuses a missing or wrong one", async () => {
    await s.t.h.createUser({ username: "alice" });
    const client = new Client(s.t.app);
    await client.get("api/getcsrftoken");
    const missing = await s.t.app.inject({
      method: "POST",
      url: "/api/login",
      headers: { cookie: client.jar.header() },
      payload: { username: "alice", password: TEST_PASSWORD },
    });
    expect(missing.statusCode).toBe(401);
    expect(json(missing)).toEqual(errorShape(21, "InvalidCsrf", "CSRF token missing"));
    const other = new Client(s.t.app);
    await other.get("api/getcsrftoken");
    const wrong = await s.t.app.inject({
      method: "POST",
      url: "/api/login",
      headers: { cookie: client.jar.header(), "x-crossauth-csrf": other.csrfToken as string },
      payload: { username: "alice", password: TEST_PASSWORD },
    });
    expect(json(wrong)).toEqual(errorShape(21, "InvalidCsrf", "CSRF token does not match the cookie"));
    expect(await s.sessionCount()).toBe(0);
    const form = await client.postForm("api/login", { username: "alice", password: TEST_PASSWORD });
    expect(form.statusCode).toBe(200);
    expect(json(form)).toMatchObject({ ok: true, user: { username: "alice" } });
  });

  it("clears a session cookie that fails to verify, on endpoints and app routes", async () => {
    const client = await s.loggedIn("alice");
    client.jar.set("SESSIONID", `${client.jar.get("SESSIONID")}x`);
    for (const url of ["/api/getcsrftoken", "/app/whoami"]) {
      const response = await s.t.app.inject({ method: "GET", url, headers: { cookie: client.jar.header() } });
      expect(response.headers["set-cookie"]).toContain(
        "SESSIONID=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; Secure; SameSite=Lax",
      );
    }
  });

  it("gives app routes the CSRF cookie and header on GET, and checks CSRF with requireCsrf", async () => {
    const client = new Client(s.t.app);
    const first = await client.get("/app/whoami");
    expect(first.cookies.map((c) => c.name)).toEqual(["CSRFTOKEN"]);
    expect(first.headers["x-crossauth-csrf"]).toBe(json(first).csrfToken);
    const refused = await s.t.app.inject({
      method: "POST",
      url: "/app/form",
      headers: { cookie: client.jar.header() },
    });
    expect(refused.statusCode).toBe(401);
    expect(json(refused)).toEqual(errorShape(21, "InvalidCsrf", "CSRF token missing"));
    const accepted = await s.t.app.inject({
      method: "POST",
      url: "/app/form",
      headers: { cookie: client.jar.header(), "content-type": "application/x-www-form-urlencoded" },
      payload: `csrfToken=${encodeURIComponent(client.csrfToken as string)}`,
    });
    expect(accepted.statusCode).toBe(200);
  });
});

describe("responses", () => {
  it("sends pages as text/html with the security headers", async () => {
    const response = await s.t.app.inject({ method: "GET", url: "/login" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(response.headers).toMatchObject(SECURITY_HEADER_VALUES);
    expect(response.body).toContain("<form");
  });

  it("sends JSON and redirects with the security headers", async () => {
    const api = await s.t.app.inject({ method: "GET", url: "/api/getcsrftoken" });
    expect(api.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(api.headers).toMatchObject(SECURITY_HEADER_VALUES);
    const redirect = await s.t.app.inject({ method: "GET", url: "/updateuser" });
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toBe("/login?next=%2Fupdateuser");
    expect(redirect.headers).toMatchObject(SECURITY_HEADER_VALUES);
  });

  it("answers HEAD like GET without a body", async () => {
    const response = await s.t.app.inject({ method: "HEAD", url: "/login" });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe("");
  });

  it("answers unknown paths with Fastify's 404", async () => {
    const response = await s.t.app.inject({ method: "GET", url: "/nowhere" });
    expect(response.statusCode).toBe(404);
  });

  it("leaves the application's own routes without Crossauth's security headers", async () => {
    const response = await s.t.app.inject({ method: "GET", url: "/app/whoami" });
    expect(response.headers["x-frame-options"]).toBeUndefined();
  });
});

describe("application routes", () => {
  it("decorates anonymous requests", async () => {
    const response = await s.t.app.inject({ method: "GET", url: "/app/whoami" });
    expect(json(response)).toMatchObject({ user: null, authType: null, apiKey: null, scope: null });
    expect(typeof json(response).csrfToken).toBe("string");
  });

  it("requireUser: 401 for anonymous requests, a redirect with the option, the route for users", async () => {
    const anonymous = await s.t.app.inject({ method: "GET", url: "/app/user" });
    expect(anonymous.statusCode).toBe(401);
    expect(json(anonymous)).toEqual(errorShape(14, "Unauthorized", "Not authorized"));
    const page = await s.t.app.inject({ method: "GET", url: "/app/page?tab=1" });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe("/login?next=%2Fapp%2Fpage%3Ftab%3D1");
    const client = await s.loggedIn("alice");
    expect(json(await client.get("/app/user")).user).toBe("alice");
    expect(json(await client.get("/app/page")).user).toBe("alice");
  });

  it("requireAdmin: 401 Unauthorized, 401 InsufficientPriviledges, the route for admins", async () => {
    const anonymous = await s.t.app.inject({ method: "GET", url: "/app/admin" });
    expect(json(anonymous).errorCodeName).toBe("Unauthorized");
    const user = await s.loggedIn("alice");
    const refused = await user.get("/app/admin");
    expect(refused.statusCode).toBe(401);
    expect(json(refused)).toEqual(errorShape(18, "InsufficientPriviledges", "Insufficient privileges"));
    const admin = await s.loggedIn("root", { admin: true });
    expect(json(await admin.get("/app/admin")).user).toBe("root");
  });

  it("requireScope: 401 unauthenticated, 403 without the scopes, the route with them", async () => {
    const anonymous = await s.t.app.inject({ method: "GET", url: "/app/scoped" });
    expect(anonymous.statusCode).toBe(401);
    const { user } = await s.t.h.createUser({ username: "alice" });
    const readOnly = await s.t.apiKeyManager.createKey("read", user.id, { scope: ["read"] });
    const refused = await s.t.app.inject({
      method: "GET",
      url: "/app/scoped",
      headers: { authorization: `ApiKey ${readOnly.token}` },
    });
    expect(refused.statusCode).toBe(403);
    expect(json(refused)).toEqual(errorShape(17, "InsufficientScope", "Missing scope: write"));
    const full = await s.t.apiKeyManager.createKey("full", user.id, { scope: ["read", "write", "admin"] });
    const accepted = await s.t.app.inject({
      method: "GET",
      url: "/app/scoped",
      headers: { authorization: `ApiKey ${full.token}` },
    });
    expect(json(accepted)).toMatchObject({
      user: "alice",
      authType: "apiKey",
      apiKey: "full",
      scope: ["read", "write", "admin"],
    });
    // An API-key client is not a browser: no CSRF cookie, no CSRF header.
    expect(accepted.headers["set-cookie"]).toBeUndefined();
    expect(accepted.headers["x-crossauth-csrf"]).toBeUndefined();
    const cookieUser = await s.loggedIn("bob");
    expect((await cookieUser.get("/app/scoped")).statusCode).toBe(403);
  });

  it("authenticates API keys on endpoints without CSRF, and refuses invalid keys with 401 InvalidKey", async () => {
    const { user } = await s.t.h.createUser({ username: "alice" });
    const { token } = await s.t.apiKeyManager.createKey("ci", user.id);
    const forSession = await s.t.app.inject({
      method: "POST",
      url: "/api/userforsessionkey",
      headers: { authorization: `ApiKey ${token}` },
    });
    expect(forSession.statusCode).toBe(200);
    for (const url of ["/app/whoami", "/api/getcsrftoken"]) {
      const bad = await s.t.app.inject({
        method: "GET",
        url,
        headers: { authorization: `ApiKey ${token}x` },
      });
      expect(bad.statusCode).toBe(401);
      expect(json(bad)).toEqual(errorShape(20, "InvalidKey", "API key is invalid"));
    }
    await s.t.h.userStorage.updateUser({ id: user.id, state: UserState.disabled });
    const disabled = await s.t.app.inject({
      method: "GET",
      url: "/app/whoami",
      headers: { authorization: `ApiKey ${token}` },
    });
    expect(disabled.statusCode).toBe(403);
    expect(json(disabled).errorCodeName).toBe("UserNotActive");
  });
});

describe("registration", () => {
  it("serves endpoints under a custom prefix and admin prefix", async () => {
    const custom = await buildApp({ endpoints: { prefix: "/auth", adminPrefix: "/manage" } });
    try {
      expect((await custom.app.inject({ method: "GET", url: "/auth/login" })).statusCode).toBe(200);
      expect((await custom.app.inject({ method: "GET", url: "/login" })).statusCode).toBe(404);
      const redirect = await custom.app.inject({ method: "GET", url: "/auth/updateuser" });
      expect(redirect.headers.location).toBe("/auth/login?next=%2Fauth%2Fupdateuser");
    } finally {
      await custom.close();
    }
  });

  it("works beside an application's own cookie and formbody registrations, and never modifies options", async () => {
    const endpoints = Object.freeze({
      prefix: "/auth/",
      endpoints: Object.freeze(["login", "api/getcsrftoken"]),
    });
    const app = Fastify();
    await app.register(fastifyCookie);
    await app.register(fastifyFormbody);
    const options = Object.freeze({ sessionManager: s.t.h.sessionManager, endpoints: endpoints as never });
    await app.register(crossauthPlugin, options);
    app.post("/app/echo", async (request) => request.body);
    await app.ready();
    try {
      expect(app.crossauth.routes().map((r) => `${r.method} ${r.fullPath}`)).toEqual([
        "GET /auth/login",
        "POST /auth/login",
        "GET /auth/api/getcsrftoken",
      ]);
      const echoed = await app.inject({
        method: "POST",
        url: "/app/echo",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: "a=1",
      });
      expect(echoed.json()).toEqual({ a: "1" });
      const text = await app.inject({
        method: "POST",
        url: "/app/echo",
        headers: { "content-type": "text/plain" },
        payload: "hello",
      });
      expect(text.body).toBe("hello");
      expect(endpoints).toEqual({ prefix: "/auth/", endpoints: ["login", "api/getcsrftoken"] });
    } finally {
      await app.close();
    }
  });

  it("refuses registration without a session manager or with a bad body limit", async () => {
    const app = Fastify();
    await expect(app.register(crossauthPlugin, {} as never).ready()).rejects.toMatchObject({
      codeName: "Configuration",
    });
    const other = Fastify();
    await expect(
      other.register(crossauthPlugin, { sessionManager: s.t.h.sessionManager, bodyLimit: -1 }).ready(),
    ).rejects.toMatchObject({ codeName: "Configuration" });
  });

  it("refuses an unknown endpoint name at start-up", async () => {
    const app = Fastify();
    await expect(
      app
        .register(crossauthPlugin, {
          sessionManager: s.t.h.sessionManager,
          endpoints: { endpoints: ["nosuch"] },
        })
        .ready(),
    ).rejects.toMatchObject({ codeName: "Configuration", message: "Unknown endpoint nosuch" });
  });
});
