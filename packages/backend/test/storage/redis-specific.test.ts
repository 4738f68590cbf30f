/** RedisKeyStorage behaviour beyond the conformance suite: TTLs, indexes, namespaces, concurrency, errors. */
import { createServer } from "node:net";
import { RedisKeyStorage } from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { describeWithService } from "../helpers/services.js";
import { deleteNamespace, newRedis, randomPrefix, redisAvailable, redisService } from "./redis-fixture.js";

const created = new Date(1_700_000_000_123);

/** A TCP port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("RedisKeyStorage without Redis", () => {
  it("fails with Connection when Redis is unreachable", async () => {
    const redis = newRedis(`redis://127.0.0.1:${await deadPort()}`);
    redis.on("error", () => {});
    try {
      const storage = new RedisKeyStorage(redis, { keyPrefix: randomPrefix() });
      await expectCrossauthRejection(storage.getKey("s:x"), ErrorCode.Connection);
      await expectCrossauthRejection(storage.saveKey(1, "s:x", created), ErrorCode.Connection);
      await expectCrossauthRejection(storage.updateData("s:x", "a", 1), ErrorCode.Connection);
      await expectCrossauthRejection(storage.deleteMatching({ name: "n" }), ErrorCode.Connection);
    } finally {
      redis.disconnect();
    }
  });

  it("rejects an invalid minTtlMs and a client with its own keyPrefix", () => {
    const redis = new Redis({ lazyConnect: true });
    expectCrossauthError(() => new RedisKeyStorage(redis, { minTtlMs: -1 }), ErrorCode.Configuration);
    expectCrossauthError(() => new RedisKeyStorage(redis, { minTtlMs: 1.5 }), ErrorCode.Configuration);
    const prefixed = new Redis({ lazyConnect: true, keyPrefix: "app:" });
    expectCrossauthError(() => new RedisKeyStorage(prefixed), ErrorCode.Configuration);
  });
});

describeWithService(redisService, redisAvailable, "RedisKeyStorage (Redis-specific)", () => {
  let redis: Redis;
  let prefix: string;
  let storage: RedisKeyStorage;
  const hash = (value: string) => `${prefix}key:${value}`;
  const redisNow = async () => {
    const [s, us] = await redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  beforeAll(() => {
    redis = newRedis();
    prefix = randomPrefix();
    storage = new RedisKeyStorage(redis, { keyPrefix: prefix });
  });
  beforeEach(() => deleteNamespace(redis, prefix));
  afterAll(async () => {
    await deleteNamespace(redis, prefix);
    await redis.quit();
  });

  describe("expiry", () => {
    it("sets the Redis expiry to expires exactly, and none without expires", async () => {
      const expires = new Date((await redisNow()) + 3_600_000);
      await storage.saveKey(1, "s:ttl", created, expires);
      expect(await redis.pexpiretime(hash("s:ttl"))).toBe(expires.getTime());
      await storage.saveKey(1, "s:forever", created);
      expect(await redis.pttl(hash("s:forever"))).toBe(-1);
    });

    it("keeps a key saved already expired for minTtlMs, so getKey still returns it", async () => {
      const before = await redisNow();
      await storage.saveKey(1, "s:past", created, new Date(before - 1000));
      const after = await redisNow();
      const at = await redis.pexpiretime(hash("s:past"));
      expect(at).toBeGreaterThanOrEqual(before + 60_000);
      expect(at).toBeLessThanOrEqual(after + 60_000);
      expect((await storage.getKey("s:past")).expires?.getTime()).toBe(before - 1000);
    });

    it("moves the Redis expiry when updateKey changes expires, and removes it for null", async () => {
      const base = await redisNow();
      await storage.saveKey(1, "s:move", created, new Date(base + 3_600_000));
      const later = new Date(base + 7_200_000);
      await storage.updateKey({ value: "s:move", expires: later });
      expect(await redis.pexpiretime(hash("s:move"))).toBe(later.getTime());
      await storage.updateKey({ value: "s:move", lastactive: new Date() });
      expect(await redis.pexpiretime(hash("s:move"))).toBe(later.getTime());
      await storage.updateKey({ value: "s:move", expires: null });
      expect(await redis.pttl(hash("s:move"))).toBe(-1);
      expect((await storage.getKey("s:move")).expires).toBeNull();
    });

    it("never returns a key Redis has evicted, and deleteExpired doesn't count it", async () => {
      const instant = new RedisKeyStorage(redis, { keyPrefix: prefix, minTtlMs: 0 });
      await instant.saveKey(1, "s:evicted", created, new Date((await redisNow()) - 1));
      await expectCrossauthRejection(instant.getKey("s:evicted"), ErrorCode.InvalidKey);
      expect(await instant.getAllForUser(1)).toEqual([]);
      expect(await instant.deleteExpired(new Date(Date.now() + 1000))).toBe(0);
    });
  });

  describe("user indexes", () => {
    it("cleans index entries of evicted keys lazily", async () => {
      await storage.saveKey(1, "s:a", created);
      await storage.saveKey(1, "s:b", created);
      await storage.saveKey(null, "s:c", created);
      await redis.del(hash("s:a"), hash("s:c")); // as an eviction would
      expect(await redis.sismember(`${prefix}user:1`, "s:a")).toBe(1);
      expect((await storage.getAllForUser(1)).map((k) => k.value)).toEqual(["s:b"]);
      expect(await redis.sismember(`${prefix}user:1`, "s:a")).toBe(0);
      expect(await redis.sismember(`${prefix}anon`, "s:c")).toBe(1);
      expect(await storage.deleteExpired()).toBe(0);
      expect(await redis.exists(`${prefix}anon`)).toBe(0);
    });

    it("moves a key between user indexes when updateKey changes userid", async () => {
      await storage.saveKey(1, "s:owned", created);
      await storage.updateKey({ value: "s:owned", userid: "u2" });
      expect(await storage.getAllForUser(1)).toEqual([]);
      expect((await storage.getAllForUser("u2")).map((k) => k.userid)).toEqual(["u2"]);
      await storage.updateKey({ value: "s:owned", userid: null });
      expect((await storage.getAllForUser(null)).map((k) => k.value)).toEqual(["s:owned"]);
      await storage.deleteAllForUser(null, "s:");
      expect(await redis.exists(`${prefix}anon`, `${prefix}user:u2`, hash("s:owned"))).toBe(0);
    });

    it("deleteMatching without userid scans the whole namespace", async () => {
      await Promise.all(
        Array.from({ length: 1200 }, (_, i) =>
          storage.saveKey(i % 7, `api:${i}`, created, null, "{}", { name: i % 3 === 0 ? "ci" : "other" }),
        ),
      );
      await storage.deleteMatching({ name: "ci" });
      const left = (await Promise.all(Array.from({ length: 7 }, (_, u) => storage.getAllForUser(u)))).flat();
      expect(left).toHaveLength(800);
      expect(left.every((k) => k.name === "other")).toBe(true);
    });
  });

  it("round-trips the types of extra fields", async () => {
    const when = new Date(1_650_000_000_321);
    const extra = { name: "n", count: 3, flag: false, none: null, when, list: [1, "2"], numeric: "42" };
    await storage.saveKey("7", "api:types", created, null, "{}", extra);
    const key = await storage.getKey("api:types");
    expect(key).toMatchObject({ ...extra, userid: "7", lastactive: null, data: "{}" });
    expect((key.when as Date).getTime()).toBe(when.getTime());
  });

  it("isolates namespaces", async () => {
    const otherPrefix = randomPrefix();
    const other = new RedisKeyStorage(redis, { keyPrefix: otherPrefix });
    try {
      await storage.saveKey(1, "api:same", created, new Date(1000), "{}", { name: "x" });
      await other.saveKey(1, "api:same", created, new Date(1000), "{}", { name: "x" });
      await other.deleteMatching({ name: "x" });
      expect(await other.deleteExpired()).toBe(0);
      expect((await storage.getKey("api:same")).name).toBe("x");
      await other.saveKey(1, "api:same", created, null, "{}");
      await other.deleteAllForUser(1, "api:");
      expect((await storage.getAllForUser(1)).map((k) => k.value)).toEqual(["api:same"]);
      const stray = redis.scanStream({ match: "*api:same*", count: 1000 }) as AsyncIterable<string[]>;
      for await (const batch of stray) for (const k of batch) expect(k.startsWith(prefix)).toBe(true);
    } finally {
      await deleteNamespace(redis, otherPrefix);
    }
  });

  it("keeps every update made concurrently through several connections", async () => {
    const clients = [redis, newRedis(), newRedis(), newRedis()];
    try {
      const storages = clients.map((c) => new RedisKeyStorage(c, { keyPrefix: prefix }));
      await storage.saveKey(1, "s:shared", created, null, "{}");
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (storages[i % storages.length] as RedisKeyStorage).updateData("s:shared", `f${i}`, i),
        ),
      );
      const data = JSON.parse((await storage.getKey("s:shared")).data ?? "");
      expect(Object.keys(data)).toHaveLength(100);
      for (let i = 0; i < 100; i++) expect(data[`f${i}`]).toBe(i);
      const saves = await Promise.allSettled(storages.map((s) => s.saveKey(1, "s:once", created)));
      expect(saves.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    } finally {
      await Promise.all(clients.slice(1).map((c) => c.quit()));
    }
  }, 60_000);

  it("maps a server error reply to UnknownError", async () => {
    await redis.set(`${prefix}user:9`, "not a set");
    await expectCrossauthRejection(storage.getAllForUser(9), ErrorCode.UnknownError);
  });
});
