/** The login flows: password login, rotation, user states, two-factor login, anonymous sessions, logout. */
import { CrossauthError, ErrorCode, KeyPrefix, type User, UserState } from "@crossauth/common";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { hash, KeyStorage, SessionCookie, totpCode } from "../../src/index.js";
import type { SessionTokens } from "../../src/session/flows/context.js";
import {
  completeTwoFactorLogin,
  createAnonymousSession,
  initiateTwoFactorLogin,
  login,
  logout,
  logoutFromAll,
  startSession,
} from "../../src/session/flows/login.js";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { DUMMY_CODE, emailedCode, secretsOfTokens, T0, TEST_PASSWORD, useFlowSuite } from "./flow-context.js";

const s = useFlowSuite();
beforeEach(() => {
  s.neverLogged("Wrong-Password-1");
});

/** Records the secrets of tokens for the log check and returns them. */
function watch(tokens: SessionTokens): SessionTokens {
  s.neverLogged(...secretsOfTokens(tokens));
  return tokens;
}

/** Logs alice in from a browser whose current session is `previousSessionId`. */
function loginFrom(previousSessionId: string | undefined, persist?: boolean, password = TEST_PASSWORD) {
  return login(s.f.ctx, "alice", { password }, {}, persist, undefined, false, previousSessionId);
}

async function storedSession(sessionId: string) {
  return s.f.keyStorage.getKey(SessionCookie.hashSessionId(sessionId));
}

async function sessionData(sessionId: string): Promise<Record<string, unknown>> {
  return KeyStorage.decodeData((await storedSession(sessionId)).data);
}

async function sessionsOf(userid: string | number | null): Promise<string[]> {
  return (await s.f.keyStorage.getAllForUser(userid))
    .map((k) => k.value)
    .filter((v) => v.startsWith(KeyPrefix.session));
}

describe("login with a password", () => {
  it("creates a user session stored hashed, a verifying cookie and a valid CSRF token", async () => {
    const { user, secrets: stored } = await s.f.createUser({ username: "alice" });
    const tokens = watch(await login(s.f.ctx, "alice", { password: TEST_PASSWORD }));
    expect(tokens.user?.id).toBe(user.id);
    expect(tokens.user?.username).toBe("alice");
    expect(tokens.secrets?.password).toBe(stored.password);
    expect(tokens.twoFactorRequired).toBeUndefined();
    expect(tokens.pendingChange).toBeUndefined();
    const id = tokens.sessionId as string;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const key = await storedSession(id);
    expect(key.value).toBe(`s:${hash(id)}`);
    expect(key.userid).toBe(user.id);
    expect(key.created.getTime()).toBe(T0);
    expect(key.expires?.getTime()).toBe(T0 + 30 * 24 * 3600 * 1000);
    await expect(s.f.keyStorage.getKey(id)).rejects.toBeInstanceOf(CrossauthError);
    expect(await sessionsOf(user.id)).toEqual([key.value]);
    expect(tokens.sessionCookie?.name).toBe("SESSIONID");
    expect(s.f.ctx.session.unsignCookie(tokens.sessionCookie?.value as string)).toBe(id);
    expect(tokens.sessionCookie?.options.maxAge).toBe(30 * 24 * 3600);
    expect(tokens.csrfCookie?.name).toBe("CSRFTOKEN");
    expect(() =>
      s.f.ctx.csrfTokens.validateDoubleSubmitCsrfToken(
        tokens.csrfCookie?.value,
        tokens.csrfFormOrHeaderValue,
      ),
    ).not.toThrow();
    const { user: sessionUser } = await s.f.ctx.session.getUserForSessionId(id);
    expect(sessionUser?.id).toBe(user.id);
  });

  it("saves extra fields and honours persist = false", async () => {
    await s.f.createUser({ username: "alice" });
    const tokens = watch(
      await login(s.f.ctx, "alice", { password: TEST_PASSWORD }, { name: "laptop" }, false),
    );
    expect((await storedSession(tokens.sessionId as string)).name).toBe("laptop");
    expect(tokens.sessionCookie?.options.maxAge).toBeUndefined();
  });

  it("rotates the session: the previous one is deleted, and kept when login fails", async () => {
    await s.f.createUser({ username: "alice" });
    const previous = watch(await createAnonymousSession(s.f.ctx));
    const previousId = previous.sessionId as string;
    await expectCrossauthRejection(
      loginFrom(previousId, undefined, "Wrong-Password-1"),
      ErrorCode.UsernameOrPasswordInvalid,
    );
    expect((await storedSession(previousId)).userid).toBeNull();
    const tokens = watch(await loginFrom(previousId));
    expect(tokens.sessionId).not.toBe(previousId);
    await expectCrossauthRejection(s.f.ctx.session.getSessionKey(previousId), ErrorCode.InvalidSession);
    await storedSession(tokens.sessionId as string);
  });

  it("fails alike for an unknown user and a wrong password, after the PBKDF2 work", async () => {
    await s.f.createUser({ username: "alice" });
    const unknownPath = vi.spyOn(s.f.passwordAuthenticator, "authenticateUnknownUser");
    const unknown = await expectCrossauthRejection(
      login(s.f.ctx, "bob", { password: TEST_PASSWORD }),
      ErrorCode.UsernameOrPasswordInvalid,
    );
    expect(unknownPath).toHaveBeenCalledTimes(1);
    const wrong = await expectCrossauthRejection(
      login(s.f.ctx, "alice", { password: "Wrong-Password-1" }),
      ErrorCode.UsernameOrPasswordInvalid,
    );
    const empty = await expectCrossauthRejection(
      login(s.f.ctx, "", { password: TEST_PASSWORD }),
      ErrorCode.UsernameOrPasswordInvalid,
    );
    expect(unknownPath).toHaveBeenCalledTimes(2);
    expect(wrong.message).toBe(unknown.message);
    expect(empty.message).toBe(unknown.message);
    expect(unknown.message).toBe("Username or password is invalid");
    expect(await sessionsOf(null)).toEqual([]);
  });

  it.each([
    [UserState.disabled, ErrorCode.UserNotActive],
    [UserState.awaitingEmailVerification, ErrorCode.EmailNotVerified],
    [UserState.awaitingTwoFactorSetup, ErrorCode.TwoFactorIncomplete],
    [UserState.awaitingTwoFactorSetupAndEmailVerification, ErrorCode.TwoFactorIncomplete],
    ["suspended", ErrorCode.UserNotActive],
  ])("refuses a user in state %s with the right password", async (state, code) => {
    const { user } = await s.f.createUser({ username: "alice", state });
    await expectCrossauthRejection(login(s.f.ctx, "alice", { password: TEST_PASSWORD }), code);
    await expectCrossauthRejection(
      login(s.f.ctx, "alice", { password: "Wrong-Password-1" }),
      ErrorCode.UsernameOrPasswordInvalid,
    );
    expect(await sessionsOf(user.id)).toEqual([]);
    expect(await sessionsOf(null)).toEqual([]);
  });

  it.each([
    [UserState.passwordChangeNeeded, "passwordchange", "passwordchange"],
    [UserState.passwordResetNeeded, "passwordreset", "passwordreset"],
    [UserState.passwordAndFactor2ResetNeeded, "passwordreset", "passwordreset"],
    [UserState.factor2ResetNeeded, "factor2change", "factor2reset"],
  ])(
    "gives a user in state %s only an anonymous session permitting the change",
    async (state, field, pending) => {
      const { user } = await s.f.createUser({ username: "alice", state, factor2: "dummy" });
      const resetToken = await s.f.tokenEmailer.createAndSavePasswordResetToken(user.id);
      s.neverLogged(resetToken);
      const previous = watch(await createAnonymousSession(s.f.ctx));
      const tokens = watch(await loginFrom(previous.sessionId, true));
      expect(tokens.pendingChange).toBe(pending);
      expect(tokens.user).toBeUndefined();
      expect(tokens.twoFactorRequired).toBeUndefined();
      const key = await storedSession(tokens.sessionId as string);
      expect(key.userid).toBeNull();
      expect(KeyStorage.decodeData(key.data)).toEqual({ [field]: { userid: user.id, username: "alice" } });
      expect(tokens.sessionCookie?.options.maxAge).toBeUndefined();
      expect(() =>
        s.f.ctx.csrfTokens.validateDoubleSubmitCsrfToken(
          tokens.csrfCookie?.value,
          tokens.csrfFormOrHeaderValue,
        ),
      ).not.toThrow();
      expect(await sessionsOf(user.id)).toEqual([]);
      await expectCrossauthRejection(
        s.f.ctx.session.getSessionKey(previous.sessionId as string),
        ErrorCode.InvalidSession,
      );
      expect((await s.f.tokenEmailer.verifyPasswordResetToken(resetToken)).id).toBe(user.id);
    },
  );

  it("deletes the user's outstanding password-reset tokens, not their other keys", async () => {
    const { user } = await s.f.createUser({ username: "alice" });
    const reset = await s.f.tokenEmailer.createAndSavePasswordResetToken(user.id);
    const verify = await s.f.tokenEmailer.createAndSaveEmailVerificationToken(user.id);
    s.neverLogged(reset, verify);
    watch(await login(s.f.ctx, "alice", { password: TEST_PASSWORD }));
    await expectCrossauthRejection(s.f.tokenEmailer.verifyPasswordResetToken(reset), ErrorCode.InvalidKey);
    expect((await s.f.tokenEmailer.verifyEmailVerificationToken(verify)).userid).toBe(user.id);
  });

  it("skips factor 1 for a given user, but not the state checks or factor 2", async () => {
    const { user: alice } = await s.f.createUser({ username: "alice" });
    const tokens = watch(await login(s.f.ctx, "", {}, {}, undefined, alice));
    expect((await storedSession(tokens.sessionId as string)).userid).toBe(alice.id);
    const { user: bob } = await s.f.createUser({ username: "bob", factor2: "dummy" });
    const twoFactor = watch(await login(s.f.ctx, "", {}, {}, undefined, bob));
    expect(twoFactor.twoFactorRequired).toBe(true);
    const bypassed = watch(await login(s.f.ctx, "", {}, {}, undefined, bob, true));
    expect((await storedSession(bypassed.sessionId as string)).userid).toBe(bob.id);
    const { user: carol } = await s.f.createUser({ username: "carol", state: UserState.disabled });
    await expectCrossauthRejection(login(s.f.ctx, "", {}, {}, undefined, carol), ErrorCode.UserNotActive);
  });

  it("refuses a user whose first factor is not registered", async () => {
    await s.f.createUser({ username: "alice", factor1: "ldap" });
    await expectCrossauthRejection(
      login(s.f.ctx, "alice", { password: TEST_PASSWORD }),
      ErrorCode.Configuration,
    );
  });
});

describe("two-factor login", () => {
  async function startTwoFactor(factor2: string): Promise<{ user: User; tokens: SessionTokens }> {
    const { user } = await s.f.createUser({ username: "alice", factor2 });
    const tokens = watch(await login(s.f.ctx, "alice", { password: TEST_PASSWORD }));
    return { user, tokens };
  }

  it("with the dummy factor: anonymous session with the 2fa data, then a user session", async () => {
    s.neverLogged(DUMMY_CODE);
    const previous = watch(await createAnonymousSession(s.f.ctx));
    const { user } = await s.f.createUser({ username: "alice", factor2: "dummy" });
    const tokens = watch(await loginFrom(previous.sessionId));
    expect(tokens.twoFactorRequired).toBe(true);
    expect(tokens.user).toBeUndefined();
    await expectCrossauthRejection(
      s.f.ctx.session.getSessionKey(previous.sessionId as string),
      ErrorCode.InvalidSession,
    );
    const anonymousId = tokens.sessionId as string;
    expect((await storedSession(anonymousId)).userid).toBeNull();
    expect(await sessionData(anonymousId)).toEqual({
      "2fa": { userid: user.id, username: "alice", factor2: "dummy", otp: DUMMY_CODE, expiry: T0 + 300_000 },
    });
    expect(await sessionsOf(user.id)).toEqual([]);
    expect(tokens.sessionCookie?.options.maxAge).toBeUndefined();

    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: "9999" }, anonymousId),
      ErrorCode.InvalidToken,
    );
    expect((await storedSession(anonymousId)).userid).toBeNull();
    expect(await sessionsOf(user.id)).toEqual([]);

    const done = watch(
      await completeTwoFactorLogin(s.f.ctx, { otp: DUMMY_CODE }, anonymousId, { name: "phone" }),
    );
    expect(done.user?.id).toBe(user.id);
    await expectCrossauthRejection(s.f.ctx.session.getSessionKey(anonymousId), ErrorCode.InvalidSession);
    const key = await storedSession(done.sessionId as string);
    expect(key.userid).toBe(user.id);
    expect(key.name).toBe("phone");
    expect(s.f.ctx.session.unsignCookie(done.sessionCookie?.value as string)).toBe(done.sessionId);
    expect(() =>
      s.f.ctx.csrfTokens.validateDoubleSubmitCsrfToken(done.csrfCookie?.value, done.csrfFormOrHeaderValue),
    ).not.toThrow();
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: DUMMY_CODE }, anonymousId),
      ErrorCode.InvalidSession,
    );
  });

  it("with the email factor: the code from the real SMTP message", async () => {
    const before = s.smtp.messages.length;
    const { user, tokens } = await startTwoFactor("email");
    expect(s.smtp.messages.length).toBe(before + 1);
    const mail = s.smtp.last();
    expect(mail.envelopeTo).toEqual(["alice@example.com"]);
    const code = emailedCode(mail);
    s.neverLogged(code);
    const anonymousId = tokens.sessionId as string;
    expect(await sessionData(anonymousId)).toEqual({
      "2fa": { userid: user.id, username: "alice", factor2: "email", otp: code, expiry: T0 + 300_000 },
    });
    const wrong = code === "123456" ? "654321" : "123456";
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: wrong }, anonymousId),
      ErrorCode.InvalidToken,
    );
    await storedSession(anonymousId);
    const done = watch(await completeTwoFactorLogin(s.f.ctx, { otp: code }, anonymousId, {}, false));
    expect(done.user?.username).toBe("alice");
    expect(done.sessionCookie?.options.maxAge).toBeUndefined();
    expect(await sessionsOf(null)).toEqual([]);
    expect(await sessionsOf(user.id)).toEqual([SessionCookie.hashSessionId(done.sessionId as string)]);
  });

  it("with TOTP: the code computed from the stored secret; a replayed code is refused", async () => {
    const { user, tokens } = await startTwoFactor("totp");
    const anonymousId = tokens.sessionId as string;
    expect(await sessionData(anonymousId)).toEqual({
      "2fa": { userid: user.id, username: "alice", factor2: "totp" },
    });
    const { secrets: stored } = await s.f.userStorage.getUserById(user.id);
    const code = await totpCode(stored.totpsecret as string, s.f.clock.nowMs());
    const stale = await totpCode(stored.totpsecret as string, s.f.clock.nowMs() - 3600_000);
    s.neverLogged(code, stale, stored.totpsecret as string);
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: stale }, anonymousId),
      ErrorCode.InvalidToken,
    );
    await storedSession(anonymousId);
    const done = watch(await completeTwoFactorLogin(s.f.ctx, { otp: code }, anonymousId));
    expect(done.user?.id).toBe(user.id);
    const again = watch(await login(s.f.ctx, "alice", { password: TEST_PASSWORD }));
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: code }, again.sessionId as string),
      ErrorCode.InvalidToken,
    );
  });

  it("refuses an expired code and keeps the anonymous session", async () => {
    s.neverLogged(DUMMY_CODE);
    const { user, tokens } = await startTwoFactor("dummy");
    s.f.clock.advance(301);
    const anonymousId = tokens.sessionId as string;
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: DUMMY_CODE }, anonymousId),
      ErrorCode.Expired,
    );
    await storedSession(anonymousId);
    expect(await sessionsOf(user.id)).toEqual([]);
  });

  it("is Unauthorized without a two-factor login in the session, and for a user session", async () => {
    const { user } = await s.f.createUser({ username: "alice", factor2: "dummy" });
    const anonymous = watch(await createAnonymousSession(s.f.ctx));
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: DUMMY_CODE }, anonymous.sessionId as string),
      ErrorCode.Unauthorized,
    );
    const userSession = watch(
      await startSession(s.f.ctx, user.id, {}, undefined, {
        "2fa": {
          userid: user.id,
          username: "alice",
          factor2: "dummy",
          otp: DUMMY_CODE,
          expiry: T0 + 300_000,
        },
      }),
    );
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: DUMMY_CODE }, userSession.sessionId as string),
      ErrorCode.Unauthorized,
    );
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: DUMMY_CODE }, "no-such-session"),
      ErrorCode.InvalidSession,
    );
  });

  it("refuses a user who is not active by the second step, or whose factor changed", async () => {
    s.neverLogged(DUMMY_CODE);
    const { user, tokens } = await startTwoFactor("dummy");
    await s.f.userStorage.updateUser({ id: user.id, state: UserState.disabled });
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: DUMMY_CODE }, tokens.sessionId as string),
      ErrorCode.UserNotActive,
    );
    await s.f.userStorage.updateUser({ id: user.id, state: UserState.active, factor2: "email" });
    await expectCrossauthRejection(
      completeTwoFactorLogin(s.f.ctx, { otp: DUMMY_CODE }, tokens.sessionId as string),
      ErrorCode.Unauthorized,
    );
    expect(await sessionsOf(user.id)).toEqual([]);
  });

  it("initiateTwoFactorLogin needs a registered second factor", async () => {
    const { user } = await s.f.createUser({ username: "alice" });
    await expectCrossauthRejection(initiateTwoFactorLogin(s.f.ctx, user), ErrorCode.BadRequest);
    await expectCrossauthRejection(
      initiateTwoFactorLogin(s.f.ctx, { ...user, factor2: "sms" }),
      ErrorCode.Configuration,
    );
    expect(await sessionsOf(null)).toEqual([]);
  });
});

describe("anonymous sessions and logout", () => {
  it("createAnonymousSession stores extra fields and data, never persists, and issues CSRF", async () => {
    const tokens = watch(await createAnonymousSession(s.f.ctx, { name: "kiosk" }, { oauth: { state: "x" } }));
    const key = await storedSession(tokens.sessionId as string);
    expect(key.userid).toBeNull();
    expect(key.name).toBe("kiosk");
    expect(KeyStorage.decodeData(key.data)).toEqual({ oauth: { state: "x" } });
    expect(tokens.sessionCookie?.options.maxAge).toBeUndefined();
    expect(tokens.user).toBeUndefined();
    expect(() =>
      s.f.ctx.csrfTokens.validateDoubleSubmitCsrfToken(
        tokens.csrfCookie?.value,
        tokens.csrfFormOrHeaderValue,
      ),
    ).not.toThrow();
  });

  it("startSession removes the session again when its data cannot be written", async () => {
    await expectCrossauthRejection(
      startSession(s.f.ctx, null, {}, false, { "a.b": 1 }),
      ErrorCode.BadRequest,
    );
    expect(await sessionsOf(null)).toEqual([]);
  });

  it("logout deletes the session; logging out twice is fine", async () => {
    const { user } = await s.f.createUser({ username: "alice" });
    const tokens = watch(await login(s.f.ctx, "alice", { password: TEST_PASSWORD }));
    await logout(s.f.ctx, tokens.sessionId as string);
    await expectCrossauthRejection(
      s.f.ctx.session.getSessionKey(tokens.sessionId as string),
      ErrorCode.InvalidSession,
    );
    expect(await sessionsOf(user.id)).toEqual([]);
    await logout(s.f.ctx, tokens.sessionId as string);
    expect(s.logs.text()).toContain(hash(tokens.sessionId as string));
  });

  it("logoutFromAll ends every session of the user but the excepted one", async () => {
    const { user: alice } = await s.f.createUser({ username: "alice" });
    await s.f.createUser({ username: "bob" });
    const a1 = watch(await login(s.f.ctx, "alice", { password: TEST_PASSWORD }));
    const a2 = watch(await login(s.f.ctx, "alice", { password: TEST_PASSWORD }));
    const a3 = watch(await login(s.f.ctx, "alice", { password: TEST_PASSWORD }));
    const b1 = watch(await login(s.f.ctx, "bob", { password: TEST_PASSWORD }));
    const anonymous = watch(await createAnonymousSession(s.f.ctx));
    await logoutFromAll(s.f.ctx, alice.id, a2.sessionId);
    expect(await sessionsOf(alice.id)).toEqual([SessionCookie.hashSessionId(a2.sessionId as string)]);
    await expectCrossauthRejection(
      s.f.ctx.session.getSessionKey(a1.sessionId as string),
      ErrorCode.InvalidSession,
    );
    await expectCrossauthRejection(
      s.f.ctx.session.getSessionKey(a3.sessionId as string),
      ErrorCode.InvalidSession,
    );
    await storedSession(b1.sessionId as string);
    await storedSession(anonymous.sessionId as string);
    await logoutFromAll(s.f.ctx, alice.id);
    expect(await sessionsOf(alice.id)).toEqual([]);
  });
});
