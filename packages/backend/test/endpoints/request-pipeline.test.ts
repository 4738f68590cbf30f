/**
 * The request pipeline through `EndpointTable.dispatch` with probe endpoints: session cookies, CSRF
 * and failures. (API keys, access and step-up: request-pipeline-auth.test.ts.)
 */
import { UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { toEndpointRequest } from "../../src/index.js";
import { errorAnswer, raw, seen, setCookieValue, usePipelineSuite } from "./table-fixture.js";

const s = usePipelineSuite();

describe("session cookie", () => {
  it("leaves a request without cookies anonymous and gives it a CSRF cookie and header", async () => {
    const result = await s.table.dispatch(raw("GET", "/api/probe"));
    expect(result?.status).toBe(200);
    expect(seen(result)).toMatchObject({ user: null, sessionId: null, authType: null });
    const cookie = setCookieValue(result, "CSRFTOKEN");
    expect(cookie).toBeDefined();
    const header = result?.headers?.["X-CROSSAUTH-CSRF"];
    expect(header).toBe(seen(result).csrfToken);
    expect(() => s.h.sessionManager.validateDoubleSubmitCsrfToken(cookie, header)).not.toThrow();
    expect(result?.clearCookies).toBeUndefined();
  });

  it("sets the user, session id and auth type of a valid user session", async () => {
    const { sessionId, cookies } = await s.loggedIn("alice");
    const result = await s.table.dispatch(raw("GET", "/api/probe", { cookies }));
    expect(seen(result)).toMatchObject({ user: "alice", sessionId, authType: "cookie" });
    expect(result?.setCookies).toBeUndefined();
    expect(result?.clearCookies).toBeUndefined();
  });

  it("clears a session cookie whose signature does not verify", async () => {
    const { cookies } = await s.loggedIn("alice");
    const tampered = { ...cookies, SESSIONID: `${cookies.SESSIONID?.slice(0, -2)}xx` };
    const result = await s.table.dispatch(raw("GET", "/api/probe", { cookies: tampered }));
    expect(result?.status).toBe(200);
    expect(result?.clearCookies).toEqual(["SESSIONID"]);
    expect(seen(result)).toMatchObject({ user: null, sessionId: null, authType: null });
  });

  it("clears a cookie naming a session that no longer exists", async () => {
    const { sessionId, cookies } = await s.loggedIn("alice");
    await s.h.sessionManager.deleteSession(sessionId);
    const result = await s.table.dispatch(raw("GET", "/api/probe", { cookies }));
    expect(result?.clearCookies).toEqual(["SESSIONID"]);
    expect(seen(result).user).toBeNull();
  });

  it("clears the cookie of an expired session and deletes the session", async () => {
    const { sessionId, cookies } = await s.loggedIn("alice");
    s.h.clock.advance(31 * 24 * 3600);
    const result = await s.table.dispatch(raw("GET", "/api/probe", { cookies }));
    expect(result?.clearCookies).toEqual(["SESSIONID"]);
    expect(seen(result).user).toBeNull();
    expect(await s.h.sessionExists(sessionId)).toBe(false);
  });

  it("treats the session of a user who may no longer log in as anonymous, keeping it", async () => {
    const { user, sessionId, cookies } = await s.loggedIn("alice");
    await s.h.userStorage.updateUser({ id: user.id, state: UserState.disabled });
    const result = await s.table.dispatch(raw("GET", "/api/probe", { cookies }));
    expect(result?.clearCookies).toBeUndefined();
    expect(seen(result)).toMatchObject({ user: null, authType: null });
    expect(await s.h.sessionExists(sessionId)).toBe(true);
  });

  it("gives an anonymous session its id and no user", async () => {
    const session = await s.h.anonymousSession();
    const cookies = Object.fromEntries(session.cookies.map((c) => [c.name, c.value]));
    const result = await s.table.dispatch(raw("GET", "/api/probe", { cookies }));
    expect(seen(result)).toMatchObject({ user: null, sessionId: session.sessionId, authType: null });
  });
});

describe("CSRF", () => {
  it("refuses a POST to a csrf endpoint without a token with 401 InvalidCsrf", async () => {
    const { cookie } = s.csrfPair();
    const result = await s.table.dispatch(raw("POST", "/api/act", { cookies: { CSRFTOKEN: cookie } }));
    expect(errorAnswer(result)).toEqual({
      status: 401,
      json: {
        ok: false,
        errorCode: 21,
        errorCodeName: "InvalidCsrf",
        errorMessage: "CSRF token missing",
        errorMessages: ["CSRF token missing"],
      },
    });
  });

  it("accepts the token in the X-CROSSAUTH-CSRF header", async () => {
    const { cookie, token } = s.csrfPair();
    const result = await s.table.dispatch(
      raw("POST", "/api/act", { cookies: { CSRFTOKEN: cookie }, headers: { "x-crossauth-csrf": token } }),
    );
    expect(result?.status).toBe(200);
    expect(result?.json?.ok).toBe(true);
    expect(result?.headers).toBeUndefined();
  });

  it("accepts the token in the csrfToken body field", async () => {
    const { cookie, token } = s.csrfPair();
    const result = await s.table.dispatch(
      raw("POST", "/api/act", { cookies: { CSRFTOKEN: cookie }, body: { csrfToken: token, a: "1" } }),
    );
    expect(result?.status).toBe(200);
    expect(seen(result).body).toEqual({ csrfToken: token, a: "1" });
  });

  it("refuses a token that belongs to another cookie", async () => {
    const { cookie } = s.csrfPair();
    const other = s.csrfPair();
    const result = await s.table.dispatch(
      raw("POST", "/api/act", {
        cookies: { CSRFTOKEN: cookie },
        headers: { "x-crossauth-csrf": other.token },
      }),
    );
    expect(result?.status).toBe(401);
    expect(result?.json?.errorCodeName).toBe("InvalidCsrf");
  });

  it("refuses a malformed token, a non-text field, and a token without its cookie (giving a new cookie)", async () => {
    const { cookie, token } = s.csrfPair();
    const malformed = await s.table.dispatch(
      raw("POST", "/api/act", { cookies: { CSRFTOKEN: cookie }, headers: { "x-crossauth-csrf": "abc" } }),
    );
    expect(malformed?.json?.errorCodeName).toBe("InvalidCsrf");
    const array = await s.table.dispatch(
      raw("POST", "/api/act", { cookies: { CSRFTOKEN: cookie }, body: { csrfToken: [token] } }),
    );
    expect(array?.json?.errorCodeName).toBe("InvalidCsrf");
    const noCookie = await s.table.dispatch(
      raw("POST", "/api/act", { headers: { "x-crossauth-csrf": token } }),
    );
    expect(noCookie?.status).toBe(401);
    expect(noCookie?.json?.errorCodeName).toBe("InvalidCsrf");
    expect(setCookieValue(noCookie, "CSRFTOKEN")).toBeDefined();
  });

  it("refuses a forged cookie and replaces it", async () => {
    const { token } = s.csrfPair();
    const result = await s.table.dispatch(
      raw("POST", "/api/act", {
        cookies: { CSRFTOKEN: "forged.value" },
        headers: { "x-crossauth-csrf": token },
      }),
    );
    expect(result?.status).toBe(401);
    expect(setCookieValue(result, "CSRFTOKEN")).not.toBe("forged.value");
    expect(setCookieValue(result, "CSRFTOKEN")).toBeDefined();
  });

  it("needs no token for endpoints with csrf false", async () => {
    const result = await s.table.dispatch(raw("POST", "/api/nocsrf"));
    expect(result?.status).toBe(200);
  });

  it("renders the error page with status 401 for a page endpoint", async () => {
    const result = await s.table.dispatch(raw("POST", "/act", { body: { next: "/x" } }));
    expect(result?.status).toBe(401);
    expect(result?.page?.template).toBe("error");
    expect(result?.page?.data).toMatchObject({
      errorCodeName: "InvalidCsrf",
      errorMessages: ["CSRF token missing"],
    });
    expect(setCookieValue(result, "CSRFTOKEN")).toBeDefined();
  });

  it("runs a page POST with a valid token", async () => {
    const { cookie, token } = s.csrfPair();
    const result = await s.table.dispatch(
      raw("POST", "/act", { cookies: { CSRFTOKEN: cookie }, body: { csrfToken: token, next: "/account" } }),
    );
    expect(result).toEqual({ status: 303, redirect: "/account" });
  });

  it("gives every GET a fresh masked value for a valid cookie, without a new cookie", async () => {
    const { cookie } = s.csrfPair();
    const first = await s.table.dispatch(raw("GET", "/api/probe", { cookies: { CSRFTOKEN: cookie } }));
    const second = await s.table.dispatch(raw("GET", "/api/probe", { cookies: { CSRFTOKEN: cookie } }));
    const a = first?.headers?.["X-CROSSAUTH-CSRF"];
    const b = second?.headers?.["X-CROSSAUTH-CSRF"];
    expect(a).not.toBe(b);
    expect(first?.setCookies).toBeUndefined();
    expect(() => s.h.sessionManager.validateDoubleSubmitCsrfToken(cookie, a)).not.toThrow();
    expect(() => s.h.sessionManager.validateDoubleSubmitCsrfToken(cookie, b)).not.toThrow();
  });

  it("replaces an invalid CSRF cookie on GET", async () => {
    const result = await s.table.dispatch(raw("GET", "/api/probe", { cookies: { CSRFTOKEN: "bad" } }));
    const cookie = setCookieValue(result, "CSRFTOKEN");
    expect(cookie).toBeDefined();
    expect(() =>
      s.h.sessionManager.validateDoubleSubmitCsrfToken(cookie, result?.headers?.["X-CROSSAUTH-CSRF"]),
    ).not.toThrow();
  });

  it("skips the CSRF check for a replayed request", async () => {
    const replayed = await s.table.services.redispatch(toEndpointRequest(raw("POST", "/api/act")));
    expect(replayed?.status).toBe(200);
    expect(await s.table.services.redispatch(toEndpointRequest(raw("POST", "/api/none")))).toBeUndefined();
  });
});

describe("failures", () => {
  it("answers a handler's unexpected exception with a generic 500, keeping the pipeline's cookies", async () => {
    const result = await s.table.dispatch(raw("GET", "/api/boom"));
    expect(result?.status).toBe(500);
    expect(result?.json).toEqual({
      ok: false,
      errorCode: 50,
      errorCodeName: "UnknownError",
      errorMessage: "Unknown error",
      errorMessages: ["Unknown error"],
    });
    expect(setCookieValue(result, "CSRFTOKEN")).toBeDefined();
  });

  it("renders the error page with the error's status for a page", async () => {
    const result = await s.table.dispatch(raw("GET", "/boom"));
    expect(result?.status).toBe(500);
    expect(result?.page?.template).toBe("error");
    expect(result?.page?.data).toMatchObject({
      errorCodeName: "Connection",
      errorMessages: ["Database is down"],
    });
  });
});
