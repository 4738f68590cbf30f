/**
 * `ApiKeyManager`: long-lived API keys sent as `Authorization: ApiKey <signed value>`
 * (wire-formats.md, "API key").
 * @module
 */
import {
  type ApiKey,
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type Key,
  KeyPrefix,
  type User,
} from "@crossauth/common";
import { ParamType, setParameter } from "../config/index.js";
import { hash, randomValue, sign, unsign } from "../crypto/index.js";
import { decodeKeyData } from "../storage/key-data.js";
import { readKeyWithOwner } from "../storage/key-owner.js";
import type { KeyStorage } from "../storage/key-storage.js";
import type { UserStorage, UserStorageGetOptions } from "../storage/user-storage.js";

/** Options of {@link ApiKeyManager}. */
export interface ApiKeyManagerOptions {
  /** Random bytes in a key; default 16 (env `CROSSAUTH_APIKEY_LENGTH`). */
  keyLength?: number;
  /** Prefix of stored keys; default `api:` (env `CROSSAUTH_APIKEY_PREFIX`). */
  prefix?: string;
  /** Scheme in the Authorization header; default `ApiKey` (env `CROSSAUTH_APIKEY_AUTH_SCHEME`). */
  authScheme?: string;
  /** HMAC secret signing the keys (required; env `CROSSAUTH_SECRET`). */
  secret?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

/** A new key and the token to give its owner (shown once: only its hash is stored). */
export interface KeyReturn {
  key: ApiKey;
  token: string;
}

/**
 * Creates and validates API keys. The token given out is `sign({v: V})`; storage holds
 * `prefix + hash(V)`, so the signature is always checked before storage is touched.
 */
export class ApiKeyManager {
  readonly keyLength: number = 16;
  readonly prefix: string = KeyPrefix.apiKey;
  readonly authScheme: string = "ApiKey";
  private readonly secret: string = "";
  private readonly keyStorage: KeyStorage;
  private readonly now: () => Date;

  /**
   * @param keyStorage - storage whose keys accept a `name` field
   * @param options - see {@link ApiKeyManagerOptions}
   * @throws CrossauthError `Configuration` without a secret
   */
  constructor(keyStorage: KeyStorage, options: ApiKeyManagerOptions = {}) {
    const opts = options as Record<string, unknown>;
    setParameter("keyLength", ParamType.Integer, this, opts, "APIKEY_LENGTH");
    setParameter("prefix", ParamType.String, this, opts, "APIKEY_PREFIX");
    setParameter("authScheme", ParamType.String, this, opts, "APIKEY_AUTH_SCHEME");
    setParameter("secret", ParamType.String, this, opts, "SECRET", true);
    if (this.keyLength < 16)
      throw new CrossauthError(ErrorCode.Configuration, "API keys need at least 16 random bytes");
    this.keyStorage = keyStorage;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * A hash of a key's unsigned value, for logs (the value itself is never logged).
   * @param unsignedValue - the `v` of a key
   */
  static hashSignedApiKeyValue(unsignedValue: string): string {
    return hash(unsignedValue);
  }

  /**
   * Creates a key and stores its hash.
   * @param name - a name unique among the user's keys
   * @param userid - owner, or null for a key not tied to a user
   * @param data - JSON data; a `scope` array grants scopes
   * @param expiry - lifetime in seconds; none when absent
   * @param extraFields - more columns to store
   * @returns the key (its `value` is the stored hash) and the token to hand out
   * @throws CrossauthError `KeyExists` when the user already has a key with this name
   */
  async createKey(
    name: string,
    userid: string | number | null,
    data: Record<string, unknown> = {},
    expiry?: number,
    extraFields: Record<string, unknown> = {},
  ): Promise<KeyReturn> {
    if (typeof name !== "string" || name.trim() === "")
      throw new CrossauthError(ErrorCode.BadRequest, "A key name is required");
    const existing = await this.keyStorage.getAllForUser(userid);
    if (existing.some((k) => k.value.startsWith(this.prefix) && k.name === name)) {
      throw new CrossauthError(ErrorCode.KeyExists, "A key with this name already exists");
    }
    const unsigned = randomValue(this.keyLength);
    const created = this.now();
    const expires = expiry ? new Date(created.getTime() + expiry * 1000) : null;
    const value = this.prefix + hash(unsigned);
    const dataString = JSON.stringify(data);
    await this.keyStorage.saveKey(userid, value, created, expires, dataString, { ...extraFields, name });
    CrossauthLogger.logger.info(
      j({ msg: "Created API key", userid, keyName: name, hashedApiKey: hash(unsigned) }),
    );
    const key: ApiKey = { ...extraFields, value, userid, created, expires, data: dataString, name };
    return { key, token: sign({ v: unsigned }, this.secret, undefined, created.getTime()) };
  }

  /**
   * Returns the stored key for a token, after checking its signature and expiry.
   * @param signedValue - the token (without the `ApiKey ` scheme)
   * @throws CrossauthError `InvalidKey` for a bad signature or unknown key; `Expired`
   */
  async getKey(signedValue: string): Promise<ApiKey> {
    const unsigned = this.unsignedValue(signedValue);
    return this.unexpired(await this.keyStorage.getKey(this.prefix + hash(unsigned)), unsigned);
  }

  /**
   * Validates an `Authorization` header value (`ApiKey <token>`, or the bare token) and returns the
   * key with its owner, read in one query where `userStorage` can join them
   * ({@link UserStorage.getKeyAndOwner}), else the key and then its owner (without secrets).
   * @param headerValue - the header value
   * @param userStorage - where the owner is
   * @param options - user-state checks to skip
   * @returns the key, and its owner (undefined for a key that belongs to no user)
   * @throws CrossauthError `InvalidKey` or `Expired`; `UserNotExist` when the owner is gone; the
   *   owner's state errors (e.g. `UserNotActive`)
   */
  async validateTokenWithOwner(
    headerValue: string,
    userStorage: UserStorage,
    options: UserStorageGetOptions = {},
  ): Promise<{ key: ApiKey; owner: User | undefined }> {
    const unsigned = this.unsignedValue(this.tokenOf(headerValue));
    const { key, owner } = await readKeyWithOwner(
      this.prefix + hash(unsigned),
      this.keyStorage,
      userStorage,
      options,
      (key) => this.unexpired(key, unsigned),
    );
    return { key: key as ApiKey, owner };
  }

  /**
   * The unsigned value `V` of a token, after checking its signature.
   * @throws CrossauthError `InvalidKey` for a bad signature or payload
   */
  private unsignedValue(signedValue: string): string {
    let unsigned: unknown;
    try {
      unsigned = unsign(signedValue, this.secret).v;
    } catch {
      throw new CrossauthError(ErrorCode.InvalidKey, "API key is invalid");
    }
    if (typeof unsigned !== "string" || unsigned === "")
      throw new CrossauthError(ErrorCode.InvalidKey, "API key is invalid");
    return unsigned;
  }

  /**
   * The key, unless it has expired.
   * @throws CrossauthError `Expired`
   */
  private unexpired(key: Key, unsigned: string): ApiKey {
    if (key.expires && this.now().getTime() > key.expires.getTime()) {
      CrossauthLogger.logger.debug(j({ msg: "Expired API key", hashedApiKey: hash(unsigned) }));
      throw new CrossauthError(ErrorCode.Expired, "API key has expired");
    }
    return key as ApiKey;
  }

  /** The token of an `Authorization` header value: after `ApiKey `, or the whole value. */
  private tokenOf(headerValue: string): string {
    const scheme = `${this.authScheme} `;
    return headerValue.startsWith(scheme) ? headerValue.slice(scheme.length).trim() : headerValue.trim();
  }

  /**
   * Validates an `Authorization` header value (`ApiKey <token>`, or the bare token).
   * @throws CrossauthError `InvalidKey` or `Expired`
   */
  async validateToken(headerValue: string): Promise<ApiKey> {
    return this.getKey(this.tokenOf(headerValue));
  }

  /**
   * The scopes a key grants: its data's `scope` array (strings only).
   * @param key - a key from {@link ApiKeyManager.getKey}
   */
  static scopesOf(key: ApiKey): string[] {
    try {
      const scope = decodeKeyData(key.data).scope;
      return Array.isArray(scope) ? scope.filter((s): s is string => typeof s === "string") : [];
    } catch {
      return [];
    }
  }
}
