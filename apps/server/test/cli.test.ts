/** The `crossauth` tool's help, errors, migrate, secret and user commands, through `runCli`. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { crossauthMigrations, defaultSqlTableNames, LocalPasswordAuthenticator } from "@crossauth/backend";
import { UserState } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { HELP } from "../src/commands/run-cli.js";
import { cli, createAlice, fixture, PASSWORD, storages, useCliFixture, userNamed } from "./cli-fixture.js";

/** Names of the schema's migrations, in order. */
const MIGRATIONS = Object.keys(crossauthMigrations(defaultSqlTableNames));

useCliFixture();

describe("help and errors", () => {
  it("--help, -h and help print the usage and succeed", async () => {
    for (const flag of ["--help", "-h", "help"]) {
      expect(await cli(flag)).toEqual({ code: 0, out: [HELP], err: [] });
    }
    expect(HELP).toContain(
      "crossauth user create <username> [--email <email>] [--password <password>] [--admin]",
    );
    expect(HELP).toContain(
      "crossauth apikey create <username> <name> [--scope <a,b,...>] [--expires <seconds>]",
    );
  });

  it("no arguments print the usage as an error", async () => {
    expect(await cli()).toEqual({ code: 1, out: [], err: [HELP] });
  });

  it("an unknown command or sub-command fails with 1", async () => {
    const unknown = await cli("frobnicate");
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toMatch(/^crossauth: unknown command "frobnicate"\n/);
    const sub = await cli("user", "rename");
    expect(sub).toEqual({
      code: 1,
      out: [],
      err: [
        'crossauth: unknown user command "rename"; use one of: create, list, delete, set-password, set-state',
      ],
    });
  });

  it("unknown options and wrong argument counts fail with the usage", async () => {
    const option = await cli("user", "list", "--bogus");
    expect(option.code).toBe(1);
    expect(option.err[0]).toContain("Unknown option '--bogus'");
    expect(option.err[0]).toContain("usage: crossauth user list");
    const count = await cli("user", "delete");
    expect(count).toEqual({
      code: 1,
      out: [],
      err: ["crossauth: wrong number of arguments\nusage: crossauth user delete <username>"],
    });
  });

  it("a bad configuration is reported with 1", async () => {
    fixture.env.set({ CROSSAUTH_ALLOWED_FACTOR2: "totp" });
    expect(await cli("user", "list")).toEqual({
      code: 1,
      out: [],
      err: ["crossauth: CROSSAUTH_ALLOWED_FACTOR2 is not valid JSON"],
    });
  });
});

describe("migrate and secret", () => {
  it("migrate creates the schema, then reports it up to date", async () => {
    const url = `sqlite://${join(fixture.env.dataDir, "crossauth.db")}`;
    const first = await cli("migrate");
    expect(first).toEqual({
      code: 0,
      out: MIGRATIONS.map((name) => `${url}: applied ${name}`),
      err: [],
    });
    expect(await cli("migrate")).toEqual({ code: 0, out: [`${url} is up to date`], err: [] });
  });

  it("migrate uses DATABASE_URL", async () => {
    const url = `sqlite:${join(fixture.env.dataDir, "other", "x.db")}`;
    fixture.env.set({ DATABASE_URL: url });
    const result = await cli("migrate");
    expect(result.code).toBe(0);
    expect(result.out[0]).toBe(`${url}: applied ${MIGRATIONS[0]}`);
  });

  it("secret prints a fresh 32-byte base64url secret each time and writes nothing", async () => {
    const a = await cli("secret");
    const b = await cli("secret");
    expect(a.code).toBe(0);
    expect(a.out[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.out[0]).not.toBe(a.out[0]);
    expect(() => readFileSync(join(fixture.env.dataDir, "secret"))).toThrow();
  });
});

describe("user commands", () => {
  it("user create makes an active admin with a hashed password and prints no secret", async () => {
    const result = await cli(
      "user",
      "create",
      "admin",
      "--email",
      "admin@example.com",
      "--password",
      PASSWORD,
      "--admin",
    );
    expect(result).toEqual({ code: 0, out: ["Created admin user admin (id 1)"], err: [] });
    const { user, secrets } = await userNamed("admin");
    expect(user).toMatchObject({
      username: "admin",
      email: "admin@example.com",
      state: UserState.active,
      factor1: "localpassword",
      admin: true,
    });
    expect(secrets.password).toMatch(/^pbkdf2:sha256:32:1000:0:/);
    const checker = new LocalPasswordAuthenticator(storages().userStorage);
    expect(await checker.passwordMatchesHash(PASSWORD, secrets.password as string)).toBe(true);
  });

  it("user create without --admin makes a normal user; the password may come from CROSSAUTH_NEW_PASSWORD", async () => {
    fixture.env.set({ CROSSAUTH_NEW_PASSWORD: PASSWORD });
    expect(await cli("user", "create", "bob")).toEqual({
      code: 0,
      out: ["Created user bob (id 1)"],
      err: [],
    });
    const { user, secrets } = await userNamed("bob");
    expect(user.admin).toBe(false);
    const checker = new LocalPasswordAuthenticator(storages().userStorage);
    expect(await checker.passwordMatchesHash(PASSWORD, secrets.password as string)).toBe(true);
  });

  it("CROSSAUTH_PASSWORD_PBKDF2_ITERATIONS sets the iterations of new hashes", async () => {
    fixture.env.set({ CROSSAUTH_PASSWORD_PBKDF2_ITERATIONS: "2000" });
    await createAlice();
    expect((await userNamed("alice")).secrets.password).toMatch(/^pbkdf2:sha256:32:2000:0:/);
  });

  it("user create refuses a missing or weak password, a bad email and a taken name", async () => {
    expect(await cli("user", "create", "carol")).toEqual({
      code: 1,
      out: [],
      err: ["crossauth: a password is required: --password <password> or CROSSAUTH_NEW_PASSWORD"],
    });
    expect(await cli("user", "create", "carol", "--password", "short")).toEqual({
      code: 1,
      out: [],
      err: [
        "crossauth: the password is not acceptable: Password must be at least 8 characters; " +
          "Password must contain at least one uppercase character; Password must contain at least one digit",
      ],
    });
    expect(await cli("user", "create", "carol", "--email", "not-an-email", "--password", PASSWORD)).toEqual({
      code: 1,
      out: [],
      err: ["crossauth: not-an-email is not a valid email address"],
    });
    await createAlice();
    expect(await cli("user", "create", "ALICE", "--password", PASSWORD)).toEqual({
      code: 1,
      out: [],
      err: ["crossauth: a user with this username or email already exists"],
    });
    expect(await storages().userStorage.getUsers()).toHaveLength(1);
  });

  it("user list prints a table of users, or says there are none", async () => {
    expect(await cli("user", "list")).toEqual({ code: 0, out: ["No users."], err: [] });
    await createAlice("--admin");
    expect((await cli("user", "create", "bob", "--password", PASSWORD)).code).toBe(0);
    expect(await cli("user", "list")).toEqual({
      code: 0,
      out: [
        "id  username  email              state   factor2  admin",
        "1   alice     alice@example.com  active  none     yes",
        "2   bob                          active  none     no",
      ],
      err: [],
    });
  });

  it("user delete removes the user and its keys; an unknown user fails", async () => {
    await createAlice();
    const { user } = await userNamed("alice");
    const { keyStorage, userStorage } = storages();
    await keyStorage.saveKey(user.id, "s:session1", new Date(), null);
    expect(await cli("user", "delete", "alice")).toEqual({
      code: 0,
      out: ["Deleted user alice (id 1)"],
      err: [],
    });
    expect(await userStorage.getUsers()).toEqual([]);
    await expect(keyStorage.getKey("s:session1")).rejects.toMatchObject({ codeName: "InvalidKey" });
    expect(await cli("user", "delete", "alice")).toEqual({
      code: 1,
      out: [],
      err: ["crossauth: no user named alice"],
    });
  });

  it("user set-password changes the hash and ends the user's sessions", async () => {
    await createAlice();
    const { user, secrets: before } = await userNamed("alice");
    const { keyStorage } = storages();
    await keyStorage.saveKey(user.id, "s:session1", new Date(), null);
    await keyStorage.saveKey(user.id, "api:keep", new Date(), null, "{}", { name: "keep" });
    const result = await cli("user", "set-password", "alice", "New-Password-1");
    expect(result).toEqual({
      code: 0,
      out: ["Changed the password of alice; their sessions were ended"],
      err: [],
    });
    const { secrets } = await userNamed("alice");
    expect(secrets.password).not.toBe(before.password);
    const checker = new LocalPasswordAuthenticator(storages().userStorage);
    expect(await checker.passwordMatchesHash("New-Password-1", secrets.password as string)).toBe(true);
    expect((await keyStorage.getAllForUser(user.id)).map((k) => k.value)).toEqual(["api:keep"]);
  });

  it("user set-password reads CROSSAUTH_NEW_PASSWORD and refuses weak passwords and unknown users", async () => {
    await createAlice();
    expect(await cli("user", "set-password", "alice", "weakweak")).toMatchObject({ code: 1, out: [] });
    fixture.env.set({ CROSSAUTH_NEW_PASSWORD: "From-Env-Password-2" });
    expect((await cli("user", "set-password", "alice")).code).toBe(0);
    const { secrets } = await userNamed("alice");
    const checker = new LocalPasswordAuthenticator(storages().userStorage);
    expect(await checker.passwordMatchesHash("From-Env-Password-2", secrets.password as string)).toBe(true);
    expect(await cli("user", "set-password", "nobody", PASSWORD)).toEqual({
      code: 1,
      out: [],
      err: ["crossauth: no user named nobody"],
    });
  });

  it("user set-state sets a known state and ends sessions unless active", async () => {
    await createAlice();
    const { user } = await userNamed("alice");
    const { keyStorage } = storages();
    await keyStorage.saveKey(user.id, "s:session1", new Date(), null);
    expect(await cli("user", "set-state", "alice", "disabled")).toEqual({
      code: 0,
      out: ["State of alice is now disabled"],
      err: [],
    });
    expect((await userNamed("alice")).user.state).toBe(UserState.disabled);
    expect(await keyStorage.getAllForUser(user.id)).toEqual([]);
    expect((await cli("user", "set-state", "alice", "active")).code).toBe(0);
    expect((await userNamed("alice")).user.state).toBe(UserState.active);
    const bad = await cli("user", "set-state", "alice", "actve");
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toBe(
      `crossauth: unknown state actve; use one of: ${Object.values(UserState).join(", ")}`,
    );
  });
});
