/**
 * Transient one-time codes shared by the email, SMS and dummy second factors: creating a numeric
 * code, building the `{otp, expiry}` secrets kept in the session, checking a code in constant time,
 * reading the set-up data a factor keeps under the `2fa` sub-object of session data, and
 * {@link OneTimeCodeAuthenticator}, the base class such factors can share.
 * @module
 */
import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import {
  CrossauthError,
  ErrorCode,
  type Key,
  type UserInputFields,
  type UserSecretsInputFields,
} from "@crossauth/common";
import { KeyStorage } from "../storage/key-storage.js";
import {
  type AuthenticationOptions,
  type AuthenticationParameters,
  Authenticator,
  type MfaType,
  type PrepareConfigurationResult,
  type ReprepareConfigurationResult,
} from "./authenticator.js";

/** Number of digits of a one-time code unless a factor says otherwise. */
export const DEFAULT_ONE_TIME_CODE_DIGITS = 6;
/** Lifetime of a one-time code in seconds unless a factor says otherwise (5 minutes). */
export const DEFAULT_ONE_TIME_CODE_EXPIRES = 300;
/** Name of the session-data sub-object holding a factor's set-up data (wire-formats.md). */
export const TWO_FACTOR_SESSION_DATA = "2fa";

/** A clock returning milliseconds since the epoch; injected so tests need not sleep. */
export type Clock = () => number;

/**
 * Left-pads a non-negative integer with zeros.
 * @param num - the number
 * @param places - total number of digits wanted
 * @returns e.g. `zeroPad(42, 6)` → `"000042"`
 */
export function zeroPad(num: number, places: number): string {
  return String(num).padStart(places, "0");
}

/**
 * Creates a zero-padded numeric code from the CSPRNG (`crypto.randomInt`), uniformly distributed.
 * @param digits - number of digits, 1 to 15; default 6
 * @returns e.g. `"004217"`
 * @throws CrossauthError `Configuration` for a digit count outside 1 to 15
 */
export function createOneTimeCode(digits = DEFAULT_ONE_TIME_CODE_DIGITS): string {
  if (!Number.isInteger(digits) || digits < 1 || digits > 15) {
    throw new CrossauthError(ErrorCode.Configuration, "One-time codes must have 1 to 15 digits");
  }
  return zeroPad(randomInt(0, 10 ** digits), digits);
}

/**
 * Builds the transient secrets a code-based factor keeps in the session.
 * @param otp - the code
 * @param expiresSeconds - lifetime in seconds
 * @param now - current time in milliseconds since the epoch
 * @returns `{otp, expiry}` with `expiry` in milliseconds since the epoch
 */
export function oneTimeSecrets(otp: string, expiresSeconds: number, now: number): OneTimeSecrets {
  return { otp, expiry: now + expiresSeconds * 1000 };
}

/**
 * Compares two secrets (codes, repeated passwords) in constant time. Both sides are hashed with
 * SHA-256 first so that values of different lengths compare without revealing the length.
 * @param given - what the user supplied
 * @param expected - the value to compare with
 * @returns true when they are equal
 */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}

/**
 * Checks a user-supplied code against the transient secrets in the session. The code is checked
 * before the expiry, so a wrong code is `InvalidToken` whether or not the stored one has expired.
 * @param given - the code the user supplied (`params.otp`)
 * @param secrets - the session's transient secrets: `otp` and `expiry` (ms since the epoch)
 * @param now - current time in milliseconds since the epoch
 * @throws CrossauthError `InvalidToken` when the code is missing or wrong (or no code is stored);
 *   `Expired` when it is right but `now` is past `expiry` (or no expiry is stored)
 */
export function checkOneTimeCode(given: unknown, secrets: UserSecretsInputFields, now: number): void {
  const expected = secrets.otp;
  if (typeof given !== "string" || typeof expected !== "string" || expected === "") {
    throw new CrossauthError(ErrorCode.InvalidToken, "Invalid code");
  }
  if (!constantTimeEqual(given, expected)) {
    throw new CrossauthError(ErrorCode.InvalidToken, "Invalid code");
  }
  const expiry = secrets.expiry;
  if (typeof expiry !== "number" || !Number.isFinite(expiry) || now > expiry) {
    throw new CrossauthError(ErrorCode.Expired, "Code has expired");
  }
}

/**
 * Reads the set-up data a factor stored under the `2fa` sub-object of a session key's data.
 * @param sessionKey - the session key
 * @returns the `2fa` object, or undefined when the session has none
 * @throws CrossauthError `DataFormat` when the key's data is not a JSON object
 */
export function twoFactorSessionData(sessionKey: Key): Record<string, unknown> | undefined {
  const data = KeyStorage.decodeData(sessionKey.data)[TWO_FACTOR_SESSION_DATA];
  if (data === null || typeof data !== "object" || Array.isArray(data)) return undefined;
  return data as Record<string, unknown>;
}

/** The transient secrets of a code-based factor (a type alias, so it is a `UserSecretsInputFields`). */
export type OneTimeSecrets = {
  /** The code. */
  otp: string;
  /** Expiry in milliseconds since the epoch. */
  expiry: number;
};

/**
 * Builds a code-based factor's {@link PrepareConfigurationResult}: the user sees `userData`; the
 * session keeps the same fields plus the code and its expiry.
 * @param userData - what the user may see (e.g. `{username, phone, factor2}`); never the code
 * @param secrets - the code just sent and its expiry
 */
export function prepareWithCode(
  userData: Record<string, unknown>,
  secrets: OneTimeSecrets,
): PrepareConfigurationResult {
  return { userData, sessionData: { ...userData, ...secrets } };
}

/**
 * Builds a code-based factor's {@link ReprepareConfigurationResult} after a new code was sent.
 * `newSessionData` replaces the `2fa` sub-object: the previous set-up data with the new code.
 * @param data - the previous `2fa` session data (see {@link twoFactorSessionData})
 * @param userFields - the fields of `data` the user may see (e.g. `["username", "factor2"]`)
 * @param secrets - the new code and its expiry
 */
export function reprepareWithCode(
  data: Record<string, unknown>,
  userFields: readonly string[],
  secrets: OneTimeSecrets,
): ReprepareConfigurationResult {
  const userData: Record<string, unknown> = {};
  for (const field of userFields) userData[field] = data[field];
  return { userData, secrets: { ...secrets }, newSessionData: { ...data, ...secrets } };
}

/** Options of every {@link OneTimeCodeAuthenticator}. */
export interface OneTimeCodeAuthenticatorOptions extends AuthenticationOptions {
  /** Clock in milliseconds since the epoch; default `Date.now` (tests inject one to expire codes). */
  now?: Clock;
}

/**
 * Base class of second factors that deliver a transient code out of band (email, SMS, dummy):
 * no persistent secrets, one transient secret `otp` checked in constant time against the session's
 * `{otp, expiry}`, MFA type `oob`. Subclasses deliver the code and say which channel they use.
 */
export abstract class OneTimeCodeAuthenticator extends Authenticator {
  /** The clock (ms since the epoch). */
  protected readonly now: Clock;

  /**
   * @param options - see {@link OneTimeCodeAuthenticatorOptions}
   * @param defaultFriendlyName - friendly name used when the options give none
   */
  constructor(options: OneTimeCodeAuthenticatorOptions = {}, defaultFriendlyName = "") {
    super(options, defaultFriendlyName);
    this.now = options.now ?? Date.now;
  }

  /**
   * Checks the code the user entered against the one kept in the session, in constant time.
   * @param _user - ignored
   * @param secrets - from the session: `otp` and `expiry`
   * @param params - the user's input: `otp`
   * @throws CrossauthError `InvalidToken` for a wrong or missing code; `Expired` after the expiry
   */
  async authenticateUser(
    _user: UserInputFields | undefined,
    secrets: UserSecretsInputFields,
    params: AuthenticationParameters,
  ): Promise<void> {
    checkOneTimeCode(params.otp, secrets, this.now());
  }

  /** `[]`: nothing persistent. */
  secretNames(): string[] {
    return [];
  }
  /** `["otp"]` */
  transientSecretNames(): string[] {
    return ["otp"];
  }
  /** `"oob"` */
  mfaType(): MfaType {
    return "oob";
  }
}
