import {
  ApiKeyManager,
  connectDatabase,
  hash,
  InMemoryKeyStorage,
  InMemoryUserStorage,
  type KeyStorage,
  KyselyKeyStorage,
  KyselyUserStorage,
  migrateToLatest,
  sign,
  type UserStorage,
  unsign,
} from "@crossauth/backend";
import { ErrorCode, KeyPrefix, UserState } from "@crossauth/common";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

const secret = "ABCDEFGHIJKLMNOPQRSTUVWX";

describe("ApiKeyManager", () => {
  let keys: InMemoryKeyStorage;
  let t: number;
  let manager: ApiKeyManager;

  beforeEach(() => {
    keys = new InMemoryKeyStorage();
    t = Date.UTC(2026, 5, 1);
    manager = new ApiKeyManager(keys, { secret, now: () => new Date(t) });
  });

  it("hands out sign({v}) and stores only api: + hash(v) with the name and data", async () => {
    const { key, token } = await manager.createKey("deploy", 42, { scope: ["read", "write"] });
    const v = unsign(token, secret).v as string;
    expect(v).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(key.value).toBe(KeyPrefix.apiKey + hash(v));
    const stored = await keys.getKey(key.value);
    expect(stored.name).toBe("deploy");
    expect(stored.userid).toBe(42);
    expect(JSON.parse(stored.data ?? "")).toEqual({ scope: ["read", "write"] });
    expect(stored.expires).toBeNull();
    expect(ApiKeyManager.hashSignedApiKeyValue(v)).toBe(hash(v));
  });

  it("validates the Authorization header value and returns the key with its scopes", async () => {
    const { key, token } = await manager.createKey("ci", 1, { scope: ["read", 3] });
    const found = await manager.validateToken(`ApiKey ${token}`);
    expect(found.value).toBe(key.value);
    expect(ApiKeyManager.scopesOf(found)).toEqual(["read"]);
    expect((await manager.validateToken(token)).value).toBe(key.value);
  });

  it("refuses forged, tampered, unknown and deleted keys with InvalidKey", async () => {
    const { key, token } = await manager.createKey("ci", 1);
    const forged = sign({ v: "AAAAAAAAAAAAAAAAAAAAAA" }, "wrong secret");
    const unknown = sign({ v: "AAAAAAAAAAAAAAAAAAAAAA" }, secret);
    const tampered = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
    for (const bad of [forged, unknown, tampered, "garbage", "", `Bearer ${token}`, sign({ x: 1 }, secret)]) {
      await expectCrossauthRejection(manager.validateToken(bad), ErrorCode.InvalidKey);
    }
    await keys.deleteKey(key.value);
    await expectCrossauthRejection(manager.validateToken(token), ErrorCode.InvalidKey);
  });

  it("expires keys", async () => {
    const { token } = await manager.createKey("short", 1, {}, 60);
    t += 60_000;
    await manager.validateToken(token);
    t += 1;
    await expectCrossauthRejection(manager.validateToken(token), ErrorCode.Expired);
  });

  it("keeps key names unique per user", async () => {
    await manager.createKey("ci", 1);
    await expectCrossauthRejection(manager.createKey("ci", 1), ErrorCode.KeyExists);
    await manager.createKey("ci", 2);
    await expectCrossauthRejection(manager.createKey("  ", 2), ErrorCode.BadRequest);
  });

  it("needs a secret and at least 16 random bytes", () => {
    expect(() => new ApiKeyManager(keys, { secret, keyLength: 8 })).toThrowError(
      expect.objectContaining({ code: ErrorCode.Configuration }),
    );
  });
});

describe.each([
  ["memory (key, then owner)", "memory"],
  ["SQLite (one joined query)", "sqlite"],
] as const)("ApiKeyManager.validateTokenWithOwner on %s", (_title, kind) => {
  let t: number;
  let users: UserStorage;
  let keys: KeyStorage;
  let manager: ApiKeyManager;
  let close: () => Promise<void>;

  beforeEach(async () => {
    t = Date.UTC(2026, 5, 1);
    if (kind === "memory") {
      keys = new InMemoryKeyStorage();
      users = new InMemoryUserStorage({ keyStorage: keys as InMemoryKeyStorage });
      close = async () => undefined;
    } else {
      const db = connectDatabase(":memory:");
      await migrateToLatest(db);
      keys = new KyselyKeyStorage(db);
      users = new KyselyUserStorage(db);
      close = () => db.destroy();
    }
    manager = new ApiKeyManager(keys, { secret, now: () => new Date(t) });
  });
  afterEach(async () => {
    await close();
  });

  const newUser = (username: string) =>
    users.createUser({ username, state: UserState.active, factor1: "localpassword" });

  it("returns the key and its owner; a key of no user has no owner", async () => {
    const alice = await newUser("alice");
    await users.getUserById(alice.id); // the SQL storage learns the user table's columns
    const { key, token } = await manager.createKey("ci", alice.id, { scope: ["read"] });
    const found = await manager.validateTokenWithOwner(`ApiKey ${token}`, users);
    expect(found.key.value).toBe(key.value);
    expect(found.key.name).toBe("ci");
    expect(ApiKeyManager.scopesOf(found.key)).toEqual(["read"]);
    expect(found.owner).toEqual((await users.getUserById(alice.id, { skipSecrets: true })).user);
    const system = await manager.createKey("system", null);
    expect((await manager.validateTokenWithOwner(system.token, users)).owner).toBeUndefined();
  });

  it("refuses bad and expired keys, and applies the owner's state checks", async () => {
    const bob = await newUser("bob");
    await users.getUserById(bob.id);
    const { token } = await manager.createKey("ci", bob.id, {}, 60);
    await expectCrossauthRejection(
      manager.validateTokenWithOwner(sign({ v: "AAAAAAAAAAAAAAAAAAAAAA" }, secret), users),
      ErrorCode.InvalidKey,
    );
    await users.updateUser({ id: bob.id, state: UserState.disabled });
    await expectCrossauthRejection(manager.validateTokenWithOwner(token, users), ErrorCode.UserNotActive);
    const lenient = await manager.validateTokenWithOwner(token, users, { skipActiveCheck: true });
    expect(lenient.owner?.state).toBe(UserState.disabled);
    t += 61_000;
    await expectCrossauthRejection(manager.validateTokenWithOwner(token, users), ErrorCode.Expired);
  });
});
