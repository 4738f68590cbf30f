/**
 * Opening the server's database from its URL, creating the directory of a SQLite file first.
 * @module
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { connectDatabase, parseDatabaseUrl } from "@crossauth/backend";
import { CrossauthError, ErrorCode } from "@crossauth/common";

/** The Kysely instance {@link openDatabase} returns. */
export type Database = ReturnType<typeof connectDatabase>;

/**
 * Connects to the database at `url` (`sqlite://<path>`, `sqlite:<path>`, `postgres://...`,
 * `mysql://...`; see `parseDatabaseUrl`). For a SQLite file, its directory is created when missing.
 * @param url - the database URL
 * @throws CrossauthError `Configuration` for a bad URL or a directory that cannot be created,
 *   `Connection` when a SQLite file cannot be opened
 */
export function openDatabase(url: string): Database {
  const target = parseDatabaseUrl(url);
  if (target.dialect === "sqlite" && target.path !== ":memory:") {
    try {
      mkdirSync(dirname(target.path), { recursive: true });
    } catch {
      throw new CrossauthError(
        ErrorCode.Configuration,
        `Cannot create the directory of the SQLite database ${target.path}`,
      );
    }
  }
  return connectDatabase(url);
}
