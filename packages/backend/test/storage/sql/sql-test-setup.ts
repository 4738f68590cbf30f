/**
 * Throw-away SQL databases for tests: SQLite (file in a temp dir, or `:memory:`), a fresh PostgreSQL
 * schema and a fresh MySQL/MariaDB database per use, dropped afterwards. URLs are overridable by
 * CROSSAUTH_TEST_POSTGRES_URL and CROSSAUTH_TEST_MYSQL_URL.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connectDatabase,
  defaultSqlTableNames,
  KyselyKeyStorage,
  KyselyOAuthAuthorizationStorage,
  KyselyOAuthClientStorage,
  KyselyUserStorage,
  migrateToLatest,
  type SqlTableNames,
} from "@crossauth/backend";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe } from "vitest";
import { describeWithService, urlReachable } from "../../helpers/services.js";
import type { StorageFixture } from "../conformance/index.js";

export const postgresUrl =
  process.env.CROSSAUTH_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const mysqlUrl = process.env.CROSSAUTH_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";

/** The kinds of test database. */
export type TestDbKind = "sqlite-file" | "sqlite-memory" | "postgres" | "mysql";

/** A throw-away database. */
export interface TestDatabase {
  kind: TestDbKind;
  /** URL the database was opened with. */
  url: string;
  db: Kysely<any>;
  /** Closes the connections and deletes the database. */
  drop(): Promise<void>;
}

/** Each kind with its service (for describeWithService) and reachability. */
export const testDbKinds: { kind: TestDbKind; service?: { name: string; available: boolean } }[] = [
  { kind: "sqlite-file" },
  { kind: "sqlite-memory" },
  {
    kind: "postgres",
    service: { name: `PostgreSQL at ${postgresUrl}`, available: await urlReachable(postgresUrl, 5432) },
  },
  {
    kind: "mysql",
    service: { name: `MySQL/MariaDB at ${mysqlUrl}`, available: await urlReachable(mysqlUrl, 3306) },
  },
];

function uniqueName(): string {
  return `crossauth_test_${randomBytes(6).toString("hex")}`;
}

/** Runs `statement` on a short-lived connection to `url`. */
async function admin(url: string, statement: (db: Kysely<any>) => Promise<unknown>): Promise<void> {
  const db = connectDatabase(url);
  try {
    await statement(db);
  } finally {
    await db.destroy();
  }
}

/**
 * Creates an empty database of a kind.
 * @param kind - which
 */
export async function createTestDatabase(kind: TestDbKind): Promise<TestDatabase> {
  if (kind === "sqlite-memory") {
    const db = connectDatabase(":memory:");
    return { kind, url: ":memory:", db, drop: () => db.destroy() };
  }
  if (kind === "sqlite-file") {
    const dir = mkdtempSync(join(tmpdir(), "crossauth-sql-"));
    const url = `sqlite:${join(dir, "test.db")}`;
    const db = connectDatabase(url);
    return {
      kind,
      url,
      db,
      drop: async () => {
        await db.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  // A fresh PostgreSQL schema (selected by search_path) or MySQL database, on the test server.
  const name = uniqueName();
  const pg = kind === "postgres";
  const serverUrl = pg ? postgresUrl : mysqlUrl;
  const container = sql.raw(pg ? "schema" : "database");
  await admin(serverUrl, (a) => sql`create ${container} ${sql.id(name)}`.execute(a));
  const url = new URL(serverUrl);
  if (pg) url.searchParams.set("options", `-c search_path=${name}`);
  else url.pathname = `/${name}`;
  const db = connectDatabase(url.toString());
  return {
    kind,
    url: url.toString(),
    db,
    drop: async () => {
      await db.destroy();
      await admin(serverUrl, (a) =>
        sql`drop ${container} ${sql.id(name)} ${sql.raw(pg ? "cascade" : "")}`.execute(a),
      );
    },
  };
}

/**
 * Deletes every row of the Crossauth tables, children first.
 * @param db - the database
 * @param names - table names
 */
export async function emptyTables(db: Kysely<any>, names: SqlTableNames = {}): Promise<void> {
  const n = { ...defaultSqlTableNames, ...names };
  const order = [
    n.authorizationTable,
    n.redirectUriTable,
    n.validFlowTable,
    n.clientTable,
    n.keyTable,
    n.userSecretsTable,
    n.userTable,
  ];
  for (const table of order) await db.deleteFrom(table).execute();
}

/**
 * A conformance fixture on a fresh, migrated database of a kind.
 * @param kind - which database
 */
export async function sqlFixture(kind: TestDbKind): Promise<StorageFixture> {
  const test = await createTestDatabase(kind);
  await migrateToLatest(test.db);
  const { db } = test;
  return {
    userStorage: new KyselyUserStorage(db),
    keyStorage: new KyselyKeyStorage(db),
    clientStorage: new KyselyOAuthClientStorage(db),
    authorizationStorage: new KyselyOAuthAuthorizationStorage(db),
    userStorageWith: (options) => new KyselyUserStorage(db, options),
    reset: () => emptyTables(db),
    close: () => test.drop(),
  };
}

/**
 * Registers `body` once per database kind, each with its own throw-away database (created before,
 * dropped after). Service-backed kinds go through describeWithService.
 * @param title - suite title (the kind is appended)
 * @param body - the tests; `ctx.test` is the database
 * @param kinds - which kinds (default all)
 */
export function describeEachDatabase(
  title: string,
  body: (ctx: { readonly test: TestDatabase }) => void,
  kinds: TestDbKind[] = testDbKinds.map((k) => k.kind),
): void {
  for (const { kind, service } of testDbKinds.filter((k) => kinds.includes(k.kind))) {
    const suite = () => {
      let current: TestDatabase | undefined;
      beforeAll(async () => {
        current = await createTestDatabase(kind);
      }, 60_000);
      afterAll(async () => {
        await current?.drop();
      });
      body({
        get test() {
          if (!current) throw new Error("test database not created");
          return current;
        },
      });
    };
    const name = `${title} (${kind})`;
    if (service) describeWithService(service.name, service.available, name, suite);
    else describe(name, suite);
  }
}
