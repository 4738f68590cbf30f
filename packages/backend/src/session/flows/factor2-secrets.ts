/**
 * Checking a second factor: which authenticator, which secrets it checks (the transient ones kept in
 * session data, the persistent ones from user storage or — during set-up — from session data), and
 * reading the session-data sub-object (`2fa`, `pre2fa`) where a pending second factor waits.
 * Shared by 2FA login, step-up 2FA and 2FA set-up.
 * @module
 */
import {
  CrossauthError,
  ErrorCode,
  type Key,
  type UserInputFields,
  type UserSecretsInputFields,
} from "@crossauth/common";
import type { AuthenticationParameters, Authenticator } from "../../authenticators/authenticator.js";
import { decodeKeyData } from "../../storage/key-data.js";
import { ANY_STATE, findAuthenticator } from "./account.js";
import type { SessionContext } from "./context.js";

/**
 * Where the persistent secrets of a factor (e.g. TOTP's `totpsecret`) come from:
 * - `"storage"`: the user's stored secrets — logging in and step-up, where the factor is set up;
 *   session data can never supply or override them;
 * - `"session"`: the session data — setting a factor up, where the new secret is not saved yet.
 */
export type PersistentSecretsSource = "storage" | "session";

/** A live session's key and one object-valued field of its data. */
export interface SessionDataObject {
  /** The stored session key (its `value` is the hashed id). */
  key: Key;
  /** The field's value, or undefined when the data has no object under that name. */
  data: Record<string, unknown> | undefined;
}

/**
 * Whether a user has a second factor (`factor2` set and not `""` or `"none"`).
 * @param user - the user
 */
export function hasSecondFactor(user: { factor2?: unknown }): boolean {
  return typeof user.factor2 === "string" && user.factor2 !== "" && user.factor2 !== "none";
}

/**
 * The authenticator registered for a second factor.
 * @param ctx - the session context
 * @param factor2 - the factor name (a key of `ctx.authenticators`)
 * @throws CrossauthError `BadRequest` when `factor2` is empty (the user has no second factor);
 *   `Configuration` when no authenticator is registered under that name
 */
export function factor2Authenticator(ctx: SessionContext, factor2: unknown): Authenticator {
  if (typeof factor2 !== "string" || !hasSecondFactor({ factor2 })) {
    throw new CrossauthError(ErrorCode.BadRequest, "User has no second factor");
  }
  const authenticator = findAuthenticator(ctx, factor2);
  if (!authenticator) {
    throw new CrossauthError(ErrorCode.Configuration, `No authenticator is registered for ${factor2}`);
  }
  return authenticator;
}

/**
 * Reads a live session and one object-valued field of its data (e.g. `2fa`, `pre2fa`).
 * @param ctx - the session context
 * @param sessionId - the raw session id
 * @param name - the top-level data field
 * @throws CrossauthError `InvalidSession` or `Expired` for a missing or expired session;
 *   `DataFormat` when the session data is not a JSON object
 */
export async function sessionDataObject(
  ctx: SessionContext,
  sessionId: string,
  name: string,
): Promise<SessionDataObject> {
  const key = await ctx.session.getSessionKey(sessionId);
  const value = decodeKeyData(key.data)[name];
  const data =
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  return { key, data };
}

/**
 * The secrets a second factor's authenticator checks a user's input against. Transient secrets
 * (e.g. an emailed code's `otp` and `expiry`) come from the pending factor's session data. The
 * factor's persistent secrets (its `secretNames()`, e.g. `totpsecret`) come from `source`: user
 * storage — where a value in session data is ignored — or, during set-up, the session data.
 * @param ctx - the session context
 * @param authenticator - the factor's authenticator
 * @param userid - the user whose stored secrets are read (needed when `source` is `"storage"` and
 *   the factor has persistent secrets)
 * @param data - the pending factor's session data (`2fa` or `pre2fa`)
 * @param source - see {@link PersistentSecretsSource}
 * @throws CrossauthError `UserNotExist` for an unknown user; `BadRequest` when the stored secrets
 *   are needed and no user is given; user-storage errors
 */
export async function factor2Secrets(
  ctx: SessionContext,
  authenticator: Authenticator,
  userid: string | number | undefined,
  data: Record<string, unknown>,
  source: PersistentSecretsSource,
): Promise<UserSecretsInputFields> {
  const persistentNames = authenticator.secretNames();
  if (source === "session" || persistentNames.length === 0) return { ...data };
  if (userid === undefined) {
    throw new CrossauthError(ErrorCode.BadRequest, "No user for the second factor");
  }
  const secrets: UserSecretsInputFields = { ...data };
  for (const name of persistentNames) delete secrets[name];
  const stored = (await ctx.userStorage.getUserById(userid, ANY_STATE)).secrets;
  for (const name of persistentNames) {
    if (stored[name] !== undefined) secrets[name] = stored[name];
  }
  return secrets;
}

/**
 * Checks a user's input for their pending second factor: picks the authenticator, gathers the
 * secrets with {@link factor2Secrets} and runs the check.
 * @param ctx - the session context
 * @param user - the user (its `id`, when present, locates stored secrets)
 * @param factor2 - the factor being checked
 * @param data - the pending factor's session data
 * @param params - what the user entered (e.g. `{otp}`)
 * @param source - where persistent secrets come from (default `"storage"`)
 * @throws CrossauthError the authenticator's error (`InvalidToken` for a wrong code, `Expired` for
 *   an expired one, ...); as {@link factor2Authenticator} and {@link factor2Secrets}
 */
export async function authenticateFactor2(
  ctx: SessionContext,
  user: UserInputFields & { id?: string | number },
  factor2: unknown,
  data: Record<string, unknown>,
  params: AuthenticationParameters,
  source: PersistentSecretsSource = "storage",
): Promise<void> {
  const authenticator = factor2Authenticator(ctx, factor2);
  const secrets = await factor2Secrets(ctx, authenticator, user.id, data, source);
  await authenticator.authenticateUser(user, secrets, params);
}

/**
 * Whether two user ids are the same (ids may come back from JSON or storage as number or string).
 * @param a - an id
 * @param b - another id
 */
export function sameUserId(a: unknown, b: unknown): boolean {
  return (
    (typeof a === "string" || typeof a === "number") &&
    (typeof b === "string" || typeof b === "number") &&
    String(a) === String(b)
  );
}

/** Codes a user may try per held second-factor step (a 2FA login or a step-up) before it is abandoned. */
export const MAX_FACTOR2_ATTEMPTS = 5;

/**
 * Reserves one code attempt for a held second-factor step, atomically, BEFORE the code is checked:
 * so even a burst of parallel guesses gets at most {@link MAX_FACTOR2_ATTEMPTS} checks. Past the
 * limit the step's data is removed and the user must start again (log in again, or repeat the
 * held request).
 * @param ctx - the session context
 * @param keyValue - the session's stored value
 * @param dataName - `2fa` (login) or `pre2fa` (step-up)
 * @throws CrossauthError `Unauthorized` when the step is gone or its attempts are used up
 */
export async function reserveFactor2Attempt(
  ctx: SessionContext,
  keyValue: string,
  dataName: "2fa" | "pre2fa",
): Promise<void> {
  let allowed = false;
  await ctx.keyStorage.modifyData(keyValue, (data) => {
    allowed = false;
    const step = data[dataName];
    if (step === null || typeof step !== "object" || Array.isArray(step)) return;
    const record = step as Record<string, unknown>;
    const attempts = (typeof record.attempts === "number" ? record.attempts : 0) + 1;
    if (attempts > MAX_FACTOR2_ATTEMPTS) {
      delete data[dataName];
      return;
    }
    record.attempts = attempts;
    allowed = true;
  });
  if (!allowed) {
    throw new CrossauthError(ErrorCode.Unauthorized, "Too many wrong codes: please start again");
  }
}
