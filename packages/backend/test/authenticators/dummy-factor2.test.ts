import { DummyFactor2Authenticator } from "@crossauth/backend";
import { ErrorCode, type Key, type User } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const NOW = 1_700_000_000_000;
const BOB: User = { id: 1, username: "bob", state: "active", factor1: "localpassword", factor2: "dummy" };

function sessionKey(data: Record<string, unknown> | string): Key {
  return {
    value: "s:abc",
    created: new Date(NOW),
    expires: null,
    data: typeof data === "string" ? data : JSON.stringify(data),
  };
}

function withClock(code = "0042") {
  const clock = { now: NOW };
  const auth = new DummyFactor2Authenticator(code, { now: () => clock.now });
  auth.factorName = "dummy";
  return { auth, clock };
}

describe("DummyFactor2Authenticator", () => {
  it("creates the fixed code, valid for 300 seconds", async () => {
    const { auth } = withClock();
    expect(auth.code).toBe("0042");
    expect(await auth.createOneTimeSecrets(BOB)).toEqual({ otp: "0042", expiry: NOW + 300_000 });
  });

  it("logs in with the code until it expires", async () => {
    const { auth, clock } = withClock();
    const secrets = await auth.createOneTimeSecrets(BOB);
    await auth.authenticateUser(BOB, secrets, { otp: "0042" });
    clock.now = NOW + 300_000;
    await auth.authenticateUser(undefined, secrets, { otp: "0042" });
    clock.now = NOW + 300_001;
    await expectCrossauthRejection(auth.authenticateUser(BOB, secrets, { otp: "0042" }), ErrorCode.Expired);
  });

  it("refuses a wrong or missing code with InvalidToken", async () => {
    const { auth, clock } = withClock();
    const secrets = await auth.createOneTimeSecrets(BOB);
    for (const otp of ["0043", "042", "00420", "", undefined]) {
      await expectCrossauthRejection(auth.authenticateUser(BOB, secrets, { otp }), ErrorCode.InvalidToken);
    }
    await expectCrossauthRejection(auth.authenticateUser(BOB, {}, { otp: "0042" }), ErrorCode.InvalidToken);
    clock.now = NOW + 400_000;
    // A wrong code stays InvalidToken after the expiry.
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, secrets, { otp: "0043" }),
      ErrorCode.InvalidToken,
    );
  });

  it("refuses a right code without an expiry with Expired", async () => {
    const { auth } = withClock();
    await expectCrossauthRejection(
      auth.authenticateUser(BOB, { otp: "0042" }, { otp: "0042" }),
      ErrorCode.Expired,
    );
  });

  it("prepares the configuration with user and session data", async () => {
    const { auth } = withClock();
    expect(await auth.prepareConfiguration(BOB)).toEqual({
      userData: { username: "bob", factor2: "dummy" },
      sessionData: { username: "bob", factor2: "dummy", otp: "0042", expiry: NOW + 300_000 },
    });
    const noFactor2 = await auth.prepareConfiguration({
      username: "ann",
      state: "active",
      factor1: "localpassword",
    });
    expect(noFactor2?.userData).toEqual({ username: "ann", factor2: "dummy" });
  });

  it("reprepares from the 2fa session data with a new expiry", async () => {
    const { auth, clock } = withClock();
    const prepared = await auth.prepareConfiguration(BOB);
    clock.now = NOW + 1000;
    const key = sessionKey({ csrf: "x", "2fa": { ...prepared?.sessionData, extra: 1 } });
    expect(await auth.reprepareConfiguration("bob", key)).toEqual({
      userData: { username: "bob", factor2: "dummy" },
      secrets: { otp: "0042", expiry: NOW + 301_000 },
      newSessionData: { username: "bob", factor2: "dummy", otp: "0042", expiry: NOW + 301_000, extra: 1 },
    });
  });

  it("has nothing to reprepare without 2fa session data", async () => {
    const { auth } = withClock();
    expect(await auth.reprepareConfiguration("bob", sessionKey({}))).toBeUndefined();
    expect(await auth.reprepareConfiguration("bob", sessionKey({ "2fa": "text" }))).toBeUndefined();
    expect(await auth.reprepareConfiguration("bob", { ...sessionKey({}), data: undefined })).toBeUndefined();
    await expectCrossauthRejection(
      auth.reprepareConfiguration("bob", sessionKey("not json")),
      ErrorCode.DataFormat,
    );
  });

  it("describes the factor as in the reference", async () => {
    const { auth } = withClock();
    expect(auth.capabilities()).toEqual({
      canCreateUser: false,
      canUpdateSecrets: false,
      canUpdateUser: false,
    });
    expect(auth.secretNames()).toEqual([]);
    expect(auth.transientSecretNames()).toEqual(["otp"]);
    expect(auth.validateSecrets({ otp: "1" })).toEqual([]);
    expect(auth.skipEmailVerificationOnSignup()).toBe(false);
    expect(auth.mfaType()).toBe("oob");
    expect(auth.mfaChannel()).toBe("email");
    expect(await auth.createPersistentSecrets("alice", {})).toEqual({});
    expect(auth.friendlyName).toBe("Dummy code");
    expect(new DummyFactor2Authenticator("1", { friendlyName: "Test code" }).friendlyName).toBe("Test code");
  });

  it("uses the real clock by default", async () => {
    const auth = new DummyFactor2Authenticator("0042");
    const before = Date.now();
    const secrets = await auth.createOneTimeSecrets(BOB);
    expect(secrets.expiry).toBeGreaterThanOrEqual(before + 300_000);
    expect(secrets.expiry).toBeLessThanOrEqual(Date.now() + 300_000);
    await auth.authenticateUser(BOB, secrets, { otp: "0042" });
  });
});
