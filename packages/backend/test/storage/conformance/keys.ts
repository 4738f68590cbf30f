/**
 * Conformance tests for KeyStorage.
 */

import type { KeyStorage } from "@crossauth/backend";
import { type CrossauthError, ErrorCode } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { expectCode, nastyStrings, type SuiteContext } from "./context.js";

/** Two user ids usable as key owners: real users where the backend has a user storage (foreign keys). */
async function owners(ctx: SuiteContext): Promise<[string | number, string | number]> {
  const users = ctx.fixture.userStorage;
  if (!users) return [1, 2];
  const a = await users.createUser({ username: "keyowner1", state: "active", factor1: "localpassword" });
  const b = await users.createUser({ username: "keyowner2", state: "active", factor1: "localpassword" });
  return [a.id, b.id];
}

const created = new Date(1_700_000_000_123);
const expires = new Date(1_700_086_400_456);

/** Registers the key-storage tests. */
export function keyStorageTests(ctx: SuiteContext): void {
  const keys = (): KeyStorage => ctx.fixture.keyStorage;

  describe("KeyStorage", () => {
    describe("save and get", () => {
      it("round-trips every field, dates to the millisecond", async () => {
        const [uid] = await owners(ctx);
        await keys().saveKey(uid, "s:abc", created, expires, '{"a":1}');
        const key = await keys().getKey("s:abc");
        expect(key.value).toBe("s:abc");
        expect(String(key.userid)).toBe(String(uid));
        expect(key.created).toBeInstanceOf(Date);
        expect(key.created.getTime()).toBe(created.getTime());
        expect(key.expires?.getTime()).toBe(expires.getTime());
        expect(key.lastactive ?? null).toBeNull();
        expect(JSON.parse(key.data ?? "")).toEqual({ a: 1 });
      });

      it("stores anonymous keys, no expiry and empty data", async () => {
        await keys().saveKey(null, "s:anon", created);
        const key = await keys().getKey("s:anon");
        expect(key.userid ?? null).toBeNull();
        expect(key.expires).toBeNull();
        expect(parseData(key.data)).toEqual({});
      });

      it("stores and returns extra fields", async () => {
        const [uid] = await owners(ctx);
        await keys().saveKey(uid, "api:xyz", created, null, '{"scope":["read"]}', { name: "deploy bot" });
        const key = await keys().getKey("api:xyz");
        expect(key.name).toBe("deploy bot");
      });

      it("accepts lastactive among the extra fields of a new key", async () => {
        const lastactive = new Date(1_700_000_000_999);
        await keys().saveKey(null, "s:active", created, expires, "{}", { lastactive });
        expect((await keys().getKey("s:active")).lastactive?.getTime()).toBe(lastactive.getTime());
      });

      it("throws InvalidKey for a missing key and KeyExists for a duplicate", async () => {
        await expectCode(keys().getKey("s:missing"), ErrorCode.InvalidKey);
        await keys().saveKey(null, "s:dup", created);
        await expectCode(keys().saveKey(null, "s:dup", created), ErrorCode.KeyExists);
      });

      it("lets exactly one of 20 concurrent saves of one value succeed", async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => keys().saveKey(null, "s:race", created, null, `{"i":${i}}`)),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results) {
          if (r.status === "rejected") expect((r.reason as CrossauthError).code).toBe(ErrorCode.KeyExists);
        }
      });

      it("stores metacharacters and large data intact", async () => {
        for (const [i, nasty] of nastyStrings.entries()) {
          const value = `s:${nasty}${i}`;
          const data = JSON.stringify({ nasty });
          await keys().saveKey(null, value, created, null, data);
          expect((await keys().getKey(value)).data).toBe(data);
        }
        const big = JSON.stringify({ blob: "z".repeat(100_000) });
        await keys().saveKey(null, "s:big", created, null, big);
        expect((await keys().getKey("s:big")).data).toBe(big);
      });
    });

    describe("updateKey", () => {
      it("updates only the given fields", async () => {
        const [uid] = await owners(ctx);
        await keys().saveKey(uid, "s:upd", created, expires, '{"a":1}');
        const lastactive = new Date(1_700_000_100_789);
        await keys().updateKey({ value: "s:upd", lastactive });
        let key = await keys().getKey("s:upd");
        expect(key.lastactive?.getTime()).toBe(lastactive.getTime());
        expect(key.expires?.getTime()).toBe(expires.getTime());
        expect(JSON.parse(key.data ?? "")).toEqual({ a: 1 });
        const later = new Date(1_800_000_000_001);
        await keys().updateKey({ value: "s:upd", expires: later, data: '{"b":2}' });
        key = await keys().getKey("s:upd");
        expect(key.expires?.getTime()).toBe(later.getTime());
        expect(JSON.parse(key.data ?? "")).toEqual({ b: 2 });
        expect(String(key.userid)).toBe(String(uid));
      });

      it("throws InvalidKey for a missing key", async () => {
        await expectCode(keys().updateKey({ value: "s:nothere", data: "{}" }), ErrorCode.InvalidKey);
      });
    });

    describe("key data", () => {
      it("sets top-level and dotted fields", async () => {
        await keys().saveKey(null, "s:data", created, null, '{"oauth":{"state":"x"}}');
        await keys().updateData("s:data", "csrf", "tok");
        await keys().updateData("s:data", "oauth.state", "y");
        await keys().updateData("s:data", "oauth.nested", { deep: [1, 2] });
        expect(JSON.parse((await keys().getKey("s:data")).data ?? "")).toEqual({
          csrf: "tok",
          oauth: { state: "y", nested: { deep: [1, 2] } },
        });
      });

      it("refuses a missing parent, a missing key and undecodable data", async () => {
        await keys().saveKey(null, "s:d2", created, null, '{"a":1}');
        await expectCode(keys().updateData("s:d2", "missing.child", 1), ErrorCode.BadRequest);
        await expectCode(keys().updateData("s:d2", "a.child", 1), ErrorCode.BadRequest);
        await expectCode(keys().deleteData("s:d2", "missing.child"), ErrorCode.BadRequest);
        await expectCode(keys().updateData("s:none", "a", 1), ErrorCode.InvalidKey);
        await expectCode(keys().deleteData("s:none", "a"), ErrorCode.InvalidKey);
        await expectCode(
          keys().updateManyData("s:none", [{ dataName: "a", value: 1 }]),
          ErrorCode.InvalidKey,
        );
        await keys().saveKey(null, "s:bad", created, null, "not json");
        await expectCode(keys().updateData("s:bad", "a", 1), ErrorCode.DataFormat);
        expect((await keys().getKey("s:bad")).data).toBe("not json");
      });

      it("updates many fields at once, all or nothing", async () => {
        await keys().saveKey(null, "s:many", created, null, '{"p":{}}');
        await keys().updateManyData("s:many", [
          { dataName: "x", value: 1 },
          { dataName: "p.q", value: "r" },
        ]);
        expect(JSON.parse((await keys().getKey("s:many")).data ?? "")).toEqual({ x: 1, p: { q: "r" } });
        await expectCode(
          keys().updateManyData("s:many", [
            { dataName: "y", value: 2 },
            { dataName: "nope.z", value: 3 },
          ]),
          ErrorCode.BadRequest,
        );
        expect(JSON.parse((await keys().getKey("s:many")).data ?? "")).toEqual({ x: 1, p: { q: "r" } });
      });

      it("deletes fields, and a missing field is no error", async () => {
        await keys().saveKey(null, "s:del", created, null, '{"a":1,"b":{"c":2,"d":3}}');
        await keys().deleteData("s:del", "a");
        await keys().deleteData("s:del", "b.c");
        await keys().deleteData("s:del", "zzz");
        expect(JSON.parse((await keys().getKey("s:del")).data ?? "")).toEqual({ b: { d: 3 } });
      });

      it("keeps all 100 fields written by concurrent updateData calls", async () => {
        await keys().saveKey(null, "s:conc", created, null, "{}");
        await Promise.all(Array.from({ length: 100 }, (_, i) => keys().updateData("s:conc", `f${i}`, i)));
        const data = JSON.parse((await keys().getKey("s:conc")).data ?? "");
        expect(Object.keys(data)).toHaveLength(100);
        for (let i = 0; i < 100; i++) expect(data[`f${i}`]).toBe(i);
      }, 60_000);

      it("keeps every field written by concurrent updateManyData and deleteData calls", async () => {
        const initial = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`old${i}`, i]));
        await keys().saveKey(null, "s:conc2", created, null, JSON.stringify(initial));
        await Promise.all([
          ...Array.from({ length: 20 }, (_, i) =>
            keys().updateManyData("s:conc2", [
              { dataName: `a${i}`, value: i },
              { dataName: `b${i}`, value: -i },
            ]),
          ),
          ...Array.from({ length: 20 }, (_, i) => keys().deleteData("s:conc2", `old${i}`)),
        ]);
        const data = JSON.parse((await keys().getKey("s:conc2")).data ?? "");
        expect(Object.keys(data).sort()).toEqual(
          Array.from({ length: 20 }, (_, i) => [`a${i}`, `b${i}`])
            .flat()
            .sort(),
        );
      }, 60_000);
    });

    describe("deleting and listing", () => {
      it("deletes one key; a missing key is no error", async () => {
        await keys().saveKey(null, "s:gone", created);
        await keys().deleteKey("s:gone");
        await expectCode(keys().getKey("s:gone"), ErrorCode.InvalidKey);
        await keys().deleteKey("s:gone");
      });

      it("consumes a key exactly once, even under concurrency", async () => {
        const [uid] = await owners(ctx);
        await keys().saveKey(uid, "p:once", created, expires, '{"a":1}');
        const key = await keys().consumeKey("p:once");
        expect(key.value).toBe("p:once");
        expect(String(key.userid)).toBe(String(uid));
        expect(key.expires?.getTime()).toBe(expires.getTime());
        expect(JSON.parse(key.data ?? "")).toEqual({ a: 1 });
        await expectCode(keys().getKey("p:once"), ErrorCode.InvalidKey);
        await expectCode(keys().consumeKey("p:once"), ErrorCode.InvalidKey);

        await keys().saveKey(uid, "p:race", created, expires);
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, () => keys().consumeKey("p:race")),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results) {
          if (r.status === "rejected") expect((r.reason as CrossauthError).code).toBe(ErrorCode.InvalidKey);
        }
      });

      it("lists a user's keys and anonymous keys", async () => {
        const [u1, u2] = await owners(ctx);
        await keys().saveKey(u1, "s:u1a", created);
        await keys().saveKey(u1, "api:u1b", created, null, "{}", { name: "k" });
        await keys().saveKey(u2, "s:u2a", created);
        await keys().saveKey(null, "s:anon1", created);
        expect((await keys().getAllForUser(u1)).map((k) => k.value).sort()).toEqual(["api:u1b", "s:u1a"]);
        expect((await keys().getAllForUser(null)).map((k) => k.value)).toEqual(["s:anon1"]);
        expect((await keys().getAllForUser()).map((k) => k.value)).toEqual(["s:anon1"]);
      });

      it("deletes a user's keys by literal prefix, except one", async () => {
        const [u1, u2] = await owners(ctx);
        for (const v of ["s:1", "s:2", "s:3", "p:1", "s%x", "s_y"]) await keys().saveKey(u1, v, created);
        await keys().saveKey(u2, "s:other", created);
        await keys().saveKey(null, "s:anon", created);
        await keys().deleteAllForUser(u1, "s:", "s:2");
        expect((await keys().getAllForUser(u1)).map((k) => k.value).sort()).toEqual([
          "p:1",
          "s%x",
          "s:2",
          "s_y",
        ]);
        await keys().deleteAllForUser(u1, "s%");
        expect((await keys().getAllForUser(u1)).map((k) => k.value).sort()).toEqual(["p:1", "s:2", "s_y"]);
        expect((await keys().getAllForUser(u2)).map((k) => k.value)).toEqual(["s:other"]);
        await keys().deleteAllForUser(null, "s:");
        expect(await keys().getAllForUser(null)).toEqual([]);
        expect((await keys().getAllForUser(u2)).map((k) => k.value)).toEqual(["s:other"]);
      });

      it("deletes keys matching every given field", async () => {
        const [u1, u2] = await owners(ctx);
        await keys().saveKey(u1, "api:a", created, null, "{}", { name: "ci" });
        await keys().saveKey(u1, "api:b", created, null, "{}", { name: "other" });
        await keys().saveKey(u2, "api:c", created, null, "{}", { name: "ci" });
        await keys().deleteMatching({ userid: u1, name: "ci" });
        expect((await keys().getAllForUser(u1)).map((k) => k.value)).toEqual(["api:b"]);
        expect((await keys().getAllForUser(u2)).map((k) => k.value)).toEqual(["api:c"]);
        await keys().deleteMatching({});
        expect((await keys().getAllForUser(u1)).map((k) => k.value)).toEqual(["api:b"]);
        await keys().saveKey(null, "s:n1", created);
        await keys().deleteMatching({ userid: null });
        await expectCode(keys().getKey("s:n1"), ErrorCode.InvalidKey);
        expect((await keys().getAllForUser(u2)).map((k) => k.value)).toEqual(["api:c"]);
      });

      it("purges expired keys and reports how many", async () => {
        // Expiries in the real future (a Redis TTL must not evict them first); the purge runs "later".
        const base = Date.now();
        const now = new Date(base + 120_000);
        await keys().saveKey(null, "s:old1", created, new Date(base + 60_000));
        await keys().saveKey(null, "s:old2", created, now);
        await keys().saveKey(null, "s:live", created, new Date(base + 3_600_000));
        await keys().saveKey(null, "s:forever", created, null);
        expect(await keys().deleteExpired(now)).toBe(2);
        await expectCode(keys().getKey("s:old1"), ErrorCode.InvalidKey);
        await expectCode(keys().getKey("s:old2"), ErrorCode.InvalidKey);
        expect((await keys().getKey("s:live")).value).toBe("s:live");
        expect((await keys().getKey("s:forever")).value).toBe("s:forever");
        expect(await keys().deleteExpired(now)).toBe(0);
      });
    });
  });
}

function parseData(data: string | undefined): unknown {
  return data === undefined || data === "" ? {} : JSON.parse(data);
}
