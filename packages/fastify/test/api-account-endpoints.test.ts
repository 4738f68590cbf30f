/**
 * The account and password-reset JSON endpoints through HTTP (`fastify.inject`) with a real SMTP
 * listener: change password, update user, request and reset password, delete user, user for session
 * key. Success, documented errors, CSRF, and that failures change nothing.
 */
import { describe, expect, it } from "vitest";
import { linkToken, mailsTo, TEST_PASSWORD } from "../../backend/test/session/flow-context.js";
import { Client, errorShape, expectCleared, json, NEW_PASSWORD, useAppSuite } from "./app-fixture.js";

const s = useAppSuite({ allowedFactor2: ["totp", "dummy"], userEditableFields: ["email"] });

describe("api/changepassword", () => {
  it("changes the password of the logged-in user", async () => {
    const client = await s.loggedIn("alice");
    const response = await client.post("api/changepassword", {
      old_password: TEST_PASSWORD,
      new_password: NEW_PASSWORD,
      repeat_password: NEW_PASSWORD,
    });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ ok: true });
    expect(await s.passwordWorks("alice", NEW_PASSWORD)).toBe(true);
    expect(json(await client.post("api/userforsessionkey")).user).toMatchObject({ username: "alice" });
  });

  it("refuses a wrong old password, a weak new one and anonymous requests, changing nothing", async () => {
    const client = await s.loggedIn("alice");
    const wrong = await client.post("api/changepassword", {
      old_password: "Nope-Nope-123",
      new_password: NEW_PASSWORD,
    });
    expect(wrong.statusCode).toBe(401);
    expect(json(wrong).errorCodeName).toBe("PasswordInvalid");
    const weak = await client.post("api/changepassword", { old_password: TEST_PASSWORD, new_password: "a" });
    expect(weak.statusCode).toBe(401);
    expect(json(weak).errorCodeName).toBe("PasswordFormat");
    const anonymous = await new Client(s.t.app).post("api/changepassword", {
      old_password: TEST_PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(anonymous.statusCode).toBe(401);
    expect(json(anonymous).errorCodeName).toBe("Unauthorized");
    expect(await s.passwordWorks("alice", TEST_PASSWORD)).toBe(true);
  });
});

describe("api/updateuser", () => {
  it("sends a verification email for a new address, which takes effect once verified", async () => {
    const client = await s.loggedIn("alice");
    const response = await client.post("api/updateuser", { user_email: "new@example.com" });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ ok: true, emailVerificationRequired: true });
    expect((await s.storedUser("alice")).email).toBe("alice@example.com");
    const token = linkToken(mailsTo(s.smtp, "new@example.com")[0]?.parsed.text ?? "", "verifyemail");
    expect((await client.get(`api/verifyemail/${token}`)).statusCode).toBe(200);
    expect((await s.storedUser("alice")).email).toBe("new@example.com");
  });

  it("refuses anonymous requests and non-text fields", async () => {
    const anonymous = await new Client(s.t.app).post("api/updateuser", { user_email: "x@example.com" });
    expect(json(anonymous).errorCodeName).toBe("Unauthorized");
    const client = await s.loggedIn("alice");
    const bad = await client.post("api/updateuser", { user_email: ["x@example.com"] });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).errorCodeName).toBe("FormEntry");
    expect(s.smtp.messages).toHaveLength(0);
  });
});

describe("api/requestpasswordreset and api/resetpassword", () => {
  it("answers known and unknown addresses identically, emailing only the known one", async () => {
    await s.t.h.createUser({ username: "alice" });
    const client = new Client(s.t.app);
    const known = await client.post("api/requestpasswordreset", { email: "alice@example.com" });
    const unknown = await client.post("api/requestpasswordreset", { email: "nobody@example.com" });
    await s.t.h.sessionManager.whenIdle();
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    expect(known.body).toBe(unknown.body);
    expect(json(known)).toEqual({ ok: true });
    expect(mailsTo(s.smtp, "alice@example.com")).toHaveLength(1);
    expect(mailsTo(s.smtp, "nobody@example.com")).toHaveLength(0);
  });

  it("resets the password with the emailed token, logging the user in, once", async () => {
    await s.t.h.createUser({ username: "alice" });
    const client = new Client(s.t.app);
    await client.post("api/requestpasswordreset", { email: "alice@example.com" });
    await s.t.h.sessionManager.whenIdle();
    const token = linkToken(mailsTo(s.smtp, "alice@example.com")[0]?.parsed.text ?? "", "resetpassword");
    const mismatch = await client.post("api/resetpassword", {
      token,
      new_password: NEW_PASSWORD,
      repeat_password: TEST_PASSWORD,
    });
    expect(json(mismatch).errorCodeName).toBe("PasswordMatch");
    const response = await client.post("api/resetpassword", { token, new_password: NEW_PASSWORD });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toMatchObject({ ok: true, user: { username: "alice" } });
    expect(response.cookies.map((c) => c.name)).toContain("SESSIONID");
    expect(await s.passwordWorks("alice", NEW_PASSWORD)).toBe(true);
    const again = await client.post("api/resetpassword", { token, new_password: TEST_PASSWORD });
    expect(again.statusCode).toBe(401);
    expect(json(again)).toEqual(errorShape(20, "InvalidKey", "Password reset token is invalid"));
    expect(await s.passwordWorks("alice", NEW_PASSWORD)).toBe(true);
  });
});

describe("api/deleteuser", () => {
  it("deletes the user with its sessions and clears the cookies", async () => {
    const client = await s.loggedIn("alice");
    const sessionId = s.t.h.sessionManager.getSessionId(client.jar.get("SESSIONID") as string);
    const { id } = await s.storedUser("alice");
    const response = await client.post("api/deleteuser");
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ ok: true, userid: id });
    expectCleared(response);
    expect(await s.t.h.userStorage.getUsers()).toHaveLength(0);
    expect(await s.t.h.sessionExists(sessionId)).toBe(false);
  });

  it("refuses anonymous requests and requests without CSRF", async () => {
    const anonymous = await new Client(s.t.app).post("api/deleteuser");
    expect(anonymous.statusCode).toBe(401);
    const client = await s.loggedIn("alice");
    const noCsrf = await s.t.app.inject({
      method: "POST",
      url: "/api/deleteuser",
      headers: { cookie: client.jar.header() },
    });
    expect(noCsrf.statusCode).toBe(401);
    expect(json(noCsrf).errorCodeName).toBe("InvalidCsrf");
    expect(await s.t.h.userStorage.getUsers()).toHaveLength(1);
  });
});

describe("api/userforsessionkey", () => {
  it("returns the user of a session, and nothing for anonymous requests", async () => {
    expect(json(await new Client(s.t.app).post("api/userforsessionkey"))).toEqual({ ok: true });
    const client = await s.loggedIn("alice");
    expect(json(await client.post("api/userforsessionkey")).user).toMatchObject({ username: "alice" });
  });
});
