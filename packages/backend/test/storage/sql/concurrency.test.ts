/**
 * Atomic key-data edits: 100 concurrent updateData calls keep all 100 fields, through one
 * connection pool and, on PostgreSQL and MySQL, through two independent pools.
 */
import { connectDatabase, KyselyKeyStorage, migrateToLatest } from "@crossauth/backend";
import { beforeAll, expect, it } from "vitest";
import { describeEachDatabase, emptyTables } from "./sql-test-setup.js";

async function expectAllFields(keys: KyselyKeyStorage, value: string, count: number): Promise<void> {
  const data = JSON.parse((await keys.getKey(value)).data ?? "");
  expect(Object.keys(data)).toHaveLength(count);
  for (let i = 0; i < count; i++) expect(data[`f${i}`]).toBe(i);
}

describeEachDatabase("concurrent key data updates", (ctx) => {
  beforeAll(async () => {
    await migrateToLatest(ctx.test.db);
  });

  it("keeps all 100 fields of 100 concurrent updateData calls", async () => {
    await emptyTables(ctx.test.db);
    const keys = new KyselyKeyStorage(ctx.test.db);
    await keys.saveKey(null, "s:conc", new Date(), null, "{}");
    await Promise.all(Array.from({ length: 100 }, (_, i) => keys.updateData("s:conc", `f${i}`, i)));
    await expectAllFields(keys, "s:conc", 100);
  }, 60_000);
});

// Not SQLite: one file opened twice in one process would block its own event loop on the lock.
describeEachDatabase(
  "concurrent key data updates from two pools",
  (ctx) => {
    beforeAll(async () => {
      await migrateToLatest(ctx.test.db);
    });

    it("keeps all 100 fields when two connection pools update concurrently", async () => {
      await emptyTables(ctx.test.db);
      const other = connectDatabase(ctx.test.url);
      try {
        const [a, b] = [new KyselyKeyStorage(ctx.test.db), new KyselyKeyStorage(other)];
        await a.saveKey(null, "s:pools", new Date(), null, "{}");
        await Promise.all(
          Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).updateData("s:pools", `f${i}`, i)),
        );
        await expectAllFields(a, "s:pools", 100);
      } finally {
        await other.destroy();
      }
    }, 60_000);
  },
  ["postgres", "mysql"],
);
