/**
 * `DummyFactor2Authenticator`: a second factor whose one-time code is fixed, for tests and demos.
 * @module
 */
import type { Key, User, UserInputFields, UserSecretsInputFields } from "@crossauth/common";
import type {
  AuthenticatorCapabilities,
  MfaChannel,
  PrepareConfigurationResult,
  ReprepareConfigurationResult,
} from "./authenticator.js";
import {
  DEFAULT_ONE_TIME_CODE_EXPIRES,
  OneTimeCodeAuthenticator,
  type OneTimeCodeAuthenticatorOptions,
  type OneTimeSecrets,
  oneTimeSecrets,
  prepareWithCode,
  reprepareWithCode,
  twoFactorSessionData,
} from "./one-time-code.js";

/** Options of {@link DummyFactor2Authenticator}: `friendlyName` and the clock `now`. */
export type DummyFactor2AuthenticatorOptions = OneTimeCodeAuthenticatorOptions;

/**
 * A second factor that "sends" the same code every time, valid for 300 seconds. It behaves like the
 * email factor (type `oob`, channel `email`) without sending anything. Never use it in production.
 * Login checks (`authenticateUser`, constant time, `InvalidToken` / `Expired`) come from
 * {@link OneTimeCodeAuthenticator}.
 */
export class DummyFactor2Authenticator extends OneTimeCodeAuthenticator {
  /** What users of this factor may do (see {@link Authenticator.capabilities}). */
  protected readonly capabilityFlags: AuthenticatorCapabilities = {
    canCreateUser: false,
    canUpdateSecrets: false,
    canUpdateUser: false,
  };
  private readonly fixedCode: string;

  /**
   * @param code - the code every login must enter
   * @param options - see {@link DummyFactor2AuthenticatorOptions}
   */
  constructor(code: string, options: DummyFactor2AuthenticatorOptions = {}) {
    super(options, "Dummy code");
    this.fixedCode = code;
  }

  /** The fixed code. */
  get code(): string {
    return this.fixedCode;
  }

  private newSecrets(): OneTimeSecrets {
    return oneTimeSecrets(this.fixedCode, DEFAULT_ONE_TIME_CODE_EXPIRES, this.now());
  }

  /**
   * "Sends" the fixed code.
   * @param _user - ignored
   * @returns `{otp, expiry}`, expiry 300 s from now in milliseconds since the epoch
   */
  override async createOneTimeSecrets(_user: User): Promise<UserSecretsInputFields> {
    return this.newSecrets();
  }

  /**
   * Starts setting the factor up.
   * @param user - the user; `factor2` defaults to this factor's name when the user has none
   * @returns userData `{username, factor2}`; sessionData the same plus `otp` and `expiry`
   */
  override async prepareConfiguration(
    user: UserInputFields,
  ): Promise<PrepareConfigurationResult | undefined> {
    const userData = { username: user.username, factor2: user.factor2 || this.factorName };
    return prepareWithCode(userData, this.newSecrets());
  }

  /**
   * Issues a new expiry for an interrupted set-up.
   * @param _username - ignored
   * @param sessionKey - the session; its `2fa` data holds `username` and `factor2`
   * @returns userData `{username, factor2}`, secrets `{otp, expiry}` and the replacement `2fa`
   *   data; undefined when the session has no `2fa` data
   * @throws CrossauthError `DataFormat` when the session data is not a JSON object
   */
  override async reprepareConfiguration(
    _username: string,
    sessionKey: Key,
  ): Promise<ReprepareConfigurationResult | undefined> {
    const data = twoFactorSessionData(sessionKey);
    if (data === undefined) return undefined;
    return reprepareWithCode(data, ["username", "factor2"], this.newSecrets());
  }

  /** `"email"`, as in the reference. */
  mfaChannel(): MfaChannel {
    return "email";
  }
}
