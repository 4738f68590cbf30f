/**
 * `configurefactor2` and `changefactor2` (pages and `api/` twins), called without HTTP: set-up data
 * (TOTP QR code and secret), completing a set-up at sign-up, by a logged-in user and after a forced
 * reset, logins that follow, removal of the factor, errors and rendered pages.
 */
import { ErrorCode, UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { factor2Endpoints } from "../../src/endpoints/handlers/factor2-endpoints.js";
import { DUMMY_CODE, emailedCode, mailsTo, TEST_PASSWORD } from "../session/flow-context.js";
import {
  type EndpointHarness,
  errorShape,
  makeEndpointHarness,
  useEndpointHarness,
} from "./endpoint-harness.js";

const s = useEndpointHarness();

const ANY_STATE = { skipActiveCheck: true, skipEmailVerifiedCheck: true };
const alice = { username: "alice", password: TEST_PASSWORD, user_email: "alice@example.com" };

/** Signs alice up with a second factor; returns the set-up session and the API answer. */
async function signUp(h: EndpointHarness, factor2: string) {
  const result = await h.call(h.apiRequest("POST", "api/signup", { ...alice, factor2 }));
  expect(result.status).toBe(200);
  return { sessionId: h.sessionIdOf(result), json: result.json as Record<string, unknown> };
}

/** A harness without email verification, for one test. */
async function withoutVerification(body: (h: EndpointHarness) => Promise<void>): Promise<void> {
  const h = makeEndpointHarness({ smtpPort: s.smtp.port, enableEmailVerification: false });
  try {
    await body(h);
  } finally {
    h.close();
  }
}

describe("configurefactor2 after sign-up", () => {
  it("page GET shows the TOTP QR code image, the secret text and the labelled code field", async () => {
    const { h } = s;
    const { sessionId, json } = await signUp(h, "totp");
    s.neverLogged(json.totpsecret as string);
    const request = h.pageRequest("GET", "configurefactor2", {}, { sessionId, query: { next: "/welcome" } });
    const result = await h.call(request);
    expect(result.status).toBe(200);
    const html = await h.render(result);
    expect(html).toContain(`<img src="${json.qr}" alt="QR code to scan with your authenticator app"`);
    expect(html).toContain(`<code class="secret" id="totpsecret">${json.totpsecret}</code>`);
    expect(html).toContain("Scan this QR code with your authenticator app");
    expect(html).toContain('<label for="otp">Code</label>');
    expect(html).toContain('autocomplete="one-time-code" required inputmode="numeric"');
    expect(html).toContain(`<input type="hidden" name="csrfToken" value="${request.csrfToken}">`);
    expect(html).toContain('<input type="hidden" name="next" value="/welcome">');
    expect(html).toContain('<form method="post" action="/configurefactor2">');
  });

  it("page GET for an emailed code says it was sent, without sending another", async () => {
    const { h } = s;
    const { sessionId } = await signUp(h, "email");
    const sent = mailsTo(s.smtp, "alice@example.com").length;
    const html = await h.render(await h.call(h.pageRequest("GET", "configurefactor2", {}, { sessionId })));
    expect(html).toContain("We sent you a code. Enter it below.");
    expect(html).not.toContain("<img");
    expect(mailsTo(s.smtp, "alice@example.com")).toHaveLength(sent);
  });

  it("api GET repeats the set-up data: the same TOTP secret and a new emailed code", async () => {
    const { h } = s;
    const totp = await signUp(h, "totp");
    const again = await h.call(
      h.apiRequest("GET", "api/configurefactor2", {}, { sessionId: totp.sessionId }),
    );
    expect(again.status).toBe(200);
    expect(again.json).toEqual({
      ok: true,
      userid: totp.json.userid,
      totpsecret: totp.json.totpsecret,
      factor2: "totp",
      qr: expect.stringMatching(/^data:image\/png;base64,/),
    });
    s.neverLogged(totp.json.totpsecret as string);
  });

  it("api GET for email sends a new code", async () => {
    const { h } = s;
    const { sessionId, json } = await signUp(h, "email");
    const sent = mailsTo(s.smtp, "alice@example.com").length;
    const again = await h.call(h.apiRequest("GET", "api/configurefactor2", {}, { sessionId }));
    expect(again.json).toEqual({
      ok: true,
      userid: json.userid,
      username: "alice",
      email: "alice@example.com",
      factor2: "email",
    });
    expect(mailsTo(s.smtp, "alice@example.com")).toHaveLength(sent + 1);
  });

  it("api POST: a wrong code is 401 and keeps the set-up; the right TOTP code saves the factor", async () => {
    const { h } = s;
    const { sessionId, json } = await signUp(h, "totp");
    s.neverLogged(json.totpsecret as string);
    const wrong = await h.call(
      h.apiRequest("POST", "api/configurefactor2", { otp: "000000" }, { sessionId }),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ ok: false, errorCode: ErrorCode.InvalidToken });
    const code = await h.totp(json.totpsecret as string);
    const right = await h.call(h.apiRequest("POST", "api/configurefactor2", { otp: code }, { sessionId }));
    expect(right.status).toBe(200);
    expect(right.json).toEqual({
      ok: true,
      emailVerificationNeeded: true,
      user: expect.objectContaining({
        username: "alice",
        factor2: "totp",
        state: UserState.awaitingEmailVerification,
      }),
    });
    expect(JSON.stringify(right.json)).not.toContain(json.totpsecret as string);
    expect(right.setCookies).toBeUndefined();
    const { user, secrets } = await h.userStorage.getUserByUsername("alice", ANY_STATE);
    expect(user.state).toBe(UserState.awaitingEmailVerification);
    expect(secrets.totpsecret).toBe(json.totpsecret);
    expect((await h.sessionData(sessionId))["2fa"]).toBeUndefined();
    expect(mailsTo(s.smtp, "alice@example.com").at(-1)?.parsed.subject).toBe("Please verify your email");
  });

  it("api POST logs the user in when the account became active, ending the sign-up session", async () => {
    await withoutVerification(async (h) => {
      const { sessionId } = await signUp(h, "dummy");
      const result = await h.call(
        h.apiRequest("POST", "api/configurefactor2", { otp: DUMMY_CODE }, { sessionId }),
      );
      expect(result.status).toBe(200);
      expect(result.json).toMatchObject({
        ok: true,
        emailVerificationNeeded: false,
        user: { username: "alice", state: "active" },
      });
      expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
      const newSession = h.sessionIdOf(result);
      expect((await h.sessionManager.userForSessionId(newSession)).user?.username).toBe("alice");
      expect(await h.sessionExists(sessionId)).toBe(false);
    });
  });

  it("api POST without a set-up in progress is 401 Unauthorized", async () => {
    const anonymous = await s.h.anonymousSession();
    for (const sessionId of [undefined, anonymous.sessionId]) {
      const result = await s.h.call(
        s.h.apiRequest("POST", "api/configurefactor2", { otp: "123456" }, { sessionId }),
      );
      expect(result.status).toBe(401);
      expect(result.json).toMatchObject({ errorCodeName: "Unauthorized" });
    }
  });

  it("page POST: a wrong code shows the QR code again with 401; a right one says to verify the email", async () => {
    const { h } = s;
    const { sessionId, json } = await signUp(h, "totp");
    s.neverLogged(json.totpsecret as string);
    const wrong = await h.call(h.pageRequest("POST", "configurefactor2", { otp: "12" }, { sessionId }));
    expect(wrong.status).toBe(401);
    const wrongHtml = await h.render(wrong);
    expect(wrongHtml).toContain("<li>The code must be 6 digits</li>");
    expect(wrongHtml).toContain(`<img src="${json.qr}"`);
    const code = await h.totp(json.totpsecret as string);
    const right = await h.call(h.pageRequest("POST", "configurefactor2", { otp: code }, { sessionId }));
    expect(right.status).toBe(200);
    const html = await h.render(right);
    expect(html).toContain("We sent you an email. Follow the link in it to verify your address.");
    expect(html).not.toContain("<form");
  });

  it("page POST logs an activated user in and redirects to a safe next", async () => {
    await withoutVerification(async (h) => {
      const { sessionId } = await signUp(h, "dummy");
      const result = await h.call(
        h.pageRequest("POST", "configurefactor2", { otp: DUMMY_CODE, next: "/welcome" }, { sessionId }),
      );
      expect(result.status).toBe(303);
      expect(result.redirect).toBe("/welcome");
      expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
    });
  });

  it.each(["//evil.com", "https://evil.com", "/\\evil.com"])(
    "page POST ignores the unsafe next %s",
    async (next) => {
      await withoutVerification(async (h) => {
        const { sessionId } = await signUp(h, "dummy");
        const result = await h.call(
          h.pageRequest("POST", "configurefactor2", { otp: DUMMY_CODE, next }, { sessionId }),
        );
        expect(result.redirect).toBe("/");
      });
    },
  );

  it("page GET without a set-up in progress shows the error with 401", async () => {
    const result = await s.h.call(s.h.pageRequest("GET", "configurefactor2"));
    expect(result.status).toBe(401);
    expect(await s.h.render(result)).toContain("<li>No second-factor set-up in progress</li>");
  });
});

describe("changefactor2", () => {
  it("api: a logged-in user starts TOTP set-up, then completes it in the same session", async () => {
    const { h } = s;
    const { user } = await h.createUser({ username: "bob" });
    const session = await h.userSession(user);
    const opts = { user, sessionId: session.sessionId };
    const started = await h.call(h.apiRequest("POST", "api/changefactor2", { factor2: "totp" }, opts));
    expect(started.status).toBe(200);
    const json = started.json as Record<string, unknown>;
    expect(json).toEqual({
      ok: true,
      username: "bob",
      factor2: "totp",
      totpsecret: expect.any(String),
      qr: expect.stringMatching(/^data:image\/png;base64,/),
    });
    s.neverLogged(json.totpsecret as string);
    expect((await h.userStorage.getUserById(user.id)).user.factor2).toBe("");
    const code = await h.totp(json.totpsecret as string);
    const done = await h.call(h.apiRequest("POST", "api/configurefactor2", { otp: code }, opts));
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ ok: true, emailVerificationNeeded: false, user: { factor2: "totp" } });
    expect(done.setCookies).toBeUndefined();
    const stored = await h.userStorage.getUserById(user.id);
    expect(stored.user.factor2).toBe("totp");
    expect(stored.secrets.totpsecret).toBe(json.totpsecret);
    expect(await h.sessionExists(session.sessionId)).toBe(true);
  });

  it("api: 'none' removes the second factor and its secret", async () => {
    const { h } = s;
    const { user } = await h.createUser({ username: "tina", factor2: "totp" });
    const session = await h.userSession(user);
    const result = await h.call(
      h.apiRequest("POST", "api/changefactor2", { factor2: "none" }, { user, sessionId: session.sessionId }),
    );
    expect(result).toEqual({ status: 200, json: { ok: true } });
    const stored = await h.userStorage.getUserById(user.id);
    expect(stored.user.factor2).toBe("");
    expect(stored.secrets.totpsecret ?? null).toBeNull();
  });

  it("api: refuses a factor that is not allowed, and anonymous requests without a permit", async () => {
    const { h } = s;
    const { user } = await h.createUser({ username: "bob" });
    const session = await h.userSession(user);
    const notAllowed = await h.call(
      h.apiRequest("POST", "api/changefactor2", { factor2: "sms" }, { user, sessionId: session.sessionId }),
    );
    expect(notAllowed.status).toBe(400);
    expect(notAllowed.json).toMatchObject({
      errorCode: ErrorCode.BadRequest,
      errorMessage: "This second factor is not allowed",
    });
    const anonymous = await h.anonymousSession();
    const noPermit = await h.call(
      h.apiRequest("POST", "api/changefactor2", { factor2: "totp" }, { sessionId: anonymous.sessionId }),
    );
    expect(noPermit.status).toBe(401);
    expect(noPermit.json).toEqual(
      errorShape(ErrorCode.Unauthorized, "Unauthorized", "Log in to change the second factor"),
    );
  });

  it("a user who must reset the factor sets a new one up from the login's anonymous session and is logged in", async () => {
    const { h } = s;
    const { user } = await h.createUser({
      username: "dave",
      factor2: "email",
      state: UserState.factor2ResetNeeded,
    });
    const login = await h.call(
      h.apiRequest("POST", "api/login", { username: "dave", password: TEST_PASSWORD }),
    );
    expect(login.status).toBe(403);
    const sessionId = h.sessionIdOf(login);
    const started = await h.call(
      h.apiRequest("POST", "api/changefactor2", { factor2: "dummy" }, { sessionId }),
    );
    expect(started.json).toEqual({ ok: true, username: "dave", factor2: "dummy" });
    const done = await h.call(
      h.apiRequest("POST", "api/configurefactor2", { otp: DUMMY_CODE }, { sessionId }),
    );
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({
      ok: true,
      user: { id: user.id, factor2: "dummy", state: UserState.active },
    });
    expect((await h.sessionManager.userForSessionId(h.sessionIdOf(done))).user?.id).toBe(user.id);
    expect(await h.sessionExists(sessionId)).toBe(false);
  });

  it("a user who must reset the factor may turn it off and is then logged in", async () => {
    const { h } = s;
    const { user } = await h.createUser({
      username: "dave",
      factor2: "dummy",
      state: UserState.factor2ResetNeeded,
    });
    const login = await h.call(h.pageRequest("POST", "login", { username: "dave", password: TEST_PASSWORD }));
    expect(login.redirect).toBe("/changefactor2");
    const sessionId = h.sessionIdOf(login);
    const page = await h.call(h.pageRequest("GET", "changefactor2", {}, { sessionId }));
    expect(page.status).toBe(200);
    const result = await h.call(h.pageRequest("POST", "changefactor2", { factor2: "none" }, { sessionId }));
    expect(result.status).toBe(200);
    expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
    expect(await h.render(result)).toContain("Two-factor authentication was turned off.");
    const stored = await h.userStorage.getUserById(user.id);
    expect(stored.user).toMatchObject({ factor2: "", state: UserState.active });
  });

  it("page GET offers the allowed factors with the current one selected", async () => {
    const { h } = s;
    const { user } = await h.createUser({ username: "erin", factor2: "email" });
    const session = await h.userSession(user);
    const request = h.pageRequest("GET", "changefactor2", {}, { user, sessionId: session.sessionId });
    const html = await h.render(await h.call(request));
    expect(html).toContain('<form method="post" action="/changefactor2">');
    expect(html).toContain(`<input type="hidden" name="csrfToken" value="${request.csrfToken}">`);
    expect(html).toContain('<label for="factor2">Two-factor authentication</label>');
    expect(html).toContain('<option value="email" selected>Email</option>');
    expect(html).toContain('<option value="none">None</option>');
    expect(html).toContain("Choose how you confirm it&#39;s you when you log in.");
  });

  it("page GET sends an anonymous visitor to login with next", async () => {
    const result = await s.h.call(s.h.pageRequest("GET", "changefactor2"));
    expect(result).toEqual({ status: 303, redirect: "/login?next=%2Fchangefactor2" });
  });

  it("page POST redirects to configurefactor2 (carrying a safe next) where the emailed code is entered", async () => {
    const { h } = s;
    const { user } = await h.createUser({ username: "bob" });
    const session = await h.userSession(user);
    const opts = { user, sessionId: session.sessionId };
    const result = await h.call(
      h.pageRequest("POST", "changefactor2", { factor2: "email", next: "/account" }, opts),
    );
    expect(result).toEqual({ status: 303, redirect: "/configurefactor2?next=%2Faccount" });
    const code = emailedCode(mailsTo(s.smtp, "bob@example.com").at(-1)!);
    s.neverLogged(code);
    const done = await h.call(
      h.pageRequest("POST", "configurefactor2", { otp: code, next: "/account" }, opts),
    );
    expect(done).toEqual({ status: 303, redirect: "/account" });
    expect((await h.userStorage.getUserById(user.id)).user.factor2).toBe("email");
  });

  it("page POST shows the form again with the error", async () => {
    const { h } = s;
    const { user } = await h.createUser({ username: "bob" });
    const session = await h.userSession(user);
    const result = await h.call(
      h.pageRequest(
        "POST",
        "changefactor2",
        { factor2: "<b>sms</b>" },
        { user, sessionId: session.sessionId },
      ),
    );
    expect(result.status).toBe(400);
    const html = await h.render(result);
    expect(html).toContain("<li>This second factor is not allowed</li>");
    expect(html).toContain('<option value="none">None</option>');
    expect(html).not.toContain("<b>sms</b>");
  });
});

describe("definitions", () => {
  it("declare methods, kinds, CSRF, access and features", () => {
    expect(factor2Endpoints.map((d) => [d.name, d.method, d.kind, d.csrf, d.access, d.feature])).toEqual([
      ["configurefactor2", "GET", "page", false, "any", "factor2"],
      ["configurefactor2", "POST", "page", true, "any", "factor2"],
      ["api/configurefactor2", "GET", "api", false, "any", "factor2"],
      ["api/configurefactor2", "POST", "api", true, "any", "factor2"],
      ["changefactor2", "GET", "page", false, "any", "factor2"],
      ["changefactor2", "POST", "page", true, "any", "factor2"],
      ["api/changefactor2", "POST", "api", true, "any", "factor2"],
      ["factor2", "GET", "page", false, "user", "factor2"],
      ["factor2", "POST", "page", true, "user", "factor2"],
      ["api/factor2", "POST", "api", true, "user", "factor2"],
      ["cancelfactor2", "POST", "page", true, "user", "factor2"],
      ["api/cancelfactor2", "POST", "api", true, "user", "factor2"],
    ]);
  });
});
