/**
 * `KyselyUserStorage`: users and their secrets in SQL (SQLite, PostgreSQL, MySQL/MariaDB).
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
import { type Kysely, sql } from "kysely";
import type { KeyStorage } from "../key-storage.js";
import { checkUserState } from "../user-state-check.js";
import {
  type KeyAndOwner,
  UserStorage,
  type UserStorageGetOptions,
  type UserStorageOptions,
} from "../user-storage.js";
import { dbErrorKind, toCrossauthError, withDbErrors } from "./db-errors.js";
import { boolFromDb, type SqlDialectName, sqlDialect, toDbRow } from "./dialect.js";
import { type KeyTableJoin, KyselyKeyStorage } from "./kysely-key-storage.js";
import { ReusableQuery } from "./reusable-query.js";
import { byCodePoint, inTransaction, isColumnName, lockRows, paginate } from "./sql-helpers.js";
import { resolveTableNames, type SqlTableNames } from "./table-names.js";

/** Options of {@link KyselyUserStorage}: the base options plus the table names. */
export interface KyselyUserStorageOptions extends UserStorageOptions, SqlTableNames {}

type Row = Record<string, unknown>;
const userExists = { code: ErrorCode.UserExists, message: "Username or email already in use" };
/** Columns whose compiled lookups a storage keeps (the built-in ones and a few of `getUserBy`). */
const MAX_LOOKUPS = 16;
/** Alias prefix of the owner's columns in the key-and-owner query (numbered, so any name fits). */
const OWNER_COLUMN = "__crossauth_owner_";

/** The compiled key-and-owner query for one key storage, with the user columns it selects. */
interface OwnerLookup {
  keyStorage: KyselyKeyStorage;
  join: KeyTableJoin;
  columns: string[];
  query: ReusableQuery<Row>;
}

/** A numeric string as a number (ids are integers in the Crossauth schema); anything else unchanged. */
function idValue(id: string | number): string | number {
  return typeof id === "string" && /^\d{1,15}$/.test(id.trim()) ? Number(id) : id;
}

/**
 * {@link UserStorage} over the `User` and `UserSecrets` tables (names configurable). Returned users
 * hold every column of the user table, application-added ones included (on SQLite, booleans of
 * application columns read back as 0/1; `admin` is always a boolean). Deleting a user also deletes
 * its secrets, keys, OAuth authorizations and OAuth clients, in one transaction.
 */
export class KyselyUserStorage extends UserStorage {
  private readonly names: Required<SqlTableNames>;
  private readonly dialect: SqlDialectName;
  /** Single-user lookups by column (id, username, email...), compiled once per column. */
  private readonly lookups = new Map<string, ReusableQuery<Row>>();
  /** The user table's columns, as seen in the first user row read (see {@link getKeyAndOwner}). */
  private userColumns: string[] | undefined;
  private ownerLookup: OwnerLookup | undefined;

  /**
   * @param db - the database, migrated with {@link migrateToLatest} (same table names)
   * @param options - see {@link KyselyUserStorageOptions}
   * @throws CrossauthError `Configuration` for bad options or an unsupported dialect
   */
  constructor(
    private readonly db: Kysely<any>,
    options: KyselyUserStorageOptions = {},
  ) {
    super(options);
    this.names = resolveTableNames(options);
    this.dialect = sqlDialect(db);
  }

  /**
   * Finds a user by username (normalized when `normalizeUsername`).
   * @throws CrossauthError `UserNotExist`, a state error (see {@link checkUserState}) or `Connection`
   */
  async getUserByUsername(username: string, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    return this.found(await this.findOne(...this.usernameMatch(username)), options);
  }

  /**
   * Finds a user by id (a number or a numeric string).
   * @throws CrossauthError `UserNotExist`, a state error or `Connection`
   */
  async getUserById(id: string | number, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    return this.found(await this.findOne(this.names.idColumn, idValue(id)), options);
  }

  /**
   * Finds a user by email (normalized when `normalizeEmail`), or else a user without an email whose
   * username matches (users whose username is their email).
   * @throws CrossauthError `UserNotExist`, a state error or `Connection`
   */
  async getUserByEmail(email: string, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    const column = this.normalizeEmail ? "email_normalized" : "email";
    let row = await this.findOne(column, this.normalizeEmail ? UserStorage.normalize(email) : email);
    if (!row) {
      const byName = await this.findOne(...this.usernameMatch(email));
      if (byName && (byName.email === null || byName.email === "")) row = byName;
    }
    return this.found(row, options);
  }

  /**
   * Finds the first user (by id) whose column `field` equals `value` exactly.
   * @throws CrossauthError `BadRequest` for a field that is no column, `UserNotExist`, a state error
   */
  async getUserBy(
    field: string,
    value: string | number,
    options?: UserStorageGetOptions,
  ): Promise<UserAndSecrets> {
    if (!isColumnName(field)) throw new CrossauthError(ErrorCode.BadRequest, "Unknown user field");
    return this.found(await this.findOne(field, value), options);
  }

  /**
   * Creates a user (defaults: state `active`, factor1 `localpassword`, factor2 `''`, admin false) and
   * its secrets, in one transaction.
   * @returns the user as stored, with its generated id
   * @throws CrossauthError `InvalidUsername` / `InvalidEmail` for empty ones, `UserExists` when the
   *   normalized username or email is taken, `BadRequest` for an unknown field, `ConstraintViolation`
   *   for a value too long for its column, `Connection`
   */
  async createUser(user: UserInputFields, secrets?: UserSecretsInputFields): Promise<User> {
    const { idColumn, userTable, userSecretsTable, useridForeignKeyColumn: uid } = this.names;
    const row = this.userChanges(user);
    if (row.username === undefined)
      throw new CrossauthError(ErrorCode.InvalidUsername, "Username is required");
    const values = toDbRow(
      { state: "active", factor1: "localpassword", factor2: "", admin: false, ...row },
      this.dialect,
    );
    const secretValues = toDbRow(this.secretChanges(secrets), this.dialect);
    return inTransaction(
      this.db,
      async (trx) => {
        await this.checkNamesFree(trx, row, undefined);
        const id = await this.insertUser(trx, values);
        await trx
          .insertInto(userSecretsTable)
          .values({ ...secretValues, [uid]: id })
          .execute();
        const stored = await trx
          .selectFrom(userTable)
          .selectAll()
          .where(idColumn, "=", id)
          .executeTakeFirstOrThrow();
        return this.userFromRow(stored);
      },
      userExists,
    );
  }

  /**
   * Updates the defined fields of user `user.id` and of its secrets (creating the secrets row when
   * missing), in one transaction; the normalized columns are recomputed.
   * @throws CrossauthError `InvalidKey` for a missing or unknown id, `UserExists` for a taken username
   *   or email, `InvalidUsername` / `InvalidEmail` for empty ones, `BadRequest` for an unknown field
   */
  async updateUser(user: PartialUser, secrets?: PartialUserSecrets): Promise<void> {
    if (user.id === undefined || user.id === null)
      throw new CrossauthError(ErrorCode.InvalidKey, "User id is required");
    const { idColumn, userTable, userSecretsTable, useridForeignKeyColumn: uid } = this.names;
    const id = idValue(user.id);
    const changes = this.userChanges(user);
    const values = toDbRow(changes, this.dialect);
    const secretValues = toDbRow(this.secretChanges(secrets), this.dialect);
    await inTransaction(
      this.db,
      async (trx) => {
        const current = await lockRows(
          trx.selectFrom(userTable).select(idColumn).where(idColumn, "=", id),
          this.dialect,
        ).executeTakeFirst();
        if (!current) throw new CrossauthError(ErrorCode.InvalidKey, "No user with this id");
        await this.checkNamesFree(trx, changes, id);
        if (Object.keys(values).length > 0)
          await trx.updateTable(userTable).set(values).where(idColumn, "=", id).execute();
        if (Object.keys(secretValues).length === 0) return;
        const has = await trx.selectFrom(userSecretsTable).select(uid).where(uid, "=", id).executeTakeFirst();
        if (has) await trx.updateTable(userSecretsTable).set(secretValues).where(uid, "=", id).execute();
        else
          await trx
            .insertInto(userSecretsTable)
            .values({ ...secretValues, [uid]: id })
            .execute();
      },
      userExists,
    );
  }

  /** Deletes a user (username matched as in lookups) with its secrets, keys, authorizations and clients. */
  async deleteUserByUsername(username: string): Promise<void> {
    const [column, value] = this.usernameMatch(username);
    await this.deleteWhere(column, value);
  }

  /** Deletes a user with its secrets, keys, authorizations and clients. No error when absent. */
  async deleteUserById(id: string | number): Promise<void> {
    await this.deleteWhere(this.names.idColumn, idValue(id));
  }

  /**
   * Users ordered by normalized username (code-point order), ties by id.
   * @param skip - number of users to skip
   * @param take - maximum number to return
   */
  async getUsers(skip?: number, take?: number): Promise<User[]> {
    const { userTable, idColumn } = this.names;
    const query = this.db
      .selectFrom(userTable)
      .selectAll()
      .orderBy(byCodePoint("username_normalized", this.dialect))
      .orderBy(idColumn);
    const rows = await withDbErrors(() => paginate(query, skip, take).execute());
    return rows.map((row) => this.userFromRow(row));
  }

  /** Inserts a user row and returns its generated id. */
  private async insertUser(trx: Kysely<any>, values: Row): Promise<unknown> {
    const { userTable, idColumn } = this.names;
    const insert = trx.insertInto(userTable).values(values);
    if (this.dialect === "postgres")
      return (await insert.returning(idColumn).executeTakeFirstOrThrow())[idColumn];
    return Number((await insert.executeTakeFirstOrThrow()).insertId);
  }

  /**
   * Reads a key and its owner in one query (a LEFT JOIN of the key table with the user table) when
   * `keyStorage` is a {@link KyselyKeyStorage} on the same database. The owner's columns are selected
   * by name, learnt from the first user row this storage read: until then, and after a failed joined
   * query (say, a column dropped at run time), it answers undefined and the caller reads the key and
   * the user separately. A column added to the user table while the process runs is seen by the
   * joined query only after a restart.
   * @param keyValue - the stored key value
   * @param keyStorage - the storage that holds the key
   * @throws CrossauthError `InvalidKey` when no key has this value
   */
  override async getKeyAndOwner(keyValue: string, keyStorage: KeyStorage): Promise<KeyAndOwner | undefined> {
    const lookup = this.ownerLookupFor(keyStorage);
    if (!lookup) return undefined;
    let row: Row | undefined;
    try {
      [row] = await lookup.query.execute(keyValue);
    } catch {
      this.userColumns = undefined;
      this.ownerLookup = undefined;
      return undefined;
    }
    if (!row) throw new CrossauthError(ErrorCode.InvalidKey);
    const ownerRow: Row = {};
    lookup.columns.forEach((column, i) => {
      ownerRow[column] = row[OWNER_COLUMN + i];
      delete row[OWNER_COLUMN + i];
    });
    const owned = ownerRow[this.names.idColumn] !== null && ownerRow[this.names.idColumn] !== undefined;
    return { key: lookup.join.keyFromRow(row), owner: owned ? this.userFromRow(ownerRow) : undefined };
  }

  /** The compiled key-and-owner query for `keyStorage`, when it can be built (see {@link getKeyAndOwner}). */
  private ownerLookupFor(keyStorage: KeyStorage): OwnerLookup | undefined {
    if (this.ownerLookup?.keyStorage === keyStorage) return this.ownerLookup;
    const columns = this.userColumns;
    if (!(keyStorage instanceof KyselyKeyStorage) || columns === undefined) return undefined;
    const join = keyStorage.keyTableJoin(this.db);
    if (!join) return undefined;
    const { userTable, idColumn } = this.names;
    const query = new ReusableQuery<Row>(this.db, 1, (d, value) =>
      d
        .selectFrom(`${join.table} as k`)
        .leftJoin(`${userTable} as u`, `u.${idColumn}`, `k.${join.userIdColumn}`)
        .selectAll("k")
        .select(columns.map((column, i) => sql.id("u", column).as(OWNER_COLUMN + i)))
        .where("k.value", "=", value),
    );
    this.ownerLookup = { keyStorage, join, columns, query };
    return this.ownerLookup;
  }

  /** The column and value a username lookup matches. */
  private usernameMatch(username: string): [string, string] {
    return this.normalizeUsername
      ? ["username_normalized", UserStorage.normalize(username)]
      : ["username", username];
  }

  /**
   * The first user (by id) whose `column` equals `value`; undefined also when the value cannot have
   * the column's type (e.g. a non-numeric id on PostgreSQL).
   * @throws CrossauthError `Connection` and other mapped driver errors
   */
  private async findOne(column: string, value: unknown): Promise<Row | undefined> {
    try {
      const row = (await this.lookupBy(column).execute(value))[0];
      if (row) this.userColumns ??= Object.keys(row);
      return row;
    } catch (e) {
      if (dbErrorKind(e) === "badValue") return undefined;
      throw toCrossauthError(e);
    }
  }

  /** The compiled single-user lookup by `column` (kept for up to {@link MAX_LOOKUPS} columns). */
  private lookupBy(column: string): ReusableQuery<Row> {
    let lookup = this.lookups.get(column);
    if (lookup === undefined) {
      const { userTable, idColumn } = this.names;
      lookup = new ReusableQuery(this.db, 1, (d, value) =>
        d
          .selectFrom(userTable)
          .selectAll()
          .where(sql.ref(column), "=", value)
          .orderBy(idColumn)
          // A literal: SQLite plans a bound LIMIT more slowly (measured 17 µs against 10 µs per lookup).
          .limit(sql.lit(1)),
      );
      if (this.lookups.size < MAX_LOOKUPS) this.lookups.set(column, lookup);
    }
    return lookup;
  }

  /**
   * The users (by id) whose `column` equals `value`; none when the value cannot have the column's
   * type (e.g. a non-numeric id on PostgreSQL).
   * @throws CrossauthError `BadRequest` for an unknown column, `Connection`
   */
  private async findAll(column: string, value: unknown): Promise<Row[]> {
    const { userTable, idColumn } = this.names;
    const query = this.db
      .selectFrom(userTable)
      .selectAll()
      .where(sql.ref(column), "=", value)
      .orderBy(idColumn);
    try {
      return await query.execute();
    } catch (e) {
      if (dbErrorKind(e) === "badValue") return [];
      throw toCrossauthError(e);
    }
  }

  /** The user and secrets of a found row, after the state check. */
  private async found(row: Row | undefined, options?: UserStorageGetOptions): Promise<UserAndSecrets> {
    if (!row) throw new CrossauthError(ErrorCode.UserNotExist);
    const user = this.userFromRow(row);
    checkUserState(user, options);
    if (options?.skipSecrets) return { user, secrets: { userid: user.id } };
    const { userSecretsTable, useridForeignKeyColumn: uid } = this.names;
    const stored = await withDbErrors(() =>
      this.db.selectFrom(userSecretsTable).selectAll().where(uid, "=", user.id).executeTakeFirst(),
    );
    const secrets: UserSecrets = { userid: user.id };
    for (const [field, value] of Object.entries(stored ?? {})) {
      if (field !== uid && value !== null && value !== undefined) secrets[field] = value;
    }
    return { user, secrets };
  }

  /** A user from a row: `id` from the id column, `admin` a boolean, `factor2` '' when none. */
  private userFromRow(row: Row): User {
    return {
      ...row,
      id: row[this.names.idColumn] as string | number,
      admin: boolFromDb(row.admin),
      factor2: (row.factor2 as string | null) ?? "",
    } as User;
  }

  /**
   * The columns to write for user input: defined fields except derived ones, with the normalized
   * username and email recomputed when those are given.
   * @throws CrossauthError `InvalidUsername` / `InvalidEmail` for empty ones
   */
  private userChanges(user: Partial<UserInputFields>): Row {
    const derived = ["id", this.names.idColumn, "username_normalized", "email_normalized"];
    const row: Row = {};
    for (const [field, value] of Object.entries(user)) {
      if (value !== undefined && !derived.includes(field)) row[field] = value;
    }
    if (row.username !== undefined) {
      if (typeof row.username !== "string" || row.username === "") {
        throw new CrossauthError(ErrorCode.InvalidUsername, "Username is required");
      }
      row.username_normalized = this.usernameMatch(row.username)[1];
    }
    if (row.email !== undefined) {
      if (row.email !== null && (typeof row.email !== "string" || row.email === "")) {
        throw new CrossauthError(ErrorCode.InvalidEmail, "Email must not be empty");
      }
      row.email_normalized =
        row.email === null
          ? null
          : this.normalizeEmail
            ? UserStorage.normalize(row.email as string)
            : row.email;
    }
    return row;
  }

  /** The secret columns to write: defined fields except the user id. */
  private secretChanges(secrets: PartialUserSecrets | UserSecretsInputFields | undefined): Row {
    const row: Row = {};
    for (const [field, value] of Object.entries(secrets ?? {})) {
      if (value !== undefined && field !== "userid" && field !== this.names.useridForeignKeyColumn)
        row[field] = value;
    }
    return row;
  }

  /**
   * Throws `UserExists` when another user's normalized username or email equals the new normalized
   * username or email (the unique indexes catch same-column races; this also catches a username that
   * is another user's email and the reverse).
   */
  private async checkNamesFree(trx: Kysely<any>, changes: Row, exceptId: unknown): Promise<void> {
    const taken = [changes.username_normalized, changes.email_normalized].filter(
      (v) => typeof v === "string",
    );
    if (taken.length === 0) return;
    const { userTable, idColumn } = this.names;
    let query = trx
      .selectFrom(userTable)
      .select(idColumn)
      .where((eb) => eb.or([eb("username_normalized", "in", taken), eb("email_normalized", "in", taken)]));
    if (exceptId !== undefined) query = query.where(idColumn, "<>", exceptId);
    if (await query.executeTakeFirst()) throw new CrossauthError(ErrorCode.UserExists, userExists.message);
  }

  /** Deletes the users matching `column = value` and everything that belongs to them, in one transaction. */
  private async deleteWhere(column: string, value: unknown): Promise<void> {
    const n = this.names;
    const uid = n.useridForeignKeyColumn;
    const users = await this.findAll(column, value);
    if (users.length === 0) return;
    await inTransaction(this.db, async (trx) => {
      for (const user of users) {
        const id = user[n.idColumn];
        const owned = trx.selectFrom(n.clientTable).select("client_id").where(uid, "=", id);
        await trx
          .deleteFrom(n.authorizationTable)
          .where((eb) => eb.or([eb(uid, "=", id), eb("client_id", "in", owned)]))
          .execute();
        for (const table of [n.redirectUriTable, n.validFlowTable]) {
          await trx.deleteFrom(table).where("client_id", "in", owned).execute();
        }
        for (const table of [n.clientTable, n.keyTable, n.userSecretsTable]) {
          await trx.deleteFrom(table).where(uid, "=", id).execute();
        }
        await trx.deleteFrom(n.userTable).where(n.idColumn, "=", id).execute();
      }
    });
  }
}
