/**
 * The state checks every user lookup applies.
 * @module
 */
import { CrossauthError, ErrorCode, type User, UserState } from "@crossauth/common";
import type { UserStorageGetOptions } from "./user-storage.js";

/**
 * Throws when a looked-up user may not be returned in its state.
 *
 * Unless `skipActiveCheck`: `disabled` → `UserNotActive`; `awaitingtwofactorsetup` and
 * `awaitingtwofactorsetupandemailverification` → `TwoFactorIncomplete`; `passwordchangeneeded` →
 * `PasswordChangeNeeded`; `passwordresetneeded` and `passwordandfactor2resetneeded` →
 * `PasswordResetNeeded`; `factor2resetneeded` → `Factor2ResetNeeded`; any other state but `active`
 * → `UserNotActive`. Unless `skipEmailVerifiedCheck`: `awaitingemailverification` (and, when the
 * active check is skipped, `awaitingtwofactorsetupandemailverification`) → `EmailNotVerified`.
 * @param user - the user found
 * @param options - which checks to skip
 */
export function checkUserState(user: User, options: UserStorageGetOptions = {}): void {
  const state = user.state;
  if (state === UserState.active) return;
  const emailPending =
    state === UserState.awaitingEmailVerification ||
    state === UserState.awaitingTwoFactorSetupAndEmailVerification;
  if (!options.skipActiveCheck && state !== UserState.awaitingEmailVerification) {
    switch (state) {
      case UserState.awaitingTwoFactorSetup:
      case UserState.awaitingTwoFactorSetupAndEmailVerification:
        throw new CrossauthError(ErrorCode.TwoFactorIncomplete);
      case UserState.passwordChangeNeeded:
        throw new CrossauthError(ErrorCode.PasswordChangeNeeded);
      case UserState.passwordResetNeeded:
      case UserState.passwordAndFactor2ResetNeeded:
        throw new CrossauthError(ErrorCode.PasswordResetNeeded);
      case UserState.factor2ResetNeeded:
        throw new CrossauthError(ErrorCode.Factor2ResetNeeded);
      default:
        throw new CrossauthError(ErrorCode.UserNotActive);
    }
  }
  if (emailPending && !options.skipEmailVerifiedCheck) throw new CrossauthError(ErrorCode.EmailNotVerified);
}
