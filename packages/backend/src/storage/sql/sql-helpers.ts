/**
 * Query helpers shared by the `Kysely*` storages: transactions with row locks, paging, owner
 * filters and code-point ordering.
 * @module
 */
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
} from "kysely";
import { dbErrorKind, toCrossauthError, type UniqueViolation } from "./db-errors.js";
import { type SqlDialectName, sqlDialect } from "./dialect.js";

/** How many times a transaction is retried after a deadlock or serialization conflict. */
const conflictRetries = 5;

/**
 * Runs `body` in a transaction: on SQLite a `BEGIN IMMEDIATE` transaction on the single connection
 * (so a read-modify-write holds the write lock from its first read, even across processes); on
 * PostgreSQL and MySQL a Kysely transaction, in which {@link lockRows} takes row locks. Deadlocks and
 * serialization failures are retried a few times.
 * @param db - the Kysely instance
 * @param body - the work, given the transaction
 * @param unique - how a unique violation is reported
 * @throws CrossauthError whatever `body` throws, or a mapped driver error ({@link toCrossauthError})
 */
export async function inTransaction<T>(
  db: Kysely<any>,
  body: (trx: Kysely<any>) => Promise<T>,
  unique?: UniqueViolation,
): Promise<T> {
  const sqlite = sqlDialect(db) === "sqlite";
  for (let attempt = 1; ; attempt++) {
    try {
      if (!sqlite) return await db.transaction().execute(body);
      return await db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const result = await body(conn);
          await sql`commit`.execute(conn);
          return result;
        } catch (e) {
          await sql`rollback`.execute(conn).catch(() => undefined);
          throw e;
        }
      });
    } catch (e) {
      if (attempt >= conflictRetries || dbErrorKind(e) !== "conflict") throw toCrossauthError(e, unique);
      await sleep(randomInt(0, 20 * attempt + 1));
    }
  }
}

/**
 * Adds `FOR UPDATE` on PostgreSQL and MySQL (SQLite transactions from {@link inTransaction} already
 * hold the database write lock).
 * @param query - a select inside {@link inTransaction}
 * @param dialect - the dialect
 */
export function lockRows<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  dialect: SqlDialectName,
): SelectQueryBuilder<DB, TB, O> {
  return dialect === "sqlite" ? query : query.forUpdate();
}

/**
 * Applies `skip` and `take` (MySQL and SQLite need a LIMIT for an OFFSET).
 * @param query - an ordered select
 * @param skip - rows to skip
 * @param take - maximum rows
 */
export function paginate<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  skip?: number,
  take?: number,
): SelectQueryBuilder<DB, TB, O> {
  let q = query;
  if (take !== undefined && take !== null) q = q.limit(Math.max(0, Math.floor(take)));
  if (skip && skip > 0) {
    if (take === undefined || take === null) q = q.limit(Number.MAX_SAFE_INTEGER);
    q = q.offset(Math.floor(skip));
  }
  return q;
}

/**
 * A filter on a user-id column: `IS NULL` for a null owner, `=` otherwise.
 * @param column - the column
 * @param userid - the owner, or null for none
 */
export function ownerIs(column: string, userid: string | number | null) {
  return (eb: ExpressionBuilder<any, any>): Expression<SqlBool> =>
    userid === null ? eb(column, "is", null) : eb(column, "=", userid);
}

/**
 * A text column ordered by code point on every dialect (PostgreSQL's default collation is the
 * locale's; MySQL tables use a binary collation; SQLite compares bytes).
 * @param column - the column
 * @param dialect - the dialect
 */
export function byCodePoint(column: string, dialect: SqlDialectName) {
  return dialect === "postgres" ? sql`${sql.ref(column)} collate "C"` : sql.ref(column);
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Whether a caller-supplied field name may be used as a column name (letters, digits, `_`).
 * @param name - the field name
 */
export function isColumnName(name: string): boolean {
  return typeof name === "string" && name.length <= 64 && identifier.test(name);
}
