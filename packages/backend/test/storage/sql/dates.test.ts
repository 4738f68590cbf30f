/**
 * Dates in SQL storage: millisecond round trips on every dialect, whatever the process time zone;
 * SQLite's REAL-seconds storage and the other stored forms it reads.
 */
import { KyselyKeyStorage, migrateToLatest } from "@crossauth/backend";
import { sql } from "kysely";
import { afterEach, beforeAll, expect, it } from "vitest";
import { describeEachDatabase, emptyTables } from "./sql-test-setup.js";

const instants = [
  1,
  1_700_000_000_123,
  1_700_000_000_999,
  Date.UTC(2024, 1, 29, 23, 59, 59, 999),
  Date.UTC(2100, 0, 1, 0, 0, 0, 1),
];
const originalTz = process.env.TZ;

function setTz(tz: string | undefined): void {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
}

describeEachDatabase("dates", (ctx) => {
  let keys: KyselyKeyStorage;
  beforeAll(async () => {
    await migrateToLatest(ctx.test.db);
    keys = new KyselyKeyStorage(ctx.test.db);
  });
  afterEach(async () => {
    setTz(originalTz);
    await emptyTables(ctx.test.db);
  });

  it("round-trips created, expires and lastactive to the millisecond", async () => {
    for (const [i, ms] of instants.entries()) {
      await keys.saveKey(null, `s:${i}`, new Date(ms), new Date(ms + 1));
      await keys.updateKey({ value: `s:${i}`, lastactive: new Date(ms + 2) });
      const key = await keys.getKey(`s:${i}`);
      expect([key.created.getTime(), key.expires?.getTime(), key.lastactive?.getTime()]).toEqual([
        ms,
        ms + 1,
        ms + 2,
      ]);
    }
  });

  it("reads back the same instants under other process time zones", async () => {
    setTz("Asia/Kathmandu");
    expect(new Date(0).getTimezoneOffset()).not.toBe(0);
    for (const [i, ms] of instants.entries()) await keys.saveKey(null, `s:${i}`, new Date(ms), new Date(ms));
    for (const tz of ["America/St_Johns", "UTC", "Pacific/Chatham"]) {
      setTz(tz);
      for (const [i, ms] of instants.entries())
        expect((await keys.getKey(`s:${i}`)).created.getTime()).toBe(ms);
    }
  });

  it("purges expiries at the millisecond boundary", async () => {
    setTz("America/Los_Angeles");
    const now = new Date(1_700_000_000_500);
    await keys.saveKey(null, "s:before", now, new Date(now.getTime() - 1));
    await keys.saveKey(null, "s:at", now, now);
    await keys.saveKey(null, "s:after", now, new Date(now.getTime() + 1));
    expect(await keys.deleteExpired(now)).toBe(2);
    expect((await keys.getKey("s:after")).value).toBe("s:after");
  });
});

describeEachDatabase(
  "MySQL dates",
  (ctx) => {
    it("stores the UTC wall clock in DATETIME(3), whatever the process and session time zones", async () => {
      const { db } = ctx.test;
      await migrateToLatest(db);
      setTz("Asia/Tokyo");
      const instant = Date.UTC(2023, 10, 14, 22, 13, 20, 123);
      await db.connection().execute(async (conn) => {
        await sql`set time_zone = '-07:00'`.execute(conn);
        const keys = new KyselyKeyStorage(conn);
        await keys.saveKey(null, "s:utc", new Date(instant));
        const { rows } = await sql<{
          c: string;
        }>`select cast(created as char) as c from ${sql.table("Key")}`.execute(conn);
        expect(rows[0]?.c).toBe("2023-11-14 22:13:20.123");
        expect((await keys.getKey("s:utc")).created.getTime()).toBe(instant);
        await sql`set time_zone = SYSTEM`.execute(conn);
      });
      setTz(originalTz);
    });
  },
  ["mysql"],
);

describeEachDatabase(
  "SQLite dates",
  (ctx) => {
    it("stores REAL unix seconds and reads integer seconds and ISO text, rounding to the millisecond", async () => {
      const { db } = ctx.test;
      await migrateToLatest(db);
      const keys = new KyselyKeyStorage(db);
      await keys.saveKey(null, "s:real", new Date(1_700_000_000_123));
      const { rows } = await sql<{
        t: string;
        v: number;
      }>`select typeof(created) as t, created as v from "Key"`.execute(db);
      expect(rows[0]).toEqual({ t: "real", v: 1_700_000_000.123 });
      const stored: [string, unknown, number][] = [
        ["s:int", 1_700_000_000, 1_700_000_000_000],
        ["s:micro", 1_700_000_000.1235, 1_700_000_000_124],
        ["s:text", "2023-11-14 22:13:20.123456", 1_700_000_000_123],
        ["s:iso", "2023-11-14T23:13:20.5+01:00", 1_700_000_000_500],
      ];
      for (const [value, created] of stored) {
        await sql`insert into "Key" (value, created) values (${value}, ${created})`.execute(db);
      }
      for (const [value, , ms] of stored) expect((await keys.getKey(value)).created.getTime()).toBe(ms);
    });
  },
  ["sqlite-memory"],
);
