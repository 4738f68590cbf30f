/**
 * `OidcAuthenticator`: the first factor of users who sign in through an external OpenID Connect
 * provider.
 * @module
 */
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type UserInputFields,
  type UserSecretsInputFields,
} from "@crossauth/common";
import {
  type AuthenticationOptions,
  type AuthenticationParameters,
  Authenticator,
  type AuthenticatorCapabilities,
  type MfaChannel,
  type MfaType,
} from "./authenticator.js";

/** Options of {@link OidcAuthenticator}. */
export interface OidcAuthenticatorOptions extends AuthenticationOptions {}

/** Message of the error refusing a password for an OpenID account. */
export const OIDC_PASSWORD_REFUSED_MESSAGE =
  "This account signs in through its OpenID provider, not with a password";

/**
 * factor1 of users created by the OAuth client flow when they sign in with an OpenID provider.
 * Those users are authenticated by the provider (the OAuth client checks its ID token); they have
 * no local secret, so this factor never accepts anything itself: {@link authenticateUser} always
 * refuses. Registering it lets the session layer recognise such accounts and send them to their
 * provider, and keeps anyone from logging into them with a password.
 */
export class OidcAuthenticator extends Authenticator {
  /** What users of this factor may do (see {@link Authenticator.capabilities}). */
  protected readonly capabilityFlags: AuthenticatorCapabilities = {
    canCreateUser: true,
    canUpdateSecrets: true,
    canUpdateUser: true,
  };
  /**
   * @param options - see {@link OidcAuthenticatorOptions}
   */
  constructor(options: OidcAuthenticatorOptions = {}) {
    super(options, "OpenID Connect");
  }

  /**
   * Always refuses: users of this factor sign in through their OpenID provider and have no local
   * password, so no password, code or other input is ever accepted here.
   * @param user - the user (only its username is logged)
   * @param _secrets - ignored
   * @param _params - ignored
   * @throws CrossauthError `PasswordInvalid` with {@link OIDC_PASSWORD_REFUSED_MESSAGE}, always
   */
  async authenticateUser(
    user: UserInputFields | undefined,
    _secrets: UserSecretsInputFields,
    _params: AuthenticationParameters,
  ): Promise<void> {
    CrossauthLogger.logger.debug(
      j({ msg: "Password login refused for OpenID account", username: user?.username }),
    );
    throw new CrossauthError(ErrorCode.PasswordInvalid, OIDC_PASSWORD_REFUSED_MESSAGE);
  }

  /** `[]`: no persistent secrets. */
  secretNames(): string[] {
    return [];
  }

  /** `[]`: no transient secrets. */
  transientSecretNames(): string[] {
    return [];
  }

  /** `"none"`: not an OAuth password-MFA factor. */
  mfaType(): MfaType {
    return "none";
  }

  /** `"none"`: not an OAuth password-MFA factor. */
  mfaChannel(): MfaChannel {
    return "none";
  }
}
