/**
 * `TokenEmailer`: emails single-use email-verification and password-reset links and checks the
 * tokens they carry (wire-formats.md, "Email verification / password reset").
 * @module
 */
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type Key,
  KeyPrefix,
  type User,
  UserState,
} from "@crossauth/common";
import { ParamType, setParameter } from "../config/index.js";
import { hash } from "../crypto/signing.js";
import { KeyStorage } from "../storage/key-storage.js";
import type { UserStorage, UserStorageGetOptions } from "../storage/user-storage.js";
import { isEmailValid, validateEmail } from "./email-address.js";
import { type EmailRenderFunction, EmailTemplates } from "./email-templates.js";
import {
  type EmailTokenKind,
  findEmailToken,
  invalidEmailToken,
  saveEmailToken,
} from "./email-token-keys.js";
import { EmailTransport, type EmailTransportOptions } from "./email-transport.js";

/**
 * Options of {@link TokenEmailer}: its own and the SMTP options of {@link EmailTransportOptions}.
 * Each is also read from `CROSSAUTH_<NAME>` (e.g. `CROSSAUTH_SITE_URL`, `CROSSAUTH_VERIFY_EMAIL_EXPIRES`).
 */
export interface TokenEmailerOptions extends EmailTransportOptions {
  /** Base URL of the site, e.g. `https://example.com`, put before `prefix` in links. Required to send. */
  siteUrl?: string;
  /** Path between `siteUrl` and the endpoint name in links. Default `"/"`. */
  prefix?: string;
  /** Seconds an email-verification token stays valid. Default 86400 (one day). */
  verifyEmailExpires?: number;
  /** Seconds a password-reset token stays valid. Default 86400 (one day). */
  passwordResetExpires?: number;
  /** Subject of the verification email. Default `"Please verify your email"`. */
  emailVerificationSubject?: string;
  /** Text body template of the verification email. Default `email/emailverificationtextbody.njk`. */
  emailVerificationTextBody?: string;
  /** HTML body template of the verification email. Default `email/emailverificationhtmlbody.njk`. */
  emailVerificationHtmlBody?: string;
  /** Subject of the password-reset email. Default `"Password reset"`. */
  passwordResetSubject?: string;
  /** Text body template of the password-reset email. Default `email/passwordresettextbody.njk`. */
  passwordResetTextBody?: string;
  /** HTML body template of the password-reset email. Default `email/passwordresethtmlbody.njk`. */
  passwordResetHtmlBody?: string;
  /** Directory searched for templates before the package's defaults (`CROSSAUTH_VIEWS`). */
  views?: string;
  /** Renders every template instead of Nunjucks when given. */
  render?: EmailRenderFunction;
  /** Clock; default the current time (tests inject their own). */
  now?: () => Date;
}

/** What an email-verification token stands for. */
export interface EmailVerificationTokenData {
  /** The user the token was issued to. */
  userid: string | number;
  /** The address being verified when the user is changing it; `""` for account activation. */
  newEmail: string;
}

/** Default lifetime of both kinds of token, in seconds. */
const DEFAULT_TOKEN_EXPIRES = 86400;
/** Lookups of the user a token belongs to ignore its state: callers decide what the state allows. */
const ANY_STATE: UserStorageGetOptions = { skipActiveCheck: true, skipEmailVerifiedCheck: true };
/** States in which a user may not ask for a password reset themselves (an admin still may). */
const NO_SELF_SERVICE_RESET: ReadonlySet<string> = new Set([
  UserState.disabled,
  UserState.awaitingEmailVerification,
  UserState.awaitingTwoFactorSetupAndEmailVerification,
]);

/** The parts that differ between the two kinds of token. */
interface TokenKind extends EmailTokenKind {
  /** Endpoint name in the link, with its trailing slash. */
  readonly path: string;
  readonly subject: string;
  readonly textBody: string;
  readonly htmlBody: string;
}

/**
 * Sends email-verification and password-reset tokens and validates them.
 *
 * A token is `randomValue(16)`, sent raw in the link (`${siteUrl}${prefix}verifyemail/${token}` or
 * `${siteUrl}${prefix}resetpassword/${token}`) and stored only as `e:`/`p:` + `hash(token)`, with the
 * user's id, an expiry and (verification) the new address in `data`. Consuming a token deletes it
 * atomically (`KeyStorage.consumeKey`), so of concurrent uses exactly one succeeds. Unknown and
 * already used tokens fail alike with `InvalidKey`.
 *
 * Emails are rendered by {@link EmailTemplates} (data `{username, email, token, link, expiryHours,
 * siteUrl, ...extraData}`) and sent by {@link EmailTransport}. Raw tokens are never logged; their
 * hash is, for correlation.
 */
export class TokenEmailer {
  /** Base URL of links; required to send. */
  siteUrl?: string;
  /** Path between `siteUrl` and the endpoint name. */
  prefix = "/";
  /** Seconds an email-verification token stays valid. */
  verifyEmailExpires = DEFAULT_TOKEN_EXPIRES;
  /** Seconds a password-reset token stays valid. */
  passwordResetExpires = DEFAULT_TOKEN_EXPIRES;
  /** Subject of the verification email. */
  emailVerificationSubject = "Please verify your email";
  /** Text body template of the verification email. */
  emailVerificationTextBody = "email/emailverificationtextbody.njk";
  /** HTML body template of the verification email. */
  emailVerificationHtmlBody = "email/emailverificationhtmlbody.njk";
  /** Subject of the password-reset email. */
  passwordResetSubject = "Password reset";
  /** Text body template of the password-reset email. */
  passwordResetTextBody = "email/passwordresettextbody.njk";
  /** HTML body template of the password-reset email. */
  passwordResetHtmlBody = "email/passwordresethtmlbody.njk";
  /** SMTP transport the emails are sent with. */
  readonly transport: EmailTransport;
  /** Renderer of the email bodies. */
  readonly templates: EmailTemplates;
  private readonly userStorage: UserStorage;
  private readonly keyStorage: KeyStorage;
  private readonly now: () => Date;

  /**
   * @param userStorage - where the users the tokens are for live
   * @param keyStorage - where the tokens are stored (hashed)
   * @param options - see {@link TokenEmailerOptions}; options win over `CROSSAUTH_*` variables
   * @throws CrossauthError `Configuration` when an option has the wrong type or an expiry is not a
   *   positive integer
   */
  constructor(userStorage: UserStorage, keyStorage: KeyStorage, options: TokenEmailerOptions = {}) {
    const opts = options as Record<string, unknown>;
    setParameter("siteUrl", ParamType.String, this, opts, "SITE_URL");
    setParameter("prefix", ParamType.String, this, opts, "PREFIX");
    setParameter("verifyEmailExpires", ParamType.Integer, this, opts, "VERIFY_EMAIL_EXPIRES");
    setParameter("passwordResetExpires", ParamType.Integer, this, opts, "PASSWORD_RESET_EXPIRES");
    setParameter("emailVerificationSubject", ParamType.String, this, opts, "EMAIL_VERIFICATION_SUBJECT");
    setParameter("emailVerificationTextBody", ParamType.String, this, opts, "EMAIL_VERIFICATION_TEXT_BODY");
    setParameter("emailVerificationHtmlBody", ParamType.String, this, opts, "EMAIL_VERIFICATION_HTML_BODY");
    setParameter("passwordResetSubject", ParamType.String, this, opts, "PASSWORD_RESET_SUBJECT");
    setParameter("passwordResetTextBody", ParamType.String, this, opts, "PASSWORD_RESET_TEXT_BODY");
    setParameter("passwordResetHtmlBody", ParamType.String, this, opts, "PASSWORD_RESET_HTML_BODY");
    for (const name of ["verifyEmailExpires", "passwordResetExpires"] as const) {
      if (this[name] <= 0) throw new CrossauthError(ErrorCode.Configuration, `${name} must be positive`);
    }
    if (options.now !== undefined && typeof options.now !== "function") {
      throw new CrossauthError(ErrorCode.Configuration, "Option now must be a function");
    }
    this.userStorage = userStorage;
    this.keyStorage = keyStorage;
    this.transport = new EmailTransport(options);
    this.templates = new EmailTemplates({ views: options.views, render: options.render });
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The stored value of an email-verification token.
   * @param token - the raw token
   * @returns `"e:" + hash(token)`
   */
  static hashEmailVerificationToken(token: string): string {
    return KeyPrefix.emailVerificationToken + hash(token);
  }

  /**
   * The stored value of a password-reset token.
   * @param token - the raw token
   * @returns `"p:" + hash(token)`
   */
  static hashPasswordResetToken(token: string): string {
    return KeyPrefix.passwordResetToken + hash(token);
  }

  /**
   * Whether an address has a valid form (the rules of {@link isEmailValid}).
   * @param email - the address to check
   */
  static isEmailValid(email: string): boolean {
    return isEmailValid(email);
  }

  /**
   * Throws unless an address has a valid form.
   * @param email - the address to check
   * @throws CrossauthError `InvalidEmail` when it is missing or invalid
   */
  static validateEmail(email: string | undefined): void {
    validateEmail(email);
  }

  /**
   * Creates an email-verification token for a user and stores its hash.
   * @param userid - the user
   * @param newEmail - the address being changed to, or `""` to verify the account's own address
   * @returns the raw token (to put in the link; not stored)
   * @throws CrossauthError `Connection` on storage failure
   */
  async createAndSaveEmailVerificationToken(userid: string | number, newEmail = ""): Promise<string> {
    const data = newEmail === "" ? undefined : { newemail: newEmail };
    return saveEmailToken(this.keyStorage, this.emailKind(), userid, KeyStorage.encodeData(data), this.now());
  }

  /**
   * Creates a password-reset token for a user and stores its hash.
   * @param userid - the user
   * @returns the raw token (to put in the link; not stored)
   * @throws CrossauthError `Connection` on storage failure
   */
  async createAndSavePasswordResetToken(userid: string | number): Promise<string> {
    return saveEmailToken(this.keyStorage, this.resetKind(), userid, KeyStorage.encodeData({}), this.now());
  }

  /**
   * Creates an email-verification token and emails its link. The email goes to `newEmail` when given,
   * else to the user's `email`, else to the username when it is an address. When sending fails the
   * token is deleted again.
   * @param userid - the user (looked up whatever its state)
   * @param newEmail - the address being changed to, or `""` for account activation
   * @param extraData - more values for the templates (they may override the standard ones)
   * @throws CrossauthError `Configuration` without `siteUrl` (or a template or SMTP configuration
   *   problem); `UserNotExist`; `InvalidEmail` when there is no valid address or the server rejects
   *   it; `Connection` when the email cannot be sent
   */
  async sendEmailVerificationToken(
    userid: string | number,
    newEmail = "",
    extraData: Record<string, unknown> = {},
  ): Promise<void> {
    const siteUrl = this.requireSiteUrl();
    const { user } = await this.userStorage.getUserById(userid, ANY_STATE);
    const to = newEmail !== "" ? newEmail : TokenEmailer.addressOf(user);
    TokenEmailer.validateEmail(to);
    const token = await this.createAndSaveEmailVerificationToken(userid, newEmail);
    await this.sendToken(this.emailKind(), siteUrl, user, to, token, extraData);
  }

  /**
   * Creates a password-reset token and emails its link to the user's `email`, else to the username
   * when it is an address. When sending fails the token is deleted again.
   * @param userid - the user (looked up whatever its state)
   * @param extraData - more values for the templates (they may override the standard ones)
   * @param asAdmin - sent on an admin's behalf: then the user's state does not matter; otherwise
   *   users who are `disabled` or whose address is not verified yet get no email
   * @throws CrossauthError `Configuration` without `siteUrl` (or a template or SMTP configuration
   *   problem); `UserNotExist`; `UserNotActive` (see `asAdmin`); `InvalidEmail` when there is no
   *   valid address or the server rejects it; `Connection` when the email cannot be sent
   */
  async sendPasswordResetToken(
    userid: string | number,
    extraData: Record<string, unknown> = {},
    asAdmin = false,
  ): Promise<void> {
    const siteUrl = this.requireSiteUrl();
    const { user } = await this.userStorage.getUserById(userid, ANY_STATE);
    if (!asAdmin && NO_SELF_SERVICE_RESET.has(user.state)) {
      throw new CrossauthError(ErrorCode.UserNotActive);
    }
    const to = TokenEmailer.addressOf(user);
    const token = await this.createAndSavePasswordResetToken(userid);
    await this.sendToken(this.resetKind(), siteUrl, user, to, token, extraData);
  }

  /**
   * Checks an email-verification token without using it up.
   * @param token - the raw token from the link
   * @returns the user it is for and the address being verified (`""` for account activation)
   * @throws CrossauthError `InvalidKey` when unknown or already used; `Expired` when past its expiry;
   *   `DataFormat` when its stored data is not JSON; `Connection` on storage failure
   */
  async verifyEmailVerificationToken(token: string): Promise<EmailVerificationTokenData> {
    return TokenEmailer.verificationData(
      await findEmailToken(this.keyStorage, this.emailKind(), token, false, this.now()),
    );
  }

  /**
   * Uses up an email-verification token: it is deleted atomically, so of concurrent calls with one
   * token exactly one succeeds; its expiry is checked afterwards (an expired token is gone too).
   * @param token - the raw token from the link
   * @returns the user it is for and the address being verified (`""` for account activation)
   * @throws CrossauthError as {@link TokenEmailer.verifyEmailVerificationToken}
   */
  async consumeEmailVerificationToken(token: string): Promise<EmailVerificationTokenData> {
    return TokenEmailer.verificationData(
      await findEmailToken(this.keyStorage, this.emailKind(), token, true, this.now()),
    );
  }

  /**
   * Checks a password-reset token without using it up.
   * @param token - the raw token from the link
   * @returns the user it is for, whatever its state (e.g. `passwordresetneeded`)
   * @throws CrossauthError `InvalidKey` when unknown, already used or its user no longer exists;
   *   `Expired` when past its expiry; `Connection` on storage failure
   */
  async verifyPasswordResetToken(token: string): Promise<User> {
    return this.userOf(await findEmailToken(this.keyStorage, this.resetKind(), token, false, this.now()));
  }

  /**
   * Uses up a password-reset token: it is deleted atomically, so of concurrent calls with one token
   * exactly one succeeds; its expiry is checked afterwards (an expired token is gone too).
   * @param token - the raw token from the link
   * @returns the user it is for, whatever its state
   * @throws CrossauthError as {@link TokenEmailer.verifyPasswordResetToken}
   */
  async consumePasswordResetToken(token: string): Promise<User> {
    return this.userOf(await findEmailToken(this.keyStorage, this.resetKind(), token, true, this.now()));
  }

  /**
   * Deletes an email-verification token; no error when it does not exist.
   * @param token - the raw token
   * @throws CrossauthError `Connection` on storage failure
   */
  async deleteEmailVerificationToken(token: string): Promise<void> {
    await this.keyStorage.deleteKey(TokenEmailer.hashEmailVerificationToken(token));
  }

  /**
   * Deletes every password-reset token of a user.
   * @param userid - the user
   * @throws CrossauthError `Connection` on storage failure
   */
  async deletePasswordResetTokensForUser(userid: string | number): Promise<void> {
    await this.keyStorage.deleteAllForUser(userid, KeyPrefix.passwordResetToken);
  }

  private emailKind(): TokenKind {
    return {
      prefix: KeyPrefix.emailVerificationToken,
      path: "verifyemail/",
      name: "Email verification",
      expires: this.verifyEmailExpires,
      subject: this.emailVerificationSubject,
      textBody: this.emailVerificationTextBody,
      htmlBody: this.emailVerificationHtmlBody,
    };
  }

  private resetKind(): TokenKind {
    return {
      prefix: KeyPrefix.passwordResetToken,
      path: "resetpassword/",
      name: "Password reset",
      expires: this.passwordResetExpires,
      subject: this.passwordResetSubject,
      textBody: this.passwordResetTextBody,
      htmlBody: this.passwordResetHtmlBody,
    };
  }

  private requireSiteUrl(): string {
    if (!this.siteUrl) {
      throw new CrossauthError(ErrorCode.Configuration, "siteUrl is required to send email tokens");
    }
    return this.siteUrl;
  }

  /** The user's address: `email` when set, else the username when it is an address. */
  private static addressOf(user: User): string {
    if (typeof user.email === "string" && user.email !== "") {
      TokenEmailer.validateEmail(user.email);
      return user.email;
    }
    TokenEmailer.validateEmail(user.username);
    return user.username;
  }

  /** Renders and sends the email carrying `token`; deletes the token when that fails. */
  private async sendToken(
    kind: TokenKind,
    siteUrl: string,
    user: User,
    to: string,
    token: string,
    extraData: Record<string, unknown>,
  ): Promise<void> {
    const data: Record<string, unknown> = {
      username: user.username,
      email: to,
      token,
      link: `${siteUrl}${this.prefix}${kind.path}${token}`,
      expiryHours: Math.round((kind.expires / 3600) * 100) / 100,
      siteUrl,
      ...extraData,
    };
    try {
      const [text, html] = await Promise.all([
        this.templates.renderText(kind.textBody, data),
        this.templates.renderHtml(kind.htmlBody, data),
      ]);
      const messageId = await this.transport.send({ to, subject: kind.subject, text, html });
      CrossauthLogger.logger.info(
        j({ msg: `Sent ${kind.name} email`, userid: user.id, tokenHash: hash(token), messageId }),
      );
    } catch (e) {
      await this.keyStorage.deleteKey(kind.prefix + hash(token)).catch((deleteError: unknown) => {
        CrossauthLogger.logger.error(
          j({ msg: `Cannot delete unsent ${kind.name} token`, tokenHash: hash(token), err: deleteError }),
        );
      });
      throw e;
    }
  }

  private static verificationData(key: Key): EmailVerificationTokenData {
    const newEmail = KeyStorage.decodeData(key.data).newemail;
    return { userid: key.userid as string | number, newEmail: typeof newEmail === "string" ? newEmail : "" };
  }

  /** The user a password-reset key belongs to, whatever its state; a vanished user is `InvalidKey`. */
  private async userOf(key: Key): Promise<User> {
    try {
      return (await this.userStorage.getUserById(key.userid as string | number, ANY_STATE)).user;
    } catch (e) {
      if (e instanceof CrossauthError && e.code === ErrorCode.UserNotExist) {
        throw invalidEmailToken(this.resetKind());
      }
      throw e;
    }
  }
}
