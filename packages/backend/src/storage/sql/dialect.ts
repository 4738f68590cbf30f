/**
 * Which SQL dialect a Kysely instance speaks, and the value conversions that differ between them
 * (dates, booleans).
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { type Kysely, MysqlAdapter, PostgresAdapter, SqliteAdapter } from "kysely";

/** The SQL dialects the `Kysely*` storages support. */
export type SqlDialectName = "sqlite" | "postgres" | "mysql";

/**
 * The dialect of a Kysely instance (or transaction), from its adapter.
 * @param db - the Kysely instance
 * @throws CrossauthError `Configuration` for a dialect other than SQLite, PostgreSQL and MySQL/MariaDB
 */
export function sqlDialect(db: Kysely<any>): SqlDialectName {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return "postgres";
  if (adapter instanceof MysqlAdapter) return "mysql";
  if (adapter instanceof SqliteAdapter) return "sqlite";
  throw new CrossauthError(
    ErrorCode.Configuration,
    "Unsupported SQL dialect: use SQLite, PostgreSQL or MySQL",
  );
}

/**
 * A date as stored: a `Date` for PostgreSQL (`timestamptz(3)`), a UTC `YYYY-MM-DD HH:MM:SS.mmm`
 * string for MySQL (`DATETIME(3)`, whatever the process or server time zone), REAL unix seconds for
 * SQLite (as the Python package's `register_sqlite_datetime` stores them).
 * @param date - the date
 * @param dialect - target dialect
 * @throws CrossauthError `BadRequest` for an invalid date
 */
export function dateToDb(date: Date, dialect: SqlDialectName): Date | string | number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new CrossauthError(ErrorCode.BadRequest, "Invalid date");
  if (dialect === "postgres") return date;
  if (dialect === "mysql") return date.toISOString().slice(0, 23).replace("T", " ");
  return ms / 1000;
}

const isoNoZone = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A stored date read back, to the millisecond: `Date` (PostgreSQL; MySQL pools without
 * `dateStrings`, read as mysql2's default local-time interpretation), unix seconds as a number
 * (SQLite), or text (ISO or `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC unless it carries a zone).
 * @param value - the column value
 * @param dialect - source dialect
 * @returns the date, or null for NULL
 * @throws CrossauthError `DataFormat` for a value that is no date
 */
export function dateFromDb(value: unknown, dialect: SqlDialectName): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    if (dialect !== "mysql") return new Date(value.getTime());
    const v = value;
    return new Date(
      Date.UTC(
        v.getFullYear(),
        v.getMonth(),
        v.getDate(),
        v.getHours(),
        v.getMinutes(),
        v.getSeconds(),
        v.getMilliseconds(),
      ),
    );
  }
  if (typeof value === "number" || typeof value === "bigint")
    return new Date(Math.round(Number(value) * 1000));
  if (typeof value === "string") {
    if (/^-?\d+(\.\d+)?$/.test(value)) return new Date(Math.round(Number(value) * 1000));
    const m = isoNoZone.exec(value.trim());
    if (m) {
      const ms = Date.parse(`${m[1]}T${m[2]}${m[4] ?? "Z"}`) + Math.round(Number(`0.${m[3] ?? "0"}`) * 1000);
      if (!Number.isNaN(ms)) return new Date(ms);
    }
  }
  throw new CrossauthError(ErrorCode.DataFormat, "Stored value is not a date");
}

/**
 * A stored boolean read back: PostgreSQL booleans, MySQL `TINYINT(1)` and SQLite `0`/`1`.
 * @param value - the column value
 */
export function boolFromDb(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === "1" || value === "t" || value === "true";
}

/**
 * Any value as a query parameter: dates via {@link dateToDb}; booleans as `0`/`1` except on
 * PostgreSQL (better-sqlite3 cannot bind booleans); strings, numbers, bigints, bytes and null unchanged.
 * @param value - the value
 * @param dialect - target dialect
 * @throws CrossauthError `DataFormat` for anything a column cannot hold (objects, arrays, functions)
 */
export function toDbValue(value: unknown, dialect: SqlDialectName): unknown {
  if (value instanceof Date) return dateToDb(value, dialect);
  if (typeof value === "boolean") return dialect === "postgres" ? value : value ? 1 : 0;
  if (
    value === null ||
    value instanceof Uint8Array ||
    ["string", "number", "bigint"].includes(typeof value)
  ) {
    return value;
  }
  throw new CrossauthError(ErrorCode.DataFormat, "Value cannot be stored in an SQL column");
}

/**
 * A row of values converted with {@link toDbValue}, `undefined` ones dropped.
 * @param row - column → value
 * @param dialect - target dialect
 * @throws CrossauthError `DataFormat` as {@link toDbValue}
 */
export function toDbRow(row: Record<string, unknown>, dialect: SqlDialectName): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (value !== undefined) out[column] = toDbValue(value, dialect);
  }
  return out;
}
