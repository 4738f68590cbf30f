/**
 * `KyselyKeyStorage`: session ids, tokens and API keys in SQL (SQLite, PostgreSQL, MySQL/MariaDB).
 * @module
 */
import { CrossauthError, ErrorCode, type Key, type PartialKey } from "@crossauth/common";
import { type Kysely, sql } from "kysely";
import { decodeKeyData, encodeKeyData } from "../key-data.js";
import { KeyStorage } from "../key-storage.js";
import { withDbErrors } from "./db-errors.js";
import { dateFromDb, dateToDb, type SqlDialectName, sqlDialect, toDbValue } from "./dialect.js";
import { ReusableQuery } from "./reusable-query.js";
import { inTransaction, isColumnName, lockRows, ownerIs } from "./sql-helpers.js";
import { resolveTableNames, type SqlTableNames } from "./table-names.js";

/** What a joined lookup needs to know about a {@link KyselyKeyStorage} (see `KyselyUserStorage`). */
export interface KeyTableJoin {
  /** The key table. */
  table: string;
  /** Its user-id column. */
  userIdColumn: string;
  /** Converts a row of the key table (extra columns allowed) to a key. */
  keyFromRow(row: Record<string, unknown>): Key;
}

/** Options of {@link KyselyKeyStorage}: the table names. */
export interface KyselyKeyStorageOptions extends SqlTableNames {}

type Row = Record<string, unknown>;
const keyExists = { code: ErrorCode.KeyExists, message: "A key with this value already exists" };

/**
 * {@link KeyStorage} over the `Key` table (name configurable). Data edits are read-modify-write
 * transactions holding the key's row lock (`SELECT ... FOR UPDATE`; on SQLite, the write lock).
 */
export class KyselyKeyStorage extends KeyStorage {
  private readonly table: string;
  private readonly uid: string;
  private readonly dialect: SqlDialectName;
  /** The lookup of every authenticated request: a key by value. */
  private readonly byValue: ReusableQuery<Row>;

  /**
   * @param db - the database, migrated with {@link migrateToLatest} (same table names)
   * @param options - see {@link KyselyKeyStorageOptions}
   * @throws CrossauthError `Configuration` for bad options or an unsupported dialect
   */
  constructor(
    private readonly db: Kysely<any>,
    options: KyselyKeyStorageOptions = {},
  ) {
    super();
    const names = resolveTableNames(options);
    this.table = names.keyTable;
    this.uid = names.useridForeignKeyColumn;
    this.dialect = sqlDialect(db);
    this.byValue = new ReusableQuery(db, 1, (d, value) =>
      d.selectFrom(this.table).selectAll().where("value", "=", value),
    );
  }

  /**
   * Returns the key with this stored value.
   * @throws CrossauthError `InvalidKey` when absent, `Connection`
   */
  async getKey(key: string): Promise<Key> {
    const [row] = await withDbErrors(() => this.byValue.execute(key));
    if (!row) throw new CrossauthError(ErrorCode.InvalidKey);
    return this.keyFromRow(row);
  }

  /**
   * How to join this storage's key table in a query on `db`, for reading a key with its owner in
   * one query; undefined when this storage uses another database.
   * @param db - the database of the query
   */
  keyTableJoin(db: Kysely<any>): KeyTableJoin | undefined {
    if (db !== this.db) return undefined;
    return { table: this.table, userIdColumn: this.uid, keyFromRow: (row) => this.keyFromRow(row) };
  }

  /**
   * Saves a new key; `extraFields` are stored in columns of the same names.
   * @throws CrossauthError `KeyExists` for a duplicate value, `ConstraintViolation` for an unknown
   *   user, `BadRequest` for an unknown column, `Connection`
   */
  async saveKey(
    userid: string | number | null | undefined,
    value: string,
    dateCreated: Date,
    expires?: Date | null,
    data?: string,
    extraFields?: Record<string, unknown>,
  ): Promise<void> {
    const row = this.columns({
      lastactive: null,
      ...extraFields,
      value,
      userid: userid ?? null,
      created: dateCreated,
      expires: expires ?? null,
      data: data ?? "{}",
    });
    await withDbErrors(() => this.db.insertInto(this.table).values(row).execute(), keyExists);
  }

  /** Deletes the key with this value; no error when absent. */
  async deleteKey(value: string): Promise<void> {
    await withDbErrors(() => this.db.deleteFrom(this.table).where("value", "=", value).execute());
  }

  /**
   * Atomically deletes a key and returns it (one transaction holding the row lock): of concurrent
   * calls for one value, exactly one gets the key.
   * @throws CrossauthError `InvalidKey` when absent or already consumed, `Connection`
   */
  async consumeKey(value: string): Promise<Key> {
    return inTransaction(this.db, async (trx) => {
      const query = trx.selectFrom(this.table).selectAll().where("value", "=", value);
      const row = await lockRows(query, this.dialect).executeTakeFirst();
      const deleted = row && (await trx.deleteFrom(this.table).where("value", "=", value).executeTakeFirst());
      if (!row || !deleted || Number(deleted.numDeletedRows) !== 1)
        throw new CrossauthError(ErrorCode.InvalidKey);
      return this.keyFromRow(row);
    });
  }

  /**
   * Deletes every key matching all defined fields of `key` (`null` matches NULL); an empty match
   * deletes nothing.
   * @throws CrossauthError `BadRequest` for a field that is no column
   */
  async deleteMatching(key: PartialKey): Promise<void> {
    const row = this.columns(key);
    if (Object.keys(row).length === 0) return;
    let query = this.db.deleteFrom(this.table);
    for (const [column, value] of Object.entries(row)) {
      query = query.where(
        value === null ? (eb) => eb(sql.ref(column), "is", null) : (eb) => eb(sql.ref(column), "=", value),
      );
    }
    await withDbErrors(() => query.execute());
  }

  /**
   * Deletes the keys of a user (anonymous keys for null) whose value starts with `prefix` (compared
   * literally, case-sensitively), except `exceptKey`.
   */
  async deleteAllForUser(userid: string | number | null, prefix: string, exceptKey?: string): Promise<void> {
    const length = [...prefix].length;
    let query = this.db
      .deleteFrom(this.table)
      .where(ownerIs(this.uid, userid ?? null))
      .where(sql`substr(${sql.ref("value")}, 1, ${length})`, "=", prefix);
    if (exceptKey !== undefined) query = query.where("value", "<>", exceptKey);
    await withDbErrors(() => query.execute());
  }

  /** Every key of a user; with null or no argument, every anonymous key. */
  async getAllForUser(userid?: string | number | null): Promise<Key[]> {
    const rows = await withDbErrors(() =>
      this.db
        .selectFrom(this.table)
        .selectAll()
        .where(ownerIs(this.uid, userid ?? null))
        .orderBy("id")
        .execute(),
    );
    return rows.map((row) => this.keyFromRow(row));
  }

  /**
   * Updates the defined fields of the key `key.value`.
   * @throws CrossauthError `InvalidKey` when absent, `BadRequest` for an unknown column
   */
  async updateKey(key: PartialKey): Promise<void> {
    const { value, ...fields } = key;
    if (typeof value !== "string") throw new CrossauthError(ErrorCode.InvalidKey);
    const changes = this.columns(fields);
    const where = this.db.selectFrom(this.table).select("value").where("value", "=", value);
    const result = await withDbErrors(async () => {
      if (Object.keys(changes).length === 0) return where.executeTakeFirst();
      const updated = await this.db
        .updateTable(this.table)
        .set(changes)
        .where("value", "=", value)
        .executeTakeFirst();
      return Number(updated.numUpdatedRows) > 0 ? updated : where.executeTakeFirst();
    });
    if (!result) throw new CrossauthError(ErrorCode.InvalidKey);
  }

  /**
   * Deletes every key whose `expires` is at or before `now`.
   * @returns how many were deleted
   */
  async deleteExpired(now: Date = new Date()): Promise<number> {
    const result = await withDbErrors(() =>
      this.db
        .deleteFrom(this.table)
        .where("expires", "is not", null)
        .where("expires", "<=", dateToDb(now, this.dialect))
        .executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }

  /** Reads, edits and writes the data of a key in one transaction holding its row lock. */
  protected override async editData(
    keyName: string,
    edit: (data: Record<string, unknown>) => void,
  ): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const query = trx.selectFrom(this.table).select("data").where("value", "=", keyName);
      const row = await lockRows(query, this.dialect).executeTakeFirst();
      if (!row) throw new CrossauthError(ErrorCode.InvalidKey);
      const data = decodeKeyData(row.data as string | null);
      edit(data);
      let encoded: string;
      try {
        encoded = encodeKeyData(data);
      } catch {
        throw new CrossauthError(ErrorCode.DataFormat, "Key data value cannot be encoded as JSON");
      }
      await trx.updateTable(this.table).set({ data: encoded }).where("value", "=", keyName).execute();
    });
  }

  /**
   * Key fields as columns: defined fields only, `userid` in the user-id column, values converted.
   * @throws CrossauthError `BadRequest` for a field name that cannot be a column
   */
  private columns(fields: Record<string, unknown>): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(fields)) {
      if (value === undefined || field === "id") continue;
      if (!isColumnName(field)) throw new CrossauthError(ErrorCode.BadRequest, "Unknown key field");
      row[field === "userid" ? this.uid : field] = toDbValue(value, this.dialect);
    }
    return row;
  }

  /** A key from a row: dates converted, `userid` from the user-id column, the surrogate `id` dropped. */
  private keyFromRow(row: Row): Key {
    const { id: _id, [this.uid]: userid, created, expires, lastactive, data, ...extra } = row;
    return {
      ...extra,
      value: row.value as string,
      userid: (userid as string | number | null) ?? null,
      created: dateFromDb(created, this.dialect) as Date, // NOT NULL
      expires: dateFromDb(expires, this.dialect),
      lastactive: dateFromDb(lastactive, this.dialect),
      data: (data as string | null) ?? "{}",
    };
  }
}
