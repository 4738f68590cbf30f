/**
 * connectDatabase: URL parsing, driver settings, and connection failures as Connection errors.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connectDatabase,
  KyselyKeyStorage,
  KyselyUserStorage,
  migrateToLatest,
  parseDatabaseUrl,
  redactDatabaseUrl,
} from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { expectCrossauthError, expectCrossauthRejection } from "../../helpers/expect-crossauth-error.js";
import { describeEachDatabase } from "./sql-test-setup.js";

describe("parseDatabaseUrl", () => {
  it.each([
    ["sqlite:crossauth.db", { dialect: "sqlite", path: "crossauth.db" }],
    ["sqlite:///var/lib/x.db", { dialect: "sqlite", path: "/var/lib/x.db" }],
    ["sqlite://rel/x.db", { dialect: "sqlite", path: "rel/x.db" }],
    ["sqlite::memory:", { dialect: "sqlite", path: ":memory:" }],
    [":memory:", { dialect: "sqlite", path: ":memory:" }],
    ["/tmp/data.db", { dialect: "sqlite", path: "/tmp/data.db" }],
    ["data/app.sqlite", { dialect: "sqlite", path: "data/app.sqlite" }],
    ["C:\\data\\app.db", { dialect: "sqlite", path: "C:\\data\\app.db" }],
    ["postgres://u:p@db:5432/app", { dialect: "postgres", url: "postgres://u:p@db:5432/app" }],
    [
      "postgresql://db/app?sslmode=require",
      { dialect: "postgres", url: "postgresql://db/app?sslmode=require" },
    ],
    ["mysql://root@db:3306/app", { dialect: "mysql", url: "mysql://root@db:3306/app" }],
    ["mariadb://root@db/app", { dialect: "mysql", url: "mysql://root@db/app" }],
  ])("parses %s", (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });

  it.each(["", "   ", "sqlite:", "redis://localhost:6379", "http://example.com/db"])("refuses %j", (url) => {
    expectCrossauthError(() => parseDatabaseUrl(url), ErrorCode.Configuration);
  });

  it("redacts passwords for printing", () => {
    expect(redactDatabaseUrl("postgres://u:s3cret@db/app")).toBe("postgres://u:***@db/app");
    expect(redactDatabaseUrl("mysql://root@db/app")).toBe("mysql://root@db/app");
    expect(redactDatabaseUrl("sqlite:x.db")).toBe("sqlite:x.db");
  });
});

describe("connectDatabase on SQLite", () => {
  const dir = mkdtempSync(join(tmpdir(), "crossauth-connect-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("opens files in WAL mode with foreign keys and a busy timeout", async () => {
    const db = connectDatabase(`sqlite:${join(dir, "a.db")}`);
    try {
      const pragma = async (name: string) =>
        Object.values((await sql.raw(`pragma ${name}`).execute(db)).rows[0] as object)[0];
      expect(await pragma("journal_mode")).toBe("wal");
      expect(await pragma("foreign_keys")).toBe(1);
      expect(await pragma("busy_timeout")).toBe(5000);
    } finally {
      await db.destroy();
    }
  });

  it("enforces foreign keys: deleting a user cascades at the database level too", async () => {
    const db = connectDatabase(":memory:");
    try {
      await migrateToLatest(db);
      const user = await new KyselyUserStorage(db).createUser({
        username: "a",
        state: "active",
        factor1: "x",
      });
      await new KyselyKeyStorage(db).saveKey(user.id, "s:a", new Date());
      await db.deleteFrom("User").execute();
      expect(await db.selectFrom("Key").selectAll().execute()).toEqual([]);
      await expectCrossauthRejection(
        new KyselyKeyStorage(db).saveKey(999, "s:b", new Date()),
        ErrorCode.ConstraintViolation,
      );
    } finally {
      await db.destroy();
    }
  });

  it("reports a file that cannot be opened as a Connection error", () => {
    expectCrossauthError(() => connectDatabase(join(dir, "missing", "dir", "x.db")), ErrorCode.Connection);
  });

  it("reports missing tables as a Configuration error", async () => {
    const db = connectDatabase(":memory:");
    try {
      await expectCrossauthRejection(new KyselyKeyStorage(db).getKey("s:x"), ErrorCode.Configuration);
    } finally {
      await db.destroy();
    }
  });
});

describe("unreachable servers", () => {
  for (const url of ["postgres://postgres@127.0.0.1:1/test", "mysql://root@127.0.0.1:1/test"]) {
    it(`reports ${url} as a Connection error`, async () => {
      const db = connectDatabase(url);
      try {
        await expectCrossauthRejection(migrateToLatest(db), ErrorCode.Connection);
        await expectCrossauthRejection(new KyselyKeyStorage(db).getKey("s:x"), ErrorCode.Connection);
        await expectCrossauthRejection(
          new KyselyKeyStorage(db).updateData("s:x", "a", 1),
          ErrorCode.Connection,
        );
      } finally {
        await db.destroy();
      }
    });
  }
});

describeEachDatabase(
  "values the column types refuse",
  (ctx) => {
    it("finds no user for a non-numeric id, and deleting one is no error", async () => {
      await migrateToLatest(ctx.test.db);
      const users = new KyselyUserStorage(ctx.test.db);
      await expectCrossauthRejection(users.getUserById("abc"), ErrorCode.UserNotExist);
      await expectCrossauthRejection(users.getUserBy("id", "abc"), ErrorCode.UserNotExist);
      await users.deleteUserById("abc");
    });

    it("rejects an over-long username with ConstraintViolation instead of truncating it", async () => {
      const users = new KyselyUserStorage(ctx.test.db);
      const error = await expectCrossauthRejection(
        users.createUser({ username: "u".repeat(300), state: "active", factor1: "localpassword" }),
        ErrorCode.ConstraintViolation,
      );
      if (ctx.test.kind === "mysql") expect(error.message).toContain("username");
      expect(await users.getUsers()).toEqual([]);
    });
  },
  ["postgres", "mysql"],
);

describeEachDatabase(
  "MySQL session",
  (ctx) => {
    it("runs in strict mode", async () => {
      const { rows } = await sql<{ mode: string }>`select @@SESSION.sql_mode as mode`.execute(ctx.test.db);
      expect(rows[0]?.mode).toContain("STRICT_ALL_TABLES");
    });
  },
  ["mysql"],
);
