/**
 * The request pipeline through `EndpointTable.dispatch` with probe endpoints: API keys, access rules
 * and step-up 2FA.
 */
import { UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { ApiKeyManager, EndpointTable, toEndpointRequest } from "../../src/index.js";
import { TEST_SECRET } from "../session/flow-context.js";
import { errorAnswer, probeDefinitions, raw, seen, usePipelineSuite } from "./table-fixture.js";

const s = usePipelineSuite();

describe("API keys", () => {
  it("authenticates the key's owner with its scopes and needs no CSRF token", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const { token } = await s.apiKeyManager.createKey("ci", user.id, { scope: ["read", "write"] });
    const result = await s.table.dispatch(
      raw("POST", "/api/act", { headers: { authorization: `ApiKey ${token}` } }),
    );
    expect(result?.status).toBe(200);
    expect(seen(result)).toMatchObject({
      user: "alice",
      authType: "apiKey",
      scope: ["read", "write"],
      apiKeyName: "ci",
      sessionId: null,
    });
  });

  it("accepts a key without an owner and the scheme in any case", async () => {
    const { token } = await s.apiKeyManager.createKey("service", null);
    const result = await s.table.dispatch(
      raw("GET", "/api/probe", { headers: { authorization: `apikey ${token}` } }),
    );
    expect(seen(result)).toMatchObject({ user: null, authType: "apiKey", scope: [], apiKeyName: "service" });
  });

  it("prefers the API key to a session cookie", async () => {
    const { cookies } = await s.loggedIn("bob");
    const { user } = await s.h.createUser({ username: "alice" });
    const { token } = await s.apiKeyManager.createKey("ci", user.id);
    const result = await s.table.dispatch(
      raw("GET", "/api/probe", { cookies, headers: { authorization: `ApiKey ${token}` } }),
    );
    expect(seen(result)).toMatchObject({ user: "alice", authType: "apiKey", sessionId: null });
  });

  it("answers 401 InvalidKey for a tampered, unknown or expired key", async () => {
    const { token } = await s.apiKeyManager.createKey("ci", null, {}, 60);
    const expected = {
      status: 401,
      json: {
        ok: false,
        errorCode: 20,
        errorCodeName: "InvalidKey",
        errorMessage: "API key is invalid",
        errorMessages: ["API key is invalid"],
      },
    };
    const tampered = await s.table.dispatch(
      raw("GET", "/api/probe", { headers: { authorization: `ApiKey ${token.slice(0, -2)}xx` } }),
    );
    expect(errorAnswer(tampered)).toEqual(expected);
    const other = new ApiKeyManager(s.h.keyStorage, { secret: TEST_SECRET });
    const { token: unknownToken } = await other.createKey("gone", null);
    await s.h.keyStorage.deleteMatching({ name: "gone" });
    const unknown = await s.table.dispatch(
      raw("GET", "/api/probe", { headers: { authorization: `ApiKey ${unknownToken}` } }),
    );
    expect(errorAnswer(unknown)).toEqual(expected);
    s.h.clock.advance(61);
    const expired = await s.table.dispatch(
      raw("GET", "/api/probe", { headers: { authorization: `ApiKey ${token}` } }),
    );
    expect(errorAnswer(expired)).toEqual(expected);
  });

  it("answers the owner's state error when the owner may not log in", async () => {
    const { user } = await s.h.createUser({ username: "alice", state: UserState.disabled });
    const { token } = await s.apiKeyManager.createKey("ci", user.id);
    const result = await s.table.dispatch(
      raw("GET", "/api/probe", { headers: { authorization: `ApiKey ${token}` } }),
    );
    expect(result?.status).toBe(403);
    expect(result?.json?.errorCodeName).toBe("UserNotActive");
  });

  it("ignores other schemes, and API keys when no key manager is configured", async () => {
    const bearer = await s.table.dispatch(
      raw("GET", "/api/probe", { headers: { authorization: "Bearer abc" } }),
    );
    expect(seen(bearer)).toMatchObject({ user: null, authType: null });
    const { token } = await s.apiKeyManager.createKey("ci", null);
    const withoutManager = new EndpointTable(s.h.sessionManager, {}, { definitions: probeDefinitions });
    const result = await withoutManager.dispatch(
      raw("GET", "/api/probe", { headers: { authorization: `ApiKey ${token}` } }),
    );
    expect(seen(result)).toMatchObject({ user: null, authType: null, apiKeyName: null });
  });
});

describe("access", () => {
  it("answers 401 Unauthorized to anonymous API requests for user endpoints", async () => {
    const { cookie, token } = s.csrfPair();
    const result = await s.table.dispatch(
      raw("POST", "/api/mine", { cookies: { CSRFTOKEN: cookie }, headers: { "x-crossauth-csrf": token } }),
    );
    expect(result?.status).toBe(401);
    expect(result?.json?.errorCodeName).toBe("Unauthorized");
  });

  it("sends anonymous page visitors to the login page with next", async () => {
    const result = await s.table.dispatch(raw("GET", "/mine", { query: { x: "1" } }));
    expect(result?.status).toBe(302);
    expect(result?.redirect).toBe("/login?next=%2Fmine%3Fx%3D1");
  });

  it("lets a logged-in user through", async () => {
    const { cookies } = await s.loggedIn("alice");
    const result = await s.table.dispatch(raw("GET", "/mine", { cookies }));
    expect(seen(result).user).toBe("alice");
  });

  it("answers 401 InsufficientPriviledges to non-admins on admin APIs, anonymous or not", async () => {
    const { cookies } = await s.loggedIn("alice");
    const anonymous = s.csrfPair();
    const requests = [
      { cookies, headers: { "x-crossauth-csrf": s.csrfFor(cookies.CSRFTOKEN) } },
      { cookies: { CSRFTOKEN: anonymous.cookie }, headers: { "x-crossauth-csrf": anonymous.token } },
    ];
    for (const options of requests) {
      const result = await s.table.dispatch(raw("POST", "/admin/api/thing", options));
      expect(errorAnswer(result)).toEqual({
        status: 401,
        json: {
          ok: false,
          errorCode: 18,
          errorCodeName: "InsufficientPriviledges",
          errorMessage: "Insufficient privileges",
          errorMessages: ["Insufficient privileges"],
        },
      });
    }
  });

  it("lets an admin through, on the API and on a page with parameters", async () => {
    const { cookies } = await s.loggedIn("root", { admin: true });
    const header = s.csrfFor(cookies.CSRFTOKEN);
    const api = await s.table.dispatch(
      raw("POST", "/admin/api/thing", { cookies, headers: { "x-crossauth-csrf": header } }),
    );
    expect(seen(api).user).toBe("root");
    const pageResult = await s.table.dispatch(raw("GET", "/admin/thing/42", { cookies }));
    expect(seen(pageResult)).toMatchObject({ user: "root", params: { id: "42" } });
  });

  it("sends anonymous visitors of admin pages to log in and shows non-admins the error page", async () => {
    const anonymous = await s.table.dispatch(raw("GET", "/admin/thing/1"));
    expect(anonymous).toMatchObject({ status: 302, redirect: "/login?next=%2Fadmin%2Fthing%2F1" });
    const { cookies } = await s.loggedIn("alice");
    const user = await s.table.dispatch(raw("GET", "/admin/thing/1", { cookies }));
    expect(user?.status).toBe(401);
    expect(user?.page?.template).toBe("error");
    expect(user?.page?.data.errorCodeName).toBe("InsufficientPriviledges");
  });

  it("uses the isAdminFn option", async () => {
    const custom = new EndpointTable(
      s.h.sessionManager,
      { isAdminFn: (user) => user.username === "alice" },
      { definitions: probeDefinitions },
    );
    const { cookies } = await s.loggedIn("alice");
    const result = await custom.dispatch(raw("GET", "/admin/thing/1", { cookies }));
    expect(seen(result).user).toBe("alice");
  });
});

describe("step-up 2FA", () => {
  it("holds a protected POST of a user with a second factor and replays it without a new step-up", async () => {
    const { sessionId, cookies } = await s.loggedIn("alice", { factor2: "dummy" });
    const header = s.csrfFor(cookies.CSRFTOKEN);
    const request = raw("POST", "/api/changepassword", {
      cookies,
      headers: { "x-crossauth-csrf": header, "content-type": "application/json" },
      body: { old_password: "a", new_password: "b" },
    });
    const held = await s.table.dispatch(request);
    expect(held).toEqual({ status: 200, json: { ok: true, factor2Required: true } });
    const pre2fa = (await s.h.sessionData(sessionId)).pre2fa as Record<string, unknown>;
    expect(pre2fa).toMatchObject({ url: "/api/changepassword" });
    expect(JSON.stringify(pre2fa)).not.toContain("new_password");
    const replayed = await s.table.services.redispatch(toEndpointRequest({ ...request, headers: {} }));
    expect(replayed?.status).toBe(200);
    expect(seen(replayed)).toMatchObject({ user: "alice", body: { old_password: "a", new_password: "b" } });
  });

  it("redirects a held page POST to the factor2 page", async () => {
    const { cookies } = await s.loggedIn("alice", { factor2: "dummy" });
    const csrfToken = s.csrfFor(cookies.CSRFTOKEN);
    const result = await s.table.dispatch(raw("POST", "/changepassword", { cookies, body: { csrfToken } }));
    expect(result).toEqual({ status: 303, redirect: "/factor2" });
  });

  it("does not hold requests of users without a second factor or authenticated by an API key", async () => {
    const { cookies } = await s.loggedIn("alice");
    const header = s.csrfFor(cookies.CSRFTOKEN);
    const plain = await s.table.dispatch(
      raw("POST", "/api/changepassword", { cookies, headers: { "x-crossauth-csrf": header } }),
    );
    expect(seen(plain).user).toBe("alice");
    const { user } = await s.h.createUser({ username: "bob", factor2: "dummy" });
    const { token } = await s.apiKeyManager.createKey("ci", user.id);
    const byKey = await s.table.dispatch(
      raw("POST", "/api/changepassword", { headers: { authorization: `ApiKey ${token}` } }),
    );
    expect(seen(byKey)).toMatchObject({ user: "bob", authType: "apiKey" });
  });
});
