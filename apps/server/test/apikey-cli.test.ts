/** The `crossauth apikey` commands, through `runCli`. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ApiKeyManager } from "@crossauth/backend";
import { KeyPrefix } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { cli, createAlice, fixture, storages, useCliFixture } from "./cli-fixture.js";

useCliFixture();

describe("apikey commands", () => {
  /** The API key manager with the secret the tool generated. */
  function manager(): ApiKeyManager {
    const secret = readFileSync(join(fixture.env.dataDir, "secret"), "utf8").trim();
    return new ApiKeyManager(storages().keyStorage, { secret });
  }

  it("apikey create prints a working token once, with the scope and expiry stored", async () => {
    await createAlice();
    const result = await cli(
      "apikey",
      "create",
      "alice",
      "deploy",
      "--scope",
      "read, write",
      "--expires",
      "3600",
    );
    expect(result.code).toBe(0);
    expect(result.out).toHaveLength(1);
    const token = result.out[0] as string;
    expect(result.err[0]).toMatch(
      /^Created API key deploy for alice \(scope read,write, expires \d{4}-\d\d-\d\dT[\d:.]+Z\)\.$/,
    );
    expect(result.err[1]).toBe('Send it as "Authorization: ApiKey <token>". The token is shown only once:');
    const key = await manager().validateToken(`ApiKey ${token}`);
    expect(key.name).toBe("deploy");
    expect(ApiKeyManager.scopesOf(key)).toEqual(["read", "write"]);
    expect((key.expires as Date).getTime() - key.created.getTime()).toBe(3600_000);
    expect(key.value.startsWith(KeyPrefix.apiKey)).toBe(true);
    expect(key.value).not.toContain(token);
  });

  it("apikey create refuses a taken name, a bad expiry or scope and an unknown user", async () => {
    await createAlice();
    expect((await cli("apikey", "create", "alice", "k")).code).toBe(0);
    expect(await cli("apikey", "create", "alice", "k")).toEqual({
      code: 1,
      out: [],
      err: ["crossauth: alice already has an API key named k"],
    });
    for (const expires of ["0", "-5", "1.5", "soon"]) {
      expect(await cli("apikey", "create", "alice", "x", `--expires=${expires}`)).toEqual({
        code: 1,
        out: [],
        err: ["crossauth: --expires must be a positive number of seconds"],
      });
    }
    expect(await cli("apikey", "create", "alice", "x", "--scope", "a b")).toEqual({
      code: 1,
      out: [],
      err: ['crossauth: invalid scope "a b"'],
    });
    expect(await cli("apikey", "create", "nobody", "x")).toEqual({
      code: 1,
      out: [],
      err: ["crossauth: no user named nobody"],
    });
  });

  it("apikey list shows names, dates and scopes but never key values", async () => {
    await createAlice();
    expect(await cli("apikey", "list", "alice")).toEqual({
      code: 0,
      out: ["alice has no API keys."],
      err: [],
    });
    const token = (await cli("apikey", "create", "alice", "ci", "--scope", "read")).out[0] as string;
    const listed = await cli("apikey", "list", "alice");
    expect(listed.code).toBe(0);
    expect(listed.out[0]).toBe("name  created                   expires  scope");
    expect(listed.out[1]).toMatch(/^ci {4}\d{4}-\d\d-\d\dT[\d:.]+Z {2}never {4}read$/);
    expect(listed.out.join("\n")).not.toContain(token);
    expect(listed.out.join("\n")).not.toContain(KeyPrefix.apiKey);
  });

  it("apikey revoke deletes the key; the token stops working", async () => {
    await createAlice();
    const token = (await cli("apikey", "create", "alice", "ci")).out[0] as string;
    expect(await cli("apikey", "revoke", "alice", "ci")).toEqual({
      code: 0,
      out: ["Revoked API key ci of alice"],
      err: [],
    });
    await expect(manager().validateToken(token)).rejects.toMatchObject({ codeName: "InvalidKey" });
    expect(await cli("apikey", "revoke", "alice", "ci")).toEqual({
      code: 1,
      out: [],
      err: ["crossauth: alice has no API key named ci"],
    });
  });

  it("in production, user commands work without a secret but apikey create needs CROSSAUTH_SECRET", async () => {
    fixture.env.set({
      NODE_ENV: "production",
      CROSSAUTH_SMTP_HOST: "127.0.0.1",
      CROSSAUTH_EMAIL_FROM: "a@example.com",
    });
    await createAlice();
    const result = await cli("apikey", "create", "alice", "k");
    expect(result.code).toBe(1);
    expect(result.err[0]).toMatch(/^crossauth: CROSSAUTH_SECRET must be set in production/);
    expect(() => readFileSync(join(fixture.env.dataDir, "secret"))).toThrow();
    fixture.env.set({ CROSSAUTH_SECRET: "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345" });
    expect((await cli("apikey", "create", "alice", "k")).code).toBe(0);
  });
});
