/**
 * `login`, `logout`, `loginfactor2` and their `api/` twins, called without HTTP: statuses, JSON,
 * cookies, redirects (and unsafe `next` values), session storage, and the rendered pages.
 */
import { ErrorCode, UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { loginEndpoints } from "../../src/endpoints/handlers/login-endpoints.js";
import { emailedCode, mailsTo, TEST_PASSWORD } from "../session/flow-context.js";
import { cookieSet, errorShape, useEndpointHarness } from "./endpoint-harness.js";

const s = useEndpointHarness();

const UNSAFE_NEXTS = ["//evil.com", "https://evil.com", "/\\evil.com"];

const invalidLogin = errorShape(
  ErrorCode.UsernameOrPasswordInvalid,
  "UsernameOrPasswordInvalid",
  "Username or password is invalid",
);

describe("api/login", () => {
  it("logs in: the user without secrets, new SESSIONID and CSRFTOKEN, the previous session deleted", async () => {
    const { h } = s;
    const { user } = await s.h.createUser({ username: "alice" });
    const before = await h.anonymousSession();
    const result = await h.call(
      h.apiRequest(
        "POST",
        "api/login",
        { username: "alice", password: TEST_PASSWORD },
        { sessionId: before.sessionId },
      ),
    );
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ ok: true, user });
    expect(user).toMatchObject({ username: "alice", state: UserState.active });
    expect(JSON.stringify(result.json)).not.toContain("pbkdf2");
    expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
    const sessionId = h.sessionIdOf(result);
    const { user: sessionUser } = await h.sessionManager.userForSessionId(sessionId);
    expect(sessionUser?.id).toBe(user.id);
    expect(await h.sessionExists(before.sessionId)).toBe(false);
    expect(cookieSet(result, "SESSIONID")?.options.maxAge).toBe(30 * 24 * 60 * 60);
  });

  it("honours persist=false with a browser-session cookie", async () => {
    await s.h.createUser({ username: "alice" });
    const result = await s.h.call(
      s.h.apiRequest("POST", "api/login", { username: "alice", password: TEST_PASSWORD, persist: false }),
    );
    expect(result.status).toBe(200);
    expect(cookieSet(result, "SESSIONID")?.options.maxAge).toBeUndefined();
  });

  it("answers a wrong password and an unknown user alike: 401 UsernameOrPasswordInvalid, no cookies", async () => {
    const { h } = s;
    await h.createUser({ username: "alice" });
    const before = await h.anonymousSession();
    const wrong = await h.call(
      h.apiRequest(
        "POST",
        "api/login",
        { username: "alice", password: "Wrong-Pass-1" },
        { sessionId: before.sessionId },
      ),
    );
    const unknown = await h.call(
      h.apiRequest("POST", "api/login", { username: "bob", password: TEST_PASSWORD }),
    );
    for (const result of [wrong, unknown]) {
      expect(result.status).toBe(401);
      expect(result.json).toEqual(invalidLogin);
      expect(result.setCookies).toBeUndefined();
    }
    expect(await h.sessionExists(before.sessionId)).toBe(true);
    expect(await h.keyStorage.getAllForUser(null)).toHaveLength(1);
  });

  it("refuses missing and non-text fields with 400 FormEntry", async () => {
    const missing = await s.h.call(s.h.apiRequest("POST", "api/login", { password: TEST_PASSWORD }));
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual(errorShape(ErrorCode.FormEntry, "FormEntry", "username is required"));
    const notText = await s.h.call(s.h.apiRequest("POST", "api/login", { username: ["a"], password: "x" }));
    expect(notText.status).toBe(400);
    expect(notText.json).toEqual(errorShape(ErrorCode.FormEntry, "FormEntry", "username must be text"));
  });

  it("answers twoFactorRequired with an anonymous session holding the login, and emails the code", async () => {
    const { h } = s;
    const { user } = await h.createUser({ username: "carol", factor2: "email" });
    const before = await h.anonymousSession();
    const result = await h.call(
      h.apiRequest(
        "POST",
        "api/login",
        { username: "carol", password: TEST_PASSWORD },
        { sessionId: before.sessionId },
      ),
    );
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ ok: true, twoFactorRequired: true });
    expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
    const sessionId = h.sessionIdOf(result);
    const { user: sessionUser, key } = await h.sessionManager.userForSessionId(sessionId);
    expect(sessionUser).toBeUndefined();
    expect(key.userid ?? null).toBeNull();
    expect((await h.sessionData(sessionId))["2fa"]).toMatchObject({ userid: user.id, factor2: "email" });
    expect(await h.sessionExists(before.sessionId)).toBe(false);
    const code = emailedCode(mailsTo(s.smtp, "carol@example.com").at(-1)!);
    s.neverLogged(code);
  });

  it.each([
    [
      UserState.passwordChangeNeeded,
      ErrorCode.PasswordChangeNeeded,
      "PasswordChangeNeeded",
      "User must change password",
      "passwordchange",
    ],
    [
      UserState.passwordResetNeeded,
      ErrorCode.PasswordResetNeeded,
      "PasswordResetNeeded",
      "User must reset password",
      "passwordreset",
    ],
    [
      UserState.factor2ResetNeeded,
      ErrorCode.Factor2ResetNeeded,
      "Factor2ResetNeeded",
      "User must reset the second factor",
      "factor2change",
    ],
  ])(
    "answers a user in %s with 403 and an anonymous session permitting the change",
    async (state, code, name, message, dataName) => {
      const { h } = s;
      const { user } = await h.createUser({ username: "dave", state });
      const result = await h.call(
        h.apiRequest("POST", "api/login", { username: "dave", password: TEST_PASSWORD }),
      );
      expect(result.status).toBe(403);
      expect(result.json).toEqual(errorShape(code, name, message));
      const sessionId = h.sessionIdOf(result);
      expect(cookieSet(result, "CSRFTOKEN")).toBeDefined();
      expect((await h.sessionManager.userForSessionId(sessionId)).user).toBeUndefined();
      expect((await h.sessionData(sessionId))[dataName]).toEqual({ userid: user.id, username: "dave" });
    },
  );
});

describe("login page", () => {
  it("shows the labelled form with the CSRF field, a safe next and links to sign-up and password reset", async () => {
    const request = s.h.pageRequest("GET", "login", {}, { query: { next: "/account?tab=1&x=<b>" } });
    const result = await s.h.call(request);
    expect(result.status).toBe(200);
    const html = await s.h.render(result);
    expect(html).toContain('<label for="username">Username</label>');
    expect(html).toMatch(
      /<input id="username" name="username" type="text" value="" autocomplete="username" required>/,
    );
    expect(html).toContain('<label for="password">Password</label>');
    expect(html).toContain('autocomplete="current-password"');
    expect(html).toContain(`<input type="hidden" name="csrfToken" value="${request.csrfToken}">`);
    expect(html).toContain('<input type="hidden" name="next" value="/account?tab=1&amp;x=&lt;b&gt;">');
    expect(html).toContain('<form method="post" action="/login">');
    expect(html).toContain('href="/signup?next=%2Faccount%3Ftab%3D1%26x%3D%3Cb%3E"');
    expect(html).toContain('href="/requestpasswordreset"');
    expect(html).toContain('aria-live="assertive"');
  });

  it.each(UNSAFE_NEXTS)("does not carry the unsafe next %s", async (next) => {
    const html = await s.h.render(await s.h.call(s.h.pageRequest("GET", "login", {}, { query: { next } })));
    expect(html).not.toContain('name="next"');
    expect(html).not.toContain("evil.com");
  });

  it("redirects a login to loginRedirect, or a safe next, with the session cookies", async () => {
    const { h } = s;
    await h.createUser({ username: "alice" });
    const plain = await h.call(
      h.pageRequest("POST", "login", { username: "alice", password: TEST_PASSWORD }),
    );
    expect(plain.status).toBe(303);
    expect(plain.redirect).toBe("/");
    expect(plain.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
    expect(cookieSet(plain, "SESSIONID")?.options.maxAge).toBeUndefined();
    const withNext = await h.call(
      h.pageRequest("POST", "login", {
        username: "alice",
        password: TEST_PASSWORD,
        next: "/account?a=1",
        persist: "on",
      }),
    );
    expect(withNext.redirect).toBe("/account?a=1");
    expect(cookieSet(withNext, "SESSIONID")?.options.maxAge).toBe(30 * 24 * 60 * 60);
  });

  it.each(UNSAFE_NEXTS)("ignores the unsafe next %s after a login", async (next) => {
    await s.h.createUser({ username: "alice" });
    const result = await s.h.call(
      s.h.pageRequest("POST", "login", { username: "alice", password: TEST_PASSWORD, next }),
    );
    expect(result.status).toBe(303);
    expect(result.redirect).toBe("/");
  });

  it("uses the configured loginRedirect and prefix", async () => {
    const { makeEndpointHarness } = await import("./endpoint-harness.js");
    const h = makeEndpointHarness({
      smtpPort: s.smtp.port,
      endpointOptions: { prefix: "/auth", loginRedirect: "/home" },
    });
    try {
      await h.createUser({ username: "alice" });
      const result = await h.call(
        h.pageRequest("POST", "login", { username: "alice", password: TEST_PASSWORD }),
      );
      expect(result.redirect).toBe("/home");
      await h.createUser({ username: "erin", factor2: "dummy" });
      const twoFactor = await h.call(
        h.pageRequest("POST", "/auth/login", { username: "erin", password: TEST_PASSWORD }),
      );
      expect(twoFactor.redirect).toBe("/auth/loginfactor2");
    } finally {
      h.close();
    }
  });

  it("sends a user with a second factor to loginfactor2, carrying next and persist", async () => {
    await s.h.createUser({ username: "erin", factor2: "dummy" });
    const result = await s.h.call(
      s.h.pageRequest("POST", "login", {
        username: "erin",
        password: TEST_PASSWORD,
        next: "/account",
        persist: "true",
      }),
    );
    expect(result.status).toBe(303);
    expect(result.redirect).toBe("/loginfactor2?next=%2Faccount&persist=true");
    expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
  });

  it.each([
    [UserState.passwordChangeNeeded, "/changepassword"],
    [UserState.passwordResetNeeded, "/requestpasswordreset"],
    [UserState.factor2ResetNeeded, "/changefactor2"],
  ])("sends a user in %s to %s with the anonymous session", async (state, location) => {
    await s.h.createUser({ username: "dave", state });
    const result = await s.h.call(
      s.h.pageRequest("POST", "login", { username: "dave", password: TEST_PASSWORD }),
    );
    expect(result.status).toBe(303);
    expect(result.redirect).toBe(location);
    expect((await s.h.sessionManager.userForSessionId(s.h.sessionIdOf(result))).user).toBeUndefined();
  });

  it("shows the form again with 401, the message and the escaped username, never the password", async () => {
    const username = '<script>alert("x")</script>';
    const result = await s.h.call(s.h.pageRequest("POST", "login", { username, password: "Secret-Typed-1" }));
    expect(result.status).toBe(401);
    expect(result.setCookies).toBeUndefined();
    const html = await s.h.render(result);
    expect(html).toContain("<li>Username or password is invalid</li>");
    expect(html).toContain('value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"');
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("Secret-Typed-1");
  });
});

describe("logout", () => {
  it("api/logout deletes the session server side and clears SESSIONID and CSRFTOKEN", async () => {
    const { h } = s;
    const { user } = await h.createUser({ username: "alice" });
    const session = await h.userSession(user);
    const result = await h.call(
      h.apiRequest("POST", "api/logout", {}, { user, sessionId: session.sessionId }),
    );
    expect(result).toEqual({ status: 200, json: { ok: true }, clearCookies: ["SESSIONID", "CSRFTOKEN"] });
    expect(await h.sessionExists(session.sessionId)).toBe(false);
  });

  it("api/logout without a session still clears the cookies", async () => {
    const result = await s.h.call(s.h.apiRequest("POST", "api/logout"));
    expect(result).toEqual({ status: 200, json: { ok: true }, clearCookies: ["SESSIONID", "CSRFTOKEN"] });
  });

  it("the page asks for confirmation with a CSRF-protected form, and redirects to logoutRedirect", async () => {
    const { makeEndpointHarness } = await import("./endpoint-harness.js");
    const h = makeEndpointHarness({
      smtpPort: s.smtp.port,
      endpointOptions: { logoutRedirect: "/bye" },
    });
    try {
      const { user } = await h.createUser({ username: "alice" });
      const session = await h.userSession(user);
      const get = h.pageRequest("GET", "logout", {}, { user, sessionId: session.sessionId });
      const html = await h.render(await h.call(get));
      expect(html).toContain('<form method="post" action="/logout">');
      expect(html).toContain(`<input type="hidden" name="csrfToken" value="${get.csrfToken}">`);
      expect(html).toContain('<button type="submit">Log out</button>');
      const post = await h.call(
        h.pageRequest("POST", "logout", { next: "/x" }, { user, sessionId: session.sessionId }),
      );
      expect(post).toEqual({ status: 303, redirect: "/bye", clearCookies: ["SESSIONID", "CSRFTOKEN"] });
      expect(await h.sessionExists(session.sessionId)).toBe(false);
    } finally {
      h.close();
    }
  });

  it("the page tells an anonymous visitor they are not logged in", async () => {
    const html = await s.h.render(await s.h.call(s.h.pageRequest("GET", "logout")));
    expect(html).toContain("You are not logged in.");
    expect(html).toContain('href="/login"');
    expect(html).not.toContain("<form");
  });
});

describe("definitions", () => {
  it("declare methods, kinds, CSRF, access and features", () => {
    expect(loginEndpoints.map((d) => [d.name, d.method, d.kind, d.csrf, d.access, d.feature])).toEqual([
      ["login", "GET", "page", false, "any", "session"],
      ["login", "POST", "page", true, "any", "session"],
      ["api/login", "POST", "api", true, "any", "session"],
      ["logout", "GET", "page", false, "any", "session"],
      ["logout", "POST", "page", true, "any", "session"],
      ["api/logout", "POST", "api", true, "any", "session"],
      ["loginfactor2", "GET", "page", false, "any", "factor2"],
      ["loginfactor2", "POST", "page", true, "any", "factor2"],
      ["api/loginfactor2", "POST", "api", true, "any", "factor2"],
    ]);
  });
});
