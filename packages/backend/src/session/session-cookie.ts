/**
 * `SessionCookie`: session ids in a signed cookie, stored hashed in key storage
 * (wire-formats.md, "Session").
 * @module
 */
import {
  CrossauthError,
  ErrorCode,
  type Key,
  KeyPrefix,
  type PartialKey,
  type User,
} from "@crossauth/common";
import { ParamType, setParameter } from "../config/index.js";
import { hash, randomValue, signSecureToken, unsignSecureToken } from "../crypto/index.js";
import { readKeyWithOwner } from "../storage/key-owner.js";
import type { KeyStorage } from "../storage/key-storage.js";
import type { UserStorage, UserStorageGetOptions } from "../storage/user-storage.js";
import { type Cookie, type CookieOptions, makeCookieString, readCookieOptions } from "./cookie.js";

/** Default absolute lifetime of a session and its persistent cookie: 30 days. */
export const DEFAULT_SESSION_MAX_AGE = 30 * 24 * 60 * 60;
/** Last-activity time is written back at most this often (ms), to spare the storage. */
const LAST_ACTIVE_REFRESH_MS = 60_000;
const MAX_CREATE_ATTEMPTS = 10;

/** A failed session-key lookup as the session layer reports it: an unknown key is `InvalidSession`. */
function sessionLookupError(e: unknown): unknown {
  return e instanceof CrossauthError && e.code === ErrorCode.InvalidKey
    ? new CrossauthError(ErrorCode.InvalidSession, "Session does not exist")
    : e;
}

/**
 * Options of {@link SessionCookie}: the cookie attributes (default path `/`, HttpOnly, Secure,
 * SameSite Lax; env `CROSSAUTH_SESSION_COOKIE_*`) plus these.
 */
export interface SessionCookieOptions extends Omit<CookieOptions, "maxAge" | "expires"> {
  /** Cookie name; default `SESSIONID` (env `CROSSAUTH_SESSION_COOKIE_NAME`). */
  cookieName?: string;
  /** Absolute session lifetime in seconds, also the persistent cookie's Max-Age; default 30 days (env `CROSSAUTH_SESSION_MAX_AGE`). 0 = no expiry. */
  maxAge?: number;
  /** Seconds without activity after which a session expires; 0 (default) = none (env `CROSSAUTH_SESSION_IDLE_TIMEOUT`). */
  idleTimeout?: number;
  /** Persistent cookies for logged-in users (default true; env `CROSSAUTH_PERSIST_SESSION_ID`). Anonymous sessions never persist. */
  persist?: boolean;
  /** HMAC secret for the cookie signature (required; env `CROSSAUTH_SECRET`). */
  secret?: string;
  /** Extra check on every session found; false rejects it as `InvalidSession`. */
  filterFunction?: (sessionKey: Key) => boolean;
  /** User storage, needed by {@link SessionCookie.getUserForSessionId}. */
  userStorage?: UserStorage;
  /** Clock, for tests; default `() => new Date()`. */
  now?: () => Date;
}

/** A user (absent for anonymous sessions) and the session key found for a session id. */
export interface UserAndKey {
  user: User | undefined;
  key: Key;
}

/**
 * Creates, reads, refreshes and ends sessions. The cookie carries `signSecureToken(id)`; the storage
 * holds only `s:` + `hash(id)`.
 */
export class SessionCookie {
  readonly cookieName: string = "SESSIONID";
  readonly maxAge: number = DEFAULT_SESSION_MAX_AGE;
  readonly idleTimeout: number = 0;
  readonly persist: boolean = true;
  /** Attributes of the session cookie, without lifetime. */
  readonly cookieOptions: CookieOptions;
  private readonly secret: string = "";
  private readonly keyStorage: KeyStorage;
  private readonly userStorage: UserStorage | undefined;
  private readonly filterFunction: ((sessionKey: Key) => boolean) | undefined;
  private readonly now: () => Date;

  /**
   * @param keyStorage - where sessions are stored
   * @param options - see {@link SessionCookieOptions}
   * @throws CrossauthError `Configuration` when no secret is given or an option is badly typed
   */
  constructor(keyStorage: KeyStorage, options: SessionCookieOptions = {}) {
    const opts = options as Record<string, unknown>;
    setParameter("cookieName", ParamType.String, this, opts, "SESSION_COOKIE_NAME");
    setParameter("maxAge", ParamType.Integer, this, opts, "SESSION_MAX_AGE");
    setParameter("idleTimeout", ParamType.Integer, this, opts, "SESSION_IDLE_TIMEOUT");
    setParameter("persist", ParamType.Boolean, this, opts, "PERSIST_SESSION_ID");
    setParameter("secret", ParamType.String, this, opts, "SECRET", true);
    if (this.maxAge < 0 || this.idleTimeout < 0) {
      throw new CrossauthError(
        ErrorCode.Configuration,
        "Session maxAge and idleTimeout must not be negative",
      );
    }
    this.cookieOptions = readCookieOptions(options, "SESSION_COOKIE");
    this.keyStorage = keyStorage;
    this.userStorage = options.userStorage;
    this.filterFunction = options.filterFunction;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The stored form of a session id: `s:` + `hash(id)`.
   * @param sessionId - the raw session id
   */
  static hashSessionId(sessionId: string): string {
    return KeyPrefix.session + hash(sessionId);
  }

  /** The stored value for an id that may already be in stored form (ids never contain `:`). */
  private storedValue(sessionIdOrValue: string): string {
    return sessionIdOrValue.startsWith(KeyPrefix.session)
      ? sessionIdOrValue
      : SessionCookie.hashSessionId(sessionIdOrValue);
  }

  /**
   * Creates and saves a new session with a random id. Last activity is recorded now.
   * @param userid - the user, or null/undefined for an anonymous session
   * @param extraFields - extra key columns/fields to save
   * @returns the key, with `value` set to the RAW session id (to put in the cookie); storage holds its hash
   * @throws CrossauthError `KeyExists` if no unique id was found in 10 attempts; storage errors
   */
  async createSessionKey(
    userid: string | number | null | undefined,
    extraFields: Record<string, unknown> = {},
  ): Promise<Key> {
    const created = this.now();
    const expires = this.maxAge > 0 ? new Date(created.getTime() + this.maxAge * 1000) : null;
    for (let attempt = 1; ; attempt++) {
      const sessionId = randomValue(16);
      try {
        await this.keyStorage.saveKey(
          userid ?? null,
          SessionCookie.hashSessionId(sessionId),
          created,
          expires,
          "{}",
          {
            ...extraFields,
            lastactive: created,
          },
        );
        return {
          value: sessionId,
          userid: userid ?? null,
          created,
          expires,
          lastactive: created,
          data: "{}",
          ...extraFields,
        };
      } catch (e) {
        if (
          !(e instanceof CrossauthError && e.code === ErrorCode.KeyExists) ||
          attempt >= MAX_CREATE_ATTEMPTS
        )
          throw e;
      }
    }
  }

  /**
   * The session cookie for a session: value `signSecureToken(id)`; persistent (Max-Age) only for a
   * logged-in user when persistence is on.
   * @param sessionKey - a key whose `value` is the raw session id
   * @param persist - overrides the `persist` option
   */
  makeCookie(sessionKey: Key, persist?: boolean): Cookie {
    const persistent =
      (persist ?? this.persist) && sessionKey.userid !== null && sessionKey.userid !== undefined;
    const options: CookieOptions = { ...this.cookieOptions };
    if (persistent && this.maxAge > 0) options.maxAge = this.maxAge;
    return { name: this.cookieName, value: signSecureToken(sessionKey.value, this.secret), options };
  }

  /** The `Set-Cookie` value of a cookie made by {@link SessionCookie.makeCookie}. */
  makeCookieString(cookie: Cookie): string {
    return makeCookieString(cookie);
  }

  /**
   * Verifies the cookie's signature and returns the raw session id.
   * @throws CrossauthError `InvalidSession` when the signature does not verify
   */
  unsignCookie(cookieValue: string): string {
    try {
      return unsignSecureToken(cookieValue, this.secret);
    } catch {
      throw new CrossauthError(ErrorCode.InvalidSession, "Session cookie is invalid");
    }
  }

  /**
   * Finds a live session: checks absolute expiry, the idle timeout and the filter function, and
   * records activity (written at most once a minute). Expired sessions are deleted.
   * @param sessionId - the raw session id (from {@link SessionCookie.unsignCookie})
   * @returns the stored key (its `value` is the stored, hashed form)
   * @throws CrossauthError `InvalidSession` (unknown or filtered out), `Expired`, storage errors
   */
  async getSessionKey(sessionId: string): Promise<Key> {
    const value = this.storedValue(sessionId);
    let key: Key;
    try {
      key = await this.keyStorage.getKey(value);
    } catch (e) {
      throw sessionLookupError(e);
    }
    return this.liveSessionKey(value, key);
  }

  /**
   * The checks of a found session key: absolute expiry and idle timeout (an expired key is deleted),
   * the filter function, and the activity record (written at most once a minute).
   * @param value - the stored key value
   * @param found - the key as read
   * @returns the key, with `lastactive` updated when it was written
   * @throws CrossauthError `Expired`, `InvalidSession` (filtered out), storage errors
   */
  private async liveSessionKey(value: string, found: Key): Promise<Key> {
    let key = found;
    const now = this.now().getTime();
    const lastActive = (key.lastactive ?? key.created).getTime();
    const expired = key.expires !== null && now > key.expires.getTime();
    const idle = this.idleTimeout > 0 && now > lastActive + this.idleTimeout * 1000;
    if (expired || idle) {
      await this.keyStorage.deleteKey(value);
      throw new CrossauthError(ErrorCode.Expired, "Session has expired");
    }
    if (this.filterFunction && !this.filterFunction(key)) {
      throw new CrossauthError(ErrorCode.InvalidSession, "Session was rejected");
    }
    if (now - lastActive >= LAST_ACTIVE_REFRESH_MS) {
      const lastactive = new Date(now);
      await this.keyStorage.updateKey({ value, lastactive });
      key = { ...key, lastactive };
    }
    return key;
  }

  /**
   * The user of a live session (undefined for anonymous sessions) and its key.
   * @param sessionId - the raw session id
   * @param options - user-state checks to skip
   * @throws CrossauthError as {@link SessionCookie.getSessionKey}; `Configuration` without a user
   *   storage; the user storage's errors (e.g. `UserNotActive`) for a session whose user can't log in
   */
  async getUserForSessionId(sessionId: string, options: UserStorageGetOptions = {}): Promise<UserAndKey> {
    if (!this.userStorage) {
      const key = await this.getSessionKey(sessionId);
      if (key.userid === null || key.userid === undefined) return { user: undefined, key };
      throw new CrossauthError(ErrorCode.Configuration, "SessionCookie needs a userStorage");
    }
    const value = this.storedValue(sessionId);
    try {
      const { key, owner } = await readKeyWithOwner(
        value,
        this.keyStorage,
        this.userStorage,
        options,
        (key) => this.liveSessionKey(value, key),
      );
      return { user: owner, key };
    } catch (e) {
      throw sessionLookupError(e);
    }
  }

  /**
   * Updates fields of a stored session.
   * @param sessionKey - `value` is the raw id or the stored form; other defined fields are written
   * @throws CrossauthError `InvalidKey` when the session does not exist
   */
  async updateSessionKey(sessionKey: PartialKey): Promise<void> {
    if (!sessionKey.value) throw new CrossauthError(ErrorCode.InvalidKey, "Session key value is required");
    await this.keyStorage.updateKey({ ...sessionKey, value: this.storedValue(sessionKey.value) });
  }

  /**
   * Ends every session of a user, except one.
   * @param userid - the user
   * @param exceptKey - a session to keep (raw id or stored form)
   */
  async deleteAllForUser(userid: string | number, exceptKey?: string): Promise<void> {
    await this.keyStorage.deleteAllForUser(
      userid,
      KeyPrefix.session,
      exceptKey === undefined ? undefined : this.storedValue(exceptKey),
    );
  }
}
