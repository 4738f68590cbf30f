/**
 * `connectDatabase`: a Kysely instance from a database URL, with the driver settings the `Kysely*`
 * storages rely on.
 * @module
 */
import { CrossauthError, CrossauthLogger, ErrorCode, j } from "@crossauth/common";
import Database from "better-sqlite3";
import {
  CompiledQuery,
  Kysely,
  MysqlDialect,
  PostgresDialect,
  type SqliteDatabase,
  SqliteDialect,
} from "kysely";
import mysql from "mysql2";
import pg from "pg";

/** A database URL, parsed. */
export type DatabaseTarget =
  | { dialect: "sqlite"; path: string }
  | { dialect: "postgres"; url: string }
  | { dialect: "mysql"; url: string };

/**
 * Parses a database URL: `sqlite:<path>`, `sqlite://<path>`, a bare file path or `:memory:` for
 * SQLite; `postgres://` or `postgresql://` for PostgreSQL; `mysql://` or `mariadb://` for MySQL/MariaDB.
 * @param url - the URL
 * @throws CrossauthError `Configuration` for an empty URL or an unknown scheme
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const text = typeof url === "string" ? url.trim() : "";
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (text === "" || text === "sqlite:" || text === "sqlite://") {
    throw new CrossauthError(ErrorCode.Configuration, "Database URL is empty");
  }
  if (scheme === "postgres" || scheme === "postgresql") return { dialect: "postgres", url: text };
  if (scheme === "mysql" || scheme === "mariadb")
    return { dialect: "mysql", url: text.replace(/^mariadb:/i, "mysql:") };
  if (scheme === "sqlite") {
    const path = text.slice("sqlite:".length);
    return { dialect: "sqlite", path: path.startsWith("//") ? path.slice(2) : path };
  }
  // A bare path (a Windows drive letter looks like a one-letter scheme).
  if (scheme === undefined || scheme.length === 1) return { dialect: "sqlite", path: text };
  throw new CrossauthError(ErrorCode.Configuration, `Unsupported database URL scheme ${scheme}:`);
}

/**
 * A database URL safe to print: the password replaced by `***`.
 * @param url - the URL
 */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.protocol === "sqlite:" ? url : parsed.toString();
  } catch {
    return url;
  }
}

/** Makes MySQL reject over-long or ill-typed values instead of truncating them silently. */
const mysqlStrictMode = CompiledQuery.raw(
  "SET SESSION sql_mode = IF(@@SESSION.sql_mode = '', 'STRICT_ALL_TABLES', CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES'))",
);

function openSqlite(path: string): Database.Database {
  try {
    const db = new Database(path);
    if (path !== ":memory:" && path !== "") db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    db.pragma("synchronous = NORMAL");
    return db;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new CrossauthError(ErrorCode.Connection, `Cannot open SQLite database ${path}: ${reason}`);
  }
}

/** How many prepared SQLite statements {@link cachedStatements} keeps. */
export const SQLITE_STATEMENT_CACHE_SIZE = 256;

/**
 * A better-sqlite3 database as Kysely's SQLite dialect sees it, with prepared statements kept by SQL
 * text: Kysely prepares every query it runs, and preparing costs more than running a point lookup.
 * A statement still iterating (a streamed query) is never handed out twice: a busy one is replaced by
 * a fresh statement for that call. At most `size` statements are kept; the least recently prepared
 * is dropped first.
 * @param db - the open database
 * @param size - how many statements to keep
 */
export function cachedStatements(db: Database.Database, size = SQLITE_STATEMENT_CACHE_SIZE): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => {
      statements.clear();
      db.close();
    },
    prepare: (text: string) => {
      const kept = statements.get(text);
      if (kept !== undefined && !kept.busy) return kept;
      const statement = db.prepare(text);
      if (kept === undefined) {
        if (statements.size >= size) statements.delete(statements.keys().next().value as string);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

/**
 * Connects to a database (see {@link parseDatabaseUrl} for URLs). SQLite: better-sqlite3 in WAL mode
 * with `foreign_keys = ON` (which the cascading deletes of the schema need on every SQLite
 * connection), a 5 s busy timeout and prepared statements reused ({@link cachedStatements}).
 * PostgreSQL: a pg pool. MySQL/MariaDB: a mysql2 pool with `dateStrings`, `timezone: "Z"`,
 * `supportBigNumbers` and strict SQL mode (no silent truncation). Pools connect lazily; call
 * `destroy()` on the result to close them.
 * @param url - the database URL
 * @throws CrossauthError `Configuration` for a bad URL, `Connection` when a SQLite file cannot be opened
 */
export function connectDatabase(url: string): Kysely<any> {
  const target = parseDatabaseUrl(url);
  if (target.dialect === "sqlite") {
    return new Kysely<any>({
      dialect: new SqliteDialect({ database: cachedStatements(openSqlite(target.path)) }),
    });
  }
  if (target.dialect === "postgres") {
    const pool = new pg.Pool({ connectionString: target.url });
    pool.on("error", (e) => {
      CrossauthLogger.logger.error(
        j({ msg: "Idle PostgreSQL connection failed", errorCode: String((e as { code?: unknown }).code) }),
      );
    });
    return new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  }
  const pool = mysql.createPool({
    uri: target.url,
    dateStrings: true,
    timezone: "Z",
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: "utf8mb4_unicode_ci",
  });
  return new Kysely<any>({
    dialect: new MysqlDialect({
      pool,
      onCreateConnection: async (connection) => {
        await connection.executeQuery(mysqlStrictMode);
      },
    }),
  });
}
