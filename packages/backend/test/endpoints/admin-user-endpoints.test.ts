/**
 * The `admin/api/` user endpoints (createuser, updateuser/:id, changepassword/:id, deleteuser/:id),
 * called without HTTP: JSON answers, every documented error, storage state, the reset email of a
 * user created without a password (and that its token works), sessions that end — and, through the
 * endpoint table's pipeline, admin-only access and CSRF.
 */
import { ErrorCode, type User, UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { adminUserEndpoints } from "../../src/endpoints/handlers/admin-user-endpoints.js";
import { MAX_FIELD_LENGTH } from "../../src/index.js";
import { emailedToken, mailsTo, TEST_PASSWORD } from "../session/flow-context.js";
import { expectCsrfOnPosts, loggedIn, tableClient, useAdminSuite } from "./admin-fixture.js";
import { errorShape, useEndpointHarness, userJson } from "./endpoint-harness.js";

const s = useAdminSuite();

const NEW_PASSWORD = "New-Horse-Battery-7";

/** An `admin/api/` request by the admin. */
function adminApi(path: string, body: Record<string, unknown> = {}) {
  return s.h.apiRequest("POST", `/admin/api/${path}`, body, {
    user: s.root.user,
    sessionId: s.root.sessionId,
  });
}

/** A user as stored, whatever its state, with secrets. */
function stored(username: string) {
  return s.h.userStorage.getUserByUsername(username, { skipActiveCheck: true, skipEmailVerifiedCheck: true });
}

/** Whether a password logs the user in (factor 1 only). */
async function passwordWorks(username: string, password: string): Promise<boolean> {
  const { user, secrets } = await stored(username);
  try {
    await s.h.passwordAuthenticator.authenticateUser(user, secrets, { password });
    return true;
  } catch {
    return false;
  }
}

/** The JSON of a user made by `admin/api/createuser`: `userJson` with the changes, email only when set. */
function createdJson(user: User, changes: Record<string, unknown> = {}) {
  const json = userJson(user, changes);
  if (user.email === undefined) {
    delete json.email;
    delete json.email_normalized;
  }
  return json;
}

describe("admin/api/createuser", () => {
  it("creates an active user with a password: {ok, user} without secrets; no email", async () => {
    const before = s.smtp.messages.length;
    const body = {
      username: "alice",
      password: TEST_PASSWORD,
      user_email: "alice@example.com",
      user_phone: "+441234",
    };
    const result = await s.h.call(adminApi("createuser", body));
    const { user, secrets } = await stored("alice");
    expect(result).toEqual({
      status: 200,
      json: { ok: true, user: createdJson(user, { phone: "+441234" }) },
    });
    expect(user).toMatchObject({
      state: UserState.active,
      factor1: "localpassword",
      factor2: "",
      phone: "+441234",
    });
    expect(JSON.stringify(result.json)).not.toContain(String(secrets.password));
    expect(await passwordWorks("alice", TEST_PASSWORD)).toBe(true);
    expect(s.smtp.messages.length).toBe(before);
  });

  it("creates a user without a password in passwordresetneeded and emails a reset link whose token works", async () => {
    const result = await s.h.call(adminApi("createuser", { username: "bob", user_email: "bob@example.com" }));
    const { user, secrets } = await stored("bob");
    expect(result).toEqual({
      status: 200,
      json: { ok: true, user: createdJson(user, { state: UserState.passwordResetNeeded }) },
    });
    expect(secrets.password ?? undefined).toBeUndefined();
    const mails = mailsTo(s.smtp, "bob@example.com");
    expect(mails).toHaveLength(1);
    const token = emailedToken(mails[0]!, "resetpassword");
    s.neverLogged(token);
    const reset = await s.h.sessionManager.resetSecret(token, 1, { password: NEW_PASSWORD });
    expect(reset.state).toBe(UserState.active);
    expect((await stored("bob")).user.state).toBe(UserState.active);
    expect(await passwordWorks("bob", NEW_PASSWORD)).toBe(true);
    const login = await s.h.sessionManager.login("bob", { password: NEW_PASSWORD });
    expect(login.user?.username).toBe("bob");
  });

  it("creates a password-less user with a second factor in passwordandfactor2resetneeded", async () => {
    const body = { username: "carol", factor2: "totp", user_email: "carol@example.com" };
    const result = await s.h.call(adminApi("createuser", body));
    const { user, secrets } = await stored("carol");
    expect(result.json).toEqual({
      ok: true,
      user: createdJson(user, { state: UserState.passwordAndFactor2ResetNeeded, factor2: "totp" }),
    });
    expect(secrets.totpsecret ?? undefined).toBeUndefined();
    const token = emailedToken(mailsTo(s.smtp, "carol@example.com")[0]!, "resetpassword");
    s.neverLogged(token);
    const reset = await s.h.sessionManager.resetSecret(token, 1, { password: NEW_PASSWORD });
    expect(reset.state).toBe(UserState.factor2ResetNeeded);
    const login = await s.h.sessionManager.login("carol", { password: NEW_PASSWORD });
    expect(login.pendingChange).toBe("factor2reset");
  });

  it("creates a user with a password and a second factor in factor2resetneeded", async () => {
    const body = { username: "dave", password: TEST_PASSWORD, factor2: "email" };
    const result = await s.h.call(adminApi("createuser", body));
    const { user } = await stored("dave");
    expect(result.json).toEqual({
      ok: true,
      user: createdJson(user, { state: UserState.factor2ResetNeeded, factor2: "email" }),
    });
  });

  it("creates an admin when the admin flag is admin-editable", async () => {
    const body = { username: "erin", password: TEST_PASSWORD, user_admin: true };
    const result = await s.h.call(adminApi("createuser", body));
    const { user } = await stored("erin");
    expect(user.admin).toBe(true);
    expect(result.json).toEqual({ ok: true, user: createdJson(user, { admin: true }) });
  });

  it("ignores fields that are not admin-editable", async () => {
    const body = {
      username: "fay",
      password: TEST_PASSWORD,
      user_state: "disabled",
      user_factor1: "x",
      state: "disabled",
    };
    await s.h.call(adminApi("createuser", body));
    expect((await stored("fay")).user).toMatchObject({ state: UserState.active, factor1: "localpassword" });
  });

  it.each([
    [
      "a missing username",
      { password: TEST_PASSWORD },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "username is required"),
    ],
    [
      "a username that is not text",
      { username: ["x"], password: TEST_PASSWORD },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "username must be text"),
    ],
    [
      "an oversized username",
      { username: "x".repeat(MAX_FIELD_LENGTH + 1) },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "username is too long"),
    ],
    [
      "an oversized field",
      { username: "x", user_phone: "1".repeat(MAX_FIELD_LENGTH + 1) },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "user_phone is too long"),
    ],
    [
      "a taken username",
      { username: "root", password: TEST_PASSWORD },
      400,
      errorShape(ErrorCode.UserExists, "UserExists", "User already exists"),
    ],
    [
      "no password and no valid address",
      { username: "nomail", user_email: "not-an-address" },
      400,
      errorShape(ErrorCode.InvalidEmail, "InvalidEmail", "Please enter a valid email address"),
    ],
    [
      "a password against the policy",
      { username: "x", password: "short" },
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
      "a repeat that differs",
      { username: "x", password: TEST_PASSWORD, repeat_password: "Other-Pass-1" },
      401,
      errorShape(ErrorCode.PasswordMatch, "PasswordMatch", "Passwords do not match"),
    ],
    [
      "a second factor that is not allowed",
      { username: "x", password: TEST_PASSWORD, factor2: "sms" },
      400,
      errorShape(ErrorCode.BadRequest, "BadRequest", "This second factor is not allowed"),
    ],
  ])("refuses %s and creates nobody", async (_what, body, status, json) => {
    const before = await s.h.userStorage.getUsers();
    const result = await s.h.call(adminApi("createuser", body));
    expect(result).toEqual({ status, json });
    expect(await s.h.userStorage.getUsers()).toEqual(before);
  });
});

describe("admin/api/createuser without password reset", () => {
  const off = useEndpointHarness({ endpoints: adminUserEndpoints, enablePasswordReset: false });

  it("requires a password", async () => {
    const admin = await loggedIn(off.h, { username: "root", admin: true });
    const request = off.h.apiRequest(
      "POST",
      "/admin/api/createuser",
      { username: "bob" },
      { user: admin.user },
    );
    expect(await off.h.call(request)).toEqual({
      status: 400,
      json: errorShape(ErrorCode.FormEntry, "FormEntry", "A password is required (password reset is off)"),
    });
  });
});

describe("admin/api/updateuser/:id", () => {
  async function target(fields: Record<string, unknown> = {}) {
    const alice = await loggedIn(s.h, { username: "alice", ...fields });
    return alice;
  }

  it("changes the state: {ok, emailVerificationRequired: false}; a disabled user's sessions end", async () => {
    const alice = await target();
    const result = await s.h.call(adminApi(`updateuser/${alice.user.id}`, { state: UserState.disabled }));
    expect(result).toEqual({ status: 200, json: { ok: true, emailVerificationRequired: false } });
    expect((await stored("alice")).user.state).toBe(UserState.disabled);
    expect(await s.h.sessionExists(alice.sessionId)).toBe(false);
    expect(await s.h.sessionExists(s.root.sessionId)).toBe(true);
  });

  it("emails a reset link when the state asks for a password reset", async () => {
    const alice = await target();
    await s.h.call(adminApi(`updateuser/${alice.user.id}`, { state: UserState.passwordResetNeeded }));
    const token = emailedToken(mailsTo(s.smtp, "alice@example.com").at(-1)!, "resetpassword");
    s.neverLogged(token);
    expect((await s.h.sessionManager.resetSecret(token, 1, { password: NEW_PASSWORD })).state).toBe(
      UserState.active,
    );
  });

  it("edits admin-editable fields and the admin flag; other fields are ignored", async () => {
    const alice = await target();
    const body = {
      user_phone: "+4455",
      user_admin: true,
      user_factor1: "x",
      user_username_normalized: "x",
      factor1: "x",
    };
    const result = await s.h.call(adminApi(`updateuser/${alice.user.id}`, body));
    expect(result.json).toEqual({ ok: true, emailVerificationRequired: false });
    expect((await stored("alice")).user).toMatchObject({
      phone: "+4455",
      admin: true,
      factor1: "localpassword",
      username_normalized: "alice",
    });
    await s.h.call(adminApi(`updateuser/${alice.user.id}`, { user_phone: "+4466" }));
    expect((await stored("alice")).user).toMatchObject({ phone: "+4466", admin: true });
  });

  it("sends a verification link for a new email, which takes effect once followed", async () => {
    const alice = await target();
    const result = await s.h.call(adminApi(`updateuser/${alice.user.id}`, { user_email: "new@example.com" }));
    expect(result.json).toEqual({ ok: true, emailVerificationRequired: true });
    expect((await stored("alice")).user.email).toBe("alice@example.com");
    const token = emailedToken(mailsTo(s.smtp, "new@example.com")[0]!, "verifyemail");
    s.neverLogged(token);
    await s.h.sessionManager.applyEmailVerificationToken(token);
    expect((await stored("alice")).user.email).toBe("new@example.com");
  });

  it("forces a second-factor reset when the factor changes and removes the old factor's secret", async () => {
    const alice = await target({ factor2: "totp" });
    expect((await stored("alice")).secrets.totpsecret).toEqual(expect.any(String));
    const result = await s.h.call(
      adminApi(`updateuser/${alice.user.id}`, { factor2: "email", state: "active" }),
    );
    expect(result.json).toEqual({ ok: true, emailVerificationRequired: false });
    const { user, secrets } = await stored("alice");
    expect(user).toMatchObject({ factor2: "email", state: UserState.factor2ResetNeeded });
    expect(secrets.totpsecret ?? null).toBeNull();
    expect(await s.h.sessionExists(alice.sessionId)).toBe(false);
    expect((await s.h.sessionManager.login("alice", { password: TEST_PASSWORD })).pendingChange).toBe(
      "factor2reset",
    );
  });

  it("forces a reset when the factor is removed, and keeps a pending password reset", async () => {
    const alice = await target({ factor2: "totp", state: UserState.passwordResetNeeded });
    await s.h.call(adminApi(`updateuser/${alice.user.id}`, { factor2: "none" }));
    expect((await stored("alice")).user).toMatchObject({
      factor2: "",
      state: UserState.passwordAndFactor2ResetNeeded,
    });
  });

  it("keeps a disabled user disabled, and does not activate it later without a set-up factor", async () => {
    const { user: alice } = await s.h.createUser({ username: "alice", state: UserState.disabled });
    await s.h.call(adminApi(`updateuser/${alice.id}`, { factor2: "totp" }));
    expect((await stored("alice")).user).toMatchObject({ factor2: "totp", state: UserState.disabled });
    await s.h.call(adminApi(`updateuser/${alice.id}`, { state: UserState.active }));
    expect((await stored("alice")).user.state).toBe(UserState.factor2ResetNeeded);
  });

  it("leaves the factor alone when the same one is posted", async () => {
    const alice = await target({ factor2: "totp" });
    await s.h.call(adminApi(`updateuser/${alice.user.id}`, { factor2: "totp", state: "active" }));
    expect((await stored("alice")).user).toMatchObject({ factor2: "totp", state: UserState.active });
  });

  it.each([
    [
      "an unknown state",
      { state: "superuser" },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "state is not a valid user state"),
    ],
    [
      "a state that is not text",
      { state: ["active"] },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "state must be text"),
    ],
    [
      "a factor that is not allowed",
      { factor2: "sms" },
      400,
      errorShape(ErrorCode.BadRequest, "BadRequest", "This second factor is not allowed"),
    ],
    [
      "a malformed email",
      { user_email: "nope" },
      400,
      errorShape(ErrorCode.InvalidEmail, "InvalidEmail", "Please enter a valid email address"),
    ],
    [
      "an email that is taken",
      { user_email: "root@example.com" },
      400,
      errorShape(ErrorCode.UserExists, "UserExists", "User already exists"),
    ],
    [
      "an oversized field",
      { user_phone: "1".repeat(MAX_FIELD_LENGTH + 1) },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "user_phone is too long"),
    ],
  ])("refuses %s and changes nothing", async (_what, body, status, json) => {
    const alice = await target();
    const before = await stored("alice");
    expect(await s.h.call(adminApi(`updateuser/${alice.user.id}`, body))).toEqual({ status, json });
    expect(await stored("alice")).toEqual(before);
  });

  it("answers 401 UserNotExist for an unknown id", async () => {
    expect(await s.h.call(adminApi("updateuser/999", { state: "disabled" }))).toEqual({
      status: 401,
      json: errorShape(ErrorCode.UserNotExist, "UserNotExist", "User does not exist"),
    });
  });
});

describe("admin/api/changepassword/:id", () => {
  it("sets the password: {ok}; the user's sessions and reset tokens end", async () => {
    const alice = await loggedIn(s.h, { username: "alice" });
    await s.h.sessionManager.tokenEmailer?.createAndSavePasswordResetToken(alice.user.id);
    const body = { new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD };
    const result = await s.h.call(adminApi(`changepassword/${alice.user.id}`, body));
    expect(result).toEqual({ status: 200, json: { ok: true } });
    expect(await passwordWorks("alice", NEW_PASSWORD)).toBe(true);
    expect(await passwordWorks("alice", TEST_PASSWORD)).toBe(false);
    expect(await s.h.sessionExists(alice.sessionId)).toBe(false);
    expect(await s.h.keyStorage.getAllForUser(alice.user.id)).toEqual([]);
    s.neverLogged(NEW_PASSWORD);
  });

  it("ends a forced password reset", async () => {
    const { user } = await s.h.createUser({ username: "alice", state: UserState.passwordResetNeeded });
    await s.h.call(adminApi(`changepassword/${user.id}`, { new_password: NEW_PASSWORD }));
    expect((await stored("alice")).user.state).toBe(UserState.active);
  });

  it("keeps the admin's own session when the admin sets their own password", async () => {
    const result = await s.h.call(
      adminApi(`changepassword/${s.root.user.id}`, { new_password: NEW_PASSWORD }),
    );
    expect(result.json).toEqual({ ok: true });
    expect(await s.h.sessionExists(s.root.sessionId)).toBe(true);
  });

  it.each([
    ["a missing password", {}, 400, errorShape(ErrorCode.FormEntry, "FormEntry", "new_password is required")],
    [
      "a password that is not text",
      { new_password: 12345678 },
      400,
      errorShape(ErrorCode.FormEntry, "FormEntry", "new_password must be text"),
    ],
    [
      "a repeat that differs",
      { new_password: NEW_PASSWORD, repeat_password: "Other-Pass-1" },
      401,
      errorShape(ErrorCode.PasswordMatch, "PasswordMatch", "Passwords do not match"),
    ],
    [
      "a password against the policy",
      { new_password: "alllowercase1" },
      401,
      errorShape(
        ErrorCode.PasswordFormat,
        "PasswordFormat",
        "Password must contain at least one uppercase character",
      ),
    ],
  ])("refuses %s and changes nothing", async (_what, body, status, json) => {
    const alice = await loggedIn(s.h, { username: "alice" });
    expect(await s.h.call(adminApi(`changepassword/${alice.user.id}`, body))).toEqual({ status, json });
    expect(await passwordWorks("alice", TEST_PASSWORD)).toBe(true);
    expect(await s.h.sessionExists(alice.sessionId)).toBe(true);
  });

  it("answers 401 UserNotExist for an unknown id", async () => {
    const result = await s.h.call(adminApi("changepassword/999", { new_password: NEW_PASSWORD }));
    expect(result).toEqual({
      status: 401,
      json: errorShape(ErrorCode.UserNotExist, "UserNotExist", "User does not exist"),
    });
  });
});

describe("admin/api/deleteuser/:id", () => {
  it("deletes the user with its secrets and sessions: {ok, userid}", async () => {
    const alice = await loggedIn(s.h, { username: "alice" });
    const result = await s.h.call(adminApi(`deleteuser/${alice.user.id}`));
    expect(result).toEqual({ status: 200, json: { ok: true, userid: alice.user.id } });
    await expect(stored("alice")).rejects.toMatchObject({ code: ErrorCode.UserNotExist });
    expect(await s.h.sessionExists(alice.sessionId)).toBe(false);
    expect(await s.h.sessionExists(s.root.sessionId)).toBe(true);
  });

  it("answers 401 UserNotExist for an unknown id", async () => {
    expect(await s.h.call(adminApi("deleteuser/999"))).toEqual({
      status: 401,
      json: errorShape(ErrorCode.UserNotExist, "UserNotExist", "User does not exist"),
    });
  });
});

describe("admin user endpoints through the pipeline", () => {
  const insufficient = errorShape(
    ErrorCode.InsufficientPriviledges,
    "InsufficientPriviledges",
    "Insufficient privileges",
  );

  it("need a CSRF token on every POST", () => {
    expectCsrfOnPosts(adminUserEndpoints);
    expect(adminUserEndpoints.every((d) => d.access === "admin" && d.feature === "admin")).toBe(true);
  });

  it("refuse non-admins with 401 InsufficientPriviledges and change nothing", async () => {
    const client = tableClient(s.h, adminUserEndpoints);
    const alice = await loggedIn(s.h, { username: "alice" });
    const before = await s.h.userStorage.getUsers();
    const api = await client.send("POST", "/admin/api/createuser", {
      as: alice,
      body: { username: "x", password: TEST_PASSWORD },
    });
    expect({ status: api.status, json: api.json }).toEqual({ status: 401, json: insufficient });
    const del = await client.send("POST", `/admin/api/deleteuser/${s.root.user.id}`, { as: alice });
    expect(del.json).toEqual(insufficient);
    const page = await client.send("GET", "/admin/selectuser", { as: alice });
    expect(page.status).toBe(401);
    expect(page.page?.template).toBe("error");
    expect(page.page?.data.errorCodeName).toBe("InsufficientPriviledges");
    expect(await s.h.userStorage.getUsers()).toEqual(before);
  });

  it("send anonymous page visitors to log in and refuse anonymous API calls", async () => {
    const client = tableClient(s.h, adminUserEndpoints);
    expect(await client.send("GET", "/admin/selectuser")).toMatchObject({
      status: 302,
      redirect: "/login?next=%2Fadmin%2Fselectuser",
    });
    const api = await client.send("POST", "/admin/api/createuser", { body: { username: "x" } });
    expect({ status: api.status, json: api.json }).toEqual({ status: 401, json: insufficient });
  });

  it("refuse an admin's POST without a valid CSRF token", async () => {
    const client = tableClient(s.h, adminUserEndpoints);
    const result = await client.send("POST", "/admin/api/createuser", {
      as: s.root,
      csrf: false,
      body: { username: "x", password: TEST_PASSWORD },
    });
    expect({ status: result.status, json: result.json }).toEqual({
      status: 401,
      json: errorShape(ErrorCode.InvalidCsrf, "InvalidCsrf", "CSRF token missing"),
    });
    await expect(stored("x")).rejects.toMatchObject({ code: ErrorCode.UserNotExist });
  });

  it("serve an admin with a CSRF token, under the admin prefix", async () => {
    const client = tableClient(s.h, adminUserEndpoints, { adminPrefix: "/manage/" });
    const result = await client.send("POST", "/manage/api/createuser", {
      as: s.root,
      body: { username: "x", password: TEST_PASSWORD },
    });
    expect(result.status).toBe(200);
    expect((await stored("x")).user.state).toBe(UserState.active);
  });

  it("take a page form's CSRF token from its csrfToken field, and re-show a refused form's page", async () => {
    const client = tableClient(s.h, adminUserEndpoints);
    const form = "application/x-www-form-urlencoded";
    const body = { username: "x", password: TEST_PASSWORD };
    const refused = await client.send("POST", "/admin/createuser", {
      as: s.root,
      body,
      contentType: form,
      csrf: false,
    });
    expect(refused.status).toBe(401);
    expect(refused.page?.data.errorCodeName).toBe("InvalidCsrf");
    await expect(stored("x")).rejects.toMatchObject({ code: ErrorCode.UserNotExist });
    const csrfToken = s.h.sessionManager.createCsrfFormOrHeaderValue(s.root.cookies.CSRFTOKEN as string);
    const done = await client.send("POST", "/admin/createuser", {
      as: s.root,
      body: { ...body, csrfToken },
      contentType: form,
      csrf: false,
    });
    expect(done.status).toBe(200);
    expect(done.page?.template).toBe("admin/createuser");
    expect((await stored("x")).user.state).toBe(UserState.active);
  });

  it("use the configured isAdminFn", async () => {
    const alice = await loggedIn(s.h, { username: "alice" });
    const client = tableClient(s.h, adminUserEndpoints, { isAdminFn: (user) => user.username === "alice" });
    const byAlice = await client.send("POST", `/admin/api/deleteuser/${s.root.user.id}`, { as: alice });
    expect(byAlice.json).toEqual({ ok: true, userid: s.root.user.id });
    const carol = await loggedIn(s.h, { username: "carol", admin: true });
    const byCarol = await client.send("POST", `/admin/api/deleteuser/${alice.user.id}`, { as: carol });
    expect(byCarol.json).toEqual(insufficient);
  });
});
