/** The `crossauth client` commands, through `runCli`. */
import { CLIENT_SECRET_PBKDF2_ITERATIONS, OAuthClientManager } from "@crossauth/backend";
import type { OAuthClient } from "@crossauth/common";
import { describe, expect, it } from "vitest";
import { HELP } from "../src/commands/run-cli.js";
import { type CliRun, cli, createAlice, fixture, PASSWORD, storages, useCliFixture } from "./cli-fixture.js";

useCliFixture();

/** Every flow, as `--help` and the errors list them. */
const ALL_FLOWS =
  "authorizationCode, authorizationCodeWithPKCE, clientCredentials, refreshToken, deviceCode, password, " +
  "passwordMfa, oidcAuthorizationCode";

/** A failed run: exit code 1, nothing on standard output, one `crossauth: <message>` line. */
function failure(message: string): CliRun {
  return { code: 1, out: [], err: [`crossauth: ${message}`] };
}

/** The id (and secret, if printed) from a `client create` or `client reset-secret` run. */
function printed(run: CliRun): { clientId?: string; secret?: string } {
  const value = (label: string) =>
    run.out.find((line) => line.startsWith(`${label}: `))?.slice(label.length + 2);
  const clientId = value("client_id");
  const secret = value("client_secret");
  return { ...(clientId ? { clientId } : {}), ...(secret ? { secret } : {}) };
}

/** A client as stored, with its secret hash. */
function stored(clientId: string): Promise<OAuthClient> {
  return storages().clientStorage.getClientById(clientId);
}

/** Whether `secret` is the stored client's secret. */
async function secretWorks(clientId: string, secret: string): Promise<boolean> {
  return new OAuthClientManager(storages().clientStorage).validateClientSecret(
    await stored(clientId),
    secret,
  );
}

/** Creates `bob` with the tool. */
async function createBob(): Promise<void> {
  expect((await cli("user", "create", "bob", "--password", PASSWORD)).code).toBe(0);
}

describe("client create", () => {
  it("--help lists the client commands and the flows", async () => {
    const { out } = await cli("--help");
    expect(out).toEqual([HELP]);
    expect(HELP).toContain(
      "crossauth client create <name> [--owner <username>] [--confidential] " +
        "[--redirect-uri <uri> ... | --redirect-uris <a,b,...>] [--flows <a,b,...>]",
    );
    expect(HELP).toContain("crossauth client list [--owner <username>]");
    expect(HELP).toContain("crossauth client delete <client_id>");
    expect(HELP).toContain("crossauth client reset-secret <client_id>");
    expect(HELP).toContain(`OAuth flows: ${ALL_FLOWS} (CROSSAUTH_VALID_FLOWS may allow fewer).`);
  });

  it("a confidential client of a user: id and secret printed once, the secret stored as a PBKDF2 hash", async () => {
    await createAlice();
    const result = await cli(
      "client",
      "create",
      "Web app",
      "--owner",
      "alice",
      "--confidential",
      "--redirect-uri",
      "https://app.example/callback",
      "--redirect-uri",
      "http://localhost:8080/cb",
      "--redirect-uris",
      " https://other.example/cb ,https://app.example/callback",
      "--flows",
      "authorizationCode, refreshToken,authorizationCode",
    );
    expect(result.code).toBe(0);
    expect(result.out).toHaveLength(2);
    const { clientId, secret } = printed(result);
    expect(clientId).toMatch(/^[A-Za-z0-9_-]{22}$/); // randomValue(16)
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/); // randomValue(32)
    expect(result.err).toEqual([
      "Created confidential OAuth client Web app for alice (flows authorizationCode,refreshToken, " +
        "redirect URIs https://app.example/callback,http://localhost:8080/cb,https://other.example/cb).",
      "The client secret is shown only once; store it now:",
    ]);

    const client = await stored(clientId as string);
    const alice = await storages().userStorage.getUserByUsername("alice");
    expect(client).toMatchObject({
      client_name: "Web app",
      confidential: true,
      userid: alice.user.id,
      valid_flow: ["authorizationCode", "refreshToken"],
    });
    expect([...client.redirect_uri].sort()).toEqual(
      ["http://localhost:8080/cb", "https://app.example/callback", "https://other.example/cb"].sort(),
    );
    expect(client.client_secret).toMatch(new RegExp(`^pbkdf2:sha256:32:${CLIENT_SECRET_PBKDF2_ITERATIONS}:`));
    expect(client.client_secret).not.toContain(secret as string);
    expect(await secretWorks(clientId as string, secret as string)).toBe(true);
    expect(await secretWorks(clientId as string, `${secret}x`)).toBe(false);
  });

  it("a public client without owner: only the id, no secret stored", async () => {
    const result = await cli("client", "create", "CLI", "--flows", "deviceCode");
    expect(result.code).toBe(0);
    expect(result.out).toHaveLength(1);
    const { clientId, secret } = printed(result);
    expect(secret).toBeUndefined();
    expect(result.err).toEqual([
      "Created public OAuth client CLI without owner (flows deviceCode, no redirect URIs).",
    ]);
    const client = await stored(clientId as string);
    expect(client).toMatchObject({
      client_name: "CLI",
      confidential: false,
      userid: null,
      valid_flow: ["deviceCode"],
      redirect_uri: [],
    });
    expect(client.client_secret ?? null).toBeNull();
  });

  it("refuses an unknown flow and one CROSSAUTH_VALID_FLOWS does not allow", async () => {
    expect(await cli("client", "create", "x", "--flows", "authorizationCode,implicit")).toEqual(
      failure(`unknown flow implicit; use one of: ${ALL_FLOWS}`),
    );
    fixture.env.set({ CROSSAUTH_VALID_FLOWS: '["authorizationCode","refreshToken"]' });
    expect(await cli("client", "create", "x", "--flows", "password")).toEqual(
      failure(
        "the flow password is not allowed (CROSSAUTH_VALID_FLOWS); use one of: authorizationCode, refreshToken",
      ),
    );
    expect(await cli("client", "list")).toEqual({ code: 0, out: ["No OAuth clients."], err: [] });
  });

  it("refuses a redirect URI that is relative, has a fragment or is not a URL", async () => {
    for (const uri of ["/callback", "https://app.example/cb#frag", "not a url"]) {
      expect(await cli("client", "create", "x", "--redirect-uri", uri)).toEqual(
        failure(`invalid redirect URI ${JSON.stringify(uri)}: it must be an absolute URL without a fragment`),
      );
    }
    expect(await cli("client", "create", "x", "--redirect-uris", "https://ok.example/cb,cb")).toEqual(
      failure('invalid redirect URI "cb": it must be an absolute URL without a fragment'),
    );
    expect(await cli("client", "list")).toEqual({ code: 0, out: ["No OAuth clients."], err: [] });
  });

  it("refuses an unknown owner, an empty name, a taken name and bad arguments", async () => {
    expect(await cli("client", "create", "x", "--owner", "nobody")).toEqual(failure("no user named nobody"));
    expect(await cli("client", "create", "  ")).toEqual(failure("the client name must not be empty"));

    await createAlice();
    expect((await cli("client", "create", "App", "--owner", "alice")).code).toBe(0);
    expect(await cli("client", "create", "App", "--owner", "alice")).toEqual(
      failure("alice already has an OAuth client named App"),
    );
    expect((await cli("client", "create", "App")).code).toBe(0); // another owner (none): allowed
    expect(await cli("client", "create", "App")).toEqual(
      failure("an OAuth client named App without owner already exists"),
    );

    const missing = await cli("client", "create");
    expect(missing.code).toBe(1);
    expect(missing.err[0]).toMatch(/^crossauth: wrong number of arguments\nusage: crossauth client create /);
    const option = await cli("client", "create", "x", "--secret", "s");
    expect(option.code).toBe(1);
    expect(option.err[0]).toContain("Unknown option '--secret'");
    const sub = await cli("client", "rename");
    expect(sub).toEqual(
      failure('unknown client command "rename"; use one of: create, list, delete, reset-secret'),
    );
  });
});

describe("client list, delete and reset-secret", () => {
  it("client list shows every client, or one owner's, and never a secret", async () => {
    expect(await cli("client", "list")).toEqual({ code: 0, out: ["No OAuth clients."], err: [] });
    await createAlice();
    await createBob();
    const web = await cli(
      "client",
      "create",
      "web",
      "--owner",
      "alice",
      "--confidential",
      "--flows",
      "authorizationCode,refreshToken",
      "--redirect-uri",
      "https://a.example/cb",
    );
    const cliApp = await cli("client", "create", "cli", "--flows", "deviceCode");
    const bobs = await cli("client", "create", "bobs", "--owner", "bob", "--confidential");
    const ids = [web, cliApp, bobs].map((run) => printed(run).clientId as string);
    const [webId, cliId, bobsId] = ids;

    const all = await cli("client", "list");
    expect(all.code).toBe(0);
    expect(all.err).toEqual([]);
    expect(all.out.map((line) => line.split(/ {2,}/))).toEqual([
      ["client_id", "name", "type", "owner", "flows", "redirect_uris"],
      [bobsId, "bobs", "confidential", "bob", "-", "-"],
      [cliId, "cli", "public", "-", "deviceCode", "-"],
      [webId, "web", "confidential", "alice", "authorizationCode,refreshToken", "https://a.example/cb"],
    ]);
    const text = all.out.join("\n");
    for (const run of [web, bobs]) expect(text).not.toContain(printed(run).secret as string);
    expect(text).not.toContain("pbkdf2");

    const alices = await cli("client", "list", "--owner", "alice");
    expect(alices.out).toHaveLength(2);
    expect(alices.out[1]).toContain(webId);
    expect(await cli("client", "list", "--owner", "nobody")).toEqual(failure("no user named nobody"));
    expect((await cli("user", "create", "carol", "--password", PASSWORD)).code).toBe(0);
    expect(await cli("client", "list", "--owner", "carol")).toEqual({
      code: 0,
      out: ["carol has no OAuth clients."],
      err: [],
    });
    expect((await cli("client", "list", "extra")).code).toBe(1);
  });

  it("client delete removes the client; an unknown id is an error", async () => {
    const { clientId } = printed(await cli("client", "create", "gone", "--confidential"));
    expect(await cli("client", "delete", clientId as string)).toEqual({
      code: 0,
      out: [`Deleted OAuth client gone (${clientId})`],
      err: [],
    });
    await expect(stored(clientId as string)).rejects.toMatchObject({ codeName: "InvalidClientId" });
    expect(await cli("client", "delete", clientId as string)).toEqual(
      failure(`no OAuth client with id ${clientId}`),
    );
    expect(await cli("client", "list")).toEqual({ code: 0, out: ["No OAuth clients."], err: [] });
  });

  it("client reset-secret prints a new secret once; the old one stops working", async () => {
    const created = printed(
      await cli("client", "create", "svc", "--confidential", "--flows", "clientCredentials"),
    );
    const clientId = created.clientId as string;
    const reset = await cli("client", "reset-secret", clientId);
    expect(reset.code).toBe(0);
    expect(reset.out).toHaveLength(1);
    expect(reset.err).toEqual([
      "New secret of OAuth client svc; the old one no longer works. It is shown only once; store it now:",
    ]);
    const { secret } = printed(reset);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(secret).not.toBe(created.secret);
    expect(await secretWorks(clientId, secret as string)).toBe(true);
    expect(await secretWorks(clientId, created.secret as string)).toBe(false);
    expect(await stored(clientId)).toMatchObject({ client_name: "svc", valid_flow: ["clientCredentials"] });
  });

  it("delete and reset-secret take a client id starting with - (base64url) as it is, or after --", async () => {
    expect((await cli("migrate")).code).toBe(0);
    await storages().clientStorage.createClient({
      client_id: "-dash-first",
      client_name: "dash",
      confidential: true,
      client_secret: null,
      redirect_uri: [],
      valid_flow: [],
      userid: null,
    });
    const reset = await cli("client", "reset-secret", "-dash-first");
    expect(reset.code).toBe(0);
    expect(await secretWorks("-dash-first", printed(reset).secret as string)).toBe(true);
    expect(await cli("client", "delete", "--", "-dash-first")).toEqual({
      code: 0,
      out: ["Deleted OAuth client dash (-dash-first)"],
      err: [],
    });
    expect(await cli("client", "delete", "-dash-first")).toEqual(
      failure("no OAuth client with id -dash-first"),
    );
    expect(await cli("client", "delete", "-a", "-b")).toEqual(
      failure("wrong number of arguments\nusage: crossauth client delete <client_id>"),
    );
  });

  it("client reset-secret refuses an unknown client and a public one", async () => {
    expect(await cli("client", "reset-secret", "no-such-client")).toEqual(
      failure("no OAuth client with id no-such-client"),
    );
    const { clientId } = printed(
      await cli("client", "create", "spa", "--flows", "authorizationCodeWithPKCE"),
    );
    expect(await cli("client", "reset-secret", clientId as string)).toEqual(
      failure(`OAuth client spa (${clientId}) is public: it has no secret`),
    );
    expect((await stored(clientId as string)).client_secret ?? null).toBeNull();
    const count = await cli("client", "reset-secret");
    expect(count).toEqual(
      failure("wrong number of arguments\nusage: crossauth client reset-secret <client_id>"),
    );
  });
});
