/**
 * The in-memory storages: the shared conformance suite, plus what is specific to memory (copies,
 * numeric ids, links between the storages).
 */
import {
  InMemoryKeyStorage,
  InMemoryOAuthAuthorizationStorage,
  InMemoryOAuthClientStorage,
  InMemoryUserStorage,
} from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { beforeEach, describe, expect, it } from "vitest";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import { describeStorageConformance, type StorageFixture } from "./conformance/index.js";

/** Four linked in-memory storages. */
function linkedStorages() {
  const keyStorage = new InMemoryKeyStorage();
  const authorizationStorage = new InMemoryOAuthAuthorizationStorage();
  const clientStorage = new InMemoryOAuthClientStorage({ authorizationStorage });
  const links = { keyStorage, authorizationStorage, clientStorage };
  const userStorage = new InMemoryUserStorage(links);
  return { ...links, userStorage };
}

describeStorageConformance("memory", async (): Promise<StorageFixture> => {
  const storages = linkedStorages();
  return {
    ...storages,
    userStorageWith: (options) => new InMemoryUserStorage({ ...options, ...storages }),
    async reset() {
      for (const s of Object.values(storages)) s.clear();
    },
    async close() {},
  };
});

describe("in-memory storages", () => {
  let s: ReturnType<typeof linkedStorages>;
  beforeEach(() => {
    s = linkedStorages();
  });
  const input = { username: "bob", email: "bob@example.com", state: "active", factor1: "localpassword" };

  it("numbers users 1, 2, 3", async () => {
    const ids = [];
    for (const username of ["a", "b", "c"])
      ids.push((await s.userStorage.createUser({ ...input, username, email: undefined })).id);
    expect(ids).toEqual([1, 2, 3]);
  });

  it("returns copies of users and secrets, dates included", async () => {
    const joined = new Date(1_700_000_000_000);
    const created = await s.userStorage.createUser({ ...input, joined }, { password: "pbkdf2:x" });
    created.username = "mallory";
    (created.joined as Date).setTime(0);
    const found = await s.userStorage.getUserById(1);
    found.user.state = "disabled";
    found.secrets.password = "changed";
    const again = await s.userStorage.getUserByUsername("bob");
    expect(again.user.state).toBe("active");
    expect(again.secrets.password).toBe("pbkdf2:x");
    expect((again.user.joined as Date).getTime()).toBe(joined.getTime());
    (await s.userStorage.getUsers())[0]!.username = "eve";
    expect((await s.userStorage.getUsers())[0]!.username).toBe("bob");
  });

  it("does not keep a reference to the caller's objects", async () => {
    const user = { ...input, tags: ["a"] };
    await s.userStorage.createUser(user);
    user.tags.push("b");
    expect((await s.userStorage.getUserById(1)).user.tags).toEqual(["a"]);
  });

  it("returns copies of keys and clients", async () => {
    const created = new Date(1_700_000_000_000);
    await s.keyStorage.saveKey(null, "s:k", created, null, "{}", { tags: ["x"] });
    created.setTime(0);
    const key = await s.keyStorage.getKey("s:k");
    key.created.setTime(1);
    (key.tags as string[]).push("y");
    const again = await s.keyStorage.getKey("s:k");
    expect(again.created.getTime()).toBe(1_700_000_000_000);
    expect(again.tags).toEqual(["x"]);
    const client = await s.clientStorage.createClient({
      client_id: "c1",
      client_name: "C",
      confidential: false,
      redirect_uri: ["https://c.example.com/cb"],
      valid_flow: ["authorizationCode"],
    });
    client.redirect_uri.push("https://evil.example.com/cb");
    (await s.clientStorage.getClientById("c1")).valid_flow.push("password");
    const stored = await s.clientStorage.getClientById("c1");
    expect(stored.redirect_uri).toEqual(["https://c.example.com/cb"]);
    expect(stored.valid_flow).toEqual(["authorizationCode"]);
  });

  it("rejects values that cannot be stored with a CrossauthError", async () => {
    await expectCrossauthRejection(
      s.userStorage.createUser({ ...input, hook: () => 1 }),
      ErrorCode.DataFormat,
    );
    await s.keyStorage.saveKey(null, "s:k", new Date());
    await expectCrossauthRejection(s.keyStorage.updateData("s:k", "n", 1n), ErrorCode.DataFormat);
    expect((await s.keyStorage.getKey("s:k")).data).toBe("{}");
  });

  it("matches a key's owner given as a number or a numeric string", async () => {
    await s.keyStorage.saveKey("1", "s:k", new Date());
    expect((await s.keyStorage.getAllForUser(1)).map((k) => k.value)).toEqual(["s:k"]);
    await s.userStorage.createUser(input);
    await s.userStorage.deleteUserById("1");
    expect(await s.keyStorage.getAllForUser(1)).toEqual([]);
  });
});
