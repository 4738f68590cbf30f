#!/usr/bin/env node
/**
 * `crossauth-migrate [DATABASE_URL]`: creates or upgrades the Crossauth SQL schema. The URL comes
 * from the first argument, else `DATABASE_URL` (when not empty), else `sqlite:crossauth.db`. Exits with 1 on failure.
 * @module
 */
import { CrossauthError } from "@crossauth/common";
import type { Kysely } from "kysely";
import { connectDatabase, redactDatabaseUrl } from "./connect.js";
import { migrateToLatest } from "./migrate.js";

const url = process.argv[2] || process.env.DATABASE_URL || "sqlite:crossauth.db";
const where = redactDatabaseUrl(url);
let db: Kysely<any> | undefined;
try {
  db = connectDatabase(url);
  const { executed } = await migrateToLatest(db);
  if (executed.length === 0) console.log(`crossauth-migrate: ${where} is up to date`);
  for (const name of executed) console.log(`crossauth-migrate: ${where}: applied ${name}`);
} catch (e) {
  const message = e instanceof CrossauthError ? e.message : e instanceof Error ? e.message : String(e);
  console.error(`crossauth-migrate: ${where}: failed: ${message}`);
  process.exitCode = 1;
} finally {
  await db?.destroy().catch(() => undefined);
}
