/**
 * OAuthClientManager over in-memory and SQLite client storages: ids and secrets, the stored PBKDF2
 * hash (never returned), secret checks, updates with and without a new secret, deletion, the
 * validation of names, flows and redirect URIs, options, and that secrets never reach the logs.
 */
import {
  connectDatabase,
  decodePasswordHash,
  InMemoryOAuthClientStorage,
  InMemoryUserStorage,
  KyselyOAuthClientStorage,
  KyselyUserStorage,
  migrateToLatest,
  type OAuthClientInfo,
  OAuthClientManager,
  type OAuthClientStorage,
} from "@crossauth/backend";
import { ErrorCode, OAuthFlows, UserState } from "@crossauth/common";
import type { Kysely } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LogCapture } from "../email/smtp-fixture.js";
import { expectCrossauthError, expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";

/** A client storage and a way to make users that may own clients. */
interface Fixture {
  clientStorage: OAuthClientStorage;
  owner(username: string): Promise<string | number>;
  close(): Promise<void>;
}

const fixtures: [string, () => Promise<Fixture>][] = [
  [
    "in memory",
    async () => {
      const users = new InMemoryUserStorage();
      return {
        clientStorage: new InMemoryOAuthClientStorage(),
        owner: async (username) =>
          (await users.createUser({ username, state: UserState.active, factor1: "localpassword" })).id,
        close: async () => {},
      };
    },
  ],
  [
    "sqlite",
    async () => {
      const db: Kysely<any> = connectDatabase(":memory:");
      await migrateToLatest(db);
      const users = new KyselyUserStorage(db);
      return {
        clientStorage: new KyselyOAuthClientStorage(db),
        owner: async (username) =>
          (await users.createUser({ username, state: UserState.active, factor1: "localpassword" })).id,
        close: () => db.destroy(),
      };
    },
  ],
];

const URI = "https://app.example.com/callback";
const B64U_22 = /^[A-Za-z0-9_-]{22}$/;
const B64U_43 = /^[A-Za-z0-9_-]{43}$/;

describe.each(fixtures)("OAuthClientManager (%s)", (_name, makeFixture) => {
  let f: Fixture;
  let manager: OAuthClientManager;
  let logs: LogCapture;
  const secrets: string[] = [];

  beforeEach(async () => {
    f = await makeFixture();
    manager = new OAuthClientManager(f.clientStorage);
    logs = new LogCapture();
    secrets.length = 0;
  });
  afterEach(async () => {
    logs.restore();
    for (const secret of secrets) expect(logs.text()).not.toContain(secret);
    await f.close();
  });

  /** The stored hash of a client. */
  async function storedHash(clientId: string) {
    return (await f.clientStorage.getClientById(clientId)).client_secret;
  }

  it("creates a confidential client: random id, a 32-byte secret shown once, stored as a 40000-iteration PBKDF2 hash", async () => {
    const owner = await f.owner("alice");
    const { client, clientSecret } = await manager.createClient(
      "Alice's app",
      [URI],
      ["authorizationCode", "refreshToken"],
      true,
      owner,
    );
    secrets.push(clientSecret as string);
    expect(client.client_id).toMatch(B64U_22);
    expect(clientSecret).toMatch(B64U_43);
    expect(client).toEqual({
      client_id: client.client_id,
      client_name: "Alice's app",
      confidential: true,
      redirect_uri: [URI],
      valid_flow: ["authorizationCode", "refreshToken"],
      userid: owner,
    });
    expect("client_secret" in client).toBe(false);
    const hash = (await storedHash(client.client_id)) as string;
    expect(hash).toMatch(/^pbkdf2:sha256:32:40000:0:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
    expect(decodePasswordHash(hash).iterations).toBe(40000);
    expect(hash).not.toContain(clientSecret as string);
    const stored = await f.clientStorage.getClientById(client.client_id);
    expect(await manager.validateClientSecret(stored, clientSecret)).toBe(true);
  });

  it("creates a public client without a secret and without an owner", async () => {
    const created = await manager.createClient("Public app", [URI], ["authorizationCodeWithPKCE"], false);
    expect(created).toEqual({
      client: {
        client_id: created.client.client_id,
        client_name: "Public app",
        confidential: false,
        redirect_uri: [URI],
        valid_flow: ["authorizationCodeWithPKCE"],
        userid: null,
      },
    });
    expect(await storedHash(created.client.client_id)).toBeNull();
    const stored = await f.clientStorage.getClientById(created.client.client_id);
    expect(await manager.validateClientSecret(stored, "anything")).toBe(false);
  });

  it("makes a different id and secret for every client", async () => {
    const a = await manager.createClient("A", [], [], true);
    const b = await manager.createClient("B", [], [], true);
    secrets.push(a.clientSecret as string, b.clientSecret as string);
    expect(a.client.client_id).not.toBe(b.client.client_id);
    expect(a.clientSecret).not.toBe(b.clientSecret);
  });

  it("refuses wrong, missing and foreign secrets", async () => {
    const a = await manager.createClient("A", [URI], [], true);
    const b = await manager.createClient("B", [URI], [], true);
    secrets.push(a.clientSecret as string, b.clientSecret as string);
    const stored = await f.clientStorage.getClientById(a.client.client_id);
    for (const wrong of [b.clientSecret, `${a.clientSecret}x`, "", undefined, null, 42, [a.clientSecret]]) {
      expect(await manager.validateClientSecret(stored, wrong)).toBe(false);
    }
  });

  it("fails with InvalidHash for a malformed stored hash", async () => {
    const { client } = await manager.createClient("A", [URI], [], false);
    await expectCrossauthRejection(
      manager.validateClientSecret({ ...client, client_secret: "not-a-hash" }, "secret"),
      ErrorCode.InvalidHash,
    );
  });

  it.each([
    ["an empty name", ["", [URI], [], true], ErrorCode.BadRequest],
    ["a blank name", ["  ", [URI], [], true], ErrorCode.BadRequest],
    ["a confidential flag that is not a boolean", ["A", [URI], [], "yes"], ErrorCode.BadRequest],
    ["redirect URIs that are not a list", ["A", URI, [], true], ErrorCode.BadRequest],
    ["flows that are not text", ["A", [URI], [1], true], ErrorCode.BadRequest],
    ["an unknown flow", ["A", [URI], ["implicit"], true], ErrorCode.InvalidOAuthFlow],
    ["a relative redirect URI", ["A", ["/callback"], [], true], ErrorCode.InvalidRedirectUri],
    ["a redirect URI with a fragment", ["A", [`${URI}#x`], [], true], ErrorCode.InvalidRedirectUri],
  ])("refuses %s and stores nothing", async (_what, args, code) => {
    const [name, uris, flows, confidential] = args as [string, string[], string[], boolean];
    await expectCrossauthRejection(manager.createClient(name, uris, flows, confidential), code);
    expect(await f.clientStorage.getClients()).toEqual([]);
  });

  it("refuses a second client of the same name for the same owner, but not for another owner", async () => {
    const alice = await f.owner("alice");
    const bob = await f.owner("bob");
    await manager.createClient("App", [URI], [], false, alice);
    await expectCrossauthRejection(
      manager.createClient("App", [URI], [], false, alice),
      ErrorCode.ClientExists,
    );
    await manager.createClient("App", [URI], [], false, bob);
    expect((await manager.getClients()).map((c) => c.userid).sort()).toEqual([alice, bob].sort());
  });

  it("updates the given fields and keeps the others; the secret is kept without a reset", async () => {
    const { client, clientSecret } = await manager.createClient("A", [URI], ["authorizationCode"], true);
    secrets.push(clientSecret as string);
    const hash = await storedHash(client.client_id);
    const updated = await manager.updateClient(client.client_id, {
      client_name: "B",
      redirect_uri: ["https://b.example.com/cb", "http://localhost:8080/cb"],
    });
    expect(updated).toEqual({
      client: {
        ...client,
        client_name: "B",
        redirect_uri: ["https://b.example.com/cb", "http://localhost:8080/cb"],
      },
    });
    expect(await storedHash(client.client_id)).toBe(hash);
    const flows = await manager.updateClient(client.client_id, { valid_flow: ["clientCredentials"] });
    expect(flows.client.valid_flow).toEqual(["clientCredentials"]);
    expect(flows.client.client_name).toBe("B");
  });

  it("resets the secret on request: the new one works, the old one no longer does", async () => {
    const { client, clientSecret } = await manager.createClient("A", [URI], [], true);
    const { newSecret, client: after } = await manager.updateClient(client.client_id, {}, true);
    secrets.push(clientSecret as string, newSecret as string);
    expect(newSecret).toMatch(B64U_43);
    expect(after).toEqual(client);
    const stored = await f.clientStorage.getClientById(client.client_id);
    expect(await manager.validateClientSecret(stored, newSecret)).toBe(true);
    expect(await manager.validateClientSecret(stored, clientSecret)).toBe(false);
  });

  it("gives a public client that becomes confidential a secret, and removes it when it becomes public", async () => {
    const { client } = await manager.createClient("A", [URI], [], false);
    const made = await manager.updateClient(client.client_id, { confidential: true });
    secrets.push(made.newSecret as string);
    expect(made.client.confidential).toBe(true);
    expect(made.newSecret).toMatch(B64U_43);
    const stored = await f.clientStorage.getClientById(client.client_id);
    expect(await manager.validateClientSecret(stored, made.newSecret)).toBe(true);
    const gone = await manager.updateClient(client.client_id, { confidential: false }, true);
    expect(gone).toEqual({ client: { ...client, confidential: false } });
    expect(await storedHash(client.client_id)).toBeNull();
  });

  it("changes the owner, or removes it with null", async () => {
    const alice = await f.owner("alice");
    const { client } = await manager.createClient("A", [URI], [], false);
    expect((await manager.updateClient(client.client_id, { userid: alice })).client.userid).toBe(alice);
    expect((await manager.getClients(0, 10, alice)).map((c) => c.client_id)).toEqual([client.client_id]);
    expect((await manager.updateClient(client.client_id, { userid: null })).client.userid).toBeNull();
    expect(await manager.getClients(0, 10, alice)).toEqual([]);
  });

  it.each([
    ["an empty name", { client_name: "" }, ErrorCode.BadRequest],
    ["a confidential flag that is not a boolean", { confidential: "true" }, ErrorCode.BadRequest],
    ["an unknown flow", { valid_flow: ["implicit"] }, ErrorCode.InvalidOAuthFlow],
    ["a bad redirect URI", { redirect_uri: ["not a uri"] }, ErrorCode.InvalidRedirectUri],
  ])("refuses an update with %s and changes nothing", async (_what, changes, code) => {
    const { client } = await manager.createClient("A", [URI], ["authorizationCode"], false);
    await expectCrossauthRejection(manager.updateClient(client.client_id, changes as never), code);
    expect(await manager.getClient(client.client_id)).toEqual(client);
  });

  it("answers InvalidClientId for an unknown client on update, delete and get", async () => {
    await expectCrossauthRejection(
      manager.updateClient("nope", { client_name: "A" }),
      ErrorCode.InvalidClientId,
    );
    await expectCrossauthRejection(manager.deleteClient("nope"), ErrorCode.InvalidClientId);
    await expectCrossauthRejection(manager.getClient("nope"), ErrorCode.InvalidClientId);
  });

  it("deletes a client", async () => {
    const a = await manager.createClient("A", [URI], [], true);
    const b = await manager.createClient("B", [URI], [], false);
    secrets.push(a.clientSecret as string);
    await manager.deleteClient(a.client.client_id);
    await expectCrossauthRejection(
      f.clientStorage.getClientById(a.client.client_id),
      ErrorCode.InvalidClientId,
    );
    expect(await manager.getClients()).toEqual([b.client]);
  });

  it("lists clients by name without their secret hashes, a page at a time and by owner", async () => {
    const alice = await f.owner("alice");
    const made: OAuthClientInfo[] = [];
    for (const name of ["C", "A", "B"]) {
      const created = await manager.createClient(name, [URI], [], true, name === "B" ? null : alice);
      secrets.push(created.clientSecret as string);
      made.push(created.client);
    }
    const all = await manager.getClients();
    expect(all.map((c) => c.client_name)).toEqual(["A", "B", "C"]);
    for (const client of all) expect("client_secret" in client).toBe(false);
    expect((await manager.getClients(1, 1)).map((c) => c.client_name)).toEqual(["B"]);
    expect((await manager.getClients(0, 10, alice)).map((c) => c.client_name)).toEqual(["A", "C"]);
    expect((await manager.getClients(0, 10, null)).map((c) => c.client_name)).toEqual(["B"]);
    expect("client_secret" in (await manager.getClient(made[0]?.client_id as string))).toBe(false);
  });

  it("allows only the configured flows", async () => {
    const limited = new OAuthClientManager(f.clientStorage, { validFlows: ["authorizationCodeWithPKCE"] });
    expect(limited.validFlows).toEqual(["authorizationCodeWithPKCE"]);
    await expectCrossauthRejection(
      limited.createClient("A", [URI], ["clientCredentials"], true),
      ErrorCode.InvalidOAuthFlow,
    );
    const { client } = await limited.createClient("A", [URI], ["authorizationCodeWithPKCE"], false);
    await expectCrossauthRejection(
      limited.updateClient(client.client_id, { valid_flow: ["password"] }),
      ErrorCode.InvalidOAuthFlow,
    );
  });
});

describe("OAuthClientManager options", () => {
  afterEach(() => {
    delete process.env.CROSSAUTH_VALID_FLOWS;
  });

  it("allows every OAuth flow by default", () => {
    expect(new OAuthClientManager(new InMemoryOAuthClientStorage()).validFlows).toEqual(
      Object.values(OAuthFlows),
    );
  });

  it("reads CROSSAUTH_VALID_FLOWS", () => {
    process.env.CROSSAUTH_VALID_FLOWS = '["deviceCode","refreshToken"]';
    expect(new OAuthClientManager(new InMemoryOAuthClientStorage()).validFlows).toEqual([
      "deviceCode",
      "refreshToken",
    ]);
  });

  it("refuses unknown flows and badly typed values", () => {
    const storage = new InMemoryOAuthClientStorage();
    expectCrossauthError(
      () => new OAuthClientManager(storage, { validFlows: ["implicit"] }),
      ErrorCode.Configuration,
    );
    expectCrossauthError(
      () => new OAuthClientManager(storage, { validFlows: "deviceCode" as never }),
      ErrorCode.Configuration,
    );
    expectCrossauthError(
      () => new OAuthClientManager(storage, { validFlows: [1] as never }),
      ErrorCode.Configuration,
    );
  });
});
