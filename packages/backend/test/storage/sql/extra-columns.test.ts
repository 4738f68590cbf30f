/**
 * Application-added columns: returned on users, keys and clients; unknown fields rejected clearly.
 */
import {
  KyselyKeyStorage,
  KyselyOAuthClientStorage,
  KyselyUserStorage,
  migrateToLatest,
} from "@crossauth/backend";
import { ErrorCode } from "@crossauth/common";
import { beforeAll, expect, it } from "vitest";
import { expectCrossauthRejection } from "../../helpers/expect-crossauth-error.js";
import { describeEachDatabase } from "./sql-test-setup.js";

const bob = { username: "bob", email: "bob@example.com", state: "active", factor1: "localpassword" };

describeEachDatabase("extra columns", (ctx) => {
  let users: KyselyUserStorage;
  beforeAll(async () => {
    const { db } = ctx.test;
    await migrateToLatest(db);
    await db.schema.alterTable("User").addColumn("nickname", "varchar(255)").execute();
    await db.schema.alterTable("Key").addColumn("label", "varchar(255)").execute();
    await db.schema.alterTable("OAuthClient").addColumn("logo_uri", "varchar(255)").execute();
    users = new KyselyUserStorage(db);
  });

  it("returns extra user columns everywhere and updates them", async () => {
    const created = await users.createUser({ ...bob, nickname: "Bobby" });
    expect(created.nickname).toBe("Bobby");
    expect((await users.getUserByUsername("bob")).user.nickname).toBe("Bobby");
    expect((await users.getUserBy("nickname", "Bobby")).user.id).toEqual(created.id);
    await users.updateUser({ id: created.id, nickname: "Rob" });
    expect((await users.getUsers()).map((u) => u.nickname)).toEqual(["Rob"]);
    await users.updateUser({ id: created.id, nickname: null });
    expect((await users.getUserById(created.id)).user.nickname).toBeNull();
  });

  it("rejects unknown fields and unsafe field names with BadRequest", async () => {
    await expectCrossauthRejection(
      users.createUser({ ...bob, username: "x", email: "x@x", shoe_size: 9 }),
      ErrorCode.BadRequest,
    );
    await expectCrossauthRejection(users.getUserBy("shoe_size", 9), ErrorCode.BadRequest);
    await expectCrossauthRejection(users.getUserBy(`username" = 'bob' or 1=1 --`, "x"), ErrorCode.BadRequest);
    await expectCrossauthRejection(users.getUserBy("User.username", "bob"), ErrorCode.BadRequest);
    await expectCrossauthRejection(
      users.createUser({ ...bob, username: "y", email: "y@y", tags: ["a"] }),
      ErrorCode.DataFormat,
    );
  });

  it("returns extra key columns and matches on them", async () => {
    const keys = new KyselyKeyStorage(ctx.test.db);
    await keys.saveKey(null, "api:1", new Date(), null, "{}", { label: "deploy", name: "n1" });
    await keys.saveKey(null, "api:2", new Date(), null, "{}", { label: "other" });
    expect((await keys.getKey("api:1")).label).toBe("deploy");
    await keys.deleteMatching({ label: "deploy" });
    expect((await keys.getAllForUser(null)).map((k) => k.value)).toEqual(["api:2"]);
    await expectCrossauthRejection(
      keys.saveKey(null, "api:3", new Date(), null, "{}", { colour: "red" }),
      ErrorCode.BadRequest,
    );
    await expectCrossauthRejection(keys.deleteMatching({ "label; --": "x" }), ErrorCode.BadRequest);
  });

  it("returns extra client columns", async () => {
    const clients = new KyselyOAuthClientStorage(ctx.test.db);
    const made = await clients.createClient({
      client_name: "Logo app",
      confidential: false,
      redirect_uri: [],
      valid_flow: [],
      logo_uri: "https://logo.example.com/x.png",
    });
    expect(made.logo_uri).toBe("https://logo.example.com/x.png");
    await clients.updateClient({ client_id: made.client_id, logo_uri: "https://logo.example.com/y.png" });
    expect((await clients.getClientById(made.client_id)).logo_uri).toBe("https://logo.example.com/y.png");
  });
});
