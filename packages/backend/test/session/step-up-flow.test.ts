/** Step-up 2FA on a page visit, and the shared second-factor secrets logic. */
import { ErrorCode, type User } from "@crossauth/common";
import { beforeEach, describe, expect, it } from "vitest";
import { KeyStorage, SessionCookie, sessionDataKey, symmetricDecrypt, totpCode } from "../../src/index.js";
import { factor2Secrets, hasSecondFactor, sameUserId } from "../../src/session/flows/factor2-secrets.js";
import { createAnonymousSession, startSession } from "../../src/session/flows/login.js";
import {
  cancelTwoFactorPageVisit,
  completeTwoFactorPageVisit,
  initiateTwoFactorPageVisit,
} from "../../src/session/flows/step-up.js";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { DUMMY_CODE, emailedCode, secretsOfTokens, T0, TEST_SECRET, useFlowSuite } from "./flow-context.js";

const s = useFlowSuite();
beforeEach(() => {
  s.neverLogged(DUMMY_CODE, "S3cret-New-1");
});

const BODY = { new_password: "S3cret-New-1", repeat_password: "S3cret-New-1" };
const URL = "/api/changepassword?x=1";
const TYPE = "application/json";

/** A logged-in user with a second factor, and their raw session id. */
async function loggedIn(factor2: string): Promise<{ user: User; sessionId: string }> {
  const { user } = await s.f.createUser({ username: "alice", factor2 });
  const tokens = await startSession(s.f.ctx, user.id);
  s.neverLogged(...secretsOfTokens(tokens));
  return { user, sessionId: tokens.sessionId as string };
}

async function sessionData(sessionId: string): Promise<Record<string, unknown>> {
  return KeyStorage.decodeData((await s.f.keyStorage.getKey(SessionCookie.hashSessionId(sessionId))).data);
}

describe("step-up two-factor authentication", () => {
  it("saves the request with the one-time secret, and returns it once the code is right", async () => {
    const { user, sessionId } = await loggedIn("dummy");
    expect(await initiateTwoFactorPageVisit(s.f.ctx, user, sessionId, BODY, URL, TYPE)).toBeUndefined();
    expect(await sessionData(sessionId)).toEqual({
      pre2fa: {
        userid: user.id,
        username: "alice",
        factor2: "dummy",
        otp: DUMMY_CODE,
        expiry: T0 + 300_000,
        body: expect.stringMatching(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/),
        url: URL,
        contentType: TYPE,
      },
    });
    // The held body is sealed at rest (it may hold passwords) and opens with the session-data key.
    const sealed = (await sessionData(sessionId)).pre2fa as { body: string };
    expect(JSON.parse(symmetricDecrypt(sealed.body, sessionDataKey(TEST_SECRET)))).toEqual(BODY);
    await expectCrossauthRejection(
      completeTwoFactorPageVisit(s.f.ctx, { otp: "9999" }, sessionId),
      ErrorCode.InvalidToken,
    );
    expect((await sessionData(sessionId)).pre2fa).toBeDefined();
    const saved = await completeTwoFactorPageVisit(s.f.ctx, { otp: DUMMY_CODE }, sessionId);
    expect(saved).toEqual({ body: BODY, url: URL, contentType: TYPE });
    expect(await sessionData(sessionId)).toEqual({});
    await expectCrossauthRejection(
      completeTwoFactorPageVisit(s.f.ctx, { otp: DUMMY_CODE }, sessionId),
      ErrorCode.Unauthorized,
    );
  });

  it("keeps other session data and omits an absent URL and content type", async () => {
    const { user, sessionId } = await loggedIn("dummy");
    await s.f.keyStorage.updateData(SessionCookie.hashSessionId(sessionId), "oauth", { state: "s" });
    await initiateTwoFactorPageVisit(s.f.ctx, user, sessionId, { a: 1 });
    expect(await completeTwoFactorPageVisit(s.f.ctx, { otp: DUMMY_CODE }, sessionId)).toEqual({
      body: { a: 1 },
    });
    expect(await sessionData(sessionId)).toEqual({ oauth: { state: "s" } });
  });

  it("with the email factor: the code from the real SMTP message", async () => {
    const { user, sessionId } = await loggedIn("email");
    const before = s.smtp.messages.length;
    await initiateTwoFactorPageVisit(s.f.ctx, user, sessionId, BODY, URL, TYPE);
    expect(s.smtp.messages.length).toBe(before + 1);
    const code = emailedCode(s.smtp.last());
    s.neverLogged(code);
    const wrong = code === "123456" ? "654321" : "123456";
    await expectCrossauthRejection(
      completeTwoFactorPageVisit(s.f.ctx, { otp: wrong }, sessionId),
      ErrorCode.InvalidToken,
    );
    expect(await completeTwoFactorPageVisit(s.f.ctx, { otp: code }, sessionId)).toEqual({
      body: BODY,
      url: URL,
      contentType: TYPE,
    });
  });

  it("with TOTP: checked against the stored secret, never one from session data", async () => {
    const { user, sessionId } = await loggedIn("totp");
    await initiateTwoFactorPageVisit(s.f.ctx, user, sessionId, BODY, URL, TYPE);
    const pre2fa = (await sessionData(sessionId)).pre2fa as Record<string, unknown>;
    expect(pre2fa.totpsecret).toBeUndefined();
    const { secrets: stored } = await s.f.userStorage.getUserById(user.id);
    const forged = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    await s.f.keyStorage.updateData(SessionCookie.hashSessionId(sessionId), "pre2fa.totpsecret", forged);
    const forgedCode = await totpCode(forged, s.f.clock.nowMs());
    const code = await totpCode(stored.totpsecret as string, s.f.clock.nowMs());
    s.neverLogged(code, forgedCode, stored.totpsecret as string, forged);
    await expectCrossauthRejection(
      completeTwoFactorPageVisit(s.f.ctx, { otp: forgedCode }, sessionId),
      ErrorCode.InvalidToken,
    );
    expect((await completeTwoFactorPageVisit(s.f.ctx, { otp: code }, sessionId)).body).toEqual(BODY);
  });

  it("refuses an expired code and keeps the held request", async () => {
    const { user, sessionId } = await loggedIn("dummy");
    await initiateTwoFactorPageVisit(s.f.ctx, user, sessionId, BODY, URL, TYPE);
    s.f.clock.advance(301);
    await expectCrossauthRejection(
      completeTwoFactorPageVisit(s.f.ctx, { otp: DUMMY_CODE }, sessionId),
      ErrorCode.Expired,
    );
    expect((await sessionData(sessionId)).pre2fa).toBeDefined();
  });

  it("cancel returns the held request without its secrets and removes it", async () => {
    const { user, sessionId } = await loggedIn("dummy");
    await initiateTwoFactorPageVisit(s.f.ctx, user, sessionId, BODY, URL, TYPE);
    expect(await cancelTwoFactorPageVisit(s.f.ctx, sessionId)).toEqual({
      body: BODY,
      url: URL,
      contentType: TYPE,
    });
    expect(await sessionData(sessionId)).toEqual({});
    await expectCrossauthRejection(cancelTwoFactorPageVisit(s.f.ctx, sessionId), ErrorCode.Unauthorized);
    await expectCrossauthRejection(
      completeTwoFactorPageVisit(s.f.ctx, { otp: DUMMY_CODE }, sessionId),
      ErrorCode.Unauthorized,
    );
  });

  it("is Unauthorized without pre2fa, and for a session that is not the user's", async () => {
    const { user, sessionId } = await loggedIn("dummy");
    await expectCrossauthRejection(
      completeTwoFactorPageVisit(s.f.ctx, { otp: DUMMY_CODE }, sessionId),
      ErrorCode.Unauthorized,
    );
    await expectCrossauthRejection(cancelTwoFactorPageVisit(s.f.ctx, sessionId), ErrorCode.Unauthorized);
    const anonymous = await createAnonymousSession(s.f.ctx);
    s.neverLogged(...secretsOfTokens(anonymous));
    await expectCrossauthRejection(
      initiateTwoFactorPageVisit(s.f.ctx, user, anonymous.sessionId as string, BODY),
      ErrorCode.Unauthorized,
    );
    const { user: bob } = await s.f.createUser({ username: "bob", factor2: "dummy" });
    await expectCrossauthRejection(
      initiateTwoFactorPageVisit(s.f.ctx, bob, sessionId, BODY),
      ErrorCode.Unauthorized,
    );
    await s.f.keyStorage.updateData(SessionCookie.hashSessionId(anonymous.sessionId as string), "pre2fa", {
      userid: user.id,
      factor2: "dummy",
      otp: DUMMY_CODE,
      expiry: T0 + 300_000,
      body: {},
    });
    await expectCrossauthRejection(
      completeTwoFactorPageVisit(s.f.ctx, { otp: DUMMY_CODE }, anonymous.sessionId as string),
      ErrorCode.Unauthorized,
    );
    await expectCrossauthRejection(
      initiateTwoFactorPageVisit(s.f.ctx, user, "no-such-session", BODY),
      ErrorCode.InvalidSession,
    );
  });

  it("needs a registered second factor, and the same one at completion", async () => {
    const { user, sessionId } = await loggedIn("dummy");
    await expectCrossauthRejection(
      initiateTwoFactorPageVisit(s.f.ctx, { ...user, factor2: "" }, sessionId, BODY),
      ErrorCode.BadRequest,
    );
    await expectCrossauthRejection(
      initiateTwoFactorPageVisit(s.f.ctx, { ...user, factor2: "sms" }, sessionId, BODY),
      ErrorCode.Configuration,
    );
    await initiateTwoFactorPageVisit(s.f.ctx, user, sessionId, BODY);
    await s.f.userStorage.updateUser({ id: user.id, factor2: "email" });
    await expectCrossauthRejection(
      completeTwoFactorPageVisit(s.f.ctx, { otp: DUMMY_CODE }, sessionId),
      ErrorCode.Unauthorized,
    );
  });
});

describe("second-factor secrets", () => {
  it("takes persistent secrets from storage for login and from the session for set-up", async () => {
    const { user, secrets: stored } = await s.f.createUser({ username: "alice", factor2: "totp" });
    const data = { userid: user.id, totpsecret: "FROMSESSION", otp: "1" };
    expect(await factor2Secrets(s.f.ctx, s.f.totpAuthenticator, user.id, data, "storage")).toEqual({
      userid: user.id,
      otp: "1",
      totpsecret: stored.totpsecret,
    });
    expect(await factor2Secrets(s.f.ctx, s.f.totpAuthenticator, undefined, data, "session")).toEqual(data);
    expect(
      await factor2Secrets(s.f.ctx, s.f.dummyAuthenticator, undefined, { otp: "1", expiry: 2 }, "storage"),
    ).toEqual({ otp: "1", expiry: 2 });
    await expectCrossauthRejection(
      factor2Secrets(s.f.ctx, s.f.totpAuthenticator, undefined, data, "storage"),
      ErrorCode.BadRequest,
    );
    await expectCrossauthRejection(
      factor2Secrets(s.f.ctx, s.f.totpAuthenticator, 999, data, "storage"),
      ErrorCode.UserNotExist,
    );
    s.neverLogged(stored.totpsecret as string);
  });

  it("hasSecondFactor and sameUserId", () => {
    expect(hasSecondFactor({ factor2: "totp" })).toBe(true);
    expect(hasSecondFactor({ factor2: "" })).toBe(false);
    expect(hasSecondFactor({ factor2: "none" })).toBe(false);
    expect(hasSecondFactor({})).toBe(false);
    expect(sameUserId(1, "1")).toBe(true);
    expect(sameUserId(1, 2)).toBe(false);
    expect(sameUserId(null, null)).toBe(false);
    expect(sameUserId(undefined, 1)).toBe(false);
  });
});
