/**
 * Password flows end to end on in-memory storages with a real SMTP listener: changing a password
 * (logged in and forced), and password reset by emailed link — unknown addresses, single use under
 * concurrency, expiry and the sessions a reset ends.
 */
import { ErrorCode, KeyPrefix, type User, UserState } from "@crossauth/common";
import { beforeEach, describe, expect, it } from "vitest";
import { hash } from "../../src/index.js";
import { login } from "../../src/session/flows/login.js";
import {
  changeSecrets,
  requestPasswordReset,
  resetSecret,
  stateAfterSecretSet,
  userForPasswordResetToken,
} from "../../src/session/flows/secrets.js";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { emailedToken, mailsTo, makeFlowContext, TEST_PASSWORD, useFlowSuite } from "./flow-context.js";

const NEW_PASSWORD = "Battery-Staple-7";
const pw = { password: TEST_PASSWORD };
const newPw = { password: NEW_PASSWORD };

const s = useFlowSuite();
beforeEach(() => {
  s.smtp.messages.length = 0;
  s.neverLogged(NEW_PASSWORD, "Other-Pass-42", "Wrong-Pass-1");
});

/** The stored user and secrets, whatever the state. */
function stored(username: string) {
  return s.f.userStorage.getUserByUsername(username, { skipActiveCheck: true, skipEmailVerifiedCheck: true });
}

/** The user's keys with a prefix. */
async function keysOf(userid: string | number, prefix: string) {
  return (await s.f.keyStorage.getAllForUser(userid)).filter((k) => k.value.startsWith(prefix));
}

/** Logs a user in (no 2FA) and returns the raw session id. */
async function sessionOf(username: string, password = TEST_PASSWORD): Promise<string> {
  return (await login(s.f.ctx, username, { password })).sessionId as string;
}

/** Requests a reset for the address, waits for the email and returns the token of its link. */
async function resetToken(email: string): Promise<string> {
  await requestPasswordReset(s.f.ctx, email);
  await s.f.whenIdle();
  const mails = mailsTo(s.smtp, email);
  const last = mails[mails.length - 1];
  if (!last) throw new Error(`No email to ${email}`);
  const token = emailedToken(last, "resetpassword");
  s.neverLogged(token);
  return token;
}

describe("stateAfterSecretSet", () => {
  it("moves only the states the new secret satisfies", () => {
    expect(stateAfterSecretSet(UserState.passwordChangeNeeded, 1)).toBe(UserState.active);
    expect(stateAfterSecretSet(UserState.passwordResetNeeded, 1)).toBe(UserState.active);
    expect(stateAfterSecretSet(UserState.passwordAndFactor2ResetNeeded, 1)).toBe(
      UserState.factor2ResetNeeded,
    );
    expect(stateAfterSecretSet(UserState.factor2ResetNeeded, 1)).toBe(UserState.factor2ResetNeeded);
    expect(stateAfterSecretSet(UserState.disabled, 1)).toBe(UserState.disabled);
    expect(stateAfterSecretSet(UserState.awaitingEmailVerification, 1)).toBe(
      UserState.awaitingEmailVerification,
    );
    expect(stateAfterSecretSet(UserState.factor2ResetNeeded, 2)).toBe(UserState.active);
    expect(stateAfterSecretSet(UserState.passwordAndFactor2ResetNeeded, 2)).toBe(
      UserState.passwordResetNeeded,
    );
    expect(stateAfterSecretSet(UserState.awaitingTwoFactorSetup, 2)).toBe(UserState.active);
    expect(stateAfterSecretSet(UserState.awaitingTwoFactorSetupAndEmailVerification, 2)).toBe(
      UserState.awaitingEmailVerification,
    );
    expect(stateAfterSecretSet(UserState.passwordChangeNeeded, 2)).toBe(UserState.passwordChangeNeeded);
    expect(stateAfterSecretSet("custom", 2)).toBe("custom");
  });
});

describe("changeSecrets", () => {
  let user: User;
  beforeEach(async () => {
    ({ user } = await s.f.createUser({ username: "alice" }));
  });

  it("checks the old password and the new one before changing anything", async () => {
    const before = (await stored("alice")).secrets.password;
    await expectCrossauthRejection(
      changeSecrets(s.f.ctx, "alice", 1, newPw, newPw, { password: "Wrong-Pass-1" }),
      ErrorCode.PasswordInvalid,
    );
    await expectCrossauthRejection(
      changeSecrets(s.f.ctx, "alice", 1, newPw, { password: "Battery-Staple-8" }, pw),
      ErrorCode.PasswordMatch,
    );
    await expectCrossauthRejection(
      changeSecrets(s.f.ctx, "alice", 1, { password: "nodigits" }, undefined, pw),
      ErrorCode.PasswordFormat,
    );
    await expectCrossauthRejection(changeSecrets(s.f.ctx, "alice", 2, newPw), ErrorCode.BadRequest);
    await expectCrossauthRejection(changeSecrets(s.f.ctx, "alice", 3 as 1, newPw), ErrorCode.BadRequest);
    await expectCrossauthRejection(changeSecrets(s.f.ctx, "nobody", 1, newPw), ErrorCode.UserNotExist);
    expect((await stored("alice")).secrets.password).toBe(before);
  });

  it("sets the new password, keeps the current session, ends the others and deletes reset tokens", async () => {
    const current = await sessionOf("alice");
    const other = await sessionOf("alice");
    const { user: bob } = await s.f.createUser({ username: "bob" });
    const bobSession = await sessionOf("bob");
    await s.f.tokenEmailer.createAndSavePasswordResetToken(user.id);
    await s.f.tokenEmailer.createAndSavePasswordResetToken(bob.id);

    const changed = await changeSecrets(s.f.ctx, "alice", 1, newPw, newPw, pw, current);
    expect(changed).toMatchObject({ id: user.id, state: UserState.active });
    const sessions = await keysOf(user.id, KeyPrefix.session);
    expect(sessions.map((k) => k.value)).toEqual([`${KeyPrefix.session}${hash(current)}`]);
    await expectCrossauthRejection(s.f.ctx.session.getSessionKey(other), ErrorCode.InvalidSession);
    expect(await keysOf(user.id, KeyPrefix.passwordResetToken)).toEqual([]);
    expect(await keysOf(bob.id, KeyPrefix.passwordResetToken)).toHaveLength(1);
    expect((await s.f.ctx.session.getSessionKey(bobSession)).userid).toBe(bob.id);

    await expectCrossauthRejection(login(s.f.ctx, "alice", pw), ErrorCode.UsernameOrPasswordInvalid);
    expect((await login(s.f.ctx, "alice", newPw)).user?.id).toBe(user.id);
  });

  it("without keepSessionId ends every session of the user", async () => {
    await sessionOf("alice");
    await changeSecrets(s.f.ctx, "alice", 1, newPw);
    expect(await keysOf(user.id, KeyPrefix.session)).toEqual([]);
  });

  it("refuses factors whose secrets cannot be changed", async () => {
    await s.f.createUser({ username: "carol", factor2: "totp" });
    await expectCrossauthRejection(changeSecrets(s.f.ctx, "carol", 2, {}), ErrorCode.BadRequest);
  });
});

describe("forced password change", () => {
  it("passwordchangeneeded: login gives only an anonymous session; changing the password activates", async () => {
    const { user } = await s.f.createUser({ username: "dave", state: UserState.passwordChangeNeeded });
    const pending = await login(s.f.ctx, "dave", pw);
    expect(pending.pendingChange).toBe("passwordchange");
    expect(pending.user).toBeUndefined();
    expect(await keysOf(user.id, KeyPrefix.session)).toEqual([]);
    const anon = await s.f.ctx.session.getSessionKey(pending.sessionId as string);
    expect(anon.userid ?? null).toBeNull();
    expect(JSON.parse(anon.data ?? "{}")).toEqual({ passwordchange: { userid: user.id, username: "dave" } });

    await expectCrossauthRejection(
      changeSecrets(s.f.ctx, "dave", 1, newPw, newPw, { password: "Wrong-Pass-1" }),
      ErrorCode.PasswordInvalid,
    );
    expect((await stored("dave")).user.state).toBe(UserState.passwordChangeNeeded);
    const changed = await changeSecrets(s.f.ctx, "dave", 1, newPw, newPw, pw);
    expect(changed.state).toBe(UserState.active);
    expect((await stored("dave")).user.state).toBe(UserState.active);
    const tokens = await login(s.f.ctx, "dave", newPw);
    expect(tokens.user?.id).toBe(user.id);
    expect(await keysOf(user.id, KeyPrefix.session)).toHaveLength(1);
  });
});

describe("password reset", () => {
  let user: User;
  beforeEach(async () => {
    ({ user } = await s.f.createUser({ username: "erin" }));
  });

  it("request → email → token → new password; every session of the user ends", async () => {
    const s1 = await sessionOf("erin");
    await sessionOf("erin");
    const { user: other } = await s.f.createUser({ username: "fay" });
    const otherSession = await sessionOf("fay");

    await requestPasswordReset(s.f.ctx, "erin@example.com");
    expect(s.smtp.messages).toHaveLength(0);
    await s.f.whenIdle();
    const mails = mailsTo(s.smtp, "erin@example.com");
    expect(mails).toHaveLength(1);
    expect(mails[0]?.parsed.subject).toBe("Password reset");
    const token = emailedToken(mails[0] as (typeof mails)[0], "resetpassword");
    s.neverLogged(token);
    expect((await s.f.keyStorage.getKey(KeyPrefix.passwordResetToken + hash(token))).userid).toBe(user.id);

    expect((await userForPasswordResetToken(s.f.ctx, token)).id).toBe(user.id);
    const reset = await resetSecret(s.f.ctx, token, 1, newPw, newPw);
    expect(reset).toMatchObject({ id: user.id, username: "erin", state: UserState.active });
    expect(await keysOf(user.id, KeyPrefix.session)).toEqual([]);
    await expectCrossauthRejection(s.f.ctx.session.getSessionKey(s1), ErrorCode.InvalidSession);
    expect((await s.f.ctx.session.getSessionKey(otherSession)).userid).toBe(other.id);
    await expectCrossauthRejection(login(s.f.ctx, "erin", pw), ErrorCode.UsernameOrPasswordInvalid);
    expect((await login(s.f.ctx, "erin", newPw)).user?.id).toBe(user.id);
    expect(s.f.backgroundErrors).toEqual([]);
  });

  it("an unknown address gets the same result and nothing is sent or stored", async () => {
    const known = await requestPasswordReset(s.f.ctx, "erin@example.com");
    const unknown = await requestPasswordReset(s.f.ctx, "nobody@example.com");
    expect(unknown).toEqual(known);
    await s.f.whenIdle();
    expect(s.smtp.messages.map((m) => m.envelopeTo)).toEqual([["erin@example.com"]]);
    expect(s.f.backgroundErrors).toEqual([]);
    const resetKeys = (await s.f.keyStorage.getAllForUser(user.id)).filter((k) => k.value.startsWith("p:"));
    expect(resetKeys).toHaveLength(1);
    expect(s.logs.text()).toContain(hash("nobody@example.com"));
    expect(s.logs.text()).not.toContain("nobody@example.com");
  });

  it("disabled users and users awaiting verification get nothing", async () => {
    await s.f.createUser({ username: "gus", state: UserState.disabled });
    await s.f.createUser({ username: "hana", state: UserState.awaitingEmailVerification });
    await requestPasswordReset(s.f.ctx, "gus@example.com");
    await requestPasswordReset(s.f.ctx, "hana@example.com");
    await s.f.whenIdle();
    expect(s.smtp.messages).toHaveLength(0);
    expect(s.f.backgroundErrors).toEqual([]);
  });

  it("a malformed address is InvalidEmail; a disabled feature is Configuration", async () => {
    await expectCrossauthRejection(requestPasswordReset(s.f.ctx, "not an address"), ErrorCode.InvalidEmail);
    s.f.close();
    s.f = makeFlowContext({ smtpPort: s.smtp.port, enablePasswordReset: false });
    await expectCrossauthRejection(
      requestPasswordReset(s.f.ctx, "erin@example.com"),
      ErrorCode.Configuration,
    );
    await expectCrossauthRejection(resetSecret(s.f.ctx, "token", 1, newPw), ErrorCode.Configuration);
    await expectCrossauthRejection(userForPasswordResetToken(s.f.ctx, "token"), ErrorCode.Configuration);
  });

  it("a token works once", async () => {
    const token = await resetToken("erin@example.com");
    await resetSecret(s.f.ctx, token, 1, newPw);
    await expectCrossauthRejection(resetSecret(s.f.ctx, token, 1, pw), ErrorCode.InvalidKey);
    await expectCrossauthRejection(userForPasswordResetToken(s.f.ctx, token), ErrorCode.InvalidKey);
    expect((await login(s.f.ctx, "erin", newPw)).user?.id).toBe(user.id);
  });

  it("of two concurrent uses of one token exactly one succeeds", async () => {
    const token = await resetToken("erin@example.com");
    const results = await Promise.allSettled([
      resetSecret(s.f.ctx, token, 1, newPw),
      resetSecret(s.f.ctx, token, 1, { password: "Other-Pass-42" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(failed.reason).toMatchObject({ code: ErrorCode.InvalidKey });
    expect(await keysOf(user.id, KeyPrefix.passwordResetToken)).toEqual([]);
  });

  it("an expired token is Expired and leaves the password alone", async () => {
    const token = await resetToken("erin@example.com");
    s.f.clock.advance(86400 + 1);
    await expectCrossauthRejection(userForPasswordResetToken(s.f.ctx, token), ErrorCode.Expired);
    await expectCrossauthRejection(resetSecret(s.f.ctx, token, 1, newPw), ErrorCode.Expired);
    await expectCrossauthRejection(resetSecret(s.f.ctx, token, 1, newPw), ErrorCode.Expired);
    expect((await login(s.f.ctx, "erin", pw)).user?.id).toBe(user.id);
  });

  it("an unacceptable new password does not spend the token; other reset tokens go with the used one", async () => {
    const first = await resetToken("erin@example.com");
    const second = await resetToken("erin@example.com");
    await expectCrossauthRejection(resetSecret(s.f.ctx, second, 1, newPw, pw), ErrorCode.PasswordMatch);
    await expectCrossauthRejection(
      resetSecret(s.f.ctx, second, 1, { password: "short" }),
      ErrorCode.PasswordFormat,
    );
    await resetSecret(s.f.ctx, second, 1, newPw, newPw);
    await expectCrossauthRejection(resetSecret(s.f.ctx, first, 1, pw), ErrorCode.InvalidKey);
    await expectCrossauthRejection(resetSecret(s.f.ctx, "made-up-token", 1, pw), ErrorCode.InvalidKey);
  });

  it("moves reset states: passwordresetneeded → active, passwordandfactor2resetneeded → factor2resetneeded", async () => {
    await s.f.createUser({ username: "ivan", state: UserState.passwordResetNeeded });
    await s.f.createUser({
      username: "jade",
      factor2: "totp",
      state: UserState.passwordAndFactor2ResetNeeded,
    });
    expect((await resetSecret(s.f.ctx, await resetToken("ivan@example.com"), 1, newPw)).state).toBe(
      UserState.active,
    );
    expect((await stored("ivan")).user.state).toBe(UserState.active);
    expect((await resetSecret(s.f.ctx, await resetToken("jade@example.com"), 1, newPw)).state).toBe(
      UserState.factor2ResetNeeded,
    );
    expect((await stored("jade")).user.state).toBe(UserState.factor2ResetNeeded);
    expect((await login(s.f.ctx, "jade", newPw)).pendingChange).toBe("factor2reset");
  });

  it("a user disabled after the email cannot use the token", async () => {
    const token = await resetToken("erin@example.com");
    await s.f.userStorage.updateUser({ id: user.id, state: UserState.disabled });
    await expectCrossauthRejection(userForPasswordResetToken(s.f.ctx, token), ErrorCode.UserNotActive);
    await expectCrossauthRejection(resetSecret(s.f.ctx, token, 1, newPw), ErrorCode.UserNotActive);
    expect(await keysOf(user.id, KeyPrefix.passwordResetToken)).toHaveLength(1);
  });
});
