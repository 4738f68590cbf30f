/**
 * `migrateToLatest`: creates or upgrades the Crossauth SQL schema from code.
 * @module
 */
import { CrossauthError, ErrorCode } from "@crossauth/common";
import { type Kysely, type MigrationProvider, Migrator, sql } from "kysely";
import { dbErrorKind } from "./db-errors.js";
import { sqlDialect } from "./dialect.js";
import { crossauthMigrations } from "./schema-migrations.js";
import { resolveTableNames, type SqlTableNames } from "./table-names.js";

/** Options of {@link migrateToLatest}: the table names plus where migration history is kept. */
export interface SqlMigrateOptions extends SqlTableNames {
  /**
   * Table recording applied Crossauth migrations. Default `crossauth_migration` (apart from an
   * application's own Kysely migrations). Use another one per set of custom table names in one database.
   */
  migrationTableName?: string;
  /** Lock table of the migrator. Default `crossauth_migration_lock`. */
  migrationLockTableName?: string;
}

/** What {@link migrateToLatest} did. */
export interface SqlMigrateReport {
  /** Names of the migrations applied by this run, in order (empty when already up to date). */
  executed: string[];
}

/**
 * Applies every Crossauth migration not yet applied to the database (a no-op when up to date).
 * Concurrent runs are serialized by Kysely's migration lock.
 * @param db - the database
 * @param options - table names (same as the storages') and migration table names
 * @returns the migrations applied
 * @throws CrossauthError `Connection` when the database cannot be reached, `Configuration` when a
 *   migration fails (e.g. a table of that name already exists)
 */
export async function migrateToLatest(
  db: Kysely<any>,
  options: SqlMigrateOptions = {},
): Promise<SqlMigrateReport> {
  const migrations = crossauthMigrations(resolveTableNames(options));
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  let schema: string | undefined;
  try {
    schema = await currentPostgresSchema(db);
  } catch (e) {
    if (dbErrorKind(e) === "connection")
      throw new CrossauthError(ErrorCode.Connection, "Cannot reach the database");
    throw e;
  }
  const migrator = new Migrator({
    db,
    provider,
    // On PostgreSQL the history tables live in the current schema: without naming it, the migrator
    // would find another schema's history tables through the catalog and skip creating its own.
    ...(schema ? { migrationTableSchema: schema } : {}),
    migrationTableName: options.migrationTableName ?? "crossauth_migration",
    migrationLockTableName: options.migrationLockTableName ?? "crossauth_migration_lock",
  });
  let resultSet: Awaited<ReturnType<Migrator["migrateToLatest"]>>;
  try {
    resultSet = await migrator.migrateToLatest();
  } catch (e) {
    resultSet = { error: e };
  }
  const { error, results = [] } = resultSet;
  if (error !== undefined) {
    if (error instanceof CrossauthError) throw error;
    if (dbErrorKind(error) === "connection")
      throw new CrossauthError(ErrorCode.Connection, "Cannot reach the database");
    const failed = results.find((r) => r.status === "Error")?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new CrossauthError(
      ErrorCode.Configuration,
      `Crossauth migration ${failed ?? "setup"} failed: ${reason}`,
    );
  }
  return { executed: results.filter((r) => r.status === "Success").map((r) => r.migrationName) };
}

/** The current schema on PostgreSQL (the first of the search path); undefined on other dialects. */
async function currentPostgresSchema(db: Kysely<any>): Promise<string | undefined> {
  if (sqlDialect(db) !== "postgres") return undefined;
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema ?? undefined;
}
