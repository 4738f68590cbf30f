/**
 * Conformance tests for UserStorage.
 */

import type { UserStorage } from "@crossauth/backend";
import { CrossauthError, ErrorCode, type User, UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { expectCode, nastyStrings, type SuiteContext } from "./context.js";

function storage(ctx: SuiteContext): UserStorage {
  const s = ctx.fixture.userStorage;
  if (!s) throw new Error("fixture has no user storage");
  return s;
}

async function makeUser(
  s: UserStorage,
  username: string,
  extra: Record<string, unknown> = {},
): Promise<User> {
  return s.createUser(
    {
      username,
      email: `${username}@example.com`,
      state: UserState.active,
      factor1: "localpassword",
      ...extra,
    },
    { password: `pbkdf2:sha256:32:1000:0:salt:${username}` },
  );
}

/** Registers the user-storage tests. */
export function userStorageTests(ctx: SuiteContext): void {
  describe("UserStorage", () => {
    describe("createUser", () => {
      it("returns the user with an id, normalized columns and defaults", async () => {
        const user = await storage(ctx).createUser({
          username: "Bob",
          state: "active",
          factor1: "localpassword",
        });
        expect(user.id).toBeDefined();
        expect(user.username).toBe("Bob");
        expect(user.username_normalized).toBe("bob");
        expect(user.state).toBe("active");
        expect(user.factor1).toBe("localpassword");
        expect(user.factor2 ?? "").toBe("");
        expect(user.admin ?? false).toBe(false);
      });

      it("stores secrets and returns them with the user", async () => {
        const created = await makeUser(storage(ctx), "alice");
        const { user, secrets } = await storage(ctx).getUserByUsername("alice");
        expect(user.id).toEqual(created.id);
        expect(user.email).toBe("alice@example.com");
        expect(user.email_normalized).toBe("alice@example.com");
        expect(secrets.password).toBe("pbkdf2:sha256:32:1000:0:salt:alice");
        expect(String(secrets.userid)).toBe(String(created.id));
      });

      it("refuses a username that differs only in case or accents", async () => {
        await makeUser(storage(ctx), "bob");
        await expectCode(
          makeUser(storage(ctx), "BOB", { email: "other1@example.com" }),
          ErrorCode.UserExists,
        );
        await expectCode(
          makeUser(storage(ctx), "Bób", { email: "other2@example.com" }),
          ErrorCode.UserExists,
        );
      });

      it("refuses an email that differs only in case or accents", async () => {
        await makeUser(storage(ctx), "carol", { email: "carol@example.com" });
        await expectCode(
          makeUser(storage(ctx), "carol2", { email: "CAROL@Example.com" }),
          ErrorCode.UserExists,
        );
        await expectCode(
          makeUser(storage(ctx), "carol3", { email: "cärol@example.com" }),
          ErrorCode.UserExists,
        );
      });

      it("refuses an empty username", async () => {
        await expectCode(
          storage(ctx).createUser({ username: "", state: "active", factor1: "localpassword" }),
          ErrorCode.InvalidUsername,
        );
      });

      it("lets exactly one of 20 concurrent creations of one username succeed", async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            makeUser(storage(ctx), "racer", { email: `racer${i}@example.com` }),
          ),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results) {
          if (r.status === "rejected") {
            expect(r.reason).toBeInstanceOf(CrossauthError);
            expect((r.reason as CrossauthError).code).toBe(ErrorCode.UserExists);
          }
        }
        expect(await storage(ctx).getUsers()).toHaveLength(1);
      });

      it("round-trips Unicode usernames", async () => {
        for (const name of ["Zoë", "日本語ユーザー", "🦊fox", "Ελληνικά"]) {
          const user = await makeUser(storage(ctx), name, { email: undefined });
          const found = await storage(ctx).getUserByUsername(name);
          expect(found.user.username).toBe(name);
          expect(found.user.id).toEqual(user.id);
        }
        expect((await storage(ctx).getUserByUsername("ZOE")).user.username).toBe("Zoë");
      });

      it("stores SQL metacharacters literally in every string field", async () => {
        for (const [i, nasty] of nastyStrings.entries()) {
          const email = `${nasty}${i}@example.com`;
          await storage(ctx).createUser(
            { username: nasty, email, state: "active", factor1: "localpassword", factor2: nasty },
            { password: nasty, totpsecret: nasty },
          );
          const { user, secrets } = await storage(ctx).getUserByUsername(nasty);
          expect(user.username).toBe(nasty);
          expect(user.email).toBe(email);
          expect(user.factor2).toBe(nasty);
          expect(secrets.password).toBe(nasty);
          expect(secrets.totpsecret).toBe(nasty);
          expect((await storage(ctx).getUserByEmail(email)).user.username).toBe(nasty);
        }
        expect(await storage(ctx).getUsers()).toHaveLength(nastyStrings.length);
      });

      it("stores a very long username intact or rejects it with a CrossauthError", async () => {
        const long = "x".repeat(5000);
        let stored = true;
        try {
          await storage(ctx).createUser({ username: long, state: "active", factor1: "localpassword" });
        } catch (e) {
          expect(e).toBeInstanceOf(CrossauthError);
          stored = false;
        }
        if (stored) expect((await storage(ctx).getUserByUsername(long)).user.username).toBe(long);
        else await expectCode(storage(ctx).getUserByUsername(long), ErrorCode.UserNotExist);
      });

      it("stores a very long password hash intact or rejects it with a CrossauthError", async () => {
        const long = `pbkdf2:${"y".repeat(4000)}`;
        let stored = true;
        try {
          await storage(ctx).createUser(
            { username: "longpw", state: "active", factor1: "localpassword" },
            { password: long },
          );
        } catch (e) {
          expect(e).toBeInstanceOf(CrossauthError);
          stored = false;
        }
        if (stored) expect((await storage(ctx).getUserByUsername("longpw")).secrets.password).toBe(long);
      });
    });

    describe("lookups", () => {
      it("finds users by normalized username and email", async () => {
        await makeUser(storage(ctx), "José", { email: "José@Example.com" });
        expect((await storage(ctx).getUserByUsername("jose")).user.username).toBe("José");
        expect((await storage(ctx).getUserByUsername("JOSÉ")).user.username).toBe("José");
        expect((await storage(ctx).getUserByEmail("jose@example.com")).user.username).toBe("José");
      });

      it("finds a user whose username is their email by email", async () => {
        await storage(ctx).createUser({
          username: "dave@example.com",
          state: "active",
          factor1: "localpassword",
        });
        expect((await storage(ctx).getUserByEmail("Dave@Example.com")).user.username).toBe(
          "dave@example.com",
        );
      });

      it("finds users by id given as a number or a numeric string", async () => {
        const user = await makeUser(storage(ctx), "erin");
        expect((await storage(ctx).getUserById(user.id)).user.username).toBe("erin");
        expect((await storage(ctx).getUserById(String(user.id))).user.username).toBe("erin");
      });

      it("leaves the secrets out when asked", async () => {
        const user = await makeUser(storage(ctx), "secretless");
        const { user: found, secrets } = await storage(ctx).getUserById(user.id, { skipSecrets: true });
        expect(found.username).toBe("secretless");
        expect(secrets).toEqual({ userid: user.id });
        expect((await storage(ctx).getUserById(user.id)).secrets.password).toBe(
          "pbkdf2:sha256:32:1000:0:salt:secretless",
        );
      });

      it("finds users by an exact field", async () => {
        await makeUser(storage(ctx), "frank");
        expect((await storage(ctx).getUserBy("email", "frank@example.com")).user.username).toBe("frank");
        await expectCode(storage(ctx).getUserBy("email", "FRANK@example.com"), ErrorCode.UserNotExist);
      });

      it("rejects an unknown field name", async () => {
        await makeUser(storage(ctx), "gina");
        await expectCode(storage(ctx).getUserBy("no_such_column; --", "x"), ErrorCode.BadRequest);
      });

      it("throws UserNotExist for missing users", async () => {
        await expectCode(storage(ctx).getUserByUsername("nobody"), ErrorCode.UserNotExist);
        await expectCode(storage(ctx).getUserByEmail("nobody@example.com"), ErrorCode.UserNotExist);
        await expectCode(storage(ctx).getUserById(987654), ErrorCode.UserNotExist);
      });

      const stateErrors: [string, ErrorCode][] = [
        [UserState.disabled, ErrorCode.UserNotActive],
        [UserState.awaitingEmailVerification, ErrorCode.EmailNotVerified],
        [UserState.awaitingTwoFactorSetup, ErrorCode.TwoFactorIncomplete],
        [UserState.passwordChangeNeeded, ErrorCode.PasswordChangeNeeded],
        [UserState.passwordResetNeeded, ErrorCode.PasswordResetNeeded],
        [UserState.passwordAndFactor2ResetNeeded, ErrorCode.PasswordResetNeeded],
        [UserState.factor2ResetNeeded, ErrorCode.Factor2ResetNeeded],
      ];
      for (const [state, code] of stateErrors) {
        it(`applies the state check for ${state} unless skipped`, async () => {
          const user = await makeUser(storage(ctx), "stateful", { state });
          await expectCode(storage(ctx).getUserByUsername("stateful"), code);
          await expectCode(storage(ctx).getUserById(user.id), code);
          await expectCode(storage(ctx).getUserByEmail("stateful@example.com"), code);
          const skip =
            state === UserState.awaitingEmailVerification
              ? { skipEmailVerifiedCheck: true }
              : { skipActiveCheck: true };
          expect((await storage(ctx).getUserByUsername("stateful", skip)).user.state).toBe(state);
        });
      }

      it("turns off normalization when asked", async () => {
        const make = ctx.fixture.userStorageWith;
        if (!make) throw new Error("fixture has no userStorageWith");
        const raw = make({ normalizeUsername: false, normalizeEmail: false });
        await raw.createUser({
          username: "Helen",
          email: "Helen@Example.com",
          state: "active",
          factor1: "localpassword",
        });
        expect((await raw.getUserByUsername("Helen")).user.username).toBe("Helen");
        await expectCode(raw.getUserByUsername("helen"), ErrorCode.UserNotExist);
        await expectCode(raw.getUserByEmail("helen@example.com"), ErrorCode.UserNotExist);
        expect((await raw.getUserByEmail("Helen@Example.com")).user.username).toBe("Helen");
      });
    });

    describe("updateUser", () => {
      it("updates given fields only and re-normalizes", async () => {
        const user = await makeUser(storage(ctx), "ivan", { phone: "+441234567890" });
        await storage(ctx).updateUser({
          id: user.id,
          username: "Iván",
          state: UserState.disabled,
          email: undefined,
        });
        const { user: after } = await storage(ctx).getUserByUsername("ivan", { skipActiveCheck: true });
        expect(after.username).toBe("Iván");
        expect(after.username_normalized).toBe("ivan");
        expect(after.state).toBe(UserState.disabled);
        expect(after.email).toBe("ivan@example.com");
        expect(after.phone).toBe("+441234567890");
      });

      it("stores null when given null", async () => {
        const user = await makeUser(storage(ctx), "judy", { phone: "+441234567890" });
        await storage(ctx).updateUser({ id: user.id, phone: null });
        expect((await storage(ctx).getUserById(user.id)).user.phone ?? null).toBeNull();
      });

      it("updates and creates secrets", async () => {
        const user = await storage(ctx).createUser({
          username: "kate",
          state: "active",
          factor1: "localpassword",
        });
        await storage(ctx).updateUser({ id: user.id }, { password: "pbkdf2:new", totpsecret: "ABC" });
        const { secrets } = await storage(ctx).getUserById(user.id);
        expect(secrets.password).toBe("pbkdf2:new");
        expect(secrets.totpsecret).toBe("ABC");
        await storage(ctx).updateUser({ id: user.id }, { totpsecret: "DEF" });
        const again = await storage(ctx).getUserById(user.id);
        expect(again.secrets.password).toBe("pbkdf2:new");
        expect(again.secrets.totpsecret).toBe("DEF");
      });

      it("needs a known id", async () => {
        await expectCode(storage(ctx).updateUser({ username: "x" }), ErrorCode.InvalidKey);
        await expectCode(storage(ctx).updateUser({ id: 424242, username: "x" }), ErrorCode.InvalidKey);
      });

      it("refuses to take another user's username or email", async () => {
        await makeUser(storage(ctx), "leo");
        const mia = await makeUser(storage(ctx), "mia");
        await expectCode(storage(ctx).updateUser({ id: mia.id, username: "LEO" }), ErrorCode.UserExists);
        await expectCode(
          storage(ctx).updateUser({ id: mia.id, email: "Leo@example.com" }),
          ErrorCode.UserExists,
        );
        expect((await storage(ctx).getUserById(mia.id)).user.username).toBe("mia");
      });
    });

    describe("delete and list", () => {
      it("deletes by username and by id; absent users are no error", async () => {
        const a = await makeUser(storage(ctx), "nina");
        const b = await makeUser(storage(ctx), "otto");
        await storage(ctx).deleteUserByUsername("NINA");
        await storage(ctx).deleteUserById(b.id);
        await expectCode(storage(ctx).getUserById(a.id), ErrorCode.UserNotExist);
        await expectCode(storage(ctx).getUserById(b.id), ErrorCode.UserNotExist);
        await storage(ctx).deleteUserByUsername("nobody");
        await storage(ctx).deleteUserById(999999);
      });

      it("deleting a user deletes its keys, authorizations and clients", async () => {
        const { keyStorage, clientStorage, authorizationStorage } = ctx.fixture;
        const user = await makeUser(storage(ctx), "paul");
        const other = await makeUser(storage(ctx), "quinn");
        const now = new Date();
        await keyStorage.saveKey(user.id, "s:paul1", now);
        await keyStorage.saveKey(user.id, "api:paul2", now, null, "{}", { name: "ci" });
        await keyStorage.saveKey(other.id, "s:quinn1", now);
        if (clientStorage) {
          await clientStorage.createClient({
            client_id: "paulclient",
            client_name: "Paul's app",
            confidential: false,
            redirect_uri: ["https://paul.example.com/cb"],
            valid_flow: ["authorizationCode"],
            userid: user.id,
          });
          await clientStorage.createClient({
            client_id: "shared",
            client_name: "Shared",
            confidential: false,
            redirect_uri: [],
            valid_flow: [],
          });
        }
        await authorizationStorage?.updateAuthorizations("shared", user.id, ["read"]);
        await authorizationStorage?.updateAuthorizations("shared", other.id, ["write"]);

        await storage(ctx).deleteUserById(user.id);

        expect(await keyStorage.getAllForUser(user.id)).toEqual([]);
        await expectCode(keyStorage.getKey("s:paul1"), ErrorCode.InvalidKey);
        expect((await keyStorage.getKey("s:quinn1")).value).toBe("s:quinn1");
        if (clientStorage)
          await expectCode(clientStorage.getClientById("paulclient"), ErrorCode.InvalidClientId);
        if (authorizationStorage) {
          expect(await authorizationStorage.getAuthorizations("shared", user.id)).toEqual([]);
          expect(await authorizationStorage.getAuthorizations("shared", other.id)).toEqual(["write"]);
        }
      });

      it("lists users ordered by normalized username with skip and take", async () => {
        for (const name of ["delta", "Alpha", "charlie", "Bravo", "echo"]) await makeUser(storage(ctx), name);
        const all = await storage(ctx).getUsers();
        expect(all.map((u) => u.username)).toEqual(["Alpha", "Bravo", "charlie", "delta", "echo"]);
        expect((await storage(ctx).getUsers(1, 2)).map((u) => u.username)).toEqual(["Bravo", "charlie"]);
        expect((await storage(ctx).getUsers(4, 10)).map((u) => u.username)).toEqual(["echo"]);
        expect(await storage(ctx).getUsers(10, 10)).toEqual([]);
      });

      it("pages through 10,000 users", async () => {
        const total = 10_000;
        const names = Array.from({ length: total }, (_, i) => `user${String(i).padStart(5, "0")}`);
        for (let i = 0; i < total; i += 100) {
          await Promise.all(
            names
              .slice(i, i + 100)
              .map((username) =>
                storage(ctx).createUser({ username, state: "active", factor1: "localpassword" }),
              ),
          );
        }
        const seen: string[] = [];
        for (let skip = 0; ; skip += 1000) {
          const page = await storage(ctx).getUsers(skip, 1000);
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(1000);
          seen.push(...page.map((u) => u.username));
        }
        expect(seen).toEqual(names);
      }, 300_000);
    });
  });
}
