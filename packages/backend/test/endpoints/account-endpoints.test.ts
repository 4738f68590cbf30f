/**
 * `changepassword`, `updateuser`, `deleteuser` (pages and `api/` twins), `api/userforsessionkey` and
 * `api/getcsrftoken`, called without HTTP: statuses, JSON, cookies, redirects (unsafe `next` values
 * fall back), storage state, emails, and the rendered pages.
 */
import { ErrorCode, KeyPrefix, type User, UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { accountEndpoints } from "../../src/endpoints/handlers/account-endpoints.js";
import { DUMMY_CODE, mailsTo, TEST_PASSWORD } from "../session/flow-context.js";
import {
  cookieSet,
  errorShape,
  expectCsrfForm,
  expectField,
  expectTwoFactorLogin,
  useEndpointHarness,
  userJson,
} from "./endpoint-harness.js";

const s = useEndpointHarness({ endpoints: accountEndpoints, userEditableFields: ["email", "phone"] });

const NEW_PASSWORD = "New-Horse-Battery-7";
const UNSAFE_NEXTS = ["//evil.com", "https://evil.com", "/\\evil.com"];

/** A user with two sessions: the one making requests and another (e.g. on another device). */
async function aliceWithTwoSessions(fields: Record<string, unknown> = {}) {
  const { user } = await s.h.createUser({ username: "alice", ...fields });
  const current = await s.h.userSession(user);
  const other = await s.h.userSession(user);
  return { user, current: current.sessionId, other: other.sessionId };
}

/** Whether a password logs the user in (factor 1 only). */
async function passwordWorks(username: string, password: string): Promise<boolean> {
  try {
    const { user, secrets } = await s.h.userStorage.getUserByUsername(username, {
      skipActiveCheck: true,
      skipEmailVerifiedCheck: true,
    });
    await s.h.passwordAuthenticator.authenticateUser(user, secrets, { password });
    return true;
  } catch {
    return false;
  }
}

/** Logs a user in with the password, which holds them for a forced change: the anonymous session. */
async function forcedChangeSession(username: string): Promise<string> {
  const tokens = await s.h.sessionManager.login(username, { password: TEST_PASSWORD });
  expect(tokens.pendingChange).toBe("passwordchange");
  return tokens.sessionId as string;
}

const passwords = { old_password: TEST_PASSWORD, new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD };

describe("api/changepassword", () => {
  it("changes the password: {ok: true}, no cookies, the other sessions end and this one stays", async () => {
    const { user, current, other } = await aliceWithTwoSessions();
    const request = s.h.apiRequest("POST", "api/changepassword", passwords, { user, sessionId: current });
    const result = await s.h.call(request);
    expect(result).toEqual({ status: 200, json: { ok: true } });
    expect(await s.h.sessionExists(current)).toBe(true);
    expect(await s.h.sessionExists(other)).toBe(false);
    expect(await passwordWorks("alice", NEW_PASSWORD)).toBe(true);
    expect(await passwordWorks("alice", TEST_PASSWORD)).toBe(false);
    s.neverLogged(NEW_PASSWORD);
  });

  it("accepts a change without repeat_password", async () => {
    const { user, current } = await aliceWithTwoSessions();
    const body = { old_password: TEST_PASSWORD, new_password: NEW_PASSWORD };
    const result = await s.h.call(
      s.h.apiRequest("POST", "api/changepassword", body, { user, sessionId: current }),
    );
    expect(result.json).toEqual({ ok: true });
    expect(await passwordWorks("alice", NEW_PASSWORD)).toBe(true);
  });

  it.each([
    [
      "a wrong old password",
      { ...passwords, old_password: "Wrong-Pass-1" },
      401,
      errorShape(ErrorCode.PasswordInvalid, "PasswordInvalid", "Password doesn't match"),
    ],
    [
      "a repeat that differs",
      { ...passwords, repeat_password: "Other-Pass-1" },
      401,
      errorShape(ErrorCode.PasswordMatch, "PasswordMatch", "Passwords do not match"),
    ],
    [
      "a new password against the policy",
      { ...passwords, new_password: "short", repeat_password: "short" },
      401,
      errorShape(
        ErrorCode.PasswordFormat,
        "PasswordFormat",
        "Password must be at least 8 characters",
        "Password must contain at least one uppercase character",
        "Password must contain at least one digit",
      ),
    ],
    [
      "a missing old password",
      { new_password: NEW_PASSWORD },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "old_password is required"),
    ],
    [
      "a new password that is not text",
      { ...passwords, new_password: [NEW_PASSWORD] },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "new_password must be text"),
    ],
  ])("refuses %s and changes nothing", async (_what, body, status, json) => {
    const { user, current, other } = await aliceWithTwoSessions();
    const result = await s.h.call(
      s.h.apiRequest("POST", "api/changepassword", body, { user, sessionId: current }),
    );
    expect(result).toEqual({ status, json });
    expect(await passwordWorks("alice", TEST_PASSWORD)).toBe(true);
    expect(await s.h.sessionExists(other)).toBe(true);
  });

  it("answers 401 Unauthorized without a login or a forced change", async () => {
    const { sessionId } = await s.h.anonymousSession();
    for (const options of [{}, { sessionId }]) {
      const result = await s.h.call(s.h.apiRequest("POST", "api/changepassword", passwords, options));
      expect(result).toEqual({
        status: 401,
        json: errorShape(ErrorCode.Unauthorized, "Unauthorized", "Not authorized"),
      });
    }
  });

  it("serves a forced change: the user becomes active and gets a new user session; the anonymous one ends", async () => {
    const { user } = await s.h.createUser({ username: "bob", state: UserState.passwordChangeNeeded });
    const anonymous = await forcedChangeSession("bob");
    const result = await s.h.call(
      s.h.apiRequest("POST", "api/changepassword", passwords, { sessionId: anonymous }),
    );
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ ok: true, user: userJson(user) });
    expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
    const { user: sessionUser } = await s.h.sessionManager.userForSessionId(s.h.sessionIdOf(result));
    expect(sessionUser?.id).toBe(user.id);
    expect(await s.h.sessionExists(anonymous)).toBe(false);
    expect((await s.h.userStorage.getUserById(user.id)).user.state).toBe(UserState.active);
    expect(await passwordWorks("bob", NEW_PASSWORD)).toBe(true);
  });

  it("does not skip the second factor after a forced change: twoFactorRequired with the login's anonymous session", async () => {
    const { user } = await s.h.createUser({
      username: "bob",
      state: UserState.passwordChangeNeeded,
      factor2: "dummy",
    });
    const anonymous = await forcedChangeSession("bob");
    const result = await s.h.call(
      s.h.apiRequest("POST", "api/changepassword", passwords, { sessionId: anonymous }),
    );
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ ok: true, twoFactorRequired: true });
    const sessionId = await expectTwoFactorLogin(s.h, result, user, "dummy");
    expect(await s.h.sessionExists(anonymous)).toBe(false);
    const login = await s.h.sessionManager.completeTwoFactorLogin({ otp: DUMMY_CODE }, sessionId);
    expect(login.user?.id).toBe(user.id);
  });

  it("refuses passwordchange data for a user who no longer must change, or naming another user", async () => {
    const { user: carol } = await s.h.createUser({ username: "carol" });
    const { user: dave } = await s.h.createUser({ username: "dave", state: UserState.passwordChangeNeeded });
    const stale = await s.h.anonymousSession({ passwordchange: { userid: carol.id, username: "carol" } });
    const forged = await s.h.anonymousSession({ passwordchange: { userid: carol.id, username: "dave" } });
    const notObject = await s.h.anonymousSession({ passwordchange: "dave" });
    for (const { sessionId } of [stale, forged, notObject]) {
      const result = await s.h.call(s.h.apiRequest("POST", "api/changepassword", passwords, { sessionId }));
      expect(result.status).toBe(401);
      expect(result.json).toEqual(errorShape(ErrorCode.Unauthorized, "Unauthorized", "Not authorized"));
    }
    expect(await passwordWorks("carol", TEST_PASSWORD)).toBe(true);
    expect(await passwordWorks("dave", TEST_PASSWORD)).toBe(true);
    expect((await s.h.userStorage.getUserById(dave.id, { skipActiveCheck: true })).user.state).toBe(
      UserState.passwordChangeNeeded,
    );
  });
});

describe("changepassword page", () => {
  it("shows the labelled form with autocomplete attributes, the CSRF field and an escaped safe next", async () => {
    const { user, current } = await aliceWithTwoSessions();
    const query = { next: '/account?a="><script>x</script>' };
    const request = s.h.pageRequest("GET", "changepassword", {}, { user, sessionId: current, query });
    const result = await s.h.call(request);
    expect(result.status).toBe(200);
    expect(result.page?.template).toBe("changepassword");
    const html = await s.h.render(result);
    expect(html).toContain("<title>Change password · Crossauth</title>");
    expectCsrfForm(html, "/changepassword", request);
    const password = { type: "password", autocomplete: "new-password" };
    expectField(html, {
      name: "old_password",
      label: "Current password",
      ...password,
      autocomplete: "current-password",
    });
    expectField(html, { name: "new_password", label: "New password", ...password });
    expectField(html, { name: "repeat_password", label: "Repeat password", ...password });
    expect(html).toContain('autocomplete="username"');
    expect(html).toContain(
      '<input type="hidden" name="next" value="/account?a=&quot;&gt;&lt;script&gt;x&lt;/script&gt;">',
    );
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("You must choose a new password");
  });

  it("leaves unsafe next values out of the form", async () => {
    const { user, current } = await aliceWithTwoSessions();
    for (const next of UNSAFE_NEXTS) {
      const request = s.h.pageRequest(
        "GET",
        "changepassword",
        {},
        { user, sessionId: current, query: { next } },
      );
      const html = await s.h.render(await s.h.call(request));
      expect(html).not.toContain('name="next"');
      expect(html).not.toContain("evil.com");
    }
  });

  it("sends visitors without a login or a forced change to the login page", async () => {
    const result = await s.h.call(s.h.pageRequest("GET", "changepassword", {}, { query: { next: "/x" } }));
    expect(result).toEqual({ status: 302, redirect: "/login?next=%2Fchangepassword%3Fnext%3D%252Fx" });
    const post = await s.h.call(s.h.pageRequest("POST", "changepassword", passwords));
    expect(post).toEqual({ status: 303, redirect: "/login?next=%2Fchangepassword" });
  });

  it("shows the forced-change form to a user held at login", async () => {
    await s.h.createUser({ username: "bob", state: UserState.passwordChangeNeeded });
    const anonymous = await forcedChangeSession("bob");
    const result = await s.h.call(s.h.pageRequest("GET", "changepassword", {}, { sessionId: anonymous }));
    expect(result.status).toBe(200);
    expect(result.page?.data).toMatchObject({ forced: true, username: "bob" });
    const html = await s.h.render(result);
    expect(html).toContain("<p>You must choose a new password before you continue.</p>");
    expect(html).toContain('<label for="old_password">Current password</label>');
  });

  it("changes the password and shows a notice without the form when there is no safe next", async () => {
    const { user, current, other } = await aliceWithTwoSessions();
    for (const next of [undefined, ...UNSAFE_NEXTS]) {
      const [oldPassword, newPassword] =
        next === undefined ? [TEST_PASSWORD, NEW_PASSWORD] : [NEW_PASSWORD, NEW_PASSWORD];
      const body = { old_password: oldPassword, new_password: newPassword, ...(next ? { next } : {}) };
      const result = await s.h.call(
        s.h.pageRequest("POST", "changepassword", body, { user, sessionId: current }),
      );
      expect(result.status).toBe(200);
      expect(result.redirect).toBeUndefined();
      expect(result.setCookies).toBeUndefined();
      const html = await s.h.render(result);
      expect(html).toContain(
        '<p class="notice" role="status" aria-live="polite">Your password was changed.</p>',
      );
      expect(html).not.toContain("<form");
    }
    expect(await s.h.sessionExists(current)).toBe(true);
    expect(await s.h.sessionExists(other)).toBe(false);
  });

  it("redirects to a safe next after the change", async () => {
    const { user, current } = await aliceWithTwoSessions();
    const body = { ...passwords, next: "/account" };
    const result = await s.h.call(
      s.h.pageRequest("POST", "changepassword", body, { user, sessionId: current }),
    );
    expect(result).toEqual({ status: 303, redirect: "/account" });
  });

  it("re-shows the form with the escaped error and its status", async () => {
    const { user, current } = await aliceWithTwoSessions();
    const body = { ...passwords, old_password: "Wrong-Pass-1" };
    const result = await s.h.call(
      s.h.pageRequest("POST", "changepassword", body, { user, sessionId: current }),
    );
    expect(result.status).toBe(401);
    expect(result.page?.template).toBe("changepassword");
    const html = await s.h.render(result);
    expect(html).toContain("<li>Password doesn&#39;t match</li>");
    expect(html).toContain('<label for="old_password">Current password</label>');
    expect(html).not.toContain("Wrong-Pass-1");
    expect(await passwordWorks("alice", TEST_PASSWORD)).toBe(true);
  });

  it("logs a forced-change user in and redirects to a safe next or the login redirect", async () => {
    for (const [index, next] of [undefined, "/welcome", ...UNSAFE_NEXTS].entries()) {
      const username = `user${index}`;
      const { user } = await s.h.createUser({ username, state: UserState.passwordChangeNeeded });
      const anonymous = await forcedChangeSession(username);
      const body = { ...passwords, ...(next ? { next } : {}) };
      const result = await s.h.call(
        s.h.pageRequest("POST", "changepassword", body, { sessionId: anonymous }),
      );
      expect(result.status).toBe(303);
      expect(result.redirect).toBe(next === "/welcome" ? "/welcome" : "/");
      expect(result.setCookies?.map((c) => c.name)).toEqual(["SESSIONID", "CSRFTOKEN"]);
      expect((await s.h.sessionManager.userForSessionId(s.h.sessionIdOf(result))).user?.id).toBe(user.id);
      expect(await s.h.sessionExists(anonymous)).toBe(false);
    }
  });

  it("sends a forced-change user with a second factor to loginfactor2, keeping a safe next", async () => {
    const { user } = await s.h.createUser({
      username: "bob",
      state: UserState.passwordChangeNeeded,
      factor2: "dummy",
    });
    const anonymous = await forcedChangeSession("bob");
    const body = { ...passwords, next: "/welcome" };
    const result = await s.h.call(s.h.pageRequest("POST", "changepassword", body, { sessionId: anonymous }));
    expect(result.status).toBe(303);
    expect(result.redirect).toBe("/loginfactor2?next=%2Fwelcome");
    await expectTwoFactorLogin(s.h, result, user, "dummy");
  });
});

describe("updateuser", () => {
  async function carol(fields: Record<string, unknown> = {}) {
    const { user } = await s.h.createUser({ username: "carol", phone: "+441234", ...fields });
    const { sessionId } = await s.h.userSession(user);
    return { user, sessionId };
  }

  async function stored(user: User): Promise<User> {
    return (await s.h.userStorage.getUserById(user.id, { skipActiveCheck: true })).user;
  }

  it("api: saves an editable field: {ok: true, emailVerificationRequired: false}; other fields are ignored", async () => {
    const { user, sessionId } = await carol();
    const body = {
      user_phone: "+449999",
      user_state: "disabled",
      user_admin: "true",
      user_username: "mallory",
    };
    const result = await s.h.call(s.h.apiRequest("POST", "api/updateuser", body, { user, sessionId }));
    expect(result).toEqual({ status: 200, json: { ok: true, emailVerificationRequired: false } });
    expect(await stored(user)).toMatchObject({
      phone: "+449999",
      state: UserState.active,
      admin: false,
      username: "carol",
    });
  });

  it("api: a new email waits for verification: a link goes to the new address, the stored one is kept", async () => {
    const { user, sessionId } = await carol();
    const body = { user_email: "carol.new@example.com" };
    const result = await s.h.call(s.h.apiRequest("POST", "api/updateuser", body, { user, sessionId }));
    expect(result).toEqual({ status: 200, json: { ok: true, emailVerificationRequired: true } });
    expect((await stored(user)).email).toBe("carol@example.com");
    expect(mailsTo(s.smtp, "carol.new@example.com")).toHaveLength(1);
    const keys = await s.h.keyStorage.getAllForUser(user.id);
    expect(keys.filter((k) => k.value.startsWith(KeyPrefix.emailVerificationToken))).toHaveLength(1);
  });

  it.each([
    [
      "a malformed address",
      "not-an-address",
      400,
      errorShape(ErrorCode.InvalidEmail, "InvalidEmail", "Please enter a valid email address"),
    ],
    [
      "another user's address",
      "dave@example.com",
      400,
      errorShape(ErrorCode.UserExists, "UserExists", "User already exists"),
    ],
  ])("api: refuses %s and changes nothing", async (_what, email, status, json) => {
    await s.h.createUser({ username: "dave" });
    const { user, sessionId } = await carol();
    const result = await s.h.call(
      s.h.apiRequest("POST", "api/updateuser", { user_email: email }, { user, sessionId }),
    );
    expect(result).toEqual({ status, json });
    expect((await stored(user)).email).toBe("carol@example.com");
    expect(s.smtp.messages.filter((m) => m.envelopeTo.includes(email))).toHaveLength(0);
  });

  it("page: shows the editable fields, labelled, with autocomplete and escaped values", async () => {
    const { user, sessionId } = await carol({ phone: '<script>alert("x")</script>' });
    const request = s.h.pageRequest("GET", "updateuser", {}, { user, sessionId });
    const result = await s.h.call(request);
    expect(result.status).toBe(200);
    const html = await s.h.render(result);
    expect(html).toContain("<title>Your details · Crossauth</title>");
    expectCsrfForm(html, "/updateuser", request);
    const email = { name: "user_email", label: "Email", type: "email", autocomplete: "email" };
    expectField(html, { ...email, value: "carol@example.com", required: false });
    const escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";
    const phone = { name: "user_phone", label: "Phone number", type: "tel", autocomplete: "tel" };
    expectField(html, { ...phone, value: escaped, required: false });
    expect(html).not.toContain("<script>");
  });

  it("page: saves and shows the saved details with a notice, or the pending-email notice", async () => {
    const { user, sessionId } = await carol();
    const saved = await s.h.call(
      s.h.pageRequest("POST", "updateuser", { user_phone: "+447777" }, { user, sessionId }),
    );
    expect(saved.status).toBe(200);
    const html = await s.h.render(saved);
    expect(html).toContain('<p class="notice" role="status" aria-live="polite">Your details were saved.</p>');
    expect(html).toContain('value="+447777"');
    const pending = await s.h.call(
      s.h.pageRequest("POST", "updateuser", { user_email: "c2@example.com" }, { user, sessionId }),
    );
    expect(await s.h.render(pending)).toContain(
      "We sent a link to your new address. It takes effect once you follow it.",
    );
    expect((await stored(user)).email).toBe("carol@example.com");
  });

  it("page: redirects to a safe next after saving; unsafe next values show the page", async () => {
    const { user, sessionId } = await carol();
    const body = { user_phone: "+440000", next: "/profile" };
    const safe = await s.h.call(s.h.pageRequest("POST", "updateuser", body, { user, sessionId }));
    expect(safe).toEqual({ status: 303, redirect: "/profile" });
    for (const next of UNSAFE_NEXTS) {
      const result = await s.h.call(
        s.h.pageRequest("POST", "updateuser", { user_phone: "+441111", next }, { user, sessionId }),
      );
      expect(result.status).toBe(200);
      expect(result.redirect).toBeUndefined();
    }
  });

  it("page: re-shows the submitted values with the error", async () => {
    const { user, sessionId } = await carol();
    const body = { user_email: "<b>bad</b>", user_phone: "+442222" };
    const result = await s.h.call(s.h.pageRequest("POST", "updateuser", body, { user, sessionId }));
    expect(result.status).toBe(400);
    const html = await s.h.render(result);
    expect(html).toContain("<li>Please enter a valid email address</li>");
    expect(html).toContain('value="&lt;b&gt;bad&lt;/b&gt;"');
    expect(html).toContain('value="+442222"');
    expect((await stored(user)).phone).toBe("+441234");
  });
});

describe("updateuser without editable fields", () => {
  const t = useEndpointHarness({ endpoints: accountEndpoints });

  it("says there is nothing to change", async () => {
    const { user } = await t.h.createUser({ username: "erin" });
    const html = await t.h.render(await t.h.call(t.h.pageRequest("GET", "updateuser", {}, { user })));
    expect(html).toContain("<p>There are no details you can change here.</p>");
    expect(html).not.toContain("<form");
  });
});

describe("deleteuser", () => {
  /** A user with sessions and outstanding email tokens. */
  async function frank() {
    const { user } = await s.h.createUser({ username: "frank" });
    const current = await s.h.userSession(user);
    await s.h.userSession(user);
    const emailer = s.h.sessionManager.tokenEmailer;
    await emailer?.createAndSavePasswordResetToken(user.id);
    await emailer?.createAndSaveEmailVerificationToken(user.id, "frank2@example.com");
    expect(await s.h.keyStorage.getAllForUser(user.id)).toHaveLength(4);
    return { user, sessionId: current.sessionId };
  }

  async function expectGone(user: User) {
    await expect(s.h.userStorage.getUserById(user.id, { skipActiveCheck: true })).rejects.toMatchObject({
      code: ErrorCode.UserNotExist,
    });
    expect(await s.h.keyStorage.getAllForUser(user.id)).toEqual([]);
  }

  it("api: deletes the user, its secrets and keys: {ok: true, userid}; the cookies are cleared", async () => {
    const { user, sessionId } = await frank();
    const result = await s.h.call(s.h.apiRequest("POST", "api/deleteuser", {}, { user, sessionId }));
    expect(result).toEqual({
      status: 200,
      json: { ok: true, userid: user.id },
      clearCookies: ["SESSIONID", "CSRFTOKEN"],
    });
    await expectGone(user);
  });

  it("page: asks for confirmation with the warning and a CSRF-protected form", async () => {
    const { user, sessionId } = await frank();
    const request = s.h.pageRequest("GET", "deleteuser", {}, { user, sessionId });
    const html = await s.h.render(await s.h.call(request));
    expect(html).toContain("<title>Delete account · Crossauth</title>");
    expect(html).toContain("This deletes your account and everything in it. It cannot be undone.");
    expectCsrfForm(html, "/deleteuser", request);
    expect(html).toContain('<form method="post" action="/deleteuser" aria-describedby="delete-warning">');
    expect(html).toContain('<button type="submit">Delete my account</button>');
    expect(await s.h.keyStorage.getAllForUser(user.id)).toHaveLength(4);
  });

  it("page: deletes and says so without a form or the user's name, clearing the cookies", async () => {
    const { user, sessionId } = await frank();
    const result = await s.h.call(
      s.h.pageRequest("POST", "deleteuser", { next: "//evil.com" }, { user, sessionId }),
    );
    expect(result.status).toBe(200);
    expect(result.clearCookies).toEqual(["SESSIONID", "CSRFTOKEN"]);
    const html = await s.h.render(result);
    expect(html).toContain(
      '<p class="notice" role="status" aria-live="polite">Your account was deleted.</p>',
    );
    expect(html).not.toContain("<form");
    expect(html).not.toContain("frank");
    await expectGone(user);
  });

  it("page: redirects to a safe next with the cookies cleared", async () => {
    const { user, sessionId } = await frank();
    const result = await s.h.call(
      s.h.pageRequest("POST", "deleteuser", { next: "/bye" }, { user, sessionId }),
    );
    expect(result).toEqual({ status: 303, redirect: "/bye", clearCookies: ["SESSIONID", "CSRFTOKEN"] });
    await expectGone(user);
  });

  it("answers UserNotExist when the user is already gone", async () => {
    const { user, sessionId } = await frank();
    await s.h.sessionManager.deleteUserByUsername("frank");
    const api = await s.h.call(s.h.apiRequest("POST", "api/deleteuser", {}, { user, sessionId }));
    expect(api).toEqual({
      status: 401,
      json: errorShape(ErrorCode.UserNotExist, "UserNotExist", "User does not exist"),
    });
    const result = await s.h.call(s.h.pageRequest("POST", "deleteuser", {}, { user, sessionId }));
    expect(result.status).toBe(401);
    expect(result.clearCookies).toBeUndefined();
    expect(await s.h.render(result)).toContain("<li>User does not exist</li>");
  });
});

describe("api/userforsessionkey and api/getcsrftoken", () => {
  it("userforsessionkey: the session's user without secrets, or none", async () => {
    const { user } = await s.h.createUser({ username: "gina" });
    const { sessionId } = await s.h.userSession(user);
    const withUser = await s.h.call(s.h.apiRequest("POST", "api/userforsessionkey", {}, { user, sessionId }));
    expect(withUser.status).toBe(200);
    expect(withUser.json).toEqual({ ok: true, user: { ...user } });
    expect(JSON.stringify(withUser.json)).not.toContain("pbkdf2");
    const anonymous = await s.h.call(s.h.apiRequest("POST", "api/userforsessionkey"));
    expect(anonymous).toEqual({ status: 200, json: { ok: true } });
  });

  it("getcsrftoken: the request's fresh masked value, or a new cookie and value when it has none", async () => {
    const request = s.h.apiRequest("GET", "api/getcsrftoken");
    expect(await s.h.call(request)).toEqual({
      status: 200,
      json: { ok: true, csrfToken: request.csrfToken },
    });
    const { csrfToken: _none, ...bare } = request;
    const fresh = await s.h.call(bare);
    expect(fresh.status).toBe(200);
    const cookie = cookieSet(fresh, "CSRFTOKEN");
    const token = fresh.json?.csrfToken;
    expect(typeof token).toBe("string");
    expect(() =>
      s.h.sessionManager.validateDoubleSubmitCsrfToken(cookie?.value, token as string),
    ).not.toThrow();
  });
});
