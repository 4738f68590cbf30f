/**
 * `SmsAuthenticator`: the abstract second factor that sends one-time codes by SMS.
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
import nunjucks from "nunjucks";
import { ParamType, setParameter } from "../config/set-parameter.js";
import type {
  AuthenticatorCapabilities,
  MfaChannel,
  PrepareConfigurationResult,
  ReprepareConfigurationResult,
} from "./authenticator.js";
import {
  createOneTimeCode,
  DEFAULT_ONE_TIME_CODE_EXPIRES,
  OneTimeCodeAuthenticator,
  type OneTimeCodeAuthenticatorOptions,
  type OneTimeSecrets,
  oneTimeSecrets,
  prepareWithCode,
  reprepareWithCode,
  twoFactorSessionData,
  zeroPad,
} from "./one-time-code.js";

/** Renders a named template with data (the `render` option). */
export type SmsRenderFn = (template: string, data: Record<string, unknown>) => string;

/** Options of {@link SmsAuthenticator}. Each string/number option may also come from `CROSSAUTH_<NAME>`. */
export interface SmsAuthenticatorOptions extends OneTimeCodeAuthenticatorOptions {
  /** Sender of the messages (`CROSSAUTH_SMS_AUTHENTICATOR_FROM`). */
  smsAuthenticatorFrom?: string;
  /** Seconds before a code expires; default 300 (`CROSSAUTH_SMS_AUTHENTICATOR_TOKEN_EXPIRES`). */
  smsAuthenticatorTokenExpires?: number;
  /**
   * Nunjucks template of the message text, looked up in `views` and then among the built-in
   * templates; default `smsauthenticationbody.njk` (`CROSSAUTH_SMS_AUTHENTICATOR_BODY`). It gets
   * `otp`, `username` and `expires` (seconds).
   */
  smsAuthenticatorBody?: string;
  /** Directory of Nunjucks templates (`CROSSAUTH_VIEWS`). */
  views?: string;
  /** Replaces Nunjucks: called with the template name and its data. */
  render?: SmsRenderFn;
}

/** Name of the built-in message template. */
export const DEFAULT_SMS_BODY_TEMPLATE = "smsauthenticationbody.njk";
const BUILT_IN_TEMPLATES: Readonly<Record<string, string>> = {
  [DEFAULT_SMS_BODY_TEMPLATE]: "Your verification code is {{ otp }}",
};
const builtInLoader: nunjucks.ILoader = {
  getSource: (name: string) => {
    const src = BUILT_IN_TEMPLATES[name];
    return src === undefined
      ? (null as unknown as nunjucks.LoaderSource)
      : { src, path: name, noCache: false };
  },
};

/** E.164: a `+`, then 8 to 15 digits, the first not 0. */
const PHONE_PATTERN = /^\+[1-9][0-9]{7,14}$/;

/**
 * Sends a 6-digit code by SMS to the user's `phone` (factor name `sms`). Subclasses implement
 * {@link sendSms} for a provider (see `TwilioAuthenticator`, `DummySmsAuthenticator`).
 *
 * Codes come from `crypto.randomInt`, are zero-padded, expire after `smsAuthenticatorTokenExpires`
 * seconds and are checked in constant time by {@link OneTimeCodeAuthenticator.authenticateUser}.
 * The message text is rendered with Nunjucks with autoescaping off (SMS is plain text), unless a
 * `render` function is given.
 */
export abstract class SmsAuthenticator extends OneTimeCodeAuthenticator {
  /** What users of this factor may do (see {@link Authenticator.capabilities}). */
  protected readonly capabilityFlags: AuthenticatorCapabilities = {
    canCreateUser: true,
    canUpdateSecrets: false,
    canUpdateUser: true,
  };
  /** Sender of the messages. */
  smsAuthenticatorFrom = "";
  /** Seconds before a code expires. */
  smsAuthenticatorTokenExpires = DEFAULT_ONE_TIME_CODE_EXPIRES;
  /** Template of the message text. */
  smsAuthenticatorBody = DEFAULT_SMS_BODY_TEMPLATE;
  /** Directory of templates, or "" for the built-in ones only. */
  views = "";
  private readonly renderFn: SmsRenderFn;

  /**
   * @param options - see {@link SmsAuthenticatorOptions}
   * @throws CrossauthError `Configuration` for an option of the wrong type or a non-positive expiry
   */
  constructor(options: SmsAuthenticatorOptions = {}) {
    super(options, "SMS");
    const opts = options as Record<string, unknown>;
    setParameter("smsAuthenticatorFrom", ParamType.String, this, opts, "SMS_AUTHENTICATOR_FROM");
    setParameter(
      "smsAuthenticatorTokenExpires",
      ParamType.Integer,
      this,
      opts,
      "SMS_AUTHENTICATOR_TOKEN_EXPIRES",
    );
    setParameter("smsAuthenticatorBody", ParamType.String, this, opts, "SMS_AUTHENTICATOR_BODY");
    setParameter("views", ParamType.String, this, opts, "VIEWS");
    if (this.smsAuthenticatorTokenExpires < 1) {
      throw new CrossauthError(ErrorCode.Configuration, "smsAuthenticatorTokenExpires must be positive");
    }
    if (options.render) {
      this.renderFn = options.render;
    } else {
      const loaders: nunjucks.ILoader[] = this.views ? [new nunjucks.FileSystemLoader(this.views)] : [];
      const env = new nunjucks.Environment([...loaders, builtInLoader], { autoescape: false });
      this.renderFn = (template, data) => env.render(template, data);
    }
  }

  /**
   * Sends a text message through the provider.
   * @param to - the recipient, E.164 (already validated)
   * @param body - the message text
   * @returns the provider's message id
   * @throws CrossauthError when sending fails (e.g. `Connection`, `FetchError`)
   */
  abstract sendSms(to: string, body: string): Promise<string>;

  /**
   * Whether a phone number has the E.164 form `^\+[1-9][0-9]{7,14}$`.
   * @param number - the number
   */
  static isPhoneValid(number: string | null | undefined): boolean {
    return typeof number === "string" && PHONE_PATTERN.test(number);
  }

  /**
   * Throws unless a phone number has the E.164 form: `+` then 8 to 15 digits, the first not 0.
   * @param number - the number
   * @throws CrossauthError `InvalidPhoneNumber`
   */
  static validatePhone(number: string | null | undefined): void {
    if (!SmsAuthenticator.isPhoneValid(number)) {
      throw new CrossauthError(ErrorCode.InvalidPhoneNumber);
    }
  }

  /**
   * Left-pads a number with zeros.
   * @param num - the number
   * @param places - total number of digits
   */
  static zeroPad(num: number, places: number): string {
    return zeroPad(num, places);
  }

  /**
   * Renders the message and sends it (subclasses may wrap this to observe codes).
   * @param to - the recipient, E.164
   * @param otp - the code
   * @param username - the user the code is for
   * @returns the provider's message id
   * @throws CrossauthError `Configuration` when the template cannot be rendered; whatever
   *   {@link sendSms} throws (other errors become `Connection`)
   */
  protected async sendOtp(to: string, otp: string, username: string): Promise<string> {
    let body: string;
    try {
      body = this.renderFn(this.smsAuthenticatorBody, {
        otp,
        username,
        expires: this.smsAuthenticatorTokenExpires,
      });
    } catch {
      throw new CrossauthError(
        ErrorCode.Configuration,
        `Cannot render SMS template ${this.smsAuthenticatorBody}`,
      );
    }
    try {
      return await this.sendSms(to, body);
    } catch (e) {
      if (e instanceof CrossauthError) throw e;
      throw new CrossauthError(ErrorCode.Connection, "Couldn't send SMS");
    }
  }

  /** Validates the number, creates a code, sends it and returns the transient secrets. */
  private async sendNewCode(phone: unknown, username: string): Promise<OneTimeSecrets> {
    const to = typeof phone === "string" ? phone : undefined;
    SmsAuthenticator.validatePhone(to);
    const otp = createOneTimeCode();
    const messageId = await this.sendOtp(to as string, otp, username);
    CrossauthLogger.logger.info(j({ msg: "Sent SMS code", username, messageId }));
    return oneTimeSecrets(otp, this.smsAuthenticatorTokenExpires, this.now());
  }

  /**
   * Creates a code and sends it to the user's `phone`.
   * @param user - the user
   * @returns `{otp, expiry}` with expiry in milliseconds since the epoch
   * @throws CrossauthError `InvalidPhoneNumber` when `user.phone` is absent or not E.164; sending errors
   */
  override async createOneTimeSecrets(user: User): Promise<UserSecretsInputFields> {
    return this.sendNewCode(user.phone, user.username);
  }

  /**
   * Starts setting the factor up: sends a code to `user.phone`.
   * @param user - the user; `factor2` defaults to this factor's name when the user has none
   * @returns userData `{username, phone, factor2}`; sessionData the same plus `otp` and `expiry`
   * @throws CrossauthError `InvalidPhoneNumber` when `user.phone` is absent or not E.164; sending errors
   */
  override async prepareConfiguration(
    user: UserInputFields,
  ): Promise<PrepareConfigurationResult | undefined> {
    const secrets = await this.sendNewCode(user.phone, user.username);
    const userData = { username: user.username, phone: user.phone, factor2: user.factor2 || this.factorName };
    return prepareWithCode(userData, secrets);
  }

  /**
   * Sends a new code for an interrupted set-up, to the phone in the session's `2fa` data.
   * @param username - used only when the `2fa` data has no `username`
   * @param sessionKey - the session; its `2fa` data holds `username`, `phone` and `factor2`
   * @returns userData `{username, phone, factor2}`, secrets `{otp, expiry}` and the replacement `2fa`
   *   data; undefined when the session has no `2fa` data
   * @throws CrossauthError `InvalidPhoneNumber` when the stored phone is not E.164; `DataFormat`
   *   when the session data is not a JSON object; sending errors
   */
  override async reprepareConfiguration(
    username: string,
    sessionKey: Key,
  ): Promise<ReprepareConfigurationResult | undefined> {
    const data = twoFactorSessionData(sessionKey);
    if (data === undefined) return undefined;
    const to = typeof data.username === "string" ? data.username : username;
    const secrets = await this.sendNewCode(data.phone, to);
    return reprepareWithCode(data, ["username", "phone", "factor2"], secrets);
  }

  /** `"sms"` */
  mfaChannel(): MfaChannel {
    return "sms";
  }
}
