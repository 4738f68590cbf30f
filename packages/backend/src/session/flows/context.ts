/**
 * What every session flow works with: the storages, the authenticators, the cookie and CSRF
 * managers, the token emailer and the switches of the SessionManager. Flows are plain functions
 * `(ctx, ...args)`; the SessionManager is a facade that owns one context.
 * @module
 */
import type { User, UserSecrets } from "@crossauth/common";
import type { Authenticator } from "../../authenticators/authenticator.js";
import type { TokenEmailer } from "../../email/token-emailer.js";
import type { KeyStorage } from "../../storage/key-storage.js";
import type { UserStorage } from "../../storage/user-storage.js";
import type { Cookie } from "../cookie.js";
import type { DoubleSubmitCsrfToken } from "../csrf-token.js";
import type { SessionCookie } from "../session-cookie.js";

/** The dependencies and settings shared by the session flows. */
export interface SessionContext {
  /** Where sessions live. */
  readonly keyStorage: KeyStorage;
  /** Where email-verification and password-reset tokens live (default: keyStorage). */
  readonly emailTokenStorage: KeyStorage;
  readonly userStorage: UserStorage;
  /** Authenticators by factor name (`localpassword`, `totp`, `email`, ...). */
  readonly authenticators: Readonly<Record<string, Authenticator>>;
  /** Factor names users may choose as second factor. */
  readonly allowedFactor2: readonly string[];
  readonly enableEmailVerification: boolean;
  readonly enablePasswordReset: boolean;
  readonly session: SessionCookie;
  readonly csrfTokens: DoubleSubmitCsrfToken;
  /** Present when email verification or password reset is enabled. */
  readonly tokenEmailer: TokenEmailer | undefined;
  /** Clock. */
  readonly now: () => Date;
  /**
   * AES-256 key (base64url) sealing sensitive session data at rest, such as the body of a request
   * held for step-up 2FA (which may contain passwords). Derive it with `sessionDataKey(secret)`.
   */
  readonly sessionDataKey: string;
  /**
   * Runs work whose duration must not be observable by the caller (e.g. the emails of
   * requestPasswordReset): starts it without awaiting, logs its failure, and tracks it so that
   * `SessionManager.whenIdle()` can wait for it (tests, graceful shutdown).
   */
  readonly background: (name: string, work: () => Promise<void>) => void;
}

/** Cookies and CSRF values a flow hands back to the HTTP layer, plus what happened. */
export interface SessionTokens {
  /** New session cookie to set (absent when the session did not change). */
  sessionCookie?: Cookie;
  /** The raw session id of `sessionCookie`, for further calls in the same request. */
  sessionId?: string;
  /** New CSRF cookie to set. */
  csrfCookie?: Cookie;
  /** Masked CSRF value for forms and the CSRF header, matching `csrfCookie`. */
  csrfFormOrHeaderValue?: string;
  /** The logged-in user (absent for anonymous sessions). */
  user?: User;
  /** The user's secrets, for the caller's own checks; never to be sent to a client. */
  secrets?: UserSecrets;
  /** True when the password was right and the second factor is now awaited (anonymous session). */
  twoFactorRequired?: boolean;
  /**
   * Set when login succeeded for a user who must first change something: the session is anonymous
   * and its data permits only that change. The HTTP layer answers 403 with the matching code.
   */
  pendingChange?: "passwordchange" | "passwordreset" | "factor2reset";
}
