/**
 * Conformance tests for OAuthClientStorage and OAuthAuthorizationStorage.
 */

import type { OAuthAuthorizationStorage, OAuthClientStorage } from "@crossauth/backend";
import { ErrorCode, type OAuthClient } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { expectCode, nastyStrings, type SuiteContext } from "./context.js";

function client(overrides: Partial<OAuthClient> = {}): OAuthClient {
  return {
    client_id: "client1",
    client_name: "App One",
    confidential: true,
    client_secret: "pbkdf2:sha256:32:40000:0:salt:hash",
    redirect_uri: ["https://app.example.com/cb", "http://localhost:3000/callback"],
    valid_flow: ["authorizationCode", "refreshToken"],
    ...overrides,
  };
}

async function owner(ctx: SuiteContext, username: string): Promise<string | number> {
  const users = ctx.fixture.userStorage;
  if (!users) throw new Error("client tests need a user storage");
  return (await users.createUser({ username, state: "active", factor1: "localpassword" })).id;
}

/** Registers the OAuth client-storage tests. */
export function clientStorageTests(ctx: SuiteContext): void {
  const clients = (): OAuthClientStorage => {
    const s = ctx.fixture.clientStorage;
    if (!s) throw new Error("fixture has no client storage");
    return s;
  };

  describe("OAuthClientStorage", () => {
    it("creates and reads back a client", async () => {
      const uid = await owner(ctx, "clientowner");
      const made = await clients().createClient(client({ userid: uid }));
      expect(made.client_id).toBe("client1");
      const got = await clients().getClientById("client1");
      expect(got.client_name).toBe("App One");
      expect(got.confidential).toBe(true);
      expect(got.client_secret).toBe("pbkdf2:sha256:32:40000:0:salt:hash");
      expect(got.redirect_uri).toEqual(["https://app.example.com/cb", "http://localhost:3000/callback"]);
      expect([...got.valid_flow].sort()).toEqual(["authorizationCode", "refreshToken"]);
      expect(String(got.userid)).toBe(String(uid));
    });

    it("generates a client id and keeps public clients secretless and unowned", async () => {
      const { client_id: _omit, ...rest } = client({ confidential: false, client_secret: undefined });
      const made = await clients().createClient(rest as OAuthClient);
      expect(made.client_id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      const got = await clients().getClientById(made.client_id);
      expect(got.client_secret ?? null).toBeNull();
      expect(got.userid ?? null).toBeNull();
      expect(got.confidential).toBe(false);
    });

    it("validates flows and redirect URIs", async () => {
      await expectCode(
        clients().createClient(client({ valid_flow: ["implicit"] })),
        ErrorCode.InvalidOAuthFlow,
      );
      for (const uri of ["/relative/path", "https://app.example.com/cb#frag", "not a uri"]) {
        await expectCode(
          clients().createClient(client({ redirect_uri: [uri] })),
          ErrorCode.InvalidRedirectUri,
        );
      }
      await expectCode(clients().getClientById("client1"), ErrorCode.InvalidClientId);
    });

    it("refuses a duplicate id and a duplicate name for the same owner", async () => {
      const uid = await owner(ctx, "dupowner");
      const other = await owner(ctx, "otherowner");
      await clients().createClient(client({ userid: uid }));
      await expectCode(
        clients().createClient(client({ client_name: "Else", userid: uid })),
        ErrorCode.ClientExists,
      );
      await expectCode(
        clients().createClient(client({ client_id: "client2", userid: uid })),
        ErrorCode.ClientExists,
      );
      await clients().createClient(client({ client_id: "client3", userid: other }));
      await clients().createClient(client({ client_id: "unowned1", userid: null }));
      await expectCode(
        clients().createClient(client({ client_id: "unowned2", userid: null })),
        ErrorCode.ClientExists,
      );
    });

    it("selects by name and by owner: absent = all, null = unowned, value = that user's", async () => {
      const uid = await owner(ctx, "nameowner");
      await clients().createClient(client({ client_id: "a", client_name: "Same", userid: uid }));
      await clients().createClient(client({ client_id: "b", client_name: "Same", userid: null }));
      await clients().createClient(client({ client_id: "c", client_name: "Zed", userid: uid }));
      const ids = (list: OAuthClient[]) => list.map((c) => c.client_id).sort();
      expect(ids(await clients().getClientByName("Same"))).toEqual(["a", "b"]);
      expect(ids(await clients().getClientByName("Same", null))).toEqual(["b"]);
      expect(ids(await clients().getClientByName("Same", uid))).toEqual(["a"]);
      expect(await clients().getClientByName("Nothing")).toEqual([]);
      expect((await clients().getClients()).map((c) => c.client_id)).toEqual(["a", "b", "c"]);
      expect((await clients().getClients(undefined, undefined, uid)).map((c) => c.client_id)).toEqual([
        "a",
        "c",
      ]);
      expect((await clients().getClients(undefined, undefined, null)).map((c) => c.client_id)).toEqual(["b"]);
      expect((await clients().getClients(1, 1)).map((c) => c.client_id)).toEqual(["b"]);
    });

    it("updates fields and replaces redirect URIs and flows", async () => {
      await clients().createClient(client());
      await clients().updateClient({
        client_id: "client1",
        client_name: "Renamed",
        redirect_uri: ["https://new.example.com/cb"],
        valid_flow: ["clientCredentials"],
        client_secret: null,
        confidential: false,
      });
      const got = await clients().getClientById("client1");
      expect(got.client_name).toBe("Renamed");
      expect(got.redirect_uri).toEqual(["https://new.example.com/cb"]);
      expect(got.valid_flow).toEqual(["clientCredentials"]);
      expect(got.client_secret ?? null).toBeNull();
      expect(got.confidential).toBe(false);
      await clients().updateClient({ client_id: "client1", client_name: "Again" });
      expect((await clients().getClientById("client1")).redirect_uri).toEqual(["https://new.example.com/cb"]);
    });

    it("refuses bad updates and leaves the client unchanged", async () => {
      await clients().createClient(client());
      await clients().createClient(client({ client_id: "client2", client_name: "Two" }));
      await expectCode(
        clients().updateClient({ client_id: "nope", client_name: "x" }),
        ErrorCode.InvalidClientId,
      );
      await expectCode(
        clients().updateClient({ client_id: "client1", valid_flow: ["bogus"] }),
        ErrorCode.InvalidOAuthFlow,
      );
      await expectCode(
        clients().updateClient({ client_id: "client1", redirect_uri: ["ftp#x"] }),
        ErrorCode.InvalidRedirectUri,
      );
      await expectCode(
        clients().updateClient({ client_id: "client2", client_name: "App One" }),
        ErrorCode.ClientExists,
      );
      const got = await clients().getClientById("client1");
      expect([...got.valid_flow].sort()).toEqual(["authorizationCode", "refreshToken"]);
      expect(got.redirect_uri).toHaveLength(2);
      expect((await clients().getClientById("client2")).client_name).toBe("Two");
    });

    it("deletes a client with its authorizations; a missing client is no error", async () => {
      const uid = await owner(ctx, "delowner");
      await clients().createClient(client());
      await ctx.fixture.authorizationStorage?.updateAuthorizations("client1", uid, ["read"]);
      await clients().deleteClient("client1");
      await expectCode(clients().getClientById("client1"), ErrorCode.InvalidClientId);
      expect(await ctx.fixture.authorizationStorage?.getAuthorizations("client1", uid)).toEqual([]);
      await clients().deleteClient("client1");
    });

    it("stores metacharacters literally", async () => {
      for (const [i, nasty] of nastyStrings.entries()) {
        await clients().createClient(
          client({
            client_id: `id${i}${nasty}`,
            client_name: nasty,
            redirect_uri: [`https://x.example.com/?q=${i}`],
          }),
        );
        const got = await clients().getClientById(`id${i}${nasty}`);
        expect(got.client_name).toBe(nasty);
        expect((await clients().getClientByName(nasty)).map((c) => c.client_id)).toEqual([`id${i}${nasty}`]);
      }
    });
  });
}

/** Registers the OAuth authorization-storage tests. */
export function authorizationStorageTests(ctx: SuiteContext): void {
  const auths = (): OAuthAuthorizationStorage => {
    const s = ctx.fixture.authorizationStorage;
    if (!s) throw new Error("fixture has no authorization storage");
    return s;
  };
  const setUp = async () => {
    await ctx.fixture.clientStorage?.createClient(client());
    return owner(ctx, "authuser");
  };

  describe("OAuthAuthorizationStorage", () => {
    it("stores and replaces a user's scopes for a client", async () => {
      const uid = await setUp();
      expect(await auths().getAuthorizations("client1", uid)).toEqual([]);
      await auths().updateAuthorizations("client1", uid, ["read", "write", "read"]);
      expect((await auths().getAuthorizations("client1", uid)).sort()).toEqual(["read", "write"]);
      await auths().updateAuthorizations("client1", uid, ["admin"]);
      expect(await auths().getAuthorizations("client1", uid)).toEqual(["admin"]);
      await auths().updateAuthorizations("client1", uid, []);
      expect(await auths().getAuthorizations("client1", uid)).toEqual([]);
    });

    it("keeps client authorizations (no user) apart from user ones, and allows a null scope", async () => {
      const uid = await setUp();
      await auths().updateAuthorizations("client1", null, ["service", null]);
      await auths().updateAuthorizations("client1", uid, ["read"]);
      const own = await auths().getAuthorizations("client1");
      expect(own).toHaveLength(2);
      expect(own).toContain("service");
      expect(own).toContain(null);
      expect(await auths().getAuthorizations("client1", null)).toHaveLength(2);
      expect(await auths().getAuthorizations("client1", uid)).toEqual(["read"]);
    });

    it("replaces atomically: concurrent updates leave exactly one of the sets", async () => {
      const uid = await setUp();
      const sets = Array.from({ length: 10 }, (_, i) => [`s${i}a`, `s${i}b`, `s${i}c`]);
      await Promise.all(sets.map((set) => auths().updateAuthorizations("client1", uid, set)));
      const final = (await auths().getAuthorizations("client1", uid)).sort();
      expect(sets.map((s) => s.join())).toContain(final.join());
    }, 60_000);
  });
}
