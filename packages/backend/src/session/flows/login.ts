/**
 * Logging in and out: password (factor 1) login with session rotation, forced-change states,
 * two-factor login, anonymous sessions, logout and logout from every session.
 * @module
 */
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type User,
  type UserAndSecrets,
  type UserSecrets,
  UserState,
} from "@crossauth/common";
import type { AuthenticationParameters, Authenticator } from "../../authenticators/authenticator.js";
import { hash } from "../../crypto/index.js";
import { SessionCookie } from "../session-cookie.js";
import { ANY_STATE, findAuthenticator } from "./account.js";
import type { SessionContext, SessionTokens } from "./context.js";
import {
  authenticateFactor2,
  factor2Authenticator,
  hasSecondFactor,
  reserveFactor2Attempt,
  sessionDataObject,
} from "./factor2-secrets.js";
import { deletePasswordResetTokens } from "./secrets.js";
import { createCsrfToken, deleteSession } from "./session-data.js";

/** What a user in a forced-change state may do with the anonymous session login gives them. */
type PendingChange = NonNullable<SessionTokens["pendingChange"]>;

/** Session-data field and pending change for each forced-change state. */
const forcedChanges: ReadonlyMap<string, { dataName: string; pendingChange: PendingChange }> = new Map([
  [UserState.passwordChangeNeeded, { dataName: "passwordchange", pendingChange: "passwordchange" }],
  [UserState.passwordResetNeeded, { dataName: "passwordreset", pendingChange: "passwordreset" }],
  [UserState.passwordAndFactor2ResetNeeded, { dataName: "passwordreset", pendingChange: "passwordreset" }],
  [UserState.factor2ResetNeeded, { dataName: "factor2change", pendingChange: "factor2reset" }],
]);

/** Errors of a first factor that mean "wrong username or password". */
const invalidCredentialCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.PasswordInvalid,
  ErrorCode.UserNotExist,
  ErrorCode.UsernameOrPasswordInvalid,
]);

/** The one error (and message) for an unknown user and a wrong password alike. */
function invalidLogin(): CrossauthError {
  return new CrossauthError(ErrorCode.UsernameOrPasswordInvalid);
}

/**
 * Creates a session (user or anonymous) with a new CSRF token. Other flows use it to hand out
 * sessions.
 * @param ctx - the session context
 * @param userid - the user, or null for an anonymous session
 * @param extraFields - extra key fields to save with the session
 * @param persist - persistent cookie for a user session; default the session cookie's `persist` option
 * @param data - initial session data: top-level field names (no dots) and their values
 * @returns the session cookie, raw session id, CSRF cookie and masked CSRF value
 * @throws CrossauthError `KeyExists` when no unique id was found; storage errors (the session is
 *   removed again when its data cannot be written)
 */
export async function startSession(
  ctx: SessionContext,
  userid: string | number | null,
  extraFields: Record<string, unknown> = {},
  persist?: boolean,
  data?: Record<string, unknown>,
): Promise<SessionTokens> {
  const key = await ctx.session.createSessionKey(userid, extraFields);
  const entries = Object.entries(data ?? {}).map(([dataName, value]) => ({ dataName, value }));
  if (entries.length > 0) {
    try {
      await ctx.keyStorage.updateManyData(SessionCookie.hashSessionId(key.value), entries);
    } catch (e) {
      await deleteSession(ctx, key.value).catch(() => undefined);
      throw e;
    }
  }
  return {
    sessionCookie: ctx.session.makeCookie(key, persist),
    sessionId: key.value,
    ...createCsrfToken(ctx),
  };
}

/**
 * Creates an anonymous session (never persistent) with a new CSRF token.
 * @param ctx - the session context
 * @param extraFields - extra key fields to save with the session
 * @param data - initial session data (top-level fields)
 * @throws CrossauthError as {@link startSession}
 */
export function createAnonymousSession(
  ctx: SessionContext,
  extraFields: Record<string, unknown> = {},
  data?: Record<string, unknown>,
): Promise<SessionTokens> {
  return startSession(ctx, null, extraFields, false, data);
}

/** Spends the PBKDF2 work of a password check for a username that does not exist. */
async function spendUnknownUserWork(ctx: SessionContext, params: AuthenticationParameters): Promise<void> {
  const withUnknownPath = Object.values(ctx.authenticators).find(
    (a) => typeof (a as { authenticateUnknownUser?: unknown }).authenticateUnknownUser === "function",
  ) as (Authenticator & { authenticateUnknownUser(p: AuthenticationParameters): Promise<never> }) | undefined;
  await withUnknownPath?.authenticateUnknownUser(params).catch(() => undefined);
}

/** Checks factor 1 for a username; unknown users and wrong secrets fail alike. */
async function authenticateFactor1(
  ctx: SessionContext,
  username: string,
  params: AuthenticationParameters,
): Promise<UserAndSecrets> {
  let found: UserAndSecrets;
  try {
    if (typeof username !== "string" || username === "") throw new CrossauthError(ErrorCode.UserNotExist);
    found = await ctx.userStorage.getUserByUsername(username, ANY_STATE);
  } catch (e) {
    if (!(e instanceof CrossauthError && e.code === ErrorCode.UserNotExist)) throw e;
    await spendUnknownUserWork(ctx, params);
    CrossauthLogger.logger.debug(j({ msg: "Login failed", reason: "unknown user" }));
    throw invalidLogin();
  }
  const { user } = found;
  const authenticator = findAuthenticator(ctx, user.factor1);
  if (!authenticator) {
    CrossauthLogger.logger.error(j({ msg: "No authenticator for the user's factor1", userid: user.id }));
    throw new CrossauthError(ErrorCode.Configuration, "The user's first factor is not configured");
  }
  try {
    await authenticator.authenticateUser(user, found.secrets, params);
  } catch (e) {
    if (e instanceof CrossauthError && invalidCredentialCodes.has(e.code)) {
      CrossauthLogger.logger.debug(j({ msg: "Login failed", userid: user.id, reason: "wrong credentials" }));
      throw invalidLogin();
    }
    throw e;
  }
  return found;
}

/**
 * Throws for a user who may not log in; returns the forced change a user must make, if any.
 * @throws CrossauthError `UserNotActive` (disabled or unknown state), `EmailNotVerified`, `TwoFactorIncomplete`
 */
function checkLoginState(user: User): { dataName: string; pendingChange: PendingChange } | undefined {
  switch (user.state) {
    case UserState.active:
      return undefined;
    case UserState.awaitingEmailVerification:
      throw new CrossauthError(ErrorCode.EmailNotVerified);
    case UserState.awaitingTwoFactorSetup:
    case UserState.awaitingTwoFactorSetupAndEmailVerification:
      throw new CrossauthError(ErrorCode.TwoFactorIncomplete);
    default: {
      const change = forcedChanges.get(user.state);
      if (change) return change;
      throw new CrossauthError(ErrorCode.UserNotActive);
    }
  }
}

/** Ends the browser's previous session when a login hands out a new one. */
async function rotate(ctx: SessionContext, previousSessionId: string | undefined, tokens: SessionTokens) {
  if (previousSessionId !== undefined && previousSessionId !== tokens.sessionId) {
    await deleteSession(ctx, previousSessionId);
  }
}

/** Creates the user session of a successful login and deletes the user's password-reset tokens. */
async function startUserSession(
  ctx: SessionContext,
  user: User,
  secrets: UserSecrets | undefined,
  extraFields: Record<string, unknown>,
  persist: boolean | undefined,
  previousSessionId: string | undefined,
): Promise<SessionTokens> {
  const tokens = await startSession(ctx, user.id, extraFields, persist);
  await rotate(ctx, previousSessionId, tokens);
  await deletePasswordResetTokens(ctx, user.id);
  CrossauthLogger.logger.info(
    j({ msg: "Logged in", userid: user.id, sessionHash: hash(tokens.sessionId as string) }),
  );
  return { ...tokens, user, ...(secrets ? { secrets } : {}) };
}

/**
 * Logs a user in.
 *
 * Factor 1 is checked (skipped when `user` is given): unknown users cost the same PBKDF2 work as
 * known ones, and both they and wrong passwords fail with `UsernameOrPasswordInvalid` and the same
 * message. Then, by the user's state: blocked states throw; `passwordchangeneeded`,
 * `passwordresetneeded`, `passwordandfactor2resetneeded` and `factor2resetneeded` get only an
 * anonymous session whose data (`passwordchange`, `passwordreset` or `factor2change`:
 * `{userid, username}`) permits the one change, with `pendingChange` set. A user with a second
 * factor (unless `bypass2fa`) gets the anonymous session of {@link initiateTwoFactorLogin}. Anyone
 * else gets a new user session and CSRF token, and their outstanding password-reset tokens are
 * deleted. Whenever a new session is issued, `previousSessionId`'s session is deleted (rotation).
 * @param ctx - the session context
 * @param username - the username to authenticate
 * @param params - the factor-1 input (e.g. `{password}`)
 * @param extraFields - extra key fields for the user session
 * @param persist - persistent cookie; default the session cookie's `persist` option
 * @param user - an already authenticated user: factor 1 is skipped (state checks and factor 2 are not)
 * @param bypass2fa - skip the second factor
 * @param previousSessionId - the browser's current (raw) session id, ended on success
 * @throws CrossauthError `UsernameOrPasswordInvalid`; `UserNotActive`, `EmailNotVerified`,
 *   `TwoFactorIncomplete`; `Configuration` when the user's factor is not registered; the
 *   authenticators' and storages' other errors (e.g. `Connection`, `InvalidEmail` when a code
 *   cannot be emailed)
 */
export async function login(
  ctx: SessionContext,
  username: string,
  params: AuthenticationParameters,
  extraFields: Record<string, unknown> = {},
  persist?: boolean,
  user?: User,
  bypass2fa = false,
  previousSessionId?: string,
): Promise<SessionTokens> {
  let secrets: UserSecrets | undefined;
  if (!user) ({ user, secrets } = await authenticateFactor1(ctx, username, params));
  const change = checkLoginState(user);
  if (change) {
    const tokens = await createAnonymousSession(
      ctx,
      {},
      {
        [change.dataName]: { userid: user.id, username: user.username },
      },
    );
    await rotate(ctx, previousSessionId, tokens);
    CrossauthLogger.logger.info(j({ msg: "Login needs a change first", userid: user.id, state: user.state }));
    return { ...tokens, pendingChange: change.pendingChange };
  }
  if (hasSecondFactor(user) && !bypass2fa) {
    const tokens = await initiateTwoFactorLogin(ctx, user);
    await rotate(ctx, previousSessionId, tokens);
    return tokens;
  }
  return startUserSession(ctx, user, secrets, extraFields, persist, previousSessionId);
}

/**
 * Starts the second step of a login: issues the factor's one-time secret (e.g. emails a code) and
 * creates an anonymous session whose `2fa` data holds `{userid, username, factor2}` and the
 * transient secrets.
 * @param ctx - the session context
 * @param user - the user, already authenticated with factor 1
 * @returns the anonymous session's cookies, with `twoFactorRequired: true`
 * @throws CrossauthError `BadRequest` when the user has no second factor; `Configuration` when it is
 *   not registered; the authenticator's errors (`InvalidEmail`, `Connection`, ...); storage errors
 */
export async function initiateTwoFactorLogin(ctx: SessionContext, user: User): Promise<SessionTokens> {
  const authenticator = factor2Authenticator(ctx, user.factor2);
  const secrets = await authenticator.createOneTimeSecrets(user);
  const tokens = await createAnonymousSession(
    ctx,
    {},
    {
      "2fa": { ...secrets, userid: user.id, username: user.username, factor2: user.factor2 },
    },
  );
  CrossauthLogger.logger.info(
    j({ msg: "Two-factor login started", userid: user.id, sessionHash: hash(tokens.sessionId as string) }),
  );
  return { ...tokens, twoFactorRequired: true };
}

/**
 * Completes a two-factor login: checks the user's input against the anonymous session's `2fa`
 * data (transient secrets from the session, persistent ones such as `totpsecret` from storage). On
 * success the anonymous session is consumed (a second concurrent completion fails) and a user
 * session created as in {@link login}. On failure the anonymous session is kept, so the user can
 * retry.
 * @param ctx - the session context
 * @param params - the user's input (e.g. `{otp}`)
 * @param sessionId - the raw id of the anonymous session from {@link initiateTwoFactorLogin}
 * @param extraFields - extra key fields for the user session
 * @param persist - persistent cookie; default the session cookie's `persist` option
 * @throws CrossauthError `InvalidSession` / `Expired` for a missing or expired session (or one
 *   completed already); `Unauthorized` when no two-factor login is in progress in it; the user
 *   storage's state errors (e.g. `UserNotActive`); the authenticator's error (`InvalidToken` for a
 *   wrong code, `Expired` for an expired one)
 */
export async function completeTwoFactorLogin(
  ctx: SessionContext,
  params: AuthenticationParameters,
  sessionId: string,
  extraFields: Record<string, unknown> = {},
  persist?: boolean,
): Promise<SessionTokens> {
  const { key, data } = await sessionDataObject(ctx, sessionId, "2fa");
  const userid = data?.userid;
  const anonymous = key.userid === null || key.userid === undefined;
  if (!data || !anonymous || (typeof userid !== "string" && typeof userid !== "number")) {
    throw new CrossauthError(ErrorCode.Unauthorized, "No two-factor login in progress");
  }
  const { user, secrets } = await ctx.userStorage.getUserById(userid);
  if (user.factor2 !== data.factor2) {
    throw new CrossauthError(ErrorCode.Unauthorized, "No two-factor login in progress");
  }
  await reserveFactor2Attempt(ctx, key.value, "2fa");
  try {
    await authenticateFactor2(ctx, user, data.factor2, data, params, "storage");
  } catch (e) {
    CrossauthLogger.logger.debug(j({ msg: "Second factor rejected at login", userid: user.id }));
    throw e;
  }
  try {
    await ctx.keyStorage.consumeKey(key.value);
  } catch (e) {
    if (e instanceof CrossauthError && e.code === ErrorCode.InvalidKey) {
      throw new CrossauthError(ErrorCode.InvalidSession, "Session does not exist");
    }
    throw e;
  }
  return startUserSession(ctx, user, secrets, extraFields, persist, undefined);
}

/**
 * Logs a session out: deletes it from storage (the cookie is the HTTP layer's to clear). No error
 * when it does not exist.
 * @param ctx - the session context
 * @param sessionId - the raw session id
 * @throws CrossauthError storage errors (`Connection`)
 */
export async function logout(ctx: SessionContext, sessionId: string): Promise<void> {
  await deleteSession(ctx, sessionId);
  CrossauthLogger.logger.info(j({ msg: "Logged out", sessionHash: hash(sessionId) }));
}

/**
 * Ends every session of a user, except one.
 * @param ctx - the session context
 * @param userid - the user
 * @param exceptSessionId - the raw id of a session to keep (e.g. the current one)
 * @throws CrossauthError storage errors (`Connection`)
 */
export async function logoutFromAll(
  ctx: SessionContext,
  userid: string | number,
  exceptSessionId?: string,
): Promise<void> {
  await ctx.session.deleteAllForUser(userid, exceptSessionId);
  CrossauthLogger.logger.info(j({ msg: "Logged out from all sessions", userid }));
}
