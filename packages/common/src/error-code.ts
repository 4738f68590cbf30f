/**
 * Error codes of Crossauth, numbered as in the reference document and `http-contract.md`.
 *
 * `ErrorCode` is a frozen name → number object; the type `ErrorCode` is the union of its numbers.
 * @module
 */

/** Every Crossauth error code, by name. Numbers are part of the wire contract: never renumber. */
export const ErrorCode = Object.freeze({
  UserNotExist: 1,
  PasswordInvalid: 2,
  EmailNotExist: 3,
  UsernameOrPasswordInvalid: 4,
  InvalidClientId: 5,
  ClientExists: 6,
  InvalidClientSecret: 7,
  InvalidClientIdOrSecret: 8,
  InvalidRedirectUri: 9,
  InvalidOAuthFlow: 10,
  UserNotActive: 11,
  EmailNotVerified: 12,
  TwoFactorIncomplete: 13,
  Unauthorized: 14,
  UnauthorizedClient: 15,
  InvalidScope: 16,
  InsufficientScope: 17,
  InsufficientPriviledges: 18,
  Forbidden: 19,
  InvalidKey: 20,
  InvalidCsrf: 21,
  InvalidSession: 22,
  Expired: 23,
  Connection: 24,
  InvalidHash: 25,
  UnsupportedAlgorithm: 26,
  KeyExists: 27,
  PasswordChangeNeeded: 28,
  PasswordResetNeeded: 29,
  Factor2ResetNeeded: 30,
  Configuration: 31,
  InvalidEmail: 32,
  InvalidPhoneNumber: 33,
  InvalidUsername: 34,
  PasswordMatch: 35,
  InvalidToken: 36,
  MfaRequired: 37,
  PasswordFormat: 38,
  DataFormat: 39,
  FetchError: 40,
  UserExists: 41,
  FormEntry: 42,
  BadRequest: 43,
  AuthorizationPending: 44,
  SlowDown: 45,
  ExpiredToken: 46,
  ConstraintViolation: 47,
  NotImplemented: 48,
  ValueError: 49,
  UnknownError: 50,
} as const);

/** The name of an error code, e.g. `"InvalidKey"`. */
export type ErrorCodeName = keyof typeof ErrorCode;
/** The number of an error code, e.g. `20`. */
export type ErrorCode = (typeof ErrorCode)[ErrorCodeName];

/** HTTP status returned for each error code (http-contract.md, "Error codes"). */
// biome-ignore format: a table reads better on few lines
const httpStatusByCode: Readonly<Record<ErrorCode, number>> = Object.freeze({
  1: 401, 2: 401, 3: 401, 4: 401, 5: 401, 6: 500, 7: 401, 8: 401, 9: 401, 10: 500,
  11: 403, 12: 403, 13: 403, 14: 401, 15: 401, 16: 403, 17: 403, 18: 401, 19: 403, 20: 401,
  21: 401, 22: 401, 23: 401, 24: 500, 25: 500, 26: 500, 27: 500, 28: 403, 29: 403, 30: 403,
  31: 500, 32: 400, 33: 400, 34: 400, 35: 401, 36: 401, 37: 401, 38: 401, 39: 500, 40: 500,
  41: 400, 42: 400, 43: 400, 44: 200, 45: 200, 46: 401, 47: 500, 48: 500, 49: 500, 50: 500,
});

const nameByCode: ReadonlyMap<number, ErrorCodeName> = new Map(
  (Object.entries(ErrorCode) as [ErrorCodeName, ErrorCode][]).map(([name, code]) => [code, name]),
);

/**
 * Whether `value` is one of the 50 error code numbers.
 * @param value - anything
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "number" && nameByCode.has(value);
}

/**
 * The name of an error code.
 * @param code - an error code number
 * @returns e.g. `"InvalidKey"` for 20
 */
export function errorCodeName(code: ErrorCode): ErrorCodeName {
  return nameByCode.get(code) ?? "UnknownError";
}

/**
 * The HTTP status an error code is reported with.
 * @param code - an error code number
 * @returns e.g. 401 for `InvalidKey`
 */
export function errorCodeHttpStatus(code: ErrorCode): number {
  return httpStatusByCode[code] ?? 500;
}

/**
 * Looks up an error code by name or number.
 * @param value - a name such as `"InvalidKey"` or a number such as `20` (numeric strings accepted)
 * @returns the code, or `undefined` when it names no code
 */
export function parseErrorCode(value: unknown): ErrorCode | undefined {
  if (isErrorCode(value)) return value;
  if (typeof value === "string") {
    if (Object.hasOwn(ErrorCode, value)) return ErrorCode[value as ErrorCodeName];
    if (/^[0-9]+$/.test(value)) {
      const n = Number(value);
      if (isErrorCode(n)) return n;
    }
  }
  return undefined;
}
