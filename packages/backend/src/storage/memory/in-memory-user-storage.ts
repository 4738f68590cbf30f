/**
 * `InMemoryUserStorage`: users and their secrets held in memory (tests, demos).
 * @module
 */
import {
  CrossauthError,
  ErrorCode,
  type PartialUser,
  type PartialUserSecrets,
  type User,
  type UserAndSecrets,
  type UserInputFields,
  type UserSecrets,
  type UserSecretsInputFields,
} from "@crossauth/common";
import { checkUserState } from "../user-state-check.js";
import { UserStorage, type UserStorageGetOptions, type UserStorageOptions } from "../user-storage.js";
import type { InMemoryKeyStorage } from "./in-memory-key-storage.js";
import type { InMemoryOAuthAuthorizationStorage } from "./in-memory-oauth-authorization-storage.js";
import type { InMemoryOAuthClientStorage } from "./in-memory-oauth-client-storage.js";
import { assignDefined, compareText, deepCopy, fieldMatches, page } from "./memory-helpers.js";

/** Options of {@link InMemoryUserStorage}: the base options plus storages cleaned up on user deletion. */
export interface InMemoryUserStorageOptions extends UserStorageOptions {
  /** Key storage whose keys of a deleted user are dropped. */
  keyStorage?: InMemoryKeyStorage;
  /** Authorization storage whose authorizations by a deleted user are dropped. */
  authorizationStorage?: InMemoryOAuthAuthorizationStorage;
  /** Client storage whose clients owned by a deleted user are dropped. */
  clientStorage?: InMemoryOAuthClientStorage;
}

/** Columns every user has, besides application-defined ones. */
const standardFields = [
  "id",
  "username",
  "username_normalized",
  "email",
  "email_normalized",
  "phone",
  "state",
  "factor1",
  "factor2",
  "admin",
];
/** Fields derived by the storage, never taken from the caller. */
const derivedFields = ["id", "username_normalized", "email_normalized"];

/**
 * {@link UserStorage} keeping users in memory with numeric ids 1, 2, 3..., indexed by id and by
 * normalized username and email. Returned users and secrets are copies.
 */
export class InMemoryUserStorage extends UserStorage {
  private readonly users = new Map<number, User>();
  private readonly secrets = new Map<number, UserSecrets>();
  /** username_normalized → id */
  private readonly byUsername = new Map<string, number>();
  /** email_normalized → id */
  private readonly byEmail = new Map<string, number>();
  private nextId = 1;
  private readonly linked: Pick<
    InMemoryUserStorageOptions,
    "keyStorage" | "authorizationStorage" | "clientStorage"
  >;

  /**
   * @param options - see {@link InMemoryUserStorageOptions}
   * @throws CrossauthError `Configuration` for badly typed options
   */
  constructor(options: InMemoryUserStorageOptions = {}) {
    const { keyStorage, authorizationStorage, clientStorage, ...base } = options;
    super(base);
    this.linked = { keyStorage, authorizationStorage, clientStorage };
  }

  /**
   * Finds a user by username (normalized when `normalizeUsername`).
   * @throws CrossauthError `UserNotExist` or a state error
   */
  async getUserByUsername(username: string, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    return this.found(this.byUsername.get(this.usernameKey(username)), options);
  }

  /**
   * Finds a user by id (a number or a numeric string).
   * @throws CrossauthError `UserNotExist` or a state error
   */
  async getUserById(id: string | number, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    return this.found(toId(id), options);
  }

  /**
   * Finds a user by email (normalized when `normalizeEmail`), or a user without an email whose
   * username matches.
   * @throws CrossauthError `UserNotExist` or a state error
   */
  async getUserByEmail(email: string, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    let id = this.byEmail.get(this.emailKey(email));
    if (id === undefined) {
      const byName = this.byUsername.get(this.usernameKey(email));
      if (byName !== undefined && !this.users.get(byName)?.email) id = byName;
    }
    return this.found(id, options);
  }

  /**
   * Finds the first user (by id) whose `field` equals `value` exactly.
   * @throws CrossauthError `BadRequest` for a field no user has, `UserNotExist` or a state error
   */
  async getUserBy(
    field: string,
    value: string | number,
    options?: UserStorageGetOptions,
  ): Promise<UserAndSecrets> {
    const users = [...this.users.values()];
    if (!standardFields.includes(field) && !users.some((u) => Object.hasOwn(u, field))) {
      throw new CrossauthError(ErrorCode.BadRequest, "Unknown user field");
    }
    const match = users.find(
      (u) => u[field] !== null && u[field] !== undefined && fieldMatches(u[field], value),
    );
    return this.found(match === undefined ? undefined : Number(match.id), options);
  }

  /**
   * Creates a user with the next id and its secrets.
   * @throws CrossauthError `InvalidUsername` / `InvalidEmail` for empty ones, `UserExists` for a taken
   *   username or email, `DataFormat` for an unstorable field
   */
  async createUser(user: UserInputFields, secrets?: UserSecretsInputFields): Promise<User> {
    const stored: User = { id: 0, username: "", state: "active", factor1: "localpassword", factor2: "" };
    assignDefined(stored, deepCopy(user), derivedFields);
    stored.admin = Boolean(stored.admin);
    this.normalizeColumns(stored, undefined);
    const id = this.nextId++;
    stored.id = id;
    this.index(stored);
    const storedSecrets: UserSecrets = { userid: id };
    assignDefined(storedSecrets, deepCopy(secrets ?? {}), ["userid"]);
    this.secrets.set(id, storedSecrets);
    return deepCopy(stored);
  }

  /**
   * Updates the defined fields of user `user.id` and of its secrets (created when missing).
   * @throws CrossauthError `InvalidKey` for a missing or unknown id, `UserExists` for a taken username
   *   or email, `InvalidUsername` / `InvalidEmail` for empty ones
   */
  async updateUser(user: PartialUser, secrets?: PartialUserSecrets): Promise<void> {
    const id = user.id === undefined || user.id === null ? undefined : toId(user.id);
    const current = id === undefined ? undefined : this.users.get(id);
    if (id === undefined || !current) throw new CrossauthError(ErrorCode.InvalidKey, "No user with this id");
    const updated = deepCopy(current);
    assignDefined(updated, deepCopy(user), derivedFields);
    if (user.admin !== undefined) updated.admin = Boolean(updated.admin);
    this.normalizeColumns(updated, id);
    const updatedSecrets: UserSecrets = deepCopy(this.secrets.get(id) ?? { userid: id });
    assignDefined(updatedSecrets, deepCopy(secrets ?? {}), ["userid"]);
    this.unindex(current);
    this.index(updated);
    this.secrets.set(id, updatedSecrets);
  }

  /** Deletes a user (username matched as in lookups) with its secrets, keys, authorizations and clients. */
  async deleteUserByUsername(username: string): Promise<void> {
    this.remove(this.byUsername.get(this.usernameKey(username)));
  }

  /** Deletes a user with its secrets, keys, authorizations and clients. No error when absent. */
  async deleteUserById(id: string | number): Promise<void> {
    this.remove(toId(id));
  }

  /** Copies of the users ordered by normalized username (ties by id). */
  async getUsers(skip?: number, take?: number): Promise<User[]> {
    const sorted = [...this.users.values()].sort(
      (a, b) =>
        compareText(String(a.username_normalized), String(b.username_normalized)) ||
        Number(a.id) - Number(b.id),
    );
    return page(sorted, skip, take).map((u) => deepCopy(u));
  }

  /** Empties the storage (the linked storages are left alone) and restarts ids at 1. */
  clear(): void {
    for (const map of [this.users, this.secrets, this.byUsername, this.byEmail]) map.clear();
    this.nextId = 1;
  }

  private usernameKey(username: string): string {
    return this.normalizeUsername ? UserStorage.normalize(username) : username;
  }

  private emailKey(email: string): string {
    return this.normalizeEmail ? UserStorage.normalize(email) : email;
  }

  /** Copies of a user and its secrets after the state check. */
  private found(id: number | undefined, options?: UserStorageGetOptions): UserAndSecrets {
    const user = id === undefined ? undefined : this.users.get(id);
    if (id === undefined || !user) throw new CrossauthError(ErrorCode.UserNotExist);
    checkUserState(user, options);
    const secrets: UserSecrets = { userid: id };
    if (options?.skipSecrets) return deepCopy({ user, secrets });
    for (const [field, value] of Object.entries(this.secrets.get(id) ?? {})) {
      if (value !== null && value !== undefined) secrets[field] = value;
    }
    return deepCopy({ user, secrets });
  }

  /**
   * Checks the username and email of a user about to be stored and sets its normalized columns.
   * @param user - the user to store
   * @param id - its id when it already exists (its own names are no collision)
   */
  private normalizeColumns(user: User, id: number | undefined): void {
    if (typeof user.username !== "string" || user.username === "") {
      throw new CrossauthError(ErrorCode.InvalidUsername, "Username is required");
    }
    user.username_normalized = this.usernameKey(user.username);
    if (user.email === null || user.email === undefined) delete user.email_normalized;
    else if (typeof user.email !== "string" || user.email === "") {
      throw new CrossauthError(ErrorCode.InvalidEmail, "Email must not be empty");
    } else user.email_normalized = this.emailKey(user.email);
    for (const name of [user.username_normalized, user.email_normalized]) {
      if (name === undefined) continue;
      const owner = this.byUsername.get(name) ?? this.byEmail.get(name);
      if (owner !== undefined && owner !== id) throw new CrossauthError(ErrorCode.UserExists);
    }
  }

  private index(user: User): void {
    const id = Number(user.id);
    this.users.set(id, user);
    if (user.username_normalized !== undefined) this.byUsername.set(user.username_normalized, id);
    if (user.email_normalized !== undefined) this.byEmail.set(user.email_normalized, id);
  }

  private unindex(user: User): void {
    if (user.username_normalized !== undefined) this.byUsername.delete(user.username_normalized);
    if (user.email_normalized !== undefined) this.byEmail.delete(user.email_normalized);
  }

  /** Deletes a user, its secrets and whatever the linked storages hold for it. */
  private remove(id: number | undefined): void {
    const user = id === undefined ? undefined : this.users.get(id);
    if (id === undefined || !user) return;
    this.unindex(user);
    this.users.delete(id);
    this.secrets.delete(id);
    this.linked.keyStorage?.deleteForUser(id);
    this.linked.authorizationStorage?.deleteForUser(id);
    this.linked.clientStorage?.deleteForUser(id);
  }
}

/** A numeric id from a number or numeric string; undefined when it cannot be one. */
function toId(id: string | number): number | undefined {
  const n = typeof id === "number" ? id : /^\d+$/.test(String(id).trim()) ? Number(id) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
