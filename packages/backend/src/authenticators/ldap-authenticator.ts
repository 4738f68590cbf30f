/**
 * `LdapAuthenticator`: first factor checking the user's password against an LDAP directory.
 * @module
 */
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type User,
  type UserInputFields,
  type UserSecretsInputFields,
} from "@crossauth/common";
import { ParamType, setParameter } from "../config/index.js";
import { LDAP_FACTOR1, type LdapUserStorage } from "../storage/ldap/ldap-user-storage.js";
import {
  type AuthenticationOptions,
  type AuthenticationParameters,
  type AuthenticatorCapabilities,
  PasswordAuthenticator,
} from "./authenticator.js";

/** Options of {@link LdapAuthenticator}. */
export interface LdapAuthenticatorOptions extends AuthenticationOptions {
  /**
   * Create the local user record the first time an LDAP user logs in. Default false (the local
   * record must already exist). Environment: `CROSSAUTH_LDAP_AUTO_CREATE_ACCOUNT`.
   */
  ldapAutoCreateAccount?: boolean;
  /**
   * factor1 of automatically created users: the name this authenticator is registered under.
   * Default `ldap`. Environment: `CROSSAUTH_LDAP_AUTO_CREATE_FACTOR1`.
   */
  ldapAutoCreateFactor1?: string;
}

/**
 * Authenticates users with their LDAP password (bound as the user by
 * {@link LdapUserStorage.getLdapUser}); the local user record decides whether the user may log in
 * here. Passwords are managed in LDAP, so this factor stores and updates no secrets.
 */
export class LdapAuthenticator extends PasswordAuthenticator {
  /** What users of this factor may do (see {@link Authenticator.capabilities}). */
  protected readonly capabilityFlags: AuthenticatorCapabilities = {
    canCreateUser: true,
    canUpdateSecrets: false,
    canUpdateUser: true,
  };
  /** Storage binding to LDAP and holding local user records. */
  readonly ldapStorage: LdapUserStorage;
  /** Whether first logins create the local user record. */
  readonly ldapAutoCreateAccount: boolean = false;
  /** factor1 of automatically created users. */
  readonly ldapAutoCreateFactor1: string = LDAP_FACTOR1;

  /**
   * @param ldapStorage - the LDAP user storage
   * @param options - see {@link LdapAuthenticatorOptions}
   * @throws CrossauthError `Configuration` for badly typed options
   */
  constructor(ldapStorage: LdapUserStorage, options: LdapAuthenticatorOptions = {}) {
    super(options, "LDAP");
    this.ldapStorage = ldapStorage;
    const opts = options as Record<string, unknown>;
    setParameter("ldapAutoCreateAccount", ParamType.Boolean, this, opts, "LDAP_AUTO_CREATE_ACCOUNT");
    setParameter("ldapAutoCreateFactor1", ParamType.String, this, opts, "LDAP_AUTO_CREATE_FACTOR1");
  }

  /**
   * Checks `params.password` against LDAP for `user.username`, then looks the user up in local
   * storage (whatever its state: states are the session layer's business):
   * - found, with factor1 this factor's name or `ldapAutoCreateFactor1` → success;
   * - found with another factor1 (e.g. a local-password account of the same name) → refused;
   * - not found and `ldapAutoCreateAccount` → the local record is created from `user` and the LDAP
   *   entry (factor1 `ldapAutoCreateFactor1`, username as spelled in LDAP, no password stored);
   * - not found otherwise → refused.
   *
   * An empty username or password is refused before contacting LDAP. The local lookup happens
   * only after LDAP accepted the password, so failures reveal nothing about local accounts.
   *
   * @param user - `username` is the LDAP username; other fields are used when creating the user
   * @param _secrets - ignored: the password is kept in LDAP
   * @param params - `password` is the LDAP password
   * @throws CrossauthError `UsernameOrPasswordInvalid` (empty, wrong or unknown credentials; no
   *   local record and no auto-creation; not an LDAP account), `Connection` (LDAP or local storage
   *   unreachable), or local storage errors on creation (e.g. `UserExists`)
   */
  async authenticateUser(
    user: UserInputFields | undefined,
    _secrets: UserSecretsInputFields,
    params: AuthenticationParameters,
  ): Promise<void> {
    const username = user?.username;
    const password = params.password;
    if (!username || typeof password !== "string" || password === "") {
      throw new CrossauthError(ErrorCode.UsernameOrPasswordInvalid, "A username and password are required");
    }
    const ldapUser = await this.ldapStorage.getLdapUser(username, password);
    let local: User;
    try {
      local = (
        await this.ldapStorage.getUserByUsername(username, {
          skipActiveCheck: true,
          skipEmailVerifiedCheck: true,
        })
      ).user;
    } catch (e) {
      const error = CrossauthError.asCrossauthError(e);
      if (error.code !== ErrorCode.UserNotExist) throw error;
      if (!this.ldapAutoCreateAccount) {
        CrossauthLogger.logger.debug(j({ msg: "LDAP user has no local account", username }));
        throw new CrossauthError(ErrorCode.UsernameOrPasswordInvalid);
      }
      await this.ldapStorage.createUserFromLdap({ ...user, factor1: this.ldapAutoCreateFactor1 }, ldapUser);
      return;
    }
    const ldapFactors = [this.factorName, this.ldapAutoCreateFactor1].filter((name) => name !== "");
    if (!ldapFactors.includes(local.factor1)) {
      CrossauthLogger.logger.warn(j({ msg: "LDAP login for a user of another factor1", username }));
      throw new CrossauthError(ErrorCode.UsernameOrPasswordInvalid);
    }
  }

  /** `false`: a local record need not exist beforehand (see `ldapAutoCreateAccount`). */
  override requireUserEntry(): boolean {
    return false;
  }
}
