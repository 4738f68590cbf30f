/**
 * `CrossauthError`: the one error type Crossauth throws.
 * @module
 */
import {
  ErrorCode,
  type ErrorCodeName,
  errorCodeHttpStatus,
  errorCodeName,
  isErrorCode,
  parseErrorCode,
} from "./error-code.js";
import { httpStatusName } from "./http-status.js";

/** Message used when a `CrossauthError` is created without one. Never contains request data. */
const defaultMessages: Readonly<Record<ErrorCodeName, string>> = Object.freeze({
  UserNotExist: "User does not exist",
  PasswordInvalid: "Password doesn't match",
  EmailNotExist: "No user exists with that email address",
  UsernameOrPasswordInvalid: "Username or password is invalid",
  InvalidClientId: "Client id is invalid",
  ClientExists: "Client already exists",
  InvalidClientSecret: "Client secret is invalid",
  InvalidClientIdOrSecret: "Client id or secret is invalid",
  InvalidRedirectUri: "Redirect URI is invalid",
  InvalidOAuthFlow: "Invalid OAuth flow type",
  UserNotActive: "Account is not active",
  EmailNotVerified: "Email address has not been verified",
  TwoFactorIncomplete: "Two-factor authentication set-up is incomplete",
  Unauthorized: "Not authorized",
  UnauthorizedClient: "Client is not authorized",
  InvalidScope: "Invalid scope",
  InsufficientScope: "Insufficient scope",
  InsufficientPriviledges: "Insufficient privileges",
  Forbidden: "Access forbidden",
  InvalidKey: "Key is invalid",
  InvalidCsrf: "CSRF token is invalid",
  InvalidSession: "Session is invalid",
  Expired: "Token has expired",
  Connection: "Connection failure",
  InvalidHash: "Hash is not in a valid format",
  UnsupportedAlgorithm: "Algorithm not supported",
  KeyExists: "Attempt to create a key that already exists",
  PasswordChangeNeeded: "User must change password",
  PasswordResetNeeded: "User must reset password",
  Factor2ResetNeeded: "User must reset the second factor",
  Configuration: "There was an error in the configuration",
  InvalidEmail: "Email address is invalid",
  InvalidPhoneNumber: "Phone number is invalid",
  InvalidUsername: "Username is invalid",
  PasswordMatch: "Passwords do not match",
  InvalidToken: "Token is not valid",
  MfaRequired: "Multi-factor authentication is required",
  PasswordFormat: "Password format is invalid",
  DataFormat: "Data is not in the expected format",
  FetchError: "Couldn't execute a fetch",
  UserExists: "User already exists",
  FormEntry: "Form entry is invalid",
  BadRequest: "The request is invalid",
  AuthorizationPending: "Waiting for the user to authorize",
  SlowDown: "Slow down polling",
  ExpiredToken: "Token has expired",
  ConstraintViolation: "Database constraint violation",
  NotImplemented: "This method has not been implemented",
  ValueError: "A value is missing or has the wrong type",
  UnknownError: "Unknown error",
});

/** OAuth error string (RFC 6749 §5.2 and extensions) for each code that has one; others are `server_error`. */
const oauthErrorByCode: ReadonlyMap<ErrorCode, string> = new Map<ErrorCode, string>([
  [ErrorCode.BadRequest, "invalid_request"],
  [ErrorCode.UnauthorizedClient, "unauthorized_client"],
  [ErrorCode.Unauthorized, "access_denied"],
  [ErrorCode.InvalidScope, "invalid_scope"],
  [ErrorCode.Connection, "temporarily_unavailable"],
  [ErrorCode.InvalidToken, "invalid_token"],
  [ErrorCode.ExpiredToken, "expired_token"],
  [ErrorCode.Expired, "expired_token"],
  [ErrorCode.InsufficientScope, "insufficient_scope"],
  [ErrorCode.MfaRequired, "mfa_required"],
  [ErrorCode.AuthorizationPending, "authorization_pending"],
  [ErrorCode.SlowDown, "slow_down"],
  [ErrorCode.UnknownError, "server_error"],
]);

/** Error code for each OAuth error string; unlisted strings give `UnknownError`. */
const codeByOAuthError: ReadonlyMap<string, ErrorCode> = new Map<string, ErrorCode>([
  ["invalid_request", ErrorCode.BadRequest],
  ["unauthorized_client", ErrorCode.UnauthorizedClient],
  ["access_denied", ErrorCode.Unauthorized],
  ["invalid_scope", ErrorCode.InvalidScope],
  ["temporarily_unavailable", ErrorCode.Connection],
  ["invalid_token", ErrorCode.InvalidToken],
  ["expired_token", ErrorCode.ExpiredToken],
  ["insufficient_scope", ErrorCode.InsufficientScope],
  ["mfa_required", ErrorCode.MfaRequired],
  ["authorization_pending", ErrorCode.AuthorizationPending],
  ["slow_down", ErrorCode.SlowDown],
  ["unsupported_response_type", ErrorCode.BadRequest],
  ["server_error", ErrorCode.UnknownError],
]);

/**
 * Thrown by every Crossauth function that fails.
 *
 * Carries an {@link ErrorCode}, its name, the HTTP status it is reported with, and one or more
 * human-readable messages (safe to show to users: they never contain secrets).
 */
export class CrossauthError extends Error {
  /** The error code number. */
  readonly code: ErrorCode;
  /** Every message; `message` is these joined with `". "`. */
  readonly messages: string[];
  /** HTTP status to report this error with. */
  readonly httpStatus: number;

  /**
   * @param code - the error code
   * @param message - a message, or several (e.g. one per failed password rule); defaults to a
   *   standard message for the code
   */
  constructor(code: ErrorCode, message?: string | string[]) {
    const checked = isErrorCode(code) ? code : ErrorCode.UnknownError;
    const messages =
      message === undefined || (Array.isArray(message) && message.length === 0)
        ? [defaultMessages[errorCodeName(checked)]]
        : Array.isArray(message)
          ? [...message]
          : [message];
    super(messages.join(". "));
    this.name = "CrossauthError";
    this.code = checked;
    this.messages = messages;
    this.httpStatus = errorCodeHttpStatus(checked);
  }

  /** The name of the error code, e.g. `"InvalidKey"`. */
  get codeName(): ErrorCodeName {
    return errorCodeName(this.code);
  }

  /** The OAuth error string for this code (e.g. `"invalid_request"`); `"server_error"` when none fits. */
  get oauthErrorCode(): string {
    return oauthErrorByCode.get(this.code) ?? "server_error";
  }

  /**
   * Turns anything thrown into a `CrossauthError`.
   *
   * A `CrossauthError` is returned as is. An object with an `errorCode` (number or name, as in the
   * JSON error shape) becomes that error with its `errorMessages` / `errorMessage`. Anything else
   * becomes `UnknownError`, keeping an `Error`'s message or a string's text.
   * @param e - the thrown value
   * @param defaultMessage - message to use when `e` carries none
   */
  static asCrossauthError(e: unknown, defaultMessage?: string): CrossauthError {
    if (e instanceof CrossauthError) return e;
    if (typeof e === "object" && e !== null) {
      const record = e as Record<string, unknown>;
      const code = parseErrorCode(record.errorCode);
      if (code !== undefined) {
        const messages = Array.isArray(record.errorMessages)
          ? record.errorMessages.filter((m): m is string => typeof m === "string")
          : [];
        const message = typeof record.errorMessage === "string" ? record.errorMessage : defaultMessage;
        return new CrossauthError(code, messages.length > 0 ? messages : message);
      }
      if (e instanceof Error) {
        const error = new CrossauthError(ErrorCode.UnknownError, e.message || defaultMessage);
        error.cause = e;
        return error;
      }
    }
    if (typeof e === "string" && e.length > 0) return new CrossauthError(ErrorCode.UnknownError, e);
    return new CrossauthError(ErrorCode.UnknownError, defaultMessage);
  }

  /**
   * Converts the `error` / `error_description` of an OAuth error response.
   * @param error - the OAuth error string, e.g. `"invalid_scope"` (unknown strings → `UnknownError`)
   * @param errorDescription - becomes the message; defaults to the standard message of the code
   */
  static fromOAuthError(error: string, errorDescription?: string | null): CrossauthError {
    const code = codeByOAuthError.get(error) ?? ErrorCode.UnknownError;
    return new CrossauthError(code, errorDescription ?? undefined);
  }

  /**
   * The standard reason phrase of an HTTP status (`"Internal Server Error"` when unrecognised).
   * @param status - a status number or numeric string
   */
  static httpStatusName(status: number | string): string {
    return httpStatusName(status);
  }

  /** The JSON error shape of http-contract.md, without secrets. */
  toJSON(): {
    ok: false;
    errorCode: ErrorCode;
    errorCodeName: ErrorCodeName;
    errorMessage: string;
    errorMessages: string[];
  } {
    return {
      ok: false,
      errorCode: this.code,
      errorCodeName: this.codeName,
      errorMessage: this.message,
      errorMessages: [...this.messages],
    };
  }
}
