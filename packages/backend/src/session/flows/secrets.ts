/**
 * Passwords and other factor secrets: changing them (logged in or forced), and resetting the
 * password with an emailed single-use token.
 * @module
 */
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  KeyPrefix,
  type User,
  type UserAndSecrets,
  UserState,
} from "@crossauth/common";
import type { AuthenticationParameters, Authenticator } from "../../authenticators/authenticator.js";
import { hash } from "../../crypto/index.js";
import { TokenEmailer } from "../../email/token-emailer.js";
import { ANY_STATE, authenticatorFor, findAuthenticator, requireTokenEmailer } from "./account.js";
import type { SessionContext } from "./context.js";
import { sameUserId } from "./factor2-secrets.js";

/** Which factor's secret a call is about: 1 (e.g. the password) or 2. */
export type FactorNumber = 1 | 2;

/**
 * The state a user moves to once the secret of a factor has been set by its owner (or an admin).
 * Factor 1: `passwordchangeneeded` and `passwordresetneeded` → `active`,
 * `passwordandfactor2resetneeded` → `factor2resetneeded`. Factor 2: `factor2resetneeded` and
 * `awaitingtwofactorsetup` → `active`, `passwordandfactor2resetneeded` → `passwordresetneeded`,
 * `awaitingtwofactorsetupandemailverification` → `awaitingemailverification`. Every other state
 * (e.g. `disabled`, `awaitingemailverification`) is kept.
 * @param state - the user's current state
 * @param factorNumber - the factor whose secret was set
 */
export function stateAfterSecretSet(state: string, factorNumber: FactorNumber): string {
  const moves: Readonly<Record<string, string>> =
    factorNumber === 1
      ? {
          [UserState.passwordChangeNeeded]: UserState.active,
          [UserState.passwordResetNeeded]: UserState.active,
          [UserState.passwordAndFactor2ResetNeeded]: UserState.factor2ResetNeeded,
        }
      : {
          [UserState.factor2ResetNeeded]: UserState.active,
          [UserState.awaitingTwoFactorSetup]: UserState.active,
          [UserState.passwordAndFactor2ResetNeeded]: UserState.passwordResetNeeded,
          [UserState.awaitingTwoFactorSetupAndEmailVerification]: UserState.awaitingEmailVerification,
        };
  return Object.hasOwn(moves, state) ? (moves[state] as string) : state;
}

/**
 * Deletes every outstanding password-reset token of a user.
 * @param userid - the user
 */
export function deletePasswordResetTokens(ctx: SessionContext, userid: string | number): Promise<void> {
  return ctx.emailTokenStorage.deleteAllForUser(userid, KeyPrefix.passwordResetToken);
}

/** The name of a user's factor 1 or 2; `BadRequest` for another number or an unset factor. */
function factorName(user: User, factorNumber: number): string {
  if (factorNumber !== 1 && factorNumber !== 2) {
    throw new CrossauthError(ErrorCode.BadRequest, "The factor number must be 1 or 2");
  }
  const name = factorNumber === 1 ? user.factor1 : user.factor2;
  if (typeof name !== "string" || name === "" || name === "none") {
    throw new CrossauthError(ErrorCode.BadRequest, `The user has no factor ${factorNumber}`);
  }
  return name;
}

/** The authenticator of a user's factor, which must allow its secrets to be changed. */
function updatableAuthenticator(ctx: SessionContext, user: User, factorNumber: number): Authenticator {
  const authenticator = authenticatorFor(ctx, factorName(user, factorNumber));
  if (!authenticator.canUpdateSecrets()) {
    throw new CrossauthError(ErrorCode.BadRequest, "The secrets of this factor cannot be changed");
  }
  return authenticator;
}

/**
 * Sets a new secret for a user's factor, e.g. a new password. The old secret is checked when given.
 * The user's state moves as {@link stateAfterSecretSet} says (`passwordchangeneeded` → `active`),
 * outstanding password-reset tokens are deleted and every other session of the user is ended.
 * @param username - the user
 * @param factorNumber - 1 (e.g. password) or 2
 * @param newParams - the new secret (e.g. `{password}`)
 * @param repeatParams - when given, must repeat `newParams` (e.g. repeat password)
 * @param oldParams - when given, the current secret, checked first
 * @param keepSessionId - raw id of a session of the user to keep (the one making the change)
 * @returns the user as now stored
 * @throws CrossauthError `UserNotExist`; `BadRequest` for a factor number other than 1 or 2, a
 *   factor the user lacks or whose secrets cannot be changed; `Configuration` when the factor has no
 *   authenticator; the authenticator's error for a wrong old secret (`PasswordInvalid`);
 *   `PasswordMatch` / `PasswordFormat` for an unacceptable new one
 */
export async function changeSecrets(
  ctx: SessionContext,
  username: string,
  factorNumber: FactorNumber,
  newParams: AuthenticationParameters,
  repeatParams?: AuthenticationParameters,
  oldParams?: AuthenticationParameters,
  keepSessionId?: string,
): Promise<User> {
  const { user, secrets } = await ctx.userStorage.getUserByUsername(username, ANY_STATE);
  const authenticator = updatableAuthenticator(ctx, user, factorNumber);
  if (oldParams !== undefined) await authenticator.authenticateUser(user, secrets, oldParams);
  const newSecrets = await authenticator.createPersistentSecrets(user.username, newParams, repeatParams);
  const state = stateAfterSecretSet(user.state, factorNumber);
  await ctx.userStorage.updateUser({ id: user.id, state }, newSecrets);
  await deletePasswordResetTokens(ctx, user.id);
  await ctx.session.deleteAllForUser(user.id, keepSessionId);
  CrossauthLogger.logger.info(j({ msg: "Secrets changed", userid: user.id, factorNumber, state }));
  return { ...user, state };
}

/** The user a valid reset token belongs to; `UserNotActive` for a disabled user. */
async function resetTokenUser(tokenEmailer: TokenEmailer, token: string): Promise<User> {
  const user = await tokenEmailer.verifyPasswordResetToken(token);
  if (user.state === UserState.disabled) {
    throw new CrossauthError(ErrorCode.UserNotActive);
  }
  return user;
}

/**
 * Sets a new secret with an emailed password-reset token. The new secret is checked before the
 * token is spent, so a typo does not burn it; the token is then consumed atomically (of two
 * concurrent uses exactly one succeeds). State `passwordresetneeded` (and `passwordchangeneeded`)
 * → `active`, `passwordandfactor2resetneeded` → `factor2resetneeded`; every session of the user is
 * ended and the user's other reset tokens are deleted.
 * @param token - the raw token from the emailed link
 * @param factorNumber - the factor to reset: 1 (password) or 2
 * @param params - the new secret (e.g. `{password}`)
 * @param repeatParams - when given, must repeat `params`
 * @returns the user as now stored
 * @throws CrossauthError `Configuration` when password reset is disabled; `InvalidKey` for an
 *   unknown or already used token; `Expired` for an expired one; `UserNotActive` for a disabled
 *   user; `BadRequest` as {@link changeSecrets}; `PasswordMatch` / `PasswordFormat`
 */
export async function resetSecret(
  ctx: SessionContext,
  token: string,
  factorNumber: FactorNumber,
  params: AuthenticationParameters,
  repeatParams?: AuthenticationParameters,
): Promise<User> {
  const tokenEmailer = passwordResetEmailer(ctx);
  const user = await resetTokenUser(tokenEmailer, token);
  const authenticator = updatableAuthenticator(ctx, user, factorNumber);
  const newSecrets = await authenticator.createPersistentSecrets(user.username, params, repeatParams);
  const owner = await tokenEmailer.consumePasswordResetToken(token);
  if (!sameUserId(owner.id, user.id)) {
    throw new CrossauthError(ErrorCode.InvalidKey, "Password reset token is invalid");
  }
  const { user: current } = await ctx.userStorage.getUserById(user.id, ANY_STATE);
  const state = stateAfterSecretSet(current.state, factorNumber);
  await ctx.userStorage.updateUser({ id: user.id, state }, newSecrets);
  await deletePasswordResetTokens(ctx, user.id);
  await ctx.session.deleteAllForUser(user.id);
  CrossauthLogger.logger.info(
    j({ msg: "Secret reset with token", userid: user.id, factorNumber, state, tokenHash: hash(token) }),
  );
  return { ...current, state };
}

/** The token emailer, when password reset is enabled; `Configuration` otherwise. */
function passwordResetEmailer(ctx: SessionContext): TokenEmailer {
  if (!ctx.enablePasswordReset) {
    throw new CrossauthError(ErrorCode.Configuration, "Password reset is not enabled");
  }
  return requireTokenEmailer(ctx);
}

/**
 * Emails a password-reset link to the user with this address. The result and its timing are the
 * same whether or not the address belongs to a user: the lookup and the email happen in
 * `ctx.background` after this returns, and nothing is sent for an unknown address, a disabled user
 * or a user whose factor 1 cannot have its secret changed (all logged with the address hashed).
 * @param email - the address entered
 * @throws CrossauthError `Configuration` when password reset is disabled; `InvalidEmail` when the
 *   address is not well formed (checked before anything is looked up)
 */
export async function requestPasswordReset(ctx: SessionContext, email: string): Promise<void> {
  const tokenEmailer = passwordResetEmailer(ctx);
  TokenEmailer.validateEmail(email);
  ctx.background("requestPasswordReset", async () => {
    let found: UserAndSecrets;
    try {
      found = await ctx.userStorage.getUserByEmail(email, ANY_STATE);
    } catch (e) {
      if (!(e instanceof CrossauthError && e.code === ErrorCode.UserNotExist)) throw e;
      CrossauthLogger.logger.info(
        j({ msg: "Password reset requested for an unknown address", emailHash: hash(email) }),
      );
      return;
    }
    const userid = found.user.id;
    if (!findAuthenticator(ctx, found.user.factor1)?.canUpdateSecrets()) {
      CrossauthLogger.logger.info(
        j({ msg: "Password reset refused: factor 1 has no resettable secret", userid }),
      );
      return;
    }
    try {
      await tokenEmailer.sendPasswordResetToken(userid);
    } catch (e) {
      if (!(e instanceof CrossauthError && e.code === ErrorCode.UserNotActive)) throw e;
      CrossauthLogger.logger.info(j({ msg: "Password reset refused in this user state", userid }));
    }
  });
}

/**
 * The user a password-reset token belongs to, without spending the token (e.g. to show the reset
 * form).
 * @param token - the raw token from the emailed link
 * @throws CrossauthError `Configuration` when password reset is disabled; `InvalidKey` for an
 *   unknown or used token; `Expired`; `UserNotActive` for a disabled user
 */
export async function userForPasswordResetToken(ctx: SessionContext, token: string): Promise<User> {
  return resetTokenUser(passwordResetEmailer(ctx), token);
}
