/**
 * `LdapUserStorage`: users whose passwords live in an LDAP directory, with the local user records
 * (id, state, factors...) in another {@link UserStorage}. The only module that talks LDAP.
 * @module
 */
import {
  CrossauthError,
  CrossauthLogger,
  ErrorCode,
  j,
  type PartialUser,
  type PartialUserSecrets,
  type User,
  type UserAndSecrets,
  type UserInputFields,
  type UserSecretsInputFields,
} from "@crossauth/common";
import { Client, ResultCodeError } from "ldapts";
import { ParamType, setParameter } from "../../config/index.js";
import { UserStorage, type UserStorageGetOptions, type UserStorageOptions } from "../user-storage.js";
import { escapeDnValue, escapeFilterValue } from "./ldap-escape.js";

/** A user's entry as read from LDAP: its DN and its attributes (single values or arrays). */
export interface LdapUser {
  /** The entry's DN as the server returns it. */
  dn: string;
  /** The `uid` attribute, when the entry has one. */
  uid?: string | string[];
  /**
   * The value of the username attribute (`ldapUsernameAttribute`) that the user logged in with, as
   * stored in LDAP (the server's spelling, e.g. its case).
   */
  username?: string;
  /** Other attributes; `userPassword` is never included. Binary values are base64 text. */
  [attribute: string]: string | string[] | undefined;
}

/** Builds the local user from the fields given to `createUser` and the user's LDAP entry. */
export type LdapCreateUserFn = (user: UserInputFields, ldapUser: LdapUser) => UserInputFields;

/** Options of {@link LdapUserStorage}. */
export interface LdapUserStorageOptions extends UserStorageOptions {
  /**
   * URLs of the LDAP server(s), e.g. `["ldaps://ldap.example.com:636"]`, tried in order when one is
   * unreachable. Required (option or `CROSSAUTH_LDAP_URLS` as a JSON array).
   */
  ldapUrls?: string[];
  /** Base DN of user entries, e.g. `ou=users,dc=example,dc=com`. Default `""`. */
  ldapUserSearchBase?: string;
  /** Attribute naming users in their DN (`<attribute>=<username>,<base>`). Default `cn`. */
  ldapUsernameAttribute?: string;
  /** Builds local users from LDAP entries. Default {@link defaultCreateUserDn}. */
  createUserFn?: LdapCreateUserFn;
  /** Milliseconds to wait for a TCP (or TLS) connection to a server. Default 5000. */
  ldapConnectTimeout?: number;
  /** Milliseconds to wait for each LDAP operation's answer. Default 10000. */
  ldapTimeout?: number;
}

/** Factor1 of users created by {@link LdapUserStorage.createUser} when the fields name none. */
export const LDAP_FACTOR1 = "ldap";

/** Result codes meaning the credentials (or the entry they name) were not accepted. */
const CREDENTIAL_RESULT_CODES = new Set([
  32, // noSuchObject
  34, // invalidDNSyntax
  48, // inappropriateAuthentication
  49, // invalidCredentials
  50, // insufficientAccessRights
  53, // unwillingToPerform
]);

/** An attribute description: a name (letters, digits, hyphens) or a numeric OID. */
const ATTRIBUTE_NAME = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$/;

/** Whether `url` parses as an `ldap://` or `ldaps://` URL with a host. */
function isLdapUrl(url: unknown): boolean {
  if (typeof url !== "string") return false;
  try {
    const parsed = new URL(url);
    return (parsed.protocol === "ldap:" || parsed.protocol === "ldaps:") && parsed.hostname !== "";
  } catch {
    return false;
  }
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The default `createUserFn`: the given fields, state `active` unless they set one, and the username
 * taken from LDAP — the username attribute's value as stored in LDAP, or else the (first) `uid` —
 * so the local username is the directory's spelling of the name the user logs in with.
 * @param user - fields for the new user (e.g. an email address the user was asked for)
 * @param ldapUser - the user's LDAP entry
 */
export function defaultCreateUserDn(user: UserInputFields, ldapUser: LdapUser): UserInputFields {
  const username = ldapUser.username ?? firstValue(ldapUser.uid) ?? user.username;
  return { ...user, state: user.state || "active", username };
}

/**
 * A {@link UserStorage} whose users authenticate against LDAP. Local user records (id, state,
 * factors, email...) are kept in `localStorage`, which every lookup, update, deletion and listing
 * is delegated to; LDAP passwords are never stored locally.
 *
 * No admin account is used: {@link getLdapUser} binds as the user
 * (`<ldapUsernameAttribute>=<escaped username>,<ldapUserSearchBase>`) and reads that entry with the
 * user's own rights.
 */
export class LdapUserStorage extends UserStorage {
  /** Where local user records live. */
  readonly localStorage: UserStorage;
  /** LDAP server URLs, tried in order. */
  readonly ldapUrls: string[] = [];
  /** Base DN of user entries. */
  readonly ldapUserSearchBase: string = "";
  /** Attribute naming users in their DN. */
  readonly ldapUsernameAttribute: string = "cn";
  /** Milliseconds to wait for a connection. */
  readonly ldapConnectTimeout: number = 5000;
  /** Milliseconds to wait for each operation. */
  readonly ldapTimeout: number = 10000;
  /** Builds local users from LDAP entries. */
  readonly createUserFn: LdapCreateUserFn;

  /**
   * @param localStorage - storage for the local user records
   * @param options - see {@link LdapUserStorageOptions}; environment variables `CROSSAUTH_LDAP_URLS`
   *   (JSON array), `CROSSAUTH_LDAP_USER_SEARCH_BASE`, `CROSSAUTH_LDAP_USERNAME_ATTRIBUTE`,
   *   `CROSSAUTH_LDAP_CONNECT_TIMEOUT`, `CROSSAUTH_LDAP_TIMEOUT`, plus those of {@link UserStorage}
   * @throws CrossauthError `Configuration` when `ldapUrls` is missing or empty or not `ldap(s)://`
   *   URLs, when `ldapUsernameAttribute` is not an attribute name, or for badly typed options
   */
  constructor(localStorage: UserStorage, options: LdapUserStorageOptions = {}) {
    const { createUserFn, ...rest } = options;
    super(rest);
    this.localStorage = localStorage;
    this.createUserFn = createUserFn ?? defaultCreateUserDn;
    const opts = rest as Record<string, unknown>;
    setParameter("ldapUrls", ParamType.JsonArray, this, opts, "LDAP_URLS", true);
    setParameter("ldapUserSearchBase", ParamType.String, this, opts, "LDAP_USER_SEARCH_BASE");
    setParameter("ldapUsernameAttribute", ParamType.String, this, opts, "LDAP_USERNAME_ATTRIBUTE");
    setParameter("ldapConnectTimeout", ParamType.Integer, this, opts, "LDAP_CONNECT_TIMEOUT");
    setParameter("ldapTimeout", ParamType.Integer, this, opts, "LDAP_TIMEOUT");
    const badUrl = this.ldapUrls.find((url) => !isLdapUrl(url));
    if (this.ldapUrls.length === 0 || badUrl !== undefined) {
      throw new CrossauthError(
        ErrorCode.Configuration,
        "ldapUrls must be a non-empty array of ldap(s):// URLs",
      );
    }
    if (!ATTRIBUTE_NAME.test(this.ldapUsernameAttribute)) {
      throw new CrossauthError(ErrorCode.Configuration, "ldapUsernameAttribute is not an attribute name");
    }
  }

  /** `false`: users authenticate against LDAP, so a local entry need not exist beforehand. */
  requireUserEntry(): boolean {
    return false;
  }

  /**
   * The DN a user binds as: `<ldapUsernameAttribute>=<username escaped per RFC 4514>,<ldapUserSearchBase>`.
   * @param username - the username as typed
   */
  userDn(username: string): string {
    const rdn = `${this.ldapUsernameAttribute}=${escapeDnValue(username)}`;
    return this.ldapUserSearchBase ? `${rdn},${this.ldapUserSearchBase}` : rdn;
  }

  /**
   * Authenticates against LDAP by binding as the user, then reads the user's entry (base-scope
   * search of the user's DN, filtered on the username attribute) with the user's own rights. The
   * connection is always unbound. Does not look at local storage.
   *
   * An empty password is refused before any connection is made: a simple bind with an empty
   * password is an unauthenticated bind, which many servers accept.
   *
   * @param username - the username (value of the username attribute)
   * @param password - the LDAP password
   * @returns the user's entry
   * @throws CrossauthError `UsernameOrPasswordInvalid` for an empty username or password, wrong
   *   credentials, an unknown user or an entry the user may not read; `Connection` when no server
   *   answers (every URL tried, each within `ldapConnectTimeout` / `ldapTimeout`) or a server
   *   reports an error of its own
   */
  async getLdapUser(username: string, password: string): Promise<LdapUser> {
    if (!username || !password) {
      throw new CrossauthError(ErrorCode.UsernameOrPasswordInvalid, "A username and password are required");
    }
    const dn = this.userDn(username);
    let lastError = new CrossauthError(ErrorCode.Connection, "No LDAP server could be reached");
    for (const url of this.ldapUrls) {
      let client: Client | undefined;
      try {
        client = new Client({ url, connectTimeout: this.ldapConnectTimeout, timeout: this.ldapTimeout });
        await client.bind(dn, password);
        return await this.searchUser(client, dn, username);
      } catch (e) {
        const error = this.toCrossauthError(e, url, username);
        if (error.code !== ErrorCode.Connection) throw error;
        lastError = error;
      } finally {
        await client?.unbind().catch(() => undefined);
      }
    }
    CrossauthLogger.logger.error(j({ msg: "No LDAP server could be used", urls: this.ldapUrls }));
    throw lastError;
  }

  /** Reads the bound user's own entry; absent (not readable, or not matching) → invalid credentials. */
  private async searchUser(client: Client, dn: string, username: string): Promise<LdapUser> {
    const attribute = this.ldapUsernameAttribute;
    const { searchEntries } = await client.search(dn, {
      scope: "base",
      filter: `(${attribute}=${escapeFilterValue(username)})`,
      sizeLimit: 1,
      timeLimit: Math.max(1, Math.ceil(this.ldapTimeout / 1000)),
    });
    const entry = searchEntries[0];
    if (!entry) {
      throw new CrossauthError(ErrorCode.UsernameOrPasswordInvalid, "LDAP entry not found");
    }
    const ldapUser: LdapUser = { dn: entry.dn };
    for (const [name, value] of Object.entries(entry)) {
      if (name === "dn" || name.toLowerCase() === "userpassword") continue;
      const values = (Array.isArray(value) ? value : [value]).map((v) =>
        Buffer.isBuffer(v) ? v.toString("base64") : String(v),
      );
      ldapUser[name] = values.length === 1 ? values[0] : values;
    }
    const nameKey = Object.keys(ldapUser).find((key) => key.toLowerCase() === attribute.toLowerCase());
    const names = nameKey ? ldapUser[nameKey] : undefined;
    const nameValues = names === undefined ? [] : Array.isArray(names) ? names : [names];
    ldapUser.username =
      nameValues.find((value) => value.toLowerCase() === username.toLowerCase()) ?? nameValues[0];
    return ldapUser;
  }

  /** Maps an LDAP client failure to `UsernameOrPasswordInvalid` or `Connection`, logging no secrets. */
  private toCrossauthError(e: unknown, url: string, username: string): CrossauthError {
    if (e instanceof CrossauthError) return e;
    if (e instanceof ResultCodeError && CREDENTIAL_RESULT_CODES.has(e.code)) {
      CrossauthLogger.logger.debug(j({ msg: "LDAP bind refused", username, ldapResultCode: e.code }));
      return new CrossauthError(ErrorCode.UsernameOrPasswordInvalid);
    }
    const ldapResultCode = e instanceof ResultCodeError ? e.code : undefined;
    CrossauthLogger.logger.warn(
      j({ msg: "LDAP server failed", url, ldapResultCode, cerr: e instanceof Error ? e.message : String(e) }),
    );
    return new CrossauthError(ErrorCode.Connection, "The LDAP server could not be reached");
  }

  /**
   * Creates the local record of an LDAP user: binds as the user with `secrets.password`, builds the
   * user with `createUserFn` from `user` and the LDAP entry, and stores it in local storage with
   * factor1 `ldap` unless the built user names one. The LDAP password is not stored; other secrets
   * (e.g. a TOTP secret) are.
   * @param user - fields of the new user; `username` is the name to bind with
   * @param secrets - `password` (required) is the LDAP password
   * @returns the new local user
   * @throws CrossauthError `UsernameOrPasswordInvalid` (no or wrong password, unknown LDAP user),
   *   `Connection`, or the local storage's errors (e.g. `UserExists`)
   */
  async createUser(user: UserInputFields, secrets?: UserSecretsInputFields): Promise<User> {
    const password = secrets?.password;
    const ldapUser = await this.getLdapUser(user.username, typeof password === "string" ? password : "");
    return this.createUserFromLdap(user, ldapUser, secrets);
  }

  /**
   * Stores the local record of a user already authenticated by {@link getLdapUser} (saves a second
   * bind): `createUserFn(user, ldapUser)` with factor1 `ldap` unless it names one.
   * @param user - fields of the new user
   * @param ldapUser - the entry returned by {@link getLdapUser} for this user
   * @param secrets - secrets to store; a `password` is dropped (LDAP passwords are never stored)
   * @returns the new local user
   * @throws CrossauthError from local storage, e.g. `UserExists`
   */
  async createUserFromLdap(
    user: UserInputFields,
    ldapUser: LdapUser,
    secrets: UserSecretsInputFields = {},
  ): Promise<User> {
    const { password: _dropped, ...kept } = secrets;
    const built = this.createUserFn(user, ldapUser);
    const created = await this.localStorage.createUser(
      { ...built, factor1: built.factor1 || LDAP_FACTOR1 },
      kept,
    );
    CrossauthLogger.logger.info(j({ msg: "Created local user for LDAP user", username: created.username }));
    return created;
  }

  /** Delegates to local storage. @throws CrossauthError `UserNotExist`, a state error or `Connection` */
  getUserByUsername(username: string, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    return this.localStorage.getUserByUsername(username, options);
  }

  /** Delegates to local storage. @throws CrossauthError `UserNotExist`, a state error or `Connection` */
  getUserById(id: string | number, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    return this.localStorage.getUserById(id, options);
  }

  /** Delegates to local storage. @throws CrossauthError `UserNotExist`, a state error or `Connection` */
  getUserByEmail(email: string, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    return this.localStorage.getUserByEmail(email, options);
  }

  /** Delegates to local storage. @throws CrossauthError `UserNotExist`, a state error or `Connection` */
  getUserBy(field: string, value: string | number, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    return this.localStorage.getUserBy(field, value, options);
  }

  /** Delegates to local storage (LDAP is not modified). @throws CrossauthError `InvalidKey`, `UserExists` */
  updateUser(user: PartialUser, secrets?: PartialUserSecrets): Promise<void> {
    return this.localStorage.updateUser(user, secrets);
  }

  /** Deletes the local record (LDAP is not modified). */
  deleteUserByUsername(username: string): Promise<void> {
    return this.localStorage.deleteUserByUsername(username);
  }

  /** Deletes the local record (LDAP is not modified). */
  deleteUserById(id: string | number): Promise<void> {
    return this.localStorage.deleteUserById(id);
  }

  /** Delegates to local storage. */
  getUsers(skip?: number, take?: number): Promise<User[]> {
    return this.localStorage.getUsers(skip, take);
  }
}
