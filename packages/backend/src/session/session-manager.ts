/**
 * `SessionManager`: the one object an application (or the HTTP layer) uses for sessions, logins,
 * second factors, sign-up, password changes and resets, and email verification. It is a facade:
 * each method is the flow function of the same name in `./flows/`, with the manager's context bound.
 * @module
 */
import { createHmac } from "node:crypto";
import { CrossauthError, ErrorCode } from "@crossauth/common";
import type { Authenticator } from "../authenticators/authenticator.js";
import { ParamType, setParameter } from "../config/index.js";
import { TokenEmailer, type TokenEmailerOptions } from "../email/token-emailer.js";
import type { KeyStorage } from "../storage/key-storage.js";
import type { UserStorage } from "../storage/user-storage.js";
import { BackgroundWork } from "./background-work.js";
import { DoubleSubmitCsrfToken, type DoubleSubmitCsrfTokenOptions } from "./csrf-token.js";
import * as account from "./flows/account.js";
import type { SessionContext } from "./flows/context.js";
import * as login from "./flows/login.js";
import * as secrets from "./flows/secrets.js";
import * as sessionData from "./flows/session-data.js";
import * as signup from "./flows/signup.js";
import * as stepUp from "./flows/step-up.js";
import { SessionCookie, type SessionCookieOptions } from "./session-cookie.js";

/** Options of {@link SessionManager}. The token-emailer options (SMTP, site URL, templates) apply too. */
export interface SessionManagerOptions extends TokenEmailerOptions {
  /** Where users live (required). */
  userStorage: UserStorage;
  /** Server secret signing cookies and CSRF tokens (required; env `CROSSAUTH_SECRET`). */
  secret?: string;
  /** Second factors users may choose, by authenticator name (env `CROSSAUTH_ALLOWED_FACTOR2`, JSON array). */
  allowedFactor2?: string[];
  /** Verify email addresses at sign-up and on change; default true (env `CROSSAUTH_ENABLE_EMAIL_VERIFICATION`). */
  enableEmailVerification?: boolean;
  /** Allow password reset by emailed token; default true (env `CROSSAUTH_ENABLE_PASSWORD_RESET`). */
  enablePasswordReset?: boolean;
  /** Storage for email-verification and password-reset tokens; default the session key storage. */
  emailTokenStorage?: KeyStorage;
  /** Options of the session cookie (the secret is shared). */
  sessionCookieOptions?: Omit<SessionCookieOptions, "secret" | "userStorage" | "now">;
  /** Options of the CSRF cookie (the secret is shared). */
  csrfOptions?: Omit<DoubleSubmitCsrfTokenOptions, "secret">;
  /** Clock, for tests; default `() => new Date()`. */
  now?: () => Date;
}

/**
 * The key sealing sensitive session data at rest, derived from the server secret
 * (HMAC-SHA256(secret, "crossauth:session-data"), base64url).
 * @param secret - the server secret
 */
export function sessionDataKey(secret: string): string {
  return createHmac("sha256", secret).update("crossauth:session-data").digest("base64url");
}

/** The flow functions the manager exposes, by method name. */
const flows = {
  login: login.login,
  logout: login.logout,
  logoutFromAll: login.logoutFromAll,
  createAnonymousSession: login.createAnonymousSession,
  initiateTwoFactorLogin: login.initiateTwoFactorLogin,
  completeTwoFactorLogin: login.completeTwoFactorLogin,
  initiateTwoFactorPageVisit: stepUp.initiateTwoFactorPageVisit,
  completeTwoFactorPageVisit: stepUp.completeTwoFactorPageVisit,
  cancelTwoFactorPageVisit: stepUp.cancelTwoFactorPageVisit,
  createUser: signup.createUser,
  initiateTwoFactorSignup: signup.initiateTwoFactorSignup,
  repeatTwoFactorSignup: signup.repeatTwoFactorSignup,
  completeTwoFactorSetup: signup.completeTwoFactorSetup,
  initiateTwoFactorSetup: signup.initiateTwoFactorSetup,
  changeSecrets: secrets.changeSecrets,
  resetSecret: secrets.resetSecret,
  requestPasswordReset: secrets.requestPasswordReset,
  userForPasswordResetToken: secrets.userForPasswordResetToken,
  applyEmailVerificationToken: account.applyEmailVerificationToken,
  updateUser: account.updateUser,
  deleteUserByUsername: account.deleteUserByUsername,
  userForSessionId: sessionData.userForSessionId,
  dataForSessionId: sessionData.dataForSessionId,
  dataStringForSessionId: sessionData.dataStringForSessionId,
  updateSessionData: sessionData.updateSessionData,
  updateManySessionData: sessionData.updateManySessionData,
  deleteSessionData: sessionData.deleteSessionData,
  deleteSession: sessionData.deleteSession,
  updateSessionActivity: sessionData.updateSessionActivity,
  createCsrfToken: sessionData.createCsrfToken,
  createCsrfFormOrHeaderValue: sessionData.createCsrfFormOrHeaderValue,
} as const;

/** A flow function with its context argument bound. */
type Bound<F> = F extends (ctx: SessionContext, ...args: infer A) => infer R ? (...args: A) => R : never;
/** The flow methods of {@link SessionManager}. */
export type SessionManagerFlows = { readonly [K in keyof typeof flows]: Bound<(typeof flows)[K]> };

// The class below is merged with this interface: its flow methods are created in the constructor.
export interface SessionManager extends SessionManagerFlows {}

/**
 * Sessions, logins, second factors, sign-up, password change and reset, and email verification.
 *
 * Each flow method (`login`, `completeTwoFactorLogin`, `createUser`, `resetSecret`, ...) is the function
 * of the same name in the `session/flows` modules with this manager's context bound — see those
 * functions for parameters, behaviour and error codes.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class SessionManager {
  /** The session cookie manager. */
  readonly session: SessionCookie;
  /** The CSRF token manager. */
  readonly csrfTokens: DoubleSubmitCsrfToken;
  /** The emailer of verification and reset tokens (absent when both features are off). */
  readonly tokenEmailer: TokenEmailer | undefined;
  readonly keyStorage: KeyStorage;
  readonly userStorage: UserStorage;
  readonly authenticators: Readonly<Record<string, Authenticator>>;
  readonly allowedFactor2: string[] = [];
  readonly enableEmailVerification: boolean = true;
  readonly enablePasswordReset: boolean = true;
  private readonly ctx: SessionContext;
  private readonly backgroundWork = new BackgroundWork();

  /**
   * @param keyStorage - where sessions live
   * @param authenticators - authenticators by factor name; each one's `factorName` is set to its key
   * @param options - see {@link SessionManagerOptions}
   * @throws CrossauthError `Configuration` without a user storage or secret, or when `allowedFactor2`
   *   names an authenticator that is not given
   */
  constructor(
    keyStorage: KeyStorage,
    authenticators: Record<string, Authenticator>,
    options: SessionManagerOptions,
  ) {
    if (!options?.userStorage)
      throw new CrossauthError(ErrorCode.Configuration, "SessionManager needs a userStorage");
    const opts = options as unknown as Record<string, unknown>;
    setParameter("allowedFactor2", ParamType.JsonArray, this, opts, "ALLOWED_FACTOR2");
    setParameter("enableEmailVerification", ParamType.Boolean, this, opts, "ENABLE_EMAIL_VERIFICATION");
    setParameter("enablePasswordReset", ParamType.Boolean, this, opts, "ENABLE_PASSWORD_RESET");
    for (const factor of this.allowedFactor2) {
      if (!authenticators[factor]) {
        throw new CrossauthError(
          ErrorCode.Configuration,
          `allowedFactor2 names an unknown authenticator: ${factor}`,
        );
      }
    }
    for (const [name, authenticator] of Object.entries(authenticators)) authenticator.factorName = name;
    const now = options.now ?? (() => new Date());
    const secretHolder: { secret?: string } = {};
    setParameter("secret", ParamType.String, secretHolder, opts, "SECRET", true);
    this.keyStorage = keyStorage;
    this.userStorage = options.userStorage;
    this.authenticators = { ...authenticators };
    this.session = new SessionCookie(keyStorage, {
      ...options.sessionCookieOptions,
      secret: options.secret,
      userStorage: options.userStorage,
      now,
    });
    this.csrfTokens = new DoubleSubmitCsrfToken({ ...options.csrfOptions, secret: options.secret });
    const emailTokenStorage = options.emailTokenStorage ?? keyStorage;
    this.tokenEmailer =
      this.enableEmailVerification || this.enablePasswordReset
        ? new TokenEmailer(options.userStorage, emailTokenStorage, { ...options, now })
        : undefined;
    this.ctx = {
      keyStorage,
      emailTokenStorage,
      userStorage: options.userStorage,
      authenticators: this.authenticators,
      allowedFactor2: [...this.allowedFactor2],
      enableEmailVerification: this.enableEmailVerification,
      enablePasswordReset: this.enablePasswordReset,
      session: this.session,
      csrfTokens: this.csrfTokens,
      tokenEmailer: this.tokenEmailer,
      now,
      sessionDataKey: sessionDataKey(secretHolder.secret as string),
      background: this.backgroundWork.run,
    };
    const self = this as unknown as Record<string, unknown>;
    for (const [name, flow] of Object.entries(flows)) {
      self[name] = (...args: unknown[]) =>
        (flow as (ctx: SessionContext, ...a: unknown[]) => unknown)(this.ctx, ...args);
    }
  }

  /**
   * The raw session id in a session cookie value.
   * @throws CrossauthError `InvalidSession` when the signature does not verify
   */
  getSessionId(sessionCookieValue: string): string {
    return this.session.unsignCookie(sessionCookieValue);
  }

  /**
   * Checks a request's CSRF cookie against its form field or header value.
   * @throws CrossauthError `InvalidCsrf`
   */
  validateDoubleSubmitCsrfToken(
    csrfCookieValue: string | undefined,
    csrfFormOrHeaderValue: string | undefined,
  ): void {
    this.csrfTokens.validateDoubleSubmitCsrfToken(csrfCookieValue, csrfFormOrHeaderValue);
  }

  /**
   * Checks a CSRF cookie's signature and returns its token.
   * @throws CrossauthError `InvalidCsrf`
   */
  validateCsrfCookie(csrfCookieValue: string): string {
    return this.csrfTokens.validateCsrfCookie(csrfCookieValue);
  }

  /** Resolves when background work (e.g. password-reset emails) has finished: for shutdown and tests. */
  whenIdle(): Promise<void> {
    return this.backgroundWork.whenIdle();
  }
}
