/**
 * ReusableQuery (compiled once, run with new arguments) on every database, and the SQLite statement
 * cache of connectDatabase.
 */
import { cachedStatements } from "@crossauth/backend";
import Database from "better-sqlite3";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { ReusableQuery } from "../../../src/storage/sql/reusable-query.js";
import { describeEachDatabase } from "./sql-test-setup.js";

describeEachDatabase("ReusableQuery", (ctx) => {
  beforeAll(async () => {
    const db = ctx.test.db;
    await db.schema
      .createTable("rq_item")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("name", "varchar(50)")
      .addColumn("size", "integer")
      .execute();
    await db
      .insertInto("rq_item")
      .values([
        { id: 1, name: "apple", size: 3 },
        { id: 2, name: "pear", size: 5 },
        { id: 3, name: "apple", size: 7 },
      ])
      .execute();
  });

  it("returns the rows for each new argument, and none for a value that matches nothing", async () => {
    const byName = new ReusableQuery(ctx.test.db, 1, (db, name) =>
      db.selectFrom("rq_item").select(["id", "size"]).where("name", "=", name).orderBy("id"),
    );
    expect(await byName.execute("apple")).toEqual([
      { id: 1, size: 3 },
      { id: 3, size: 7 },
    ]);
    expect(await byName.execute("pear")).toEqual([{ id: 2, size: 5 }]);
    expect(await byName.execute("plum")).toEqual([]);
  });

  it("keeps values fixed at build time and places arguments by placeholder, whatever their order", async () => {
    const query = new ReusableQuery(ctx.test.db, 2, (db, name, minSize) =>
      db
        .selectFrom("rq_item")
        .select("id")
        .where("size", ">=", minSize)
        .where("name", "=", name)
        .orderBy("id", "desc")
        .limit(1),
    );
    expect(await query.execute("apple", 4)).toEqual([{ id: 3 }]);
    expect(await query.execute("apple", 1)).toEqual([{ id: 3 }]);
    expect(await query.execute("pear", 6)).toEqual([]);
  });

  it("runs concurrently with different arguments without mixing them up", async () => {
    const byId = new ReusableQuery(ctx.test.db, 1, (db, id) =>
      db.selectFrom("rq_item").select("name").where("id", "=", id),
    );
    const names = await Promise.all([1, 2, 3, 2, 1].map(async (id) => (await byId.execute(id))[0]?.name));
    expect(names).toEqual(["apple", "pear", "apple", "pear", "apple"]);
  });
});

describe("ReusableQuery construction", () => {
  it("refuses a build that does not use an argument as a value", () => {
    const db = { selectFrom: () => undefined } as never;
    expect(
      () =>
        new ReusableQuery(db, 1, () => ({
          compile: () => ({ sql: "select 1", parameters: [], query: {} as never, queryId: {} as never }),
        })),
    ).toThrow("Argument 0 is not a parameter of the query");
  });
});

describe("cachedStatements (SQLite)", () => {
  function openMemory() {
    const raw = new Database(":memory:");
    raw.exec(
      "create table t (id integer primary key, v text); insert into t values (1, 'a'), (2, 'b'), (3, 'c')",
    );
    return raw;
  }

  it("prepares each SQL text once and hands the same statement back", () => {
    const raw = openMemory();
    let prepared = 0;
    const original = raw.prepare.bind(raw);
    raw.prepare = ((text: string) => {
      prepared++;
      return original(text);
    }) as typeof raw.prepare;
    const db = cachedStatements(raw);
    const first = db.prepare("select v from t where id = ?");
    expect(db.prepare("select v from t where id = ?")).toBe(first);
    expect(first.all([2])).toEqual([{ v: "b" }]);
    db.prepare("select count(*) as n from t");
    expect(prepared).toBe(2);
    db.close();
    expect(raw.open).toBe(false);
  });

  it("keeps at most `size` statements, dropping the oldest first", () => {
    const db = cachedStatements(openMemory(), 2);
    const a = db.prepare("select 1");
    const b = db.prepare("select 2");
    db.prepare("select 3");
    expect(db.prepare("select 2")).toBe(b);
    expect(db.prepare("select 1")).not.toBe(a);
    db.close();
  });

  it("never hands out a statement that is still iterating", () => {
    const db = cachedStatements(openMemory());
    const first = db.prepare("select v from t order by id");
    const rows = first.iterate([]);
    expect(rows.next().value).toEqual({ v: "a" });
    const second = db.prepare("select v from t order by id");
    expect(second).not.toBe(first);
    expect(second.all([])).toEqual([{ v: "a" }, { v: "b" }, { v: "c" }]);
    expect([...rows]).toEqual([{ v: "b" }, { v: "c" }]);
    expect(db.prepare("select v from t order by id")).toBe(first);
    db.close();
  });

  it("serves Kysely through connectDatabase: a schema change between two runs of the same text is seen", async () => {
    const { connectDatabase } = await import("@crossauth/backend");
    const db = connectDatabase(":memory:");
    await sql`create table s (a integer)`.execute(db);
    await sql`insert into s values (1)`.execute(db);
    expect((await sql`select * from s`.execute(db)).rows).toEqual([{ a: 1 }]);
    await sql`alter table s add column b integer default 2`.execute(db);
    expect((await sql`select * from s`.execute(db)).rows).toEqual([{ a: 1, b: 2 }]);
    await db.destroy();
  });
});
