/**
 * Test data for the reference server: users with a 600,000-iteration PBKDF2 password hash (one hash,
 * computed once, shared by every user), sessions stored as the `SessionCookie` stores them
 * (`s:` + hash of a random id) with their signed cookies, and API keys made by the `ApiKeyManager`.
 * Rows are written with multi-row inserts through the Kysely instance of `connectDatabase`.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiKeyManager,
  connectDatabase,
  KyselyKeyStorage,
  migrateToLatest,
  passwordHash,
  randomValue,
  SessionCookie,
  signSecureToken,
  sqlDialect,
} from "@crossauth/backend";
import { sql } from "kysely";
import { BENCH_PASSWORD } from "./paths.js";

type Db = ReturnType<typeof connectDatabase>;

/** What to create. */
export interface SeedSpec {
  /** Database URL (a fresh SQLite file or PostgreSQL database). */
  url: string;
  users: number;
  sessions: number;
  /** How many session cookies to hand back (spread evenly over the sessions). */
  cookiePool: number;
  /** How many API keys to create (one per user, for the first users). */
  apiKeys: number;
  /** The server secret (signs the cookies and API keys). */
  secret: string;
  /** The stored password hash of every user. */
  passwordHash: string;
}

/** What was created. */
export interface Seeded {
  users: number;
  sessions: number;
  /** `SESSIONID` cookie values. */
  cookies: string[];
  /** API key tokens (for `Authorization: ApiKey <token>`). */
  apiKeyTokens: string[];
  /** A sample of usernames, all with {@link BENCH_PASSWORD}. */
  usernames: string[];
  /** Milliseconds the seeding took. */
  ms: number;
}

/** The 600,000-iteration hash of {@link BENCH_PASSWORD} every seeded user gets. */
export function benchPasswordHash(iterations = 600_000): Promise<string> {
  return passwordHash(BENCH_PASSWORD, { iterations, encode: true });
}

/** Username of the i-th seeded user. */
export function username(i: number): string {
  return `user${String(i).padStart(6, "0")}`;
}

const BATCH = 500;

async function insertBatches(
  db: Db,
  table: string,
  count: number,
  row: (i: number) => object,
): Promise<void> {
  for (let start = 0; start < count; start += BATCH) {
    const rows: object[] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) rows.push(row(i));
    await db.insertInto(table).values(rows).execute();
  }
}

/**
 * Migrates the database and fills it.
 * @param spec - see {@link SeedSpec}
 */
export async function seedCrossauth(spec: SeedSpec): Promise<Seeded> {
  const started = performance.now();
  const db = connectDatabase(spec.url);
  try {
    await migrateToLatest(db);
    const postgres = sqlDialect(db) === "postgres";
    const date = (d: Date): Date | number => (postgres ? d : d.getTime() / 1000);
    const now = new Date();
    const expires = new Date(now.getTime() + 30 * 24 * 3600 * 1000);
    await db.transaction().execute(async (trx) => {
      await insertBatches(trx, "User", spec.users, (i) => ({
        username: username(i),
        username_normalized: username(i),
        email: `${username(i)}@example.com`,
        email_normalized: `${username(i)}@example.com`,
        state: "active",
        factor1: "localpassword",
        factor2: "",
        admin: postgres ? false : 0,
      }));
    });
    const ids = (await db.selectFrom("User").select("id").orderBy("id").execute()).map((r) => Number(r.id));
    const step = Math.max(1, Math.floor(spec.sessions / Math.max(1, spec.cookiePool)));
    const cookies: string[] = [];
    await db.transaction().execute(async (trx) => {
      await insertBatches(trx, "UserSecrets", ids.length, (i) => ({
        userid: ids[i],
        password: spec.passwordHash,
        totpsecret: null,
      }));
      await insertBatches(trx, "Key", spec.sessions, (i) => {
        const sessionId = randomValue(16);
        if (i % step === 0 && cookies.length < spec.cookiePool) {
          cookies.push(signSecureToken(sessionId, spec.secret));
        }
        return {
          value: SessionCookie.hashSessionId(sessionId),
          userid: ids[i % ids.length],
          created: date(now),
          expires: date(expires),
          lastactive: date(now),
          data: "{}",
        };
      });
    });
    const apiKeyManager = new ApiKeyManager(new KyselyKeyStorage(db), { secret: spec.secret });
    const apiKeyTokens: string[] = [];
    for (let i = 0; i < Math.min(spec.apiKeys, ids.length); i++) {
      apiKeyTokens.push((await apiKeyManager.createKey("bench", ids[i] as number)).token);
    }
    if (postgres) await sql`analyze`.execute(db);
    else await sql`pragma optimize`.execute(db);
    const sample = Math.min(ids.length, 1000);
    return {
      users: ids.length,
      sessions: spec.sessions,
      cookies,
      apiKeyTokens,
      usernames: Array.from({ length: sample }, (_, i) => username(Math.floor((i * ids.length) / sample))),
      ms: performance.now() - started,
    };
  } finally {
    await db.destroy();
  }
}

/** A database the benchmark created, and how to remove it. */
export interface BenchDatabase {
  url: string;
  kind: "sqlite" | "postgres";
  drop(): Promise<void>;
}

let counter = 0;

/** A new SQLite file in a temporary directory. */
export function freshSqlite(label: string): BenchDatabase {
  const dir = mkdtempSync(join(tmpdir(), `crossauth-bench-${label}-`));
  return {
    url: `sqlite://${join(dir, "crossauth.db")}`,
    kind: "sqlite",
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A fresh PostgreSQL database on the server of `serverUrl` (a database rather than a schema: the
 * migrator looks for its history table in every schema of a database), or undefined when the server
 * cannot be reached within 5 s.
 * @param serverUrl - e.g. `postgres://postgres@127.0.0.1:5432/test`
 * @param label - part of the database name
 */
export async function freshPostgres(serverUrl: string, label: string): Promise<BenchDatabase | undefined> {
  const name = `crossauth_bench_${process.pid}_${++counter}_${label.replace(/[^a-z0-9_]/gi, "_")}`;
  const admin = connectDatabase(serverUrl);
  try {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("timeout")), 5000).unref(),
    );
    await Promise.race([sql`create database ${sql.id(name)}`.execute(admin), timeout]);
  } catch {
    await admin.destroy().catch(() => undefined);
    return undefined;
  }
  await admin.destroy();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    kind: "postgres",
    drop: async () => {
      const dropper = connectDatabase(serverUrl);
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(dropper);
      } finally {
        await dropper.destroy();
      }
    },
  };
}
