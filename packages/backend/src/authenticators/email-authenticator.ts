/**
 * `EmailAuthenticator`: a second factor that emails a one-time code.
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
import { ParamType, setParameter } from "../config/index.js";
import { isEmailValid, validateEmail } from "../email/email-address.js";
import { type EmailTemplateOptions, EmailTemplates } from "../email/email-templates.js";
import { EmailTransport, type EmailTransportOptions } from "../email/email-transport.js";
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

/**
 * Options of {@link EmailAuthenticator}: its own, the SMTP options of {@link EmailTransportOptions}
 * and the template options of {@link EmailTemplateOptions}. Each is also read from
 * `CROSSAUTH_<NAME>` (e.g. `CROSSAUTH_EMAIL_AUTHENTICATOR_TOKEN_EXPIRES`).
 */
export interface EmailAuthenticatorOptions
  extends OneTimeCodeAuthenticatorOptions,
    EmailTransportOptions,
    EmailTemplateOptions {
  /** Template of the text body, relative to the views directory. Default `email/emailauthenticationtextbody.njk`. */
  emailAuthenticatorTextBody?: string;
  /** Template of the HTML body, relative to the views directory. Default `email/emailauthenticationhtmlbody.njk`. */
  emailAuthenticatorHtmlBody?: string;
  /** Subject of the email. Default `"Login code"`. */
  emailAuthenticatorSubject?: string;
  /** Seconds a code stays valid. Default 300 (5 minutes). */
  emailAuthenticatorTokenExpires?: number;
}

/**
 * Second factor that emails a 6-digit code (zero-padded, from the CSPRNG) valid for
 * `emailAuthenticatorTokenExpires` seconds. The code and its expiry are kept in session data
 * (`otp`, `expiry`), never persistently.
 *
 * The email has a text and an HTML body, rendered from Nunjucks templates (defaults shipped in the
 * package's `views/email/`, overridable with `views`) or by a `render` function.
 */
export class EmailAuthenticator extends OneTimeCodeAuthenticator {
  /** What users of this factor may do (see {@link Authenticator.capabilities}). */
  protected readonly capabilityFlags: AuthenticatorCapabilities = {
    canCreateUser: true,
    canUpdateSecrets: false,
    canUpdateUser: true,
  };
  /** Text body template. */
  emailAuthenticatorTextBody = "email/emailauthenticationtextbody.njk";
  /** HTML body template. */
  emailAuthenticatorHtmlBody = "email/emailauthenticationhtmlbody.njk";
  /** Email subject. */
  emailAuthenticatorSubject = "Login code";
  /** Seconds a code stays valid. */
  emailAuthenticatorTokenExpires = DEFAULT_ONE_TIME_CODE_EXPIRES;
  /** SMTP transport the codes are sent with. */
  readonly transport: EmailTransport;
  /** Renderer of the email bodies. */
  readonly templates: EmailTemplates;

  /**
   * @param options - see {@link EmailAuthenticatorOptions}
   * @throws CrossauthError `Configuration` when an option has the wrong type, or the expiry is not a
   *   positive integer
   */
  constructor(options: EmailAuthenticatorOptions = {}) {
    super(options, "Email");
    this.factorName = "email";
    const opts = options as Record<string, unknown>;
    setParameter("emailAuthenticatorTextBody", ParamType.String, this, opts, "EMAIL_AUTHENTICATOR_TEXT_BODY");
    setParameter("emailAuthenticatorHtmlBody", ParamType.String, this, opts, "EMAIL_AUTHENTICATOR_HTML_BODY");
    setParameter("emailAuthenticatorSubject", ParamType.String, this, opts, "EMAIL_AUTHENTICATOR_SUBJECT");
    setParameter(
      "emailAuthenticatorTokenExpires",
      ParamType.Integer,
      this,
      opts,
      "EMAIL_AUTHENTICATOR_TOKEN_EXPIRES",
    );
    if (this.emailAuthenticatorTokenExpires <= 0) {
      throw new CrossauthError(ErrorCode.Configuration, "emailAuthenticatorTokenExpires must be positive");
    }
    this.transport = new EmailTransport(options);
    this.templates = new EmailTemplates(options);
  }

  /**
   * Whether an address has a valid form: `local@domain.tld`, one `@`, no spaces or quoted parts, a
   * dot-atom local part of at most 64 bytes, a domain of two or more labels ending in a letter-only
   * (or `xn--`) top-level domain, and at most 254 bytes in all.
   * @param email - the address to check
   * @returns true when it is valid
   */
  static isEmailValid(email: string): boolean {
    return isEmailValid(email);
  }

  /**
   * Throws unless an address has a valid form (see {@link EmailAuthenticator.isEmailValid}).
   * @param email - the address to check
   * @throws CrossauthError `InvalidEmail` when it is missing or invalid
   */
  static validateEmail(email: string | null | undefined): asserts email is string {
    validateEmail(email);
  }

  /**
   * Zero-pads a non-negative integer.
   * @param num - the number
   * @param places - total number of digits
   * @returns e.g. `zeroPad(42, 6)` → `"000042"`
   */
  static zeroPad(num: number, places: number): string {
    return zeroPad(num, places);
  }

  /**
   * Creates a code and emails it to the user's `email`, or to the username when there is no
   * `email` (the username is then expected to be an address).
   * @param user - the user to send to
   * @returns `{otp, expiry}` to keep in the session (`expiry` in ms since the epoch)
   * @throws CrossauthError `InvalidEmail` when the address is invalid or rejected by the mail server;
   *   `Configuration` or `Connection` when the email cannot be sent (see {@link EmailTransport.send})
   */
  override async createOneTimeSecrets(user: User): Promise<UserSecretsInputFields> {
    const email = EmailAuthenticator.addressOf(user);
    return { ...(await this.sendCode(user.username, email)) };
  }

  /**
   * Starts setting up the factor: emails a code.
   * @param user - the user; the code goes to `email`, or to the username when it has none
   * @returns `userData` `{username, email, factor2}` and `sessionData` with the same plus `otp` and `expiry`
   * @throws CrossauthError as {@link EmailAuthenticator.createOneTimeSecrets}
   */
  override async prepareConfiguration(user: UserInputFields): Promise<PrepareConfigurationResult> {
    const email = EmailAuthenticator.addressOf(user);
    const secrets = await this.sendCode(user.username, email);
    return prepareWithCode({ username: user.username, email, factor2: this.factorName }, secrets);
  }

  /**
   * Resumes set-up by emailing a new code to the address in the session's `2fa` data.
   * @param _username - ignored (the session's data names the user)
   * @param sessionKey - the session key holding the `2fa` data
   * @returns `userData` `{username, email, factor2}`, the new `secrets` and the `2fa` data with the new
   *   code as `newSessionData`; undefined when the session has no `2fa` data
   * @throws CrossauthError `DataFormat` when the session data is not JSON; `InvalidEmail`,
   *   `Configuration` or `Connection` as {@link EmailAuthenticator.createOneTimeSecrets}
   */
  override async reprepareConfiguration(
    _username: string,
    sessionKey: Key,
  ): Promise<ReprepareConfigurationResult | undefined> {
    const data = twoFactorSessionData(sessionKey);
    if (!data) return undefined;
    const email = typeof data.email === "string" ? data.email : undefined;
    EmailAuthenticator.validateEmail(email);
    const username = typeof data.username === "string" ? data.username : "";
    const secrets = await this.sendCode(username, email);
    return reprepareWithCode(data, ["username", "email", "factor2"], secrets);
  }

  /** `true`: receiving the code proves the address, so no separate verification email is needed. */
  override skipEmailVerificationOnSignup(): boolean {
    return true;
  }
  /** `"email"` */
  mfaChannel(): MfaChannel {
    return "email";
  }

  /** The address codes go to: `email`, else the username; checked. */
  private static addressOf(user: UserInputFields): string {
    const email = typeof user.email === "string" && user.email !== "" ? user.email : user.username;
    EmailAuthenticator.validateEmail(email);
    return email;
  }

  /** Creates a code, emails it and returns it with its expiry. */
  private async sendCode(username: string, email: string): Promise<OneTimeSecrets> {
    const secrets = oneTimeSecrets(createOneTimeCode(), this.emailAuthenticatorTokenExpires, this.now());
    const data = {
      username,
      email,
      otp: secrets.otp,
      expiryMinutes: Math.max(1, Math.floor(this.emailAuthenticatorTokenExpires / 60)),
      expirySeconds: this.emailAuthenticatorTokenExpires,
    };
    const [text, html] = await Promise.all([
      this.templates.renderText(this.emailAuthenticatorTextBody, data),
      this.templates.renderHtml(this.emailAuthenticatorHtmlBody, data),
    ]);
    const messageId = await this.transport.send({
      to: email,
      subject: this.emailAuthenticatorSubject,
      text,
      html,
    });
    // No hash of the code either: a 6-digit code is recovered from its hash by trying them all.
    CrossauthLogger.logger.debug(j({ msg: "Sent email authentication code", username, messageId }));
    return secrets;
  }
}
