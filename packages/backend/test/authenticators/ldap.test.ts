/** LdapAuthenticator against a real OpenLDAP slapd. */
import {
  InMemoryUserStorage,
  LdapAuthenticator,
  type LdapAuthenticatorOptions,
  LdapUserStorage,
} from "@crossauth/backend";
import { ErrorCode, type Key, type User } from "@crossauth/common";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { expectCrossauthRejection } from "../helpers/expect-crossauth-error.js";
import {
  freePort,
  LDAP_USER_SEARCH_BASE,
  LDAP_USERS,
  SLAPD,
  type Slapd,
  slapdInstalled,
  startSilentServer,
  startSlapd,
} from "../helpers/ldap.js";
import { describeWithService } from "../helpers/services.js";

interface Fixture {
  local: InMemoryUserStorage;
  ldapStorage: LdapUserStorage;
  authenticator: LdapAuthenticator;
}

function fixture(url: string, options: LdapAuthenticatorOptions = {}): Fixture {
  const local = new InMemoryUserStorage();
  const ldapStorage = new LdapUserStorage(local, {
    ldapUrls: [url],
    ldapUserSearchBase: LDAP_USER_SEARCH_BASE,
  });
  const authenticator = new LdapAuthenticator(ldapStorage, options);
  authenticator.factorName = "ldap";
  return { local, ldapStorage, authenticator };
}

/** What the session layer passes for a user it has not found locally. */
function newUser(username: string): { username: string; state: string; factor1: string } {
  return { username, state: "", factor1: "" };
}

describe("LdapAuthenticator", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("has the documented defaults and capabilities", async () => {
    vi.stubEnv("CROSSAUTH_LDAP_AUTO_CREATE_ACCOUNT", undefined);
    vi.stubEnv("CROSSAUTH_LDAP_AUTO_CREATE_FACTOR1", undefined);
    const { authenticator } = fixture("ldap://127.0.0.1:389");
    expect(authenticator.ldapAutoCreateAccount).toBe(false);
    expect(authenticator.ldapAutoCreateFactor1).toBe("ldap");
    expect(authenticator.friendlyName).toBe("LDAP");
    expect(authenticator.capabilities()).toEqual({
      canCreateUser: true,
      canUpdateSecrets: false,
      canUpdateUser: true,
    });
    expect(authenticator.secretNames()).toEqual(["password"]);
    expect(authenticator.transientSecretNames()).toEqual([]);
    expect(authenticator.validateSecrets({ password: "x" })).toEqual([]);
    expect(await authenticator.createPersistentSecrets("alice", { password: "alicePass1" })).toEqual({});
    const user: User = { id: 1, username: "alice", state: "active", factor1: "ldap" };
    expect(await authenticator.createOneTimeSecrets(user)).toEqual({});
    expect(authenticator.skipEmailVerificationOnSignup()).toBe(false);
    expect(authenticator.requireUserEntry()).toBe(false);
    expect(authenticator.mfaType()).toBe("none");
    expect(authenticator.mfaChannel()).toBe("none");
    expect(await authenticator.prepareConfiguration(user)).toBeUndefined();
    const key: Key = { value: "s", created: new Date(), expires: null };
    expect(await authenticator.reprepareConfiguration("alice", key)).toBeUndefined();
  });

  it("reads CROSSAUTH_LDAP_AUTO_CREATE_ACCOUNT and CROSSAUTH_LDAP_AUTO_CREATE_FACTOR1", () => {
    vi.stubEnv("CROSSAUTH_LDAP_AUTO_CREATE_ACCOUNT", "true");
    vi.stubEnv("CROSSAUTH_LDAP_AUTO_CREATE_FACTOR1", "corpldap");
    const { authenticator } = fixture("ldap://127.0.0.1:389");
    expect(authenticator.ldapAutoCreateAccount).toBe(true);
    expect(authenticator.ldapAutoCreateFactor1).toBe("corpldap");
  });

  it("refuses an empty or missing password without contacting LDAP, even at a closed port", async () => {
    const { authenticator } = fixture(`ldap://127.0.0.1:${await freePort()}`, {
      ldapAutoCreateAccount: true,
    });
    for (const params of [{ password: "" }, {}]) {
      await expectCrossauthRejection(
        authenticator.authenticateUser(newUser("alice"), {}, params),
        ErrorCode.UsernameOrPasswordInvalid,
      );
    }
    await expectCrossauthRejection(
      authenticator.authenticateUser(undefined, {}, { password: "alicePass1" }),
      ErrorCode.UsernameOrPasswordInvalid,
    );
  });

  it("makes no LDAP connection for an empty password", async () => {
    const server = await startSilentServer();
    try {
      const { authenticator } = fixture(server.url);
      await expectCrossauthRejection(
        authenticator.authenticateUser(newUser("alice"), {}, { password: "" }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
      expect(server.connections()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("reports a server that is down as Connection", async () => {
    const { authenticator } = fixture(`ldap://127.0.0.1:${await freePort()}`);
    await expectCrossauthRejection(
      authenticator.authenticateUser(newUser("alice"), {}, { password: "alicePass1" }),
      ErrorCode.Connection,
    );
  });
});

describeWithService(`OpenLDAP slapd (${SLAPD})`, slapdInstalled, "LdapAuthenticator with slapd", () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    await slapd?.stop();
  });

  describe("with a local account", () => {
    let f: Fixture;
    let alice: User;
    beforeEach(async () => {
      f = fixture(slapd.url);
      alice = await f.local.createUser({ username: "alice", state: "active", factor1: "ldap" });
    });

    it("logs alice in with her LDAP password", async () => {
      await expect(
        f.authenticator.authenticateUser(alice, {}, { password: LDAP_USERS.alice.password }),
      ).resolves.toBeUndefined();
    });

    it("refuses a wrong password", async () => {
      await expectCrossauthRejection(
        f.authenticator.authenticateUser(alice, {}, { password: "alicePass2" }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
    });

    it("refuses an empty password", async () => {
      await expectCrossauthRejection(
        f.authenticator.authenticateUser(alice, {}, { password: "" }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
    });

    it("refuses a user unknown to LDAP, even with a local account", async () => {
      const mallory = await f.local.createUser({ username: "mallory", state: "active", factor1: "ldap" });
      await expectCrossauthRejection(
        f.authenticator.authenticateUser(mallory, {}, { password: "malloryPass1" }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
    });

    it("leaves the local user's state to the session layer", async () => {
      await f.local.updateUser({ id: alice.id, state: "disabled" });
      await expect(
        f.authenticator.authenticateUser(alice, {}, { password: LDAP_USERS.alice.password }),
      ).resolves.toBeUndefined();
    });

    it("refuses a local account of another factor1 with the same name", async () => {
      const bob = await f.local.createUser({ username: "bob", state: "active", factor1: "localpassword" });
      await expectCrossauthRejection(
        f.authenticator.authenticateUser(bob, {}, { password: LDAP_USERS.bob.password }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
    });

    it("logs in the user with special characters in the name", async () => {
      const { username, password } = LDAP_USERS.special;
      const user = await f.local.createUser({ username, state: "active", factor1: "ldap" });
      await expect(f.authenticator.authenticateUser(user, {}, { password })).resolves.toBeUndefined();
    });
  });

  describe("without a local account", () => {
    it("refuses when auto-creation is off, creating nothing", async () => {
      const f = fixture(slapd.url);
      await expectCrossauthRejection(
        f.authenticator.authenticateUser(newUser("bob"), {}, { password: LDAP_USERS.bob.password }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
      expect(await f.local.getUsers()).toEqual([]);
    });

    it("creates the local user when auto-creation is on: factor1 ldap, LDAP username, no password", async () => {
      const f = fixture(slapd.url, { ldapAutoCreateAccount: true });
      await f.authenticator.authenticateUser(
        { ...newUser("BOB"), email: "bob@example.com" },
        {},
        { password: LDAP_USERS.bob.password },
      );
      const { user, secrets } = await f.local.getUserByUsername("bob");
      expect(user).toMatchObject({
        username: "bob",
        state: "active",
        factor1: "ldap",
        email: "bob@example.com",
      });
      expect(secrets).toEqual({ userid: user.id });
      await expect(
        f.authenticator.authenticateUser(user, {}, { password: LDAP_USERS.bob.password }),
      ).resolves.toBeUndefined();
      expect(await f.local.getUsers()).toHaveLength(1);
    });

    it("creates the special-character user under its LDAP name, not its uid", async () => {
      const f = fixture(slapd.url, { ldapAutoCreateAccount: true });
      const { username, password } = LDAP_USERS.special;
      await f.authenticator.authenticateUser(newUser(username), {}, { password });
      expect((await f.local.getUsers()).map((u) => [u.username, u.factor1])).toEqual([[username, "ldap"]]);
    });

    it("uses ldapAutoCreateFactor1", async () => {
      const f = fixture(slapd.url, { ldapAutoCreateAccount: true, ldapAutoCreateFactor1: "corpldap" });
      f.authenticator.factorName = "corpldap";
      await f.authenticator.authenticateUser(newUser("alice"), {}, { password: LDAP_USERS.alice.password });
      expect((await f.local.getUserByUsername("alice")).user.factor1).toBe("corpldap");
    });

    it("creates nothing for a wrong password or an unknown user", async () => {
      const f = fixture(slapd.url, { ldapAutoCreateAccount: true });
      await expectCrossauthRejection(
        f.authenticator.authenticateUser(newUser("alice"), {}, { password: "wrongPass1" }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
      await expectCrossauthRejection(
        f.authenticator.authenticateUser(newUser("mallory"), {}, { password: "malloryPass1" }),
        ErrorCode.UsernameOrPasswordInvalid,
      );
      expect(await f.local.getUsers()).toEqual([]);
    });
  });
});
