/**
 * The base classes of every authentication factor.
 * @module
 */
import type { Key, User, UserInputFields, UserSecretsInputFields } from "@crossauth/common";

/** Options every authenticator accepts. */
export interface AuthenticationOptions {
  /** Name shown to users choosing a factor, e.g. "Authenticator app". */
  friendlyName?: string;
}

/** What a user supplies to authenticate (besides the username): a password, a code... */
export interface AuthenticationParameters extends UserSecretsInputFields {
  password?: string;
  otp?: string;
  totpsecret?: string;
  expiry?: number;
}

/** What an authenticator lets the application do. */
export interface AuthenticatorCapabilities {
  canCreateUser: boolean;
  canUpdateSecrets: boolean;
  canUpdateUser: boolean;
}

/** Result of {@link Authenticator.prepareConfiguration}: what to show the user and what to keep in the session. */
export interface PrepareConfigurationResult {
  /** Data for the user (e.g. a QR code); never persistent secrets of other factors. */
  userData: Record<string, unknown>;
  /** Data to keep in the session until the factor is confirmed (includes secrets). */
  sessionData: Record<string, unknown>;
}

/** Result of {@link Authenticator.reprepareConfiguration}. */
export interface ReprepareConfigurationResult {
  /** Data for the user, as in {@link PrepareConfigurationResult}. */
  userData: Record<string, unknown>;
  /** Secrets to check the next code against. */
  secrets: Partial<UserSecretsInputFields>;
  /** Replacement session data, or undefined to keep the current one. */
  newSessionData?: Record<string, unknown>;
}

/** How a second factor reaches the user (OAuth password-MFA grant). */
export type MfaChannel = "none" | "email" | "sms";
/** What kind of second factor this is (OAuth password-MFA grant). */
export type MfaType = "none" | "oob" | "otp";

/**
 * Base class of authenticators (factors). The session layer names each one by its key in its
 * authenticator map; that name is set in {@link Authenticator.factorName}.
 */
export abstract class Authenticator {
  /** The factor name this authenticator is registered under (set by the session layer). */
  factorName = "";
  /** Name shown to users. */
  friendlyName: string;

  /**
   * @param options - see {@link AuthenticationOptions}
   * @param defaultFriendlyName - friendly name used when the options give none
   */
  constructor(options: AuthenticationOptions = {}, defaultFriendlyName = "") {
    this.friendlyName = options.friendlyName ?? defaultFriendlyName;
  }

  /**
   * Checks what the user supplied.
   * @param user - the user (absent for factors that don't need one)
   * @param secrets - stored secrets (persistent, or transient ones from the session)
   * @param params - the user's input
   * @throws CrossauthError with a code saying why authentication failed
   */
  abstract authenticateUser(
    user: UserInputFields | undefined,
    secrets: UserSecretsInputFields,
    params: AuthenticationParameters,
  ): Promise<void>;

  /**
   * Creates the secrets to store for a user (e.g. a password hash). Default: none, `{}`.
   * @param username - the user
   * @param params - the user's input
   * @param repeatParams - a repeated input to check against `params` (e.g. repeat password)
   */
  async createPersistentSecrets(
    _username: string,
    _params: AuthenticationParameters,
    _repeatParams?: AuthenticationParameters,
  ): Promise<UserSecretsInputFields> {
    return {};
  }

  /**
   * Creates and delivers a one-time secret (e.g. emails a code); returns what to keep in the session.
   * Default: nothing to deliver, `{}`.
   */
  async createOneTimeSecrets(_user: User): Promise<UserSecretsInputFields> {
    return {};
  }

  /** What users of this factor may do; each subclass declares its own. */
  protected abstract readonly capabilityFlags: AuthenticatorCapabilities;

  /** Whether users may be created with this factor. */
  canCreateUser(): boolean {
    return this.capabilityFlags.canCreateUser;
  }
  /** Whether users may change this factor's secrets. */
  canUpdateSecrets(): boolean {
    return this.capabilityFlags.canUpdateSecrets;
  }
  /** Whether users of this factor may update their details. */
  canUpdateUser(): boolean {
    return this.capabilityFlags.canUpdateUser;
  }
  /** Names of the persistent secrets this factor stores (e.g. `["password"]`). */
  abstract secretNames(): string[];
  /** Names of the transient secrets users supply (e.g. `["otp"]`). */
  abstract transientSecretNames(): string[];
  /** Checks secrets against local rules; one message per failed rule. Default: no rules, `[]`. */
  validateSecrets(_params: AuthenticationParameters): string[] {
    return [];
  }
  /** Whether signing up with this factor proves the email address. Default false. */
  skipEmailVerificationOnSignup(): boolean {
    return false;
  }
  /** Starts setting the factor up for a user. Default: nothing to set up, undefined. */
  async prepareConfiguration(_user: UserInputFields): Promise<PrepareConfigurationResult | undefined> {
    return undefined;
  }
  /** Resumes an interrupted set-up from the session. Default: nothing to resume, undefined. */
  async reprepareConfiguration(
    _username: string,
    _sessionKey: Key,
  ): Promise<ReprepareConfigurationResult | undefined> {
    return undefined;
  }
  /** OAuth password-MFA type. */
  abstract mfaType(): MfaType;
  /** OAuth password-MFA channel. */
  abstract mfaChannel(): MfaChannel;

  /** Whether a user must already exist in user storage to authenticate (default true). */
  requireUserEntry(): boolean {
    return true;
  }

  /** The three capability flags together. */
  capabilities(): AuthenticatorCapabilities {
    return { ...this.capabilityFlags };
  }
}

/** Base class of factors that check a password: one persistent secret, `password`, and no MFA. */
export abstract class PasswordAuthenticator extends Authenticator {
  /** `["password"]` */
  secretNames(): string[] {
    return ["password"];
  }
  /** `[]` */
  transientSecretNames(): string[] {
    return [];
  }
  /** `"none"` */
  mfaType(): MfaType {
    return "none";
  }
  /** `"none"` */
  mfaChannel(): MfaChannel {
    return "none";
  }
}
