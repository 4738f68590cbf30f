/**
 * The session JSON endpoints through HTTP (`fastify.inject`) with a real SMTP listener: login and
 * two-factor login, logout, CSRF tokens, sign-up with email verification and TOTP set-up, step-up
 * 2FA, changing the second factor, and open redirects. Success, documented errors, CSRF, and that
 * failures change nothing. (Account and password-reset endpoints: api-account-endpoints.test.ts.)
 */
import { UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { linkToken, mailsTo, TEST_PASSWORD } from "../../backend/test/session/flow-context.js";
import { Client, errorShape, expectCleared, json, NEW_PASSWORD, useAppSuite } from "./app-fixture.js";

const s = useAppSuite({ allowedFactor2: ["totp", "dummy"], userEditableFields: ["email"] });

describe("api/login and api/loginfactor2", () => {
  it("logs a user in with a new session and no secrets in the answer", async () => {
    await s.t.h.createUser({ username: "alice" });
    const client = new Client(s.t.app);
    const response = await client.post("api/login", {
      username: "alice",
      password: TEST_PASSWORD,
      admin: true,
    });
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body).toMatchObject({ ok: true, user: { username: "alice", state: "active" } });
    expect(JSON.stringify(body)).not.toMatch(/"password"|totpsecret|pbkdf2/);
    expect(response.cookies.find((c) => c.name === "SESSIONID")).toMatchObject({
      httpOnly: true,
      secure: true,
    });
    expect(json(await client.post("api/userforsessionkey")).user).toMatchObject({ username: "alice" });
  });

  it("answers a wrong password and an unknown user identically with 401 and no session", async () => {
    await s.t.h.createUser({ username: "alice" });
    const client = new Client(s.t.app);
    const wrong = await client.post("api/login", { username: "alice", password: "Wrong-Password-1" });
    const unknown = await client.post("api/login", { username: "nobody", password: "Wrong-Password-1" });
    for (const response of [wrong, unknown]) {
      expect(response.statusCode).toBe(401);
      expect(json(response)).toEqual(
        errorShape(4, "UsernameOrPasswordInvalid", "Username or password is invalid"),
      );
      expect(response.cookies.map((c) => c.name)).not.toContain("SESSIONID");
    }
  });

  it("refuses a login without a CSRF token", async () => {
    await s.t.h.createUser({ username: "alice" });
    const response = await s.t.app.inject({
      method: "POST",
      url: "/api/login",
      payload: { username: "alice", password: TEST_PASSWORD },
    });
    expect(response.statusCode).toBe(401);
    expect(json(response)).toEqual(errorShape(21, "InvalidCsrf", "CSRF token missing"));
    expect(response.cookies.map((c) => c.name)).toEqual(["CSRFTOKEN"]);
  });

  it("answers 403 with the change's code for a user who must change the password", async () => {
    await s.t.h.createUser({ username: "alice", state: UserState.passwordChangeNeeded });
    const client = new Client(s.t.app);
    const response = await client.post("api/login", { username: "alice", password: TEST_PASSWORD });
    expect(response.statusCode).toBe(403);
    expect(json(response).errorCodeName).toBe("PasswordChangeNeeded");
    expect(json(await client.post("api/userforsessionkey"))).toEqual({ ok: true });
    const changed = await client.post("api/changepassword", {
      old_password: TEST_PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(json(changed)).toMatchObject({ ok: true, user: { username: "alice" } });
  });

  it("completes a two-factor login with the code, replacing the anonymous session", async () => {
    await s.t.h.createUser({ username: "alice", factor2: "dummy" });
    const client = new Client(s.t.app);
    await client.post("api/login", { username: "alice", password: TEST_PASSWORD });
    const anonymous = s.t.h.sessionManager.getSessionId(client.jar.get("SESSIONID") as string);
    const wrong = await client.post("api/loginfactor2", { otp: "9999" });
    expect(wrong.statusCode).toBe(401);
    expect(json(wrong)).toEqual(errorShape(36, "InvalidToken", "Invalid code"));
    const response = await client.post("api/loginfactor2", { otp: "0000" });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toMatchObject({ ok: true, user: { username: "alice", factor2: "dummy" } });
    expect(await s.t.h.sessionExists(anonymous)).toBe(false);
    expect(s.t.h.sessionManager.getSessionId(client.jar.get("SESSIONID") as string)).not.toBe(anonymous);
  });

  it("answers 401 to api/loginfactor2 without a two-factor login in progress", async () => {
    const client = new Client(s.t.app);
    const response = await client.post("api/loginfactor2", { otp: "0000" });
    expect(response.statusCode).toBe(401);
    expect(json(response).errorCodeName).toBe("Unauthorized");
  });
});

describe("api/logout", () => {
  it("deletes the session server side and clears the cookies", async () => {
    const client = await s.loggedIn("alice");
    const sessionId = s.t.h.sessionManager.getSessionId(client.jar.get("SESSIONID") as string);
    const response = await client.post("api/logout");
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ ok: true });
    expectCleared(response);
    expect(await s.t.h.sessionExists(sessionId)).toBe(false);
  });
});

describe("api/getcsrftoken", () => {
  it("returns a masked token matching the CSRF cookie it sets", async () => {
    const response = await s.t.app.inject({ method: "GET", url: "/api/getcsrftoken" });
    const body = json(response);
    expect(Object.keys(body).sort()).toEqual(["csrfToken", "ok"]);
    const cookie = response.cookies.find((c) => c.name === "CSRFTOKEN")?.value;
    expect(() =>
      s.t.h.sessionManager.validateDoubleSubmitCsrfToken(cookie, body.csrfToken as string),
    ).not.toThrow();
    expect(response.headers["x-crossauth-csrf"]).toBe(body.csrfToken);
  });
});

describe("api/signup, api/verifyemail and api/configurefactor2", () => {
  it("creates a user awaiting email verification, then verifies the email with a session", async () => {
    const client = new Client(s.t.app);
    const response = await client.post("api/signup", {
      username: "alice",
      password: TEST_PASSWORD,
      repeat_password: TEST_PASSWORD,
      user_email: "alice@example.com",
      admin: true,
      user_admin: "true",
    });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ ok: true, emailVerificationNeeded: true });
    const user = await s.storedUser("alice");
    expect(user).toMatchObject({ state: UserState.awaitingEmailVerification, email: "alice@example.com" });
    expect(user.admin).not.toBe(true);
    const token = linkToken(mailsTo(s.smtp, "alice@example.com")[0]?.parsed.text ?? "", "verifyemail");
    const verified = await client.get(`api/verifyemail/${token}`);
    expect(verified.statusCode).toBe(200);
    expect(json(verified)).toMatchObject({ ok: true, user: { username: "alice", state: UserState.active } });
    expect(verified.cookies.map((c) => c.name)).toContain("SESSIONID");
    const again = await client.get(`api/verifyemail/${token}`);
    expect(again.statusCode).toBe(401);
    expect(json(again).errorCodeName).toBe("InvalidKey");
  });

  it("refuses a taken username, mismatched passwords and missing fields, creating nothing", async () => {
    await s.t.h.createUser({ username: "alice" });
    const client = new Client(s.t.app);
    const taken = await client.post("api/signup", {
      username: "Alice",
      password: TEST_PASSWORD,
      user_email: "other@example.com",
    });
    expect(taken.statusCode).toBe(400);
    expect(json(taken).errorCodeName).toBe("UserExists");
    const mismatch = await client.post("api/signup", {
      username: "bob",
      password: TEST_PASSWORD,
      repeat_password: NEW_PASSWORD,
      user_email: "bob@example.com",
    });
    expect(mismatch.statusCode).toBe(401);
    expect(json(mismatch).errorCodeName).toBe("PasswordMatch");
    const missing = await client.post("api/signup", { username: "bob", user_email: "bob@example.com" });
    expect(missing.statusCode).toBe(400);
    expect(json(missing)).toEqual(errorShape(42, "FormEntry", "password is required"));
    expect(await s.t.h.userStorage.getUsers()).toHaveLength(1);
    expect(s.smtp.messages).toHaveLength(0);
  });

  it("signs up with TOTP: set-up data once, then the code completes it", async () => {
    const client = new Client(s.t.app);
    const response = await client.post("api/signup", {
      username: "alice",
      password: TEST_PASSWORD,
      user_email: "alice@example.com",
      factor2: "totp",
    });
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body).toMatchObject({ ok: true, factor2: "totp", emailVerificationNeeded: true });
    expect(String(body.qr)).toMatch(/^data:image\/png;base64,/);
    const secret = body.totpsecret as string;
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    const again = await client.get("api/configurefactor2");
    expect(json(again)).toMatchObject({ ok: true, totpsecret: secret });
    const code = await s.t.h.totp(secret);
    const wrong = await client.post("api/configurefactor2", { otp: code === "000000" ? "111111" : "000000" });
    expect(wrong.statusCode).toBe(401);
    const done = await client.post("api/configurefactor2", { otp: code });
    expect(done.statusCode).toBe(200);
    expect(json(done)).toMatchObject({
      ok: true,
      emailVerificationNeeded: true,
      user: { username: "alice" },
    });
    expect(JSON.stringify(json(done))).not.toContain(secret);
    expect((await s.storedUser("alice")).state).toBe(UserState.awaitingEmailVerification);
  });
});

describe("api/factor2 and api/cancelfactor2 (step-up)", () => {
  it("holds a protected request until the code, then replays it", async () => {
    const client = await s.loggedInWithFactor2("alice");
    const held = await client.post("api/changepassword", {
      old_password: TEST_PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(held.statusCode).toBe(200);
    expect(json(held)).toEqual({ ok: true, factor2Required: true });
    expect(await s.passwordWorks("alice", TEST_PASSWORD)).toBe(true);
    const wrong = await client.post("api/factor2", { otp: "1234" });
    expect(wrong.statusCode).toBe(401);
    expect(json(wrong).errorCodeName).toBe("InvalidToken");
    expect(await s.passwordWorks("alice", TEST_PASSWORD)).toBe(true);
    const replayed = await client.post("api/factor2", { otp: "0000" });
    expect(replayed.statusCode).toBe(200);
    expect(json(replayed)).toEqual({ ok: true });
    expect(await s.passwordWorks("alice", NEW_PASSWORD)).toBe(true);
    const twice = await client.post("api/factor2", { otp: "0000" });
    expect(twice.statusCode).toBe(401);
    expect(json(twice).errorCodeName).toBe("Unauthorized");
  });

  it("discards a held request on api/cancelfactor2", async () => {
    const client = await s.loggedInWithFactor2("alice");
    await client.post("api/changepassword", { old_password: TEST_PASSWORD, new_password: NEW_PASSWORD });
    expect(json(await client.post("api/cancelfactor2"))).toEqual({ ok: true });
    const after = await client.post("api/factor2", { otp: "0000" });
    expect(json(after).errorCodeName).toBe("Unauthorized");
    expect(await s.passwordWorks("alice", TEST_PASSWORD)).toBe(true);
    const nothing = await client.post("api/cancelfactor2");
    expect(nothing.statusCode).toBe(401);
  });

  it("answers 401 to anonymous step-up requests", async () => {
    const response = await new Client(s.t.app).post("api/factor2", { otp: "0000" });
    expect(response.statusCode).toBe(401);
    expect(json(response)).toEqual(errorShape(14, "Unauthorized", "Not authorized"));
  });
});

describe("api/changefactor2", () => {
  it("removes a second factor with none, after step-up", async () => {
    const client = await s.loggedInWithFactor2("alice");
    expect(json(await client.post("api/changefactor2", { factor2: "none" }))).toEqual({
      ok: true,
      factor2Required: true,
    });
    const replayed = await client.post("api/factor2", { otp: "0000" });
    expect(replayed.statusCode).toBe(200);
    expect(json(replayed).ok).toBe(true);
    expect((await s.storedUser("alice")).factor2 ?? "").toBe("");
  });

  it("starts a TOTP set-up that api/configurefactor2 completes", async () => {
    const client = await s.loggedIn("alice");
    const response = await client.post("api/changefactor2", { factor2: "totp" });
    expect(response.statusCode).toBe(200);
    const secret = json(response).totpsecret as string;
    expect(typeof secret).toBe("string");
    const done = await client.post("api/configurefactor2", { otp: await s.t.h.totp(secret) });
    expect(done.statusCode).toBe(200);
    expect((await s.storedUser("alice")).factor2).toBe("totp");
  });

  it("refuses a factor that is not allowed", async () => {
    const client = await s.loggedIn("alice");
    const response = await client.post("api/changefactor2", { factor2: "sms" });
    expect(response.statusCode).toBe(400);
    expect(json(response)).toEqual(errorShape(43, "BadRequest", "This second factor is not allowed"));
    expect((await s.storedUser("alice")).factor2 ?? "").toBe("");
  });
});

describe("open redirects", () => {
  it("ignores unsafe next values after a page login", async () => {
    await s.t.h.createUser({ username: "alice" });
    for (const next of ["//evil.com", "https://evil.com", "/\\evil.com", "/ok"]) {
      const client = new Client(s.t.app);
      const response = await client.postForm("login", { username: "alice", password: TEST_PASSWORD, next });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe(next === "/ok" ? "/ok" : "/");
    }
  });
});
