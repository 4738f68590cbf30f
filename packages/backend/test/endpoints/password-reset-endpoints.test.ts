/**
 * `requestpasswordreset`, `resetpassword/:token`, `resetpassword` and their `api/` twins, called
 * without HTTP, following the links the SMTP fixture received: identical answers for known and
 * unknown addresses, single-use tokens, the session each user state gets, redirects (unsafe `next`
 * values fall back) and the rendered pages.
 */
import { ErrorCode, KeyPrefix, type User, UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { passwordResetEndpoints } from "../../src/endpoints/handlers/password-reset-endpoints.js";
import { emailedToken, mailsTo, TEST_PASSWORD } from "../session/flow-context.js";
import {
  errorShape,
  expectCsrfForm,
  expectField,
  expectTwoFactorLogin,
  useEndpointHarness,
  userJson,
} from "./endpoint-harness.js";

const s = useEndpointHarness({ endpoints: passwordResetEndpoints });

const NEW_PASSWORD = "Reset-Horse-Battery-8";
const UNSAFE_NEXTS = ["//evil.com", "https://evil.com", "/\\evil.com"];
const invalidToken = errorShape(ErrorCode.InvalidKey, "InvalidKey", "Password reset token is invalid");
const newPasswords = { new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD };

/** Asks for a reset link by API and returns the token of the link emailed to the user. */
async function emailedResetToken(username: string): Promise<string> {
  const result = await s.h.call(
    s.h.apiRequest("POST", "api/requestpasswordreset", { email: `${username}@example.com` }),
  );
  expect(result).toEqual({ status: 200, json: { ok: true } });
  await s.h.sessionManager.whenIdle();
  const token = emailedToken(mailsTo(s.smtp, `${username}@example.com`).at(-1)!, "resetpassword");
  s.neverLogged(token);
  return token;
}

/** A reset token created directly (for users in states that get no self-service email). */
async function directResetToken(user: User): Promise<string> {
  const token = (await s.h.sessionManager.tokenEmailer?.createAndSavePasswordResetToken(user.id)) as string;
  s.neverLogged(token);
  return token;
}

/** The user as stored now. */
async function stored(user: User): Promise<User> {
  return (await s.h.userStorage.getUserById(user.id, { skipActiveCheck: true, skipEmailVerifiedCheck: true }))
    .user;
}

/** Whether a password is the user's. */
async function passwordWorks(user: User, password: string): Promise<boolean> {
  const { secrets } = await s.h.userStorage.getUserById(user.id, {
    skipActiveCheck: true,
    skipEmailVerifiedCheck: true,
  });
  return s.h.passwordAuthenticator
    .authenticateUser(await stored(user), secrets, { password })
    .then(() => true)
    .catch(() => false);
}

/** The password-reset keys of a user. */
async function resetKeys(user: User) {
  const keys = await s.h.keyStorage.getAllForUser(user.id);
  return keys.filter((k) => k.value.startsWith(KeyPrefix.passwordResetToken));
}

describe("api/requestpasswordreset", () => {
  it("answers known and unknown addresses identically; only the known one gets a link", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const before = s.smtp.messages.length;
    const known = await s.h.call(
      s.h.apiRequest("POST", "api/requestpasswordreset", { email: "alice@example.com" }),
    );
    const unknown = await s.h.call(
      s.h.apiRequest("POST", "api/requestpasswordreset", { email: "nobody@example.com" }),
    );
    expect(known).toEqual({ status: 200, json: { ok: true } });
    expect(unknown).toEqual(known);
    await s.h.sessionManager.whenIdle();
    expect(s.smtp.messages.slice(before).map((m) => m.envelopeTo)).toEqual([["alice@example.com"]]);
    expect(await resetKeys(user)).toHaveLength(1);
  });

  it.each([
    [
      "a malformed address",
      { email: "not-an-address" },
      errorShape(ErrorCode.InvalidEmail, "InvalidEmail", "Please enter a valid email address"),
    ],
    ["a missing address", {}, errorShape(ErrorCode.FormEntry, "FormEntry", "email is required")],
  ])("refuses %s with 400 and sends nothing", async (_what, body, json) => {
    const before = s.smtp.messages.length;
    const result = await s.h.call(s.h.apiRequest("POST", "api/requestpasswordreset", body));
    expect(result).toEqual({ status: 400, json });
    await s.h.sessionManager.whenIdle();
    expect(s.smtp.messages.length).toBe(before);
  });
});

describe("api/resetpassword", () => {
  it("resets with the emailed token and logs in: {ok, user} + session; other sessions end; single use", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const old = await s.h.userSession(user);
    const token = await emailedResetToken("alice");
    const result = await s.h.call(s.h.apiRequest("POST", "api/resetpassword", { token, ...newPasswords }));
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ ok: true, user: userJson(user) });
    expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
    expect((await s.h.sessionManager.userForSessionId(s.h.sessionIdOf(result))).user?.id).toBe(user.id);
    expect(await s.h.sessionExists(old.sessionId)).toBe(false);
    expect(await passwordWorks(user, NEW_PASSWORD)).toBe(true);
    expect(await passwordWorks(user, TEST_PASSWORD)).toBe(false);
    expect(await resetKeys(user)).toEqual([]);
    const again = await s.h.call(s.h.apiRequest("POST", "api/resetpassword", { token, ...newPasswords }));
    expect(again).toEqual({ status: 401, json: invalidToken });
    s.neverLogged(NEW_PASSWORD);
  });

  it("keeps the token when the new password is refused, so the user can try again", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const token = await emailedResetToken("alice");
    const mismatch = await s.h.call(
      s.h.apiRequest("POST", "api/resetpassword", {
        token,
        new_password: NEW_PASSWORD,
        repeat_password: "Other-1a",
      }),
    );
    expect(mismatch).toEqual({
      status: 401,
      json: errorShape(ErrorCode.PasswordMatch, "PasswordMatch", "Passwords do not match"),
    });
    const weak = await s.h.call(
      s.h.apiRequest("POST", "api/resetpassword", { token, new_password: "alllowercase1" }),
    );
    expect(weak).toEqual({
      status: 401,
      json: errorShape(
        ErrorCode.PasswordFormat,
        "PasswordFormat",
        "Password must contain at least one uppercase character",
      ),
    });
    expect(await resetKeys(user)).toHaveLength(1);
    expect(await passwordWorks(user, TEST_PASSWORD)).toBe(true);
    const ok = await s.h.call(
      s.h.apiRequest("POST", "api/resetpassword", { token, new_password: NEW_PASSWORD }),
    );
    expect(ok.status).toBe(200);
  });

  it("refuses an expired token with 401 Expired and a missing one with 400 FormEntry", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const token = await emailedResetToken("alice");
    const missing = await s.h.call(s.h.apiRequest("POST", "api/resetpassword", newPasswords));
    expect(missing).toEqual({
      status: 400,
      json: errorShape(ErrorCode.FormEntry, "FormEntry", "token is required"),
    });
    s.h.clock.advance(24 * 60 * 60 + 1);
    const expired = await s.h.call(s.h.apiRequest("POST", "api/resetpassword", { token, ...newPasswords }));
    expect(expired).toEqual({
      status: 401,
      json: errorShape(ErrorCode.Expired, "Expired", "Password reset token has expired"),
    });
    expect(await passwordWorks(user, TEST_PASSWORD)).toBe(true);
  });

  it("activates a user in passwordresetneeded and logs them in", async () => {
    const { user } = await s.h.createUser({ username: "bob", state: UserState.passwordResetNeeded });
    const token = await emailedResetToken("bob");
    const result = await s.h.call(s.h.apiRequest("POST", "api/resetpassword", { token, ...newPasswords }));
    expect(result.json).toMatchObject({ ok: true, user: { id: user.id, state: UserState.active } });
    expect((await stored(user)).state).toBe(UserState.active);
  });

  it("does not skip the second factor: twoFactorRequired with the login's anonymous session", async () => {
    const { user } = await s.h.createUser({ username: "carol", factor2: "dummy" });
    const token = await emailedResetToken("carol");
    const result = await s.h.call(s.h.apiRequest("POST", "api/resetpassword", { token, ...newPasswords }));
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ ok: true, twoFactorRequired: true });
    await expectTwoFactorLogin(s.h, result, user, "dummy");
  });

  it("leaves a second-factor reset pending: factor2ResetNeeded and an anonymous session permitting only it", async () => {
    const { user } = await s.h.createUser({
      username: "dave",
      state: UserState.passwordAndFactor2ResetNeeded,
      factor2: "dummy",
    });
    const token = await emailedResetToken("dave");
    const result = await s.h.call(s.h.apiRequest("POST", "api/resetpassword", { token, ...newPasswords }));
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ ok: true, factor2ResetNeeded: true });
    const sessionId = s.h.sessionIdOf(result);
    expect((await s.h.sessionManager.userForSessionId(sessionId)).user).toBeUndefined();
    expect((await s.h.sessionData(sessionId)).factor2change).toEqual({ userid: user.id, username: "dave" });
    expect((await stored(user)).state).toBe(UserState.factor2ResetNeeded);
  });

  it("resets the password of a user who may not have a session yet without logging them in", async () => {
    const { user } = await s.h.createUser({ username: "erin", state: UserState.awaitingEmailVerification });
    const token = await directResetToken(user);
    const result = await s.h.call(s.h.apiRequest("POST", "api/resetpassword", { token, ...newPasswords }));
    expect(result).toEqual({ status: 200, json: { ok: true } });
    expect(await passwordWorks(user, NEW_PASSWORD)).toBe(true);
    expect((await stored(user)).state).toBe(UserState.awaitingEmailVerification);
  });

  it("refuses the token of a disabled user with 401 UserNotActive", async () => {
    const { user } = await s.h.createUser({ username: "frank" });
    const token = await emailedResetToken("frank");
    await s.h.userStorage.updateUser({ id: user.id, state: UserState.disabled });
    const result = await s.h.call(s.h.apiRequest("POST", "api/resetpassword", { token, ...newPasswords }));
    expect(result).toEqual({
      status: 403,
      json: errorShape(ErrorCode.UserNotActive, "UserNotActive", "Account is not active"),
    });
    expect(await passwordWorks(user, TEST_PASSWORD)).toBe(true);
  });
});

describe("requestpasswordreset page", () => {
  it("shows the labelled email field with autocomplete and the CSRF field", async () => {
    const request = s.h.pageRequest("GET", "requestpasswordreset");
    const result = await s.h.call(request);
    expect(result.status).toBe(200);
    const html = await s.h.render(result);
    expect(html).toContain("<title>Forgot your password? · Crossauth</title>");
    expectCsrfForm(html, "/requestpasswordreset", request);
    expectField(html, { name: "email", label: "Email", type: "email", autocomplete: "email" });
    expect(html).toContain('<button type="submit">Send reset link</button>');
    expect(html).toContain('<a href="/login">Log in</a>');
  });

  it("fills in a logged-in user's address", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const html = await s.h.render(
      await s.h.call(s.h.pageRequest("GET", "requestpasswordreset", {}, { user })),
    );
    expect(html).toContain('value="alice@example.com"');
  });

  it("shows the same notice, without the form, for known and unknown addresses", async () => {
    await s.h.createUser({ username: "alice" });
    const before = s.smtp.messages.length;
    const known = await s.h.call(
      s.h.pageRequest("POST", "requestpasswordreset", { email: "alice@example.com" }),
    );
    const unknown = await s.h.call(
      s.h.pageRequest("POST", "requestpasswordreset", { email: "nobody@example.com" }),
    );
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    // Each request carries its own fresh CSRF value; everything else is the same.
    const withoutCsrf = (r: typeof known) => ({
      ...r,
      page: { ...r.page, data: { ...r.page?.data, csrfToken: "" } },
    });
    expect(withoutCsrf(unknown)).toEqual(withoutCsrf(known));
    const html = await s.h.render(known);
    expect(await s.h.render(unknown)).toBe(html);
    expect(html).toContain(
      '<p class="notice" role="status" aria-live="polite">If an account uses that address, we sent it a link to reset the password.</p>',
    );
    expect(html).not.toContain("<form");
    await s.h.sessionManager.whenIdle();
    expect(s.smtp.messages.slice(before).map((m) => m.envelopeTo)).toEqual([["alice@example.com"]]);
  });

  it("re-shows the form with the escaped address and the error for a malformed one", async () => {
    const result = await s.h.call(
      s.h.pageRequest("POST", "requestpasswordreset", { email: '"><script>x</script>' }),
    );
    expect(result.status).toBe(400);
    const html = await s.h.render(result);
    expect(html).toContain("<li>Please enter a valid email address</li>");
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    expect(html).not.toContain("<script>");
  });
});

describe("resetpassword pages", () => {
  it("GET resetpassword/:token shows the form with the token hidden, without spending it", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const token = await emailedResetToken("alice");
    const request = s.h.pageRequest("GET", `resetpassword/${token}`);
    const result = await s.h.call(request);
    expect(result.status).toBe(200);
    expect(result.page?.template).toBe("resetpassword");
    const html = await s.h.render(result);
    expect(html).toContain("<title>Choose a new password · Crossauth</title>");
    expectCsrfForm(html, "/resetpassword", request);
    expect(html).toContain(`<input type="hidden" name="token" value="${token}">`);
    const password = { type: "password", autocomplete: "new-password" };
    expectField(html, { name: "new_password", label: "New password", ...password });
    expectField(html, { name: "repeat_password", label: "Repeat password", ...password });
    expect(await resetKeys(user)).toHaveLength(1);
  });

  it("GET with an unusable token shows the error page (401) with a link to ask for a new one", async () => {
    const result = await s.h.call(s.h.pageRequest("GET", "resetpassword/AAAAAAAAAAAAAAAAAAAAAA"));
    expect(result.status).toBe(401);
    expect(result.page?.template).toBe("error");
    const html = await s.h.render(result);
    expect(html).toContain("<li>Password reset token is invalid</li>");
    expect(html).toContain('<a href="/requestpasswordreset">Request a new link</a>');
    expect(html).toContain('<a href="/">Home</a>');
    expect(html).not.toContain("<form");
  });

  it("POST resets and redirects with the new session to a safe next or the login redirect", async () => {
    for (const [index, next] of [undefined, "/welcome", ...UNSAFE_NEXTS].entries()) {
      const username = `user${index}`;
      const { user } = await s.h.createUser({ username });
      const token = await emailedResetToken(username);
      const body = { token, ...newPasswords, ...(next ? { next } : {}) };
      const result = await s.h.call(s.h.pageRequest("POST", "resetpassword", body));
      expect(result.status).toBe(303);
      expect(result.redirect).toBe(next === "/welcome" ? "/welcome" : "/");
      expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
      expect((await s.h.sessionManager.userForSessionId(s.h.sessionIdOf(result))).user?.id).toBe(user.id);
    }
  });

  it("POST sends a user with a second factor to loginfactor2, and one whose factor must be reset to changefactor2", async () => {
    const { user: carol } = await s.h.createUser({ username: "carol", factor2: "dummy" });
    const carolToken = await emailedResetToken("carol");
    const login = await s.h.call(
      s.h.pageRequest("POST", "resetpassword", { token: carolToken, ...newPasswords }),
    );
    expect(login.status).toBe(303);
    expect(login.redirect).toBe("/loginfactor2");
    await expectTwoFactorLogin(s.h, login, carol, "dummy");
    await s.h.createUser({
      username: "dave",
      state: UserState.passwordAndFactor2ResetNeeded,
      factor2: "dummy",
    });
    const daveToken = await emailedResetToken("dave");
    const change = await s.h.call(
      s.h.pageRequest("POST", "resetpassword", { token: daveToken, ...newPasswords }),
    );
    expect(change.status).toBe(303);
    expect(change.redirect).toBe("/changefactor2");
    expect((await s.h.sessionData(s.h.sessionIdOf(change))).factor2change).toMatchObject({
      username: "dave",
    });
  });

  it("POST re-shows the form with the token and the error for a refused password", async () => {
    const { user } = await s.h.createUser({ username: "alice" });
    const token = await emailedResetToken("alice");
    const body = { token, new_password: NEW_PASSWORD, repeat_password: "Other-Pass-1" };
    const result = await s.h.call(s.h.pageRequest("POST", "resetpassword", body));
    expect(result.status).toBe(401);
    expect(result.page?.template).toBe("resetpassword");
    const html = await s.h.render(result);
    expect(html).toContain("<li>Passwords do not match</li>");
    expect(html).toContain(`<input type="hidden" name="token" value="${token}">`);
    expect(html).not.toContain(NEW_PASSWORD);
    expect(await resetKeys(user)).toHaveLength(1);
  });

  it("POST with a used token shows the error page (401)", async () => {
    await s.h.createUser({ username: "alice" });
    const token = await emailedResetToken("alice");
    expect(
      (await s.h.call(s.h.pageRequest("POST", "resetpassword", { token, ...newPasswords }))).status,
    ).toBe(303);
    const again = await s.h.call(s.h.pageRequest("POST", "resetpassword", { token, ...newPasswords }));
    expect(again.status).toBe(401);
    expect(again.page?.template).toBe("error");
    expect(again.setCookies).toBeUndefined();
    expect(await s.h.render(again)).toContain("<li>Password reset token is invalid</li>");
  });

  it("POST says the password was reset, with a login link, when the user may not have a session yet", async () => {
    const { user } = await s.h.createUser({ username: "erin", state: UserState.awaitingEmailVerification });
    const token = await directResetToken(user);
    const result = await s.h.call(s.h.pageRequest("POST", "resetpassword", { token, ...newPasswords }));
    expect(result.status).toBe(200);
    expect(result.setCookies).toBeUndefined();
    const html = await s.h.render(result);
    expect(html).toContain('<p class="notice" role="status" aria-live="polite">Your password was reset.</p>');
    expect(html).toContain('<a href="/login">Log in</a>');
    expect(html).not.toContain("<form");
  });
});
