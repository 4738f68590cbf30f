/**
 * Signup flows end to end on in-memory storages with a real SMTP listener: with and without email
 * verification (following the emailed link), with a TOTP, email-code or dummy second factor, with
 * 2FA and verification in either order, and changing or removing the second factor later.
 */
import { ErrorCode, KeyPrefix, type User, UserState } from "@crossauth/common";
import { beforeEach, describe, expect, it } from "vitest";
import { hash, totpCode } from "../../src/index.js";
import { applyEmailVerificationToken } from "../../src/session/flows/account.js";
import { completeTwoFactorLogin, createAnonymousSession, login } from "../../src/session/flows/login.js";
import {
  completeTwoFactorSetup,
  createUser,
  initiateTwoFactorSetup,
  initiateTwoFactorSignup,
  repeatTwoFactorSignup,
} from "../../src/session/flows/signup.js";
import { SessionCookie } from "../../src/session/session-cookie.js";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import {
  DUMMY_CODE,
  emailedCode,
  emailedToken,
  type FlowContextOptions,
  mailsTo,
  makeFlowContext,
  TEST_PASSWORD,
  TEST_SITE_URL,
  useFlowSuite,
} from "./flow-context.js";

const pw = { password: TEST_PASSWORD };

const s = useFlowSuite();
beforeEach(() => {
  s.smtp.messages.length = 0;
});

/** Replaces the fixture with one built with these options (same SMTP listener unless told). */
function useContext(options: FlowContextOptions): void {
  s.f.close();
  s.f = makeFlowContext({ smtpPort: s.smtp.port, ...options });
}

/** The stored user and secrets, whatever the state. */
function stored(username: string) {
  return s.f.userStorage.getUserByUsername(username, { skipActiveCheck: true, skipEmailVerifiedCheck: true });
}

/** The user's keys with a prefix. */
async function keysOf(userid: string | number, prefix: string) {
  return (await s.f.keyStorage.getAllForUser(userid)).filter((k) => k.value.startsWith(prefix));
}

/** A session's decoded data. */
async function sessionData(sessionId: string): Promise<Record<string, unknown>> {
  const key = await s.f.keyStorage.getKey(SessionCookie.hashSessionId(sessionId));
  return JSON.parse(key.data ?? "{}") as Record<string, unknown>;
}

/** A new anonymous session's raw id. */
async function anonymousSession(): Promise<string> {
  return (await createAnonymousSession(s.f.ctx)).sessionId as string;
}

/** The TOTP code now, for a secret. */
function codeNow(secret: string): Promise<string> {
  return totpCode(secret, s.f.clock.nowMs());
}

describe("createUser", () => {
  it("with verification: awaits verification, emails a link whose token activates the user once", async () => {
    const user = await createUser(
      s.f.ctx,
      { username: "alice", email: "alice@example.com", state: "", factor1: "localpassword" },
      pw,
      pw,
    );
    expect(user.state).toBe(UserState.awaitingEmailVerification);
    expect(user.factor2).toBe("");
    const mails = mailsTo(s.smtp, "alice@example.com");
    expect(mails).toHaveLength(1);
    expect(mails[0]?.parsed.text).toContain(`${TEST_SITE_URL}/verifyemail/`);
    const token = emailedToken(mails[0] as (typeof mails)[0], "verifyemail");
    s.neverLogged(token);
    const tokenKey = await s.f.keyStorage.getKey(KeyPrefix.emailVerificationToken + hash(token));
    expect(tokenKey.userid).toBe(user.id);
    await expectCrossauthRejection(login(s.f.ctx, "alice", pw), ErrorCode.EmailNotVerified);

    const verified = await applyEmailVerificationToken(s.f.ctx, token);
    expect(verified.state).toBe(UserState.active);
    expect(verified.email).toBe("alice@example.com");
    expect((await stored("alice")).user.state).toBe(UserState.active);
    await expectCrossauthRejection(applyEmailVerificationToken(s.f.ctx, token), ErrorCode.InvalidKey);
    const tokens = await login(s.f.ctx, "alice", pw);
    expect(tokens.user?.id).toBe(user.id);
  });

  it("without verification (disabled, or skipped) creates an active user and sends nothing", async () => {
    useContext({ enableEmailVerification: false });
    const bob = await createUser(
      s.f.ctx,
      { username: "bob", email: "bob@example.com", state: "", factor1: "localpassword" },
      pw,
    );
    expect(bob.state).toBe(UserState.active);
    useContext({});
    const carol = await createUser(
      s.f.ctx,
      { username: "carol", email: "carol@example.com", state: "", factor1: "localpassword" },
      pw,
      undefined,
      true,
    );
    expect(carol.state).toBe(UserState.active);
    expect(s.smtp.messages).toHaveLength(0);
    expect((await login(s.f.ctx, "carol", pw)).user?.username).toBe("carol");
    const { secrets } = await stored("carol");
    expect(secrets.password).toMatch(/^pbkdf2:sha256:32:1000:0:/);
  });

  it("sets the state itself, whatever the caller passed", async () => {
    const user = await createUser(
      s.f.ctx,
      { username: "dave@example.com", state: UserState.active, factor1: "localpassword", admin: true },
      pw,
      undefined,
      false,
    );
    expect(user.state).toBe(UserState.awaitingEmailVerification);
    expect(mailsTo(s.smtp, "dave@example.com")).toHaveLength(1);
  });

  it("rejects bad secrets, addresses and factors without creating anything", async () => {
    const base = { username: "erin", email: "erin@example.com", state: "", factor1: "localpassword" };
    await expectCrossauthRejection(
      createUser(s.f.ctx, base, pw, { password: "Other-Pass-1" }),
      ErrorCode.PasswordMatch,
    );
    const format = await expectCrossauthRejection(
      createUser(s.f.ctx, base, { password: "short" }),
      ErrorCode.PasswordFormat,
    );
    expect(format.messages).toContain("Password must be at least 8 characters");
    await expectCrossauthRejection(
      createUser(s.f.ctx, { ...base, email: "not-an-address" }, pw),
      ErrorCode.InvalidEmail,
    );
    await expectCrossauthRejection(
      createUser(s.f.ctx, { ...base, email: undefined }, pw),
      ErrorCode.InvalidEmail,
    );
    await expectCrossauthRejection(
      createUser(s.f.ctx, { ...base, factor1: "nosuch" }, pw),
      ErrorCode.Configuration,
    );
    await expectCrossauthRejection(
      createUser(s.f.ctx, { ...base, factor2: "totp" }, pw),
      ErrorCode.BadRequest,
    );
    await expectCrossauthRejection(
      createUser(s.f.ctx, { ...base, factor2: "sms" }, pw),
      ErrorCode.BadRequest,
    );
    await expectCrossauthRejection(stored("erin"), ErrorCode.UserNotExist);
    expect(s.smtp.messages).toHaveLength(0);
  });

  it("an existing username is UserExists", async () => {
    await s.f.createUser({ username: "frank" });
    await expectCrossauthRejection(
      createUser(
        s.f.ctx,
        { username: "Frank", email: "f2@example.com", state: "", factor1: "localpassword" },
        pw,
      ),
      ErrorCode.UserExists,
    );
  });

  it("undoes the user when the verification email cannot be sent", async () => {
    s.f.close();
    s.f = makeFlowContext({});
    await expectCrossauthRejection(
      createUser(
        s.f.ctx,
        { username: "gina", email: "gina@example.com", state: "", factor1: "localpassword" },
        pw,
      ),
      ErrorCode.Configuration,
    );
    await expectCrossauthRejection(stored("gina"), ErrorCode.UserNotExist);
    expect(await s.f.keyStorage.getAllForUser(1)).toEqual([]);
  });

  it("with emptyPassword: no secret, state passwordresetneeded and a reset link", async () => {
    const user = await createUser(
      s.f.ctx,
      { username: "hal", email: "hal@example.com", state: "", factor1: "localpassword" },
      {},
      undefined,
      false,
      true,
    );
    expect(user.state).toBe(UserState.passwordResetNeeded);
    expect((await stored("hal")).secrets.password).toBeUndefined();
    const mails = mailsTo(s.smtp, "hal@example.com");
    expect(mails).toHaveLength(1);
    expect(emailedToken(mails[0] as (typeof mails)[0], "resetpassword")).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("a second factor without persistent secrets may be given directly", async () => {
    useContext({ enableEmailVerification: false });
    const user = await createUser(
      s.f.ctx,
      { username: "ida", email: "ida@example.com", state: "", factor1: "localpassword", factor2: "dummy" },
      pw,
    );
    expect(user.factor2).toBe("dummy");
    expect((await login(s.f.ctx, "ida", pw)).twoFactorRequired).toBe(true);
  });
});

describe("signup with a second factor", () => {
  const jo = { username: "jo", email: "jo@example.com", state: "", factor1: "localpassword" };

  it("TOTP: set-up data in the session, wrong code keeps it, right code activates and moves the secret", async () => {
    useContext({ enableEmailVerification: false });
    const sid = await anonymousSession();
    const { userid, userData } = await initiateTwoFactorSignup(
      s.f.ctx,
      { ...jo, factor2: "totp" },
      pw,
      sid,
      pw,
    );
    expect(userData.factor2).toBe("totp");
    expect(userData.qr).toMatch(/^data:image\/png;base64,/);
    const secret = userData.totpsecret as string;
    s.neverLogged(secret);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    let { user, secrets } = await stored("jo");
    expect(user.id).toBe(userid);
    expect(user.state).toBe(UserState.awaitingTwoFactorSetup);
    expect(secrets.totpsecret).toBeUndefined();
    expect((await sessionData(sid))["2fa"]).toMatchObject({
      userid,
      username: "jo",
      factor2: "totp",
      totpsecret: secret,
    });
    await expectCrossauthRejection(login(s.f.ctx, "jo", pw), ErrorCode.TwoFactorIncomplete);

    const again = await repeatTwoFactorSignup(s.f.ctx, sid);
    expect(again.userid).toBe(userid);
    expect(again.userData.totpsecret).toBe(secret);
    expect(again.secrets).toEqual({ totpsecret: secret });

    const good = await codeNow(secret);
    s.neverLogged(good);
    const wrong = good === "000000" ? "111111" : "000000";
    await expectCrossauthRejection(
      completeTwoFactorSetup(s.f.ctx, { otp: wrong }, sid),
      ErrorCode.InvalidToken,
    );
    expect((await stored("jo")).user.state).toBe(UserState.awaitingTwoFactorSetup);
    expect((await sessionData(sid))["2fa"]).toBeDefined();

    const done = await completeTwoFactorSetup(s.f.ctx, { otp: good }, sid);
    expect(done).toMatchObject({ id: userid, state: UserState.active, factor2: "totp" });
    ({ user, secrets } = await stored("jo"));
    expect(user.state).toBe(UserState.active);
    expect(secrets.totpsecret).toBe(secret);
    expect(secrets.password).toMatch(/^pbkdf2:/);
    expect((await sessionData(sid))["2fa"]).toBeUndefined();
    await expectCrossauthRejection(
      completeTwoFactorSetup(s.f.ctx, { otp: good }, sid),
      ErrorCode.Unauthorized,
    );

    const pending = await login(s.f.ctx, "jo", pw);
    expect(pending.twoFactorRequired).toBe(true);
    s.f.clock.advance(30);
    const tokens = await completeTwoFactorLogin(
      s.f.ctx,
      { otp: await codeNow(secret) },
      pending.sessionId as string,
    );
    expect(tokens.user?.id).toBe(userid);
    expect(s.smtp.messages).toHaveLength(0);
  });

  it("email code: the emailed code completes set-up, and no verification email is needed", async () => {
    const sid = await anonymousSession();
    const { userData } = await initiateTwoFactorSignup(s.f.ctx, { ...jo, factor2: "email" }, pw, sid);
    expect(userData).toEqual({ username: "jo", email: "jo@example.com", factor2: "email" });
    expect((await stored("jo")).user.state).toBe(UserState.awaitingTwoFactorSetup);
    const first = emailedCode(s.smtp.last());
    const again = await repeatTwoFactorSignup(s.f.ctx, sid);
    expect(again.userData).toEqual({ username: "jo", email: "jo@example.com", factor2: "email" });
    const second = emailedCode(s.smtp.last());
    s.neverLogged(first, second);
    expect(mailsTo(s.smtp, "jo@example.com")).toHaveLength(2);
    if (first !== second) {
      await expectCrossauthRejection(
        completeTwoFactorSetup(s.f.ctx, { otp: first }, sid),
        ErrorCode.InvalidToken,
      );
    }
    const done = await completeTwoFactorSetup(s.f.ctx, { otp: second }, sid);
    expect(done.state).toBe(UserState.active);
    expect(done.factor2).toBe("email");
    expect(s.smtp.messages).toHaveLength(2);
    expect((await login(s.f.ctx, "jo", pw)).twoFactorRequired).toBe(true);
  });

  it("an expired email code is Expired and can be re-sent", async () => {
    const sid = await anonymousSession();
    await initiateTwoFactorSignup(s.f.ctx, { ...jo, factor2: "email" }, pw, sid);
    const code = emailedCode(s.smtp.last());
    s.f.clock.advance(301);
    await expectCrossauthRejection(completeTwoFactorSetup(s.f.ctx, { otp: code }, sid), ErrorCode.Expired);
    await repeatTwoFactorSignup(s.f.ctx, sid);
    expect((await completeTwoFactorSetup(s.f.ctx, { otp: emailedCode(s.smtp.last()) }, sid)).state).toBe(
      UserState.active,
    );
  });

  it("dummy with verification: set-up first leaves verification pending (and re-sends the link), then the link activates", async () => {
    const sid = await anonymousSession();
    const { userData } = await initiateTwoFactorSignup(s.f.ctx, { ...jo, factor2: "dummy" }, pw, sid);
    expect(userData).toEqual({ username: "jo", factor2: "dummy" });
    expect((await stored("jo")).user.state).toBe(UserState.awaitingTwoFactorSetupAndEmailVerification);
    expect(mailsTo(s.smtp, "jo@example.com")).toHaveLength(1);
    await expectCrossauthRejection(login(s.f.ctx, "jo", pw), ErrorCode.TwoFactorIncomplete);

    const done = await completeTwoFactorSetup(s.f.ctx, { otp: DUMMY_CODE }, sid);
    expect(done.state).toBe(UserState.awaitingEmailVerification);
    expect(done.factor2).toBe("dummy");
    const mails = mailsTo(s.smtp, "jo@example.com");
    expect(mails).toHaveLength(2);
    await expectCrossauthRejection(login(s.f.ctx, "jo", pw), ErrorCode.EmailNotVerified);

    const verified = await applyEmailVerificationToken(
      s.f.ctx,
      emailedToken(mails[1] as (typeof mails)[1], "verifyemail"),
    );
    expect(verified.state).toBe(UserState.active);
    expect((await login(s.f.ctx, "jo", pw)).twoFactorRequired).toBe(true);
  });

  it("TOTP with verification: verifying first keeps the 2FA requirement; set-up then activates", async () => {
    const sid = await anonymousSession();
    const { userData } = await initiateTwoFactorSignup(s.f.ctx, { ...jo, factor2: "totp" }, pw, sid);
    expect((await stored("jo")).user.state).toBe(UserState.awaitingTwoFactorSetupAndEmailVerification);
    const mails = mailsTo(s.smtp, "jo@example.com");
    expect(mails).toHaveLength(1);

    const verified = await applyEmailVerificationToken(
      s.f.ctx,
      emailedToken(mails[0] as (typeof mails)[0], "verifyemail"),
    );
    expect(verified.state).toBe(UserState.awaitingTwoFactorSetup);
    expect((await stored("jo")).user.state).toBe(UserState.awaitingTwoFactorSetup);
    await expectCrossauthRejection(login(s.f.ctx, "jo", pw), ErrorCode.TwoFactorIncomplete);
    expect(await keysOf(verified.id, KeyPrefix.session)).toEqual([]);

    const done = await completeTwoFactorSetup(
      s.f.ctx,
      { otp: await codeNow(userData.totpsecret as string) },
      sid,
    );
    expect(done.state).toBe(UserState.active);
    expect(s.smtp.messages).toHaveLength(1);
  });

  it("rejects a missing or disallowed factor, a bad session and a bad password without creating the user", async () => {
    const sid = await anonymousSession();
    await expectCrossauthRejection(initiateTwoFactorSignup(s.f.ctx, jo, pw, sid), ErrorCode.BadRequest);
    await expectCrossauthRejection(
      initiateTwoFactorSignup(s.f.ctx, { ...jo, factor2: "none" }, pw, sid),
      ErrorCode.BadRequest,
    );
    await expectCrossauthRejection(
      initiateTwoFactorSignup(s.f.ctx, { ...jo, factor2: "localpassword" }, pw, sid),
      ErrorCode.BadRequest,
    );
    await expectCrossauthRejection(
      initiateTwoFactorSignup(s.f.ctx, { ...jo, factor2: "totp" }, pw, "nosuchsession"),
      ErrorCode.InvalidSession,
    );
    await expectCrossauthRejection(
      initiateTwoFactorSignup(s.f.ctx, { ...jo, factor2: "totp" }, { password: "weak" }, sid),
      ErrorCode.PasswordFormat,
    );
    await expectCrossauthRejection(stored("jo"), ErrorCode.UserNotExist);
    expect(await sessionData(sid)).toEqual({});
    await expectCrossauthRejection(
      completeTwoFactorSetup(s.f.ctx, { otp: "000000" }, sid),
      ErrorCode.Unauthorized,
    );
    await expectCrossauthRejection(repeatTwoFactorSignup(s.f.ctx, sid), ErrorCode.Unauthorized);
  });

  it("undoes the user when the email code cannot be sent", async () => {
    s.f.close();
    s.f = makeFlowContext({});
    const sid = await anonymousSession();
    await expectCrossauthRejection(
      initiateTwoFactorSignup(s.f.ctx, { ...jo, factor2: "email" }, pw, sid),
      ErrorCode.Configuration,
    );
    await expectCrossauthRejection(stored("jo"), ErrorCode.UserNotExist);
    expect(await sessionData(sid)).toEqual({});
  });

  it("a session expired meanwhile cannot complete the set-up", async () => {
    useContext({ enableEmailVerification: false, sessionOptions: { idleTimeout: 600 } });
    const sid = await anonymousSession();
    await initiateTwoFactorSignup(s.f.ctx, { ...jo, factor2: "dummy" }, pw, sid);
    s.f.clock.advance(601);
    await expectCrossauthRejection(
      completeTwoFactorSetup(s.f.ctx, { otp: DUMMY_CODE }, sid),
      ErrorCode.Expired,
    );
    expect((await stored("jo")).user.state).toBe(UserState.awaitingTwoFactorSetup);
  });
});

describe("changing the second factor (initiateTwoFactorSetup)", () => {
  /** An active user logged in with a user session; returns the user and the raw session id. */
  async function loggedIn(factor2 = ""): Promise<{ user: User; sid: string }> {
    const { user } = await s.f.createUser({ username: "kim", factor2 });
    const tokens = await login(s.f.ctx, "kim", pw, {}, undefined, user, true);
    return { user, sid: tokens.sessionId as string };
  }

  it("adds TOTP to a user without a second factor once a code is confirmed", async () => {
    const { user, sid } = await loggedIn();
    const userData = await initiateTwoFactorSetup(s.f.ctx, user, "totp", sid);
    expect((await stored("kim")).user.factor2).toBe("");
    expect((await sessionData(sid))["2fa"]).toMatchObject({
      userid: user.id,
      factor2: "totp",
      totpsecret: userData.totpsecret,
    });
    const done = await completeTwoFactorSetup(
      s.f.ctx,
      { otp: await codeNow(userData.totpsecret as string) },
      sid,
    );
    expect(done).toMatchObject({ factor2: "totp", state: UserState.active });
    const { user: after, secrets } = await stored("kim");
    expect(after.factor2).toBe("totp");
    expect(secrets.totpsecret).toBe(userData.totpsecret);
    expect(await keysOf(user.id, KeyPrefix.session)).toHaveLength(1);
  });

  it("changes TOTP to email codes and drops the TOTP secret", async () => {
    const { user, sid } = await loggedIn("totp");
    expect((await stored("kim")).secrets.totpsecret).toBeDefined();
    const userData = await initiateTwoFactorSetup(s.f.ctx, user, "email", sid);
    expect(userData).toEqual({ username: "kim", email: "kim@example.com", factor2: "email" });
    expect((await stored("kim")).user.factor2).toBe("totp");
    const done = await completeTwoFactorSetup(s.f.ctx, { otp: emailedCode(s.smtp.last()) }, sid);
    expect(done.factor2).toBe("email");
    const { user: after, secrets } = await stored("kim");
    expect(after.factor2).toBe("email");
    expect(secrets.totpsecret ?? null).toBeNull();
    expect(secrets.password).toMatch(/^pbkdf2:/);
  });

  it("removes the second factor with null or none", async () => {
    for (const removal of [null, "none"]) {
      const { user, sid } = await loggedIn("totp");
      expect(await initiateTwoFactorSetup(s.f.ctx, user, removal, sid)).toEqual({});
      const { user: after, secrets } = await stored("kim");
      expect(after.factor2).toBe("");
      expect(after.state).toBe(UserState.active);
      expect(secrets.totpsecret ?? null).toBeNull();
      expect((await login(s.f.ctx, "kim", pw)).user?.id).toBe(user.id);
      await s.f.userStorage.deleteUserById(user.id);
    }
  });

  it("refuses a disallowed factor, another user's session and an anonymous session", async () => {
    const { user, sid } = await loggedIn();
    await expectCrossauthRejection(
      initiateTwoFactorSetup(s.f.ctx, user, "localpassword", sid),
      ErrorCode.BadRequest,
    );
    await expectCrossauthRejection(initiateTwoFactorSetup(s.f.ctx, user, "sms", sid), ErrorCode.BadRequest);
    const { user: other } = await s.f.createUser({ username: "lee" });
    await expectCrossauthRejection(
      initiateTwoFactorSetup(s.f.ctx, other, "totp", sid),
      ErrorCode.Unauthorized,
    );
    await expectCrossauthRejection(initiateTwoFactorSetup(s.f.ctx, other, null, sid), ErrorCode.Unauthorized);
    await expectCrossauthRejection(
      initiateTwoFactorSetup(s.f.ctx, user, "totp", await anonymousSession()),
      ErrorCode.Unauthorized,
    );
    expect((await sessionData(sid))["2fa"]).toBeUndefined();
  });

  it("a user in factor2resetneeded sets a new factor up through the anonymous session login gives", async () => {
    const { user } = await s.f.createUser({
      username: "max",
      factor2: "totp",
      state: UserState.factor2ResetNeeded,
    });
    const pending = await login(s.f.ctx, "max", pw);
    expect(pending.pendingChange).toBe("factor2reset");
    const sid = pending.sessionId as string;
    const userData = await initiateTwoFactorSetup(s.f.ctx, user, "totp", sid);
    const done = await completeTwoFactorSetup(
      s.f.ctx,
      { otp: await codeNow(userData.totpsecret as string) },
      sid,
    );
    expect(done.state).toBe(UserState.active);
    const { secrets } = await stored("max");
    expect(secrets.totpsecret).toBe(userData.totpsecret);
  });
});
