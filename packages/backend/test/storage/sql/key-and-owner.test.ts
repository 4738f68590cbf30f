/**
 * KyselyUserStorage.getKeyAndOwner: a key and its user in one query, on every database, and the
 * cases where it declines (the caller then reads them separately).
 */
import { InMemoryKeyStorage, KyselyKeyStorage, KyselyUserStorage, migrateToLatest } from "@crossauth/backend";
import { ErrorCode, UserState } from "@crossauth/common";
import { sql } from "kysely";
import { beforeAll, beforeEach, expect, it } from "vitest";
import { expectCrossauthRejection } from "../../helpers/expect-crossauth-error.js";
import { createTestDatabase, describeEachDatabase, emptyTables } from "./sql-test-setup.js";

const created = new Date(Date.UTC(2026, 5, 1, 8, 30, 0, 250));
const expires = new Date(Date.UTC(2026, 6, 1, 8, 30, 0, 500));

describeEachDatabase("getKeyAndOwner", (ctx) => {
  beforeAll(async () => {
    await migrateToLatest(ctx.test.db);
    // An application column on each table, one named like a key column ("name" exists on Key too).
    await sql`alter table ${sql.table("User")} add column ${sql.id("name")} varchar(50)`.execute(ctx.test.db);
    await sql`alter table ${sql.table("Key")} add column ${sql.id("ip")} varchar(50)`.execute(ctx.test.db);
  });
  beforeEach(async () => {
    await emptyTables(ctx.test.db);
  });

  async function setUp() {
    const users = new KyselyUserStorage(ctx.test.db);
    const keys = new KyselyKeyStorage(ctx.test.db);
    const user = await users.createUser({
      username: "alice",
      email: "alice@example.com",
      name: "Alice A.",
      state: UserState.active,
      factor1: "localpassword",
    });
    await keys.saveKey(user.id, "s:owned", created, expires, '{"a":1}', { name: "laptop", ip: "10.0.0.1" });
    await keys.saveKey(null, "s:anonymous", created, null);
    return { users, keys, user };
  }

  it("declines until the storage has read a user row, then reads key and owner in one query", async () => {
    const { users, keys, user } = await setUp();
    expect(await users.getKeyAndOwner("s:owned", keys)).toBeUndefined();
    const { user: read } = await users.getUserById(user.id, { skipSecrets: true });
    const joined = await users.getKeyAndOwner("s:owned", keys);
    expect(joined?.key).toEqual(await keys.getKey("s:owned"));
    expect(joined?.key).toMatchObject({ name: "laptop", ip: "10.0.0.1", data: '{"a":1}', userid: user.id });
    expect(joined?.key.created.getTime()).toBe(created.getTime());
    expect(joined?.key.expires?.getTime()).toBe(expires.getTime());
    expect(joined?.owner).toEqual(read);
    expect(joined?.owner).toMatchObject({ username: "alice", name: "Alice A.", admin: false });
  });

  it("gives no owner for a key without a user, and InvalidKey for an unknown key", async () => {
    const { users, keys, user } = await setUp();
    await users.getUserById(user.id);
    const anonymous = await users.getKeyAndOwner("s:anonymous", keys);
    expect(anonymous?.owner).toBeUndefined();
    expect(anonymous?.key).toMatchObject({ value: "s:anonymous", userid: null, expires: null });
    await expectCrossauthRejection(users.getKeyAndOwner("s:unknown", keys), ErrorCode.InvalidKey);
  });

  it("returns the owner as stored, without the state check", async () => {
    const { users, keys, user } = await setUp();
    await users.getUserById(user.id);
    await users.updateUser({ id: user.id, state: UserState.disabled });
    const joined = await users.getKeyAndOwner("s:owned", keys);
    expect(joined?.owner?.state).toBe(UserState.disabled);
  });

  it("declines for a key storage on another database or of another kind", async () => {
    const { users, keys, user } = await setUp();
    await users.getUserById(user.id);
    expect(await users.getKeyAndOwner("s:owned", new InMemoryKeyStorage())).toBeUndefined();
    const other = await createTestDatabase("sqlite-memory");
    try {
      await migrateToLatest(other.db);
      expect(await users.getKeyAndOwner("s:owned", new KyselyKeyStorage(other.db))).toBeUndefined();
    } finally {
      await other.drop();
    }
    expect((await users.getKeyAndOwner("s:owned", keys))?.owner?.username).toBe("alice");
  });

  it("falls back after a user column is dropped at run time, and learns the columns again", async () => {
    const { users, keys, user } = await setUp();
    await sql`alter table ${sql.table("User")} add column ${sql.id("nickname")} varchar(50)`.execute(
      ctx.test.db,
    );
    await users.getUserById(user.id);
    expect((await users.getKeyAndOwner("s:owned", keys))?.owner).toHaveProperty("nickname", null);
    await sql`alter table ${sql.table("User")} drop column ${sql.id("nickname")}`.execute(ctx.test.db);
    expect(await users.getKeyAndOwner("s:owned", keys)).toBeUndefined();
    await users.getUserById(user.id);
    const again = await users.getKeyAndOwner("s:owned", keys);
    expect(again?.owner?.username).toBe("alice");
    expect(again?.owner).not.toHaveProperty("nickname");
  });
});
