/**
 * Account flows end to end on in-memory storages with a real SMTP listener: applying verification
 * tokens (single use, expiry, states), updating a user (email change effective only after
 * verification, editable fields, admin state changes) and deleting a user with everything it owns.
 */
import { ErrorCode, KeyPrefix, type User, UserState } from "@crossauth/common";
import { beforeEach, describe, expect, it } from "vitest";
import { ApiKeyManager } from "../../src/index.js";
import {
  applyEmailVerificationToken,
  deleteUserByUsername,
  updateUser,
} from "../../src/session/flows/account.js";
import { login } from "../../src/session/flows/login.js";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import {
  emailedToken,
  type FlowContextOptions,
  mailsTo,
  makeFlowContext,
  TEST_PASSWORD,
  TEST_SECRET,
  useFlowSuite,
} from "./flow-context.js";

const pw = { password: TEST_PASSWORD };
const editable: FlowContextOptions = {
  userStorageOptions: { userEditableFields: ["email", "nickname"], adminEditableFields: ["username"] },
};

const s = useFlowSuite(editable);
beforeEach(() => {
  s.smtp.messages.length = 0;
});

/** Replaces the fixture with one built with these options. */
function useContext(options: FlowContextOptions): void {
  s.f.close();
  s.f = makeFlowContext({ smtpPort: s.smtp.port, ...editable, ...options });
}

/** The stored user, whatever the state. */
async function stored(username: string): Promise<User> {
  return (
    await s.f.userStorage.getUserByUsername(username, { skipActiveCheck: true, skipEmailVerifiedCheck: true })
  ).user;
}

/** The user's keys with a prefix. */
async function keysOf(userid: string | number, prefix: string) {
  return (await s.f.keyStorage.getAllForUser(userid)).filter((k) => k.value.startsWith(prefix));
}

/** The token of the last link emailed to an address. */
function lastToken(address: string, path: "verifyemail" | "resetpassword"): string {
  const mails = mailsTo(s.smtp, address);
  const last = mails[mails.length - 1];
  if (!last) throw new Error(`No email to ${address}`);
  const token = emailedToken(last, path);
  s.neverLogged(token);
  return token;
}

describe("applyEmailVerificationToken", () => {
  it("activates a user awaiting verification, once", async () => {
    const { user } = await s.f.createUser({ username: "alice", state: UserState.awaitingEmailVerification });
    await s.f.tokenEmailer.sendEmailVerificationToken(user.id);
    const token = lastToken("alice@example.com", "verifyemail");
    const verified = await applyEmailVerificationToken(s.f.ctx, token);
    expect(verified).toMatchObject({ id: user.id, state: UserState.active, email: "alice@example.com" });
    expect((await stored("alice")).state).toBe(UserState.active);
    await expectCrossauthRejection(applyEmailVerificationToken(s.f.ctx, token), ErrorCode.InvalidKey);
    await expectCrossauthRejection(applyEmailVerificationToken(s.f.ctx, "made-up"), ErrorCode.InvalidKey);
  });

  it("of two concurrent uses exactly one succeeds", async () => {
    const { user } = await s.f.createUser({ username: "bob", state: UserState.awaitingEmailVerification });
    const token = await s.f.tokenEmailer.createAndSaveEmailVerificationToken(user.id);
    const results = await Promise.allSettled([
      applyEmailVerificationToken(s.f.ctx, token),
      applyEmailVerificationToken(s.f.ctx, token),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason).toMatchObject({
      code: ErrorCode.InvalidKey,
    });
  });

  it("an expired token is Expired, is gone afterwards and changes nothing", async () => {
    const { user } = await s.f.createUser({ username: "carol", state: UserState.awaitingEmailVerification });
    const token = await s.f.tokenEmailer.createAndSaveEmailVerificationToken(user.id);
    s.f.clock.advance(86400 + 1);
    await expectCrossauthRejection(applyEmailVerificationToken(s.f.ctx, token), ErrorCode.Expired);
    await expectCrossauthRejection(applyEmailVerificationToken(s.f.ctx, token), ErrorCode.InvalidKey);
    expect((await stored("carol")).state).toBe(UserState.awaitingEmailVerification);
  });

  it("changes the state only from the two states awaiting verification", async () => {
    const cases: [string, string][] = [
      [UserState.awaitingEmailVerification, UserState.active],
      [UserState.awaitingTwoFactorSetupAndEmailVerification, UserState.awaitingTwoFactorSetup],
      [UserState.awaitingTwoFactorSetup, UserState.awaitingTwoFactorSetup],
      [UserState.disabled, UserState.disabled],
      [UserState.passwordChangeNeeded, UserState.passwordChangeNeeded],
      [UserState.active, UserState.active],
    ];
    for (const [index, [from, to]] of cases.entries()) {
      const { user } = await s.f.createUser({ username: `user${index}`, state: from });
      const token = await s.f.tokenEmailer.createAndSaveEmailVerificationToken(user.id);
      expect((await applyEmailVerificationToken(s.f.ctx, token)).state).toBe(to);
      expect((await stored(`user${index}`)).state).toBe(to);
    }
  });

  it("a token for a deleted user does not work", async () => {
    const { user } = await s.f.createUser({ username: "dan", state: UserState.awaitingEmailVerification });
    const token = await s.f.tokenEmailer.createAndSaveEmailVerificationToken(user.id);
    await deleteUserByUsername(s.f.ctx, "dan");
    await expectCrossauthRejection(applyEmailVerificationToken(s.f.ctx, token), ErrorCode.InvalidKey);
  });
});

describe("updateUser", () => {
  let user: User;
  beforeEach(async () => {
    ({ user } = await s.f.createUser({ username: "erin" }));
  });

  it("a new email takes effect only once the link sent to it is followed", async () => {
    const sent = await updateUser(s.f.ctx, user, { ...user, email: "erin.new@example.com" });
    expect(sent).toEqual({ emailVerificationTokenSent: true, passwordResetTokenSent: false });
    expect((await stored("erin")).email).toBe("erin@example.com");
    expect(mailsTo(s.smtp, "erin@example.com")).toHaveLength(0);
    const token = lastToken("erin.new@example.com", "verifyemail");
    const verified = await applyEmailVerificationToken(s.f.ctx, token);
    expect(verified).toMatchObject({ email: "erin.new@example.com", state: UserState.active });
    const after = await stored("erin");
    expect(after.email).toBe("erin.new@example.com");
    expect(after.email_normalized).toBe("erin.new@example.com");
    expect((await s.f.userStorage.getUserByEmail("erin.new@example.com")).user.id).toBe(user.id);
    await expectCrossauthRejection(applyEmailVerificationToken(s.f.ctx, token), ErrorCode.InvalidKey);
  });

  it("without verification (skipped or disabled) a new email is stored at once", async () => {
    let sent = await updateUser(s.f.ctx, user, { email: "erin2@example.com" }, true);
    expect(sent).toEqual({ emailVerificationTokenSent: false, passwordResetTokenSent: false });
    expect((await stored("erin")).email).toBe("erin2@example.com");
    useContext({ enableEmailVerification: false });
    const { user: fay } = await s.f.createUser({ username: "fay" });
    sent = await updateUser(s.f.ctx, fay, { email: "fay2@example.com" });
    expect(sent.emailVerificationTokenSent).toBe(false);
    expect((await stored("fay")).email).toBe("fay2@example.com");
    expect(s.smtp.messages).toHaveLength(0);
  });

  it("rejects a malformed or taken address without sending anything", async () => {
    await s.f.createUser({ username: "gus" });
    await expectCrossauthRejection(
      updateUser(s.f.ctx, user, { email: "not-an-address" }),
      ErrorCode.InvalidEmail,
    );
    await expectCrossauthRejection(
      updateUser(s.f.ctx, user, { email: "GUS@example.com" }),
      ErrorCode.UserExists,
    );
    await expectCrossauthRejection(
      updateUser(s.f.ctx, user, { email: "gus@example.com" }, true),
      ErrorCode.UserExists,
    );
    expect(s.smtp.messages).toHaveLength(0);
    expect((await stored("erin")).email).toBe("erin@example.com");
  });

  it("changes only editable fields; state, admin and factors only as the rules allow", async () => {
    const sent = await updateUser(s.f.ctx, user, {
      nickname: "E",
      admin: true,
      state: UserState.disabled,
      factor1: "totp",
      factor2: "dummy",
      username: "mallory",
      id: 99,
    });
    expect(sent).toEqual({ emailVerificationTokenSent: false, passwordResetTokenSent: false });
    const after = await stored("erin");
    expect(after).toMatchObject({
      id: user.id,
      nickname: "E",
      admin: false,
      state: UserState.active,
      factor1: "localpassword",
      factor2: "",
    });
  });

  it("as admin: adminEditableFields and state; a reset state sends a reset link; leaving active ends sessions", async () => {
    const session = (await login(s.f.ctx, "erin", pw)).sessionId as string;
    let sent = await updateUser(
      s.f.ctx,
      user,
      { username: "erin2", state: UserState.passwordResetNeeded },
      false,
      true,
    );
    expect(sent).toEqual({ emailVerificationTokenSent: false, passwordResetTokenSent: true });
    const after = await stored("erin2");
    expect(after.state).toBe(UserState.passwordResetNeeded);
    expect(await keysOf(user.id, KeyPrefix.session)).toEqual([]);
    await expectCrossauthRejection(s.f.ctx.session.getSessionKey(session), ErrorCode.InvalidSession);
    expect(lastToken("erin@example.com", "resetpassword")).toMatch(/^[A-Za-z0-9_-]{22}$/);

    sent = await updateUser(s.f.ctx, after, { state: UserState.disabled }, false, true);
    expect(sent.passwordResetTokenSent).toBe(false);
    expect((await stored("erin2")).state).toBe(UserState.disabled);
    await expectCrossauthRejection(login(s.f.ctx, "erin2", pw), ErrorCode.UserNotActive);
  });
});

describe("deleteUserByUsername", () => {
  it("removes the user, its secrets, sessions, email tokens and API keys, and nothing of others", async () => {
    useContext({ separateEmailTokenStorage: true });
    const { user } = await s.f.createUser({ username: "hana" });
    const { user: other } = await s.f.createUser({ username: "ivan" });
    const apiKeys = new ApiKeyManager(s.f.keyStorage, { secret: TEST_SECRET });
    const session = (await login(s.f.ctx, "hana", pw)).sessionId as string;
    await login(s.f.ctx, "hana", pw);
    const otherSession = (await login(s.f.ctx, "ivan", pw)).sessionId as string;
    const { token: apiToken } = await apiKeys.createKey("ci", user.id, { scope: ["read"] });
    const { token: otherApiToken } = await apiKeys.createKey("ci", other.id);
    const verifyToken = await s.f.tokenEmailer.createAndSaveEmailVerificationToken(
      user.id,
      "hana2@example.com",
    );
    const resetToken = await s.f.tokenEmailer.createAndSavePasswordResetToken(user.id);
    await s.f.tokenEmailer.createAndSavePasswordResetToken(other.id);
    expect(await s.f.keyStorage.getAllForUser(user.id)).toHaveLength(3);
    expect(await s.f.emailTokenStorage.getAllForUser(user.id)).toHaveLength(2);

    await deleteUserByUsername(s.f.ctx, "hana");

    await expectCrossauthRejection(stored("hana"), ErrorCode.UserNotExist);
    await expectCrossauthRejection(s.f.userStorage.getUserById(user.id), ErrorCode.UserNotExist);
    expect(await s.f.keyStorage.getAllForUser(user.id)).toEqual([]);
    expect(await s.f.emailTokenStorage.getAllForUser(user.id)).toEqual([]);
    await expectCrossauthRejection(s.f.ctx.session.getSessionKey(session), ErrorCode.InvalidSession);
    await expectCrossauthRejection(apiKeys.validateToken(`ApiKey ${apiToken}`), ErrorCode.InvalidKey);
    await expectCrossauthRejection(applyEmailVerificationToken(s.f.ctx, verifyToken), ErrorCode.InvalidKey);
    await expectCrossauthRejection(
      s.f.tokenEmailer.verifyPasswordResetToken(resetToken),
      ErrorCode.InvalidKey,
    );
    await expectCrossauthRejection(login(s.f.ctx, "hana", pw), ErrorCode.UsernameOrPasswordInvalid);

    expect((await s.f.ctx.session.getSessionKey(otherSession)).userid).toBe(other.id);
    expect((await apiKeys.validateToken(`ApiKey ${otherApiToken}`)).userid).toBe(other.id);
    expect(await s.f.emailTokenStorage.getAllForUser(other.id)).toHaveLength(1);
  });

  it("an unknown username is UserNotExist", async () => {
    await expectCrossauthRejection(deleteUserByUsername(s.f.ctx, "nobody"), ErrorCode.UserNotExist);
  });

  it("deletes users in any state", async () => {
    const { user } = await s.f.createUser({ username: "jade", state: UserState.awaitingTwoFactorSetup });
    await s.f.tokenEmailer.createAndSaveEmailVerificationToken(user.id);
    await deleteUserByUsername(s.f.ctx, "jade");
    expect(await s.f.keyStorage.getAllForUser(user.id)).toEqual([]);
    await expectCrossauthRejection(stored("jade"), ErrorCode.UserNotExist);
  });
});
