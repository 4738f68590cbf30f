/**
 * `loginfactor2` and `api/loginfactor2`, called without HTTP: the second step of a two-factor login
 * with emailed, dummy and TOTP codes — statuses, JSON, cookies, the anonymous session ended, redirects
 * (and unsafe `next` values) and the rendered code form.
 */
import { ErrorCode } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { DUMMY_CODE, emailedCode, mailsTo, TEST_PASSWORD } from "../session/flow-context.js";
import { cookieSet, errorShape, useEndpointHarness } from "./endpoint-harness.js";

const s = useEndpointHarness();

const UNSAFE_NEXTS = ["//evil.com", "https://evil.com", "/\\evil.com"];

describe("loginfactor2", () => {
  async function startLogin(username: string, factor2: string) {
    const { user, secrets } = await s.h.createUser({ username, factor2 });
    const result = await s.h.call(s.h.apiRequest("POST", "api/login", { username, password: TEST_PASSWORD }));
    expect(result.json).toEqual({ ok: true, twoFactorRequired: true });
    return { user, secrets, sessionId: s.h.sessionIdOf(result) };
  }

  it("api: a wrong code is 401 InvalidToken and keeps the login; the right one logs in and ends the anonymous session", async () => {
    const { h } = s;
    const { user, sessionId } = await startLogin("erin", "dummy");
    const wrong = await h.call(h.apiRequest("POST", "api/loginfactor2", { otp: "9999" }, { sessionId }));
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({
      ok: false,
      errorCode: ErrorCode.InvalidToken,
      errorCodeName: "InvalidToken",
    });
    expect(wrong.setCookies).toBeUndefined();
    expect(await h.sessionExists(sessionId)).toBe(true);
    const right = await h.call(h.apiRequest("POST", "api/loginfactor2", { otp: DUMMY_CODE }, { sessionId }));
    expect(right.status).toBe(200);
    expect(right.json).toMatchObject({ ok: true, user: { id: user.id, username: "erin", factor2: "dummy" } });
    expect(JSON.stringify(right.json)).not.toContain("totpsecret");
    const newSession = h.sessionIdOf(right);
    expect((await h.sessionManager.userForSessionId(newSession)).user?.id).toBe(user.id);
    expect(await h.sessionExists(sessionId)).toBe(false);
    expect(cookieSet(right, "CSRFTOKEN")).toBeDefined();
  });

  it("api: TOTP codes from the app log in, and the user JSON has no TOTP secret", async () => {
    const { h } = s;
    const { secrets, sessionId } = await startLogin("tina", "totp");
    const code = await h.totp(secrets.totpsecret as string);
    s.neverLogged(secrets.totpsecret as string);
    const result = await h.call(h.apiRequest("POST", "api/loginfactor2", { otp: code }, { sessionId }));
    expect(result.status).toBe(200);
    expect(JSON.stringify(result.json)).not.toContain(secrets.totpsecret as string);
  });

  it("api: without a two-factor login in progress is 401 Unauthorized", async () => {
    const none = await s.h.call(s.h.apiRequest("POST", "api/loginfactor2", { otp: DUMMY_CODE }));
    expect(none.status).toBe(401);
    expect(none.json).toEqual(
      errorShape(ErrorCode.Unauthorized, "Unauthorized", "No two-factor login in progress"),
    );
    const anonymous = await s.h.anonymousSession();
    const result = await s.h.call(
      s.h.apiRequest("POST", "api/loginfactor2", { otp: DUMMY_CODE }, { sessionId: anonymous.sessionId }),
    );
    expect(result.status).toBe(401);
    expect(result.json).toMatchObject({ errorCodeName: "Unauthorized" });
  });

  it("page: shows the code field for an emailed code, with the CSRF field and carried next and persist", async () => {
    const { sessionId } = await startLogin("carol", "email");
    const request = s.h.pageRequest(
      "GET",
      "loginfactor2",
      {},
      { sessionId, query: { next: "/account", persist: "true" } },
    );
    const result = await s.h.call(request);
    expect(result.status).toBe(200);
    const html = await s.h.render(result);
    expect(html).toContain("We sent you a code. Enter it below.");
    expect(html).toContain('<label for="otp">Code</label>');
    expect(html).toContain(
      'autocomplete="one-time-code" required inputmode="numeric" aria-describedby="otp-help"',
    );
    expect(html).toContain(`<input type="hidden" name="csrfToken" value="${request.csrfToken}">`);
    expect(html).toContain('<input type="hidden" name="next" value="/account">');
    expect(html).toContain('<input type="hidden" name="persist" value="true">');
    s.neverLogged(emailedCode(mailsTo(s.smtp, "carol@example.com").at(-1)!));
  });

  it("page: tells a TOTP user to open their app", async () => {
    const { sessionId } = await startLogin("tina", "totp");
    const html = await s.h.render(await s.h.call(s.h.pageRequest("GET", "loginfactor2", {}, { sessionId })));
    expect(html).toContain("Open your authenticator app and enter the 6-digit code it shows.");
  });

  it("page: without a login in progress, GET goes back to login", async () => {
    const result = await s.h.call(s.h.pageRequest("GET", "loginfactor2", {}, { query: { next: "/a" } }));
    expect(result).toEqual({ status: 303, redirect: "/login?next=%2Fa" });
  });

  it("page: a wrong code shows the form again with 401; the right one redirects to next with the session", async () => {
    const { h } = s;
    const { user, sessionId } = await startLogin("erin", "dummy");
    const wrong = await h.call(
      h.pageRequest("POST", "loginfactor2", { otp: "1234", next: "/account" }, { sessionId }),
    );
    expect(wrong.status).toBe(401);
    const html = await h.render(wrong);
    expect(html).toContain("<li>");
    expect(html).toContain('<input type="hidden" name="next" value="/account">');
    const right = await h.call(
      h.pageRequest(
        "POST",
        "loginfactor2",
        { otp: DUMMY_CODE, next: "/account", persist: "true" },
        { sessionId },
      ),
    );
    expect(right.status).toBe(303);
    expect(right.redirect).toBe("/account");
    expect(cookieSet(right, "SESSIONID")?.options.maxAge).toBe(30 * 24 * 60 * 60);
    expect((await h.sessionManager.userForSessionId(h.sessionIdOf(right))).user?.id).toBe(user.id);
  });

  it.each(UNSAFE_NEXTS)("page: ignores the unsafe next %s", async (next) => {
    const { sessionId } = await startLogin("erin", "dummy");
    const result = await s.h.call(
      s.h.pageRequest("POST", "loginfactor2", { otp: DUMMY_CODE, next }, { sessionId }),
    );
    expect(result.status).toBe(303);
    expect(result.redirect).toBe("/");
  });
});
