/**
 * The SQL schema migrations: idempotent, concurrent-safe, configurable names, date column types.
 */
import {
  KyselyKeyStorage,
  KyselyOAuthAuthorizationStorage,
  KyselyOAuthClientStorage,
  KyselyUserStorage,
  migrateToLatest,
  type SqlTableNames,
} from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { sql } from "kysely";
import { expect, it } from "vitest";
import { expectCrossauthRejection } from "../../helpers/expect-crossauth-error.js";
import { describeWithService } from "../../helpers/services.js";
import { createTestDatabase, describeEachDatabase, testDbKinds } from "./sql-test-setup.js";

const custom: SqlTableNames = {
  userTable: "app_user",
  userSecretsTable: "app_user_secret",
  keyTable: "app_key",
  clientTable: "app_client",
  redirectUriTable: "app_client_uri",
  validFlowTable: "app_client_flow",
  authorizationTable: "app_authorization",
  useridForeignKeyColumn: "user_ref",
  idColumn: "user_pk",
};

describeEachDatabase("migrations", (ctx) => {
  it("applies the schema once, even when run concurrently; later runs are no-ops", async () => {
    const { db } = ctx.test;
    const runs = await Promise.all([migrateToLatest(db), migrateToLatest(db)]);
    expect(runs.flatMap((r) => r.executed)).toEqual(["0001_initial_schema"]);
    expect(await migrateToLatest(db)).toEqual({ executed: [] });
    expect(await migrateToLatest(db)).toEqual({ executed: [] });
  });

  it("creates millisecond-precision date columns", async () => {
    const { db, kind } = ctx.test;
    if (kind === "postgres" || kind === "mysql") {
      const { rows } = await sql<{ type: string; precision: number }>`
        select data_type as type, datetime_precision as "precision" from information_schema.columns
        where table_name = 'Key' and column_name = 'created' and table_schema = ${
          kind === "postgres" ? sql`current_schema()` : sql`database()`
        }`.execute(db);
      expect(rows[0]?.type).toBe(kind === "postgres" ? "timestamp with time zone" : "datetime");
      expect(Number(rows[0]?.precision)).toBe(3);
    } else {
      const { rows } = await sql<{ name: string; type: string }>`pragma table_info("Key")`.execute(db);
      expect(rows.find((r) => r.name === "created")?.type.toLowerCase()).toBe("timestamp");
    }
  });

  it("refuses to create tables that already exist (untracked) with a Configuration error", async () => {
    await expectCrossauthRejection(
      migrateToLatest(ctx.test.db, {
        migrationTableName: "other_history",
        migrationLockTableName: "other_lock",
      }),
      ErrorCode.Configuration,
    );
  });

  it("uses configurable table and column names, beside the default tables", async () => {
    const { db } = ctx.test;
    const options = {
      ...custom,
      migrationTableName: "app_migration",
      migrationLockTableName: "app_migration_lock",
    };
    expect((await migrateToLatest(db, options)).executed).toEqual(["0001_initial_schema"]);
    expect((await migrateToLatest(db, options)).executed).toEqual([]);

    const users = new KyselyUserStorage(db, custom);
    const keys = new KyselyKeyStorage(db, custom);
    const clients = new KyselyOAuthClientStorage(db, custom);
    const auths = new KyselyOAuthAuthorizationStorage(db, custom);
    const user = await users.createUser(
      { username: "Custom", email: "c@example.com", state: "active", factor1: "localpassword" },
      { password: "pbkdf2:x" },
    );
    expect(user.user_pk).toBe(user.id);
    const found = await users.getUserByUsername("custom");
    expect(found.user.id).toEqual(user.id);
    expect(found.secrets).toEqual({ userid: user.id, password: "pbkdf2:x" });
    await keys.saveKey(user.id, "s:custom", new Date(1_700_000_000_123));
    expect((await keys.getKey("s:custom")).userid).toEqual(user.id);
    await clients.createClient({
      client_id: "cc",
      client_name: "Custom client",
      confidential: false,
      redirect_uri: ["https://c.example.com/cb"],
      valid_flow: ["authorizationCode"],
      userid: user.id,
    });
    await auths.updateAuthorizations("cc", user.id, ["read"]);
    expect(await auths.getAuthorizations("cc", user.id)).toEqual(["read"]);

    const count = async (table: string) =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count("app_user")).toBe(1);
    expect(await count("User")).toBe(0);
    expect(await count("Key")).toBe(0);

    await users.deleteUserById(user.id);
    for (const table of [
      "app_user",
      "app_user_secret",
      "app_key",
      "app_client",
      "app_client_uri",
      "app_client_flow",
      "app_authorization",
    ]) {
      expect(await count(table)).toBe(0);
    }
  });
});

const postgres = testDbKinds.find((k) => k.kind === "postgres")?.service;
describeWithService(
  postgres?.name ?? "PostgreSQL",
  postgres?.available ?? false,
  "migrations in PostgreSQL schemas",
  () => {
    it("migrates a fresh schema while another schema of the same database is already migrated", async () => {
      const first = await createTestDatabase("postgres");
      const second = await createTestDatabase("postgres");
      try {
        expect((await migrateToLatest(first.db)).executed.length).toBeGreaterThan(0);
        expect((await migrateToLatest(second.db)).executed.length).toBeGreaterThan(0);
        const users = new KyselyUserStorage(second.db);
        const user = await users.createUser({
          username: "schema2",
          state: "active",
          factor1: "localpassword",
        });
        expect((await users.getUserById(user.id)).user.username).toBe("schema2");
        expect((await migrateToLatest(second.db)).executed).toEqual([]);
      } finally {
        await first.drop();
        await second.drop();
      }
    });
  },
);
