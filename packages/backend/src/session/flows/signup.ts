/**
 * Signing up, and setting up a second factor: at signup (`initiateTwoFactorSignup`,
 * `repeatTwoFactorSignup`, `completeTwoFactorSetup`) or later for a logged-in user
 * (`initiateTwoFactorSetup`). Set-up data lives under `2fa` in the session's data until the
 * user proves the new factor works.
 * @module
 */
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type Key,
  type PartialUserSecrets,
  type User,
  type UserInputFields,
  type UserSecretsInputFields,
  UserState,
} from "@crossauth/common";
import type {
  AuthenticationParameters,
  Authenticator,
  PrepareConfigurationResult,
} from "../../authenticators/authenticator.js";
import { TWO_FACTOR_SESSION_DATA } from "../../authenticators/one-time-code.js";
import { TokenEmailer } from "../../email/token-emailer.js";
import { KeyStorage } from "../../storage/key-storage.js";
import {
  ANY_STATE,
  authenticatorFor,
  deleteUserAndKeys,
  findAuthenticator,
  requireTokenEmailer,
} from "./account.js";
import type { SessionContext } from "./context.js";
import {
  authenticateFactor2,
  factor2Authenticator,
  hasSecondFactor,
  sameUserId,
  sessionDataObject,
} from "./factor2-secrets.js";
import { stateAfterSecretSet } from "./secrets.js";

/** A user being set up and what to show them (e.g. the TOTP secret and QR code). */
export interface UserIdAndData {
  /** The user's id. */
  userid: string | number;
  /** Data for the set-up page. */
  userData: Record<string, unknown>;
  /** The secrets the next code is checked against (repeatTwoFactorSignup only); never for clients. */
  secrets?: Partial<UserSecretsInputFields>;
}

/** What `2fa` session data holds during a set-up, besides the factor's own session data. */
interface SetUpData extends Record<string, unknown> {
  userid: string | number;
  username: string;
  factor2: string;
}

/** `""` for no second factor (`undefined`, `null`, `""` or `"none"`), else the factor name. */
function factor2Name(factor2: unknown): string {
  return hasSecondFactor({ factor2 }) ? (factor2 as string) : "";
}

/** The authenticator of a second factor users may choose; `BadRequest` when it is not allowed. */
function allowedFactor2(ctx: SessionContext, factor2: string): Authenticator {
  if (!ctx.allowedFactor2.includes(factor2)) {
    throw new CrossauthError(ErrorCode.BadRequest, "This second factor is not allowed");
  }
  return factor2Authenticator(ctx, factor2);
}

/** The factor-1 authenticator of a new user; `BadRequest` when it cannot create users. */
function creatingFactor1(ctx: SessionContext, factor1: string): Authenticator {
  const authenticator = authenticatorFor(ctx, factor1);
  if (!authenticator.canCreateUser()) {
    throw new CrossauthError(ErrorCode.BadRequest, "Users cannot be created with this factor");
  }
  return authenticator;
}

/**
 * Whether a new user must verify the address: verification is on, not skipped, and no factor
 * proves the address by itself.
 */
function verificationNeeded(ctx: SessionContext, factors: Authenticator[], skip: boolean): boolean {
  if (!ctx.enableEmailVerification || skip || factors.some((f) => f.skipEmailVerificationOnSignup()))
    return false;
  requireTokenEmailer(ctx);
  return true;
}

/** Validates the email of a new user, and that it has an address when one is needed. */
function checkAddress(user: UserInputFields, needed: boolean): void {
  if (typeof user.email === "string" && user.email !== "") TokenEmailer.validateEmail(user.email);
  else if (needed) TokenEmailer.validateEmail(user.username);
}

/** Runs the steps after a user was created; when one fails the user is deleted again. */
async function undoUserOnFailure<T>(ctx: SessionContext, user: User, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (e) {
    await deleteUserAndKeys(ctx, user.id);
    CrossauthLogger.logger.warn(
      j({ msg: "Signup undone", userid: user.id, errorCode: CrossauthError.asCrossauthError(e).code }),
    );
    throw e;
  }
}

/**
 * Creates a user with factor-1 secrets and no second factor needing set-up. The state is
 * `awaitingemailverification` (and a verification link is emailed) when email verification is on
 * and neither `skipEmailVerification` nor the factor's `skipEmailVerificationOnSignup` applies;
 * `passwordresetneeded` (and a reset link is emailed when password reset is on) with
 * `emptyPassword`; `active` otherwise. Should sending fail, the user is deleted again.
 * @param user - the user's fields; `state` is set here, `factor2` must be empty, `none` or an
 *   allowed factor without persistent secrets (others are set up by {@link initiateTwoFactorSignup})
 * @param params - the factor-1 secret (e.g. `{password}`)
 * @param repeatParams - when given, must repeat `params`
 * @param skipEmailVerification - create the user active without verification
 * @param emptyPassword - create the user without a factor-1 secret (an admin creating a user)
 * @returns the new user
 * @throws CrossauthError `Configuration` for a factor without authenticator or a missing token
 *   emailer; `BadRequest` for a factor that cannot create users or a disallowed second factor;
 *   `PasswordMatch` / `PasswordFormat`; `InvalidEmail`; `InvalidUsername`; `UserExists`;
 *   `Connection` when an email cannot be sent
 */
export async function createUser(
  ctx: SessionContext,
  user: UserInputFields,
  params: AuthenticationParameters,
  repeatParams?: AuthenticationParameters,
  skipEmailVerification = false,
  emptyPassword = false,
): Promise<User> {
  const factor1 = creatingFactor1(ctx, user.factor1);
  const factor2 = factor2Name(user.factor2);
  if (factor2 !== "" && allowedFactor2(ctx, factor2).secretNames().length > 0) {
    throw new CrossauthError(ErrorCode.BadRequest, "This second factor must be set up with the user");
  }
  const verify = !emptyPassword && verificationNeeded(ctx, [factor1], skipEmailVerification);
  const sendReset = emptyPassword && ctx.enablePasswordReset;
  checkAddress(user, verify || sendReset);
  const secrets = emptyPassword
    ? {}
    : await factor1.createPersistentSecrets(user.username, params, repeatParams);
  const state = emptyPassword
    ? UserState.passwordResetNeeded
    : verify
      ? UserState.awaitingEmailVerification
      : UserState.active;
  const created = await ctx.userStorage.createUser({ ...user, factor2, state }, secrets);
  await undoUserOnFailure(ctx, created, async () => {
    if (verify) await requireTokenEmailer(ctx).sendEmailVerificationToken(created.id);
    if (sendReset) await requireTokenEmailer(ctx).sendPasswordResetToken(created.id, {}, true);
  });
  CrossauthLogger.logger.info(j({ msg: "User created", userid: created.id, state }));
  return created;
}

/** Runs a factor's prepareConfiguration; `BadRequest` when the factor has nothing to set up. */
async function prepare(
  authenticator: Authenticator,
  user: UserInputFields,
): Promise<PrepareConfigurationResult> {
  const prepared = await authenticator.prepareConfiguration(user);
  if (!prepared)
    throw new CrossauthError(ErrorCode.BadRequest, "This factor cannot be set up as a second factor");
  return prepared;
}

/** Saves a set-up's data under `2fa` in a session. */
function saveSetUp(
  ctx: SessionContext,
  sessionKey: Key,
  sessionData: Record<string, unknown>,
  setUp: SetUpData,
): Promise<void> {
  return ctx.keyStorage.updateData(sessionKey.value, TWO_FACTOR_SESSION_DATA, { ...sessionData, ...setUp });
}

/**
 * Creates a user who chose a second factor, in state `awaitingtwofactorsetup` (or
 * `awaitingtwofactorsetupandemailverification`, with a verification link emailed at once, when
 * the address must be verified: verification on and neither factor proves the address), and starts
 * the factor's set-up: its session data and the user id are saved under `2fa` in the session.
 * Should a step after the user's creation fail, the user is deleted again.
 * @param user - the user's fields, with `factor2` set; `state` is set here
 * @param params - the factor-1 secret (e.g. `{password}`)
 * @param sessionId - the raw id of the (anonymous) session of the signup
 * @param repeatParams - when given, must repeat `params`
 * @returns the user id and the data to show for the set-up (e.g. TOTP secret and QR code)
 * @throws CrossauthError `BadRequest` when no or a disallowed second factor is chosen, or the
 *   factor cannot create users or has nothing to set up; `InvalidSession` / `Expired` for the
 *   session; and as {@link createUser}
 */
export async function initiateTwoFactorSignup(
  ctx: SessionContext,
  user: UserInputFields,
  params: AuthenticationParameters,
  sessionId: string,
  repeatParams?: AuthenticationParameters,
): Promise<UserIdAndData> {
  const factor1 = creatingFactor1(ctx, user.factor1);
  const factor2 = factor2Name(user.factor2);
  if (factor2 === "") throw new CrossauthError(ErrorCode.BadRequest, "No second factor was chosen");
  const authenticator = allowedFactor2(ctx, factor2);
  const sessionKey = await ctx.session.getSessionKey(sessionId);
  const verify = verificationNeeded(ctx, [factor1, authenticator], false);
  checkAddress(user, verify);
  const secrets = await factor1.createPersistentSecrets(user.username, params, repeatParams);
  const state = verify
    ? UserState.awaitingTwoFactorSetupAndEmailVerification
    : UserState.awaitingTwoFactorSetup;
  const created = await ctx.userStorage.createUser({ ...user, factor2, state }, secrets);
  const { userData } = await undoUserOnFailure(ctx, created, async () => {
    const prepared = await prepare(authenticator, created);
    if (verify) await requireTokenEmailer(ctx).sendEmailVerificationToken(created.id);
    await saveSetUp(ctx, sessionKey, prepared.sessionData, {
      userid: created.id,
      username: created.username,
      factor2,
    });
    return prepared;
  });
  CrossauthLogger.logger.info(
    j({ msg: "User created, second factor to set up", userid: created.id, factor2, state }),
  );
  return { userid: created.id, userData };
}

/**
 * A live session and the second-factor set-up in progress in it (its `2fa` data).
 * @throws CrossauthError `InvalidSession` / `Expired`; `Unauthorized` when no set-up is in
 *   progress or it belongs to another user than the session's
 */
async function setUpIn(ctx: SessionContext, sessionId: string): Promise<{ key: Key; setUp: SetUpData }> {
  const { key, data } = await sessionDataObject(ctx, sessionId, TWO_FACTOR_SESSION_DATA);
  const { userid, username, factor2 } = data ?? {};
  if (
    (typeof userid !== "string" && typeof userid !== "number") ||
    typeof username !== "string" ||
    typeof factor2 !== "string"
  ) {
    throw new CrossauthError(ErrorCode.Unauthorized, "No second-factor set-up is in progress");
  }
  if (key.userid !== null && key.userid !== undefined && !sameUserId(key.userid, userid)) {
    throw new CrossauthError(ErrorCode.Unauthorized, "The set-up belongs to another user");
  }
  return { key, setUp: { ...data, userid, username, factor2 } };
}

/**
 * Resumes a second-factor set-up begun in this session (e.g. the user left before entering the
 * code): the factor reprepares it (TOTP: the same secret and QR code; email: a new code is sent).
 * @param sessionId - raw id of the session holding the `2fa` set-up data
 * @returns the user id, the data to show again and the secrets the next code is checked against
 * @throws CrossauthError `Unauthorized` when no set-up is in progress in this session;
 *   `InvalidSession` / `Expired`; `BadRequest` when the factor has nothing to resume; the factor's
 *   errors (e.g. `Connection` when a code cannot be sent)
 */
export async function repeatTwoFactorSignup(ctx: SessionContext, sessionId: string): Promise<UserIdAndData> {
  const { key: sessionKey, setUp } = await setUpIn(ctx, sessionId);
  const { userid, username, factor2 } = setUp;
  const result = await factor2Authenticator(ctx, factor2).reprepareConfiguration(username, sessionKey);
  if (!result) throw new CrossauthError(ErrorCode.BadRequest, "No second-factor set-up is in progress");
  if (result.newSessionData) {
    await saveSetUp(ctx, sessionKey, result.newSessionData, { userid, username, factor2 });
  }
  return { userid, userData: result.userData, secrets: result.secrets };
}

/** Null for each secret of the user's current second factor that factor 1 does not also use. */
function clearedFactor2Secrets(ctx: SessionContext, user: User): PartialUserSecrets {
  const cleared: PartialUserSecrets = {};
  const oldFactor2 = factor2Name(user.factor2);
  const old = findAuthenticator(ctx, oldFactor2);
  if (oldFactor2 === "" || !old) return cleared;
  const kept = new Set(findAuthenticator(ctx, user.factor1)?.secretNames() ?? []);
  for (const name of old.secretNames()) if (!kept.has(name)) cleared[name] = null;
  return cleared;
}

/**
 * Secrets for a user's new second factor: the new factor's persistent secrets taken from the
 * set-up data, and null for the secrets of the factor it replaces.
 * @throws CrossauthError `BadRequest` when the set-up data lacks one of the factor's secrets
 */
function secretsForNewFactor2(
  ctx: SessionContext,
  user: User,
  authenticator: Authenticator,
  setUp: SetUpData,
): PartialUserSecrets {
  const secrets = clearedFactor2Secrets(ctx, user);
  for (const name of authenticator.secretNames()) {
    const value = setUp[name];
    if (typeof value !== "string" || value === "") {
      throw new CrossauthError(ErrorCode.BadRequest, "The set-up data lacks the factor's secrets");
    }
    secrets[name] = value;
  }
  return secrets;
}

/**
 * Completes a second-factor set-up: checks the user's code against the `2fa` set-up data of the
 * session, saves `factor2` and the factor's persistent secrets (e.g. `totpsecret`), moves the
 * state (`awaitingtwofactorsetup` and `factor2resetneeded` → `active`,
 * `awaitingtwofactorsetupandemailverification` → `awaitingemailverification` with a verification
 * link emailed, `passwordandfactor2resetneeded` → `passwordresetneeded`, others kept) and removes
 * the set-up data. A wrong code keeps the set-up so the user can try again.
 * @param params - the user's input (e.g. `{otp}`)
 * @param sessionId - raw id of the session holding the set-up
 * @returns the user as now stored
 * @throws CrossauthError `Unauthorized` when no set-up is in progress in this session;
 *   `InvalidSession` / `Expired`; the authenticator's error for a wrong code (`InvalidToken`,
 *   `Expired`); `UserNotExist`; `Configuration` / `Connection` when the email cannot be sent
 */
export async function completeTwoFactorSetup(
  ctx: SessionContext,
  params: AuthenticationParameters,
  sessionId: string,
): Promise<User> {
  const { key: sessionKey, setUp } = await setUpIn(ctx, sessionId);
  const authenticator = factor2Authenticator(ctx, setUp.factor2);
  const { user } = await ctx.userStorage.getUserById(setUp.userid, ANY_STATE);
  await authenticateFactor2(ctx, user, setUp.factor2, setUp, params, "session");
  const secrets = secretsForNewFactor2(ctx, user, authenticator, setUp);
  const state = stateAfterSecretSet(user.state, 2);
  if (state === UserState.awaitingEmailVerification && state !== user.state) {
    await requireTokenEmailer(ctx).sendEmailVerificationToken(user.id);
  }
  await ctx.userStorage.updateUser({ id: user.id, factor2: setUp.factor2, state }, secrets);
  await ctx.keyStorage.deleteData(sessionKey.value, TWO_FACTOR_SESSION_DATA);
  CrossauthLogger.logger.info(
    j({ msg: "Second factor set up", userid: user.id, factor2: setUp.factor2, state }),
  );
  return { ...user, factor2: setUp.factor2, state };
}

/** Whether a session may change this user's second factor: the user's own, or an anonymous one permitting it. */
function mayChangeFactor2(sessionKey: Key, userid: string | number): boolean {
  if (sessionKey.userid !== null && sessionKey.userid !== undefined)
    return sameUserId(sessionKey.userid, userid);
  const permit = KeyStorage.decodeData(sessionKey.data).factor2change;
  return (
    permit !== null &&
    typeof permit === "object" &&
    sameUserId((permit as Record<string, unknown>).userid, userid)
  );
}

/**
 * Starts changing the second factor of an existing user (logged in, or holding an anonymous
 * session whose `factor2change` data permits it). With a factor: its set-up begins, saved under
 * `2fa` in the session, and takes effect at {@link completeTwoFactorSetup}. With `null` or
 * `"none"`: the second factor and its secrets are removed at once (`factor2resetneeded` →
 * `active`, `passwordandfactor2resetneeded` → `passwordresetneeded`).
 * @param user - the user
 * @param newFactor2 - the factor to set up, or null / `"none"` to remove the second factor
 * @param sessionId - raw id of the user's session
 * @returns the data to show for the set-up (e.g. TOTP secret and QR code); `{}` on removal
 * @throws CrossauthError `BadRequest` for a factor not in `allowedFactor2` or with nothing to set
 *   up; `Unauthorized` when the session may not change this user; `InvalidSession` / `Expired`;
 *   `Configuration` for a factor without authenticator; the factor's errors (e.g. `InvalidEmail`)
 */
export async function initiateTwoFactorSetup(
  ctx: SessionContext,
  user: User,
  newFactor2: string | null,
  sessionId: string,
): Promise<Record<string, unknown>> {
  const factor2 = factor2Name(newFactor2);
  const authenticator = factor2 === "" ? undefined : allowedFactor2(ctx, factor2);
  const sessionKey = await ctx.session.getSessionKey(sessionId);
  if (!mayChangeFactor2(sessionKey, user.id)) {
    throw new CrossauthError(ErrorCode.Unauthorized, "This session may not change the second factor");
  }
  if (!authenticator) {
    const { user: stored } = await ctx.userStorage.getUserById(user.id, ANY_STATE);
    const state = stateAfterSecretSet(stored.state, 2);
    await ctx.userStorage.updateUser(
      { id: stored.id, factor2: "", state },
      clearedFactor2Secrets(ctx, stored),
    );
    await ctx.keyStorage.deleteData(sessionKey.value, TWO_FACTOR_SESSION_DATA);
    CrossauthLogger.logger.info(j({ msg: "Second factor removed", userid: stored.id, state }));
    return {};
  }
  const prepared = await prepare(authenticator, { ...user, factor2 });
  await saveSetUp(ctx, sessionKey, prepared.sessionData, {
    userid: user.id,
    username: user.username,
    factor2,
  });
  return prepared.userData;
}
