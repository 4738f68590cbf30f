/**
 * A user's account details: applying email-verification tokens, updating the user's fields and
 * deleting users with everything they own in key storage.
 * @module
 */
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type PartialUser,
  type User,
  UserState,
} from "@crossauth/common";
import type { Authenticator } from "../../authenticators/authenticator.js";
import { hash } from "../../crypto/index.js";
import { TokenEmailer } from "../../email/token-emailer.js";
import type { UserStorageGetOptions } from "../../storage/user-storage.js";
import type { SessionContext } from "./context.js";

/** User lookups that return the user whatever its state (flows check states themselves). */
export const ANY_STATE: Readonly<UserStorageGetOptions> = Object.freeze({
  skipActiveCheck: true,
  skipEmailVerifiedCheck: true,
});

/**
 * The authenticator registered under a factor name, if any.
 * @param factor - the factor name (a key of `ctx.authenticators`)
 */
export function findAuthenticator(ctx: SessionContext, factor: unknown): Authenticator | undefined {
  return typeof factor === "string" && Object.hasOwn(ctx.authenticators, factor)
    ? ctx.authenticators[factor]
    : undefined;
}

/**
 * The authenticator registered under a factor name.
 * @param factor - the factor name (a key of `ctx.authenticators`)
 * @throws CrossauthError `Configuration` when there is none
 */
export function authenticatorFor(ctx: SessionContext, factor: string): Authenticator {
  const authenticator = findAuthenticator(ctx, factor);
  if (!authenticator) {
    throw new CrossauthError(ErrorCode.Configuration, `No authenticator for factor ${factor}`);
  }
  return authenticator;
}

/**
 * The token emailer.
 * @throws CrossauthError `Configuration` when neither email verification nor password reset is set up
 */
export function requireTokenEmailer(ctx: SessionContext): TokenEmailer {
  if (!ctx.tokenEmailer) {
    throw new CrossauthError(ErrorCode.Configuration, "No token emailer is configured");
  }
  return ctx.tokenEmailer;
}

/**
 * Deletes a user, its secrets and every key it owns in key storage and email-token storage
 * (sessions, email tokens, API keys...).
 * @param userid - the user
 */
export async function deleteUserAndKeys(ctx: SessionContext, userid: string | number): Promise<void> {
  await ctx.userStorage.deleteUserById(userid);
  await ctx.keyStorage.deleteAllForUser(userid, "");
  if (ctx.emailTokenStorage !== ctx.keyStorage) await ctx.emailTokenStorage.deleteAllForUser(userid, "");
}

/**
 * Deletes a user by username, with its secrets and every key it owns: its sessions end, its
 * email tokens and API keys are revoked.
 * @param username - the user
 * @throws CrossauthError `UserNotExist` when there is no such user
 */
export async function deleteUserByUsername(ctx: SessionContext, username: string): Promise<void> {
  const { user } = await ctx.userStorage.getUserByUsername(username, ANY_STATE);
  await deleteUserAndKeys(ctx, user.id);
  CrossauthLogger.logger.info(j({ msg: "User deleted", userid: user.id }));
}

/** The state a verified address moves a user to (unchanged unless awaiting verification). */
function stateAfterVerification(state: string): string {
  if (state === UserState.awaitingEmailVerification) return UserState.active;
  if (state === UserState.awaitingTwoFactorSetupAndEmailVerification) return UserState.awaitingTwoFactorSetup;
  return state;
}

/**
 * Applies an emailed verification token, spending it atomically (of two concurrent uses exactly
 * one succeeds). The user's address is now proven: `awaitingemailverification` → `active`;
 * `awaitingtwofactorsetupandemailverification` → `awaitingtwofactorsetup` (the 2FA set-up is still
 * required); other states are kept. A token sent for a new address makes it the user's email.
 * @param token - the raw token from the emailed link
 * @returns the user as now stored
 * @throws CrossauthError `Configuration` without a token emailer; `InvalidKey` for an unknown or
 *   used token; `Expired`; `UserNotExist` when the user was deleted; `UserExists` when the new
 *   address has meanwhile been taken
 */
export async function applyEmailVerificationToken(ctx: SessionContext, token: string): Promise<User> {
  const { userid, newEmail } = await requireTokenEmailer(ctx).consumeEmailVerificationToken(token);
  const { user } = await ctx.userStorage.getUserById(userid, ANY_STATE);
  const update: PartialUser = { id: user.id, state: stateAfterVerification(user.state) };
  if (newEmail !== "") update.email = newEmail;
  await ctx.userStorage.updateUser(update);
  CrossauthLogger.logger.info(
    j({ msg: "Email verified", userid: user.id, state: update.state, tokenHash: hash(token) }),
  );
  return { ...user, ...update } as User;
}

/** What {@link updateUser} emailed. */
export interface TokensSent {
  /** A verification link went to the new address (which takes effect once it is followed). */
  emailVerificationTokenSent: boolean;
  /** A password-reset link went to the user (an admin put it in a reset state). */
  passwordResetTokenSent: boolean;
}

/** Fields never copied from an update: identity and storage-derived columns, and security state. */
const neverEditable = new Set(["id", "username_normalized", "email_normalized", "factor1", "factor2"]);
/** Fields only an admin may change (through {@link updateUser} with `asAdmin`). */
const adminOnly = new Set(["state", "admin"]);
/** States in which the user must reset the password by email. */
const resetStates = new Set<string>([UserState.passwordResetNeeded, UserState.passwordAndFactor2ResetNeeded]);

/** The editable fields of `newUser` that differ from `currentUser`. */
function changedFields(
  ctx: SessionContext,
  currentUser: User,
  newUser: Partial<User>,
  asAdmin: boolean,
): PartialUser {
  const editable = new Set(
    asAdmin ? [...ctx.userStorage.adminEditableFields, "state"] : ctx.userStorage.userEditableFields,
  );
  const changes: PartialUser = {};
  for (const [field, value] of Object.entries(newUser)) {
    if (value === undefined || !editable.has(field) || neverEditable.has(field)) continue;
    if (!asAdmin && adminOnly.has(field)) continue;
    if (value !== currentUser[field]) changes[field] = value;
  }
  return changes;
}

/** Throws `UserExists` when another user already has this address. */
async function checkEmailFree(ctx: SessionContext, email: string, userid: string | number): Promise<void> {
  try {
    const { user } = await ctx.userStorage.getUserByEmail(email, ANY_STATE);
    if (String(user.id) !== String(userid)) throw new CrossauthError(ErrorCode.UserExists);
  } catch (e) {
    if (!(e instanceof CrossauthError && e.code === ErrorCode.UserNotExist)) throw e;
  }
}

/**
 * Updates a user's details. Only `userEditableFields` (with `asAdmin`: `adminEditableFields` and
 * `state`) are taken from `newUser`; `id`, `factor1`, `factor2` and the normalized columns never are.
 * A changed `email` is validated; when email verification is on and not skipped it is not stored
 * but a verification link is sent to the new address, and it takes effect when the link is
 * followed. An admin moving the user to `passwordresetneeded` or `passwordandfactor2resetneeded`
 * sends a password-reset link; moving it to any state but `active` ends its sessions.
 * @param currentUser - the user as stored
 * @param newUser - the new values
 * @param skipEmailVerification - store a new email at once
 * @param asAdmin - an admin is editing
 * @returns which emails were sent
 * @throws CrossauthError `InvalidEmail` for a malformed address; `UserExists` for an address or
 *   username already taken; `Configuration` when an email is needed and there is no token emailer;
 *   `Connection` when it cannot be sent
 */
export async function updateUser(
  ctx: SessionContext,
  currentUser: User,
  newUser: Partial<User>,
  skipEmailVerification = false,
  asAdmin = false,
): Promise<TokensSent> {
  const sent: TokensSent = { emailVerificationTokenSent: false, passwordResetTokenSent: false };
  const changes = changedFields(ctx, currentUser, newUser, asAdmin);
  const newEmail = changes.email;
  if (newEmail !== undefined) {
    if (typeof newEmail !== "string") throw new CrossauthError(ErrorCode.InvalidEmail);
    TokenEmailer.validateEmail(newEmail);
    if (ctx.enableEmailVerification && !skipEmailVerification) {
      await checkEmailFree(ctx, newEmail, currentUser.id);
      await requireTokenEmailer(ctx).sendEmailVerificationToken(currentUser.id, newEmail);
      sent.emailVerificationTokenSent = true;
      delete changes.email;
    }
  }
  if (Object.keys(changes).length > 0) await ctx.userStorage.updateUser({ ...changes, id: currentUser.id });
  const state = changes.state;
  if (typeof state === "string" && state !== UserState.active)
    await ctx.session.deleteAllForUser(currentUser.id);
  if (typeof state === "string" && resetStates.has(state) && ctx.enablePasswordReset) {
    await requireTokenEmailer(ctx).sendPasswordResetToken(currentUser.id, {}, true);
    sent.passwordResetTokenSent = true;
  }
  CrossauthLogger.logger.info(
    j({ msg: "User updated", userid: currentUser.id, fields: Object.keys(changes), ...sent }),
  );
  return sent;
}
