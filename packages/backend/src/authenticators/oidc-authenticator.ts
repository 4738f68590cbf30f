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
  type Key,
  type User,
  type UserInputFields,
  type UserSecretsInputFields,
} from "@crossauth/common";
import {
  type AuthenticationOptions,
  type AuthenticationParameters,
  Authenticator,
  type MfaChannel,
  type MfaType,
  type PrepareConfigurationResult,
  type ReprepareConfigurationResult,
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

  /** `{}`: nothing is stored locally for OpenID users. */
  async createPersistentSecrets(
    _username: string,
    _params: AuthenticationParameters,
    _repeatParams?: AuthenticationParameters,
  ): Promise<UserSecretsInputFields> {
    return {};
  }

  /** `{}`: there are no one-time secrets. */
  async createOneTimeSecrets(_user: User): Promise<UserSecretsInputFields> {
    return {};
  }

  /** `true`: users are created with this factor (by the OAuth client flow). */
  canCreateUser(): boolean {
    return true;
  }

  /** `true` (as in the reference); there are no secrets to update ({@link secretNames} is empty). */
  canUpdateSecrets(): boolean {
    return true;
  }

  /** `true`: local user details may be updated. */
  canUpdateUser(): boolean {
    return true;
  }

  /** `[]`: no persistent secrets. */
  secretNames(): string[] {
    return [];
  }

  /** `[]`: no transient secrets. */
  transientSecretNames(): string[] {
    return [];
  }

  /** `[]`: there is nothing to validate. */
  validateSecrets(_params: AuthenticationParameters): string[] {
    return [];
  }

  /** `false`: if email verification is enabled, it applies to these users too. */
  skipEmailVerificationOnSignup(): boolean {
    return false;
  }

  /** `undefined`: nothing to set up. */
  async prepareConfiguration(_user: UserInputFields): Promise<PrepareConfigurationResult | undefined> {
    return undefined;
  }

  /** `undefined`: nothing to set up. */
  async reprepareConfiguration(
    _username: string,
    _sessionKey: Key,
  ): Promise<ReprepareConfigurationResult | undefined> {
    return undefined;
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
