/**
 * SQL storage on Kysely for SQLite (better-sqlite3), PostgreSQL (pg) and MySQL/MariaDB (mysql2):
 * the schema as migrations, the four storages and a connection helper. The only module that
 * imports database drivers.
 *
 * Typical use: `const db = connectDatabase(url); await migrateToLatest(db);` then
 * `new KyselyUserStorage(db)` etc. (or run `crossauth-migrate URL` at deploy time). When you build
 * the Kysely instance yourself instead of with {@link connectDatabase}: on SQLite run
 * `PRAGMA foreign_keys = ON` on the connection (the schema's cascading deletes need it); on MySQL
 * create the pool with `dateStrings: true` and strict SQL mode (else values may be truncated).
 * @module
 */
export {
  cachedStatements,
  connectDatabase,
  type DatabaseTarget,
  parseDatabaseUrl,
  redactDatabaseUrl,
  SQLITE_STATEMENT_CACHE_SIZE,
} from "./connect.js";
export { type DbErrorKind, dbErrorKind, toCrossauthError, type UniqueViolation } from "./db-errors.js";
export { type SqlDialectName, sqlDialect } from "./dialect.js";
export { type KeyTableJoin, KyselyKeyStorage, type KyselyKeyStorageOptions } from "./kysely-key-storage.js";
export {
  KyselyOAuthAuthorizationStorage,
  type KyselyOAuthAuthorizationStorageOptions,
} from "./kysely-oauth-authorization-storage.js";
export {
  KyselyOAuthClientStorage,
  type KyselyOAuthClientStorageOptions,
} from "./kysely-oauth-client-storage.js";
export { KyselyUserStorage, type KyselyUserStorageOptions } from "./kysely-user-storage.js";
export { migrateToLatest, type SqlMigrateOptions, type SqlMigrateReport } from "./migrate.js";
export { crossauthMigrations } from "./schema-migrations.js";
export { defaultSqlTableNames, resolveTableNames, type SqlTableNames } from "./table-names.js";
