/**
 * The one place where SQLite (better-sqlite3), PostgreSQL (pg) and MySQL/MariaDB (mysql2) driver
 * errors become `CrossauthError`s.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";

/** What went wrong, whatever the driver. */
export type DbErrorKind =
  | "unique"
  | "foreignKey"
  | "notNull"
  | "tooLong"
  | "unknownColumn"
  | "unknownTable"
  | "badValue"
  | "conflict"
  | "connection"
  | "other";

/** Driver error codes: SQLite extended codes, PostgreSQL SQLSTATEs, mysql2 codes, Node socket codes. */
const kindByCode: Readonly<Record<string, DbErrorKind>> = Object.freeze({
  SQLITE_CONSTRAINT_UNIQUE: "unique",
  SQLITE_CONSTRAINT_PRIMARYKEY: "unique",
  SQLITE_CONSTRAINT_FOREIGNKEY: "foreignKey",
  SQLITE_CONSTRAINT_NOTNULL: "notNull",
  SQLITE_TOOBIG: "tooLong",
  SQLITE_MISMATCH: "badValue",
  SQLITE_BUSY: "conflict",
  SQLITE_BUSY_SNAPSHOT: "conflict",
  SQLITE_LOCKED: "conflict",
  SQLITE_CANTOPEN: "connection",
  SQLITE_READONLY: "connection",
  SQLITE_IOERR: "connection",
  "23505": "unique",
  "23503": "foreignKey",
  "23502": "notNull",
  "22001": "tooLong",
  "54000": "tooLong",
  "42703": "unknownColumn",
  "42P01": "unknownTable",
  "22P02": "badValue",
  "22003": "badValue",
  "22007": "badValue",
  "22008": "badValue",
  "40001": "conflict",
  "40P01": "conflict",
  "3D000": "connection",
  "53300": "connection",
  "57P01": "connection",
  "57P03": "connection",
  ER_DUP_ENTRY: "unique",
  ER_NO_REFERENCED_ROW: "foreignKey",
  ER_NO_REFERENCED_ROW_2: "foreignKey",
  ER_ROW_IS_REFERENCED_2: "foreignKey",
  ER_BAD_NULL_ERROR: "notNull",
  ER_DATA_TOO_LONG: "tooLong",
  ER_BAD_FIELD_ERROR: "unknownColumn",
  ER_NO_SUCH_TABLE: "unknownTable",
  ER_TRUNCATED_WRONG_VALUE: "badValue",
  ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: "badValue",
  ER_WARN_DATA_OUT_OF_RANGE: "badValue",
  ER_LOCK_DEADLOCK: "conflict",
  ER_LOCK_WAIT_TIMEOUT: "conflict",
  ER_ACCESS_DENIED_ERROR: "connection",
  ER_DBACCESS_DENIED_ERROR: "connection",
  ER_BAD_DB_ERROR: "connection",
  ER_CON_COUNT_ERROR: "connection",
  PROTOCOL_CONNECTION_LOST: "connection",
  ECONNREFUSED: "connection",
  ECONNRESET: "connection",
  ETIMEDOUT: "connection",
  ENOTFOUND: "connection",
  EHOSTUNREACH: "connection",
  EAI_AGAIN: "connection",
  EPIPE: "connection",
});

const messagePatterns: readonly [RegExp, DbErrorKind][] = [
  [/no such column|has no column named/i, "unknownColumn"],
  [/no such table/i, "unknownTable"],
  [/can only bind/i, "badValue"],
  [/connect|terminated|timeout|pool is closed|has already been destroyed|unable to open/i, "connection"],
];

function field(e: unknown, name: string): unknown {
  return e !== null && typeof e === "object" ? (e as Record<string, unknown>)[name] : undefined;
}

/**
 * Classifies a driver error.
 * @param e - anything thrown by a driver or Kysely
 */
export function dbErrorKind(e: unknown): DbErrorKind {
  const code = field(e, "code");
  if (typeof code === "string") {
    const kind =
      kindByCode[code] ?? (/^(08|28)[0-9A-Z]{3}$|^SQLITE_IOERR/.test(code) ? "connection" : undefined);
    if (kind) return kind;
  }
  const message = field(e, "message");
  if (typeof message === "string") {
    for (const [pattern, kind] of messagePatterns) if (pattern.test(message)) return kind;
  }
  return "other";
}

/** The column a driver error names, when it names one (never a value). */
function columnOf(e: unknown): string | undefined {
  const column = field(e, "column");
  if (typeof column === "string" && column) return column;
  const message = String(field(e, "message") ?? "");
  return (/column '([^']+)'/i.exec(message) ?? /constraint failed: [^.\s]+\.(\w+)/.exec(message))?.[1];
}

/** How a unique violation is reported: e.g. `{code: ErrorCode.UserExists}`. */
export interface UniqueViolation {
  /** The error code. Default `ConstraintViolation`. */
  code?: ErrorCode;
  /** The message. Default: the code's default message. */
  message?: string;
}

/**
 * A `CrossauthError` for anything thrown while talking to the database (a `CrossauthError` is
 * returned unchanged). Messages never contain stored values.
 * @param e - what was thrown
 * @param unique - how to report a unique violation
 * @returns `unique.code` for a unique violation; `ConstraintViolation` for foreign-key, not-null and
 *   too-long violations; `BadRequest` for unknown columns or values of the wrong type; `Configuration`
 *   for a missing table; `Connection` for connection failures and transaction conflicts; `UnknownError`
 *   otherwise
 */
export function toCrossauthError(e: unknown, unique: UniqueViolation = {}): CrossauthError {
  if (e instanceof CrossauthError) return e;
  const kind = dbErrorKind(e);
  const column = columnOf(e);
  const where = column ? ` (${column})` : "";
  switch (kind) {
    case "unique":
      return new CrossauthError(unique.code ?? ErrorCode.ConstraintViolation, unique.message);
    case "foreignKey":
      return new CrossauthError(
        ErrorCode.ConstraintViolation,
        "The referenced user or client does not exist",
      );
    case "notNull":
      return new CrossauthError(ErrorCode.ConstraintViolation, `A required value is missing${where}`);
    case "tooLong":
      return new CrossauthError(ErrorCode.ConstraintViolation, `A value is too long for its column${where}`);
    case "unknownColumn":
      return new CrossauthError(ErrorCode.BadRequest, "Unknown field");
    case "badValue":
      return new CrossauthError(ErrorCode.BadRequest, `A value has the wrong type for its column${where}`);
    case "unknownTable":
      return new CrossauthError(
        ErrorCode.Configuration,
        "A Crossauth table is missing: run crossauth-migrate",
      );
    case "conflict":
      return new CrossauthError(ErrorCode.Connection, "The database reported a transaction conflict");
    case "connection":
      return new CrossauthError(ErrorCode.Connection, "Cannot reach the database");
    default:
      CrossauthLogger.logger.error(
        j({ msg: "Unexpected database error", errorCode: String(field(e, "code")) }),
      );
      return new CrossauthError(ErrorCode.UnknownError, "Unexpected database error");
  }
}

/**
 * Runs a database call, turning whatever it throws into a `CrossauthError` ({@link toCrossauthError}).
 * @param call - the call
 * @param unique - how to report a unique violation
 */
export async function withDbErrors<T>(call: () => Promise<T>, unique?: UniqueViolation): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw toCrossauthError(e, unique);
  }
}
