/**
 * `UserStorage`: where users and their secrets live.
 * @module
 */
import type {
  Key,
  PartialUser,
  PartialUserSecrets,
  User,
  UserAndSecrets,
  UserInputFields,
  UserSecretsInputFields,
} from "@crossauth/common";
import { ParamType, setParameter } from "../config/index.js";
import type { KeyStorage } from "./key-storage.js";

/** Options of the `getUserBy*` methods. */
export interface UserStorageGetOptions {
  /** Return the user whatever its state (except `awaitingemailverification`, see below). */
  skipActiveCheck?: boolean;
  /** Return a user in `awaitingemailverification` instead of throwing `EmailNotVerified`. */
  skipEmailVerifiedCheck?: boolean;
  /**
   * Leave the secrets out (the result's `secrets` is just `{userid}`): saves reading them on hot
   * paths that never use them, such as resolving the user of a session.
   */
  skipSecrets?: boolean;
}

/** A key and the user it belongs to, read together (see {@link UserStorage.getKeyAndOwner}). */
export interface KeyAndOwner {
  /** The key, as {@link KeyStorage.getKey} returns it. */
  key: Key;
  /**
   * The user named by the key's `userid`, as stored: no state check applied, no secrets. Undefined
   * when the key has no user or its user no longer exists.
   */
  owner: User | undefined;
}

/** Options of every {@link UserStorage}. */
export interface UserStorageOptions {
  /** Fields users may edit themselves (used by the session layer). Default `[]`. */
  userEditableFields?: string[];
  /** Fields admins may edit, in addition to `userEditableFields`. Default `[]`. */
  adminEditableFields?: string[];
  /** Match usernames normalized (NFD, marks removed, lower case). Default true. */
  normalizeUsername?: boolean;
  /** Match emails normalized (NFD, marks removed, lower case). Default true. */
  normalizeEmail?: boolean;
}

/**
 * Base class of user storages. Username and email lookups and uniqueness ignore case and accents
 * when normalization is on (the default).
 *
 * Every `getUserBy*` method throws `UserNotExist` for a missing user and applies
 * {@link checkUserState} unless told to skip it; storage failures are `Connection` errors.
 */
export abstract class UserStorage {
  /** Fields users may edit themselves. */
  readonly userEditableFields: string[] = [];
  /** Fields admins may edit (includes `userEditableFields`). */
  readonly adminEditableFields: string[] = [];
  /** Whether usernames are matched normalized. */
  readonly normalizeUsername: boolean = true;
  /** Whether emails are matched normalized. */
  readonly normalizeEmail: boolean = true;

  /**
   * @param options - see {@link UserStorageOptions}; environment variables
   *   `CROSSAUTH_USER_EDITABLE_FIELDS`, `CROSSAUTH_ADMIN_EDITABLE_FIELDS` (JSON arrays),
   *   `CROSSAUTH_NORMALIZE_USERNAME`, `CROSSAUTH_NORMALIZE_EMAIL`
   * @throws CrossauthError `Configuration` for badly typed options
   */
  constructor(options: UserStorageOptions = {}) {
    const opts = options as Record<string, unknown>;
    setParameter("userEditableFields", ParamType.JsonArray, this, opts, "USER_EDITABLE_FIELDS");
    setParameter("adminEditableFields", ParamType.JsonArray, this, opts, "ADMIN_EDITABLE_FIELDS");
    setParameter("normalizeUsername", ParamType.Boolean, this, opts, "NORMALIZE_USERNAME");
    setParameter("normalizeEmail", ParamType.Boolean, this, opts, "NORMALIZE_EMAIL");
    for (const field of this.userEditableFields) {
      if (!this.adminEditableFields.includes(field)) this.adminEditableFields.push(field);
    }
  }

  /**
   * The normalized form used for username and email lookups: Unicode NFD, non-spacing combining
   * marks removed, lower case (`"José"` → `"jose"`).
   * @param value - text to normalize
   */
  static normalize(value: string): string {
    return value
      .normalize("NFD")
      .replace(/\p{Mn}/gu, "")
      .toLowerCase();
  }

  /**
   * Finds a user by username (normalized when `normalizeUsername`).
   * @throws CrossauthError `UserNotExist`, a state error (see {@link checkUserState}) or `Connection`
   */
  abstract getUserByUsername(username: string, options?: UserStorageGetOptions): Promise<UserAndSecrets>;

  /**
   * Finds a user by id.
   * @throws CrossauthError `UserNotExist`, a state error or `Connection`
   */
  abstract getUserById(id: string | number, options?: UserStorageGetOptions): Promise<UserAndSecrets>;

  /**
   * Finds a user by email (normalized when `normalizeEmail`).
   * @throws CrossauthError `UserNotExist`, a state error or `Connection`
   */
  abstract getUserByEmail(email: string, options?: UserStorageGetOptions): Promise<UserAndSecrets>;

  /**
   * Finds a user by any field, matched exactly (no normalization).
   * @throws CrossauthError `UserNotExist`, a state error or `Connection`
   */
  abstract getUserBy(
    field: string,
    value: string | number,
    options?: UserStorageGetOptions,
  ): Promise<UserAndSecrets>;

  /**
   * Creates a user and its secrets; fills in the normalized columns.
   * @returns the new user, with its id
   * @throws CrossauthError `UserExists` when the username or email is taken (ignoring case and
   *   accents when normalizing), `InvalidUsername` / `InvalidEmail` for empty ones, `Connection`
   */
  abstract createUser(user: UserInputFields, secrets?: UserSecretsInputFields): Promise<User>;

  /**
   * Updates the given fields of a user (and secrets). `user.id` is required; fields absent or
   * `undefined` are left alone; `null` stores null. Normalized columns are recomputed.
   * @throws CrossauthError `InvalidKey` for an unknown id, `UserExists` for a taken username/email
   */
  abstract updateUser(user: PartialUser, secrets?: PartialUserSecrets): Promise<void>;

  /**
   * Deletes a user with its secrets, keys and OAuth authorizations. No error when absent.
   */
  abstract deleteUserByUsername(username: string): Promise<void>;

  /**
   * Deletes a user with its secrets, keys and OAuth authorizations. No error when absent.
   */
  abstract deleteUserById(id: string | number): Promise<void>;

  /**
   * Users ordered by normalized username.
   * @param skip - number of users to skip
   * @param take - maximum number to return
   */
  abstract getUsers(skip?: number, take?: number): Promise<User[]>;

  /**
   * Reads the key stored as `keyValue` and the user it belongs to in one lookup, where this storage
   * can (the SQL storages, when `keyStorage` is a SQL key storage on the same database). The default
   * answers undefined: the caller then reads the key and the user separately. Session checks use it.
   * @param _keyValue - the stored key value
   * @param _keyStorage - the storage that holds the key
   * @returns the key and its owner (see {@link KeyAndOwner}), or undefined when not supported
   * @throws CrossauthError `InvalidKey` when no key has this value, `Connection`
   */
  getKeyAndOwner(_keyValue: string, _keyStorage: KeyStorage): Promise<KeyAndOwner | undefined> {
    return Promise.resolve(undefined);
  }
}
